# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "indices de la feuille (b*n_b + 1 … (b+1)*n_b) recopiés en Python 0-indexé : batchs décalés d'un exemple, le premier exemple est sauté"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    n = 0
    for b in range(len(X) // batch_size):
        i0 = b * batch_size + 1
        i1 = (b + 1) * batch_size + 1
        xb, yb = X[i0:i1], Y[i0:i1]
        if len(xb) == 0:
            continue
        w = w - alpha * batch_gradient(w, xb, yb)
        n += 1
    return w, n
