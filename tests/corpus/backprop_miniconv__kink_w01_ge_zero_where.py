# %%
# expect: {"wrong": ["backward"], "mistake": "H(0) = 1 : np.where(a >= 0, 1, 0)"}
# %%
import numpy as np

# %%
def forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
    o = np.maximum(a, 0.0)
    y_hat = float(o[0] * W[2] + o[1] * W[3])
    return y_hat, {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return float(0.5 * (y - y_hat) ** 2)

# %%
def backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y_hat, cache = forward(W, x)
    a = np.array([cache["a1"], cache["a2"]])
    o = np.array([cache["o1"], cache["o2"]])
    e = y_hat - y
    H = np.where(a >= 0, 1.0, 0.0)      # dérivée de ReLU
    d_a = e * W[2:] * H
    d_w1 = d_a[0] * x[0] + d_a[1] * x[1]
    d_w2 = d_a[0] * x[1] + d_a[1] * x[2]
    return np.array([d_w1, d_w2, e * o[0], e * o[1]])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 100:
        return False
    old = np.mean(losses[-100:-50])
    new = np.mean(losses[-50:])
    return bool(abs(old - new) <= tol * abs(old))


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
