# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "dans sgd_epoch, gradient inline recopié de la feuille x (y - y_hat) avec w - alpha G : montée au lieu de descente (batch_gradient est correct)"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - w * xb)))

# %%
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    count = 0
    for b in range(len(X) // batch_size):
        xb = X[b * batch_size:(b + 1) * batch_size]
        yb = Y[b * batch_size:(b + 1) * batch_size]
        G = np.mean(xb * (yb - predict(w, xb)))     # ∇ℓ = x (y - ŷ) comme dans l'énoncé
        w = w - alpha * G
        count += 1
    return w, count
