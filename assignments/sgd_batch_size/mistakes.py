"""Known mistakes of Exercice 2 (batch size in SGD), each with the wrong variants of
``solutions/sgd_batch_size.py`` that make it."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograder.mistakes import Mistake, Variant, learning_rate_flipped, negated


def _summed_batch_gradient(original, live):
    return {"batch_gradient": lambda w, xb, yb: len(xb) * original["batch_gradient"](w, xb, yb)}


SHEET_SIZE = 4
"""N, the number of the sheet's examples: the size a batch gradient divided by N takes."""


def _batch_gradient_over_sheet_size(original, live):
    """The batch's sum divided by the sheet's N (``/ 4``, ``/ len(X)`` of the notebook's X)."""
    return {
        "batch_gradient": lambda w, xb, yb: (
            original["batch_gradient"](w, xb, yb) * np.size(xb) / SHEET_SIZE
        )
    }


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


Step = Callable[[Mapping[str, Any], float, float, np.ndarray, np.ndarray, float, int], float]
"""One update of an epoch: (the functions in play, w, w0, the batch's x and y, α, N) → w."""


def _sheet_step(live, w, w0, xb, yb, alpha, n):
    return w - alpha * live["batch_gradient"](w, xb, yb)


def _sheet_batches(n: int, batch_size: int) -> Iterable[slice]:
    return (slice(b * batch_size, (b + 1) * batch_size) for b in range(n // batch_size))


Examples = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""The examples (X, Y) a loop goes through, from those it is given."""


def _epoch_of(
    batches: Callable[[int, int], Iterable[slice]] = _sheet_batches,
    step: Step = _sheet_step,
    counted: Callable[[np.ndarray], int] = lambda xb: 1,
    examples: Examples = lambda X, Y: (X, Y),
) -> Variant:
    """An epoch over the ``batches(N, n_b)`` a loop takes of its ``examples`` (those it is
    given, by default), each batch one ``step`` (the sheet's, with the batch gradient of
    the namespace it runs in, by default) adding ``counted(batch)`` to n_updates (one, as
    the sheet's)."""

    def variant(original, live):
        def sgd_epoch(w0, X, Y, alpha, batch_size):
            X, Y = examples(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64))
            w, n_updates = float(w0), 0
            for batch in batches(len(X), batch_size):
                with warnings.catch_warnings():  # the mean of an empty batch is NaN, quietly
                    warnings.simplefilter("ignore", RuntimeWarning)
                    w = step(live, w, float(w0), X[batch], Y[batch], alpha, len(X))
                n_updates += counted(X[batch])
            return w, n_updates

        return {"sgd_epoch": sgd_epoch}

    return variant


def _gradient_at_w0(live, w, w0, xb, yb, alpha, n):
    return w - alpha * live["batch_gradient"](w0, xb, yb)


def _learning_rate_twice(live, w, w0, xb, yb, alpha, n):
    return w - alpha * alpha * live["batch_gradient"](w, xb, yb)


def _mean_over_all_examples(live, w, w0, xb, yb, alpha, n):
    return w - alpha * live["batch_gradient"](w, xb, yb) * len(xb) / n


def _last_batch_skipped(n: int, batch_size: int) -> Iterable[slice]:
    return (slice(b * batch_size, (b + 1) * batch_size) for b in range(n // batch_size - 1))


def _one_based(n: int, batch_size: int) -> Iterable[slice]:
    return (slice(b * batch_size + 1, (b + 1) * batch_size + 1) for b in range(n // batch_size))


def _pairs_sorted_by_x(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(X, kind="stable")
    return X[order], Y[order]


SORTED_EXAMPLES: tuple[Examples, ...] = (
    lambda X, Y: (np.sort(X), Y),  # X.sort(): X alone, each x parted from its y
    lambda X, Y: (np.sort(X), np.sort(Y)),  # each sorted on its own
    _pairs_sorted_by_x,  # the pairs kept, in the order of x
)


MISTAKES = (
    Mistake(
        "error_sign",
        {"fr": "Signe inversé dans le gradient", "en": "Sign flipped in the gradient"},
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
        (negated("batch_gradient"),),
        cost=1,
    ),
    Mistake(
        "sum_instead_of_mean",
        {
            "fr": "Somme au lieu d'une moyenne sur le batch",
            "en": "Sum instead of a mean over the batch",
        },
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
        cost=1,
    ),
    Mistake(
        "gradient_ascent",
        {
            "fr": "Montée de gradient au lieu d'une descente",
            "en": "Gradient ascent instead of descent",
        },
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
        (learning_rate_flipped("sgd_epoch"),),
    ),
    Mistake(
        "leftover_batch_used",
        {"fr": "Dernier batch incomplet utilisé", "en": "Last, incomplete batch used"},
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
        cost=1,
    ),
    Mistake(
        "last_batch_skipped",
        {"fr": "Dernier batch oublié", "en": "Last batch left out"},
        {
            "fr": (
                "La boucle s'arrête un batch trop tôt. L'énoncé parcourt b = 0, …, ⌊N/n_b⌋ − 1, "
                "cette dernière valeur comprise : cela fait ⌊N/n_b⌋ batchs. En Python, "
                "range(N // n_b) les donne tous ; range(N // n_b - 1) s'arrête avant le "
                "dernier (n_updates a alors un de moins)."
            ),
            "en": (
                "The loop stops one batch early. The sheet runs b = 0, …, ⌊N/n_b⌋ − 1, that "
                "last value included: ⌊N/n_b⌋ batches. In Python, range(N // n_b) gives them "
                "all; range(N // n_b - 1) stops before the last one (n_updates is then one short)."
            ),
        },
        (_epoch_of(_last_batch_skipped),),
        cost=1,
    ),
    Mistake(
        "one_based_batches",
        {"fr": "Batchs décalés d'un exemple", "en": "Batches shifted by one example"},
        {
            "fr": (
                "Chaque batch commence un exemple trop loin. L'énoncé numérote les exemples "
                "de 1 à N : le batch b va de l'exemple b·n_b + 1 à l'exemple (b + 1)·n_b. "
                "Python les numérote de 0 à N − 1 : ce batch est X[b * n_b:(b + 1) * n_b]. "
                "Décalée d'un cran, la boucle ne voit jamais le premier exemple et son dernier "
                "batch en a un de moins (vide si n_b = 1 : la moyenne d'un batch vide est NaN)."
            ),
            "en": (
                "Each batch starts one example too far. The sheet numbers the examples from 1 "
                "to N: batch b runs from example b·n_b + 1 to example (b + 1)·n_b. Python numbers "
                "them from 0 to N − 1: that batch is X[b * n_b:(b + 1) * n_b]. Shifted by one, "
                "the loop never sees the first example and its last batch has one fewer (empty "
                "if n_b = 1: the mean of an empty batch is NaN)."
            ),
        },
        (_epoch_of(_one_based),),
        cost=2,
    ),
    Mistake(
        "updates_counted_in_examples",
        {"fr": "n_updates compte les exemples", "en": "n_updates counts the examples"},
        {
            "fr": (
                "w est juste, mais n_updates augmente de la taille du batch à chaque pas : "
                "il compte les exemples vus. Il doit compter les mises à jour de w, une par "
                "batch, soit ⌊N/n_b⌋ pour l'epoch."
            ),
            "en": (
                "w is right, but n_updates grows by the batch size at each step: it counts the "
                "examples seen. It must count the updates of w, one per batch: ⌊N/n_b⌋ for "
                "the epoch."
            ),
        },
        (_epoch_of(counted=len),),
        cost=1,
    ),
    Mistake(
        "gradient_at_w0",
        {"fr": "Gradient toujours pris en w0", "en": "Gradient always taken at w0"},
        {
            "fr": (
                "Chaque batch calcule son gradient au poids de départ w0, pas au poids courant "
                "w : les pas ne tiennent pas compte des mises à jour déjà faites. À chaque "
                "batch, G_b se calcule avec le w que le batch précédent vient de donner."
            ),
            "en": (
                "Every batch takes its gradient at the starting weight w0, not at the current "
                "weight w: the steps ignore the updates already made. Each batch's G_b is "
                "computed with the w the previous batch has just given."
            ),
        },
        (_epoch_of(step=_gradient_at_w0),),
        cost=2,
    ),
    Mistake(
        "learning_rate_twice",
        {"fr": "Taux d'apprentissage appliqué deux fois", "en": "Learning rate applied twice"},
        {
            "fr": (
                "Chaque pas vaut α² · G_b au lieu de α · G_b : α multiplie le gradient deux "
                "fois (une fois dans le gradient, une fois dans la mise à jour, par exemple). "
                "La mise à jour de l'énoncé est w ← w − α·G_b."
            ),
            "en": (
                "Each step is α² · G_b instead of α · G_b: α multiplies the gradient twice "
                "(once in the gradient and once in the update, say). The sheet's update is "
                "w ← w − α·G_b."
            ),
        },
        (_epoch_of(step=_learning_rate_twice),),
        cost=1,
    ),
    Mistake(
        "mean_over_all_examples",
        {
            "fr": "Gradient divisé par N au lieu de n_b",
            "en": "Gradient divided by N instead of n_b",
        },
        {
            "fr": (
                "Le gradient du batch est la somme sur le batch divisée par le nombre total "
                "d'exemples N : les pas sont n_b/N fois trop petits. G_b est la moyenne sur "
                "les n_b exemples du batch seulement."
            ),
            "en": (
                "The batch gradient is the sum over the batch divided by the total number of "
                "examples N: the steps are n_b/N times too small. G_b is the mean over the "
                "batch's n_b examples only."
            ),
        },
        (_epoch_of(step=_mean_over_all_examples), _batch_gradient_over_sheet_size),
        cost=1,
    ),
    Mistake(
        "examples_sorted",
        {"fr": "Exemples triés avant l'epoch", "en": "Examples sorted before the epoch"},
        {
            "fr": (
                "sgd_epoch trie les exemples avant de former ses batchs (X.sort(), np.sort(X), "
                "np.argsort…). L'algorithme prend les batchs dans l'ordre des données, tel "
                "qu'il les reçoit. X.sort() fait pire : il trie X seul, et en place, si bien que "
                "chaque x n'est plus avec son y et que le tableau X de l'appelant est modifié. "
                "Sur les données de l'énoncé, déjà triées, rien ne se voit ; sur d'autres, w est "
                "faux. Ne réordonnez pas les données : le batch b est X[b·n_b:(b + 1)·n_b] avec "
                "Y[b·n_b:(b + 1)·n_b]."
            ),
            "en": (
                "sgd_epoch sorts the examples before making its batches (X.sort(), np.sort(X), "
                "np.argsort…). The algorithm takes the batches in data order, as it is given "
                "the data. X.sort() is worse: it sorts X alone, and in place, so that each x is "
                "parted from its y and the caller's array X is modified. On the sheet's data, "
                "already sorted, nothing shows; on other data, w is wrong. Do not reorder the "
                "data: batch b is X[b·n_b:(b + 1)·n_b] with Y[b·n_b:(b + 1)·n_b]."
            ),
        },
        tuple(_epoch_of(examples=examples) for examples in SORTED_EXAMPLES),
        cost=2,
    ),
)
