"""Hidden checks of Exercice 2: prediction, batch gradient, one SGD epoch per batch size."""

from __future__ import annotations

import numpy as np

from ..execution.plan import Call
from . import Check, matches_reference

SHEET_X = np.array([1.0, 2.0, 3.0, 4.0])
SHEET_Y = np.array([2.0, 4.0, 6.0, 8.0])
W0, ALPHA = 0.5, 0.1

PREDICT = (
    Call("predict/scalar", "predict", (0.5, 3.0)),
    Call("predict/array", "predict", (2.5, np.array([1.0, -2.0, 0.5]))),
)

_rng = np.random.default_rng(5)
BATCH_GRADIENT = (
    Call("batch_gradient/one", "batch_gradient", (W0, SHEET_X[:1], SHEET_Y[:1])),
    Call("batch_gradient/two", "batch_gradient", (W0, SHEET_X[2:], SHEET_Y[2:])),
    Call("batch_gradient/all", "batch_gradient", (1.7, SHEET_X, SHEET_Y)),
    Call(
        "batch_gradient/random", "batch_gradient", (-0.3, _rng.normal(size=6), _rng.normal(size=6))
    ),
)

# The epoch is graded with a stand-in batch gradient, so a wrong gradient costs only its own points.
EPOCH_STANDIN = {"batch_gradient": "epoch_batch_gradient"}


def _epoch(batch_size: int, X=SHEET_X, Y=SHEET_Y, label: str = "sheet") -> Call:
    return Call(
        f"sgd_epoch/{label}/{batch_size}",
        "sgd_epoch",
        (W0, X, Y, ALPHA, batch_size),
        standins=EPOCH_STANDIN,
    )


EPOCH_MISTAKES = ("gradient_ascent", "leftover_batch_used")
RANDOM_X, RANDOM_Y = _rng.normal(size=7), _rng.normal(size=7)

# The sheet's table, computed end to end with the student's own batch_gradient.
TABLE = tuple(
    Call(f"table/{n_b}", "sgd_epoch", (W0, SHEET_X, SHEET_Y, ALPHA, n_b)) for n_b in (1, 2, 4)
)

CHECKS = [
    Check("predict_value", PREDICT, matches_reference(PREDICT, "ŷ = w·x")),
    Check(
        "batch_gradient_value",
        BATCH_GRADIENT,
        matches_reference(BATCH_GRADIENT, "G_b"),
        ("error_sign", "sum_instead_of_mean"),
    ),
    *(
        Check(
            f"sgd_epoch_nb{n_b}",
            (_epoch(n_b),),
            matches_reference((_epoch(n_b),), f"(w, nombre de mises à jour) pour n_b = {n_b}"),
            EPOCH_MISTAKES,
        )
        for n_b in (1, 2, 4)
    ),
    Check(
        "sgd_epoch_leftover",
        (_epoch(3), _epoch(3, RANDOM_X, RANDOM_Y, "random")),
        matches_reference(
            (_epoch(3), _epoch(3, RANDOM_X, RANDOM_Y, "random")),
            "(w, nombre de mises à jour) quand n_b ne divise pas N",
        ),
        EPOCH_MISTAKES,
    ),
    Check(
        "sheet_table",
        TABLE,
        matches_reference(TABLE, "(w, nombre de mises à jour) du tableau"),
        # A flipped gradient and a flipped update give the same table: only the sum is named.
        ("sum_instead_of_mean",),
    ),
]
