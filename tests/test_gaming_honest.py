"""Honest submissions keep their marks whatever the seed: the reference solutions, the
independent submissions, and each known mistake loses only its own points, still named."""

from __future__ import annotations

import contextlib
import json

import nbformat
import numpy as np
import pytest

from autograder.course import Project, SampleMistake
from autograder.execution.plan import plan_to_json
from autograder.judging import SEEDED, checks_for, code, plan_for, reference_answers
from autograder.sample_class import fill_template, master_answers, reference_source

from .conftest import ASSIGNMENTS
from .independent import INDEPENDENT
from .test_gaming_common import DRAWN, SEEDS, namespace_of, passed, verdicts

miniconv = code("backprop_miniconv").checks


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_and_independent_submissions_earn_every_check(assignment, seed):
    everything = set(checks_for(assignment, seed))
    reference = namespace_of([reference_source(assignment, Project.default())])
    assert passed(assignment, reference, seed) == everything
    assert passed(assignment, namespace_of(INDEPENDENT[assignment]), seed) == everything


MISTAKES = [(a, m) for a in ASSIGNMENTS for m in code(a).samples]


def sample_notebook_namespace(assignment: str, mutation: SampleMistake) -> dict:
    """What the sample class's notebook with ``mutation`` leaves: the template filled with
    the mistaken reference and the master's other answers (question 3's table, built
    with the mistaken functions), otter's own cells left out."""
    project = Project.default()
    template = nbformat.read(project.template(assignment), as_version=4)
    source = reference_source(assignment, project, mutation)
    notebook = fill_template(template, source, master_answers(assignment, project))
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and "otter" not in cell.source and "grader." not in cell.source:
            with contextlib.suppress(Exception), np.errstate(all="ignore"):
                exec(cell.source, namespace)  # a cell that fails stops there, as in a kernel
    return namespace


@pytest.mark.parametrize("seed", DRAWN[:3])
@pytest.mark.parametrize(
    ("assignment", "mutation"), MISTAKES, ids=[f"{a}:{m.mistake}" for a, m in MISTAKES]
)
def test_each_known_mistake_loses_only_its_checks_and_is_named(assignment, mutation, seed):
    found = verdicts(assignment, sample_notebook_namespace(assignment, mutation), seed)
    failed = {check_id for check_id, verdict in found.items() if not verdict.passed}
    assert failed == set(mutation.affected_checks)
    assert any(found[c].misconception == mutation.mistake for c in failed)


@pytest.mark.parametrize("seed", DRAWN)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_seed_adds_drawn_inputs_to_every_check(assignment, seed):
    fixed, seeded = checks_for(assignment), checks_for(assignment, seed)
    assert list(fixed) == list(seeded)
    for check_id, check in seeded.items():
        keys = [call.key for call in check.calls]
        assert keys[: len(fixed[check_id].calls)] == [c.key for c in fixed[check_id].calls]
        assert any(key.startswith(SEEDED) for key in keys), check_id
    assert plan_for(assignment, seed=seed) == plan_for(assignment, seed=seed)
    assert reference_answers(assignment, seed) is reference_answers(assignment, seed)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_drawn_inputs_depend_on_the_seed_only(assignment):
    loaded = code(assignment)
    module = loaded.checks

    def drawn(seed: int) -> str:
        checks = module.build(module.draw(np.random.default_rng(seed)), loaded.reference, SEEDED)
        return json.dumps(plan_to_json([call for check in checks for call in check.calls]))

    assert drawn(5) == drawn(5) != drawn(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_drawn_cases_keep_relu_inputs_on_both_sides_of_zero(seed):
    inputs = miniconv.FIXED if seed is None else miniconv.draw(np.random.default_rng(seed))
    for (W, x, _), signs in zip(inputs.cases, miniconv.SIGNS, strict=False):
        a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
        assert np.array_equal(np.sign(a), signs)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_makes_the_stopping_decisions_the_contract_asks(seed):
    inputs = miniconv.FIXED if seed is None else miniconv.draw(np.random.default_rng(seed))
    answers = reference_answers("backprop_miniconv", seed)
    tag = "" if seed is None else SEEDED
    for group in ("limits", "plateau", "progress"):
        for stop in getattr(inputs, f"stop_{group}"):
            decision = answers[f"{tag}should_stop/{group}/{stop.name}"].value
            assert decision is stop.expected, (group, stop.name)
