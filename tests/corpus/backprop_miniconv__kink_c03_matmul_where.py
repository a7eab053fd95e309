# %%
# expect: {"wrong": []}
# %%
import numpy as np


def patches(x):
    x = np.asarray(x, dtype=np.float64)
    return np.array([[x[0], x[1]],
                     [x[1], x[2]]])

# %%
def forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    P = patches(x)
    a = P @ W[:2]
    o = np.where(a > 0, a, 0.0)
    y_hat = o @ W[2:]
    cache = {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}
    return float(y_hat), cache


def loss(y, y_hat):
    d = y - y_hat
    return 0.5 * d * d

# %%
def backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    P = patches(x)
    y_hat, cache = forward(W, x)
    a = np.array([cache["a1"], cache["a2"]])
    o = np.array([cache["o1"], cache["o2"]])
    dl_dyhat = y_hat - y
    dl_dv = dl_dyhat * o
    dl_do = dl_dyhat * W[2:]
    dl_da = dl_do * np.where(a > 0, 1.0, 0.0)
    dl_dw = P.T @ dl_da
    return np.hstack((dl_dw, dl_dv))

# %%
def should_stop(losses, max_iter, tol):
    n = len(losses)
    if n >= max_iter:
        return True
    if n == 0 or tol == 0:
        return False
    # moyenne glissante sur 25 itérations : variation relative < tol -> arrêt
    k = 25
    if n < 2 * k:
        return False
    m_prev = np.mean(losses[n - 2 * k:n - k])
    m_last = np.mean(losses[n - k:])
    if m_prev == 0.0:
        return m_last == 0.0
    return bool(abs(m_last - m_prev) / m_prev < tol)

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.asarray(W0, dtype=np.float64).copy()
    losses = []
    it = 0
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        xi, yi = X[i], Y[i]
        y_hat, _ = forward(W, xi)
        losses.append(loss(yi, y_hat))
        W = W - alpha * backward(W, xi, yi)
        it += 1
    return W, losses
