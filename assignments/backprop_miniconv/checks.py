"""Hidden checks of Exercice 1: forward pass, loss, the four gradients, stopping, SGD loop.

``build`` makes the checks from a set of inputs: the fixed ``FIXED``, or inputs ``draw``n
from a seed. Both keep ReLU inputs on each side of 0 and exactly at 0 (the contract's
H(0) = 0), and stopping tests on loss sequences of many lengths and shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from autograder.checks import (
    Check,
    Probe,
    about,
    agrees_with_finite_differences,
    changes_where_reference_changes,
    generic,
    inline_choices,
    matches_reference,
    naming_stray_draws,
    right_by_either_route,
    rng_twins,
    same_decision,
    standin_twins,
    stops_when_told,
    training_loop,
    with_inlined,
)
from autograder.execution.plan import Call, Ref, Rng
from autograder.messages import Translated

Case = tuple[np.ndarray, np.ndarray, float]
"""(W, x, y) for one example."""

Kink = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]
"""(W, x, x_below, x_above, y): at x one ReLU input a_k is exactly 0; x_below and x_above
change only the input that moves a_k below 0, or above. With H(0) = 0 the gradient is the
same at x and x_below (that input reaches it only through H(a_k)); at x_above the neuron
is on and it changes. Every value is a multiple of 1/8, so a_k is 0 exactly however a
student's code sums the products."""

SIGNS = ((-1, 1), (1, -1), (1, 1), (-1, -1))
"""Signs of (a1, a2) in the first four cases: a1 < 0 < a2, a2 < 0 < a1, both > 0, both < 0."""

GRADIENT_NAMES = ("∂ℓ/∂w1", "∂ℓ/∂w2", "∂ℓ/∂v1", "∂ℓ/∂v2")
STEP = 1e-6
MARGIN = 0.1
"""Drawn cases keep |a_k| above this, so no finite-difference step crosses the ReLU kink."""
TRAINING_RATE_BOUND = 0.1
"""Drawn learning rates stay below this. Up to 0.2, about one draw in 2,500 made the
reference's training diverge (its loss overflowed, and the grading run could not start);
below 0.1, no loss of 20,000 seeds' runs exceeds 20."""
PLATEAU_STEPS = 600
"""The cap (max_iter) of the training run on a plateau: well above the 500 equal losses on
which the contract requires any criterion to stop (with tol > 0)."""
PLATEAU_TOL = 1e-6
STEADY_TOL = 1e-9
"""The tolerance of the training run whose loss falls steadily: below its last drop (its
losses stay above 1e-7 and fall by 2 % at least), so that a criterion on absolute changes
must not stop there either."""
KINK_RTOL = 1e-4
"""How far (relative to the gradients) an entry may move and still count as unchanged at
a kink: H(0) = 1 or ½ moves it by e·v_k·x_j, never below 1/16 in these cases (|e|, |v_k|,
|x_j| ≥ ½), and any finite-difference step stays far below."""


@dataclass(frozen=True)
class Stop:
    """One call of ``should_stop``, and the decision the contract asks for on it."""

    name: str
    losses: list[float]
    max_iter: int
    tol: float
    expected: bool


@dataclass(frozen=True)
class Training:
    """The arguments of one ``train`` call (with ``tol=0``: deterministic)."""

    X: np.ndarray
    Y: np.ndarray
    W0: np.ndarray
    alpha: float
    seed: int
    max_iter: int


@dataclass(frozen=True)
class Inputs:
    cases: tuple[Case, ...]  # the first four follow SIGNS; cases 1 and 2 are gradient-checked
    kinks: tuple[Kink, ...]  # a1 = 0, then a2 = 0
    losses: tuple[tuple[float, float], ...]  # (y, y_hat)
    stop_limits: tuple[Stop, ...]  # the contract's fixed rules
    stop_plateau: tuple[Stop, ...]  # long plateaus, with falling controls
    stop_progress: tuple[Stop, ...]  # steady falls, with plateau controls
    training: tuple[Training, ...]
    plateau: Training  # every ReLU off: ŷ = 0, ℓ = ½ at each step, and W never moves
    steady: Training  # one example whose loss falls by 2 to 5 % at every step to the cap


# --- loss sequences for should_stop ------------------------------------------------------


