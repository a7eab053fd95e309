# %%
# expect: {"wrong": []}
# %%
import itertools
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# %%
def forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    win = sliding_window_view(np.asarray(x, dtype=np.float64), 2)   # [[x1,x2],[x2,x3]]
    a = win @ W[:2]
    o = a * (a > 0)
    o[o == 0] = 0.0                     # pas de -0.0
    y_hat = float(o @ W[2:])
    return y_hat, {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return 0.5 * float((y - y_hat) ** 2)


def backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    win = sliding_window_view(np.asarray(x, dtype=np.float64), 2)
    a = win @ W[:2]
    on = a > 0
    o = np.where(on, a, 0.0)
    r = float(o @ W[2:]) - y
    grad_w = win.T @ (r * W[2:] * on)
    grad_v = r * o
    return np.concatenate([grad_w, grad_v])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol > 0 and len(losses) >= 80:
        h = np.asarray(losses[-80:])
        first, second = h[:40].mean(), h[40:].mean()
        return bool(abs(first - second) <= tol * abs(first))
    return False


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    W = W0.astype(np.float64) if isinstance(W0, np.ndarray) else np.array(W0, dtype=np.float64)
    W = W.copy()
    losses = []
    for _ in itertools.count():
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _cache = forward(W, X[i])
        losses.append(0.5 * float((Y[i] - y_hat) ** 2))      # perte calculée ici
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
