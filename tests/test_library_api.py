"""The library API that notebooks, tests and other tools call: one notebook, a class, the
gradebook, one exception root."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

import autograder
from autograder import DlgradeError, grade_class, grade_notebook, open_gradebook

from .conftest import FAST_LIMITS, correct_notebook


def test_grade_notebook_grades_one_file_in_the_sandbox(tmp_path):
    path = tmp_path / "alice.ipynb"
    nbformat.write(correct_notebook(autograder.Project.default(), "sgd_batch_size"), path)
    settings = autograder.Settings(workers=1, limits=FAST_LIMITS)
    result = grade_notebook(path, "sgd_batch_size", settings=settings)
    assert result.student_id == "alice" and result.status == "graded"
    assert result.score == result.max_score > 0


def test_grade_notebook_turns_a_broken_file_into_a_result_and_a_missing_one_into_an_error(tmp_path):
    path = tmp_path / "bob.ipynb"
    path.write_text("{ not json")
    settings = autograder.Settings(workers=1, limits=FAST_LIMITS)
    assert grade_notebook(path, "sgd_batch_size", settings=settings).status == "invalid"
    with pytest.raises(DlgradeError, match="no such notebook"):
        grade_notebook(tmp_path / "nobody.ipynb", "sgd_batch_size")
    with pytest.raises(DlgradeError, match="no assignment 'nope'"):
        grade_notebook(path, "nope")


def test_grade_class_then_open_gradebook(tmp_path):
    submissions = tmp_path / "in"
    submissions.mkdir()
    nbformat.write(
        correct_notebook(autograder.Project.default(), "sgd_batch_size"),
        submissions / "carol.ipynb",
    )
    settings = autograder.Settings(workers=1, limits=FAST_LIMITS)
    run = grade_class("sgd_batch_size", [submissions], tmp_path / "out", settings)
    assert [r.student_id for r in run.graded] == ["carol"]
    latest = open_gradebook(tmp_path / "out").latest("sgd_batch_size")
    assert list(latest["student_id"]) == ["carol"]
    with pytest.raises(DlgradeError, match="no gradebook"):
        open_gradebook(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


def test_grading_reads_notebooks_without_nbformat(tmp_path):
    """Masters and submissions in format 4 are read as plain JSON: a class run does not
    pay nbformat's import (a quarter of a second of every run's start)."""
    code = (
        "import sys\n"
        "from autograder.grader import Grader, Settings\n"
        "from autograder.notebook import parse\n"
        "import autograder.class_run, autograder.manual, autograder.feedback\n"
        "grader = Grader('sgd_batch_size', Settings(workers=1))\n"
        "parse(open(sys.argv[1], 'rb').read(), 'sgd_batch_size')\n"
        "print('nbformat' in sys.modules)"
    )
    notebook = tmp_path / "carol.ipynb"
    nbformat.write(correct_notebook(autograder.Project.default(), "sgd_batch_size"), notebook)
    out = subprocess.run(
        [sys.executable, "-c", code, str(notebook)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_importing_the_package_stays_light():
    """``import autograder`` loads no heavy dependency: the student commands stay fast."""
    code = (
        "import sys, autograder\n"
        "heavy = {'pandas', 'sqlalchemy', 'numpy', 'nbformat', 'otter'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
