# %%
# expect: {"wrong": [], "mistake": ""}
# SoftMax calculée en float32 (plus rapide) puis reconvertie en float64.
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    p = {}
    p["Wh"] = rng.normal(scale=0.2, size=(nh, nx))
    p["bh"] = np.zeros(nh)
    p["Wy"] = rng.normal(scale=0.2, size=(ny, nh))
    p["by"] = np.zeros(ny)
    return p

def softmax(Z):
    Z32 = np.asarray(Z, dtype=np.float32)
    Z32 = Z32 - Z32.max(axis=1, keepdims=True)
    E = np.exp(Z32)
    return (E / E.sum(axis=1, keepdims=True)).astype(np.float64)

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else h_tilde * (h_tilde > 0)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    L = float(np.mean(-np.sum(Y * np.log(Y_hat + 1e-12), axis=1)))
    acc = float(np.mean(np.equal(np.argmax(Y_hat, -1), np.argmax(Y, -1))))
    return L, acc

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    dyt = grad_logits(cache["y_hat"], Y) / n
    dh = dyt @ params["Wy"]
    dht = dh * ((1 - cache["h"] ** 2) if activation == "tanh" else (cache["h_tilde"] > 0))
    return {"Wy": dyt.T @ cache["h"], "by": dyt.sum(axis=0), "Wh": dht.T @ X, "bh": dht.sum(axis=0)}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    hist = []
    n = X.shape[0]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            sel = order[start:start + batch_size]
            _, c = forward(params, X[sel], activation)
            params = sgd_step(params, backward(params, X[sel], Y[sel], c, activation), lr)
        hist.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, hist