def plateau(length: int, value: float) -> list[float]:
    return [float(value)] * length


def falling(rng: np.random.Generator, length: int, final: float = 1.0) -> list[float]:
    """Losses that fall at every iteration, by 2 to 5 % (irregularly), down to ``final``.

    Ending at ``final`` ≥ 1 keeps every drop far above any tolerance, so a criterion on
    absolute changes (patience with a ``min_delta``) must not stop either.
    """
    rates = rng.uniform(0.02, 0.05, size=max(length - 1, 0))
    ratios = np.cumprod(1.0 / (1.0 - rates[::-1]))[::-1]
    values = final * np.append(ratios, 1.0) if length else []
    return [float(f"{v:.10g}") for v in values]


def fall_then_plateau(
    rng: np.random.Generator, fall: int, length: int, value: float
) -> list[float]:
    """A short fall, then ``length`` identical losses: the plateau is what counts, not the
    whole history being flat."""
    return falling(rng, fall, value) + plateau(length, value)


# --- the fixed inputs --------------------------------------------------------------------

_fixed = np.random.default_rng(17)
_data = np.random.default_rng(7)
_TRAIN_X, _TRAIN_Y = _data.normal(size=(12, 3)), _data.normal(size=12)
_MANY = 10**6

FIXED = Inputs(
    cases=tuple(
        (np.array(W), np.array(x), y)
        for W, x, y in [
            ([1.029, 1.642, 1.147, -0.973], [-1.393, 0.067, 0.861], 0.509),
            ([-1.127, 0.394, 0.762, -0.262], [0.017, 1.335, 1.265], 0.71),
            ([-0.866, -0.054, 0.603, -0.212], [-0.61, -0.765, -0.632], -0.672),
            ([-0.388, -1.389, -2.098, 0.634], [-1.165, 0.778, 1.848], -0.115),
            ([1.0, 0.5, 2.0, -1.0], [1.0, 2.0, 3.0], 1.0),
        ]
    ),
    kinks=tuple(
        (np.array(W), np.array(x), np.array(below), np.array(above), y)
        for W, x, below, above, y in [
            ([0.75, 0.75, 1.5, -1.25], [-1.25, 1.25, 2], [-1.75, 1.25, 2], [-0.75, 1.25, 2], -2.0),
            ([-0.5, -0.5, -1, 2], [-2, 0.75, -0.75], [-2, 0.75, -0.25], [-2, 0.75, -1.25], 0.5),
        ]
    ),
    losses=((1.0, 0.25), (-0.5, 1.5), (2.0, 2.0), (0.3, -1.7)),
    stop_limits=(
        Stop("empty", [], 1000, 1e-6, False),
        Stop("at_max", [1.0] * 10, 10, 0.0, True),
        Stop("over_max", [3.0, 2.0, 1.0], 2, 1e-6, True),
        Stop("at_max_falling", falling(_fixed, 40), 40, 1e-6, True),
        Stop("empty_tol0", [], 1, 0.0, False),
        Stop("tol0_plateau", plateau(500, 0.5), 1000, 0.0, False),
        Stop("tol0_long_plateau", plateau(1500, 0.2), 1501, 0.0, False),
        Stop("tol0_falling", falling(_fixed, 800), 5000, 0.0, False),
    ),
    stop_plateau=(
        Stop("plateau", plateau(500, 0.5), _MANY, 1e-6, True),
        Stop("plateau_zero", plateau(600, 0.0), _MANY, 1e-6, True),
        Stop("plateau_long", plateau(1200, 12.5), _MANY, 1e-4, True),
        Stop("after_fall", fall_then_plateau(_fixed, 15, 1500, 0.8), _MANY, 1e-6, True),
        Stop("falling_500", falling(_fixed, 500, 2.0), _MANY, 1e-6, False),
        Stop("falling_2000", falling(_fixed, 2000), _MANY, 1e-6, False),
    ),
    stop_progress=(
        *(
            Stop(f"geometric_{n}", [0.95**k for k in range(n)], _MANY, 1e-6, False)
            for n in (2, 20, 100, 150)
        ),
        *(
            Stop(f"falling_{n}", falling(_fixed, n, 3.0), _MANY, 1e-6, False)
            for n in (301, 450, 900, 1600)
        ),
        Stop("after_fall", fall_then_plateau(_fixed, 10, 1000, 2.0), _MANY, 1e-6, True),
    ),
    training=(
        Training(_TRAIN_X, _TRAIN_Y, np.array([0.3, -0.2, 0.5, 0.1]), 0.05, 11, 40),
        Training(_TRAIN_X[:5], _TRAIN_Y[:5], np.array([-0.4, 0.2, 0.1, 0.7]), 0.2, 3, 7),
    ),
    plateau=Training(
        -np.abs(_TRAIN_X[:6]),
        np.where(_TRAIN_Y[:6] < 0, -1.0, 1.0),
        np.array([0.6, 0.4, 1.2, -0.8]),
        0.05,
        5,
        PLATEAU_STEPS,
    ),
    steady=Training(
        np.array([[1.0, 1.27, -0.13]]),
        np.array([2.24]),
        np.array([1.0, 0.39, 2.55, -0.09]),
        0.00064,
        23,
        PLATEAU_STEPS,
    ),
)


