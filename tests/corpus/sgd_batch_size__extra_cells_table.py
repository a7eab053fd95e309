# %%
# expect: {"wrong": [], "mistake": ""}
# Notebook avec cellules de démonstration, un générateur de batchs et le tableau de la feuille.
import numpy as np

X = np.array([1.0, 2.0, 3.0, 4.0])
Y = 2 * X
w0, alpha = 0.5, 0.1

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    e = yb - predict(w, xb)          # e = y - y_hat
    return float(np.mean(-xb * e))   # attention : grad = -x (y - y_hat), la feuille oublie le signe

def iter_batches(X, Y, nb):
    """Batchs dans l'ordre des données ; le reste (N mod nb) est ignoré."""
    for b in range(len(X) // nb):
        yield X[b * nb:(b + 1) * nb], Y[b * nb:(b + 1) * nb]

# %%
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    updates = 0
    for xb, yb in iter_batches(X, Y, batch_size):
        w = w - alpha * batch_gradient(w, xb, yb)
        updates += 1
    return w, updates

# %%
print("taille | poids final | mises à jour")
for nb in [1, 2, 4]:
    w, k = sgd_epoch(w0, X, Y, alpha, nb)
    print(f"{nb:6d} | {w:11.5f} | {k}")
# La feuille donne 2.047 / 1.809 / 1.654 : le tableau ne correspond pas à l'algorithme.

# %%
# Question finale : petits batchs = plus de mises à jour par epoch (ici w se rapproche plus de 2),
# mais gradient plus bruité ; gros batch = une seule mise à jour, plus stable mais plus lent.
