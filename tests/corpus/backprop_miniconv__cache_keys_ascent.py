# %%
# expect: {"wrong": ["forward", "train"], "mistake": "cache avec des clés z1, z2, h1, h2 au lieu de a1, a2, o1, o2 ; montée de gradient dans train (W + alpha * grad)"}
import numpy as np

# %%
def forward(W, x):
    w1, w2, v1, v2 = W
    z1 = x[0] * w1 + x[1] * w2
    z2 = x[1] * w1 + x[2] * w2
    h1, h2 = max(0.0, z1), max(0.0, z2)
    return h1 * v1 + h2 * v2, {"z1": z1, "z2": z2, "h1": h1, "h2": h2}

def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

def backward(W, x, y):
    w1, w2, v1, v2 = W
    y_hat, c = forward(W, x)
    e = y - y_hat
    H1, H2 = float(c["z1"] > 0), float(c["z2"] > 0)
    return np.array([-e * (v1 * H1 * x[0] + v2 * H2 * x[1]), -e * (v1 * H1 * x[1] + v2 * H2 * x[2]),
                     -e * c["h1"], -e * c["h2"]])

def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol == 0 or len(losses) < 2:
        return False
    return abs(losses[-1] - losses[-2]) <= tol * abs(losses[-2])

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float)
    losses = []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        x, y = X[i], Y[i]
        w1, w2, v1, v2 = W
        a1, a2 = x[0] * w1 + x[1] * w2, x[1] * w1 + x[2] * w2
        o1, o2 = max(0.0, a1), max(0.0, a2)
        y_hat = o1 * v1 + o2 * v2
        losses.append(0.5 * (y - y_hat) ** 2)
        e = y - y_hat
        grad = np.array([-e * (v1 * (a1 > 0) * x[0] + v2 * (a2 > 0) * x[1]),
                         -e * (v1 * (a1 > 0) * x[1] + v2 * (a2 > 0) * x[2]),
                         -e * o1, -e * o2])
        W = W + alpha * grad
    return W, losses
