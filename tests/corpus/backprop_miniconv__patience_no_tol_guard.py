# %%
# expect: {"wrong": ["should_stop", "train"], "mistake": "patience sans garde tol == 0 (s'arrête sur un plateau même avec tol = 0) ; train tire avec rng.integers(len(X) - 1), le dernier exemple n'est jamais choisi"}
import numpy as np

# %%
def forward(W, x):
    w1, w2, v1, v2 = W
    a1 = x[0] * w1 + x[1] * w2
    a2 = x[1] * w1 + x[2] * w2
    o1, o2 = max(0.0, a1), max(0.0, a2)
    return o1 * v1 + o2 * v2, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

def backward(W, x, y):
    w1, w2, v1, v2 = W
    y_hat, c = forward(W, x)
    e = y - y_hat
    H1, H2 = float(c["a1"] > 0), float(c["a2"] > 0)
    return np.array([-e * (v1 * H1 * x[0] + v2 * H2 * x[1]), -e * (v1 * H1 * x[1] + v2 * H2 * x[2]),
                     -e * c["o1"], -e * c["o2"]])

# %%
def should_stop(losses, max_iter, tol, patience=100):
    if len(losses) >= max_iter:
        return True
    if len(losses) <= patience:
        return False
    best_old = min(losses[:-patience])
    # aucune amélioration de plus de tol depuis `patience` itérations
    return min(losses[-patience:]) >= best_old - tol

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float)
    losses = []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X) - 1)
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
