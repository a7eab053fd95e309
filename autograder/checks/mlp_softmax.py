"""Hidden checks of TP1: initialisation, SoftMax, forward, loss, gradients, SGD step, training."""

from __future__ import annotations

import numpy as np

from ..compare import kind
from ..execution.plan import Call, Ref, Rng
from ..messages import Message
from . import (
    PASSED,
    Answers,
    Check,
    Probe,
    Verdict,
    agrees_with_finite_differences,
    call_text,
    fail,
    matches_reference,
)

PARAM_NAMES = ("Wh", "bh", "Wy", "by")
STEP = 1e-6


def _params(rng: np.random.Generator, nx: int, nh: int, ny: int) -> dict[str, np.ndarray]:
    return {
        "Wh": rng.normal(size=(nh, nx)),
        "bh": rng.normal(scale=0.5, size=nh),
        "Wy": rng.normal(size=(ny, nh)),
        "by": rng.normal(scale=0.5, size=ny),
    }


def _batch(rng: np.random.Generator, n: int, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n, nx)), np.eye(ny)[rng.integers(ny, size=n)]


_rng = np.random.default_rng(2026)
# Forward and backward use different inputs: the cache given to backward reveals nothing
# about the forward pass the student is graded on.
FORWARD_PARAMS, (FORWARD_X, _) = _params(_rng, 3, 4, 3), _batch(_rng, 6, 3, 3)
BACKWARD_PARAMS, (BACKWARD_X, BACKWARD_Y) = _params(_rng, 3, 5, 4), _batch(_rng, 7, 3, 4)

# --- initialisation ------------------------------------------------------------------

INIT = (
    Call("init/a", "init_params", (3, 5, 2, Rng(0))),
    Call("init/a_again", "init_params", (3, 5, 2, Rng(0))),
    Call("init/b", "init_params", (3, 5, 2, Rng(1))),
)


def _judge_init(student: Answers, reference: Answers) -> Verdict:
    """Right keys and shapes, finite, weights not all equal, drawn from the given rng."""
    first = INIT[0]
    for call in INIT:
        answer = student[call.key]
        if not answer.ok:
            return fail(Message("raised", {"call": call_text(call), "error": answer.error}))
    params, expected = student[first.key].value, reference[first.key].value
    message = _structure(params, expected)
    if message:
        return fail(message)
    for name in ("Wh", "Wy"):
        weights = np.asarray(params[name])
        if not np.all(np.isfinite(weights)) or np.ptp(weights) == 0:
            return fail(
                Message(
                    "wrong_value",
                    {
                        "component": f"{name} (init_params)",
                        "expected": "des poids tirés au hasard, pas tous égaux",
                        "obtained": str(weights.tolist())[:200],
                        "gap": "-",
                    },
                )
            )
    same_seed = student[INIT[1].key].value
    other_seed = student[INIT[2].key].value
    if _structure(same_seed, expected) or _structure(other_seed, expected):
        return fail(Message("raised", {"call": call_text(INIT[1]), "error": "structure"}))
    if not all(np.array_equal(params[n], same_seed[n]) for n in PARAM_NAMES) or all(
        np.array_equal(params[n], other_seed[n]) for n in ("Wh", "Wy")
    ):
        return fail(
            Message(
                "wrong_decision",
                {
                    "component": "init_params(..., rng)",
                    "expected": "des poids tirés avec rng (même graine, mêmes poids)",
                    "obtained": "des poids qui ne dépendent pas de rng",
                },
            )
        )
    return PASSED


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


# --- SoftMax, forward, loss ------------------------------------------------------------

SOFTMAX = (
    Call("softmax/random", "softmax", (_rng.normal(scale=3.0, size=(5, 4)),)),
    Call("softmax/equal", "softmax", (np.zeros((2, 3)),)),
)
SOFTMAX_LARGE = (
    Call("softmax/large", "softmax", (np.array([[1000.0, 0.0, -5.0], [999.0, 1000.0, 1000.0]]),)),
    Call("softmax/very_negative", "softmax", (np.array([[-1000.0, -1001.0], [-2000.0, -999.0]]),)),
)
FORWARD = (
    Call("forward/tanh", "forward", (FORWARD_PARAMS, FORWARD_X), {"activation": "tanh"}),
    Call("forward/relu", "forward", (FORWARD_PARAMS, FORWARD_X), {"activation": "relu"}),
)
_Y_HAT = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.05, 0.05, 0.9]])
_Y = np.eye(3)[[0, 1, 1, 0]]
LOSS = (Call("loss_accuracy/values", "loss_accuracy", (_Y_HAT, _Y)),)
LOSS_SATURATED = (
    Call(
        "loss_accuracy/saturated",
        "loss_accuracy",
        (np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), np.eye(3)[[0, 2]]),
    ),
)
GRAD_LOGITS = (Call("grad_logits/values", "grad_logits", (_Y_HAT, _Y)),)

