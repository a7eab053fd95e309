# %%
# expect: {"wrong": ["init_params", "train"], "mistake": "utilise le générateur global np.random au lieu de rng (init_params avec np.random.randn, train avec np.random.permutation) : non reproductible"}
import numpy as np

# %%
def init_params(nx, nh, ny, rng):
    Wh = np.random.randn(nh, nx) * 0.01
    Wy = np.random.randn(ny, nh) * 0.01
    return {"Wh": Wh, "bh": np.zeros(nh), "Wy": Wy, "by": np.zeros(ny)}

def softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)

def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else np.maximum(h_tilde, 0)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}

def loss_accuracy(Y_hat, Y):
    L = -np.sum(Y * np.log(Y_hat + 1e-9)) / Y.shape[0]
    return float(L), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    m = X.shape[0]
    dZ2 = grad_logits(cache["y_hat"], Y)
    dW2 = dZ2.T @ cache["h"] / m
    db2 = dZ2.sum(axis=0) / m
    dA1 = dZ2 @ params["Wy"]
    dZ1 = dA1 * (1 - cache["h"] ** 2) if activation == "tanh" else dA1 * (cache["h_tilde"] > 0)
    return {"Wh": dZ1.T @ X / m, "bh": dZ1.sum(axis=0) / m, "Wy": dW2, "by": db2}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

# %%
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for epoch in range(epochs):
        perm = np.random.permutation(X.shape[0])
        for s in range(0, X.shape[0], batch_size):
            b = perm[s:s + batch_size]
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
