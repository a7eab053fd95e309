# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "mise à jour w = w + alpha G (montée de gradient) avec un batch_gradient correct"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    n_upd = 0
    for b in range(len(X) // batch_size):
        s, e = b * batch_size, (b + 1) * batch_size
        w += alpha * batch_gradient(w, X[s:e], Y[s:e])
        n_upd += 1
    return w, n_upd
