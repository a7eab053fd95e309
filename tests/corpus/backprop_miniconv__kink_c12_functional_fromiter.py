# %%
# expect: {"wrong": []}
# %%
import numpy as np

relu = lambda a: a * (a > 0) + 0.0
heaviside0 = lambda a: (a > 0) * 1.0          # H(0) = 0
pre_act = lambda w, x: np.fromiter((x[k:k + 2] @ w for k in range(2)), dtype=np.float64, count=2)

# %%
def forward(W, x):
    W, x = np.asarray(W, dtype=np.float64), np.asarray(x, dtype=np.float64)
    a = pre_act(W[:2], x)
    o = np.abs(relu(a))                           # abs : enlève un éventuel -0.0
    cache = dict(zip(["a1", "a2", "o1", "o2"], map(float, [*a, *o])))
    return float(o @ W[2:]), cache


loss = lambda y, y_hat: 0.5 * (y - y_hat) ** 2

# %%
def backward(W, x, y):
    W, x = np.asarray(W, dtype=np.float64), np.asarray(x, dtype=np.float64)
    y_hat, c = forward(W, x)
    a = np.array([c["a1"], c["a2"]])
    o = np.array([c["o1"], c["o2"]])
    e = y_hat - y
    d_a = e * W[2:] * heaviside0(a)
    d_w = sum(d_a[k] * x[k:k + 2] for k in range(2))
    return np.concatenate([d_w, e * o])

# %%
def should_stop(losses, max_iter, tol):
    n = len(losses)
    if n >= max_iter:
        return True
    if tol <= 0 or n < 100:
        return False
    means = list(map(np.mean, (losses[-100:-50], losses[-50:])))
    return bool(abs(means[1] - means[0]) <= tol * means[0])


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=np.float64)
    losses = []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(float(loss(Y[i], y_hat)))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
