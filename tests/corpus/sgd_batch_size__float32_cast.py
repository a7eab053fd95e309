# %%
# expect: {"wrong": [], "mistake": ""}
# Calcul du gradient en float32 puis reconversion en float64 (erreur relative ~1e-7).
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    xb32 = np.asarray(xb, dtype=np.float32)
    yb32 = np.asarray(yb, dtype=np.float32)
    g = np.mean(-xb32 * (yb32 - np.float32(w) * xb32))
    return float(np.float64(g))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = np.float64(w0)
    compteur = 0
    nb_batches = len(X) // batch_size
    b = 0
    while b < nb_batches:
        s = slice(b * batch_size, (b + 1) * batch_size)
        w = w - alpha * batch_gradient(w, X[s], Y[s])
        compteur += 1
        b += 1
    return float(w), compteur
