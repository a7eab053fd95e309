# %%
# expect: {"wrong": []}
# %%
import numpy as np

# %%
def forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    w, v = W[:2], W[2:]
    a = np.array([np.dot(x[0:2], w), np.dot(x[1:3], w)])
    o = np.maximum(a, 0.0)
    y_hat = float(np.dot(o, v))
    return y_hat, {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return float(0.5 * (y - y_hat) ** 2)

# %%
def backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    w, v = W[:2], W[2:]
    a = np.array([np.dot(x[0:2], w), np.dot(x[1:3], w)])
    mask = a > 0                       # booléen : H(a), avec H(0) = 0
    o = np.where(mask, a, 0.0)
    e = np.dot(o, v) - y
    grad_v = e * o
    delta = e * v * mask.astype(np.float64)
    grad_w = delta[0] * x[0:2] + delta[1] * x[1:3]
    return np.concatenate([grad_w, grad_v])

# %%
WINDOW = 100


def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol > 0 and len(losses) >= WINDOW:
        last = np.array(losses[-WINDOW:])
        spread = last.max() - last.min()
        return bool(spread <= tol * abs(last.mean()))
    return False


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=np.float64, copy=True)
    losses = []
    for _ in iter(int, 1):            # boucle infinie, on sort par should_stop
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, cache = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses

# %%
# petit test
print(forward(np.array([0.75, 0.75, 1.5, -1.25]), np.array([-1.25, 1.25, 2.0])))
