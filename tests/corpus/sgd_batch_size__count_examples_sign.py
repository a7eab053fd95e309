# %%
# expect: {"wrong": ["batch_gradient", "sgd_epoch"], "mistake": "batch_gradient avec le signe de la feuille ; sgd_epoch compte les exemples vus au lieu des mises à jour"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    y_hat = predict(w, xb)
    return np.mean(xb * (yb - y_hat))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    vus = 0
    for b in range(len(X) // batch_size):
        xb = X[b * batch_size:(b + 1) * batch_size]
        yb = Y[b * batch_size:(b + 1) * batch_size]
        w = w - alpha * batch_gradient(w, xb, yb)
        vus += len(xb)
    return w, vus
