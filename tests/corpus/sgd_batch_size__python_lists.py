# %%
# expect: {"wrong": [], "mistake": ""}
# Tout en Python pur (listes, float), numpy seulement pour accepter scalaires et tableaux dans predict.
import numpy as np

# %%
def predict(w, x):
    if np.ndim(x) == 0:
        return w * float(x)
    return np.array([w * xi for xi in x])

def batch_gradient(w, xb, yb):
    grads = [-float(xi) * (float(yi) - w * float(xi)) for xi, yi in zip(xb, yb)]
    return sum(grads) / len(grads)

def sgd_epoch(w0, X, Y, alpha, batch_size):
    xs, ys = list(X), list(Y)
    w = float(w0)
    batches = [(xs[i:i + batch_size], ys[i:i + batch_size])
               for i in range(0, len(xs) - batch_size + 1, batch_size)]
    for xb, yb in batches:
        w = w - alpha * batch_gradient(w, xb, yb)
    return w, len(batches)

# %%
print(sgd_epoch(0.5, [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0], 0.1, 2))
