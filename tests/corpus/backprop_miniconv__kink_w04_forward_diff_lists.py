# %%
# expect: {"wrong": ["backward"], "mistake": "backward par différences finies avant (pas 1e-7)"}
# %%
import numpy as np

EPS = 1e-7

# %%
def forward(W, x):
    W = [float(t) for t in W]
    x = [float(t) for t in x]
    a = [x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]]
    o = [ak if ak > 0 else 0.0 for ak in a]
    y_hat = o[0] * W[2] + o[1] * W[3]
    return y_hat, {"a1": a[0], "a2": a[1], "o1": o[0], "o2": o[1]}


def loss(y, y_hat):
    return 0.5 * (float(y) - y_hat) ** 2

# %%
def backward(W, x, y):
    W = [float(t) for t in W]
    base = loss(y, forward(W, x)[0])
    grad = []
    for j in range(4):
        W_shift = list(W)
        W_shift[j] += EPS
        grad.append((loss(y, forward(W_shift, x)[0]) - base) / EPS)
    return np.array(grad)

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 60:
        return False
    first = np.mean(losses[-60:-30])
    second = np.mean(losses[-30:])
    return bool(abs(first - second) <= tol * abs(first))


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