# --- inputs drawn from a seed -----------------------------------------------------------


def draw(rng: np.random.Generator) -> Inputs:
    """Inputs like ``FIXED``, drawn from ``rng``: sign patterns, sequence shapes and the
    length relations that defeat any fixed-count stopping rule are kept."""
    cases = tuple(_case(rng, signs) for signs in SIGNS)
    losses = tuple((_rounded(rng.normal()), _rounded(rng.normal())) for _ in range(3))
    same = _rounded(rng.normal())
    return Inputs(
        cases=cases,
        kinks=(_kink(rng, 0), _kink(rng, 1)),
        losses=(*losses, (same, same)),
        stop_limits=_drawn_limits(rng),
        stop_plateau=_drawn_plateaus(rng),
        stop_progress=_drawn_progress(rng),
        training=(
            _training(rng, rng.integers(6, 16), rng.integers(20, 61)),
            _training(rng, rng.integers(3, 7), rng.integers(5, 11)),
        ),
        plateau=_plateau(rng, rng.integers(3, 10)),
        steady=_steady(rng),
    )


def _rounded(value: float) -> float:
    return round(float(value), 3)


def _case(rng: np.random.Generator, signs: tuple[int, int]) -> Case:
    """A random (W, x, y) whose (a1, a2) have the given signs, each |a_k| > MARGIN, and
    whose error y − ŷ is not small."""
    while True:
        W, x = np.round(rng.normal(size=4), 3), np.round(rng.normal(size=3), 3)
        a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
        if np.array_equal(np.sign(a), signs) and np.all(np.abs(a) > MARGIN):
            y_hat = _prediction(W, x)
            return W, x, _rounded(y_hat + rng.choice([-1, 1]) * rng.uniform(0.3, 1.5))


def _kink(rng: np.random.Generator, zero: int) -> Kink:
    """A case whose ReLU input a_{zero+1} is exactly 0 and the other > 0, and its twins
    below and above the kink; weights, inputs and errors are large enough that H(0) = 1,
    or finite differences across the kink (half of each side), move the gradient visibly."""

    def eighths(low: int, high: int) -> float:
        return float(rng.integers(low, high + 1) / 8 * rng.choice([-1, 1]))

    while True:
        w, t = eighths(4, 12), eighths(4, 12)
        sign = np.sign(w)
        other = sign * abs(eighths(4, 16)) - t  # the other input: the other a_k = |w|·m > 0
        shift = sign * abs(eighths(2, 8))  # a_k moves to ∓|w·shift| below and above
        moving = 0 if zero == 0 else 2
        x = np.array([-t, t, other]) if zero == 0 else np.array([other, t, -t])
        below, above = x.copy(), x.copy()
        below[moving], above[moving] = x[moving] - shift, x[moving] + shift
        W = np.array([w, w, eighths(4, 12), eighths(4, 12)])
        y = _prediction(W, x) + eighths(4, 12)
        if abs(y - _prediction(W, above)) >= 0.25:  # the neuron turned on changes the error
            return W, x, below, above, y


def _prediction(W: np.ndarray, x: np.ndarray) -> float:
    a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
    return float(np.maximum(a, 0.0) @ W[2:])


