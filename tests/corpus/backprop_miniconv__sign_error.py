# %%
# expect: {"wrong": ["backward"], "mistake": "signe de l'erreur : gradient calculé avec e = y - y_hat sans le signe moins (renvoie -grad)"}
# train est correct (W - alpha * backward) : seule la fonction backward est fausse.
import numpy as np

# %%
def forward(W, x):
    a1 = x[0] * W[0] + x[1] * W[1]
    a2 = x[1] * W[0] + x[2] * W[1]
    o1 = max(0.0, a1)
    o2 = max(0.0, a2)
    return W[2] * o1 + W[3] * o2, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

def backward(W, x, y):
    y_hat, c = forward(W, x)
    e = y - y_hat
    H1, H2 = float(c["a1"] > 0), float(c["a2"] > 0)
    return np.array([
        e * (W[2] * H1 * x[0] + W[3] * H2 * x[1]),
        e * (W[2] * H1 * x[1] + W[3] * H2 * x[2]),
        e * c["o1"],
        e * c["o2"],
    ])

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol > 0 and len(losses) >= 100:
        return np.ptp(losses[-100:]) < tol
    return False

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = W0.copy()
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
