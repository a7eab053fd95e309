# %%
# expect: {"wrong": [], "mistake": ""}
# Les fonctions sont appelées via un dictionnaire ; boucle while sur le début du batch.
import numpy as np

# %%
def predict(w, x):
    return np.dot(w, x)

def batch_gradient(w, xb, yb):
    xb = np.atleast_1d(np.asarray(xb, dtype=float))
    yb = np.atleast_1d(np.asarray(yb, dtype=float))
    return float(-(xb @ (yb - predict(w, xb))) / len(xb))

F = {"grad": batch_gradient, "pred": predict}

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    k = 0
    debut = 0
    while debut + batch_size <= len(X):
        G = F["grad"](w, X[debut:debut + batch_size], Y[debut:debut + batch_size])
        w = w - alpha * G
        k += 1
        debut += batch_size
    return w, k
