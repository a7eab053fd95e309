# %%
# expect: {"wrong": ["batch_gradient"], "mistake": "gradient de la feuille x (y - y_hat) : signe opposé (sgd_epoch est correct)"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return np.mean(xb * (yb - predict(w, xb)))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    n_updates = 0
    for b in range(len(X) // batch_size):
        sl = slice(b * batch_size, (b + 1) * batch_size)
        w = w - alpha * batch_gradient(w, X[sl], Y[sl])
        n_updates += 1
    return w, n_updates
