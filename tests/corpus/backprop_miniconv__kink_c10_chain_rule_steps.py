# %%
# expect: {"wrong": []}
# %%
import numpy as np


def relu(z):
    return max(z, 0.0)


def drelu(z):
    return float(z > 0)


def dloss_dyhat(y, y_hat):
    return y_hat - y

# %%
def forward(W, x):
    w1, w2, v1, v2 = map(float, W)
    x1, x2, x3 = map(float, x)
    cache = {}
    cache["a1"] = w1 * x1 + w2 * x2
    cache["a2"] = w1 * x2 + w2 * x3
    cache["o1"] = relu(cache["a1"])
    cache["o2"] = relu(cache["a2"])
    y_hat = v1 * cache["o1"] + v2 * cache["o2"]
    return y_hat, cache


def loss(y, y_hat):
    return 0.5 * (y - y_hat) * (y - y_hat)

# %%
def backward(W, x, y):
    w1, w2, v1, v2 = map(float, W)
    x1, x2, x3 = map(float, x)
    y_hat, cache = forward(W, x)
    g = {}
    g["y_hat"] = dloss_dyhat(float(y), y_hat)
    g["v1"] = g["y_hat"] * cache["o1"]
    g["v2"] = g["y_hat"] * cache["o2"]
    g["o1"] = g["y_hat"] * v1
    g["o2"] = g["y_hat"] * v2
    g["a1"] = g["o1"] * drelu(cache["a1"])
    g["a2"] = g["o2"] * drelu(cache["a2"])
    g["w1"] = g["a1"] * x1 + g["a2"] * x2
    g["w2"] = g["a1"] * x2 + g["a2"] * x3
    return np.array([g["w1"], g["w2"], g["v1"], g["v2"]])

# %%
PATIENCE = 120


def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 2 * PATIENCE:
        return False
    # meilleure moyenne sur PATIENCE itérations : s'améliore-t-elle encore ?
    recent = sum(losses[-PATIENCE:]) / PATIENCE
    earlier = sum(losses[-2 * PATIENCE:-PATIENCE]) / PATIENCE
    improvement = earlier - recent
    return improvement <= tol * earlier

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float)
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        # passe avant + perte de l'exemple, avant la mise à jour
        y_hat, _ = forward(W, X[i])
        losses.append(loss(float(Y[i]), y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
