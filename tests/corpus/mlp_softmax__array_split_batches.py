# %%
# expect: {"wrong": ["train"], "mistake": "mini-batchs de tailles presque égales (np.array_split) au lieu de perm[s:s+batch_size] : 4, 3, 3 au lieu de 4, 4, 2"}
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    return {"Wh": rng.normal(0, 0.3, (nh, nx)), "bh": np.zeros(nh), "Wy": rng.normal(0, 0.3, (ny, nh)), "by": np.zeros(ny)}

def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else np.maximum(h_tilde, 0)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    L = -np.sum(Y * np.log(np.clip(Y_hat, 1e-12, 1.0))) / len(Y)
    return float(L), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    d = (cache["y_hat"] - Y) / n
    dht = (d @ params["Wy"]) * ((1 - cache["h"] ** 2) if activation == "tanh" else (cache["h_tilde"] > 0))
    return {"Wh": dht.T @ X, "bh": dht.sum(0), "Wy": d.T @ cache["h"], "by": d.sum(0)}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

# %%
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    n = X.shape[0]
    for epoch in range(epochs):
        perm = rng.permutation(n)
        for b in np.array_split(perm, int(np.ceil(n / batch_size))):  # near-equal batches
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
