"""Exercice 2: the effect of the batch size on one epoch of SGD.

One neuron, no bias, identity activation: y_hat = w x, loss = 1/2 (y - y_hat)^2,
so dl/dw = -x (y - w x). The sheet writes the gradient as x (y - y_hat), which is
its negative; its table of results is wrong too (see CONTRACT.md).
"""

from __future__ import annotations

import numpy as np

SHEET_X = np.array([1.0, 2.0, 3.0, 4.0])
SHEET_Y = np.array([2.0, 4.0, 6.0, 8.0])


def predict(w: float, x):
    """The model's output w x, for a scalar or an array x."""
    return w * np.asarray(x, dtype=np.float64) if np.ndim(x) else w * float(x)


def batch_gradient(w: float, xb, yb) -> float:
    """Mean over the batch of dl/dw = -x (y - w x)."""
    xb = np.asarray(xb, dtype=np.float64)
    yb = np.asarray(yb, dtype=np.float64)
    return float(np.mean(-xb * (yb - predict(w, xb))))


def sgd_epoch(w0: float, X, Y, alpha: float, batch_size: int) -> tuple[float, int]:
    """One epoch over the batches taken in data order; the N mod n_b leftovers are not used."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    w = float(w0)
    n_updates = len(X) // batch_size
    for b in range(n_updates):
        batch = slice(b * batch_size, (b + 1) * batch_size)
        w = w - alpha * batch_gradient(w, X[batch], Y[batch])
    return w, n_updates
