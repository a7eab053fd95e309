# %%
# expect: {"wrong": []}
# %%
import numpy as np

def relu_prime(a):
    return np.maximum(np.sign(a), 0.0)

# %%
def forward(W, x):
    w1, w2, v1, v2 = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    a = x[:-1] * w1 + x[1:] * w2          # (a1, a2) en une ligne
    o = np.maximum(a, 0.0)
    y_hat = o[0] * v1 + o[1] * v2
    return float(y_hat), {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}


def loss(y, y_hat):
    return float(0.5 * (y - y_hat) ** 2)


def backward(W, x, y):
    w1, w2, v1, v2 = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    a = x[:-1] * w1 + x[1:] * w2
    o = np.maximum(a, 0.0)
    e = (o[0] * v1 + o[1] * v2) - y
    g = e * np.array([v1, v2]) * relu_prime(a)
    dw1 = np.sum(g * x[:-1])
    dw2 = np.sum(g * x[1:])
    return np.array([dw1, dw2, e * o[0], e * o[1]], dtype=np.float64)

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol == 0 or len(losses) < 150:
        return False
    L = np.asarray(losses, dtype=np.float64)
    m1 = L[-150:-75].mean()
    m2 = L[-75:].mean()
    return bool(abs(m1 - m2) < tol * m1) or bool(m1 == m2)


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

# %%
W_test = np.array([0.75, 0.75, 1.5, -1.25])
x_test = np.array([-1.25, 1.25, 2.0])
print(forward(W_test, x_test))
print(backward(W_test, x_test, 1.0))
