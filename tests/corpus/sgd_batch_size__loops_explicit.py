# %%
# expect: {"wrong": [], "mistake": ""}
# Boucles explicites, comme l'algorithme de la feuille (indices décalés de 1 en Python).
import numpy as np

X = np.array([1.0, 2.0, 3.0, 4.0])
Y = np.array([2.0, 4.0, 6.0, 8.0])

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    total = 0.0
    for xi, yi in zip(xb, yb):
        total += -xi * (yi - predict(w, xi))
    return total / len(xb)

# %%
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    n_updates = 0
    N = len(X)
    for b in range(N // batch_size):
        debut = b * batch_size
        fin = (b + 1) * batch_size
        G = batch_gradient(w, X[debut:fin], Y[debut:fin])
        w = w - alpha * G
        n_updates += 1
    return w, n_updates

# %%
for nb in (1, 2, 4):
    w, k = sgd_epoch(0.5, X, Y, 0.1, nb)
    print(f"n_b = {nb} : w = {w:.5f}, {k} mise(s) à jour")
