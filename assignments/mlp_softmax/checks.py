"""Hidden checks of TP1: initialisation, SoftMax, forward, loss, gradients, SGD step, training.

``build`` makes the checks from a set of inputs: the fixed ``FIXED``, or inputs ``draw``n
from a seed (with random sizes too).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import ModuleType

import numpy as np

from autograder.checks import (
    PASSED,
    Answers,
    Check,
    Judge,
    Probe,
    Verdict,
    about,
    agrees_with_finite_differences,
    all_of,
    call_text,
    fail,
    generic,
    in_time,
    inline_choices,
    matches_reference,
    matches_sample,
    naming_stray_draws,
    raised,
    right_by_either_route,
    rng_twins,
    standin_twins,
    training_loop,
    with_inlined,
)
from autograder.compare import RTOL_LOG_GUARD, kind
from autograder.execution.plan import Call, Ref, Rng, Shifted, sample_positions
from autograder.messages import Message, Translated

PARAM_NAMES = ("Wh", "bh", "Wy", "by")
STEP = 1e-6
SCALE = (1024, 128, 2, 8)
"""(nx, nh, ny, n) of the network backward is also called on: 131,458 parameters. On one
core of the grading machine, a backward pass takes 0.2 ms there, one written with
scalar Python loops over every example and weight 0.2 s, one that writes each partial
derivative by its formula (loops over examples and outputs inside the loops over
weights) 1.9 s, and a gradient by finite differences 16 s with one lean forward pass per
parameter: ``SCALE_SECONDS`` lies between. Finite differences cost a forward pass,
itself proportional to the parameters, per parameter; backpropagation a pass: the wide
input layer, the small batch and the two outputs make that gap wide."""
SCALE_SECONDS = 5.0
SCALE_SAMPLE = 32
"""Entries of each gradient sent back from that call and compared with the reference's:
a backward that answers large inputs with anything fast (zeros, noise) fails there."""
_PASSES = 2 * (SCALE[1] * SCALE[0] + SCALE[1] + SCALE[2] * SCALE[1] + SCALE[2])
SLOWER_WAY = about(
    "un gradient par différences finies y demande deux passes avant par paramètre "
    f"({_PASSES:_}), là où la rétropropagation n'en fait qu'une en arrière".replace("_", " "),
    "a gradient by finite differences takes two forward passes per parameter there "
    f"({_PASSES:,}), where backpropagation makes a single backward one",
)


def _params(rng: np.random.Generator, nx: int, nh: int, ny: int) -> dict[str, np.ndarray]:
    return {
        "Wh": rng.normal(size=(nh, nx)),
        "bh": rng.normal(scale=0.5, size=nh),
        "Wy": rng.normal(size=(ny, nh)),
        "by": rng.normal(scale=0.5, size=ny),
    }


def _scale_network(rng: np.random.Generator, nx: int, nh: int, ny: int) -> dict[str, np.ndarray]:
    """Weights scaled by 1/√(fan-in), as an initialisation would: the hidden units of a
    wide layer are not saturated, so every entry of every gradient is far from 0."""
    params = _params(rng, nx, nh, ny)
    return {**params, "Wh": params["Wh"] / np.sqrt(nx), "Wy": params["Wy"] / np.sqrt(nh)}


def _batch(rng: np.random.Generator, n: int, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n, nx)), np.eye(ny)[rng.integers(ny, size=n)]


def _with_a_kink(
    params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The same batch with one ReLU input exactly 0 (h̃ = 0 for the first example and the
    first hidden unit: a zero example, a zero bias), where the derivative 𝟙(h̃ > 0) is 0
    and a derivative written h̃ >= 0 is 1. Any order of summation gives this 0 exactly."""
    X = X.copy()
    X[0] = 0.0
    bh = params["bh"].copy()
    bh[0] = 0.0
    return {**params, "bh": bh}, X, Y


Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Inputs:
    init: tuple[int, int, int, int, int]  # nx, nh, ny, a seed, another seed
    logits: tuple[np.ndarray, ...]  # for softmax, moderate
    large_logits: tuple[np.ndarray, ...]  # for softmax, about ±1000
    forward: tuple[Params, np.ndarray]  # (params, X)
    probabilities: tuple[np.ndarray, np.ndarray]  # (Y_hat, Y)
    saturated: tuple[np.ndarray, np.ndarray]  # (Y_hat, Y), Y_hat holding exact 0s and 1s
    backward: tuple[Params, np.ndarray, np.ndarray]  # (params, X, Y)
    scale: tuple[Params, np.ndarray, np.ndarray, tuple[int, ...]] | None
    # (params, X, Y, sampled positions) of SCALE; drawn inputs only
    gradcheck: tuple[Params, np.ndarray, np.ndarray]  # (params, X, Y)
    step: tuple[Params, Params, float]  # (params, grads, lr)
    training: tuple[Params, np.ndarray, np.ndarray, float, int, int, int]
    # (params, X, Y, lr, batch_size, epochs, seed)