def _tol(rng: np.random.Generator) -> float:
    return float(f"{10 ** rng.uniform(-6, -4):.2g}")


def _max_iter(rng: np.random.Generator) -> int:
    return int(10 ** rng.uniform(4, 6))


def _value(rng: np.random.Generator) -> float:
    return 0.0 if rng.random() < 0.2 else float(f"{10 ** rng.uniform(-3, 3):.4g}")


def _drawn_limits(rng: np.random.Generator) -> tuple[Stop, ...]:
    at_max, over = int(rng.integers(1, 300)), int(rng.integers(2, 400))
    long_plateau, long_fall = int(rng.integers(500, 3000)), int(rng.integers(300, 2000))
    return (
        Stop("empty", [], int(rng.integers(1, _MANY)), _tol(rng), False),
        Stop("empty_tol0", [], int(rng.integers(1, _MANY)), 0.0, False),
        Stop("at_max_falling", falling(rng, at_max), at_max, _tol(rng), True),
        Stop("over_max", falling(rng, over), int(rng.integers(1, over)), 0.0, True),
        Stop(
            "tol0_plateau",
            plateau(long_plateau, _value(rng)),
            long_plateau + int(rng.integers(1, 1000)),
            0.0,
            False,
        ),
        Stop("tol0_falling", falling(rng, long_fall), long_fall + 1, 0.0, False),
    )


def _drawn_plateaus(rng: np.random.Generator) -> tuple[Stop, ...]:
    """Plateaus of 500 to 2500 losses; falling controls up to 2000 long, longer than the
    shortest plateau, so no iteration count separates them."""
    sequences = [
        (plateau(int(rng.integers(500, 800)), _value(rng)), True),
        (plateau(int(rng.integers(800, 2500)), _value(rng)), True),
        (
            fall_then_plateau(
                rng,
                int(rng.integers(5, 20)),
                int(rng.integers(1500, 2500)),
                float(rng.uniform(0.1, 5.0)),
            ),
            True,
        ),
        (falling(rng, int(rng.integers(300, 1000)), float(rng.uniform(1, 10))), False),
        (falling(rng, int(rng.integers(1000, 2000)), float(rng.uniform(1, 10))), False),
    ]
    return tuple(
        Stop(f"drawn_{i}", losses, _max_iter(rng), _tol(rng), expected)
        for i, (losses, expected) in enumerate(sequences)
    )


def _drawn_progress(rng: np.random.Generator) -> tuple[Stop, ...]:
    """Steady falls from 2 to 2000 losses; a plateau control shorter than the longest fall."""
    lengths = [(2, 30), (30, 300), (300, 1200), (1200, 2000)]
    sequences = [
        (falling(rng, int(rng.integers(*bounds)), float(rng.uniform(1, 10))), False)
        for bounds in lengths
    ]
    control = fall_then_plateau(
        rng, int(rng.integers(5, 20)), int(rng.integers(1000, 1150)), float(rng.uniform(0.1, 5.0))
    )
    return tuple(
        Stop(f"drawn_{i}", losses, _max_iter(rng), _tol(rng), expected)
        for i, (losses, expected) in enumerate([*sequences, (control, True)])
    )


def _training(rng: np.random.Generator, n: int, max_iter: int) -> Training:
    return Training(
        np.round(rng.normal(size=(n, 3)), 3),
        np.round(rng.normal(size=n), 3),
        np.round(rng.normal(scale=0.5, size=4), 3),
        _rounded(rng.uniform(0.01, TRAINING_RATE_BOUND)),
        int(rng.integers(2**31)),
        int(max_iter),
    )


def _plateau(rng: np.random.Generator, n: int) -> Training:
    """A training run on which no weight moves and every loss is ½: negative inputs and
    positive w1, w2 keep both ReLUs off (ŷ = 0), and y = ±1."""
    return Training(
        -np.round(rng.uniform(0.1, 2.0, size=(n, 3)), 3),
        rng.choice([-1.0, 1.0], size=n),
        np.round(np.append(rng.uniform(0.1, 1.0, size=2), rng.normal(size=2)), 3),
        _rounded(rng.uniform(0.01, TRAINING_RATE_BOUND)),
        int(rng.integers(2**31)),
        PLATEAU_STEPS,
    )


