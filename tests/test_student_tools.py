"""What students run before submitting: validate and check."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest

from autograder.student_tools import UnreadableNotebook, check, validate

from .conftest import correct_notebook, notebook_with


@pytest.fixture()
def correct(project, tmp_path):
    path = tmp_path / "sgd_batch_size.ipynb"
    nbformat.write(correct_notebook(project, "sgd_batch_size"), path)
    return path


def test_a_correct_notebook_is_ready(correct):
    report = validate(correct, "sgd_batch_size")
    assert report.ok and report.lines[-1].startswith("Prêt à rendre.")
    assert report.lines[-1].endswith(f"dlgrade check {correct}")  # validate runs no test


def test_missing_functions_and_failing_cells_are_named(tmp_path):
    path = tmp_path / "partial.ipynb"
    nbformat.write(notebook_with(["def predict(w, x):\n    return w * x", "1 / 0"]), path)
    report = validate(path, "sgd_batch_size", lang="en")
    assert not report.ok
    assert "Cell 2 “1 / 0”: ZeroDivisionError: division by zero (line 1)" in report.lines
    assert "Missing function: batch_gradient" in report.lines
    assert "Missing function: predict" not in report.lines


def test_a_notebook_of_another_assignment_is_refused(project, tmp_path):
    path = tmp_path / "other.ipynb"
    nbformat.write(nbformat.read(project.template("mlp_softmax"), as_version=4), path)
    with pytest.raises(UnreadableNotebook) as refused:
        validate(path, "sgd_batch_size")
    assert refused.value.reason.reason.key == "other_assignment"
    result = subprocess.run([sys.executable, "-m", "autograder", "validate", str(path),
                             "--assignment", "sgd_batch_size"], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and "mlp_softmax" in result.stderr


def test_a_notebook_naming_another_assignment_in_either_tag_is_refused_by_the_grader(project):
    """Templates name their assignment for otter and for dlgrade: a notebook whose tags
    disagree with the assignment graded is refused, whichever tag it is."""
    from autograder.notebook import InvalidNotebook, parse

    notebook = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    assert parse(nbformat.writes(notebook).encode(), "sgd_batch_size")
    notebook.metadata["dlgrade"]["assignment"] = "backprop_miniconv"
    with pytest.raises(InvalidNotebook) as refused:
        parse(nbformat.writes(notebook).encode(), "sgd_batch_size")
    assert refused.value.reason.key == "other_assignment"


def test_check_runs_the_public_tests(correct, project):
    assert check(correct).ok
    blank = check(project.template("sgd_batch_size"))
    assert not blank.ok
    assert (
        "q1_gradient · test_predict_shape : échoué — predict doit accepter un tableau"
        in blank.lines
    )
    assert blank.lines[-2].endswith("tests publics réussis.")


def test_check_names_the_cells_that_failed_and_where_a_run_stopped(project, tmp_path, monkeypatch):
    """Public tests that fail because a cell raised, or because the run was stopped, say so:
    the student sees which cell to fix, not only the tests it broke."""
    from autograder import student_tools
    from autograder.sandbox import Limits

    template = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    raising = tmp_path / "raising.ipynb"
    template.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(template, raising)
    assert any(
        line.startswith("Cellule ") and "« 1 / 0 » : ZeroDivisionError" in line
        for line in check(raising).lines
    )
    monkeypatch.setattr(student_tools, "LIMITS", Limits(wall_seconds=3, cpu_seconds=3))
    stuck = tmp_path / "stuck.ipynb"
    stubborn = "import time\nwhile True:\n    try:\n        time.sleep(9)\n    except BaseException:\n        pass"
    nbformat.write(notebook_with(["x = 1", stubborn]), stuck)
    report = check(stuck, lang="en")
    assert not report.ok
    assert (
        "Stopped after 3 s, during cell 2 “import time”: look for an endless loop." in report.lines
    )


def test_a_public_test_that_hangs_fails_alone_and_says_why(project, tmp_path, monkeypatch):
    """A function that never returns, called by one public test: that test fails with its
    timeout, the others still run (before, the check said "0/0" and nothing else)."""
    from autograder import student_tools
    from autograder.sandbox import Limits

    monkeypatch.setattr(student_tools, "LIMITS", Limits(wall_seconds=8, cpu_seconds=8))
    notebook = correct_notebook(project, "sgd_batch_size")
    for cell in notebook.cells:
        if cell.cell_type == "code" and "def batch_gradient" in cell.source:
            cell.source = re.sub(r"(def batch_gradient\(.*\n)", r"\1    while True:\n        pass\n",
                                 cell.source)  # fmt: skip
    path = tmp_path / "hangs.ipynb"
    nbformat.write(notebook, path)
    report = check(path)
    failed = [line for line in report.lines if ": échoué" in line]
    passed = [line for line in report.lines if ": réussi" in line]
    assert not report.ok and passed
    assert any("TimeoutError: arrêté après" in line for line in failed)
    assert report.lines[-2] == f"{len(passed)}/{len(passed) + len(failed)} tests publics réussis."


def test_check_lists_the_tests_in_the_notebooks_order(project):
    """Otter's metadata sorts the tests by name (p2_… before q14_…): the report follows the
    notebook, where questions 14 and 15 come before part 2."""
    report = check(project.template("mlp_softmax"))
    questions = [line.split(" · ")[0] for line in report.lines if " · " in line]
    order = list(dict.fromkeys(questions))
    assert order[:3] == ["q14_code", "q15_code", "p2_init"], order


def test_a_failed_public_test_without_its_authors_words_says_the_error_and_the_line(
    project, tmp_path
):
    """A test that fails on a KeyError says more than 'table'; a bare assert shows itself."""
    path = tmp_path / "sgd_batch_size.ipynb"
    notebook = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    notebook.metadata["otter"]["tests"] = {
        "q_demo": "def test_keys(env):\n    assert env['tableau'] == 1\n\n"
        "def test_bare(env):\n    assert 1 + 1 == 3\n",
    }
    nbformat.write(notebook, path)
    lines = check(path).lines
    assert (
        "q_demo · test_keys : échoué — KeyError: 'tableau' (ligne du test : `assert env['tableau'] == 1`)"
        in lines
    )
    assert "q_demo · test_bare : échoué — ligne du test : `assert 1 + 1 == 3`" in lines