def _fixed_inputs() -> Inputs:
    rng = np.random.default_rng(2026)
    # Forward and backward use different inputs: the cache given to backward reveals
    # nothing about the forward pass the student is graded on.
    forward_params, (forward_x, _) = _params(rng, 3, 4, 3), _batch(rng, 6, 3, 3)
    backward = _with_a_kink(_params(rng, 3, 5, 4), *_batch(rng, 7, 3, 4))
    probabilities = (
        np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.05, 0.05, 0.9]]),
        np.eye(3)[[0, 1, 1, 0]],
    )
    gradcheck_rng = np.random.default_rng(99)
    return Inputs(
        init=(3, 5, 2, 0, 1),
        logits=(rng.normal(scale=3.0, size=(5, 4)), np.zeros((2, 3))),
        large_logits=(
            np.array([[1000.0, 0.0, -5.0], [999.0, 1000.0, 1000.0]]),
            np.array([[-1000.0, -1001.0], [-2000.0, -999.0]]),
            # rows 2000 apart: shifting by the whole array's maximum underflows the second
            np.array([[1000.0, 998.0, 999.5], [-1000.0, -1002.0, -999.0]]),
        ),
        forward=(forward_params, forward_x),
        probabilities=probabilities,
        saturated=(
            np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]]),
            np.eye(3)[[0, 2, 0]],
        ),
        backward=backward,
        scale=None,  # drawn for each grading run: the entries it samples must stay secret
        gradcheck=(_params(gradcheck_rng, 2, 3, 3), *_batch(gradcheck_rng, 4, 2, 3)),
        step=(forward_params, _params(np.random.default_rng(4), 3, 4, 3), 0.3),
        # 10 examples in batches of 4: 4, 4, 2 (np.array_split would make 4, 3, 3)
        training=(forward_params, *_batch(np.random.default_rng(8), 10, 3, 3), 0.1, 4, 3, 21),
    )


FIXED = _fixed_inputs()


def draw(rng: np.random.Generator) -> Inputs:
    """Inputs like ``FIXED``, of random sizes, drawn from ``rng``."""

    def size(low: int, high: int) -> int:
        return int(rng.integers(low, high + 1))

    nx, nh, ny = size(2, 5), size(3, 6), size(2, 5)
    seed = int(rng.integers(2**31))
    params = _params(rng, nx, nh, ny)
    n_logits = size(2, 4)

    def training() -> tuple:
        # n = k·batch + r with 1 ≤ r ≤ batch − 2: the last batch is incomplete, and
        # batches of nearly equal sizes (np.array_split) differ from perm[s:s+batch_size]
        batch = size(3, 5)
        n = batch * size(2, 3) + size(1, batch - 2)
        batch_x, batch_y = _batch(rng, n, nx, ny)
        rate = round(float(rng.uniform(0.05, 0.3)), 3)
        return (params, batch_x, batch_y, rate, batch, size(2, 4), int(rng.integers(2**31)))

    inputs = Inputs(
        init=(nx, nh, ny, seed, (seed + 1 + int(rng.integers(2**30))) % 2**31),
        logits=(rng.normal(scale=3.0, size=(size(2, 6), ny)), np.full((2, ny), rng.normal())),
        large_logits=(
            rng.uniform(800, 1000, size=(n_logits, 1)) + rng.normal(scale=3, size=(n_logits, ny)),
            rng.uniform(-2000, -800, size=(n_logits, 1)) + rng.normal(scale=3, size=(n_logits, ny)),
        ),
        forward=(params, _batch(rng, size(4, 8), nx, ny)[0]),
        probabilities=_probabilities(rng, size(3, 8), ny),
        saturated=_saturated(rng, size(3, 6), ny),
        backward=_with_a_kink(_params(rng, nx, nh, ny), *_batch(rng, size(4, 8), nx, ny)),
        scale=None,
        gradcheck=(_params(rng, nx, nh, ny), *_batch(rng, size(3, 6), nx, ny)),
        step=(params, _params(rng, nx, nh, ny), round(float(rng.uniform(0.01, 0.5)), 3)),
        training=training(),
    )
    return replace(inputs, scale=_scale(np.random.default_rng(int(rng.integers(2**31)))))


