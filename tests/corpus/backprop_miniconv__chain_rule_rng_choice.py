# %%
# expect: {"wrong": [], "mistake": ""}
# Dérivée en chaîne écrite étape par étape ; tirage avec rng.choice(n) (même flux que rng.integers(n)).
# Critère : variation relative moyenne sur les 10 dernières itérations. Renvoie un np.bool_.
import numpy as np

# %%
def forward(W, x):
    w1, w2, v1, v2 = W
    x1, x2, x3 = x
    a1 = x1 * w1 + x2 * w2
    a2 = x2 * w1 + x3 * w2
    o1 = np.maximum(0, a1)
    o2 = np.maximum(0, a2)
    y_hat = v1 * o1 + v2 * o2
    return y_hat, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return 1 / 2 * (y - y_hat) ** 2

def backward(W, x, y):
    w1, w2, v1, v2 = W
    x1, x2, x3 = x
    y_hat, cache = forward(W, x)
    dl_dyhat = -(y - y_hat)
    dl_do1 = dl_dyhat * v1
    dl_do2 = dl_dyhat * v2
    dl_da1 = dl_do1 * (1.0 if cache["a1"] > 0 else 0.0)
    dl_da2 = dl_do2 * (1.0 if cache["a2"] > 0 else 0.0)
    dl_dw1 = dl_da1 * x1 + dl_da2 * x2
    dl_dw2 = dl_da1 * x2 + dl_da2 * x3
    dl_dv1 = dl_dyhat * cache["o1"]
    dl_dv2 = dl_dyhat * cache["o2"]
    return np.array([dl_dw1, dl_dw2, dl_dv1, dl_dv2])

# %%
def should_stop(losses, max_iter, tol, k=10):
    if len(losses) >= max_iter:
        return True
    if tol == 0.0 or len(losses) <= k:
        return False
    L = np.asarray(losses[-(k + 1):])
    rel = np.abs(np.diff(L)) / np.maximum(np.abs(L[:-1]), 1e-12)
    return rel.mean() < tol

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float)
    losses = []
    for it in range(max_iter):
        if should_stop(losses, max_iter, tol):
            break
        i = rng.choice(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
