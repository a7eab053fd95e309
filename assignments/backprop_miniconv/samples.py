"""Mistakes written into the sample class of Exercice 1 (``dlgrade demo``): each replaces
one passage of ``solutions/backprop_miniconv.py``; the grader must name the mistake and take
points from the listed checks only."""

from autograder.course import SampleMistake

SAMPLE_MISTAKES = (
    SampleMistake(
        "relu_derivative_missing",
        "return 1.0 if a > 0 else 0.0",
        "return 1.0",
        ("backward_dw1", "backward_dw2", "backward_gradcheck", "backward_relu_at_zero"),
    ),
    SampleMistake(
        "error_sign",
        "    e = y - y_hat\n",
        "    e = y_hat - y\n",
        ("backward_dw1", "backward_dw2", "backward_dv1", "backward_dv2", "backward_gradcheck"),
    ),
    SampleMistake(
        "weight_sharing_single_path",
        "[d1 * x1 + d2 * x2, d1 * x2 + d2 * x3,",
        "[d1 * x1, d2 * x3,",
        ("backward_dw1", "backward_dw2", "backward_gradcheck"),
    ),
    SampleMistake(
        "gradient_ascent",
        "W = W - alpha * backward(",
        "W = W + alpha * backward(",
        ("train_weights", "train_losses"),
    ),
)
