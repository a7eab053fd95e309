"""Stand-ins of Exercice 2: simple known functions that replace the student's helpers while
a training loop, or a function calling them, is judged (``autograder.checks``); not the
exercise's maths, except where the contract states a one-line formula."""

import numpy as np


def epoch_predict(w, x):
    # The sheet's ŷ = w·x: an epoch computing its gradient inline with predict gets it right.
    return w * np.asarray(x, dtype=np.float64) if np.ndim(x) else w * float(x)


def epoch_batch_gradient(w, xb, yb):
    xb = np.asarray(xb, dtype=np.float64)
    yb = np.asarray(yb, dtype=np.float64)
    return float(np.sum(xb) - np.mean(yb) * w / 4.0)


STANDINS = {
    "epoch_predict": epoch_predict,
    "epoch_batch_gradient": epoch_batch_gradient,
}
