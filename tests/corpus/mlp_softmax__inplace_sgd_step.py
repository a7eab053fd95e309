# %%
# expect: {"wrong": [], "mistake": ""}
# sgd_step met à jour le dictionnaire en place (params[k] -= ...) et le renvoie ; train travaille sur une copie.
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    return {"Wh": rng.normal(0, 0.5, (nh, nx)), "bh": np.zeros(nh),
            "Wy": rng.normal(0, 0.5, (ny, nh)), "by": np.zeros(ny)}

def softmax(Z):
    Z = np.asarray(Z, dtype=np.float64)
    e = np.exp(Z - Z.max(axis=1)[:, None])
    return e / e.sum(axis=1)[:, None]

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    if activation == "tanh":
        h = np.tanh(h_tilde)
    elif activation == "relu":
        h = np.maximum(h_tilde, 0)
    else:
        raise ValueError(activation)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    L = -np.sum(Y * np.log(np.maximum(Y_hat, 1e-12))) / len(Y)
    acc = np.mean(Y_hat.argmax(1) == Y.argmax(1))
    return L.item(), acc.item()

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    dy = grad_logits(cache["y_hat"], Y) / n
    dh = dy @ params["Wy"]
    deriv = 1 - cache["h"] ** 2 if activation == "tanh" else (cache["h_tilde"] > 0).astype(float)
    dht = dh * deriv
    return {"Wh": dht.T @ X, "bh": np.sum(dht, axis=0), "Wy": dy.T @ cache["h"], "by": np.sum(dy, axis=0)}

# %%
def sgd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
    return params

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    params = {k: v.copy() for k, v in params.items()}
    history = []
    for epoch in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            b = perm[s:s + batch_size]
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
