# %%
# expect: {"wrong": []}
# %%
import numpy as np

def im2col(x):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x[0:2], x[1:3]])      # forme (2, 2)

# %%
def forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    cols = im2col(x)
    a = np.einsum("ij,j->i", cols, W[:2])
    o = np.clip(a, 0.0, None)
    y_hat = np.einsum("i,i->", o, W[2:])
    cache = {k: float(val) for k, val in zip(("a1", "a2", "o1", "o2"), (*a, *o))}
    return float(y_hat), cache


def loss(y, y_hat):
    return 0.5 * (float(y) - float(y_hat)) ** 2

# %%
def backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    cols = im2col(x)
    a = np.einsum("ij,j->i", cols, W[:2])
    o = np.clip(a, 0.0, None)
    e = np.einsum("i,i->", o, W[2:]) - y
    active = a > 0                           # H(0) = 0 : 0 n'est pas actif
    delta = np.zeros(2)
    delta[active] = e * W[2:][active]
    grad = np.empty(4)
    grad[:2] = np.einsum("ij,i->j", cols, delta)
    grad[2:] = e * o
    return grad

# %%
def should_stop(losses, max_iter, tol):
    # 1) nombre max d'itérations
    if len(losses) >= max_iter:
        return True
    # 2) critère ajouté : moyenne mobile exponentielle de la perte qui ne bouge plus
    if tol <= 0 or len(losses) < 20:
        return False
    beta = 0.9
    ema = losses[0]
    prev = ema
    for l in losses[1:]:
        prev = ema
        ema = beta * ema + (1 - beta) * l
    return abs(ema - prev) <= tol * abs(prev)


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
