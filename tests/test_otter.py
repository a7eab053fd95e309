"""The otter autograders: full marks for the reference, nothing for a blank, same scores as ours.

The zip grades with dlgrade's engine (``autograder.otter_run``): the reference is a
student's notebook filled with the reference code, not otter's solution notebook, which
imports the ``solutions`` package that the sandbox rightly hides.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.class_run import grade_class
from autograder.grader import Settings
from autograder.judging import code

from .conftest import ASSIGNMENTS, FAST_LIMITS, correct_notebook

pytestmark = pytest.mark.slow


def otter_run(zip_path: Path, notebook: Path, out: Path) -> dict[str, float]:
    """Per-question scores given by ``otter run``, without the public tests."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), str(notebook)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: t["score"] for t in results["tests"] if t.get("max_score")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_full_marks_and_blank_zero(built, project, tmp_path, assignment):
    zip_path = built[assignment].autograder_zip
    notebook = tmp_path / f"{assignment}.ipynb"
    nbformat.write(correct_notebook(project, assignment), notebook)
    reference = otter_run(zip_path, notebook, tmp_path / "ref")
    blank = otter_run(zip_path, project.template(assignment), tmp_path / "blank")
    from autograder.assignment import load_assignment

    questions = {q.name: q.points for q in load_assignment(assignment).autograded}
    assert reference == questions
    assert blank == dict.fromkeys(questions, 0)


def test_only_the_backward_pass_wrong_loses_only_its_points(built, project, tmp_path):
    mutation = next(m for m in code("backprop_miniconv").samples if m.mistake == "error_sign")
    notebook = tmp_path / "backprop_miniconv.ipynb"
    nbformat.write(correct_notebook(project, "backprop_miniconv", mutation), notebook)
    scores = otter_run(built["backprop_miniconv"].autograder_zip, notebook, tmp_path / "o")
    assert scores == {
        "q3_passe_avant": 3,
        # the sign of e fails every component: counted once, at its rubric cost
        "q3_passe_arriere": 6 - code("backprop_miniconv").mistakes["error_sign"].cost,
        "q4_critere": 3,
        "q5_entrainement": 3,
    }


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_otter_and_dlgrade_agree_on_honest_submissions(built, project, tmp_path, assignment):
    """The checks are defined once: both engines give every question the same score."""
    folder = tmp_path / "class"
    folder.mkdir()
    kinds = {"correct": None, **{m.mistake: m for m in code(assignment).samples[:2]}}
    for kind, mutation in kinds.items():
        nbformat.write(correct_notebook(project, assignment, mutation), folder / f"{kind}.ipynb")
    nbformat.write(
        nbformat.read(project.template(assignment), as_version=4), folder / "blank.ipynb"
    )
    run = grade_class(
        assignment, [folder], tmp_path / "out", Settings(workers=2, limits=FAST_LIMITS)
    )
    ours = {r.student_id: {q: s for q, (s, _) in r.questions.items()} for r in run.graded}
    for path in sorted(folder.glob("*.ipynb")):
        theirs = otter_run(built[assignment].autograder_zip, path, tmp_path / path.stem)
        assert ours[path.stem] == theirs, path.stem


def test_the_solution_notebook_cannot_reach_the_shipped_reference(built, tmp_path):
    """Otter's solution notebook delegates to ``solutions``: under the zip, the notebook
    runs where that package does not exist, so delegating to it earns nothing."""
    built_one = built["sgd_batch_size"]
    scores = otter_run(built_one.autograder_zip, built_one.solution_notebook, tmp_path / "o")
    assert set(scores.values()) == {0}
