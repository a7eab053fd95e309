# %%
# expect: {"wrong": []}
# %%
import numpy as np


class MiniConvNet:
    kernel_size = 2

    def _pre_activations(self, w, x):
        return np.array([x[j:j + self.kernel_size] @ w for j in range(len(x) - 1)])

    def forward(self, W, x):
        W = np.asarray(W, dtype=np.float64)
        x = np.asarray(x, dtype=np.float64)
        a = self._pre_activations(W[:2], x)
        o = np.maximum(0.0, a)
        y_hat = float(o @ W[2:])
        return y_hat, {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}

    @staticmethod
    def loss(y, y_hat):
        return 0.5 * float(y - y_hat) ** 2

    def backward(self, W, x, y):
        W = np.asarray(W, dtype=np.float64)
        x = np.asarray(x, dtype=np.float64)
        y_hat, cache = self.forward(W, x)
        a = np.array([cache["a1"], cache["a2"]])
        o = np.array([cache["o1"], cache["o2"]])
        e = y_hat - y
        d_a = e * W[2:] * np.greater(a, 0).astype(np.float64)
        d_w = np.zeros(2)
        for j in range(len(d_a)):
            d_w += d_a[j] * x[j:j + self.kernel_size]
        return np.concatenate((d_w, e * o))

# %%
class Trainer:
    def __init__(self, model, window=40):
        self.model = model
        self.window = window

    def should_stop(self, losses, max_iter, tol):
        if len(losses) >= max_iter:
            return True
        k = self.window
        if tol <= 0 or len(losses) < 2 * k:
            return False
        before = np.mean(losses[-2 * k:-k])
        after = np.mean(losses[-k:])
        return bool(abs(before - after) <= tol * before)   # la moyenne ne bouge plus

    def train(self, X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
        W = np.array(W0, dtype=np.float64)
        losses = []
        while True:
            if self.should_stop(losses, max_iter, tol):
                break
            i = rng.integers(len(X))
            y_hat, _ = self.model.forward(W, X[i])
            losses.append(self.model.loss(Y[i], y_hat))
            W = W - alpha * self.model.backward(W, X[i], Y[i])
        return W, losses

# %%
_net = MiniConvNet()
_trainer = Trainer(_net)

forward = _net.forward
loss = _net.loss
backward = _net.backward
should_stop = _trainer.should_stop
train = _trainer.train
