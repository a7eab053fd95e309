# %%
# expect: {"wrong": ["predict"], "raises": ["predict"], "mistake": "predict écrit w @ x : lève une exception dès que w (ou x) est un scalaire"}
import numpy as np

# %%
def predict(w, x):
    return w @ x

def batch_gradient(w, xb, yb):
    xb = np.asarray(xb, dtype=float)
    return float(np.mean(-xb * (yb - w * xb)))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    k = 0
    for b in range(len(X) // batch_size):
        xb, yb = X[b * batch_size:(b + 1) * batch_size], Y[b * batch_size:(b + 1) * batch_size]
        w -= alpha * batch_gradient(w, xb, yb)
        k += 1
    return w, k
