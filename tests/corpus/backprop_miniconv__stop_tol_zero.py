# %%
# expect: {"wrong": ["should_stop"], "mistake": "critère |l_t - l_{t-1}| <= tol : avec tol = 0 il s'arrête avant max_iter dès que deux pertes successives sont égales"}
import numpy as np

# %%
def forward(W, x):
    w1, w2, v1, v2 = W
    a1 = x[0] * w1 + x[1] * w2
    a2 = x[1] * w1 + x[2] * w2
    o1, o2 = max(0.0, a1), max(0.0, a2)
    return o1 * v1 + o2 * v2, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

def backward(W, x, y):
    w1, w2, v1, v2 = W
    y_hat, c = forward(W, x)
    e = y - y_hat
    H1, H2 = float(c["a1"] > 0), float(c["a2"] > 0)
    return np.array([-e * (v1 * H1 * x[0] + v2 * H2 * x[1]), -e * (v1 * H1 * x[1] + v2 * H2 * x[2]),
                     -e * c["o1"], -e * c["o2"]])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if len(losses) >= 2 and abs(losses[-1] - losses[-2]) <= tol:
        return True
    return False

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float)
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
