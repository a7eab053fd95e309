# %%
# expect: {"wrong": ["sgd_epoch"], "mistake": "tous les gradients G_b calculés avec w0 (poids non mis à jour entre les batchs), puis appliqués"}
import numpy as np

# %%
def predict(w, x):
    return w * x

def batch_gradient(w, xb, yb):
    return float(np.mean(-xb * (yb - predict(w, xb))))

def sgd_epoch(w0, X, Y, alpha, batch_size):
    nb = len(X) // batch_size
    grads = [batch_gradient(w0, X[b * batch_size:(b + 1) * batch_size], Y[b * batch_size:(b + 1) * batch_size])
             for b in range(nb)]
    w = w0
    for G in grads:
        w = w - alpha * G
    return w, len(grads)
