"""Helpers shared by the ``test_gaming_*`` files: grade a namespace of functions directly,
without notebook or sandbox, on the fixed inputs and on inputs drawn from seeds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from autograder.checks import Verdict
from autograder.course import Project
from autograder.execution.plan import run_plan
from autograder.judging import checks_for, code, judge, plan_for
from autograder.sample_class import reference_source

SEEDS = (None, 3, 1234, 98765, 2**40 + 7)
"""No seed (the fixed inputs alone), then several seeds."""

DRAWN = tuple(seed for seed in SEEDS if seed is not None)


def namespace_of(cells: Iterable[str]) -> dict[str, Any]:
    """The namespace a notebook made of ``cells`` leaves (trusted test code only)."""
    namespace: dict[str, Any] = {}
    for cell in cells:
        exec(cell, namespace)
    return namespace


def with_reference(assignment: str, *cells: str) -> dict[str, Any]:
    """The reference solution, then the student's cells (redefining some functions)."""
    return namespace_of([reference_source(assignment, Project.default()), *cells])


def verdicts(
    assignment: str,
    namespace: dict[str, Any],
    seed: int | None,
    check_ids: Sequence[str] | None = None,
) -> dict[str, Verdict]:
    """Every check's verdict (or those of ``check_ids``) on what ``namespace`` answers."""
    ids = list(check_ids) if check_ids is not None else list(checks_for(assignment, seed))
    with np.errstate(all="ignore"):
        answers = run_plan(
            plan_for(assignment, ids, seed=seed), namespace, code(assignment).standins
        )
    return {check_id: judge(assignment, check_id, answers, seed=seed) for check_id in ids}


def passed(
    assignment: str,
    namespace: dict[str, Any],
    seed: int | None,
    check_ids: Sequence[str] | None = None,
) -> set[str]:
    """The ids of the checks ``namespace`` passes."""
    found = verdicts(assignment, namespace, seed, check_ids)
    return {check_id for check_id, verdict in found.items() if verdict.passed}


def functions(**named: Callable[..., Any]) -> dict[str, Any]:
    """A namespace holding exactly ``named`` (``np`` too, as a notebook would)."""
    return {"np": np, **named}
