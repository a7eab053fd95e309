"""Tolerances with a reason (``autograder/compare.py``): float32 work and guarded logs do
not lose points, a precision problem is named as such, and a message never shows an
"expected" and an "obtained" that print the same."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.compare import RTOL, RTOL_FLOAT32, compare, is_float32
from autograder.course import Project
from autograder.judging import checks_for
from autograder.sample_class import reference_source

from .conftest import ASSIGNMENTS
from .test_gaming_common import SEEDS, namespace_of, passed, verdicts


def float32_source(assignment: str) -> str:
    """The reference, computing in float32 throughout (as a student casting everything);
    its probability floor of 1e-300 is 0 in float32, so it takes float32's own 1e-30."""
    source = reference_source(assignment, Project.default()).replace("float64", "float32")
    return source.replace("LOG_FLOOR = 1e-300", "LOG_FLOOR = 1e-30")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_float32_work_earns_every_check(assignment, seed):
    namespace = namespace_of([float32_source(assignment)])
    assert passed(assignment, namespace, seed) == set(checks_for(assignment, seed))


GUARDED_LOSSES = {
    "keras_clip": "np.log(np.clip(Y_hat, 1e-7, 1 - 1e-7))",
    "clip_1e-12": "np.log(np.clip(Y_hat, 1e-12, 1.0))",
    "additive_epsilon": "np.log(Y_hat + 1e-7)",
    "maximum_floor": "np.log(np.maximum(Y_hat, 1e-15))",
    "where": "np.log(np.where(Y_hat > 0, Y_hat, 1e-10))",
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("guard", GUARDED_LOSSES)
def test_a_guarded_log_earns_the_loss_checks(guard, seed):
    cell = f"""
def loss_accuracy(Y_hat, Y):
    Y_hat, Y = np.asarray(Y_hat, dtype=float), np.asarray(Y, dtype=float)
    L = -np.sum(Y * {GUARDED_LOSSES[guard]}) / len(Y)
    return float(L), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))
"""
    namespace = namespace_of([reference_source("mlp_softmax", Project.default()), cell])
    expected = {"loss_accuracy_values", "loss_accuracy_saturated", "train_params", "train_history"}
    assert passed("mlp_softmax", namespace, seed, sorted(expected)) == expected


def test_a_float32_answer_is_recognised():
    assert is_float32(np.float32(0.1).item())
    assert is_float32(np.linspace(0, 1, 7).astype(np.float32).astype(np.float64))
    assert is_float32((np.float32(1 / 3).item(), [np.float32(2.7).item()]))
    assert not is_float32(0.1) and not is_float32(np.linspace(0, 1, 7))
    assert not is_float32([0.5, 2.0, 0.0, 3])  # round numbers tell nothing


def test_float32_answers_get_the_float32_tolerance_and_are_told_so():
    expected = np.array([0.1, 0.2, 0.3])
    close = expected.astype(np.float32).astype(np.float64) * (1 + 3e-6)
    assert compare(close.astype(np.float32).astype(np.float64), expected, "g") is None
    far = (expected * 1.01).astype(np.float32).astype(np.float64)
    message = compare(far, expected, "g")
    assert message.key == "wrong_value_float32"
    assert "float32" in message.render("fr") and "float32" in message.render("en")


def test_a_float64_answer_just_outside_the_tolerance_is_a_precision_problem():
    message = compare(1.0 + 5 * RTOL, 1.0, "ℓ")
    assert message.key == "wrong_value_precision"
    assert compare(1.0 + 0.5 * RTOL, 1.0, "ℓ") is None
    assert compare(1.0 + 10 * RTOL_FLOAT32, 1.0, "ℓ").key == "wrong_value"


@pytest.mark.parametrize(
    ("obtained", "expected"),
    [
        (1.000003, 1.0),
        (2.0486 + 4e-6, 2.0486),
        (np.array([0.5, 0.25 + 3e-6]), np.array([0.5, 0.25])),
        (-0.39085 - 2e-6, -0.39085),
        (np.full(20, 1.0 + 3e-6), np.ones(20)),
    ],
)
def test_expected_and_obtained_never_print_the_same(obtained, expected):
    message = compare(obtained, expected, "x")
    assert message is not None
    assert str(message.params["expected"]) != str(message.params["obtained"])


def test_scale_is_the_quantitys_not_each_entrys():
    """An entry that is 0 in the reference is judged against the size of the quantity:
    a rounding error of 1e-12 there is no mistake."""
    expected = np.array([0.0, 3.5, -1.25, 0.0])
    assert compare(expected + np.array([1e-12, 0, 0, -1e-12]), expected, "∇") is None
    assert compare(expected + np.array([1e-3, 0, 0, 0]), expected, "∇").key == "wrong_value"


def test_a_float32_softmax_of_large_logits_is_accepted():
    cell = """
def softmax(Z):
    Z = np.asarray(Z, dtype=np.float32)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
"""
    namespace = namespace_of([reference_source("mlp_softmax", Project.default()), cell])
    for seed in SEEDS:
        found = verdicts("mlp_softmax", namespace, seed, ["softmax_values", "softmax_large_logits"])
        assert all(v.passed for v in found.values()), found