def _steady(rng: np.random.Generator) -> Training:
    """A training run on one example whose loss falls by 2 to 5 % at every step, from
    about 1 to above 1e-7, both ReLUs on throughout: no valid criterion stops before
    ``PLATEAU_STEPS``, so a loop that stops there after a count of its own shows it.
    The rate is set from the gradient's size at W0 (one draw in six keeps it steady)."""
    while True:
        W, x = np.round(rng.normal(size=4), 2), np.round(rng.normal(size=3), 2)
        a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
        if a.min() < 0.3:
            continue
        y = _rounded(_prediction(W, x) + rng.choice([-1, 1]) * rng.uniform(1.0, 1.5))
        size = a @ a + (W[2] * x[0] + W[3] * x[1]) ** 2 + (W[2] * x[1] + W[3] * x[2]) ** 2
        alpha = float(f"{0.013 / size:.2g}")
        if _falls_steadily(W, x, y, alpha, PLATEAU_STEPS):
            seed = int(rng.integers(2**31))
            return Training(x[None, :], np.array([y]), W, alpha, seed, PLATEAU_STEPS)


def _falls_steadily(W: np.ndarray, x: np.ndarray, y: float, alpha: float, steps: int) -> bool:
    """Whether gradient descent on (x, y) from W keeps both ReLU inputs above MARGIN and
    makes every loss 2 to 5 % below the one before, the last above 1e-7."""
    before = None
    for _ in range(steps):
        a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
        if a.min() <= MARGIN:
            return False
        error = y - a @ W[2:]
        now = 0.5 * error**2
        if before is not None and not 0.95 <= now / before <= 0.98:
            return False
        before = now
        inner = np.array([W[2] * x[0] + W[3] * x[1], W[2] * x[1] + W[3] * x[2]])
        W = W + alpha * error * np.append(inner, a)
    return before >= 1e-7


# --- the checks ----------------------------------------------------------------------------

# The training loop is graded with the student's own functions, and with stand-ins for
# forward, loss, backward and should_stop (``checks.training_loop``). The stand-in loss is
# the sheet's ½(y − ŷ)² and the stand-in criterion stops at max_iter, as any correct one
# does with tol = 0: a loop computing them inline gives the same. Forward and backward
# stand-ins are not the exercise's: a loop computing those inline is compared with the
# reference run with stand-ins for the others only.
TRAIN_STANDINS = {
    "forward": "miniconv_forward",
    "loss": "miniconv_loss",
    "backward": "miniconv_backward",
    "should_stop": "miniconv_should_stop",
}
TRAIN_INLINABLE = ("forward", "backward")
TRAIN_MISTAKES = (
    "gradient_ascent",
    "loss_after_update",
    "two_draws_per_iteration",
    "relu_derivative_missing",
    "error_sign",
    "weight_sharing_single_path",
)
"""Loop mistakes, and mistakes of a gradient the loop computes inline (a helper's own
mistake is not the loop's: the stand-in route passes it)."""
BACKWARD_MISTAKES = (
    "relu_derivative_missing", "error_sign", "weight_sharing_single_path", "gradient_without_half",
    "gradient_order",
)  # fmt: skip
BACKWARD_STANDINS = {"forward": "miniconv_forward"}
"""backward is also judged with the stand-in forward pass (a backward that calls a wrong
forward is right if its chain rule is), on inputs of its own: see ``_standin_input``."""


def _standin_input(call: Call) -> tuple:
    """The arguments of ``call`` (W, x, y) with another x, on which the stand-in forward
    pass's a1 = x1 − x2 and a2 = x3 − x2 have the signs the case has with the real one:
    each H(a_k), each path of the shared weights, is then tested with the stand-in too."""
    W, x, y = call.args
    a1, a2 = W[0] * x[0] + W[1] * x[1], W[0] * x[1] + W[1] * x[2]
    middle = float(x[1])
    sides = [np.sign(a) or 1.0 for a in (a1, a2)]
    standin_x = np.array(
        [middle + sides[0] * (0.5 + abs(x[0])), middle, middle + sides[1] * (0.5 + abs(x[2]))]
    )
    return W, np.round(standin_x, 3), y


