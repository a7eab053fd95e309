# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "np.array_split répartit tous les exemples (reste compris) dans des batchs de tailles inégales"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    n_batches = len(X) // batch_size
    w = w0
    for xb, yb in zip(np.array_split(X, n_batches), np.array_split(Y, n_batches)):
        w = w - alpha * batch_gradient(w, xb, yb)
    return w, n_batches
