# %%
# expect: {"wrong": [], "mistake": ""}
# La boucle d'entraînement refait la passe avant et la passe arrière elle-même (sans appeler les fonctions).
# Critère d'arrêt : patience (pas d'amélioration de plus de tol pendant 50 itérations).
import numpy as np

# %%
def forward(W, x):
    a1 = x[0] * W[0] + x[1] * W[1]
    a2 = x[1] * W[0] + x[2] * W[1]
    o1, o2 = max(a1, 0.0), max(a2, 0.0)
    return o1 * W[2] + o2 * W[3], {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return (y - y_hat) ** 2 / 2

def backward(W, x, y):
    y_hat, c = forward(W, x)
    e = y - y_hat
    g1 = W[2] * (c["a1"] > 0)
    g2 = W[3] * (c["a2"] > 0)
    return -e * np.array([g1 * x[0] + g2 * x[1], g1 * x[1] + g2 * x[2], c["o1"], c["o2"]])

# %%
def should_stop(losses, max_iter, tol, patience=50):
    if len(losses) >= max_iter:
        return True
    if not losses or tol <= 0 or len(losses) <= patience:
        return False
    best_before = min(losses[:-patience])
    best_recent = min(losses[-patience:])
    # pas d'amélioration significative sur les `patience` dernières itérations
    return best_before - best_recent <= tol * max(abs(best_before), 1e-12)

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    w1, w2, v1, v2 = [float(v) for v in W0]
    losses = []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        x1, x2, x3 = X[i]
        # passe avant
        a1 = x1 * w1 + x2 * w2
        a2 = x2 * w1 + x3 * w2
        o1 = a1 if a1 > 0 else 0.0
        o2 = a2 if a2 > 0 else 0.0
        y_hat = o1 * v1 + o2 * v2
        losses.append(0.5 * (Y[i] - y_hat) ** 2)
        # passe arrière
        e = Y[i] - y_hat
        d1 = v1 if a1 > 0 else 0.0
        d2 = v2 if a2 > 0 else 0.0
        gw1 = -e * (d1 * x1 + d2 * x2)
        gw2 = -e * (d1 * x2 + d2 * x3)
        gv1 = -e * o1
        gv2 = -e * o2
        w1, w2, v1, v2 = w1 - alpha * gw1, w2 - alpha * gw2, v1 - alpha * gv1, v2 - alpha * gv2
    return np.array([w1, w2, v1, v2]), losses