def _standin_kink(kink: Kink, zero: int) -> tuple[tuple, tuple, tuple]:
    """The arguments (W, x, y) below, at and above a kink of the stand-in forward pass
    (a1 = x1 − x2, a2 = x3 − x2, each o_k at most 1), for a backward that calls forward:
    its a_{zero+1} is −½, 0 and ½, the other a_k is ¾, and y exceeds every prediction it
    can make by 1 at least, so that what H(a_k) changes is never small."""
    W, x, *_ = kink
    middle = float(x[1])
    moving, other = (0, 2) if zero == 0 else (2, 0)
    y = float(np.sum(np.abs(W[2:]))) + 1.0
    cases = []
    for shift in (-0.5, 0.0, 0.5):
        standin_x = np.full(3, middle)
        standin_x[other] += 0.75
        standin_x[moving] += shift
        cases.append((W, standin_x, y))
    return tuple(cases)


def build(inputs: Inputs, reference: ModuleType, tag: str = "") -> list[Check]:
    """The checks of Exercice 1 on ``inputs`` (``reference``: the loaded solution, for inputs
    computed from it); ``tag`` prefixes every call key."""
    forward = tuple(
        Call(f"{tag}forward/{i}", "forward", (W, x), about=_case_words(W, x))
        for i, (W, x, _) in enumerate(inputs.cases)
    )
    loss = tuple(
        Call(f"{tag}loss/{i}", "loss", (y, y_hat), about=_pair_words(y, y_hat))
        for i, (y, y_hat) in enumerate(inputs.losses)
    )
    backward = tuple(
        Call(f"{tag}backward/{i}", "backward", (W, x, y), about=_case_words(W, x, y))
        for i, (W, x, y) in enumerate(inputs.cases)
    )
    backward_standins = standin_twins(backward, BACKWARD_STANDINS, _standin_input)
    kinks = tuple(
        tuple(
            Call(
                f"{tag}backward/kink/{i}/{side}", "backward", (W, x, y), about=_case_words(W, x, y)
            )
            for side, x in (("below", below), ("at", at), ("above", above))
        )
        for i, (W, at, below, above, y) in enumerate(inputs.kinks)
    )
    kink_calls = tuple(call for calls in kinks for call in calls)
    standin_arguments = {
        id(call): arguments
        for calls, kink, zero in zip(kinks, inputs.kinks, (0, 1), strict=True)
        for call, arguments in zip(calls, _standin_kink(kink, zero), strict=True)
    }
    standin_kink_calls = standin_twins(
        kink_calls, BACKWARD_STANDINS, lambda call: standin_arguments[id(call)]
    )
    limits, plateaus, progress = (
        _stop_calls(stops, f"{tag}should_stop/{group}")
        for group, stops in [
            ("limits", inputs.stop_limits),
            ("plateau", inputs.stop_plateau),
            ("progress", inputs.stop_progress),
        ]
    )
    train = tuple(
        Call(
            f"{tag}train/{i}",
            "train",
            (t.X, t.Y, t.W0, t.alpha, Rng(t.seed)),
            {"max_iter": t.max_iter, "tol": 0.0},
            TRAIN_STANDINS,
            about=_training_words(t),
        )
        for i, t in enumerate(inputs.training)
    )
    own_train = tuple(
        Call(f"{tag}train/own/{i}", "train", call.args, call.kwargs, about=call.about)
        for i, call in enumerate(train)
    )
    inlined = tuple(
        with_inlined(call, names) for call in train for names in inline_choices(TRAIN_INLINABLE)
    )
    twins = rng_twins(train[0], (inputs.training[0].seed + 1) % 2**31)
    p = inputs.plateau
    stops = Call(
        f"{tag}train/plateau",
        "train",
        (p.X, p.Y, p.W0, p.alpha, Rng(p.seed)),
        {"max_iter": p.max_iter, "tol": PLATEAU_TOL},
        TRAIN_STANDINS,
        about=_plateau_words(p),
    )
    own_stops = Call(
        f"{tag}train/plateau/own", "train", stops.args, stops.kwargs, about=stops.about
    )
    f = inputs.steady
    steady = (f.X, f.Y, f.W0, f.alpha, Rng(f.seed))
    own_steady = Call(
        f"{tag}train/steady/own",
        "train",
        steady,
        {"max_iter": f.max_iter, "tol": STEADY_TOL},
        about=_steady_words(f),
    )
    standin_steady = Call(
        f"{tag}train/steady",
        "train",
        steady,
        own_steady.kwargs,
        TRAIN_STANDINS,
        about=own_steady.about,
    )
    return [
        Check("forward_output", forward, matches_reference(forward, "ŷ", (0,))),
        Check("forward_cache", forward, matches_reference(forward, "cache", (1,))),
        Check("loss_value", loss, matches_reference(loss, "ℓ"), ("loss_without_half",)),
        *(
            Check(
                f"backward_{name}",
                (*backward, *backward_standins),
                right_by_either_route(
                    matches_reference(backward, GRADIENT_NAMES[k], (k,)),
                    matches_reference(backward_standins, GRADIENT_NAMES[k], (k,)),
                ),
                BACKWARD_MISTAKES,
            )
            for k, name in enumerate(("dw1", "dw2", "dv1", "dv2"))
        ),
        _gradient_check(backward[1:3], backward_standins, tag),
        Check(
            "backward_relu_at_zero",
            (*kink_calls, *standin_kink_calls),
            right_by_either_route(
                changes_where_reference_changes(
                    [pair for below, at, above in kinks for pair in ((below, at), (below, above))],
                    "backward(W, x, y)",
                    rtol=KINK_RTOL,
                    # H(a_k) enters the shared weights' gradients only: ∂ℓ/∂v_k = −e·o_k is
                    # continuous at the kink, and a mistake there is the ∂v checks' to count
                    entries=(0, 1),
                ),
                # With the stand-in forward, the values themselves: its a_k do not depend on
                # W, so a gradient by finite differences moves where the chain rule does.
                matches_reference(standin_kink_calls, "backward(W, x, y)"),
            ),
            ("relu_derivative_missing", "relu_derivative_at_zero"),  # H(0) = 1 moves more: 2nd
        ),
        Check(
            "should_stop_limits",
            limits,
            same_decision(limits, "should_stop"),
            ("stops_one_iteration_late", "stops_with_tol_zero"),
        ),
        Check("should_stop_plateau", plateaus, same_decision(plateaus, "should_stop")),
        Check("should_stop_progress", progress, same_decision(progress, "should_stop")),
        Check(
            "train_weights",
            (*train, *own_train, *twins),
            naming_stray_draws(
                training_loop(own_train, train, TRAIN_INLINABLE, "W", (0,), protected={2: "W0"}),
                train[0],
                twins,
            ),
            (*TRAIN_MISTAKES, "w0_modified_in_place"),
            inlined,
        ),
        Check(
            "train_losses",
            (*train, *own_train, *twins),
            naming_stray_draws(
                training_loop(own_train, train, TRAIN_INLINABLE, "losses", (1,)), train[0], twins
            ),
            TRAIN_MISTAKES,
            inlined,
        ),
        Check(
            "train_stops",
            (own_stops, stops, own_steady, standin_steady),
            stops_when_told(
                (own_stops, stops),
                (own_steady, standin_steady),
                p.max_iter,
                ("losses", (1,)),
                "should_stop",
                also=matches_reference([own_stops], "W", (0,)),  # W0 in place: train_weights
            ),
        ),
    ]


