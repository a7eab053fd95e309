# %%
# expect: {"wrong": [], "mistake": ""}
# Mélange écrit idx = np.arange(n); rng.shuffle(idx) : c'est exactement ce que fait rng.permutation(n) (même tirage).
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    Wh = rng.normal(0, 1, (nh, nx)) * 0.1
    Wy = rng.normal(0, 1, (ny, nh)) * 0.1
    return {"Wh": Wh, "bh": np.zeros((nh,)), "Wy": Wy, "by": np.zeros((ny,))}

def softmax(Z):
    Zs = Z - Z.max(axis=-1, keepdims=True)
    return np.exp(Zs) / np.exp(Zs).sum(axis=-1, keepdims=True)

def forward(params, X, activation="tanh"):
    h_tilde = np.dot(X, params["Wh"].T) + params["bh"]
    h = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0)}[activation](h_tilde)
    y_tilde = np.dot(h, params["Wy"].T) + params["by"]
    y_hat = softmax(y_tilde)
    cache = {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}
    return y_hat, cache

def loss_accuracy(Y_hat, Y):
    n = Y.shape[0]
    p_true = np.sum(Y_hat * Y, axis=1)
    L = -np.sum(np.log(np.clip(p_true, 1e-12, 1.0))) / n
    acc = np.count_nonzero(Y_hat.argmax(axis=1) == Y.argmax(axis=1)) / n
    return float(L), float(acc)

# %%
def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    dz = grad_logits(cache["y_hat"], Y)
    dWy = dz.T @ cache["h"] / n
    dby = dz.sum(axis=0) / n
    dh = dz @ params["Wy"]
    if activation == "tanh":
        dh_tilde = dh * (1 - np.square(cache["h"]))
    else:
        dh_tilde = dh * (cache["h"] > 0)        # h > 0  <=>  h_tilde > 0
    dWh = dh_tilde.T @ X / n
    dbh = dh_tilde.sum(axis=0) / n
    return {"Wh": dWh, "bh": dbh, "Wy": dWy, "by": dby}

def sgd_step(params, grads, lr):
    return {name: params[name] - lr * grads[name] for name in params}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    n = X.shape[0]
    history = []
    for _ in range(epochs):
        idx = np.arange(n)
        rng.shuffle(idx)
        for s in range(0, n, batch_size):
            b = idx[s:s + batch_size]
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
