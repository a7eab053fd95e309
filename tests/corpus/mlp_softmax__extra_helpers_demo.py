# %%
# expect: {"wrong": [], "mistake": ""}
# Notebook avec fonctions auxiliaires (one_hot, activations), vérification du gradient et démo sur des données jouets.
import numpy as np
# import matplotlib.pyplot as plt

# %%
def one_hot(labels, k):
    return np.eye(k)[labels]

def tanh_prime_from_h(h):
    return 1.0 - h * h

def relu(z):
    return np.maximum(z, 0.0)

def relu_prime(z):
    return (z > 0).astype(float)

# %%
def init_params(nx, nh, ny, rng):
    return {"Wh": rng.standard_normal((nh, nx)) * np.sqrt(1.0 / nx), "bh": np.zeros(nh),
            "Wy": rng.standard_normal((ny, nh)) * np.sqrt(1.0 / nh), "by": np.zeros(ny)}

def softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    expZ = np.exp(Z)
    return expZ / expZ.sum(axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else relu(h_tilde)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    n = Y.shape[0]
    rows = np.arange(n)
    cls = Y.argmax(axis=1)
    L = -np.log(np.clip(Y_hat[rows, cls], 1e-12, None)).sum() / n
    return float(L), float((Y_hat.argmax(axis=1) == cls).mean())

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    d_y = grad_logits(cache["y_hat"], Y)
    d_h = (d_y @ params["Wy"]) * (tanh_prime_from_h(cache["h"]) if activation == "tanh" else relu_prime(cache["h_tilde"]))
    return {"Wy": d_y.T @ cache["h"] / n, "by": d_y.mean(axis=0), "Wh": d_h.T @ X / n, "bh": d_h.mean(axis=0)}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for epoch in range(epochs):
        perm = rng.permutation(X.shape[0])
        for s in range(0, X.shape[0], batch_size):
            b = perm[s:s + batch_size]
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history

# %%
# Vérification du gradient par différences finies
_rng = np.random.default_rng(1)
_X = _rng.normal(size=(5, 3)); _Y = one_hot(_rng.integers(0, 2, 5), 2)
_p = init_params(3, 4, 2, _rng)
_, _c = forward(_p, _X)
_g = backward(_p, _X, _Y, _c)
_q = {k: v.copy() for k, v in _p.items()}; _q["Wh"][0, 0] += 1e-6
_num = (loss_accuracy(forward(_q, _X)[0], _Y)[0] - loss_accuracy(forward(_p, _X)[0], _Y)[0]) / 1e-6
print("dWh[0,0] analytique", _g["Wh"][0, 0], "numérique", _num)

# %%
# Démo : deux nuages de points
_rng = np.random.default_rng(0)
_X = np.vstack([_rng.normal(-1, 0.7, (50, 2)), _rng.normal(1, 0.7, (50, 2))])
_Y = one_hot(np.repeat([0, 1], 50), 2)
_params, _hist = train(init_params(2, 8, 2, _rng), _X, _Y, 0.5, 16, 20, _rng)
print("perte par epoch :", np.round(_hist, 3))
print("accuracy :", loss_accuracy(forward(_params, _X)[0], _Y)[1])
# plt.plot(_hist); plt.show()
