# %%
# expect: {"wrong": [], "mistake": ""}
# Étudiant·e : version scalaire, tout écrit à la main, critère = variation relative.
import numpy as np

# %%
def forward(W, x):
    w1, w2, v1, v2 = W
    a1 = x[0] * w1 + x[1] * w2
    a2 = x[1] * w1 + x[2] * w2
    o1 = max(0.0, a1)
    o2 = max(0.0, a2)
    y_hat = o1 * v1 + o2 * v2
    cache = {"a1": a1, "a2": a2, "o1": o1, "o2": o2}
    return y_hat, cache


def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

# %%
def backward(W, x, y):
    w1, w2, v1, v2 = W
    y_hat, c = forward(W, x)
    e = y - y_hat
    H1 = 1.0 if c["a1"] > 0 else 0.0
    H2 = 1.0 if c["a2"] > 0 else 0.0
    dv1 = -e * c["o1"]
    dv2 = -e * c["o2"]
    dw1 = -e * (v1 * H1 * x[0] + v2 * H2 * x[1])
    dw2 = -e * (v1 * H1 * x[1] + v2 * H2 * x[2])
    return np.array([dw1, dw2, dv1, dv2])

# %%
# Question 4 : on s'arrête quand la perte ne bouge plus (variation relative < tol)
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol == 0 or len(losses) < 2:
        return False
    prev, last = losses[-2], losses[-1]
    return abs(last - prev) <= tol * max(abs(prev), 1e-12)

# %%
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