def _stop_calls(stops: Sequence[Stop], prefix: str) -> tuple[Call, ...]:
    return tuple(
        Call(
            f"{prefix}/{stop.name}",
            "should_stop",
            (stop.losses, stop.max_iter, stop.tol),
            about=_losses_words(stop),
        )
        for stop in stops
    )


def _values(array: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.3g}" for v in np.asarray(array, dtype=float)) + "]"


def _case_words(W: np.ndarray, x: np.ndarray, y: float | None = None) -> Translated:
    """One example: its values, and which side of 0 each ReLU input a_k falls."""
    a1, a2 = W[0] * x[0] + W[1] * x[1], W[0] * x[1] + W[1] * x[2]
    values = f"W = {_values(W)}, x = {_values(x)}" + ("" if y is None else f", y = {y:.3g}")
    side = {1: ">", 0: "=", -1: "<"}
    signs = ", ".join(f"a{k} {side[int(np.sign(a))]} 0" for k, a in ((1, a1), (2, a2)))
    return about(f"{values} ({signs})", f"{values} ({signs})")


def _pair_words(y: float, y_hat: float) -> Translated:
    text = f"y = {y:.3g}, ŷ = {y_hat:.3g}"
    return about(text, text)


def _losses_words(stop: Stop) -> Translated:
    """The loss sequence given to should_stop, by its shape."""
    losses, n = stop.losses, len(stop.losses)
    limits = f"max_iter = {stop.max_iter:g}, tol = {stop.tol:g}"
    flat = n - 1 if n else 0  # where the trailing run of equal losses starts
    while flat > 0 and losses[flat - 1] == losses[-1]:
        flat -= 1
    if n == 0:
        fr, en = "une liste de pertes vide", "an empty list of losses"
    elif flat == 0:
        fr, en = f"{n} pertes toutes égales", f"{n} equal losses"
    elif flat >= n - 1:
        fr, en = f"{n} pertes qui baissent à chaque itération", f"{n} losses falling at every step"
    else:
        fr = f"{n} pertes qui baissent, puis restent égales sur les {n - flat} dernières"
        en = f"{n} losses falling, then equal over the last {n - flat}"
    return about(f"{fr}, {limits}", f"{en}, {limits}")


