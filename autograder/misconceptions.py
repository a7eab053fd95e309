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


def _relu_instead_of_derivative(original, live):
    """H(a) replaced by ReLU(a) itself."""
    return {"relu_derivative": lambda a: max(0.0, float(a))}


def _modifies_weights_in_place(original, live):
    """``train`` leaves its final weights in the caller's W0 (``W = W0`` then ``W -= …``)."""

    def train(X, Y, W0, *args, **kwargs):
        W, losses = original["train"](X, Y, W0, *args, **kwargs)
        W0[...] = W
        return W, losses

    return {"train": train}


def _negated(name: str) -> Variant:
    def variant(original, live):
        return {name: lambda *args, **kwargs: -original[name](*args, **kwargs)}

    return variant


def _ascent(name: str, **overflowing: Callable[..., Any]) -> Variant:
    """The training function run with the learning rate's sign flipped (argument 4).

    Gradient ascent often diverges: ``overflowing`` replaces the reference functions that
    would raise OverflowError on huge values (Python floats) by NumPy ones that give inf,
    as a student's NumPy loop does, so that both end in the same inf and NaN.
    """

    def variant(original, live):
        def flipped(*args, **kwargs):
            args = list(args)
            args[3] = -args[3]
            return original[name](*args, **kwargs)

        return {name: flipped, **overflowing}

    return variant


def _numpy_squared_error(y, y_hat):
    return float(0.5 * np.float64(y - y_hat) ** 2)


def _loss_after_update(original, live):
    """The loss recorded after the update, on the new weights."""

    def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        W, losses = np.array(W0, dtype=np.float64), []
        while not live["should_stop"](losses, max_iter, tol):
            i = rng.integers(len(X))
            W = W - alpha * live["backward"](W, X[i], Y[i])
            losses.append(live["loss"](Y[i], live["forward"](W, X[i])[0]))
        return W, losses

    return {"train": train}


def _loss_without_half(original, live):
    return {"loss": lambda y, y_hat: 2.0 * original["loss"](y, y_hat)}


def _stops_one_iteration_late(original, live):
    """``len(losses) > max_iter`` instead of ``>=``."""

    def should_stop(losses, max_iter, tol):
        return len(losses) != max_iter and original["should_stop"](losses, max_iter, tol)

    return {"should_stop": should_stop}


def _stops_on_plateau_with_tol_zero(original, live):
    """The plateau rule applied even when tol = 0 (|Δℓ| ≤ 0 holds on a plateau)."""

    def should_stop(losses, max_iter, tol):
        return original["should_stop"](losses, max_iter, tol if tol > 0 else 1e-6)

    return {"should_stop": should_stop}


# --- Exercice 2 -----------------------------------------------------------------------


def _summed_batch_gradient(original, live):
    return {"batch_gradient": lambda w, xb, yb: len(xb) * original["batch_gradient"](w, xb, yb)}


def _leftover_batch_used(divided_by_batch_size: bool) -> Variant:
    """The N mod n_b last examples used as one more batch: their mean gradient, or (a loop
    dividing by n_b) their sum divided by n_b."""

    def variant(original, live):
        def sgd_epoch(w0, X, Y, alpha, batch_size):
            w, n_updates = original["sgd_epoch"](w0, X, Y, alpha, batch_size)
            start = n_updates * batch_size
            if start < len(X):
                gradient = live["batch_gradient"](w, X[start:], Y[start:])
                if divided_by_batch_size:
                    gradient = gradient * (len(X) - start) / batch_size
                w = w - alpha * gradient
                n_updates += 1
            return w, n_updates

        return {"sgd_epoch": sgd_epoch}

    return variant


# --- TP1 ------------------------------------------------------------------------------


def _sgd_step_ascent(original, live):
    return {
        "sgd_step": lambda params, grads, lr: {k: params[k] + lr * grads[k] for k in params}
    }


def _loss_not_averaged(original, live):
    def loss_accuracy(Y_hat, Y):
        L, acc = original["loss_accuracy"](Y_hat, Y)
        return L * len(Y), acc

    return {"loss_accuracy": loss_accuracy}


def _softmax_over_columns(shift_axis: int) -> Variant:
    """Probabilities normalised per column, after subtracting the maximum of each column
    (``shift_axis=0``) or of each row (``shift_axis=1``)."""

    def variant(original, live):
        def softmax(Z):
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                Z = np.asarray(Z, dtype=np.float64)
                E = np.exp(Z - Z.max(axis=shift_axis, keepdims=True))
                return E / E.sum(axis=0, keepdims=True)

        return {"softmax": softmax}

    return variant


def _grad_logits_divided(original, live):
    return {"grad_logits": lambda Y_hat, Y: original["grad_logits"](Y_hat, Y) / len(Y)}


