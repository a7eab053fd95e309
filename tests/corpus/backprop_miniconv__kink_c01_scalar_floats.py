# %%
# expect: {"wrong": []}
# %%
import numpy as np

# %%
def relu(a):
    return a if a > 0 else 0.0


def relu_deriv(a):
    # H(a) = 1 si a > 0, sinon 0 ; par convention H(0) = 0
    if a > 0:
        return 1.0
    return 0.0

# %%
def forward(W, x):
    w1, w2, v1, v2 = float(W[0]), float(W[1]), float(W[2]), float(W[3])
    x1, x2, x3 = float(x[0]), float(x[1]), float(x[2])
    a1 = x1 * w1 + x2 * w2
    a2 = x2 * w1 + x3 * w2
    o1 = relu(a1)
    o2 = relu(a2)
    y_hat = o1 * v1 + o2 * v2
    cache = {"a1": a1, "a2": a2, "o1": o1, "o2": o2}
    return y_hat, cache


def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

# %%
def backward(W, x, y):
    w1, w2, v1, v2 = float(W[0]), float(W[1]), float(W[2]), float(W[3])
    x1, x2, x3 = float(x[0]), float(x[1]), float(x[2])
    y_hat, c = forward(W, x)
    e = y_hat - y                      # dl/dy_hat
    d_v1 = e * c["o1"]
    d_v2 = e * c["o2"]
    d_a1 = e * v1 * relu_deriv(c["a1"])
    d_a2 = e * v2 * relu_deriv(c["a2"])
    d_w1 = d_a1 * x1 + d_a2 * x2
    d_w2 = d_a1 * x2 + d_a2 * x3
    return np.array([d_w1, d_w2, d_v1, d_v2])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol <= 0:
        return False
    k = 50
    if len(losses) < 2 * k:
        return False
    old = sum(losses[-2 * k:-k]) / k
    new = sum(losses[-k:]) / k
    return abs(old - new) <= tol * abs(old)


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    W = np.array(W0, dtype=float)      # copie : W0 n'est pas modifié
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
