"""Mistakes written into the sample class of Exercice 2 (``dlgrade demo``): each replaces
one passage of ``solutions/sgd_batch_size.py``; the grader must name the mistake and take
points from the listed checks only."""

from autograder.course import SampleMistake

SAMPLE_MISTAKES = (
    SampleMistake(
        "sum_instead_of_mean",
        "np.mean(-xb * (yb - predict(w, xb)))",
        "np.sum(-xb * (yb - predict(w, xb)))",
        ("batch_gradient_value",),
    ),
    SampleMistake(
        "error_sign",
        "np.mean(-xb * (yb - predict(w, xb)))",
        "np.mean(xb * (yb - predict(w, xb)))",
        ("batch_gradient_value",),
    ),
    SampleMistake(
        "gradient_ascent",
        "w = w - alpha * batch_gradient(",
        "w = w + alpha * batch_gradient(",
        # The sample's table is built from its sgd_epoch: question 3 keeps its point.
        ("sgd_epoch_nb1", "sgd_epoch_nb2", "sgd_epoch_nb4", "sgd_epoch_leftover"),
    ),
    SampleMistake(
        "leftover_batch_used",
        "n_updates = len(X) // batch_size",
        "n_updates = -(-len(X) // batch_size)",
        ("sgd_epoch_leftover",),
    ),
)
