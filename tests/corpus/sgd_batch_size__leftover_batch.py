# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "le dernier batch incomplet (N mod n_b exemples) est utilisé"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    n_updates = 0
    for start in range(0, len(X), batch_size):
        xb = X[start:start + batch_size]
        yb = Y[start:start + batch_size]
        w = w - alpha * batch_gradient(w, xb, yb)
        n_updates += 1
    return w, n_updates
