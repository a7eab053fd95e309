# %%
# expect: {"wrong": ["softmax"], "mistake": "SoftMax stabilisée avec le max global np.max(Z) au lieu du max de chaque ligne : 0/0 = nan pour une ligne très en dessous des autres (ex. [[1000, 0], [0, 1]]) ; forward recopie une SoftMax stable et ne l'appelle pas"}
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    W1 = rng.normal(size=(nh, nx)) * 0.1
    W2 = rng.normal(size=(ny, nh)) * 0.1
    return {"Wh": W1, "bh": np.zeros(nh), "Wy": W2, "by": np.zeros(ny)}

def softmax(Z):
    e = np.exp(Z - np.max(Z))
    return e / np.sum(e, axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else np.maximum(h_tilde, 0)
    y_tilde = h @ params["Wy"].T + params["by"]
    # SoftMax recopiée ici (version stable du cours)
    e = np.exp(y_tilde - y_tilde.max(axis=1, keepdims=True))
    y_hat = e / e.sum(axis=1, keepdims=True)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    L = -np.sum(Y * np.log(np.maximum(Y_hat, 1e-12))) / len(Y)
    return float(L), float(np.mean(np.argmax(Y_hat, 1) == np.argmax(Y, 1)))

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    n = len(X)
    d = grad_logits(cache["y_hat"], Y) / n
    dht = (d @ params["Wy"]) * (1 - cache["h"] ** 2 if activation == "tanh" else cache["h_tilde"] > 0)
    return {"Wh": dht.T @ X, "bh": dht.sum(0), "Wy": d.T @ cache["h"], "by": d.sum(0)}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            b = perm[s:s + batch_size]
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