def _training_words(t: Training) -> Translated:
    settings = f"W0 = {_values(t.W0)}, α = {t.alpha:g}, max_iter = {t.max_iter}, tol = 0"
    return about(
        f"{len(t.X)} exemples tirés au hasard, {settings}",
        f"{len(t.X)} examples drawn at random, {settings}",
    )


def _plateau_words(t: Training) -> Translated:
    settings = (
        f"W0 = {_values(t.W0)}, α = {t.alpha:g}, max_iter = {t.max_iter}, tol = {PLATEAU_TOL:g}"
    )
    return about(
        f"{len(t.X)} exemples où les deux ReLU restent éteintes (ŷ = 0, ℓ = ½ à chaque itération), "
        f"{settings}",
        f"{len(t.X)} examples on which both ReLUs stay off (ŷ = 0, ℓ = ½ at every step), {settings}",
    )


def _steady_words(t: Training) -> Translated:
    settings = (
        f"W0 = {_values(t.W0)}, α = {t.alpha:g}, max_iter = {t.max_iter}, tol = {STEADY_TOL:g}"
    )
    return about(
        f"un exemple dont la perte baisse de 2 à 5 % à chaque itération, {settings}",
        f"one example whose loss falls by 2 to 5 % at every step, {settings}",
    )


def _gradient_check(backward: Sequence[Call], standins: Sequence[Call], tag: str) -> Check:
    """The four gradients of two cases (one ReLU off, both on) against the student's own
    forward and loss; or, for a backward that calls a wrong forward, every gradient right
    with the stand-in forward pass (``standins``: the twins of the backward checks)."""
    calls, probes = [], []
    for gradient in backward:
        W, x, y = gradient.args
        case = gradient.key.rsplit("/", 1)[-1]
        at = f"{tag}gradcheck/{case}/base"  # the loss at W, which the probes must agree with
        base = f"{at}/loss"
        calls += [
            Call(f"{at}/forward", "forward", (W, x), about=gradient.about),
            Call(base, "loss", (y, Ref(f"{at}/forward", (0,))), about=gradient.about),
        ]
        for k, name in enumerate(GRADIENT_NAMES):
            keys = {}
            for sign, label in ((1, "+"), (-1, "-")):
                prefix = f"{tag}gradcheck/{case}/{k}{label}"
                keys[label] = f"{prefix}/loss"
                shifted = W + sign * STEP * np.eye(4)[k]
                calls.append(
                    Call(f"{prefix}/forward", "forward", (shifted, x), about=gradient.about)
                )
                calls.append(
                    Call(
                        keys[label],
                        "loss",
                        (y, Ref(f"{prefix}/forward", (0,))),
                        about=gradient.about,
                    )
                )
            probes.append(Probe(name, gradient, (k,), keys["+"], keys["-"], base,
                                generic=generic(W)))  # fmt: skip
    judge = right_by_either_route(
        agrees_with_finite_differences(probes, STEP, (), "forward + loss"),
        matches_reference(standins, "∇ℓ"),
    )
    return Check("backward_gradcheck", (*calls, *backward, *standins), judge, follows=True)
