# %%
# expect: {"wrong": ["backward"], "mistake": "H(0) = 1/2 : np.heaviside(a, 0.5)"}
# %%
import numpy as np


def toeplitz_x(x):
    x = np.asarray(x, dtype=np.float64)
    return np.array([[x[0], x[1]], [x[1], x[2]]])

# %%
def forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    A = toeplitz_x(x)
    a = A @ W[:2]
    o = np.maximum(a, 0.0)
    return float(o @ W[2:]), {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2


def backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    A = toeplitz_x(x)
    y_hat, c = forward(W, x)
    a = np.array([c["a1"], c["a2"]])
    o = np.array([c["o1"], c["o2"]])
    e = y_hat - y
    delta = e * W[2:] * np.heaviside(a, 0.5)
    return np.concatenate([A.T @ delta, e * o])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol > 0 and len(losses) >= 100:
        last = np.asarray(losses[-100:])
        return bool(last.max() - last.min() <= tol * abs(last.mean()))
    return False


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=np.float64)
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(float(loss(Y[i], y_hat)))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
