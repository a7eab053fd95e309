# %%
# expect: {"wrong": ["batch_gradient"], "mistake": "somme au lieu de la moyenne sur le batch (oubli du 1/n_b)"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.sum(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    k = 0
    for start in range(0, len(X) - batch_size + 1, batch_size):
        w = w - alpha * batch_gradient(w, X[start:start + batch_size], Y[start:start + batch_size])
        k += 1
    return w, k
