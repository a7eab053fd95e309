# %%
# expect: {"wrong": [], "mistake": ""}
# Notebook « complet » : fonctions auxiliaires, vérification numérique du gradient, démo d'entraînement.
# Critère : amplitude (max - min) des 50 dernières pertes petite devant leur moyenne.
import numpy as np
# import matplotlib.pyplot as plt   # (graphiques désactivés pour le rendu)

# %%
def relu(a):
    return np.maximum(0.0, a)

def relu_prime(a):
    return 1.0 if a > 0 else 0.0

def forward(W, x):
    w1, w2, v1, v2 = W
    a1 = x[0] * w1 + x[1] * w2
    a2 = x[1] * w1 + x[2] * w2
    o1, o2 = float(relu(a1)), float(relu(a2))
    return o1 * v1 + o2 * v2, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

def loss(y, y_hat):
    return 0.5 * (y - y_hat) ** 2

def backward(W, x, y):
    w1, w2, v1, v2 = W
    y_hat, c = forward(W, x)
    e = y - y_hat
    # dérivée en chaîne : dl/dw1 = dl/dy_hat * (dy_hat/do1 * do1/da1 * da1/dw1 + dy_hat/do2 * do2/da2 * da2/dw1)
    dw1 = -e * (v1 * relu_prime(c["a1"]) * x[0] + v2 * relu_prime(c["a2"]) * x[1])
    dw2 = -e * (v1 * relu_prime(c["a1"]) * x[1] + v2 * relu_prime(c["a2"]) * x[2])
    return np.array([dw1, dw2, -e * c["o1"], -e * c["o2"]])

# %%
def numerical_grad(W, x, y, h=1e-6):
    g = np.zeros(4)
    for k in range(4):
        Wp, Wm = np.array(W, float), np.array(W, float)
        Wp[k] += h
        Wm[k] -= h
        g[k] = (loss(y, forward(Wp, x)[0]) - loss(y, forward(Wm, x)[0])) / (2 * h)
    return g

_r = np.random.default_rng(0)
_W, _x = _r.normal(size=4), _r.normal(size=3)
print("écart gradient analytique / numérique :", np.max(np.abs(backward(_W, _x, 1.0) - numerical_grad(_W, _x, 1.0))))

# %%
def should_stop(losses, max_iter, tol, window=50):
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < window:
        return False
    last = np.asarray(losses[-window:])
    return bool(last.max() - last.min() <= tol * max(abs(last.mean()), 1e-12))

# %%
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W = np.array(W0, dtype=float, copy=True)
    losses = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses

# %%
# Démo : données générées par un « vrai » W
_rng = np.random.default_rng(42)
_X = _rng.normal(size=(50, 3))
_Wtrue = np.array([1.0, -0.5, 2.0, 1.0])
_Y = np.array([forward(_Wtrue, xi)[0] for xi in _X])
_W, _L = train(_X, _Y, np.array([0.5, 0.5, 0.5, 0.5]), 0.05, np.random.default_rng(0), max_iter=2000)
print("W appris :", _W, "nb itérations :", len(_L), "perte moyenne fin :", np.mean(_L[-50:]))
# plt.plot(_L); plt.yscale("log"); plt.show()
