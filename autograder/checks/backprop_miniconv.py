"""Hidden checks of Exercice 1: forward pass, loss, the four gradients, stopping, SGD loop."""

from __future__ import annotations

import numpy as np

from ..execution.plan import Call, Ref, Rng
from . import (
    Check,
    Probe,
    agrees_with_finite_differences,
    all_of,
    matches_reference,
    same_decision,
)

# (W, x, y): ReLU inputs (a1, a2) on each side of 0, then one case with round numbers.
CASES = [
    ([1.029, 1.642, 1.147, -0.973], [-1.393, 0.067, 0.861], 0.509),  # a1 < 0 < a2
    ([-1.127, 0.394, 0.762, -0.262], [0.017, 1.335, 1.265], 0.71),  # a2 < 0 < a1
    ([-0.866, -0.054, 0.603, -0.212], [-0.61, -0.765, -0.632], -0.672),  # both > 0
    ([-0.388, -1.389, -2.098, 0.634], [-1.165, 0.778, 1.848], -0.115),  # both < 0
    ([1.0, 0.5, 2.0, -1.0], [1.0, 2.0, 3.0], 1.0),
]
GRADIENT_NAMES = ("∂ℓ/∂w1", "∂ℓ/∂w2", "∂ℓ/∂v1", "∂ℓ/∂v2")
STEP = 1e-6

FORWARD = tuple(
    Call(f"forward/{i}", "forward", (np.array(W), np.array(x))) for i, (W, x, _) in enumerate(CASES)
)
LOSS = tuple(
    Call(f"loss/{i}", "loss", (y, y_hat))
    for i, (y, y_hat) in enumerate([(1.0, 0.25), (-0.5, 1.5), (2.0, 2.0), (0.3, -1.7)])
)
BACKWARD = tuple(
    Call(f"backward/{i}", "backward", (np.array(W), np.array(x), y))
    for i, (W, x, y) in enumerate(CASES)
)


def _gradient_check() -> Check:
    """The four gradients of two cases (one ReLU off, both on) against the student's own
    forward and loss."""
    calls, judges = [], []
    for case, (W, x, y) in enumerate(CASES[1:3], start=1):
        probes = []
        for k, name in enumerate(GRADIENT_NAMES):
            keys = {}
            for sign, label in ((1, "+"), (-1, "-")):
                shifted = np.array(W) + sign * STEP * np.eye(4)[k]
                forward_key = f"gradcheck/{case}/{k}{label}/forward"
                keys[label] = f"gradcheck/{case}/{k}{label}/loss"
                calls.append(Call(forward_key, "forward", (shifted, np.array(x))))
                calls.append(Call(keys[label], "loss", (y, Ref(forward_key, (0,)))))
            probes.append(Probe(name, (k,), keys["+"], keys["-"]))
        judges.append(
            agrees_with_finite_differences(BACKWARD[case], probes, STEP, (), "forward + loss")
        )
    calls.extend(BACKWARD[1:3])
    return Check("backward_gradcheck", tuple(calls), all_of(judges))


# Stopping criterion: the contract's fixed behaviour, then the student's own criterion.
STOP_LIMITS = (
    Call("should_stop/empty", "should_stop", ([], 1000, 1e-6)),
    Call("should_stop/at_max", "should_stop", ([1.0] * 10, 10, 0.0)),
    Call("should_stop/over_max", "should_stop", ([3.0, 2.0, 1.0], 2, 1e-6)),
    Call("should_stop/tol0_plateau", "should_stop", ([0.5] * 500, 1000, 0.0)),
)
STOP_PLATEAU = (
    Call("should_stop/plateau", "should_stop", ([0.5] * 500, 10**6, 1e-6)),
    Call("should_stop/plateau_zero", "should_stop", ([0.0] * 600, 10**6, 1e-6)),
)
STOP_PROGRESS = tuple(
    Call(f"should_stop/falling/{n}", "should_stop", ([0.95**k for k in range(n)], 10**6, 1e-6))
    for n in (2, 20, 100, 150)
)

# Training loop, graded with stand-ins for forward, loss, backward and should_stop.
_rng = np.random.default_rng(7)
TRAIN_X, TRAIN_Y = _rng.normal(size=(12, 3)), _rng.normal(size=12)
TRAIN_STANDINS = {
    "forward": "miniconv_forward",
    "loss": "miniconv_loss",
    "backward": "miniconv_backward",
    "should_stop": "miniconv_should_stop",
}
TRAIN = (
    Call(
        "train/standins",
        "train",
        (TRAIN_X, TRAIN_Y, np.array([0.3, -0.2, 0.5, 0.1]), 0.05, Rng(11)),
        {"max_iter": 40, "tol": 0.0},
        TRAIN_STANDINS,
    ),
    Call(
        "train/standins_short",
        "train",
        (TRAIN_X[:5], TRAIN_Y[:5], np.array([-0.4, 0.2, 0.1, 0.7]), 0.2, Rng(3)),
        {"max_iter": 7, "tol": 0.0},
        TRAIN_STANDINS,
    ),
)

BACKWARD_MISTAKES = ("relu_derivative_missing", "error_sign", "weight_sharing_single_path")

CHECKS = [
    Check("forward_output", FORWARD, matches_reference(FORWARD, "ŷ", (0,))),
    Check("forward_cache", FORWARD, matches_reference(FORWARD, "cache", (1,))),
    Check("loss_value", LOSS, matches_reference(LOSS, "ℓ")),
    *(
        Check(
            f"backward_{name}",
            BACKWARD,
            matches_reference(BACKWARD, GRADIENT_NAMES[k], (k,)),
            BACKWARD_MISTAKES,
        )
        for k, name in enumerate(("dw1", "dw2", "dv1", "dv2"))
    ),
    _gradient_check(),
    Check("should_stop_limits", STOP_LIMITS, same_decision(STOP_LIMITS, "should_stop")),
    Check("should_stop_plateau", STOP_PLATEAU, same_decision(STOP_PLATEAU, "should_stop")),
    Check("should_stop_progress", STOP_PROGRESS, same_decision(STOP_PROGRESS, "should_stop")),
    Check("train_weights", TRAIN, matches_reference(TRAIN, "W", (0,)), ("gradient_ascent",)),
    Check("train_losses", TRAIN, matches_reference(TRAIN, "losses", (1,)), ("gradient_ascent",)),
]
