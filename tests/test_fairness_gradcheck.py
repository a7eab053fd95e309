"""Gradient checks: a gradient equal to the reference earns them whatever the student's
forward pass or loss does; a gradient consistent with the student's own forward pass and
loss earns them too; a failure sends the student to the function at fault."""

from __future__ import annotations

import pytest

from .test_gaming_common import SEEDS, passed, verdicts, with_reference

GRADCHECK = ["backward_gradcheck"]


# (A broken forward is not among them: Exercice 1's backward(W, x, y) runs a forward pass
# itself, so a forward that raises makes that backward raise too.)
MINICONV_BROKEN = {
    "loss_without_half": "def loss(y, y_hat):\n    return (y - y_hat) ** 2\n",
    "loss_raises": "def loss(y, y_hat):\n    raise ValueError('pas encore écrite')\n",
    "loss_nan": "def loss(y, y_hat):\n    return float('nan')\n",
    "loss_constant": "def loss(y, y_hat):\n    return 1.0\n",
    "loss_float32": "def loss(y, y_hat):\n    return float(np.float32(0.5) * np.float32(y - y_hat) ** 2)\n",
}

MLP_BROKEN = {
    "loss_not_averaged": """
_right_loss = loss_accuracy
def loss_accuracy(Y_hat, Y):
    return _right_loss(Y_hat, Y)[0] * len(Y), 0.0
""",
    "accuracy_raises": """
_right_loss = loss_accuracy
def loss_accuracy(Y_hat, Y):
    L = _right_loss(Y_hat, Y)[0]
    acc = np.mean(Y_hat.argmax(1) == Y.argmax(2))
    return L, acc
""",
    "loss_returns_only_L": """
_right_loss = loss_accuracy
def loss_accuracy(Y_hat, Y):
    return _right_loss(Y_hat, Y)[0]
""",
    "forward_cache_swapped": """
_right_forward = forward
def forward(params, X, activation="tanh"):
    Y_hat, c = _right_forward(params, X, activation)
    return Y_hat, {**c, "h": c["h_tilde"]}
""",
    "forward_raises": "def forward(params, X, activation='tanh'):\n    raise KeyError('relu')\n",
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("broken", MINICONV_BROKEN)
def test_miniconv_right_gradient_earns_the_gradient_check(broken, seed):
    namespace = with_reference("backprop_miniconv", MINICONV_BROKEN[broken])
    assert passed("backprop_miniconv", namespace, seed, GRADCHECK) == set(GRADCHECK)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("broken", MLP_BROKEN)
def test_mlp_right_gradient_earns_the_gradient_check(broken, seed):
    namespace = with_reference("mlp_softmax", MLP_BROKEN[broken])
    assert passed("mlp_softmax", namespace, seed, GRADCHECK) == set(GRADCHECK)


CONSISTENT_WITHOUT_HALF = """
def loss(y, y_hat):
    return (y - y_hat) ** 2

_right_backward = backward
def backward(W, x, y):
    return 2 * _right_backward(W, x, y)
"""

CONSISTENT_SUM_LOSS = """
_right_loss, _right_backward = loss_accuracy, backward
def loss_accuracy(Y_hat, Y):
    L, acc = _right_loss(Y_hat, Y)
    return L * len(Y), acc

def backward(params, X, Y, cache, activation="tanh"):
    return {k: len(X) * g for k, g in _right_backward(params, X, Y, cache, activation).items()}
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_a_gradient_consistent_with_the_students_own_loss_earns_the_check(seed):
    miniconv = with_reference("backprop_miniconv", CONSISTENT_WITHOUT_HALF)
    assert passed("backprop_miniconv", miniconv, seed, GRADCHECK) == set(GRADCHECK)
    mlp = with_reference("mlp_softmax", CONSISTENT_SUM_LOSS)
    assert passed("mlp_softmax", mlp, seed, GRADCHECK) == set(GRADCHECK)


WRONG_MINICONV_BACKWARD = """
_right_backward = backward
def backward(W, x, y):
    return _right_backward(W, x, y) * np.array([1.0, 1.0, 1.0, 0.5])
"""


def gradcheck_keys(assignment: str, *cells: str) -> list[str]:
    namespace = with_reference(assignment, *cells)
    verdict = verdicts(assignment, namespace, None, GRADCHECK)["backward_gradcheck"]
    assert not verdict.passed
    return [m.key for m in verdict.messages]


def test_a_wrong_backward_with_a_right_loss_is_blamed_on_backward():
    assert gradcheck_keys("backprop_miniconv", WRONG_MINICONV_BACKWARD)[0] == "gradcheck_backward"


def test_a_wrong_backward_with_a_wrong_loss_names_both():
    keys = gradcheck_keys(
        "backprop_miniconv", WRONG_MINICONV_BACKWARD, MINICONV_BROKEN["loss_without_half"]
    )
    assert keys[0] == "gradcheck_neither"


def test_a_wrong_backward_with_a_loss_that_raises_says_it_cannot_be_checked():
    keys = gradcheck_keys(
        "backprop_miniconv", WRONG_MINICONV_BACKWARD, MINICONV_BROKEN["loss_raises"]
    )
    assert keys[0] == "gradcheck_unverifiable"


def test_a_wrong_backward_on_float32_losses_names_the_precision():
    keys = gradcheck_keys(
        "backprop_miniconv", WRONG_MINICONV_BACKWARD, MINICONV_BROKEN["loss_float32"]
    )
    assert keys[0] == "gradcheck_float32"


def test_the_gradient_check_messages_render_in_both_languages():
    namespace = with_reference("backprop_miniconv", WRONG_MINICONV_BACKWARD)
    verdict = verdicts("backprop_miniconv", namespace, None, GRADCHECK)["backward_gradcheck"]
    french = verdict.messages[0].render("fr")
    english = verdict.messages[0].render("en")
    assert "backward" in french and "L'erreur est dans backward" in french
    assert "The mistake is in backward" in english


def test_an_mlp_backward_right_on_the_reference_cache_but_a_forward_that_raises():
    """backward is right when given a right cache: the gradient check passes even though
    the student's forward pass cannot produce one."""
    namespace = with_reference("mlp_softmax", MLP_BROKEN["forward_raises"])
    for seed in SEEDS:
        assert passed("mlp_softmax", namespace, seed, GRADCHECK) == set(GRADCHECK)


CONSISTENT_OWN_CACHE_KEYS = """
_right_forward, _right_backward = forward, backward
def forward(params, X, activation="tanh"):
    Y_hat, c = _right_forward(params, X, activation)
    return Y_hat, {"pre": c["h_tilde"], "hidden": c["h"], "logits": c["y_tilde"], "out": Y_hat}

def backward(params, X, Y, cache, activation="tanh"):
    standard = {"h_tilde": cache["pre"], "h": cache["hidden"], "y_tilde": cache["logits"],
                "y_hat": cache["out"]}
    return _right_backward(params, X, Y, standard, activation)
"""


def test_a_backward_consistent_with_its_own_cache_keys_earns_the_gradient_check():
    """The cache keys are wrong (forward_cache fails, and backward on the contract's cache
    raises), but backward is consistent with the student's own forward pass."""
    namespace = with_reference("mlp_softmax", CONSISTENT_OWN_CACHE_KEYS)
    for seed in SEEDS:
        found = passed("mlp_softmax", namespace, seed, [*GRADCHECK, "forward_cache"])
        assert found == set(GRADCHECK)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_transposed_gradient_fails_the_check_even_for_a_square_matrix(seed):
    """The fixed inputs' Wy is 3 × 3: entries on the diagonal would let ∂L/∂Wyᵀ pass."""
    transposed = """
_right_backward = backward
def backward(params, X, Y, cache, activation="tanh"):
    grads = _right_backward(params, X, Y, cache, activation)
    return {**grads, "Wy": grads["Wy"].T}
"""
    namespace = with_reference("mlp_softmax", transposed)
    verdict = verdicts("mlp_softmax", namespace, seed, GRADCHECK)["backward_gradcheck"]
    assert not verdict.passed
    assert "∂L/∂Wy" in " ".join(m.render("fr") for m in verdict.messages)


def test_a_shape_against_a_number_is_said_in_words():
    """A loss returned per example: not "forme attendue (), forme obtenue (4,)"."""
    per_example = """
def loss_accuracy(Y_hat, Y):
    L = -np.sum(Y * np.log(Y_hat), axis=1)
    return L, float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))
"""
    namespace = with_reference("mlp_softmax", per_example)
    verdict = verdicts("mlp_softmax", namespace, None, ["loss_accuracy_values"])
    text = verdict["loss_accuracy_values"].messages[0].render("fr")
    assert "on attendait un nombre" in text and "un tableau de forme (4,)" in text
    assert "()" not in text
