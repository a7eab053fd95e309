# %%
# expect: {"wrong": []}
# %%
import math
import numpy as np

# %%
def _as_list(t):
    return [float(t_k) for t_k in t]


def forward(W, x):
    w1, w2, v1, v2 = _as_list(W)
    x = _as_list(x)
    pre = [x[k] * w1 + x[k + 1] * w2 for k in range(2)]
    out = [max(0.0, p) for p in pre]
    y_hat = out[0] * v1 + out[1] * v2
    return y_hat, {"a1": pre[0], "a2": pre[1], "o1": out[0], "o2": out[1]}


def loss(y, y_hat):
    return 0.5 * math.pow(float(y) - y_hat, 2)

# %%
def step(a):
    return 1.0 if a > 0.0 else 0.0      # marche de Heaviside, step(0) = 0


def backward(W, x, y):
    w1, w2, v1, v2 = _as_list(W)
    xs = _as_list(x)
    y_hat, c = forward(W, x)
    e = y_hat - float(y)
    g_a = [e * v1 * step(c["a1"]), e * v2 * step(c["a2"])]
    g_w1 = g_a[0] * xs[0] + g_a[1] * xs[1]
    g_w2 = g_a[0] * xs[1] + g_a[1] * xs[2]
    return [g_w1, g_w2, e * c["o1"], e * c["o2"]]

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol > 0 and len(losses) >= 60:
        a = math.fsum(losses[-60:-30]) / 30
        b = math.fsum(losses[-30:]) / 30
        return math.fabs(a - b) <= tol * math.fabs(a)
    return False


def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = [float(w) for w in W0]          # nouvelle liste, W0 intact
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = int(rng.integers(len(X)))
        xi, yi = X[i], float(Y[i])
        y_hat, _ = forward(W, xi)
        losses.append(loss(yi, y_hat))
        g = backward(W, xi, yi)
        W = [w - alpha * gk for w, gk in zip(W, g)]
    return W, losses
