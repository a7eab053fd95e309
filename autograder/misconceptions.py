"""The catalogue of known mistakes, each with the wrong variant of the reference it produces.

When a check fails, the grader runs the check's calls on each deliberately wrong
variant it lists; if the student's answers agree with one, the feedback names that
mistake and explains it. To add a mistake: write its ``variant`` (a function that takes
the reference's functions and returns the ones the mistake changes), its explanation in
French and English, and list its id in the ``misconceptions`` of the checks it affects
(``autograder/checks/<assignment>.py``).

A variant receives two namespaces: ``original``, the reference functions, and ``live``,
the namespace the variant runs in (where stand-ins may be swapped in during a call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from types import FunctionType
from typing import Any

import numpy as np

from .checks import SEEDS_KEPT, Answers, Check, checks_for, reference_module
from .execution.plan import Answer, run_plan
from .execution.standins import STANDINS

Namespace = MutableMapping[str, Any]
Variant = Callable[[Mapping[str, Any], Namespace], dict[str, Callable[..., Any]]]


@dataclass(frozen=True)
class Misconception:
    id: str
    assignment: str
    explanation: Mapping[str, str]
    variants: tuple[Variant, ...]

    def explain(self, lang: str = "fr") -> str:
        return self.explanation[lang]


# --- Exercice 1 -----------------------------------------------------------------------


def _single_path_backward(keep: str) -> Variant:
    """∂ℓ/∂w1 and ∂ℓ/∂w2 taken through one position of the shared weights only."""

    def variant(original, live):
        def backward(W, x, y):
            W, x = np.asarray(W, dtype=np.float64), np.asarray(x, dtype=np.float64)
            full = original["backward"](W, x, y)
            y_hat, cache = live["forward"](W, x)
            e = y - y_hat
            d1 = -e * W[2] * live["relu_derivative"](cache["a1"])
            d2 = -e * W[3] * live["relu_derivative"](cache["a2"])
            through = {
                "a1": (d1 * x[0], d1 * x[1]),
                "a2": (d2 * x[1], d2 * x[2]),
                "first_use": (d1 * x[0], d2 * x[2]),
            }[keep]
            return np.array([*through, full[2], full[3]])

        return {"backward": backward}

    return variant


def _negated(name: str) -> Variant:
    def variant(original, live):
        return {name: lambda *args, **kwargs: -original[name](*args, **kwargs)}

    return variant


def _ascent(name: str) -> Variant:
    """The training function run with the learning rate's sign flipped (argument 4)."""

    def variant(original, live):
        def flipped(*args, **kwargs):
            args = list(args)
            args[3] = -args[3]
            return original[name](*args, **kwargs)

        return {name: flipped}

    return variant


# --- Exercice 2 -----------------------------------------------------------------------


def _summed_batch_gradient(original, live):
    return {"batch_gradient": lambda w, xb, yb: len(xb) * original["batch_gradient"](w, xb, yb)}


def _leftover_batch_used(original, live):
    def sgd_epoch(w0, X, Y, alpha, batch_size):
        w, n_updates = original["sgd_epoch"](w0, X, Y, alpha, batch_size)
        start = n_updates * batch_size
        if start < len(X):
            w = w - alpha * live["batch_gradient"](w, X[start:], Y[start:])
            n_updates += 1
        return w, n_updates

    return {"sgd_epoch": sgd_epoch}


# --- TP1 ------------------------------------------------------------------------------


def _softmax_without_shift(original, live):
    def softmax(Z):
        with np.errstate(over="ignore", invalid="ignore"):
            E = np.exp(np.asarray(Z, dtype=np.float64))
            return E / E.sum(axis=1, keepdims=True)

    return {"softmax": softmax}


def _batch_sum(original, live):
    def backward(params, X, Y, cache, activation="tanh"):
        grads = original["backward"](params, X, Y, cache, activation)
        return {name: len(X) * g for name, g in grads.items()}

    return {"backward": backward}


def _bias_not_summed(original, live):
    def backward(params, X, Y, cache, activation="tanh"):
        grads = original["backward"](params, X, Y, cache, activation)
        delta_y = live["grad_logits"](cache["y_hat"], Y) / len(X)
        slope = live["activation_derivative"](cache["h_tilde"], cache["h"], activation)
        return {**grads, "by": delta_y, "bh": (delta_y @ params["Wy"]) * slope}

    return {"backward": backward}


def _tanh_derivative_without_square(original, live):
    def activation_derivative(h_tilde, h, activation):
        if activation == "tanh":
            return 1.0 - h
        return original["activation_derivative"](h_tilde, h, activation)

    return {"activation_derivative": activation_derivative}


