"""The gradient checks give nothing to a loss that proves nothing (constant, NaN, inf,
negligible), yet still reward a consistent student and a correct gradient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


def _flat(params: Any) -> np.ndarray:
    if isinstance(params, dict):
        return np.concatenate([np.ravel(np.asarray(params[name], float)) for name in PARAMS])
    return np.ravel(np.asarray(params, float))


def _made_up(params: Any) -> np.ndarray:
    """A gradient of made-up numbers, the same each time for the same parameters."""
    flat = _flat(params)
    return np.random.default_rng(abs(hash(flat.tobytes())) % 2**32).normal(size=flat.size)


@dataclass
class _Seen:
    params: Any
    flat: np.ndarray
    forward_args: tuple
    forward_kwargs: dict
    output: Any = None
    base: _Seen | None = None  # a probe: the parameters it moved one coordinate away from


def forged(assignment: str, anchor: str) -> dict[str, Any]:
    """``backward`` answers made-up numbers; ``forward`` and the loss recognise a probe
    (parameters one coordinate away from parameters seen before) and give it the loss of
    a straight line whose slope is those numbers, drawn through the loss at the
    parameters first seen (``anchor="base"``) or at the first probe of each pair
    (``"probe"``): finite differences then agree with any gradient."""
    forward_name, loss_name = (
        ("forward", "loss") if assignment == "backprop_miniconv" else ("forward", "loss_accuracy")
    )
    namespace = reference(assignment)
    honest_forward, honest_loss = namespace[forward_name], namespace[loss_name]
    seen: list[_Seen] = []
    bent: list[_Seen | None] = [None]

    def forward(params, *args, **kwargs):
        flat = _flat(params)
        near = [
            other for other in seen
            if other.flat.size == flat.size and np.count_nonzero(flat != other.flat) == 1
            and np.abs(flat - other.flat).max() < 1e-3
        ]  # fmt: skip
        point = _Seen(params, flat, args, kwargs)
        bent[0] = None
        if near and anchor == "base":
            bent[0], point.base = near[0], near[0]
        elif near:
            probes = [other for other in near if other.base is not None]
            point.base = probes[0].base if probes else near[0]
            bent[0] = probes[0] if probes else None
        seen.append(point)
        answer = honest_forward(params, *args, **kwargs)
        point.output = answer[0]  # the loss bends only what this call answered
        return answer

    def loss(*args):
        honest = honest_loss(*args)
        y_hat = args[1] if assignment == "backprop_miniconv" else args[0]
        if bent[0] is None or not np.array_equal(y_hat, seen[-1].output):
            return honest
        start, point = bent[0], seen[-1]
        at_start = honest_forward(start.params, *start.forward_args, **start.forward_kwargs)[0]
        if assignment == "backprop_miniconv":
            return honest_loss(args[0], at_start) + _made_up(point.base.params) @ (
                point.flat - start.flat
            )
        value, accuracy = honest_loss(at_start, args[1])
        return value + _made_up(point.base.params) @ (point.flat - start.flat), accuracy

    def backward(params, *args, **kwargs):
        numbers = _made_up(params)
        if assignment == "backprop_miniconv":
            return numbers
        sizes = np.cumsum([np.size(params[name]) for name in PARAMS])[:-1]
        return {
            name: part.reshape(np.shape(params[name]))
            for name, part in zip(PARAMS, np.split(numbers, sizes), strict=True)
        }

    namespace.update({forward_name: forward, loss_name: loss, "backward": backward})
    return namespace


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("anchor", ["base", "probe"])
@pytest.mark.parametrize("assignment", ["backprop_miniconv", "mlp_softmax"])
def test_losses_bent_to_agree_with_a_made_up_gradient_earn_nothing(assignment, anchor, seed):
    """A stateful forward pass and loss that make finite differences agree with any
    gradient: right wherever the checks call them except at the probes. The losses at
    θ − h, θ and θ + h then come from no single function, and the check says so."""
    verdict = verdicts(assignment, forged(assignment, anchor), seed, GRADCHECK)
    assert not verdict["backward_gradcheck"].passed
    said = verdict["backward_gradcheck"].messages[0].render("en")
    assert "cannot come from one function of the parameters" in said, said
    honest = passed(assignment, reference(assignment), seed)
    kept = {name for name in honest if name.startswith(("forward", "loss"))}
    assert kept and kept <= passed(assignment, forged(assignment, anchor), seed)
