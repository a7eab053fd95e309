# %%
# expect: {"wrong": ["train"], "mistake": "W0 modifié en place (W = W0 puis W -= ...) ; les valeurs renvoyées sont justes"}
import numpy as np

# %%
def forward(W, x):
    a1 = x[0] * W[0] + x[1] * W[1]
    a2 = x[1] * W[0] + x[2] * W[1]
    o1, o2 = max(0.0, a1), max(0.0, a2)
    return o1 * W[2] + o2 * W[3], {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

def backward(W, x, y):
    y_hat, c = forward(W, x)
    e = y - y_hat
    g1 = W[2] if c["a1"] > 0 else 0.0
    g2 = W[3] if c["a2"] > 0 else 0.0
    return -e * np.array([g1 * x[0] + g2 * x[1], g1 * x[1] + g2 * x[2], c["o1"], c["o2"]])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if not losses or tol == 0 or len(losses) < 2:
        return False
    return abs(losses[-2] - losses[-1]) < tol * abs(losses[-2]) or losses[-1] == losses[-2]

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = W0                       # pas de copie !
    losses = []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W -= alpha * backward(W, X[i], Y[i])
    return W, losses