CATALOGUE: tuple[Misconception, ...] = (
    Misconception(
        "relu_derivative_missing",
        "backprop_miniconv",
        {
            "fr": (
                "La dérivée de ReLU a été oubliée. Quand a_k ≤ 0, o_k = max(0, a_k) ne dépend "
                "plus de a_k : H(a_k) = 0 coupe le gradient qui remonte par ce neurone. Il faut "
                "multiplier par H(a_k) dans ∂ℓ/∂w1 et ∂ℓ/∂w2."
            ),
            "en": (
                "The ReLU derivative is missing. When a_k ≤ 0, o_k = max(0, a_k) no longer "
                "depends on a_k: H(a_k) = 0 stops the gradient flowing back through that neuron. "
                "Multiply by H(a_k) in ∂ℓ/∂w1 and ∂ℓ/∂w2."
            ),
        },
        ((lambda original, live: {"relu_derivative": lambda a: 1.0}),),
    ),
    Misconception(
        "error_sign",
        "backprop_miniconv",
        {
            "fr": (
                "Le signe de l'erreur est inversé. Avec e = y − ŷ, ∂ℓ/∂ŷ = −e : chaque dérivée "
                "porte un signe moins (par exemple ∂ℓ/∂v1 = −e·o1). Un gradient de signe opposé "
                "ferait monter la perte au lieu de la faire baisser."
            ),
            "en": (
                "The sign of the error is flipped. With e = y − ŷ, ∂ℓ/∂ŷ = −e: every derivative "
                "carries a minus sign (e.g. ∂ℓ/∂v1 = −e·o1). A gradient of the opposite sign "
                "would make the loss go up instead of down."
            ),
        },
        (_negated("backward"),),
    ),
    Misconception(
        "weight_sharing_single_path",
        "backprop_miniconv",
        {
            "fr": (
                "Les poids w1 et w2 sont partagés : chacun intervient dans a1 et dans a2. Par la "
                "règle de dérivation en chaîne, ∂ℓ/∂w1 additionne les deux chemins : "
                "∂ℓ/∂a1·x1 + ∂ℓ/∂a2·x2 (et ∂ℓ/∂w2 = ∂ℓ/∂a1·x2 + ∂ℓ/∂a2·x3). Un seul chemin "
                "a été compté."
            ),
            "en": (
                "The weights w1 and w2 are shared: each is used in a1 and in a2. By the chain "
                "rule, ∂ℓ/∂w1 adds both paths: ∂ℓ/∂a1·x1 + ∂ℓ/∂a2·x2 (and ∂ℓ/∂w2 = ∂ℓ/∂a1·x2 + "
                "∂ℓ/∂a2·x3). Only one path was counted."
            ),
        },
        tuple(_single_path_backward(keep) for keep in ("a1", "a2", "first_use")),
    ),
    Misconception(
        "gradient_ascent",
        "backprop_miniconv",
        {
            "fr": (
                "La mise à jour va dans le sens du gradient (W + α·∇ℓ) : c'est une montée de "
                "gradient. Pour faire baisser la perte, il faut W ← W − α·∇ℓ."
            ),
            "en": (
                "The update follows the gradient (W + α·∇ℓ): that is gradient ascent. To "
                "decrease the loss, use W ← W − α·∇ℓ."
            ),
        },
        (_ascent("train"),),
    ),
    Misconception(
        "error_sign",
        "sgd_batch_size",
        {
            "fr": (
                "Le gradient a le mauvais signe. Pour ℓ = ½(y − wx)², ∂ℓ/∂w = −x(y − wx). "
                "L'énoncé écrit x(y − ŷ), qui est l'opposé du gradient (voir la note d'errata)."
            ),
            "en": (
                "The gradient has the wrong sign. For ℓ = ½(y − wx)², ∂ℓ/∂w = −x(y − wx). The "
                "sheet writes x(y − ŷ), the negative of the gradient (see the erratum note)."
            ),
        },
        (_negated("batch_gradient"),),
    ),
    Misconception(
        "sum_instead_of_mean",
        "sgd_batch_size",
        {
            "fr": (
                "Le gradient du batch est une somme au lieu d'une moyenne : il manque la "
                "division par n_b. La taille du pas dépendrait alors de la taille du batch."
            ),
            "en": (
                "The batch gradient is a sum instead of a mean: the division by n_b is missing. "
                "The step size would then depend on the batch size."
            ),
        },
        (_summed_batch_gradient,),
    ),
    Misconception(
        "gradient_ascent",
        "sgd_batch_size",
        {
            "fr": (
                "La mise à jour ajoute le gradient (w + α·G_b) : c'est une montée de gradient. "
                "L'algorithme de l'énoncé fait w ← w − α·G_b."
            ),
            "en": (
                "The update adds the gradient (w + α·G_b): that is gradient ascent. The sheet's "
                "algorithm does w ← w − α·G_b."
            ),
        },
        (_ascent("sgd_epoch"),),
    ),
    Misconception(
        "leftover_batch_used",
        "sgd_batch_size",
        {
            "fr": (
                "Le dernier batch incomplet a été utilisé. L'algorithme parcourt b = 0 … "
                "⌊N/n_b⌋ − 1 : les N mod n_b derniers exemples ne servent pas pendant l'epoch."
            ),
            "en": (
                "The last, incomplete batch was used. The algorithm runs b = 0 … ⌊N/n_b⌋ − 1: "
                "the last N mod n_b examples are not used in the epoch."
            ),
        },
        (_leftover_batch_used,),
    ),
    Misconception(
        "softmax_overflow",
        "mlp_softmax",
        {
            "fr": (
                "Le SoftMax déborde : exp(1000) vaut inf en float64, et inf/inf donne NaN. "
                "SoftMax(z) = SoftMax(z − max(z)) : soustraire le maximum de chaque ligne avant "
                "l'exponentielle ne change pas le résultat et évite le débordement."
            ),
            "en": (
                "The SoftMax overflows: exp(1000) is inf in float64, and inf/inf gives NaN. "
                "SoftMax(z) = SoftMax(z − max(z)): subtracting each row's maximum before the "
                "exponential leaves the result unchanged and avoids the overflow."
            ),
        },
        (_softmax_without_shift,),
    ),
    Misconception(
        "missing_batch_mean",
        "mlp_softmax",
        {
            "fr": (
                "Les gradients ne sont pas divisés par n. La perte L est une moyenne sur les n "
                "exemples du batch, donc son gradient aussi : il manque le facteur 1/n."
            ),
            "en": (
                "The gradients are not divided by n. The loss L is a mean over the batch's n "
                "examples, and so is its gradient: the 1/n factor is missing."
            ),
        },
        (_batch_sum,),
    ),
    Misconception(
        "bias_not_summed",
        "mlp_softmax",
        {
            "fr": (
                "Le gradient d'un biais n'a pas été sommé sur les exemples du batch. Le biais est "
                "ajouté à chaque ligne : sa dérivée reçoit une contribution par exemple, d'où une "
                "somme sur l'axe 0 et la forme (n_y,) ou (n_h,)."
            ),
            "en": (
                "A bias gradient was not summed over the batch's examples. The bias is added to "
                "every row: its derivative gets one term per example, hence a sum over axis 0 "
                "and the shape (n_y,) or (n_h,)."
            ),
        },
        (_bias_not_summed,),
    ),
    Misconception(
        "tanh_derivative",
        "mlp_softmax",
        {
            "fr": (
                "La dérivée de tanh est 1 − tanh², pas 1 − tanh. Avec h = tanh(h̃), σ'(h̃) = 1 − h²."
            ),
            "en": (
                "The derivative of tanh is 1 − tanh², not 1 − tanh. With h = tanh(h̃), "
                "σ'(h̃) = 1 − h²."
            ),
        },
        (_tanh_derivative_without_square,),
    ),
)


