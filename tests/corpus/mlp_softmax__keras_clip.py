# %%
# expect: {"wrong": [], "mistake": ""}
# Perte avec np.clip(Y_hat, 1e-7, 1 - 1e-7) « comme Keras » ; initialisation de Xavier.
import numpy as np

EPS = 1e-7

# %%
def init_params(nx, nh, ny, rng):
    Wh = rng.uniform(-1, 1, size=(nh, nx)) * np.sqrt(6 / (nx + nh))
    Wy = rng.uniform(-1, 1, size=(ny, nh)) * np.sqrt(6 / (nh + ny))
    return {"Wh": Wh, "bh": np.zeros(nh), "Wy": Wy, "by": np.zeros(ny)}

def softmax(Z):
    m = Z.max(axis=1, keepdims=True)
    e = np.exp(Z - m)
    return e / e.sum(axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    act = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0.0))
    h_tilde = X.dot(params["Wh"].T) + params["bh"]
    h = act(h_tilde)
    y_tilde = h.dot(params["Wy"].T) + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, dict(h_tilde=h_tilde, h=h, y_tilde=y_tilde, y_hat=y_hat)

def loss_accuracy(Y_hat, Y):
    P = np.clip(Y_hat, EPS, 1 - EPS)
    L = -np.mean(np.sum(Y * np.log(P), axis=1))
    acc = (Y_hat.argmax(1) == Y.argmax(1)).mean()
    return float(L), float(acc)

# %%
def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = len(X)
    delta_y = (cache["y_hat"] - Y) / n
    grads = {"Wy": delta_y.T.dot(cache["h"]), "by": delta_y.sum(0)}
    delta_h = delta_y.dot(params["Wy"])
    if activation == "tanh":
        delta_h = delta_h * (1.0 - np.tanh(cache["h_tilde"]) ** 2)
    elif activation == "relu":
        delta_h = delta_h * (cache["h_tilde"] > 0).astype(float)
    grads["Wh"] = delta_h.T.dot(X)
    grads["bh"] = delta_h.sum(0)
    return grads

def sgd_step(params, grads, lr):
    new = {}
    for name, value in params.items():
        new[name] = value - lr * grads[name]
    return new

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for _ in range(epochs):
        perm = rng.permutation(X.shape[0])
        Xs, Ys = X[perm], Y[perm]
        for s in range(0, X.shape[0], batch_size):
            xb, yb = Xs[s:s + batch_size], Ys[s:s + batch_size]
            _, cache = forward(params, xb, activation)
            params = sgd_step(params, backward(params, xb, yb, cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
