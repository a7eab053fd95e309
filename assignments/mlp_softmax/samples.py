"""Mistakes written into the sample class of TP1 (``dlgrade demo``): each replaces
one passage of ``solutions/mlp_softmax.py``; the grader must name the mistake and take
points from the listed checks only."""

from autograder.course import SampleMistake

SAMPLE_MISTAKES = (
    SampleMistake(
        "softmax_overflow",
        "np.exp(Z - Z.max(axis=1, keepdims=True))",
        "np.exp(Z)",
        ("softmax_large_logits",),
    ),
    SampleMistake(
        "missing_batch_mean",
        'delta_y = grad_logits(cache["y_hat"], Y) / n',
        'delta_y = grad_logits(cache["y_hat"], Y)',
        ("backward_Wh", "backward_bh", "backward_Wy", "backward_by", "backward_gradcheck"),
    ),
    SampleMistake(
        "bias_not_summed",
        '"by": delta_y.sum(axis=0)',
        '"by": delta_y',
        ("backward_by", "backward_gradcheck"),
    ),
    SampleMistake(
        "tanh_derivative",
        "return 1.0 - h**2",
        "return 1.0 - h",
        ("backward_Wh", "backward_bh", "backward_gradcheck"),
    ),
)
