"""Stand-ins of Exercice 2: known, deliberately simple functions that replace the
student's helpers during one call of a training loop, so that the loop is graded on
its own mechanics (see ``autograder.checks.training_loop``).

Sent to the sandbox only for the calls that use them, in a process that answers no
other call. A stand-in for a graded non-trivial function is not the exercise's maths;
where the contract states a one-line formula, the stand-in is that formula, so that a
loop computing it inline gives what calling the stand-in gives.
"""

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
