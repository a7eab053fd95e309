# %%
# expect: {"wrong": [], "mistake": ""}
# SoftMax via log-sum-exp ; la perte utilise la forme simplifiée de la question 14 à partir de log(ŷ).
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    return {"Wh": 0.1 * rng.standard_normal((nh, nx)), "bh": np.zeros(nh),
            "Wy": 0.1 * rng.standard_normal((ny, nh)), "by": np.zeros(ny)}

def logsumexp(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))

def softmax(Z):
    Z = np.asarray(Z, dtype=float)
    return np.exp(Z - logsumexp(Z))

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"][None, :]
    if activation == "relu":
        h = np.where(h_tilde > 0, h_tilde, 0.0)
    else:
        h = np.tanh(h_tilde)
    y_tilde = h @ params["Wy"].T + params["by"][None, :]
    return softmax(y_tilde), {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": softmax(y_tilde)}

def loss_accuracy(Y_hat, Y):
    log_p = np.log(np.maximum(Y_hat, np.finfo(float).tiny))
    L = -(Y * log_p).sum() / Y.shape[0]
    acc = float(np.sum(Y_hat.argmax(axis=1) == Y.argmax(axis=1))) / Y.shape[0]
    return float(L), acc

# %%
def grad_logits(Y_hat, Y):
    return np.asarray(Y_hat, dtype=float) - np.asarray(Y, dtype=float)

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    g = grad_logits(cache["y_hat"], Y)
    dh = g @ params["Wy"]
    dact = 1 - cache["h"] ** 2 if activation == "tanh" else (cache["h_tilde"] > 0) * 1.0
    dht = dh * dact
    return {"Wh": dht.T @ X / n, "bh": dht.mean(axis=0), "Wy": g.T @ cache["h"] / n, "by": g.mean(axis=0)}

def sgd_step(params, grads, lr):
    return {k: v - lr * grads[k] for k, v in params.items()}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    n = len(X)
    history = []
    for ep in range(epochs):
        perm = rng.permutation(n)
        starts = range(0, n, batch_size)
        for s in starts:
            b = perm[s:s + batch_size]
            _, cache = forward(params, X[b], activation=activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation=activation), lr)
        L, acc = loss_accuracy(forward(params, X, activation=activation)[0], Y)
        history.append(L)
    return params, history
