# %%
# expect: {"wrong": [], "mistake": ""}
# train refait tout lui-même (passe avant, gradients, mise à jour, perte de l'epoch) sans appeler les fonctions.
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    return {"Wh": rng.normal(size=(nh, nx)) / np.sqrt(nx), "bh": np.zeros(nh),
            "Wy": rng.normal(size=(ny, nh)) / np.sqrt(nh), "by": np.zeros(ny)}

def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    ht = X @ params["Wh"].T + params["bh"]
    h = np.tanh(ht) if activation == "tanh" else np.maximum(ht, 0)
    yt = h @ params["Wy"].T + params["by"]
    yh = softmax(yt)
    return yh, {"h_tilde": ht, "h": h, "y_tilde": yt, "y_hat": yh}

def loss_accuracy(Y_hat, Y):
    L = -np.mean(np.log(np.maximum(Y_hat[Y.astype(bool)], 1e-15)))
    return float(L), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    d = (cache["y_hat"] - Y) / n
    dh = d @ params["Wy"]
    dht = dh * (1 - cache["h"] ** 2) if activation == "tanh" else dh * (cache["h_tilde"] > 0)
    return {"Wh": dht.T @ X, "bh": dht.sum(0), "Wy": d.T @ cache["h"], "by": d.sum(0)}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

# %%
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    Wh, bh, Wy, by = (np.array(params[k], dtype=float) for k in ("Wh", "bh", "Wy", "by"))
    relu = activation == "relu"
    n = X.shape[0]
    history = []
    for epoch in range(epochs):
        perm = rng.permutation(n)
        for s in range(0, n, batch_size):
            xb, yb = X[perm[s:s + batch_size]], Y[perm[s:s + batch_size]]
            m = xb.shape[0]
            ht = xb @ Wh.T + bh
            h = np.maximum(ht, 0) if relu else np.tanh(ht)
            z = h @ Wy.T + by
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d = (p - yb) / m
            dht = (d @ Wy) * ((ht > 0) if relu else (1 - h ** 2))
            Wy, by = Wy - lr * d.T @ h, by - lr * d.sum(0)
            Wh, bh = Wh - lr * dht.T @ xb, bh - lr * dht.sum(0)
        # perte moyenne sur tout le jeu après l'epoch
        H = X @ Wh.T + bh
        H = np.maximum(H, 0) if relu else np.tanh(H)
        Z = H @ Wy.T + by
        logp = Z - Z.max(1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
        history.append(float(-(Y * logp).sum() / n))
    return {"Wh": Wh, "bh": bh, "Wy": Wy, "by": by}, history
