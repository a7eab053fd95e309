# %%
# expect: {"wrong": [], "mistake": ""}
# Boucles explicites sur les exemples (gradient accumulé exemple par exemple puis divisé par n).
import numpy as np
import math

# %%
def init_params(nx, nh, ny, rng):
    Wh = np.empty((nh, nx))
    for i in range(nh):
        for j in range(nx):
            Wh[i, j] = rng.normal() * 0.5
    Wy = np.empty((ny, nh))
    for i in range(ny):
        for j in range(nh):
            Wy[i, j] = rng.normal() * 0.5
    return {"Wh": Wh, "bh": np.zeros(nh), "Wy": Wy, "by": np.zeros(ny)}

def softmax(Z):
    out = np.zeros_like(Z, dtype=float)
    for i in range(Z.shape[0]):
        z = Z[i] - max(Z[i])
        e = np.exp(z)
        out[i] = e / e.sum()
    return out

def forward(params, X, activation="tanh"):
    h_tilde = np.array([params["Wh"] @ x + params["bh"] for x in X])
    if activation == "tanh":
        h = np.tanh(h_tilde)
    else:
        h = np.maximum(h_tilde, 0.0)
    y_tilde = np.array([params["Wy"] @ hi + params["by"] for hi in h])
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    n = len(Y)
    total, correct = 0.0, 0
    for i in range(n):
        c = int(np.argmax(Y[i]))
        total += -math.log(max(Y_hat[i, c], 1e-300))
        correct += int(np.argmax(Y_hat[i]) == c)
    return total / n, correct / n

def grad_logits(Y_hat, Y):
    return np.array([Y_hat[i] - Y[i] for i in range(len(Y))])

# %%
def backward(params, X, Y, cache, activation="tanh"):
    n = len(X)
    g = {k: np.zeros_like(v, dtype=float) for k, v in params.items()}
    G = grad_logits(cache["y_hat"], Y)
    for i in range(n):
        dy = G[i]
        g["Wy"] += np.outer(dy, cache["h"][i])
        g["by"] += dy
        dh = params["Wy"].T @ dy
        if activation == "tanh":
            dht = dh * (1 - cache["h"][i] ** 2)
        else:
            dht = dh * (cache["h_tilde"][i] > 0)
        g["Wh"] += np.outer(dht, X[i])
        g["bh"] += dht
    for k in g:
        g[k] /= n
    return g

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in ("Wh", "bh", "Wy", "by")}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    n = len(X)
    for epoch in range(epochs):
        perm = rng.permutation(n)
        s = 0
        while s < n:
            batch = perm[s:s + batch_size]
            _, cache = forward(params, X[batch], activation)
            grads = backward(params, X[batch], Y[batch], cache, activation)
            params = sgd_step(params, grads, lr)
            s += batch_size
        L, acc = loss_accuracy(forward(params, X, activation)[0], Y)
        history.append(L)
    return params, history
