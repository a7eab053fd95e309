"""Answers looked up in a table earn nothing once a seed is drawn: neither a table keyed
on the fixed inputs, nor one copied from the feedback of an earlier grading."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from autograder.execution.plan import Answer, Ref, Rng, Shifted, run_plan, to_plain
from autograder.judging import checks_for, code, plan_for

from .conftest import ASSIGNMENTS
from .test_gaming_common import DRAWN, passed, with_reference


def fingerprint(function: str, args: tuple, kwargs: dict, replaced: list[str]) -> str:
    """What a lookup table is keyed on: the function, the exact values it receives, and
    which of its namespace's functions are stand-ins during the call."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.random.Generator):
            return {"rng": value.bit_generator.state}
        return to_plain(value)

    return json.dumps(
        [function, [plain(a) for a in args], {k: plain(v) for k, v in kwargs.items()}, replaced],
        sort_keys=True,
    )


def _resolved(argument: Any, answers: dict[str, Answer]) -> Any:
    if isinstance(argument, Rng):
        return np.random.default_rng(argument.seed)
    if isinstance(argument, Ref):
        value = answers[argument.key].value
        for step in argument.path:
            value = value[step]
        return value
    if isinstance(argument, Shifted):
        shifted = {name: np.array(value) for name, value in argument.base.items()}
        shifted[argument.name][argument.index] += argument.step
        return shifted
    return argument


def lookup_table(assignment: str, seed: int | None) -> dict[str, Any]:
    """Every answer of the reference to the plan graded with ``seed``, keyed by its inputs:
    all a student could learn from that grading's feedback, and more (the whole of the
    answers the grader only samples)."""
    plan = [replace(call, sample=()) for call in plan_for(assignment, seed=seed)]
    answers = run_plan(plan, with_reference(assignment), code(assignment).standins)
    return {
        fingerprint(
            call.function,
            tuple(_resolved(a, answers) for a in call.args),
            {k: _resolved(v, answers) for k, v in call.kwargs.items()},
            sorted(call.standins),
        ): answers[call.key].value
        for call in plan
        if not call.variable  # a notebook's variable (question 3's table) is no function
    }


def lookup_student(assignment: str, table: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """Functions that answer from ``table``; on unknown inputs, the first answer they know
    (right type and often right shape)."""
    fallback: dict[str, Any] = {}
    for key, value in table.items():
        fallback.setdefault(json.loads(key)[0], value)

    namespace: dict[str, Any] = {}

    def function(name: str) -> Callable[..., Any]:
        def answer(*args: Any, **kwargs: Any) -> Any:
            standins = code(assignment).standins.values()
            replaced = sorted(n for n, f in namespace.items() if f in standins)
            return table.get(fingerprint(name, args, kwargs, replaced), fallback[name])

        return answer

    namespace.update({name: function(name) for name in fallback})
    return namespace


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_table_of_the_fixed_answers_earns_everything_without_a_seed(assignment):
    """The threat is real: the fixed inputs alone can be answered from memory."""
    student = lookup_student(assignment, lookup_table(assignment, None))
    assert passed(assignment, student, None) == set(checks_for(assignment))


@pytest.mark.parametrize("seed", DRAWN)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_table_of_the_fixed_answers_earns_nothing_with_a_seed(assignment, seed):
    student = lookup_student(assignment, lookup_table(assignment, None))
    assert passed(assignment, student, seed) == set()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answers_copied_from_an_earlier_grading_earn_nothing_with_another_seed(assignment):
    first, second = DRAWN[:2]
    student = lookup_student(assignment, lookup_table(assignment, first))
    assert passed(assignment, student, first) == set(checks_for(assignment))
    assert passed(assignment, student, second) == set()
