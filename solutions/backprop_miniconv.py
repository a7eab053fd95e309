"""Exercice 1: backpropagation through a mini convolution network with shared weights.

Model for one example x = (x1, x2, x3) and W = (w1, w2, v1, v2):
a1 = x1 w1 + x2 w2, a2 = x2 w1 + x3 w2, o_k = max(0, a_k), y_hat = o1 v1 + o2 v2,
loss = 1/2 (y - y_hat)^2.
"""

from __future__ import annotations

import numpy as np

PLATEAU_WINDOW = 50
"""Number of iterations averaged on each side when ``should_stop`` looks for a plateau."""


def relu_derivative(a: float) -> float:
    """H(a) = 1 if a > 0 else 0 (the convention H(0) = 0)."""
    return 1.0 if a > 0 else 0.0


def forward(W, x) -> tuple[float, dict[str, float]]:
    """Forward pass: the prediction and the intermediate values backward needs."""
    w1, w2, v1, v2 = np.asarray(W, dtype=np.float64)
    x1, x2, x3 = np.asarray(x, dtype=np.float64)
    a1 = x1 * w1 + x2 * w2
    a2 = x2 * w1 + x3 * w2
    o1 = max(0.0, a1)
    o2 = max(0.0, a2)
    y_hat = o1 * v1 + o2 * v2
    cache = {"a1": float(a1), "a2": float(a2), "o1": float(o1), "o2": float(o2)}
    return float(y_hat), cache


def loss(y: float, y_hat: float) -> float:
    """Squared error 1/2 (y - y_hat)^2."""
    return 0.5 * float(y - y_hat) ** 2


def backward(W, x, y) -> np.ndarray:
    """Gradient [dl/dw1, dl/dw2, dl/dv1, dl/dv2] by the chain rule.

    With e = y - y_hat: dl/dv_k = -e o_k; the shared weights collect one term per
    position where they are used: dl/dw1 = d1 x1 + d2 x2, dl/dw2 = d1 x2 + d2 x3,
    where d_k = dl/da_k = -e v_k H(a_k).
    """
    v1, v2 = np.asarray(W, dtype=np.float64)[2:]
    x1, x2, x3 = np.asarray(x, dtype=np.float64)
    y_hat, cache = forward(W, x)
    e = y - y_hat
    d1 = -e * v1 * relu_derivative(cache["a1"])
    d2 = -e * v2 * relu_derivative(cache["a2"])
    return np.array([d1 * x1 + d2 * x2, d1 * x2 + d2 * x3, -e * cache["o1"], -e * cache["o2"]])


def should_stop(losses, max_iter: int, tol: float) -> bool:
    """Stop at ``max_iter`` iterations, or (tol > 0) once the loss has stopped improving.

    Single-example losses are noisy, so the plateau test compares the mean of the last
    ``PLATEAU_WINDOW`` losses with the mean of the window before: a relative change
    below ``tol`` means a plateau.
    """
    if len(losses) >= max_iter:
        return True
    if tol <= 0 or len(losses) < 2 * PLATEAU_WINDOW:
        return False
    recent = float(np.mean(losses[-PLATEAU_WINDOW:]))
    before = float(np.mean(losses[-2 * PLATEAU_WINDOW : -PLATEAU_WINDOW]))
    return abs(before - recent) <= tol * max(abs(before), np.finfo(np.float64).tiny)


def train(
    X, Y, W0, alpha: float, rng: np.random.Generator, max_iter: int = 1000, tol: float = 1e-6
):
    """Stochastic gradient descent, one randomly drawn example per iteration.

    The loss recorded at each iteration is the one of the drawn example before the update.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    W = np.array(W0, dtype=np.float64)
    losses: list[float] = []
    while True:
        if should_stop(losses, max_iter, tol):
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
