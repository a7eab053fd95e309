"""Submissions written from CONTRACT.md alone, in another style than the reference."""

MINICONV = [
    "import numpy as np",
    """
def forward(W, x):
    w1, w2, v1, v2 = W
    pre = np.array([x[0] * w1 + x[1] * w2, x[1] * w1 + x[2] * w2])
    out = np.where(pre > 0, pre, 0.0)
    return out @ np.array([v1, v2]), dict(a1=pre[0], a2=pre[1], o1=out[0], o2=out[1])

def loss(y, y_hat):
    return (y - y_hat) ** 2 / 2
""",
    """
def backward(W, x, y):
    y_hat, c = forward(W, x)
    g = y_hat - y
    steps = [1.0 if c["a1"] > 0 else 0.0, 1.0 if c["a2"] > 0 else 0.0]
    da = [g * W[2] * steps[0], g * W[3] * steps[1]]
    return [da[0] * x[0] + da[1] * x[1], da[0] * x[1] + da[1] * x[2], g * c["o1"], g * c["o2"]]
""",
    """
def should_stop(losses, max_iter, tol):
    if len(losses) >= max_iter:
        return True
    if tol == 0 or len(losses) < 200:
        return False
    old, new = np.mean(losses[-200:-100]), np.mean(losses[-100:])
    return old - new <= tol * old
""",
    """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.copy(W0).astype(float)
    history = []
    while not should_stop(history, max_iter, tol):
        i = rng.integers(len(X))
        history.append(loss(Y[i], forward(W, X[i])[0]))
        W -= alpha * np.asarray(backward(W, X[i], Y[i]))
    return W, history
""",
]

SGD = [
    """
import numpy as np

def predict(w, x):
    return w * np.asarray(x, dtype=float)

def batch_gradient(w, xb, yb):
    return sum(-xi * (yi - w * xi) for xi, yi in zip(xb, yb)) / len(xb)

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, n = w0, 0
    for b in range(len(X) // batch_size):
        part = slice(b * batch_size, (b + 1) * batch_size)
        w -= alpha * batch_gradient(w, X[part], Y[part])
        n += 1
    return w, n
""",
]

MLP = [
    """
import numpy as np

def init_params(nx, nh, ny, rng):
    return dict(Wh=0.1 * rng.standard_normal((nh, nx)), bh=np.zeros(nh),
                Wy=0.1 * rng.standard_normal((ny, nh)), by=np.zeros(ny))

def softmax(Z):
    Z = np.asarray(Z, dtype=float)
    e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def forward(params, X, activation="tanh"):
    ht = X @ params["Wh"].T + params["bh"]
    h = np.tanh(ht) if activation == "tanh" else np.maximum(0, ht)
    yt = h @ params["Wy"].T + params["by"]
    yh = softmax(yt)
    return yh, {"h_tilde": ht, "h": h, "y_tilde": yt, "y_hat": yh}
""",
    """
def loss_accuracy(Y_hat, Y):
    L = -np.sum(Y * np.log(np.clip(Y_hat, 1e-12, 1.0))) / len(Y)
    return L, np.mean(Y_hat.argmax(1) == Y.argmax(1))

def grad_logits(Y_hat, Y):
    return Y_hat - Y

def backward(params, X, Y, cache, activation="tanh"):
    dyt = (cache["y_hat"] - Y) / X.shape[0]
    dh = dyt @ params["Wy"]
    if activation == "tanh":
        dht = dh * (1 - np.tanh(cache["h_tilde"]) ** 2)
    else:
        dht = dh * (cache["h_tilde"] > 0)
    return {"Wh": dht.T @ X, "bh": dht.sum(0), "Wy": dyt.T @ cache["h"], "by": dyt.sum(0)}

def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}

def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            _, cache = forward(params, X[idx], activation)
            params = sgd_step(params, backward(params, X[idx], Y[idx], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
""",
]

INDEPENDENT = {"backprop_miniconv": MINICONV, "sgd_batch_size": SGD, "mlp_softmax": MLP}
