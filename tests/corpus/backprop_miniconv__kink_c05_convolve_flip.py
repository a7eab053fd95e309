# %%
# expect: {"wrong": []}
# %%
import numpy as np


def conv_valid(x, k):
    # corrélation 'valid' écrite avec np.convolve
    return np.convolve(x, k[::-1], mode="valid")


def relu_grad(a):
    return (a > 0) * 1.0

# %%
def forward(W, x):
    W = np.array(W, dtype=np.float64)
    x = np.array(x, dtype=np.float64)
    a = conv_valid(x, W[:2])
    o = a * relu_grad(a)
    o = np.maximum(o, 0.0)            # évite un -0.0
    y_hat = o[0] * W[2] + o[1] * W[3]
    return float(y_hat), {"a1": float(a[0]), "a2": float(a[1]),
                          "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return float((y - y_hat) ** 2 / 2)

# %%
def backward(W, x, y):
    W = np.array(W, dtype=np.float64)
    x = np.array(x, dtype=np.float64)
    y_hat, cache = forward(W, x)
    a = np.array([cache["a1"], cache["a2"]])
    o = np.array([cache["o1"], cache["o2"]])
    e = y_hat - y
    delta = e * W[2:] * relu_grad(a)
    gw = conv_valid(x, delta)
    gv = e * o
    return np.r_[gw, gv]

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if not losses or tol <= 0:
        return False
    # ma proposition : perte moyenne sur 100 itérations, comparée à la fenêtre précédente
    if len(losses) < 200:
        return False
    prev = np.mean(losses[-200:-100])
    cur = np.mean(losses[-100:])
    return bool(np.isclose(cur, prev, rtol=tol, atol=0.0))


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.copy(np.asarray(W0, dtype=np.float64))
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_pred, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_pred))
        grad = backward(W, X[i], Y[i])
        W = W - alpha * grad
    return W, losses
