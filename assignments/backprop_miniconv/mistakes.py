"""Known mistakes of Exercice 1 (backpropagation through the mini convolution network),
each with the wrong variants of ``solutions/backprop_miniconv.py`` that make it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.mistakes import (
    Mistake,
    Namespace,
    Variant,
    learning_rate_flipped,
    negated,
    reordered,
    scaled,
)


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


def _forward_differences(original, live):
    """The gradient taken by forward differences of forward + loss, not by the chain rule:
    across a ReLU kink it takes the slope of one side. (Centred differences take the mean
    of both sides: the H(0) = ½ variant.)"""

    def backward(W, x, y):
        W, step = np.asarray(W, dtype=np.float64), 1e-7

        def loss_at(shift):
            return live["loss"](y, live["forward"](W + shift, x)[0])

        at_W = loss_at(np.zeros(4))
        return np.array([(loss_at(step * np.eye(4)[k]) - at_W) / step for k in range(4)])

    return {"backward": backward}


def _modifies_weights_in_place(original, live):
    """``train`` leaves its final weights in the caller's W0 (``W = W0`` then ``W -= …``)."""

    def train(X, Y, W0, *args, **kwargs):
        W, losses = original["train"](X, Y, W0, *args, **kwargs)
        W0[...] = W
        return W, losses

    return {"train": train}


def _numpy_squared_error(y, y_hat):
    return float(0.5 * np.float64(y - y_hat) ** 2)


Iteration = Callable[
    [Namespace, np.ndarray, np.ndarray, np.ndarray, float, np.random.Generator],
    tuple[np.ndarray, float],
]
"""One iteration of a loop: (the functions in play, W, X, Y, α, rng) → (new W, loss recorded)."""


def _train_of(iteration: Iteration) -> Variant:
    """The sheet's loop, asking should_stop before each ``iteration``: each wrong loop then
    differs from the contract's in its iteration only."""

    def variant(original, live):
        def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
            X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
            W, losses = np.array(W0, dtype=np.float64), []
            while not live["should_stop"](losses, max_iter, tol):
                W, recorded = iteration(live, W, X, Y, alpha, rng)
                losses.append(recorded)
            return W, losses

        return {"train": train}

    return variant


def _loss_after_update(live, W, X, Y, alpha, rng):
    """The loss recorded after the update, on the new weights."""
    i = rng.integers(len(X))
    W = W - alpha * live["backward"](W, X[i], Y[i])
    return W, live["loss"](Y[i], live["forward"](W, X[i])[0])


def _two_draws(for_loss: int, for_update: int) -> Iteration:
    """Two examples drawn per iteration; the loss is the one of draw ``for_loss`` (0: the
    first), the update uses draw ``for_update``."""

    def iteration(live, W, X, Y, alpha, rng):
        drawn = (rng.integers(len(X)), rng.integers(len(X)))
        i, j = drawn[for_loss], drawn[for_update]
        recorded = live["loss"](Y[i], live["forward"](W, X[i])[0])
        return W - alpha * live["backward"](W, X[j], Y[j]), recorded

    return iteration


EXTRA_DRAWS: tuple[Callable[[np.random.Generator], object], ...] = (
    lambda rng: rng.random(),
    lambda rng: rng.normal(),
    lambda rng: rng.uniform(),
)
"""Draws a loop makes from its rng besides the example's, and does not use."""


def _extra_draw(extra: Callable[[np.random.Generator], object], first: bool) -> Iteration:
    """The sheet's iteration with an ``extra`` draw, before the example's or after it."""

    def iteration(live, W, X, Y, alpha, rng):
        if first:
            extra(rng)
        i = rng.integers(len(X))
        if not first:
            extra(rng)
        recorded = live["loss"](Y[i], live["forward"](W, X[i])[0])
        return W - alpha * live["backward"](W, X[i], Y[i]), recorded

    return iteration


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


