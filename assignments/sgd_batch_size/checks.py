"""Hidden checks of Exercice 2: prediction, batch gradient, one SGD epoch per batch size.

``build`` makes the checks from a set of inputs: the sheet's data (``FIXED``), or data
``draw``n from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from autograder.checks import (
    Check,
    about,
    holds_results,
    inline_choices,
    matches_reference,
    right_by_either_route,
    standin_twins,
    training_loop,
    variable,
    with_inlined,
)
from autograder.execution.plan import Call
from autograder.messages import Translated

SHEET_X = np.array([1.0, 2.0, 3.0, 4.0])
SHEET_Y = np.array([2.0, 4.0, 6.0, 8.0])
W0, ALPHA = 0.5, 0.1
BATCH_SIZES = (1, 2, 4)


@dataclass(frozen=True)
class Epoch:
    """The arguments of one ``sgd_epoch`` call but the batch size."""

    w0: float
    alpha: float
    X: np.ndarray
    Y: np.ndarray


@dataclass(frozen=True)
class Inputs:
    predict: tuple[tuple[float, float | np.ndarray], ...]  # (w, x)
    gradient: tuple[tuple[float, np.ndarray, np.ndarray], ...]  # (w, xb, yb)
    epoch: Epoch  # N a multiple of 4: no leftover for n_b = 1, 2, 4
    leftover: tuple[tuple[Epoch, int], ...]  # n_b that does not divide N
    table: Epoch  # as ``epoch``: question 3 of a notebook without a table


_rng = np.random.default_rng(5)
_RANDOM_BATCH = (-0.3, _rng.normal(size=6), _rng.normal(size=6))
SHEET_EPOCH = Epoch(W0, ALPHA, SHEET_X, SHEET_Y)

FIXED = Inputs(
    predict=((0.5, 3.0), (2.5, np.array([1.0, -2.0, 0.5]))),
    gradient=(
        (W0, SHEET_X[:1], SHEET_Y[:1]),
        (W0, SHEET_X[2:], SHEET_Y[2:]),
        (1.7, SHEET_X, SHEET_Y),
        _RANDOM_BATCH,
    ),
    epoch=SHEET_EPOCH,
    leftover=((SHEET_EPOCH, 3), (Epoch(W0, ALPHA, _rng.normal(size=7), _rng.normal(size=7)), 3)),
    table=SHEET_EPOCH,
)


def draw(rng: np.random.Generator) -> Inputs:
    """Inputs like ``FIXED``, drawn from ``rng``, with the same divisibility of N by n_b."""
    leftover = []
    for batch_size in (3, 5):
        n = int(rng.choice([k for k in range(batch_size + 1, 3 * batch_size) if k % batch_size]))
        leftover.append((_epoch(rng, n), batch_size))
    return Inputs(
        predict=(
            (_number(rng), _number(rng)),
            (_number(rng), np.round(rng.uniform(-3, 3, size=int(rng.integers(2, 6))), 2)),
        ),
        gradient=tuple((_number(rng), *_data(rng, int(n))) for n in (1, 2, rng.integers(3, 9), 4)),
        epoch=_epoch(rng, 4 * int(rng.integers(2, 4))),
        leftover=tuple(leftover),
        table=_epoch(rng, 4 * int(rng.integers(2, 4))),
    )


def _number(rng: np.random.Generator) -> float:
    return round(float(rng.normal(scale=2.0)), 2)


def _data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n examples near a line y = a x, as on the sheet, with some noise."""
    x = np.round(rng.uniform(-3, 3, size=n), 2)
    return x, np.round(rng.uniform(-3, 3) * x + rng.normal(scale=0.5, size=n), 2)


def _epoch(rng: np.random.Generator, n: int) -> Epoch:
    return Epoch(_number(rng), round(float(rng.uniform(0.01, 0.1)), 3), *_data(rng, n))


# The epoch is graded with the student's own batch_gradient, and with a stand-in for it
# (``checks.training_loop``): a wrong gradient costs only its own points, and an epoch that
# computes the gradient inline is compared with the reference's own gradient. predict's
# stand-in is the sheet's w·x: an inline gradient calling a wrong predict is still judged
# on the loop alone.
EPOCH_STANDIN = {"batch_gradient": "epoch_batch_gradient", "predict": "epoch_predict"}
EPOCH_INLINABLE = ("batch_gradient",)
GRADIENT_STANDIN = {"predict": "epoch_predict"}
"""batch_gradient is also judged with the stand-in predict: a wrong predict costs only its
own points."""
EPOCH_MISTAKES = (
    "gradient_ascent",
    "leftover_batch_used",
    "last_batch_skipped",
    "one_based_batches",
    "sum_instead_of_mean",
    "updates_counted_in_examples",
    "gradient_at_w0",
    "learning_rate_twice",
    "mean_over_all_examples",
    "examples_sorted",
)
"""Loop mistakes, and the mistake of a gradient the loop computes inline (a wrong
batch_gradient called by the loop is not the loop's mistake: the stand-in route passes it)."""


