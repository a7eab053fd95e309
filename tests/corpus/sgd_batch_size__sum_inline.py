# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "gradient inline dans sgd_epoch : somme sur le batch sans diviser par n_b (batch_gradient, lui, fait la moyenne)"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    g = 0.0
    for x, y in zip(xb, yb):
        g += -x * (y - w * x)
    return g / len(xb)

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    nb_maj = 0
    for b in range(len(X) // batch_size):
        G = 0.0
        for i in range(b * batch_size, (b + 1) * batch_size):
            G += -X[i] * (Y[i] - w * X[i])
        w = w - alpha * G
        nb_maj += 1
    return w, nb_maj
