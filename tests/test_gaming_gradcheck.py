"""The gradient checks give nothing to a loss that proves nothing (constant, NaN, inf,
negligible), yet still reward a consistent student and a correct gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograder.course import Project
from autograder.sample_class import reference_source

from .conftest import ASSIGNMENTS
from .test_gaming_common import SEEDS, functions, namespace_of, passed, verdicts

PARAMS = ("Wh", "bh", "Wy", "by")


def miniconv_filled(v: float) -> dict[str, Any]:
    """Every function of Exercice 1 answers ``v``, in the right shapes."""
    return functions(
        forward=lambda W, x: (v, dict.fromkeys(("a1", "a2", "o1", "o2"), v)),
        loss=lambda y, y_hat: v,
        backward=lambda W, x, y: np.full(4, v),
        should_stop=lambda losses, max_iter, tol: v,
        train=lambda X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6: (np.full(4, v), [v] * 3),
    )


def sgd_filled(v: float) -> dict[str, Any]:
    return functions(
        predict=lambda w, x: np.full(np.shape(x), v) if np.ndim(x) else v,
        batch_gradient=lambda w, xb, yb: v,
        sgd_epoch=lambda w0, X, Y, alpha, batch_size: (v, len(X) // batch_size),
    )


def mlp_filled(v: float) -> dict[str, Any]:
    def like(params):
        return {name: np.full(np.shape(params[name]), v) for name in PARAMS}

    def forward(params, X, activation="tanh"):
        n, nh, ny = len(X), len(params["bh"]), len(params["by"])
        y_hat = np.full((n, ny), v)
        hidden = np.full((n, nh), v)
        return y_hat, {"h_tilde": hidden, "h": hidden, "y_tilde": y_hat, "y_hat": y_hat}

    return functions(
        init_params=lambda nx, nh, ny, rng: like(
            {"Wh": np.zeros((nh, nx)), "bh": np.zeros(nh), "Wy": np.zeros((ny, nh)), "by": [0] * ny}
        ),
        softmax=lambda Z: np.full(np.shape(Z), v),
        forward=forward,
        loss_accuracy=lambda Y_hat, Y: (v, v),
        grad_logits=lambda Y_hat, Y: np.full(np.shape(Y), v),
        backward=lambda params, X, Y, cache, activation="tanh": like(params),
        sgd_step=lambda params, grads, lr: like(params),
        train=lambda params, X, Y, lr, batch_size, epochs, rng, activation="tanh": (
            like(params),
            [v] * epochs,
        ),
    )


FILLED: dict[str, Callable[[float], dict[str, Any]]] = {
    "backprop_miniconv": miniconv_filled,
    "sgd_batch_size": sgd_filled,
    "mlp_softmax": mlp_filled,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("value", [0.0, 1.0, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_constant_nan_or_inf_everywhere_earns_nothing(assignment, value, seed):
    assert passed(assignment, FILLED[assignment](value), seed) == set()


def reference(assignment: str, **replaced: Callable[..., Any]) -> dict[str, Any]:
    namespace = namespace_of([reference_source(assignment, Project.default())])
    namespace.update(replaced)
    return namespace


GRADCHECK = ["backward_gradcheck"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scale", [1e-12, 1e-300])
def test_a_consistent_but_negligible_loss_earns_nothing(seed, scale):
    """ŷ = w1 and ℓ = scale·ŷ, with the matching gradient: consistent, but too flat to
    tell a gradient from zero."""
    namespace = reference(
        "backprop_miniconv",
        forward=lambda W, x: (float(W[0]), dict.fromkeys(("a1", "a2", "o1", "o2"), 0.0)),
        loss=lambda y, y_hat: scale * y_hat,
        backward=lambda W, x, y: np.array([scale, 0.0, 0.0, 0.0]),
    )
    assert passed("backprop_miniconv", namespace, seed, GRADCHECK) == set()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_finite_loss_does_not_excuse_an_infinite_gradient(seed):
    backward = reference("backprop_miniconv")["backward"]
    namespace = reference(
        "backprop_miniconv",
        backward=lambda W, x, y: backward(W, x, y) + np.array([0, np.inf, 0, 0]),
    )
    verdict = verdicts("backprop_miniconv", namespace, seed, GRADCHECK)["backward_gradcheck"]
    assert not verdict.passed and "inf" in verdict.messages[0].render("en")


BROKEN_LOSSES = {
    "no_half": lambda y, y_hat: (y - y_hat) ** 2,
    "constant": lambda y, y_hat: 1.0,
    "nan": lambda y, y_hat: float("nan"),
    "raises": lambda y, y_hat: 1 / 0,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", BROKEN_LOSSES)
def test_a_correct_gradient_does_not_pay_for_a_loss_bug(name, seed):
    namespace = reference("backprop_miniconv", loss=BROKEN_LOSSES[name])
    assert passed("backprop_miniconv", namespace, seed, GRADCHECK) == set(GRADCHECK)
    mlp = reference("mlp_softmax", loss_accuracy=lambda Y_hat, Y: (float("nan"), 0.0))
    assert passed("mlp_softmax", mlp, seed, GRADCHECK) == set(GRADCHECK)


def miniconv_without_relu() -> dict[str, Any]:
    """A wrong forward pass (no ReLU) with the gradient of that very forward pass."""

    def forward(W, x):
        a1, a2 = x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]
        return float(a1 * W[2] + a2 * W[3]), {"a1": a1, "a2": a2, "o1": a1, "o2": a2}

    def backward(W, x, y):
        y_hat, c = forward(W, x)
        d1, d2 = (y_hat - y) * W[2], (y_hat - y) * W[3]
        return [
            d1 * x[0] + d2 * x[1],
            d1 * x[1] + d2 * x[2],
            (y_hat - y) * c["o1"],
            (y_hat - y) * c["o2"],
        ]

    return reference("backprop_miniconv", forward=forward, backward=backward)


def miniconv_without_first_path() -> dict[str, Any]:
    """ŷ = o2·v2 only, with its own gradient: a flat loss whenever a2 < 0, so only the
    other gradient-checked case can vouch for it."""

    def forward(W, x):
        a1, a2 = x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]
        o1, o2 = max(a1, 0.0), max(a2, 0.0)
        return float(o2 * W[3]), {"a1": a1, "a2": a2, "o1": o1, "o2": o2}

    def backward(W, x, y):
        y_hat, c = forward(W, x)
        d2 = (y_hat - y) * W[3] * (c["a2"] > 0)
        return np.array([d2 * x[1], d2 * x[2], 0.0, (y_hat - y) * c["o2"]])

    return reference("backprop_miniconv", forward=forward, backward=backward)


def mlp_with_sigmoid() -> dict[str, Any]:
    """The hidden layer computed with a sigmoid, and differentiated as such."""
    namespace = reference("mlp_softmax")
    namespace["activate"] = lambda h_tilde, activation: 1 / (1 + np.exp(-h_tilde))
    namespace["activation_derivative"] = lambda h_tilde, h, activation: h * (1 - h)
    return namespace


CONSISTENT = {
    "miniconv_without_relu": ("backprop_miniconv", miniconv_without_relu),
    "miniconv_without_first_path": ("backprop_miniconv", miniconv_without_first_path),
    "mlp_with_sigmoid": ("mlp_softmax", mlp_with_sigmoid),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CONSISTENT)
def test_a_consistent_student_with_a_wrong_forward_earns_the_gradient_check(name, seed):
    assignment, make = CONSISTENT[name]
    found = passed(assignment, make(), seed)
    assert "backward_gradcheck" in found
    assert "forward_output" not in found
