"""Exercice 1 at a ReLU kink: the contract fixes H(0) = 0, so at an input a_k of exactly 0
the gradient is the one just below it. A backward with H(0) = 1 or ½, or computed by
finite differences (points without the chain rule), loses that check and is told why;
every correct way of writing H passes it, and a mistake other checks already count (a
sign) costs nothing more there."""

from __future__ import annotations

import pytest

from autograder.messages import render

from .test_gaming_common import SEEDS, verdicts, with_reference

KINK = "backward_relu_at_zero"

CORRECT = {
    "reference": "",
    "heaviside_zero": "def relu_derivative(a):\n    return float(np.heaviside(a, 0.0))\n",
    "where": "def relu_derivative(a):\n    return np.where(np.asarray(a) > 0, 1.0, 0.0)\n",
    "vectorised": """
def backward(W, x, y):
    W, x = np.asarray(W, float), np.asarray(x, float)
    a = np.array([np.dot(W[:2], x[:2]), np.dot(W[:2], x[1:])])
    o = np.maximum(a, 0)
    e = y - o @ W[2:]
    d = -e * W[2:] * (a > 0)
    return np.array([d[0] * x[0] + d[1] * x[1], d[0] * x[1] + d[1] * x[2], -e * o[0], -e * o[1]])
""",
    "correlate": """
def backward(W, x, y):
    W, x = np.asarray(W, float), np.asarray(x, float)
    a = np.correlate(x, W[:2], mode="valid")
    o = np.maximum(a, 0)
    e = y - o @ W[2:]
    d = -e * W[2:] * np.sign(o)
    return np.concatenate([np.correlate(x, d, mode="valid"), -e * o])
""",
    "sign_error": "_right = backward\ndef backward(W, x, y):\n    return -_right(W, x, y)\n",
    # ∂v_k from a_k, not o_k: H(0) is right, the ∂v checks count the mistake, not the kink
    "dv_from_pre_activation": """
def backward(W, x, y):
    W, x = np.asarray(W, float), np.asarray(x, float)
    a = np.array([W[0] * x[0] + W[1] * x[1], W[0] * x[1] + W[1] * x[2]])
    o = np.maximum(a, 0)
    e = y - o @ W[2:]
    d = -e * W[2:] * (a > 0)
    return np.array([d[0] * x[0] + d[1] * x[1], d[0] * x[1] + d[1] * x[2], -e * a[0], -e * a[1]])
""",
}

H_NOT_ZERO = {
    "greater_or_equal": "def relu_derivative(a):\n    return 1.0 if a >= 0 else 0.0\n",
    "heaviside_half": "def relu_derivative(a):\n    return float(np.heaviside(a, 0.5))\n",
    "central_differences": """
def backward(W, x, y):
    W, g, h = np.asarray(W, float), np.zeros(4), 1e-5
    for k in range(4):
        step = np.zeros(4)
        step[k] = h
        g[k] = (loss(y, forward(W + step, x)[0]) - loss(y, forward(W - step, x)[0])) / (2 * h)
    return g
""",
    "forward_differences": """
def backward(W, x, y):
    W, g, h = np.asarray(W, float), np.zeros(4), 1e-8
    base = loss(y, forward(W, x)[0])
    for k in range(4):
        step = np.zeros(4)
        step[k] = h
        g[k] = (loss(y, forward(W + step, x)[0]) - base) / h
    return g
""",
}


def kink_verdict(cell: str, seed: int | None):
    namespace = with_reference("backprop_miniconv", cell)
    return verdicts("backprop_miniconv", namespace, seed, [KINK])[KINK]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("style", CORRECT)
def test_every_correct_way_of_writing_h_passes_at_the_kink(style, seed):
    assert kink_verdict(CORRECT[style], seed).passed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("style", H_NOT_ZERO)
def test_h_of_zero_not_zero_or_finite_differences_lose_the_kink_and_are_named(style, seed):
    verdict = kink_verdict(H_NOT_ZERO[style], seed)
    assert not verdict.passed and verdict.misconception == "relu_derivative_at_zero"


def test_finite_differences_still_earn_the_gradients_away_from_the_kink():
    """Only the kink tells them apart: the per-component checks are not made stricter."""
    namespace = with_reference("backprop_miniconv", H_NOT_ZERO["central_differences"])
    found = verdicts("backprop_miniconv", namespace, 3)
    assert [c for c, v in found.items() if not v.passed] == [KINK]


def test_the_finding_shows_both_inputs_and_where_a_is_zero():
    verdict = kink_verdict(H_NOT_ZERO["greater_or_equal"], None)
    text = " ".join(render(m, "fr") for m in verdict.messages)
    assert "a1 = 0" in text and "a1 < 0" in text and "entrée voisine" in text
    english = " ".join(render(m, "en") for m in verdict.messages)
    assert "neighbouring input" in english and "-0" not in english


@pytest.mark.parametrize("seed", SEEDS)
def test_a_backward_without_h_at_all_is_named_as_such_at_the_kink(seed):
    verdict = kink_verdict("def relu_derivative(a):\n    return 1.0\n", seed)
    assert not verdict.passed and verdict.misconception == "relu_derivative_missing"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("value", ["np.zeros(4)", "np.full(4, np.nan)", "np.ones(4)"])
def test_a_gradient_that_never_moves_earns_nothing_at_the_kink(value, seed):
    assert not kink_verdict(f"def backward(W, x, y):\n    return {value}\n", seed).passed


def test_a_nan_gradient_at_the_kink_is_said_not_finite_not_changed():
    """NaN never equals itself: the finding says NaN, never "[nan] here but [nan] there"."""
    verdict = kink_verdict("def backward(W, x, y):\n    return np.full(4, np.nan)\n", None)
    text = " ".join(render(m, "fr") for m in verdict.messages)
    assert not verdict.passed and "contient NaN ou inf" in text and "voisine :" not in text
