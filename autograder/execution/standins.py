"""Known, deliberately simple functions that replace a student's own during one call.

A training loop is graded twice: with the student's own functions, and with these
stand-ins in their place (in the student's namespace and in the reference alike), so
that a wrong forward or backward pass does not cost the loop's points too: the loop is
then graded on its mechanics alone (which example or batch is drawn, when the loss is
recorded, how the update is applied).

This file is readable from the sandbox, hence from a student's notebook: the stand-ins
for the graded non-trivial functions (forward and backward passes, batch gradient) are
not the exercise's maths and earn nothing as answers. Where the contract states a
one-line formula (the loss ½(y − ŷ)², ŷ = w·x, the plain cross-entropy, exp/Σexp, Ŷ − Y,
the step θ − lr·∇, the stopping rule at max_iter), the stand-in *is* that formula, so
that a loop computing it inline on the stand-ins' values gives exactly what calling the
stand-in gives. (The SoftMax stand-in has no shift: it fails the large-logits check.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def miniconv_forward(W, x):
    # Not the exercise's forward pass: a1 and a2 do not depend on the weights, and o_k is
    # bounded by 1. Its cache is consistent (o_k > 0 exactly when a_k > 0, ŷ = o1 v1 + o2 v2),
    # so a loop that differentiates inline from it computes what a backward pass would,
    # and SGD on it stays bounded whatever gradient formula drives the weights.
    W = np.asarray(W, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    a1, a2 = float(x[0] - x[1]), float(x[2] - x[1])
    o1, o2 = max(0.0, float(np.tanh(a1))), max(0.0, float(np.tanh(a2)))
    y_hat = float(o1 * W[2] + o2 * W[3])
    return y_hat, {"a1": a1, "a2": a2, "o1": o1, "o2": o2}


def miniconv_loss(y, y_hat):
    # The sheet's loss: a loop appending 0.5 * (y - y_hat) ** 2 itself records the same.
    return 0.5 * float(y - y_hat) ** 2


def miniconv_backward(W, x, y):
    W = np.asarray(W, dtype=np.float64)
    features = np.append(np.asarray(x, dtype=np.float64), 1.0)
    return np.sign(W @ features - y) * features * 0.5 + 0.01 * W


def miniconv_should_stop(losses, max_iter, tol):
    return len(losses) >= max_iter


def epoch_predict(w, x):
    # The sheet's ŷ = w·x: an epoch computing its gradient inline with predict gets it right.
    return w * np.asarray(x, dtype=np.float64) if np.ndim(x) else w * float(x)


def epoch_batch_gradient(w, xb, yb):
    xb = np.asarray(xb, dtype=np.float64)
    yb = np.asarray(yb, dtype=np.float64)
    return float(np.sum(xb) - np.mean(yb) * w / 4.0)


def mlp_forward(params, X, activation="tanh"):
    # Not the exercise's forward pass (the bias subtracted, logits squashed into [-3, 3]),
    # but its cache is consistent, with the contract's shapes: h = σ(h_tilde) for the
    # activation asked, y_hat is the SoftMax of y_tilde. A loop that differentiates inline
    # from this cache then computes what a backward pass would; a loop that does not pass
    # its activation on gets another result.
    X = np.asarray(X, dtype=np.float64)
    h_tilde = X @ params["Wh"].T - params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else np.maximum(h_tilde, 0.0)
    y_tilde = 3.0 * np.tanh(h @ params["Wy"].T + params["by"])
    exponentials = np.exp(y_tilde)  # |y_tilde| <= 3: no overflow to guard against
    y_hat = exponentials / exponentials.sum(axis=1, keepdims=True)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}


def mlp_softmax(Z):
    # The SoftMax's definition, without the shift that the graded softmax needs for logits
    # of 1000: inside a training loop the logits stay moderate, and the values agree.
    exponentials = np.exp(np.asarray(Z, dtype=np.float64))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def mlp_grad_logits(Y_hat, Y):
    # The contract's Y_hat − Y.
    return np.asarray(Y_hat, dtype=np.float64) - np.asarray(Y, dtype=np.float64)


def mlp_backward(params, X, Y, cache, activation="tanh"):
    X = np.asarray(X, dtype=np.float64)
    scale = float(np.sum(X) - np.sum(Y)) / 10.0
    return {name: np.cos(value) * scale for name, value in params.items()}


def mlp_sgd_step(params, grads, lr):
    return {name: params[name] - lr * grads[name] for name in params}


def mlp_loss_accuracy(Y_hat, Y):
    # The plain cross-entropy of the contract: a student whose loop computes the epoch loss
    # inline, rather than through loss_accuracy, records the same history. The stand-in
    # forward pass gives probabilities between 5e-4 and 1 - 2e-3, so no floor or clip
    # changes it.
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    loss = -np.mean(np.sum(Y * np.log(Y_hat), axis=1))
    return float(loss), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))


STANDINS: dict[str, Callable[..., Any]] = {
    "miniconv_forward": miniconv_forward,
    "miniconv_loss": miniconv_loss,
    "miniconv_backward": miniconv_backward,
    "miniconv_should_stop": miniconv_should_stop,
    "epoch_predict": epoch_predict,
    "epoch_batch_gradient": epoch_batch_gradient,
    "mlp_forward": mlp_forward,
    "mlp_backward": mlp_backward,
    "mlp_sgd_step": mlp_sgd_step,
    "mlp_loss_accuracy": mlp_loss_accuracy,
    "mlp_softmax": mlp_softmax,
    "mlp_grad_logits": mlp_grad_logits,
}
