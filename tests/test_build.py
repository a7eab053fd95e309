"""dlgrade build: templates up to date, blanks in place, nothing secret leaks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.assignment import load_assignment
from autograder.build import BuildError, build, find_leaks, secret_lines
from autograder.course import AssignmentError, Project

from .conftest import ASSIGNMENTS

CONTRACT_FUNCTIONS = {
    "backprop_miniconv": ["forward", "loss", "backward", "should_stop", "train"],
    "sgd_batch_size": ["predict", "batch_gradient", "sgd_epoch"],
    "mlp_softmax": [
        "init_params", "softmax", "forward", "loss_accuracy", "grad_logits",
        "backward", "sgd_step", "train",
    ],
}  # fmt: skip


def test_build_check_passes_on_the_committed_templates(project):
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "build", "--check"],
        capture_output=True, text=True, cwd=project.root, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_build_check_names_an_outdated_template(project, tmp_path):
    copy = Project(tmp_path)
    for folder in ("assignments", "autograder", "solutions", "student_templates"):
        shutil.copytree(project.root / folder, tmp_path / folder)
    master = copy.master("sgd_batch_size")
    notebook = nbformat.read(master, as_version=4)
    notebook.cells[1].source += "\n\nUne phrase ajoutée."
    nbformat.write(notebook, master)
    load_assignment.cache_clear()
    with pytest.raises(BuildError, match=r"student_templates/sgd_batch_size\.ipynb: out of date"):
        build("sgd_batch_size", copy, check=True)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_templates_have_blank_functions_and_checks(project, assignment):
    notebook = nbformat.read(project.template(assignment), as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for function in CONTRACT_FUNCTIONS[assignment]:
        assert f"def {function}(" in code
    assert "solutions" not in code and "reference." not in code
    assert "verify(" not in code
    questions = [q.name for q in load_assignment(assignment, project.root).autograded]
    for question in questions:
        assert f'grader.check("{question}")' in code
    tests = notebook.metadata["otter"]["tests"]
    assert set(tests) == set(questions)
    assert "hidden=True" not in str(tests) and "verify" not in str(tests)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_line_or_hidden_test_in_templates(project, assignment):
    text = project.template(assignment).read_text(encoding="utf-8")
    assert find_leaks(text, assignment, project) == []
    secrets = secret_lines(assignment, project)
    assert any("verify(" in s for s in secrets), "hidden tests must be among the secrets"
    assert any("return reference." in s for s in secrets), "solution blocks must be too"


def test_a_leak_is_detected(project):
    text = project.template("backprop_miniconv").read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell('    d1 = -e * v1 * relu_derivative(cache["a1"])')
    )
    assert find_leaks(nbformat.writes(notebook), "backprop_miniconv", project)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograder_zip_carries_its_own_engine_only(built, assignment):
    """The zip's engine holds this assignment's checks, master and reference, never the
    other assignments'; no grader file sits where otter copies files beside the notebook."""
    with zipfile.ZipFile(built[assignment].autograder_zip) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("otter_config.json"))
        run_otter = archive.read("run_otter.py").decode()
        public = json.loads(archive.read("files/dlgrade/public_tests.json"))
    engine = "files/dlgrade/"
    assert {n for n in names if n.startswith("files/")} == {
        n for n in names if n.startswith(engine)
    }
    assert {n for n in names if n.startswith(f"{engine}solutions/")} == {
        f"{engine}solutions/{assignment}.py",
    }
    own = f"{engine}assignments/{assignment}/"
    assert {n for n in names if n.startswith(f"{engine}assignments/")} == {
        own + name
        for name in (
            f"{assignment}.ipynb",
            "feedback.yaml",
            "checks.py",
            "mistakes.py",
            "standins.py",
        )
    }
    for module in ("otter_engine", "otter_run", "grader", "sandbox", "execution/runner"):
        assert f"{engine}autograder/{module}.py" in names
    assert not any(n.endswith((".pyc", "cli.py", "gradebook.py")) for n in names)
    assert config["plugins"] == [
        {"autograder.otter_run.DlgradePlugin": {"assignment": assignment, "lang": "fr"}}
    ]
    assert "sys.path.insert(0, '/autograder/source/files/dlgrade')" in run_otter
    questions = [q.name for q in load_assignment(assignment).autograded]
    assert set(public) == set(questions)
    assert all("verify" not in case["source"] for cases in public.values() for case in cases)


def test_public_tests_are_the_templates_without_hidden_cases(project):
    from autograder.otter_zip import public_tests

    template = nbformat.read(project.template("sgd_batch_size"), as_version=4)
    tests = public_tests(template)
    assert [c["name"] for c in tests["q1_gradient"]] == [
        "test_predict_shape",
        "test_gradient_at_optimum",
    ]
    source = tests["q1_gradient"][0]["source"]
    assert "@test_case" not in source and source.endswith("test_predict_shape(env=globals())")


def test_a_hidden_test_with_an_unknown_check_is_refused(project, tmp_path):
    for folder in ("assignments", "solutions"):
        shutil.copytree(project.root / folder, tmp_path / folder)
    master = Project(tmp_path).master("sgd_batch_size")
    master.write_text(master.read_text().replace("'predict_value'", "'no_such_check'"))
    with pytest.raises(AssignmentError, match=r"sgd_batch_size.ipynb: cell \d+: unknown check"):
        load_assignment("sgd_batch_size", tmp_path)


def test_otter_check_works_in_the_student_folder(built, project, tmp_path):
    """otter's own ``otter check`` on the student's folder: no ZeroDivisionError; a blank
    template fails its public tests, a solved notebook passes them all."""
    from .conftest import correct_notebook

    folder = tmp_path / "student"
    shutil.copytree(built["sgd_batch_size"].student_folder, folder)
    otter = [sys.executable, "-m", "otter", "check"]
    blank = subprocess.run(
        [*otter, "sgd_batch_size.ipynb"], cwd=folder, capture_output=True, text=True
    )
    assert "ZeroDivisionError" not in blank.stderr and "Test case failed" in blank.stdout
    nbformat.write(correct_notebook(project, "sgd_batch_size"), folder / "solved.ipynb")
    solved = subprocess.run([*otter, "solved.ipynb"], cwd=folder, capture_output=True, text=True)
    assert solved.stdout.strip().endswith("All tests passed!"), solved.stdout + solved.stderr
