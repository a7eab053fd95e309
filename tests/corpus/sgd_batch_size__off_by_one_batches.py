# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "range(N // n_b - 1) : le dernier batch complet est oublié (0 mise à jour pour n_b = 4)"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    updates = 0
    # « Pour b in 0, ..., [N/nb] - 1 »
    for b in range(len(X) // batch_size - 1):
        xb = X[b * batch_size:(b + 1) * batch_size]
        yb = Y[b * batch_size:(b + 1) * batch_size]
        w = w - alpha * batch_gradient(w, xb, yb)
        updates += 1
    return w, updates
