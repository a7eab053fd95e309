# %%
# expect: {"wrong": [], "mistake": ""}
# Découpage vectorisé : on coupe les données en (nb_batches, n_b) avec reshape.
import numpy as np

# %%
def predict(w, x):
    return w * np.asarray(x, dtype=float)

def batch_gradient(w, xb, yb):
    xb = np.asarray(xb, dtype=float)
    yb = np.asarray(yb, dtype=float)
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    n_batches = X.shape[0] // batch_size
    Xb = X[: n_batches * batch_size].reshape(n_batches, batch_size)
    Yb = Y[: n_batches * batch_size].reshape(n_batches, batch_size)
    w = float(w0)
    for xb, yb in zip(Xb, Yb):
        w -= alpha * batch_gradient(w, xb, yb)
    return w, n_batches
