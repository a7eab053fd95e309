"""A course adds its own assignment: ``dlgrade new`` in a course folder of its own, then
build, grade and export, touching nothing of the framework."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.course import AssignmentError, Project
from autograder.judging import checks_for
from autograder.sample_class import fill_template, reference_source

NAME = "relu_tp"
FRAMEWORK = Path(cli.__file__).parent


def dlgrade(course: Path, *args: str) -> int:
    """``dlgrade --course COURSE ARGS``, in this process; the course it sets for later steps
    ends with the command."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLGRADE_ROOT", str(course))
        return cli.main(["--course", str(course), *args])


def framework_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(FRAMEWORK.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course folder holding one new assignment, built."""
    folder = tmp_path_factory.mktemp("course")
    before = framework_digest()
    assert dlgrade(folder, "new", NAME) == 0
    assert dlgrade(folder, "build", NAME) == 0
    assert framework_digest() == before
    return folder


def test_the_new_assignment_is_discovered_with_its_files(course):
    project = Project(course)
    assert project.names() == [NAME]
    loaded = project.code(NAME)
    assert list(loaded.mistakes) == ["relu_inverted"]
    assert [s.mistake for s in loaded.samples] == ["relu_inverted"]
    assert list(checks_for(NAME, root=course)) == ["relu_values"]
    assert project.template(NAME).is_file() and project.autograder_zip(NAME).is_file()
    assert not any(NAME in path.read_text() for path in FRAMEWORK.rglob("*.py"))


def test_it_grades_correct_mistaken_and_blank_notebooks_and_exports(course, tmp_path):
    project = Project(course)
    template = nbformat.read(project.template(NAME), as_version=4)
    (mistake,) = project.code(NAME).samples
    notebooks = {
        "alice": fill_template(template, reference_source(NAME, project)),
        "bob": fill_template(template, reference_source(NAME, project, mistake)),
        "carol": template,
    }
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for student, notebook in notebooks.items():
        nbformat.write(notebook, submissions / f"{student}.ipynb")
    out = tmp_path / "graded"
    assert (
        dlgrade(course, "grade", NAME, str(submissions), "--out", str(out), "--workers", "1") == 0
    )
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert {s: r["score"] for s, r in results.items()} == {"alice": 2.0, "bob": 0.0, "carol": 0.0}
    assert [t["misconception"] for t in results["bob"]["tests"]] == ["relu_inverted"]
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,name,email\nalice,Alice,a@x.fr\nbob,Bob,b@x.fr\ncarol,Carol,c@x.fr\n"
    )
    export = tmp_path / "export"
    assert dlgrade(
        course, "export", "--lms", "moodle", "--graded", str(out), "--roster", str(roster),
        "--out", str(export),
    ) == 0  # fmt: skip
    (written,) = export.glob("*.csv")
    rows = {row[0]: row for row in csv.reader(written.open(encoding="utf-8-sig"))}
    assert "a@x.fr" in str(rows) and "b@x.fr" in str(rows)


def test_a_check_naming_an_unknown_mistake_is_refused_with_its_file_and_line(tmp_path):
    assert dlgrade(tmp_path, "new", NAME) == 0
    checks = Project(tmp_path).folder(NAME) / "checks.py"
    checks.write_text(checks.read_text().replace('("relu_inverted",)', '("relu_upside_down",)'))
    line = next(
        n for n, text in enumerate(checks.read_text().splitlines(), 1) if "relu_upside_down" in text
    )
    with pytest.raises(AssignmentError, match=rf"checks.py:{line}: .*relu_upside_down"):
        checks_for(NAME, root=tmp_path)


def test_a_broken_checks_file_names_its_line(tmp_path, capsys):
    assert dlgrade(tmp_path, "new", NAME) == 0
    checks = Project(tmp_path).folder(NAME) / "checks.py"
    checks.write_text(checks.read_text().replace("FIXED = Inputs(", "FIXED = Inputz("))
    assert dlgrade(tmp_path, "build", NAME) == 2
    error = capsys.readouterr().err
    assert "checks.py:" in error and "NameError" in error and error.count("\n") == 1


def test_new_refuses_an_existing_assignment_or_a_bad_name(tmp_path, capsys):
    assert dlgrade(tmp_path, "new", NAME) == 0
    assert dlgrade(tmp_path, "new", NAME) == 2
    assert dlgrade(tmp_path, "new", "Bad-Name") == 2
    assert "exists already" in capsys.readouterr().err


def test_build_check_passes_right_after_build(course, capsys):
    """Otter draws new cell ids at each build: the check compares them numbered in order."""
    assert dlgrade(course, "build", "--check", NAME) == 0, capsys.readouterr().err


BROKEN = {
    "a NameError in build()": (
        "checks.py", "calls = tuple(", "calls = tuple(undefined_name) + tuple(", r"checks.py:\d+: NameError"
    ),
    "a call of a function the reference lacks": (
        "checks.py", '"relu", (z,)', '"relu_max", (z,)', r"checks.py:\d+: a check calls relu_max\(\)"
    ),
    "a reference giving NaN": (
        "reference", "np.maximum(np.asarray(z, dtype=np.float64), 0.0)",
        "np.maximum(np.asarray(z, dtype=np.float64), 0.0) * np.nan", r"relu_tp.py: .*NaN or inf"
    ),
    "a check no hidden test runs": (
        "checks.py", "return [Check(",
        'return [Check("spare", calls, matches_reference(calls, "ReLU")), Check(',
        r"no hidden test runs the check\(s\) spare",
    ),
    "a sample whose text is not in the reference": (
        "samples.py", '"np.maximum(np.asarray', '"np.maximum(np.array(', r"samples.py:\d+: .*0 times",
    ),
    "a master notebook cut short": (
        "master", '"cells": [', '"cells": [[', r"\.ipynb: not a readable notebook \(.*JSON",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_assignment_is_one_line_naming_the_file_to_fix(case, tmp_path, capsys):
    where, old, new, expected = BROKEN[case]
    assert dlgrade(tmp_path, "new", NAME) == 0
    project = Project(tmp_path)
    files = {"reference": project.reference(NAME), "master": project.master(NAME)}
    path = files.get(where, project.folder(NAME) / where)
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    capsys.readouterr()
    assert dlgrade(tmp_path, "build", NAME) == 2
    error = capsys.readouterr().err
    assert re.search(expected, error) and error.count("\n") == 1, error
