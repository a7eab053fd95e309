"""Stand-ins of TP1: simple known functions that replace the student's helpers while
a training loop, or a function calling them, is judged (``autograder.checks``); not the
exercise's maths, except where the contract states a one-line formula."""

import numpy as np


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
    # Not gradients: values of the batch and of the activation asked. A loop that does
    # not pass its activation on follows another path than the reference's; and, as the
    # batch enters through a sine, an epoch's batches shuffled otherwise (a loop that does
    # not draw from its rng) end elsewhere, where a sum over the batches would not tell.
    X = np.asarray(X, dtype=np.float64)
    scale = float(np.sin(3.0 * (np.sum(X) - np.sum(Y))))
    phase = 0.0 if activation == "tanh" else 1.0
    return {name: np.cos(value + phase) * scale for name, value in params.items()}


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


STANDINS = {
    "mlp_forward": mlp_forward,
    "mlp_softmax": mlp_softmax,
    "mlp_grad_logits": mlp_grad_logits,
    "mlp_backward": mlp_backward,
    "mlp_sgd_step": mlp_sgd_step,
    "mlp_loss_accuracy": mlp_loss_accuracy,
}
