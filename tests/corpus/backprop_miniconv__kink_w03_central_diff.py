# %%
# expect: {"wrong": ["backward"], "mistake": "backward par différences finies centrées de forward + loss (pas 1e-5)"}
# %%
import numpy as np

# %%
def forward(W, x):
    w1, w2, v1, v2 = (float(t) for t in W)
    x1, x2, x3 = (float(t) for t in x)
    a1 = x1 * w1 + x2 * w2
    a2 = x2 * w1 + x3 * w2
    o1 = max(a1, 0.0)
    o2 = max(a2, 0.0)
    return o1 * v1 + o2 * v2, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}


def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

# %%
def backward(W, x, y, h=1e-5):
    W = np.asarray(W, dtype=np.float64)
    grad = np.zeros(4)
    for j in range(4):
        Wp = W.copy(); Wp[j] += h
        Wm = W.copy(); Wm[j] -= h
        lp = loss(y, forward(Wp, x)[0])
        lm = loss(y, forward(Wm, x)[0])
        grad[j] = (lp - lm) / (2 * h)
    return grad

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 100:
        return False
    a = sum(losses[-100:-50]) / 50
    b = sum(losses[-50:]) / 50
    return abs(a - b) <= tol * abs(a)


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=np.float64)
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
