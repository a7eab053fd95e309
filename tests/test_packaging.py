"""The package ships no answer key: the wheel holds the framework only, and a student who
installs it runs ``dlgrade validate`` and ``check`` with no course, no reference and no
hidden check anywhere on the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.build import secret_lines

from .conftest import ASSIGNMENTS, correct_notebook


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, project) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder),
         str(project.root)],
        capture_output=True, text=True,
    )  # fmt: skip
    if built.returncode != 0 and "No matching distribution" in built.stderr:
        pytest.skip("the package index is not reachable to build the wheel")
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = folder.glob("dlgrade-*.whl")
    return path


def test_the_wheel_holds_no_course_and_no_line_of_any_reference(wheel, project):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        text = "\n".join(
            archive.read(n).decode("utf-8", "replace") for n in names if n.endswith(".py")
        )
    assert all(n.startswith(("autograder/", "dlgrade-")) for n in names), names
    assert "autograder/locale/fr.yaml" in names and "autograder/templates/feedback.html.j2" in names
    present = {line.strip() for line in text.splitlines()}
    for assignment in ASSIGNMENTS:
        assert not any(n.endswith(f"{assignment}.py") for n in names)
        # the answer key's own lines (not the boilerplate every hidden test cell shares)
        secret = {
            line
            for line in secret_lines(assignment, project)
            if len(line) >= 25 and not line.startswith(("from ", "import ", '"""'))
        }
        assert len(secret) > 20 and not secret & present, assignment


def test_a_student_install_validates_and_checks_without_any_answer_key(wheel, project, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    home = tmp_path / "student"  # no course anywhere above it
    home.mkdir()
    notebook = home / "tp.ipynb"
    nbformat.write(correct_notebook(project, "sgd_batch_size"), notebook)
    environment = {key: value for key, value in os.environ.items() if key not in ("DLGRADE_ROOT",)}
    environment["PYTHONPATH"] = str(site)

    def dlgrade(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "autograder", *args],
            cwd=home, env=environment, capture_output=True, text=True,
        )  # fmt: skip

    where = subprocess.run(
        [sys.executable, "-c", "import autograder, importlib.util as u; "
         "print(autograder.__file__, u.find_spec('solutions'))"],
        cwd=home, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(site)) and where.stdout.strip().endswith("None")
    validated = dlgrade("validate", str(notebook), "--lang", "en")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "Ready to submit." in validated.stdout
    checked = dlgrade("check", str(notebook), "--lang", "en")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "public tests passed" in checked.stdout
    build = dlgrade("build")
    assert build.returncode == 2 and build.stderr.count("\n") == 1
