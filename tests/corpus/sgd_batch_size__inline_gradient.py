# %%
# expect: {"wrong": [], "mistake": ""}
# sgd_epoch calcule le gradient du batch lui-même (sans appeler batch_gradient).
import numpy as np

# %%
def predict(w, x):
    return np.multiply(w, x)

def batch_gradient(w, xb, yb):
    xb, yb = np.asarray(xb), np.asarray(yb)
    return np.sum(-xb * (yb - w * xb)) / xb.size

# %%
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, n = w0, 0
    for b in range(len(X) // batch_size):
        xb = X[b * batch_size:(b + 1) * batch_size]
        yb = Y[b * batch_size:(b + 1) * batch_size]
        y_hat = w * xb
        G = np.mean(-xb * (yb - y_hat))      # gradient moyen du batch
        w = w - alpha * G
        n += 1
    return float(w), n
