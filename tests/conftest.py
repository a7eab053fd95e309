"""Shared fixtures: the project, its built assignments, and helpers to grade notebooks."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder.build import build
from autograder.class_run import grade_class
from autograder.course import Project
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.sample_class import fill_template, master_answers, reference_source
from autograder.sandbox import Limits

ASSIGNMENTS = tuple(Project.default().names())
"""The course's assignments, discovered in ``assignments/``."""
FAST_LIMITS = Limits(wall_seconds=10, cpu_seconds=10)


@pytest.fixture(scope="session")
def project() -> Project:
    return Project.default()


@pytest.fixture(scope="session")
def built(project: Project) -> dict[str, object]:
    """Every assignment built once (templates checked against the committed ones)."""
    return {name: build(name, project, check=True) for name in ASSIGNMENTS}


def notebook_with(cells: list[str], assignment: str | None = None) -> nbformat.NotebookNode:
    """A plain notebook of code cells, as a student might write it from the contract alone."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3", "language": "python", "display_name": "Python 3"
    }  # fmt: skip
    if assignment:
        notebook.metadata["otter"] = {"assignment_name": assignment}
    return notebook


def correct_notebook(project: Project, assignment: str, mutation=None) -> nbformat.NotebookNode:
    template = nbformat.read(project.template(assignment), as_version=4)
    answers = master_answers(assignment, project)
    return fill_template(template, reference_source(assignment, project, mutation), answers)


def grade_notebooks(
    assignment: str,
    notebooks: dict[str, nbformat.NotebookNode | bytes],
    folder: Path,
    **settings: object,
):
    """Write the notebooks as <student>.ipynb and grade them; returns results by student."""
    submissions = folder / "submissions"
    submissions.mkdir(parents=True, exist_ok=True)
    for student, notebook in notebooks.items():
        path = submissions / f"{student}.ipynb"
        if isinstance(notebook, bytes):
            path.write_bytes(notebook)
        else:
            nbformat.write(notebook, path)
    options = {"workers": 2, "limits": FAST_LIMITS, **settings}
    run = grade_class(assignment, [submissions], folder / "out", Settings(**options))
    results = {r.student_id: r for r in run.graded}
    return run, results


def current_hash(assignment: str) -> str:
    """The autograder hash a grading run gives ``assignment`` now: a gradebook written by a
    test with it holds grades that are current, which an export accepts."""
    from autograder.assignment import load_assignment
    from autograder.grader import autograder_hash

    project = Project.default()
    return autograder_hash(load_assignment(assignment, project.root), project)


def load_result(out: Path, student: str) -> dict:
    return json.loads((out / "results" / f"{student}.json").read_text(encoding="utf-8"))


STORED_ROW = ["student_id", "submission_hash", "autograder_hash", "status", "message", "score",
              "max_score", "isolation", "result"]  # fmt: skip
"""What two runs that grade alike must store alike, whatever executor graded them."""


def stored_rows(out: Path, assignment: str) -> pd.DataFrame:
    """The gradebook rows of a graded folder, by student, results compared as text."""
    frame = Gradebook.in_folder(out).submissions(assignment)[STORED_ROW]
    frame["result"] = frame["result"].map(repr)
    return frame.sort_values("student_id").reset_index(drop=True)


def interrupted_grading(
    class_folder: Path, out: Path, executor: str, workers: int
) -> tuple[list[str], bytes]:
    """`dlgrade grade mlp_softmax` with ``executor``, sent Ctrl-C once three results are
    written: the command (to run it again) and what it wrote on stderr."""
    command = [sys.executable, "-m", "autograder", "grade", "mlp_softmax", str(class_folder),
               "--out", str(out), "--executor", executor, "--workers", str(workers)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (out / "results").exists() and len(list((out / "results").glob("*.json"))) >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=60)
    return command, errors