def _scale(rng: np.random.Generator) -> tuple[Params, np.ndarray, np.ndarray, tuple[int, ...]]:
    """The ``SCALE`` network, a batch and the positions its gradients are sampled at, all
    drawn for each grading run: feedback names some of these positions, and a student who
    knew them all could differentiate numerically there alone, in time."""
    return (
        _scale_network(rng, *SCALE[:3]),
        *_batch(rng, SCALE[3], SCALE[0], SCALE[2]),
        tuple(int(p) for p in rng.integers(2**31, size=SCALE_SAMPLE)),
    )


def _probabilities(rng: np.random.Generator, n: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a SoftMax of random logits, and one-hot labels. Logits within ±1.5 keep
    every probability above 0.01 (ny ≤ 5): a guard on log(p) of up to 1e-7 moves the loss
    by less than 1e-5 (see ``compare.RTOL_LOG_GUARD``)."""
    logits = np.clip(rng.normal(size=(n, ny)), -1.5, 1.5)
    y_hat = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_hat, np.eye(ny)[rng.integers(ny, size=n)]


def _saturated(rng: np.random.Generator, n: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows with exact 0s: one-hot on the label, or spread over the label and a few others.
    The label's probability is never 0, so the loss stays finite with any floor. The first
    row is always spread: with one-hot rows only, the loss is 0, and a loss averaged over
    the wrong axis (or not at all) would pass, for some seeds only."""
    y_hat, y = _probabilities(rng, n, ny)
    labels = y.argmax(axis=1)
    for row, label in enumerate(labels):
        zeroed = rng.random(ny) < 0.5
        if row == 0:
            zeroed[(label + 1) % ny] = False
        elif rng.random() < 0.5:
            zeroed[:] = True  # one-hot
        zeroed[label] = False
        y_hat[row, zeroed] = 0.0
    return y_hat / y_hat.sum(axis=1, keepdims=True), y


# --- initialisation ------------------------------------------------------------------


def _init_judge(calls: Sequence[Call]) -> Judge:
    """Right keys and shapes, finite, weights not all equal, drawn from the given rng
    (``calls``: a seed, the same seed again, another seed)."""
    first, again, other = calls

    def judge(student: Answers, reference: Answers) -> Verdict:
        for call in calls:
            answer = student[call.key]
            if not answer.ok:
                return raised(call, answer)
        params, expected = student[first.key].value, reference[first.key].value
        message = _structure(params, expected)
        if message:
            return fail(message)
        for name in ("Wh", "Wy"):
            weights = np.asarray(params[name])
            if not np.all(np.isfinite(weights)) or np.ptp(weights) == 0:
                return fail(
                    Message(
                        "wrong_decision",
                        {
                            "component": "init_params",
                            "expected": about(
                                f"un {name} tiré au hasard, aux valeurs pas toutes égales",
                                f"a random {name}, whose values are not all equal",
                            ),
                            "obtained": f"{name} = {str(weights.tolist())[:200]}",
                        },
                    )
                )
        same_seed, other_seed = student[again.key].value, student[other.key].value
        if _structure(same_seed, expected) or _structure(other_seed, expected):
            return fail(Message("raised", {"call": call_text(again), "error": "structure"}))
        if not all(np.array_equal(params[n], same_seed[n]) for n in PARAM_NAMES) or all(
            np.array_equal(params[n], other_seed[n]) for n in ("Wh", "Wy")
        ):
            return fail(
                Message(
                    "wrong_decision",
                    {
                        "component": "init_params(..., rng)",
                        "expected": about(
                            "des poids tirés avec rng (même graine, mêmes poids)",
                            "weights drawn with rng (same seed, same weights)",
                        ),
                        "obtained": about(
                            "des poids qui ne dépendent pas de rng",
                            "weights that do not depend on rng",
                        ),
                    },
                )
            )
        return PASSED

    return judge


def _structure(params, expected) -> Message | None:
    if not isinstance(params, dict) or not set(PARAM_NAMES) <= set(params):
        return Message(
            "wrong_kind",
            {"component": "init_params", "expected": kind(expected), "obtained": kind(params)},
        )
    for name in PARAM_NAMES:
        shape = np.shape(params[name]) if isinstance(params[name], np.ndarray) else None
        if shape != expected[name].shape:
            return Message(
                "wrong_shape",
                {"component": name, "expected": str(expected[name].shape), "obtained": str(shape)},
            )
    return None


# --- the checks --------------------------------------------------------------------------

BACKWARD_MISTAKES = {
    "Wh": ("missing_batch_mean", "tanh_derivative"),
    "bh": ("missing_batch_mean", "bias_not_summed", "tanh_derivative", "relu_derivative_at_zero"),
    "Wy": ("missing_batch_mean",),
    "by": ("missing_batch_mean", "bias_not_summed"),
}
# The training loop is graded with the student's own functions, and with stand-ins
# (``checks.training_loop``). The stand-in step, loss, SoftMax and grad_logits are the
# contract's own formulas (θ − lr·∇, the plain cross-entropy, exp/Σexp on the moderate
# logits of training, Ŷ − Y): a loop computing them inline gives the same. The
# forward and backward stand-ins are not the exercise's: a loop computing those inline is
# compared with the reference run with stand-ins for the others only.
TRAIN_STANDINS = {
    "forward": "mlp_forward",
    "backward": "mlp_backward",
    "sgd_step": "mlp_sgd_step",
    "loss_accuracy": "mlp_loss_accuracy",
    "softmax": "mlp_softmax",
    "grad_logits": "mlp_grad_logits",
}
TRAIN_INLINABLE = ("forward", "backward")
BACKWARD_STANDINS = {"grad_logits": "mlp_grad_logits"}
"""backward is also judged with the stand-in ∂ℓ/∂ỹ (the contract's Ŷ − Y): a backward that
calls a wrong grad_logits, as the template suggests it may, loses only grad_logits' point."""
FORWARD_STANDINS = {"softmax": "mlp_softmax"}
"""forward is also judged with the stand-in SoftMax (the contract's formula; the forward
pass's logits are moderate): a wrong softmax costs only its own points."""
TRAIN_MISTAKES = (
    "gradient_ascent",
    "last_batch_dropped",
    "permutation_drawn_once",
    "permutation_unused",
    "missing_batch_mean",
    "tanh_derivative",
    "activation_not_passed",
    "epochs_off_by_one",
)
"""Loop mistakes, and mistakes of a gradient the loop computes inline (a helper's own
mistake is not the loop's: the stand-in route passes it)."""


def _reference_cache(
    reference: ModuleType, params: Params, X: np.ndarray, activation: str
) -> Params:
    """The cache backward is given: the reference's, so backward is graded on its own."""
    return reference.forward(params, X, activation)[1]


def _examples(n: int, lang: str) -> str:
    word = {"fr": "exemple", "en": "example"}[lang]
    return f"{n} {word}{'s' if n > 1 else ''}"


CACHE_WORDS = {
    "reference": (", avec le cache de la passe avant de référence",
                  ", with the cache of the reference forward pass"),
    "own": (", avec le cache de votre propre passe avant", ", with the cache of your own forward pass"),
}  # fmt: skip
"""How a backward call's inputs name the cache it is given."""


def _batch_words(
    X: np.ndarray, activation: str, *, cache: str | None = None, network: Params | None = None
) -> Translated:
    n = len(X)
    fr = f"un batch de {_examples(n, 'fr')} (X de forme {X.shape}), activation {activation}"
    en = f"a batch of {_examples(n, 'en')} (X of shape {X.shape}), activation {activation}"
    if network:
        count = sum(value.size for value in network.values())
        fr = f"un réseau de {count:,} paramètres".replace(",", " ") + ", " + fr
        en = f"a network of {count:,} parameters, " + en
    if cache:
        fr, en = fr + CACHE_WORDS[cache][0], en + CACHE_WORDS[cache][1]
    return about(fr, en)


def _logits_words(Z: np.ndarray) -> Translated:
    shape = f"{Z.shape[0]} × {Z.shape[1]}"
    largest = float(np.max(np.abs(Z)))
    if largest >= 500:
        return about(
            f"des logits {shape} de l'ordre de ±{largest:.0f}",
            f"{shape} logits of the order of ±{largest:.0f}",
        )
    if np.all(Z[:, :1] == Z):
        return about(
            f"des logits {shape} égaux sur chaque ligne", f"{shape} logits equal along each row"
        )
    return about(f"des logits {shape} tirés au hasard", f"random {shape} logits")


def _probabilities_words(Y_hat: np.ndarray, *, saturated: bool) -> Translated:
    n = len(Y_hat)
    if saturated:
        return about(
            f"{n} lignes de probabilités ŷ contenant des 0 et des 1, et leurs étiquettes Y",
            f"{n} rows of probabilities ŷ holding 0s and 1s, and their labels Y",
        )
    return about(
        f"{n} lignes de probabilités ŷ et leurs étiquettes Y",
        f"{n} rows of probabilities ŷ and their labels Y",
    )


def _training_words(training: tuple, activation: str) -> Translated:
    _, X, _, lr, batch_size, epochs, _ = training
    settings = f"lr = {lr:g}, batch_size = {batch_size}, epochs = {epochs}, {activation}"
    return about(
        f"{_examples(len(X), 'fr')} tirés au hasard, {settings}",
        f"{_examples(len(X), 'en')} drawn at random, {settings}",
    )


def build(inputs: Inputs, reference: ModuleType, tag: str = "") -> list[Check]:
    """The checks of TP1 on ``inputs`` (``reference``: the loaded solution, for inputs
    computed from it); ``tag`` prefixes every call key."""
    nx, nh, ny, seed, other = inputs.init
    sizes = about(
        f"nx = {nx}, nh = {nh}, ny = {ny}, un générateur aléatoire rng",
        f"nx = {nx}, nh = {nh}, ny = {ny}, a random generator rng",
    )
    init = tuple(
        Call(f"{tag}init/{i}", "init_params", (nx, nh, ny, Rng(s)), about=sizes)
        for i, s in enumerate((seed, seed, other))
    )
    softmax = tuple(
        Call(f"{tag}softmax/{i}", "softmax", (Z,), about=_logits_words(Z))
        for i, Z in enumerate(inputs.logits)
    )
    large = tuple(
        Call(f"{tag}softmax/large/{i}", "softmax", (Z,), about=_logits_words(Z))
        for i, Z in enumerate(inputs.large_logits)
    )
    forward = tuple(
        Call(
            f"{tag}forward/{a}",
            "forward",
            inputs.forward,
            {"activation": a},
            about=_batch_words(inputs.forward[1], a),
        )
        for a in ("tanh", "relu")
    )

    forward_standins = standin_twins(forward, FORWARD_STANDINS)

    def on_probabilities(key: str, function: str, pair: tuple, saturated: bool = False):
        words = _probabilities_words(pair[0], saturated=saturated)
        return (Call(f"{tag}{key}", function, pair, about=words),)

    loss = on_probabilities("loss_accuracy/values", "loss_accuracy", inputs.probabilities)
    saturated = on_probabilities(
        "loss_accuracy/saturated", "loss_accuracy", inputs.saturated, saturated=True
    )
    logits = on_probabilities("grad_logits/values", "grad_logits", inputs.probabilities)
    params, X, Y = inputs.backward
    backward = tuple(
        Call(
            f"{tag}backward/{a}",
            "backward",
            (params, X, Y, _reference_cache(reference, params, X, a)),
            {"activation": a},
            about=_batch_words(X, a, cache="reference"),
        )
        for a in ("tanh", "relu")
    )
    backward_standins = standin_twins(backward, BACKWARD_STANDINS)
    # The same gradients from the cache of the student's own forward pass: a backward may
    # read what its own forward keeps beyond the contract's keys (CONTRACT.md names the
    # keys a cache has, not all it may have); with a right forward, they are the same.
    own_caches = tuple(
        Call(f"{tag}backward/{a}/forward", "forward", (params, X), {"activation": a},
             about=_batch_words(X, a))
        for a in ("tanh", "relu")
    )  # fmt: skip
    backward_own_cache = tuple(
        Call(
            f"{tag}backward/{a}/own_cache",
            "backward",
            (params, X, Y, Ref(forward.key, (1,))),
            {"activation": a},
            about=_batch_words(X, a, cache="own"),
        )
        for a, forward in zip(("tanh", "relu"), own_caches, strict=True)
    )
    step = (
        Call(
            f"{tag}sgd_step/values",
            "sgd_step",
            inputs.step,
            about=about(
                f"des paramètres et des gradients tirés au hasard, lr = {inputs.step[2]:g}",
                f"random parameters and gradients, lr = {inputs.step[2]:g}",
            ),
        ),
    )
    small = {
        name: _backward_values(backward, backward_own_cache, backward_standins, name)
        for name in PARAM_NAMES
    }
    small_calls = (*backward, *own_caches, *backward_own_cache, *backward_standins)
    scale = (
        _AtScale.build(inputs.scale, reference, (small, small_calls), tag) if inputs.scale else None
    )
    *train_args, train_seed = inputs.training
    train = tuple(
        Call(
            f"{tag}train/standins{suffix}",
            "train",
            (*train_args, Rng(train_seed)),
            {"activation": activation},
            TRAIN_STANDINS,
            about=_training_words(inputs.training, activation),
        )
        for activation, suffix in (("tanh", ""), ("relu", "/relu"))
    )
    own_train = tuple(
        Call(
            c.key.replace("train/standins", "train/own", 1),
            "train",
            c.args,
            c.kwargs,
            about=c.about,
        )
        for c in train
    )
    inlined = tuple(
        with_inlined(call, names) for call in train for names in inline_choices(TRAIN_INLINABLE)
    )
    twins = rng_twins(train[0], (train_seed + 1) % 2**31)
    return [
        Check("init_params", init, _init_judge(init)),
        Check(
            "softmax_values",
            softmax,
            matches_reference(softmax, "softmax(Z)"),
            ("softmax_wrong_axis",),
        ),
        Check(
            "softmax_large_logits",
            large,
            matches_reference(large, "softmax(Z)"),
            ("softmax_overflow", "softmax_wrong_axis"),
        ),
        *(
            Check(
                f"forward_{part}",
                (*forward, *forward_standins),
                right_by_either_route(
                    matches_reference(forward, component, path),
                    matches_reference(forward_standins, component, path),
                ),
                ("softmax_wrong_axis", "softmax_overflow"),
            )
            for part, component, path in (("output", "ŷ", (0,)), ("cache", "cache", (1,)))
        ),
        Check(
            "loss_accuracy_values",
            loss,
            matches_reference(loss, "(L, acc)", rtol=RTOL_LOG_GUARD),
            ("loss_not_averaged", "accuracy_as_count"),
        ),
        Check(
            "loss_accuracy_saturated",
            saturated,
            matches_reference(saturated, "(L, acc)", rtol=RTOL_LOG_GUARD),
            ("loss_not_averaged", "accuracy_as_count"),
        ),
        Check(
            "grad_logits_values",
            logits,
            matches_reference(logits, "∂ℓ/∂ỹ"),
            ("grad_logits_divided",),
        ),
        *(
            Check(
                f"backward_{name}",
                scale.calls if scale else small_calls,
                all_of(
                    [
                        # a gradient that is not backpropagated, whatever its values, earns nothing
                        *([scale.in_time] if scale else []),
                        small[name],
                        *([scale.values(first=name)] if scale else []),
                    ]
                ),
                BACKWARD_MISTAKES[name],
            )
            for name in PARAM_NAMES
        ),
        _gradient_check(*inputs.gradcheck, reference, backward_standins, scale, tag),
        Check(
            "sgd_step_values",
            step,
            matches_reference(step, "sgd_step"),
            ("gradient_ascent",),
        ),
        Check(
            "train_params",
            (*train, *own_train, *twins),
            naming_stray_draws(
                training_loop(own_train, train, TRAIN_INLINABLE, "train", (0,)), train[0], twins
            ),
            TRAIN_MISTAKES,
            inlined,
        ),
        Check(
            "train_history",
            (*train, *own_train, *twins),
            naming_stray_draws(
                training_loop(
                    own_train, train, TRAIN_INLINABLE, "history", (1,), rtol=RTOL_LOG_GUARD
                ),
                train[0],
                twins,
            ),
            TRAIN_MISTAKES,
            inlined,
        ),
    ]


def _backward_values(
    reference_cache: Sequence[Call],
    own_cache: Sequence[Call],
    standins: Sequence[Call],
    name: str,
    matches: Callable[[Sequence[Call], str, tuple[str]], Judge] = matches_reference,
) -> Judge:
    """Judge of one gradient: the reference's, from the reference's cache or from the
    student's own; or, for a backward that calls a wrong grad_logits, with the stand-in."""
    component = f"∂L/∂{name}"
    return right_by_either_route(
        right_by_either_route(
            matches(reference_cache, component, (name,)),
            matches(own_cache, component, (name,)),
        ),
        matches(standins, component, (name,)),
    )


def _probed_entries(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Two entries of a parameter whose gradient is checked by finite differences: at two
    ends of a vector; in a matrix, at opposite corners off its diagonal, so that a gradient
    transposed by mistake is caught there even when the matrix is square."""
    if len(shape) == 2 and shape[1] > 1:
        return [(0, shape[1] - 1), (shape[0] - 1, 0)]
    return list(dict.fromkeys([tuple(0 for _ in shape), tuple(n - 1 for n in shape)]))


def _probes(
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    gradients: tuple[Call, Call],
    entries: Sequence[tuple[str, tuple[int, ...], tuple[int | str, ...]]],
    prefix: str,
    own_forward: Call,
) -> tuple[list[Call], list[Probe]]:
    """Finite-difference probes of the gradient ``gradients`` (from the student's own cache,
    then from the reference's) at ``entries`` (parameter, index, path of that entry in
    the gradient's answer): each the loss of the student's own forward pass at θ ± STEP,
    watched for changes in place, and limited in time, when the gradient is; first, the
    loss at θ of ``own_forward``'s answer, which the probes must agree with."""
    watched, seconds = gradients[0].watched, gradients[0].seconds
    words = _batch_words(X, "tanh", network=params if seconds else None)
    base = Call(f"{prefix}/loss", "loss_accuracy", (Ref(own_forward.key, (0,)), Y), about=words)
    calls, probes = [base], []
    plain = generic(*params.values())
    for name, index, path in entries:
        keys = {}
        for sign, label in ((1, "+"), (-1, "-")):
            shifted = Shifted(params, name, index, sign * STEP)
            at = f"{prefix}/{name}{list(index)}{label}"
            keys[label] = f"{at}/loss"
            calls += [
                Call(
                    f"{at}/forward",
                    "forward",
                    (shifted, X),
                    {"activation": "tanh"},
                    about=words,
                    seconds=seconds,
                    watched=watched,
                ),
                Call(keys[label], "loss_accuracy", (Ref(f"{at}/forward", (0,)), Y), about=words),
            ]
        probes.append(Probe(f"∂L/∂{name}{list(index)}", gradients[0], path, keys["+"], keys["-"],
                            base.key, gradients[1], plain))  # fmt: skip
    return calls, probes


def _backward_pair(
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    reference: ModuleType,
    key: str,
    *,
    seconds: float | None = None,
    sample: tuple[int, ...] = (),
) -> tuple[Call, Call, Call]:
    """The student's forward pass, backward from its cache, and backward from the
    reference's cache (right there, the gradient is right whatever the student's forward
    pass puts in its own cache). A backward given ``seconds`` is told with its network's
    size: its time is judged for that size. A network so large that its gradients are
    sampled is not copied to watch for changes in place either (no judge reads them)."""
    network = params if seconds else None
    watched = not sample
    own_forward = Call(f"{key}/forward", "forward", (params, X), {"activation": "tanh"},
                       about=_batch_words(X, "tanh", network=network), seconds=seconds,
                       watched=watched)  # fmt: skip
    own_cache = Call(
        f"{key}/backward",
        "backward",
        (params, X, Y, Ref(own_forward.key, (1,))),
        {"activation": "tanh"},
        about=_batch_words(X, "tanh", cache="own", network=network),
        seconds=seconds,
        sample=sample,
        watched=watched,
    )
    reference_cache = replace(
        own_cache,
        key=f"{key}/backward_reference_cache",
        args=(params, X, Y, _reference_cache(reference, params, X, "tanh")),
        about=_batch_words(X, "tanh", cache="reference", network=network),
    )
    return own_forward, own_cache, reference_cache


@dataclass(frozen=True)
class _AtScale:
    """``backward`` on the ``SCALE`` network, where only backpropagation ends in time:
    from the reference's cache, from the student's own and with the stand-ins, each
    sampled; and a probe of its gradient by finite differences of the student's own
    forward pass and loss at a sampled entry of ``Wh``: finite differences that skip
    ``Wh``, its largest part, are the only ones fast enough there."""

    timed: tuple[Call, ...]
    calls: tuple[Call, ...]
    probes: tuple[Probe, ...]
    shapes: dict[str, tuple[int, ...]]
    small: dict[str, Judge]
    """The backward checks' judges on the small inputs, by name (their calls are in
    ``calls``): what a gradient right there must stay on this network."""

    @classmethod
    def build(
        cls, scale: tuple, reference: ModuleType, small: tuple[dict[str, Judge], tuple], tag: str
    ) -> _AtScale:
        params, X, Y, sample = scale
        own_forward, own_cache, reference_cache = _backward_pair(
            params, X, Y, reference, f"{tag}scale", seconds=SCALE_SECONDS, sample=sample
        )
        (standins,) = standin_twins((reference_cache,), BACKWARD_STANDINS)
        # of the sampled entries of ∂L/∂Wh, the steepest: the network is drawn, and an entry
        # drawn blindly may be so flat that no forward pass differs there; a position drawn,
        # wherever it lies in Wh, which a loop differentiating Wh in order seldom reaches
        kept = sample_positions(sample, params["Wh"].size)
        cache = _reference_cache(reference, params, X, "tanh")
        slopes = np.abs(reference.backward(params, X, Y, cache, "tanh")["Wh"].ravel()[kept])
        probed = int(np.argmax(slopes))
        index = tuple(int(i) for i in np.unravel_index(kept[probed], params["Wh"].shape))
        entries = [("Wh", index, ("Wh", probed))]
        probe_calls, probes = _probes(
            params, X, Y, (own_cache, reference_cache), entries, f"{tag}scale/gradcheck",
            own_forward,
        )  # fmt: skip
        timed = (reference_cache, own_cache, standins)
        shapes = {name: value.shape for name, value in params.items()}
        judges, small_calls = small
        calls = (*small_calls, own_forward, *timed, *probe_calls)
        return cls(timed, calls, tuple(probes), shapes, judges)

    @property
    def in_time(self) -> Judge:
        """Judge: every call on this network ended in time, the student's forward passes
        included (work done in an untimed call would be free for the timed ones)."""
        return in_time([call for call in self.calls if call.seconds], SLOWER_WAY)

    def values(self, first: str | None = None) -> Judge:
        """Judge: no gradient right on the small inputs is wrong on this network (``first``'s
        told first, if it is). A backward that differentiates small
        networks numerically, and answers this one with anything fast for the parameters
        it cannot differentiate in time, betrays itself on one gradient and loses them all;
        a gradient wrong everywhere costs its own check only."""
        reference_cache, own_cache, standins = self.timed
        large = {
            name: _backward_values(
                (reference_cache,), (own_cache,), (standins,), name,
                functools.partial(matches_sample, shape=self.shapes[name]),
            )
            for name in sorted(self.small, key=lambda name: name != first)
        }  # fmt: skip

        def judge(student: Answers, reference: Answers) -> Verdict:
            for name, judged in large.items():
                verdict = judged(student, reference)
                if not verdict.passed and self.small[name](student, reference).passed:
                    return verdict
            return PASSED

        return judge

    def gradient_check(self) -> Judge:
        """Judge: the probe agrees with the student's own functions (or every gradient is
        right with the stand-in), and no gradient is right on small inputs only."""
        return all_of([
            right_by_either_route(
                agrees_with_finite_differences(self.probes, STEP, (0,), "forward + loss_accuracy"),
                matches_reference(self.timed[2:], "∇L"),
            ),
            self.values(),
        ])  # fmt: skip


def _gradient_check(
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    reference: ModuleType,
    standins: Sequence[Call],
    scale: _AtScale | None,
    tag: str,
) -> Check:
    """Two entries of each gradient against finite differences of the student's own
    functions; or, for a backward that calls a wrong grad_logits, every gradient right
    with the stand-in ∂ℓ/∂ỹ (``standins``: the twins of the backward checks). The same
    on the ``scale`` network, where backward must also end in time, and give every
    gradient that the backward checks find right on the small inputs."""
    own_forward, gradient, alternative = _backward_pair(params, X, Y, reference, f"{tag}gradcheck")
    entries = [
        (name, index, (name, *index))
        for name in PARAM_NAMES
        for index in _probed_entries(params[name].shape)
    ]
    probe_calls, probes = _probes(
        params, X, Y, (gradient, alternative), entries, f"{tag}gradcheck", own_forward
    )
    judge = all_of([
        *([scale.in_time] if scale else []),  # finite differences agree with themselves
        right_by_either_route(
            agrees_with_finite_differences(probes, STEP, (0,), "forward + loss_accuracy"),
            matches_reference(standins, "∇L"),
        ),
        *([scale.gradient_check()] if scale else []),
    ])  # fmt: skip
    calls = (own_forward, gradient, alternative, *probe_calls, *standins)
    return Check(
        "backward_gradcheck", (*calls, *(scale.calls if scale else ())), judge, follows=True
    )
