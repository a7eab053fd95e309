"""Known, deliberately simple functions that replace a student's own during one call.

Grading a training loop with the student's forward and backward passes would charge a
wrong gradient twice. During the training-loop checks these stand-ins take their place
(in the student's namespace and in the reference alike), so the loop is graded on its
mechanics alone: which example or batch is drawn, when the loss is recorded, how the
update is applied. They are not the solutions: none computes the exercise's maths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def miniconv_forward(W, x):
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y_hat = float(W[:3] @ x + W[3])
    return y_hat, {"a1": y_hat, "a2": y_hat, "o1": y_hat, "o2": y_hat}


def miniconv_loss(y, y_hat):
    return float(abs(y - y_hat))


def miniconv_backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    features = np.append(np.asarray(x, dtype=np.float64), 1.0)
    return np.sign(W @ features - y) * features * 0.5 + 0.01 * W


def miniconv_should_stop(losses, max_iter, tol):
    return len(losses) >= max_iter


def epoch_batch_gradient(w, xb, yb):
    xb = np.asarray(xb, dtype=np.float64)
    yb = np.asarray(yb, dtype=np.float64)
    return float(np.sum(xb) - np.mean(yb) * w / 4.0)


def mlp_forward(params, X, activation="tanh"):
    X = np.asarray(X, dtype=np.float64)
    logits = np.tanh(X @ params["Wh"].T) @ params["Wy"].T + params["by"] + params["bh"].sum()
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    y_hat = shifted / shifted.sum(axis=1, keepdims=True)
    return y_hat, {"h_tilde": logits, "h": logits, "y_tilde": logits, "y_hat": y_hat}


def mlp_backward(params, X, Y, cache, activation="tanh"):
    X = np.asarray(X, dtype=np.float64)
    scale = float(np.sum(X) - np.sum(Y)) / 10.0
    return {name: np.cos(value) * scale for name, value in params.items()}


def mlp_sgd_step(params, grads, lr):
    return {name: params[name] - lr * grads[name] for name in params}


def mlp_loss_accuracy(Y_hat, Y):
    # The plain cross-entropy of the contract: a student whose loop computes the epoch loss
    # inline, rather than through loss_accuracy, records the same history. The stand-in
    # forward pass never gives a zero probability, so no floor is needed here.
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    loss = -np.mean(np.sum(Y * np.log(Y_hat), axis=1))
    return float(loss), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))


STANDINS: dict[str, Callable[..., Any]] = {
    "miniconv_forward": miniconv_forward,
    "miniconv_loss": miniconv_loss,
    "miniconv_backward": miniconv_backward,
    "miniconv_should_stop": miniconv_should_stop,
    "epoch_batch_gradient": epoch_batch_gradient,
    "mlp_forward": mlp_forward,
    "mlp_backward": mlp_backward,
    "mlp_sgd_step": mlp_sgd_step,
    "mlp_loss_accuracy": mlp_loss_accuracy,
}
