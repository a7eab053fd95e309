"""Known mistakes of Exercice 2 (batch size in SGD), each with the wrong variants of
``solutions/sgd_batch_size.py`` that make it."""

from __future__ import annotations

from autograder.mistakes import Mistake, Variant, learning_rate_flipped, negated


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
    ),
)