def _data_words(X: np.ndarray, Y: np.ndarray) -> tuple[str, str]:
    """Which examples, in French and English: the sheet's (some or all), or others."""
    n = len(X)
    for start in range(len(SHEET_X)):
        if (
            n
            and np.array_equal(X, SHEET_X[start : start + n])
            and np.array_equal(Y, SHEET_Y[start : start + n])
        ):
            if n == len(SHEET_X):
                return "les 4 exemples de l'énoncé", "the sheet's 4 examples"
            values = ", ".join(f"{v:g}" for v in X)
            return (
                f"{_examples(n, 'fr')} de l'énoncé (x = {values})",
                f"{_examples(n, 'en')} of the sheet (x = {values})",
            )
    drawn = "tiré au hasard" if n == 1 else "tirés au hasard"
    return f"{_examples(n, 'fr')} {drawn}", f"{_examples(n, 'en')} drawn at random"


def _examples(n: int, lang: str) -> str:
    word = {"fr": "exemple", "en": "example"}[lang]
    return f"{n} {word}{'s' if n > 1 else ''}"


def _predict_words(w: float, x: float | np.ndarray) -> Translated:
    if np.ndim(x):
        return about(
            f"w = {w:g} et un tableau x de {np.size(x)} valeurs",
            f"w = {w:g} and an array x of {np.size(x)} values",
        )
    return about(f"w = {w:g}, x = {x:g}", f"w = {w:g}, x = {x:g}")


def _gradient_words(w: float, X: np.ndarray, Y: np.ndarray) -> Translated:
    fr, en = _data_words(X, Y)
    return about(f"un batch de {fr}, w = {w:g}", f"a batch of {en}, w = {w:g}")


def _epoch_words(e: Epoch, batch_size: int) -> Translated:
    fr, en = _data_words(e.X, e.Y)
    return about(
        f"une epoch sur {fr}, n_b = {batch_size}, w0 = {e.w0:g}, α = {e.alpha:g}",
        f"one epoch over {en}, n_b = {batch_size}, w0 = {e.w0:g}, α = {e.alpha:g}",
    )


def build(inputs: Inputs, reference: ModuleType, tag: str = "") -> list[Check]:
    """The checks of Exercice 2 on ``inputs`` (``reference``: the loaded solution, for inputs
    computed from it); ``tag`` prefixes every call key."""
    predict = tuple(
        Call(f"{tag}predict/{i}", "predict", (w, x), about=_predict_words(w, x))
        for i, (w, x) in enumerate(inputs.predict)
    )
    gradient = tuple(
        Call(
            f"{tag}batch_gradient/{i}",
            "batch_gradient",
            (w, xb, yb),
            about=_gradient_words(w, xb, yb),
        )
        for i, (w, xb, yb) in enumerate(inputs.gradient)
    )
    gradient_standins = standin_twins(gradient, GRADIENT_STANDIN)

    def epoch(key: str, e: Epoch, batch_size: int, standins=EPOCH_STANDIN) -> Call:
        return Call(
            f"{tag}{key}",
            "sgd_epoch",
            (e.w0, e.X, e.Y, e.alpha, batch_size),
            standins=standins,
            about=_epoch_words(e, batch_size),
        )

    def epoch_check(check_id: str, keys_and_epochs, component: str, mistakes) -> Check:
        """An epoch check, right with the student's batch_gradient or with the stand-in."""
        standin = tuple(epoch(key, e, n_b) for key, e, n_b in keys_and_epochs)
        own = tuple(
            epoch(key.replace("/", "/own/", 1), e, n_b, {}) for key, e, n_b in keys_and_epochs
        )
        inlined = tuple(
            with_inlined(c, names) for c in standin for names in inline_choices(EPOCH_INLINABLE)
        )
        judge = training_loop(own, standin, EPOCH_INLINABLE, component)
        return Check(check_id, (*standin, *own), judge, mistakes, inlined)

    # Question 3's table: what the student's own sgd_epoch gives on the sheet's data (a
    # mistake in sgd_epoch is charged there only), or the right values. A notebook without
    # a table is judged on its sgd_epoch, as the table's question asks (on data drawn from
    # the seed; a wrong batch_gradient costs only its own points there too).
    table = variable(
        f"{tag}table",
        "table",
        about("le dictionnaire table du notebook", "the notebook's dict table"),
    )
    sheet = epoch_check(
        "sheet_table",
        [(f"table/{n_b}", inputs.table, n_b) for n_b in BATCH_SIZES],
        "(w, n_updates)",
        ("gradient_ascent", "sum_instead_of_mean"),
    )
    entries = {str(n_b): epoch(f"table/sheet/{n_b}", SHEET_EPOCH, n_b, {}) for n_b in BATCH_SIZES}
    return [
        Check("predict_value", predict, matches_reference(predict, "ŷ = w·x")),
        Check(
            "batch_gradient_value",
            (*gradient, *gradient_standins),
            right_by_either_route(
                matches_reference(gradient, "G_b"), matches_reference(gradient_standins, "G_b")
            ),
            ("error_sign", "sum_instead_of_mean", "mean_over_all_examples"),
        ),
        *(
            epoch_check(
                f"sgd_epoch_nb{n_b}",
                [(f"sgd_epoch/{n_b}", inputs.epoch, n_b)],
                "(w, n_updates)",
                EPOCH_MISTAKES,
            )
            for n_b in BATCH_SIZES
        ),
        epoch_check(
            "sgd_epoch_leftover",
            [(f"sgd_epoch/leftover/{i}", e, n_b) for i, (e, n_b) in enumerate(inputs.leftover)],
            "(w, n_updates)",
            EPOCH_MISTAKES,
        ),
        Check(
            sheet.id,
            (table, *entries.values(), *sheet.calls),
            holds_results(table, entries, "table", without=sheet.judge),
            sheet.misconceptions,
            sheet.reference_calls,
        ),
    ]