def find(misconception_id: str, assignment: str) -> Misconception:
    for entry in CATALOGUE:
        if entry.id == misconception_id and entry.assignment == assignment:
            return entry
    raise KeyError(f"no misconception {misconception_id!r} for {assignment}")


def variant_namespace(assignment: str, variant: Variant) -> dict[str, Any]:
    """The reference's functions, rebound to a namespace where the variant replaces some."""
    module = reference_module(assignment)
    live: dict[str, Any] = {}
    for name, value in vars(module).items():
        if isinstance(value, FunctionType) and value.__module__ == module.__name__:
            rebound = FunctionType(
                value.__code__, live, name, value.__defaults__, value.__closure__
            )
            rebound.__kwdefaults__ = value.__kwdefaults__
            value = rebound
        live[name] = value
    live.update(variant(dict(live), live))
    return live


@lru_cache(maxsize=SEEDS_KEPT)
def variant_answers(
    assignment: str, misconception_id: str, index: int, seed: int | None = None
) -> dict[str, Answer]:
    """Answers of one wrong variant to the calls of every check that lists it (on the
    inputs drawn from ``seed`` too, if given), computed once per process and seed."""
    entry = find(misconception_id, assignment)
    calls = {
        call.key: call
        for check in checks_for(assignment, seed).values()
        if misconception_id in check.misconceptions
        for call in check.calls
    }
    namespace = variant_namespace(assignment, entry.variants[index])
    with np.errstate(all="ignore"):
        return run_plan(list(calls.values()), namespace, STANDINS)


def matching_misconception(
    assignment: str, check: Check, student: Answers, seed: int | None = None
) -> str | None:
    """The id of the first listed mistake whose wrong variant the student's answers match;
    ``check`` is the one ``checks_for(assignment, seed)`` holds."""
    for misconception_id in check.misconceptions:
        entry = find(misconception_id, assignment)
        for index in range(len(entry.variants)):
            wrong = variant_answers(assignment, misconception_id, index, seed)
            if all(wrong[c.key].ok for c in check.calls) and check.judge(student, wrong).passed:
                return misconception_id
    return None
