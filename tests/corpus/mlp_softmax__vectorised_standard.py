# %%
# expect: {"wrong": [], "mistake": ""}
# Version vectorisée « de cours » : train appelle forward / backward / sgd_step / loss_accuracy.
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    return {
        "Wh": rng.normal(0.0, 0.3, size=(nh, nx)),
        "bh": np.zeros(nh),
        "Wy": rng.normal(0.0, 0.3, size=(ny, nh)),
        "by": np.zeros(ny),
    }

def softmax(Z):
    Z = Z - np.max(Z, axis=1, keepdims=True)
    E = np.exp(Z)
    return E / np.sum(E, axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else np.maximum(0, h_tilde)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

# %%
def loss_accuracy(Y_hat, Y):
    n = Y.shape[0]
    L = -np.sum(Y * np.log(np.clip(Y_hat, 1e-12, None))) / n
    acc = np.mean(np.argmax(Y_hat, axis=1) == np.argmax(Y, axis=1))
    return float(L), float(acc)

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    d_y = grad_logits(cache["y_hat"], Y) / n
    dWy = d_y.T @ cache["h"]
    dby = d_y.sum(axis=0)
    d_h = d_y @ params["Wy"]
    if activation == "tanh":
        d_ht = d_h * (1 - cache["h"] ** 2)
    else:
        d_ht = d_h * (cache["h_tilde"] > 0)
    dWh = d_ht.T @ X
    dbh = d_ht.sum(axis=0)
    return {"Wh": dWh, "bh": dbh, "Wy": dWy, "by": dby}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

# %%
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    n = X.shape[0]
    for epoch in range(epochs):
        perm = rng.permutation(n)
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            Y_hat, cache = forward(params, X[idx], activation)
            grads = backward(params, X[idx], Y[idx], cache, activation)
            params = sgd_step(params, grads, lr)
        Y_hat, _ = forward(params, X, activation)
        L, _ = loss_accuracy(Y_hat, Y)
        history.append(L)
    return params, history
