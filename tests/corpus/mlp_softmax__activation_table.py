# %%
# expect: {"wrong": [], "mistake": ""}
# Table des activations (fonction, dérivée) ; backward passe par grad_logits ; train copie les paramètres.
import numpy as np

ACTIVATIONS = {
    "tanh": (np.tanh, lambda h_tilde, h: 1.0 - h ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda h_tilde, h: (h_tilde > 0).astype(float)),
}

# %%
def init_params(nx, nh, ny, rng):
    Wh, Wy = rng.normal(size=(nh, nx)) * 0.1, rng.normal(size=(ny, nh)) * 0.1
    return dict(Wh=Wh, bh=np.zeros(nh), Wy=Wy, by=np.zeros(ny))

def softmax(Z):
    shifted = Z - np.amax(Z, axis=1, keepdims=True)
    num = np.exp(shifted)
    return num / np.sum(num, axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    f, _ = ACTIVATIONS[activation]
    h_tilde = np.einsum("ij,kj->ik", X, params["Wh"]) + params["bh"]
    h = f(h_tilde)
    y_tilde = np.einsum("ij,kj->ik", h, params["Wy"]) + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    ce = -np.sum(Y * np.log(np.clip(Y_hat, 1e-15, 1.0)), axis=1)
    return float(ce.mean()), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    _, df = ACTIVATIONS[activation]
    n = X.shape[0]
    G = grad_logits(cache["y_hat"], Y) / n
    Gh = (G @ params["Wy"]) * df(cache["h_tilde"], cache["h"])
    return {"Wh": np.einsum("ik,ij->kj", Gh, X), "bh": Gh.sum(0),
            "Wy": np.einsum("ik,ij->kj", G, cache["h"]), "by": G.sum(0)}

def sgd_step(params, grads, lr):
    return {k: np.subtract(params[k], lr * grads[k]) for k in params}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    p = {k: np.array(v, dtype=float, copy=True) for k, v in params.items()}
    history = []
    n = len(X)
    for epoch in range(epochs):
        perm = rng.permutation(n)
        for batch in (perm[s:s + batch_size] for s in range(0, n, batch_size)):
            yh, cache = forward(p, X[batch], activation=activation)
            p = sgd_step(p, backward(p, X[batch], Y[batch], cache, activation=activation), lr)
        history.append(loss_accuracy(forward(p, X, activation=activation)[0], Y)[0])
    return p, history
