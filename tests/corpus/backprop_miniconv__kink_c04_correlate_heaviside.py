# %%
# expect: {"wrong": []}
# %%
import numpy as np

# %%
def forward(W, x):
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    a = np.correlate(x, W[:2], mode="valid")
    o = np.maximum(a, 0)
    y_hat = float(np.sum(o * W[2:]))
    return y_hat, dict(a1=float(a[0]), a2=float(a[1]), o1=float(o[0]), o2=float(o[1]))


def loss(y, y_hat):
    return 0.5 * float(np.square(y - y_hat))

# %%
def backward(W, x, y):
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    a = np.correlate(x, W[:2], mode="valid")
    o = np.maximum(a, 0)
    err = float(np.sum(o * W[2:])) - y
    g_v = err * o
    # dérivée de ReLU : heaviside avec la valeur 0 en 0
    g_a = err * W[2:] * np.heaviside(a, 0.0)
    # le gradient par rapport au filtre est encore une corrélation
    g_w = np.correlate(x, g_a, mode="valid")
    return np.array([g_w[0], g_w[1], g_v[0], g_v[1]])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 200:
        return False
    window = np.asarray(losses[-200:], dtype=float)
    slope = np.polyfit(np.arange(200.0), window, 1)[0]
    return bool(abs(slope) * 200 <= tol * window.mean())


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
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
