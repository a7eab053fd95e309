"""What students run before submitting: validate and check."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from autograder.notebook import InvalidNotebook
from autograder.student_tools import check, validate

from .conftest import correct_notebook, notebook_with


@pytest.fixture()
def correct(project, tmp_path):
    path = tmp_path / "sgd_batch_size.ipynb"
    nbformat.write(correct_notebook(project, "sgd_batch_size"), path)
    return path


def test_a_correct_notebook_is_ready(correct):
    report = validate(correct, "sgd_batch_size")
    assert report.ok and report.lines[-1] == "Prêt à rendre."


def test_missing_functions_and_failing_cells_are_named(tmp_path):
    path = tmp_path / "partial.ipynb"
    nbformat.write(notebook_with(["def predict(w, x):\n    return w * x", "1 / 0"]), path)
    report = validate(path, "sgd_batch_size", lang="en")
    assert not report.ok
    assert "Cell 2: ZeroDivisionError: division by zero (line 1)" in report.lines
    assert "Missing function: batch_gradient" in report.lines
    assert "Missing function: predict" not in report.lines


def test_a_notebook_of_another_assignment_is_refused(project, tmp_path):
    path = tmp_path / "other.ipynb"
    nbformat.write(nbformat.read(project.template("mlp_softmax"), as_version=4), path)
    with pytest.raises(InvalidNotebook):
        validate(path, "sgd_batch_size")
    result = subprocess.run([sys.executable, "-m", "autograder", "validate", str(path),
                             "--assignment", "sgd_batch_size"], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and "mlp_softmax" in result.stderr


def test_check_runs_the_public_tests(correct, project):
    assert check(correct).ok
    blank = check(project.template("sgd_batch_size"))
    assert not blank.ok
    assert (
        "q1_gradient · test_predict_shape : échoué — predict doit accepter un tableau"
        in blank.lines
    )
    assert blank.lines[-2].endswith("tests publics réussis.")
