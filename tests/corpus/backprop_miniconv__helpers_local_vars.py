# %%
# expect: {"wrong": [], "mistake": ""}
# Les fonctions sont rangées dans un dictionnaire / des variables locales dans train.
# Critère : écart-type des 30 dernières pertes (relatif) sous tol.
import numpy as np

# %%
def forward(W, x):
    w = np.asarray(W, dtype=np.float64)
    a1 = w[0] * x[0] + w[1] * x[1]
    a2 = w[0] * x[1] + w[1] * x[2]
    o1 = a1 * (a1 > 0)
    o2 = a2 * (a2 > 0)
    return float(w[2] * o1 + w[3] * o2), {"a1": float(a1), "a2": float(a2), "o1": float(o1), "o2": float(o2)}

def loss(y, y_hat):
    return float(0.5 * (y - y_hat) ** 2)

def backward(W, x, y):
    y_hat, c = forward(W, x)
    e = y - y_hat
    H = np.array([c["a1"] > 0, c["a2"] > 0], dtype=float)
    v = np.asarray(W[2:], dtype=float)
    J = np.array([[x[0], x[1]], [x[1], x[2]]])     # J[k, j] = d a_k / d w_j
    dw = -e * ((v * H) @ J)
    dv = -e * np.array([c["o1"], c["o2"]])
    return np.hstack((dw, dv))

# %%
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if len(losses) < 30 or not tol > 0:
        return False
    w = np.array(losses[-30:])
    return bool(np.std(w) <= tol * (abs(np.mean(w)) + 1e-12))

# %%
OPS = {"fwd": forward, "loss": loss, "grad": backward}

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    fwd, lossf, grad = OPS["fwd"], OPS["loss"], OPS["grad"]
    stop = should_stop
    W = W0 + 0.0        # nouvelle copie, W0 intact
    losses = []
    while True:
        if stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        xi, yi = X[i], Y[i]
        y_hat, _ = fwd(W, xi)
        losses.append(lossf(yi, y_hat))
        W = W - alpha * grad(W, xi, yi)
    return W, losses