# --- backward, with the reference's cache as input --------------------------------------


def _reference_cache(activation: str) -> dict[str, np.ndarray]:
    from solutions.mlp_softmax import forward

    return forward(BACKWARD_PARAMS, BACKWARD_X, activation)[1]


BACKWARD = tuple(
    Call(
        f"backward/{activation}",
        "backward",
        (BACKWARD_PARAMS, BACKWARD_X, BACKWARD_Y, _reference_cache(activation)),
        {"activation": activation},
    )
    for activation in ("tanh", "relu")
)
BACKWARD_MISTAKES = {
    "Wh": ("missing_batch_mean", "tanh_derivative"),
    "bh": ("missing_batch_mean", "bias_not_summed", "tanh_derivative"),
    "Wy": ("missing_batch_mean",),
    "by": ("missing_batch_mean", "bias_not_summed"),
}


def _gradient_check() -> Check:
    """Two entries of each gradient against finite differences of the student's own functions."""
    rng = np.random.default_rng(99)
    params, (X, Y) = _params(rng, 2, 3, 3), _batch(rng, 4, 2, 3)
    own_forward = Call("gradcheck/forward", "forward", (params, X), {"activation": "tanh"})
    gradient = Call(
        "gradcheck/backward",
        "backward",
        (params, X, Y, Ref(own_forward.key, (1,))),
        {"activation": "tanh"},
    )
    calls, probes = [own_forward, gradient], []
    for name in PARAM_NAMES:
        for index in list(np.ndindex(params[name].shape))[:: max(params[name].size // 2, 1)][:2]:
            keys = {}
            for sign, label in ((1, "+"), (-1, "-")):
                shifted = {k: v.copy() for k, v in params.items()}
                shifted[name][index] += sign * STEP
                prefix = f"gradcheck/{name}{list(index)}{label}"
                keys[label] = f"{prefix}/loss"
                calls.append(
                    Call(f"{prefix}/forward", "forward", (shifted, X), {"activation": "tanh"})
                )
                calls.append(
                    Call(keys[label], "loss_accuracy", (Ref(f"{prefix}/forward", (0,)), Y))
                )
            probes.append(Probe(f"∂L/∂{name}{list(index)}", (name, *index), keys["+"], keys["-"]))
    judge = agrees_with_finite_differences(gradient, probes, STEP, (0,), "forward + loss_accuracy")
    return Check("backward_gradcheck", tuple(calls), judge)


# --- SGD step and training ---------------------------------------------------------------

_GRADS = _params(np.random.default_rng(4), 3, 4, 3)
SGD_STEP = (Call("sgd_step/values", "sgd_step", (FORWARD_PARAMS, _GRADS, 0.3)),)

TRAIN_STANDINS = {
    "forward": "mlp_forward",
    "backward": "mlp_backward",
    "sgd_step": "mlp_sgd_step",
    "loss_accuracy": "mlp_loss_accuracy",
}
_TRAIN_X, _TRAIN_Y = _batch(np.random.default_rng(8), 11, 3, 3)
TRAIN = (
    Call(
        "train/standins",
        "train",
        (FORWARD_PARAMS, _TRAIN_X, _TRAIN_Y, 0.1, 4, 3, Rng(21)),
        {"activation": "tanh"},
        TRAIN_STANDINS,
    ),
)

CHECKS = [
    Check("init_params", INIT, _judge_init),
    Check("softmax_values", SOFTMAX, matches_reference(SOFTMAX, "SoftMax")),
    Check(
        "softmax_large_logits",
        SOFTMAX_LARGE,
        matches_reference(SOFTMAX_LARGE, "SoftMax (logits de l'ordre de 1000)"),
        ("softmax_overflow",),
    ),
    Check("forward_output", FORWARD, matches_reference(FORWARD, "ŷ", (0,))),
    Check("forward_cache", FORWARD, matches_reference(FORWARD, "cache", (1,))),
    Check("loss_accuracy_values", LOSS, matches_reference(LOSS, "(L, acc)")),
    Check(
        "loss_accuracy_saturated",
        LOSS_SATURATED,
        matches_reference(LOSS_SATURATED, "(L, acc) quand ŷ contient des 0 et des 1"),
    ),
    Check("grad_logits_values", GRAD_LOGITS, matches_reference(GRAD_LOGITS, "∂ℓ/∂ỹ")),
    *(
        Check(
            f"backward_{name}",
            BACKWARD,
            matches_reference(BACKWARD, f"∂L/∂{name}", (name,)),
            BACKWARD_MISTAKES[name],
        )
        for name in PARAM_NAMES
    ),
    _gradient_check(),
    Check("sgd_step_values", SGD_STEP, matches_reference(SGD_STEP, "paramètres mis à jour")),
    Check("train_params", TRAIN, matches_reference(TRAIN, "paramètres après train", (0,))),
    Check("train_history", TRAIN, matches_reference(TRAIN, "history", (1,))),
]