def _last_batch_dropped(original, live):
    """Only the complete mini-batches of each epoch are used."""

    def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        n, history = len(X), []
        for _ in range(epochs):
            perm = rng.permutation(n)
            for start in range(0, n - batch_size + 1, batch_size):
                batch = perm[start : start + batch_size]
                _, cache = live["forward"](params, X[batch], activation)
                grads = live["backward"](params, X[batch], Y[batch], cache, activation)
                params = live["sgd_step"](params, grads, lr)
            history.append(live["loss_accuracy"](live["forward"](params, X, activation)[0], Y)[0])
        return params, history

    return {"train": train}


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


def _bias_reduced(reduce: Callable[[np.ndarray], Any]) -> Variant:
    """Each bias gradient taken from the per-example terms (already divided by n) by
    ``reduce`` instead of a sum over axis 0."""

    def variant(original, live):
        def backward(params, X, Y, cache, activation="tanh"):
            grads = original["backward"](params, X, Y, cache, activation)
            delta_y = live["grad_logits"](cache["y_hat"], Y) / len(X)
            slope = live["activation_derivative"](cache["h_tilde"], cache["h"], activation)
            delta_h = (delta_y @ params["Wy"]) * slope
            return {**grads, "by": reduce(delta_y), "bh": reduce(delta_h)}

        return {"backward": backward}

    return variant


BIAS_REDUCTIONS: tuple[Callable[[np.ndarray], Any], ...] = (
    lambda delta: delta,  # not summed: one row per example, shape (n, ·)
    lambda delta: delta.mean(axis=0),  # averaged: divided by n a second time
    lambda delta: delta.sum(axis=1),  # summed over the wrong axis: shape (n,)
    lambda delta: float(delta.sum()),  # summed over everything: one number
)


def _tanh_derivative(wrong: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Variant:
    """tanh' written ``wrong(h_tilde, h)`` instead of 1 − h²."""

    def variant(original, live):
        def activation_derivative(h_tilde, h, activation):
            if activation == "tanh":
                return wrong(h_tilde, h)
            return original["activation_derivative"](h_tilde, h, activation)

        return {"activation_derivative": activation_derivative}

    return variant


TANH_DERIVATIVES: tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], ...] = (
    lambda h_tilde, h: 1.0 - h,  # the square forgotten
    lambda h_tilde, h: 1.0 - np.tanh(h) ** 2,  # tanh applied twice: h is already tanh(h̃)
    lambda h_tilde, h: 1.0 - h_tilde**2,  # squared before the activation
)


def _softmax_shifted_by_global_max(original, live):
    """The maximum of the whole array subtracted, not each row's: a row far below the
    others underflows to 0/0."""

    def softmax(Z):
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            Z = np.asarray(Z, dtype=np.float64)
            E = np.exp(Z - Z.max())
            return E / E.sum(axis=1, keepdims=True)

    return {"softmax": softmax}


