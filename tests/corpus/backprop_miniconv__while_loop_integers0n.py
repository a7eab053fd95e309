# %%
# expect: {"wrong": [], "mistake": ""}
# Boucle `while not should_stop`, tirage écrit rng.integers(0, n) (même tirage que rng.integers(n)).
# Critère : la moyenne des 100 dernières pertes ne baisse plus (relativement) par rapport aux 100 précédentes.
import numpy as np

# %%
def forward(W, x):
    a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
    o = np.where(a > 0, a, 0.0)
    y_hat = o[0] * W[2] + o[1] * W[3]
    return float(y_hat), {"a1": float(a[0]), "a2": float(a[1]), "o1": float(o[0]), "o2": float(o[1])}

def loss(y, y_hat):
    return 0.5 * np.square(y - y_hat)

def backward(W, x, y):
    y_hat, c = forward(W, x)
    dy = y_hat - y                      # dl/dy_hat = -(y - y_hat)
    do1, do2 = dy * W[2], dy * W[3]
    da1 = do1 * (c["a1"] > 0)
    da2 = do2 * (c["a2"] > 0)
    return np.array([da1 * x[0] + da2 * x[1], da1 * x[1] + da2 * x[2], dy * c["o1"], dy * c["o2"]], dtype=float)

# %%
def should_stop(losses, max_iter, tol):
    n = len(losses)
    if n >= max_iter:
        return True
    if tol > 0 and n >= 200:
        m_old = np.mean(losses[-200:-100])
        m_new = np.mean(losses[-100:])
        return bool((m_old - m_new) <= tol * (abs(m_old) + 1e-12))
    return False

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = W0.copy()
    losses = []
    n = X.shape[0]
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(0, n)
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
