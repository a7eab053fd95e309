# %%
# expect: {"wrong": [], "mistake": ""}
# Version vectorisée : la convolution est écrite comme un produit avec une fenêtre glissante.
# Critère d'arrêt : moyenne glissante sur deux fenêtres de 20 itérations.
import numpy as np

# %%
def forward(W, x):
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    patches = np.array([x[0:2], x[1:3]])        # (2, 2)
    a = patches @ W[:2]
    o = np.maximum(0.0, a)
    y_hat = float(o @ W[2:])
    return y_hat, {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return float(0.5 * (y - y_hat) ** 2)


def backward(W, x, y):
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    patches = np.array([x[0:2], x[1:3]])
    a = patches @ W[:2]
    o = np.maximum(0.0, a)
    e = y - o @ W[2:]
    H = (a > 0).astype(float)
    grad_v = -e * o
    grad_w = -e * (W[2:] * H) @ patches
    return np.concatenate([grad_w, grad_v])

# %%
def should_stop(losses, max_iter, tol, window=20):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 2 * window:
        return False
    recent = np.mean(losses[-window:])
    before = np.mean(losses[-2 * window:-window])
    return bool(abs(before - recent) <= tol * max(abs(before), 1e-12))

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.copy(W0).astype(float)
    losses = []
    for _ in range(max_iter + 1):
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
