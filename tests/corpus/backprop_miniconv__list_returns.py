# %%
# expect: {"wrong": [], "mistake": ""}
# Renvoie des listes Python (autorisé), W déballé en tuple.
# Critère d'arrêt : tolérance absolue sur la différence de deux pertes successives (renvoie un np.bool_).
import numpy as np

# %%
def relu(a):
    return a if a > 0 else 0.0

def H(a):
    return 1.0 if a > 0 else 0.0

def forward(W, x):
    (w1, w2, v1, v2), (x1, x2, x3) = W, x
    a1, a2 = x1 * w1 + x2 * w2, x2 * w1 + x3 * w2
    o1, o2 = relu(a1), relu(a2)
    return o1 * v1 + o2 * v2, dict(a1=a1, a2=a2, o1=o1, o2=o2)

def loss(y, y_hat):
    e = y - y_hat
    return 0.5 * e * e

def backward(W, x, y):
    (w1, w2, v1, v2), (x1, x2, x3) = W, x
    y_hat, c = forward(W, x)
    e = y - y_hat
    return [-e * (v1 * H(c["a1"]) * x1 + v2 * H(c["a2"]) * x2),
            -e * (v1 * H(c["a1"]) * x2 + v2 * H(c["a2"]) * x3),
            -e * c["o1"],
            -e * c["o2"]]

# %%
def should_stop(losses, max_iter, tol):
    if not losses:
        return False
    if len(losses) >= max_iter:
        return True
    if len(losses) < 2:
        return False
    return np.abs(losses[-1] - losses[-2]) < tol

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float)
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, cache = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * np.asarray(backward(W, X[i], Y[i]))
    return W, losses