CATALOGUE: tuple[Misconception, ...] = (
    Misconception(
        "relu_derivative_missing",
        "backprop_miniconv",
        {
            "fr": (
                "La dérivée de ReLU a été oubliée. Quand a_k ≤ 0, o_k = max(0, a_k) ne dépend "
                "plus de a_k : H(a_k) = 0 coupe le gradient qui remonte par ce neurone. Il faut "
                "multiplier par H(a_k) dans ∂ℓ/∂w1 et ∂ℓ/∂w2 (H vaut 1 si a_k > 0, 0 sinon : "
                "c'est la dérivée de ReLU, pas ReLU(a_k) elle-même)."
            ),
            "en": (
                "The ReLU derivative is missing. When a_k ≤ 0, o_k = max(0, a_k) no longer "
                "depends on a_k: H(a_k) = 0 stops the gradient flowing back through that neuron. "
                "Multiply by H(a_k) in ∂ℓ/∂w1 and ∂ℓ/∂w2 (H is 1 if a_k > 0, else 0: the "
                "derivative of ReLU, not ReLU(a_k) itself)."
            ),
        },
        (
            (lambda original, live: {"relu_derivative": lambda a: 1.0}),
            _relu_instead_of_derivative,
        ),
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
        (_ascent("train", loss=_numpy_squared_error),),
    ),
    Misconception(
        "loss_after_update",
        "backprop_miniconv",
        {
            "fr": (
                "La perte est enregistrée après la mise à jour des poids. L'algorithme ajoute à "
                "losses la perte de l'exemple tiré calculée avec les poids d'avant la mise à "
                "jour : passe avant, perte, puis W ← W − α·∇ℓ."
            ),
            "en": (
                "The loss is recorded after the weights are updated. The algorithm appends the "
                "drawn example's loss computed with the weights before the update: forward "
                "pass, loss, then W ← W − α·∇ℓ."
            ),
        },
        (_loss_after_update,),
    ),
    Misconception(
        "loss_without_half",
        "backprop_miniconv",
        {
            "fr": (
                "La perte est ℓ = ½ (y − ŷ)² : le facteur ½ manque. Il simplifie le gradient "
                "(∂ℓ/∂ŷ = −(y − ŷ), sans facteur 2)."
            ),
            "en": (
                "The loss is ℓ = ½ (y − ŷ)²: the ½ factor is missing. It keeps the gradient "
                "simple (∂ℓ/∂ŷ = −(y − ŷ), with no factor 2)."
            ),
        },
        (_loss_without_half,),
    ),
    Misconception(
        "stops_one_iteration_late",
        "backprop_miniconv",
        {
            "fr": (
                "Le critère s'arrête une itération trop tard : il faut s'arrêter dès que "
                "len(losses) >= max_iter (et non > max_iter), sinon train fait max_iter + 1 "
                "itérations."
            ),
            "en": (
                "The criterion stops one iteration too late: stop as soon as len(losses) >= "
                "max_iter (not > max_iter), otherwise train runs max_iter + 1 iterations."
            ),
        },
        (_stops_one_iteration_late,),
    ),
    Misconception(
        "stops_with_tol_zero",
        "backprop_miniconv",
        {
            "fr": (
                "Avec tol = 0, le critère ne doit jamais s'arrêter avant max_iter (l'énoncé "
                "l'utilise pour un nombre fixe d'itérations). Un test du type |Δℓ| ≤ tol est "
                "vrai avec tol = 0 dès que deux pertes sont égales : n'appliquez votre critère "
                "que si tol > 0."
            ),
            "en": (
                "With tol = 0 the criterion must never stop before max_iter (the sheet uses it "
                "for a fixed number of iterations). A test like |Δℓ| ≤ tol holds with tol = 0 as "
                "soon as two losses are equal: apply your criterion only when tol > 0."
            ),
        },
        (_stops_on_plateau_with_tol_zero,),
    ),
    Misconception(
        "w0_modified_in_place",
        "backprop_miniconv",
        {
            "fr": (
                "train modifie W0 en place, ce que l'énoncé interdit. W = W0 ne copie pas le "
                "tableau : W et W0 sont deux noms du même tableau, et W -= alpha * g (ou "
                "W[k] = …) écrit dans le W0 de l'appelant, qui ne peut plus relancer "
                "l'apprentissage depuis le même point. Partez d'une copie (W = W0.copy() ou "
                "np.array(W0, dtype=float)), ou écrivez W = W - alpha * g, qui crée un "
                "nouveau tableau."
            ),
            "en": (
                "train modifies W0 in place, which the sheet forbids. W = W0 does not copy the "
                "array: W and W0 are two names for the same array, and W -= alpha * g (or "
                "W[k] = …) writes into the caller's W0, who can no longer restart training "
                "from the same point. Start from a copy (W = W0.copy() or np.array(W0, "
                "dtype=float)), or write W = W - alpha * g, which makes a new array."
            ),
        },
        (_modifies_weights_in_place,),
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
        (_leftover_batch_used(False), _leftover_batch_used(True)),
    ),
    Misconception(
        "gradient_ascent",
        "mlp_softmax",
        {
            "fr": (
                "La mise à jour ajoute le gradient (θ + lr·∇L) : c'est une montée de gradient. "
                "Pour faire baisser la perte, θ ← θ − lr·∇L."
            ),
            "en": (
                "The update adds the gradient (θ + lr·∇L): that is gradient ascent. To decrease "
                "the loss, θ ← θ − lr·∇L."
            ),
        },
        (_sgd_step_ascent, _ascent("train")),
    ),
    Misconception(
        "loss_not_averaged",
        "mlp_softmax",
        {
            "fr": (
                "La perte L est la moyenne des entropies croisées des n exemples, "
                "L = −(1/n) Σᵢ Σⱼ yᵢⱼ log ŷᵢⱼ : la division par n manque."
            ),
            "en": (
                "The loss L is the mean of the n examples' cross-entropies, "
                "L = −(1/n) Σᵢ Σⱼ yᵢⱼ log ŷᵢⱼ: the division by n is missing."
            ),
        },
        (_loss_not_averaged,),
    ),
    Misconception(
        "softmax_wrong_axis",
        "mlp_softmax",
        {
            "fr": (
                "La SoftMax est calculée par colonne : chaque ligne de Z est un exemple, et ses "
                "probabilités doivent sommer à 1 sur la ligne. Prenez le maximum et la somme sur "
                "axis=1, avec keepdims=True."
            ),
            "en": (
                "The SoftMax is computed per column: each row of Z is an example, whose "
                "probabilities must sum to 1 along the row. Take the maximum and the sum over "
                "axis=1, with keepdims=True."
            ),
        },
        (_softmax_over_columns(0), _softmax_over_columns(1)),
    ),
    Misconception(
        "grad_logits_divided",
        "mlp_softmax",
        {
            "fr": (
                "grad_logits renvoie la dérivée de la perte de chaque exemple, ∂ℓᵢ/∂ỹᵢ = ŷᵢ − yᵢ, "
                "sans la division par n : le 1/n de la moyenne se met dans backward."
            ),
            "en": (
                "grad_logits returns the derivative of each example's loss, ∂ℓᵢ/∂ỹᵢ = ŷᵢ − yᵢ, "
                "without the division by n: the 1/n of the mean belongs in backward."
            ),
        },
        (_grad_logits_divided,),
    ),
    Misconception(
        "last_batch_dropped",
        "mlp_softmax",
        {
            "fr": (
                "Le dernier mini-batch, incomplet, est oublié. Les mini-batchs sont "
                "perm[s:s + batch_size] pour s = 0, batch_size, 2·batch_size, … tant que s < n : "
                "le dernier peut être plus petit, et il sert aussi."
            ),
            "en": (
                "The last, incomplete mini-batch is dropped. The mini-batches are "
                "perm[s:s + batch_size] for s = 0, batch_size, 2·batch_size, … while s < n: the "
                "last one may be smaller, and it is used too."
            ),
        },
        (_last_batch_dropped,),
    ),
    Misconception(
        "softmax_overflow",
        "mlp_softmax",
        {
            "fr": (
                "Le SoftMax déborde : exp(1000) vaut inf en float64, et inf/inf donne NaN. "
                "SoftMax(z) = SoftMax(z − max(z)) : soustraire le maximum de chaque ligne avant "
                "l'exponentielle ne change pas le résultat et évite le débordement. Le maximum "
                "de chaque ligne, pas celui de tout le tableau : une ligne bien plus basse que "
                "les autres donnerait exp(−1200) = 0 partout, et 0/0 = NaN."
            ),
            "en": (
                "The SoftMax overflows: exp(1000) is inf in float64, and inf/inf gives NaN. "
                "SoftMax(z) = SoftMax(z − max(z)): subtracting each row's maximum before the "
                "exponential leaves the result unchanged and avoids the overflow. Each row's "
                "maximum, not the whole array's: a row far below the others would give "
                "exp(−1200) = 0 everywhere, and 0/0 = NaN."
            ),
        },
        (_softmax_without_shift, _softmax_shifted_by_global_max),
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
                "somme sur l'axe 0 et la forme (n_y,) ou (n_h,). Une somme, pas une moyenne : "
                "les termes de chaque exemple sont déjà divisés par n (L est une moyenne), les "
                "moyenner les diviserait une seconde fois."
            ),
            "en": (
                "A bias gradient was not summed over the batch's examples. The bias is added to "
                "every row: its derivative gets one term per example, hence a sum over axis 0 "
                "and the shape (n_y,) or (n_h,). A sum, not a mean: each example's term is "
                "already divided by n (L is a mean), averaging would divide it a second time."
            ),
        },
        tuple(_bias_reduced(reduce) for reduce in BIAS_REDUCTIONS),
    ),
    Misconception(
        "tanh_derivative",
        "mlp_softmax",
        {
            "fr": (
                "La dérivée de tanh est fausse : tanh'(z) = 1 − tanh²(z). Avec h = tanh(h̃), "
                "σ'(h̃) = 1 − h² (ou 1 − tanh(h̃)²) : ni 1 − h, ni 1 − tanh(h)² (h est déjà "
                "passé par tanh), ni 1 − h̃²."
            ),
            "en": (
                "The derivative of tanh is wrong: tanh'(z) = 1 − tanh²(z). With h = tanh(h̃), "
                "σ'(h̃) = 1 − h² (or 1 − tanh(h̃)²): neither 1 − h, nor 1 − tanh(h)² (h has "
                "already been through tanh), nor 1 − h̃²."
            ),
        },
        tuple(_tanh_derivative(wrong) for wrong in TANH_DERIVATIVES),
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


VARIANTS_KEPT = SEEDS_KEPT * 48
"""Variant answer sets kept in one process: every variant of every assignment, for
``SEEDS_KEPT`` seeds (an assignment has fewer than 48 variants)."""


@lru_cache(maxsize=VARIANTS_KEPT)
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
        for call in (*check.calls, *check.reference_calls)
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
            # A variant may fail on some calls (gradient ascent overflows with the real
            # functions): the judge then compares the others (a training loop's stand-in route).
            if any(wrong[c.key].ok for c in check.calls) and _passes(check, student, wrong):
                return misconception_id
    return None


def _passes(check: Check, student: Answers, wrong: Mapping[str, Answer]) -> bool:
    """Whether the student's answers pass ``check`` with a wrong variant as reference; a
    variant whose answers the judge cannot read matches nothing."""
    try:
        return check.judge(student, wrong).passed
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return False
