"""How a known mistake is written: its name, its explanation, and the wrong variants of
the reference that make it.

An assignment lists its known mistakes in ``assignments/<name>/mistakes.py`` (``MISTAKES``)
and each check names the ones it may reveal. When a check fails, the grader runs the
check's calls on each wrong variant; if the student's answers agree with one, the
feedback names the mistake and explains it (``judging.matching_mistake``).

A mistake may also say what it costs at most in one question (``Mistake.cost``, a rubric's
line): a misconception that makes every component of a question fail (a forgotten 1/n
scales all four gradients) is then counted once, not once per component
(``counted_once``).

A variant is a function ``variant(original, live)`` that returns the functions the
mistake changes. ``original`` holds the reference's functions; ``live`` is the namespace
the variant runs in, where the grader's stand-ins may be swapped in during one call: a
variant that calls another contract function should read it from ``live``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Namespace = MutableMapping[str, Any]
Variant = Callable[[Mapping[str, Any], Namespace], dict[str, Callable[..., Any]]]


@dataclass(frozen=True)
class Mistake:
    """A known mistake: ``title`` and ``explanation`` in each language (``{"fr": …,
    "en": …}``), the wrong variants that make it (several when students write the
    same mistake in several ways), and ``cost``: the most points it costs in one question
    when nothing else is wrong there (None: what its failed checks are worth)."""

    id: str
    title: Mapping[str, str]
    explanation: Mapping[str, str]
    variants: tuple[Variant, ...]
    cost: float | None = None

    def explain(self, lang: str = "fr") -> str:
        return self.explanation.get(lang) or self.explanation["fr"]

    def name(self, lang: str = "fr") -> str:
        return self.title.get(lang) or self.title["fr"]


@dataclass(frozen=True)
class Failure:
    """A failed check of a question, as ``counted_once`` weighs it."""

    points: float  # what the check is worth
    mistake: str | None  # the known mistake its answers match
    follows: bool  # it fails whenever the question's other checks do (a gradient check)


def counted_once(failures: Sequence[Failure], costs: Mapping[str, float | None]) -> float | None:
    """The share of each failed check's points a question gives back, or None.

    When one known mistake explains every failure of the question (each failed check
    matches it, or is a check like the gradient check that fails with the others) and
    those checks are worth more than the mistake's ``cost``, the question loses the cost
    only, spread over the failed checks in proportion to their points."""
    named = {failure.mistake for failure in failures if failure.mistake}
    if len(named) != 1 or any(not f.mistake and not f.follows for f in failures):
        return None
    cost = costs.get(named.pop())
    lost = sum(failure.points for failure in failures)
    if cost is None or lost <= cost:
        return None
    return 1.0 - cost / lost


def scaled(name: str, factor: float) -> Variant:
    """The reference's ``name`` with its result multiplied by ``factor`` (a gradient twice
    too large: the gradient of a loss without its ½)."""

    def variant(original, live):
        return {name: lambda *args, **kwargs: factor * original[name](*args, **kwargs)}

    return variant


def negated(name: str) -> Variant:
    """The reference's ``name`` with its result's sign flipped (a gradient of the wrong sign)."""
    return scaled(name, -1.0)


def reordered(name: str, order: Sequence[int]) -> Variant:
    """The reference's ``name`` with the entries of its (1-D) result taken in ``order``:
    the right gradient, its components written in another order."""

    def variant(original, live):
        return {name: lambda *args, **kwargs: np.asarray(original[name](*args, **kwargs))[order]}

    return variant


def learning_rate_flipped(
    name: str, position: int = 3, **overflowing: Callable[..., Any]
) -> Variant:
    """The training function ``name`` run with the learning rate (argument ``position``)
    of the opposite sign: gradient ascent.

    Gradient ascent often diverges: ``overflowing`` replaces the reference functions that
    would raise OverflowError on huge values (Python floats) by NumPy ones that give inf,
    as a student's NumPy loop does, so that both end in the same inf and NaN.
    """

    def variant(original, live):
        def flipped(*args, **kwargs):
            args = list(args)
            args[position] = -args[position]
            return original[name](*args, **kwargs)

        return {name: flipped, **overflowing}

    return variant