MISTAKES = (
    Mistake(
        "relu_derivative_missing",
        {"fr": "Dérivée de ReLU oubliée", "en": "ReLU derivative missing"},
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
        cost=2,
    ),
    Mistake(
        "relu_derivative_at_zero",
        {
            "fr": "H(0) ≠ 0 : gradient faux au coude de ReLU",
            "en": "H(0) ≠ 0: wrong gradient at the ReLU kink",
        },
        {
            "fr": (
                "Quand a_k vaut exactement 0, votre gradient compte encore, en tout ou en partie, "
                "le chemin qui passe par ce neurone : H(0) y vaut 1 ou ½ au lieu de 0. C'est ce "
                "que donne un test a_k >= 0 au lieu de a_k > 0, np.heaviside(a, 0.5), ou un "
                "gradient calculé par différences finies (elles prennent la pente d'un côté du "
                "coude, ou la moyenne des deux). L'énoncé fixe H(0) = 0 : le neurone est éteint "
                "et le gradient est le même que pour a_k < 0. Calculez-le par la règle de "
                "dérivation en chaîne ; les différences finies servent à vérifier un gradient, "
                "pas à le calculer."
            ),
            "en": (
                "When a_k is exactly 0, your gradient still counts, fully or in part, the path "
                "through that neuron: H(0) is 1 or ½ there instead of 0. That is what a test "
                "a_k >= 0 instead of a_k > 0 gives, or np.heaviside(a, 0.5), or a gradient "
                "computed by finite differences (they take the slope on one side of the kink, "
                "or the mean of both). The sheet sets H(0) = 0: the neuron is off and the "
                "gradient is the same as for a_k < 0. Compute it by the chain rule; finite "
                "differences check a gradient, they do not compute it."
            ),
        },
        (
            (lambda original, live: {"relu_derivative": lambda a: 1.0 if a >= 0 else 0.0}),
            (lambda original, live: {"relu_derivative": lambda a: float(np.heaviside(a, 0.5))}),
            _forward_differences,
        ),
    ),
    Mistake(
        "error_sign",
        {"fr": "Signe inversé dans le gradient", "en": "Sign flipped in the gradient"},
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
        (negated("backward"),),
        cost=2,
    ),
    Mistake(
        "gradient_order",
        {
            "fr": "Composantes du gradient dans le désordre",
            "en": "Gradient components out of order",
        },
        {
            "fr": (
                "Vos quatre dérivées sont justes, mais backward ne les renvoie pas dans l'ordre "
                "du contrat, celui de W = (w1, w2, v1, v2) : [∂ℓ/∂w1, ∂ℓ/∂w2, ∂ℓ/∂v1, ∂ℓ/∂v2]. "
                "La mise à jour W − α·∇ℓ soustrait chaque composante du poids de même rang : "
                "dans un autre ordre, elle corrige un poids avec la dérivée d'un autre."
            ),
            "en": (
                "Your four derivatives are right, but backward does not return them in the "
                "contract's order, that of W = (w1, w2, v1, v2): [∂ℓ/∂w1, ∂ℓ/∂w2, ∂ℓ/∂v1, "
                "∂ℓ/∂v2]. The update W − α·∇ℓ subtracts each component from the weight at the "
                "same position: in another order, it corrects one weight with another's "
                "derivative."
            ),
        },
        (
            reordered("backward", [2, 3, 0, 1]),  # the v's first, as backpropagation meets them
            reordered("backward", [3, 2, 1, 0]),  # last layer first, in reverse
            reordered("backward", [0, 2, 1, 3]),  # (w1, v1, w2, v2)
            reordered("backward", [1, 0, 3, 2]),  # each pair swapped
        ),
        cost=2,
    ),
    Mistake(
        "gradient_without_half",
        {
            "fr": "Gradient de (y − ŷ)², sans le ½ de la perte",
            "en": "Gradient of (y − ŷ)², without the loss's ½",
        },
        {
            "fr": (
                "Votre gradient vaut exactement le double de celui attendu, sur chaque "
                "composante : c'est le gradient de (y − ŷ)², pas celui de ℓ = ½ (y − ŷ)². Avec "
                "le ½, ∂ℓ/∂ŷ = −e (e = y − ŷ), et non −2e : le 2 de la dérivée du carré "
                "s'annule avec le ½. Si votre fonction loss oublie aussi le ½, corrigez les deux."
            ),
            "en": (
                "Your gradient is exactly twice the expected one, in every component: it is the "
                "gradient of (y − ŷ)², not of ℓ = ½ (y − ŷ)². With the ½, ∂ℓ/∂ŷ = −e "
                "(e = y − ŷ), not −2e: the 2 from the square's derivative cancels the ½. If "
                "your loss function also drops the ½, fix both."
            ),
        },
        (scaled("backward", 2.0),),
        cost=2,
    ),
    Mistake(
        "weight_sharing_single_path",
        {
            "fr": "Poids partagés : un seul chemin compté",
            "en": "Shared weights: only one path counted",
        },
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
        cost=2,
    ),
    Mistake(
        "gradient_ascent",
        {
            "fr": "Montée de gradient au lieu d'une descente",
            "en": "Gradient ascent instead of descent",
        },
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
        (learning_rate_flipped("train", loss=_numpy_squared_error),),
    ),
    Mistake(
        "loss_after_update",
        {"fr": "Perte enregistrée après la mise à jour", "en": "Loss recorded after the update"},
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
        (_train_of(_loss_after_update),),
    ),
    Mistake(
        "loss_without_half",
        {"fr": "Perte sans le facteur ½", "en": "Loss without the ½ factor"},
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
    Mistake(
        "stops_one_iteration_late",
        {"fr": "Arrêt une itération trop tard", "en": "Stops one iteration too late"},
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
    Mistake(
        "stops_with_tol_zero",
        {"fr": "Arrêt avant max_iter avec tol = 0", "en": "Stops before max_iter with tol = 0"},
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
    Mistake(
        "w0_modified_in_place",
        {"fr": "W0 modifié en place", "en": "W0 modified in place"},
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
        cost=1,
    ),
    Mistake(
        "two_draws_per_iteration",
        {"fr": "Deux tirages par itération", "en": "Two draws per iteration"},
        {
            "fr": (
                "train tire deux fois dans rng à chaque itération. L'algorithme tire un seul "
                "exemple i = rng.integers(len(X)) par itération, et ce même exemple sert à la "
                "passe avant, à la perte enregistrée et à la mise à jour. Un tirage de plus "
                "(un autre exemple pour la mise à jour, ou un tirage inutilisé) décale toute la "
                "suite des exemples tirés : les poids et les pertes ne sont plus ceux de "
                "l'algorithme."
            ),
            "en": (
                "train draws twice from rng at each iteration. The algorithm draws a single "
                "example i = rng.integers(len(X)) per iteration, and that same example is used "
                "for the forward pass, the recorded loss and the update. One more draw (another "
                "example for the update, or a draw left unused) shifts the whole sequence of "
                "drawn examples: the weights and losses are no longer the algorithm's."
            ),
        },
        # the loss on the first draw and the update on the second; or one of the two unused;
        # or a draw of another kind, unused
        (
            *(_train_of(_two_draws(*uses)) for uses in ((0, 1), (0, 0), (1, 1))),
            *(_train_of(_extra_draw(extra, first)) for extra in EXTRA_DRAWS for first in (1, 0)),
        ),
        cost=1,
    ),
)
