"""TP1: a one-hidden-layer network with SoftMax output and cross-entropy loss.

Batch-first shapes: X is (n, nx), Y one-hot (n, ny); params Wh (nh, nx), bh (nh,),
Wy (ny, nh), by (ny,). Gradients are those of the mean loss over the batch.
"""

from __future__ import annotations

import numpy as np

LOG_FLOOR = 1e-300
"""Probabilities are floored here before the log, so a saturated SoftMax gives a finite loss."""


def init_params(nx: int, nh: int, ny: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Small random weights (scaled by the fan-in) and zero biases."""
    return {
        "Wh": rng.normal(0.0, 1.0 / np.sqrt(nx), size=(nh, nx)),
        "bh": np.zeros(nh),
        "Wy": rng.normal(0.0, 1.0 / np.sqrt(nh), size=(ny, nh)),
        "by": np.zeros(ny),
    }


def softmax(Z) -> np.ndarray:
    """Row-wise SoftMax; subtracting each row's max keeps exp() from overflowing."""
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def activate(h_tilde: np.ndarray, activation: str) -> np.ndarray:
    """The hidden non-linearity sigma."""
    if activation == "tanh":
        return np.tanh(h_tilde)
    if activation == "relu":
        return np.maximum(h_tilde, 0.0)
    raise ValueError(f"unknown activation {activation!r}")


def activation_derivative(h_tilde: np.ndarray, h: np.ndarray, activation: str) -> np.ndarray:
    """sigma'(h_tilde), written with h = sigma(h_tilde) where that is simpler."""
    if activation == "tanh":
        return 1.0 - h**2
    if activation == "relu":
        return (h_tilde > 0).astype(np.float64)
    raise ValueError(f"unknown activation {activation!r}")


def forward(params, X, activation: str = "tanh"):
    """Forward pass; the cache keeps what backward needs."""
    X = np.asarray(X, dtype=np.float64)
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = activate(h_tilde, activation)
    y_tilde = h @ params["Wy"].T + params["by"]
    y_hat = softmax(y_tilde)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}


def loss_accuracy(Y_hat, Y) -> tuple[float, float]:
    """Mean cross-entropy and the share of rows whose argmax agrees with the label."""
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    L = -np.mean(np.sum(Y * np.log(np.maximum(Y_hat, LOG_FLOOR)), axis=1))
    acc = np.mean(np.argmax(Y_hat, axis=1) == np.argmax(Y, axis=1))
    return float(L), float(acc)


def grad_logits(Y_hat, Y) -> np.ndarray:
    """d l_i / d y_tilde_i = y_hat_i - y_i for SoftMax followed by cross-entropy (question 15)."""
    return np.asarray(Y_hat, dtype=np.float64) - np.asarray(Y, dtype=np.float64)


def backward(params, X, Y, cache, activation: str = "tanh") -> dict[str, np.ndarray]:
    """Gradients of the mean loss: each example's gradient divided by n, biases summed over rows."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    delta_y = grad_logits(cache["y_hat"], Y) / n
    delta_h = (delta_y @ params["Wy"]) * activation_derivative(
        cache["h_tilde"], cache["h"], activation
    )
    return {
        "Wy": delta_y.T @ cache["h"],
        "by": delta_y.sum(axis=0),
        "Wh": delta_h.T @ X,
        "bh": delta_h.sum(axis=0),
    }


def sgd_step(params, grads, lr: float) -> dict[str, np.ndarray]:
    """One gradient step; returns new arrays and leaves ``params`` untouched."""
    return {name: params[name] - lr * grads[name] for name in params}


def train(params, X, Y, lr: float, batch_size: int, epochs: int, rng, activation: str = "tanh"):
    """Mini-batch SGD over a fresh permutation each epoch; history holds the loss after each epoch."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n = X.shape[0]
    history: list[float] = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = perm[start : start + batch_size]
            _, cache = forward(params, X[batch], activation)
            grads = backward(params, X[batch], Y[batch], cache, activation)
            params = sgd_step(params, grads, lr)
        Y_hat, _ = forward(params, X, activation)
        history.append(loss_accuracy(Y_hat, Y)[0])
    return params, history
