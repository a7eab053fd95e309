"""Every command fails on one line that names the file: never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import cli
from autograder.course import Project


@pytest.mark.parametrize(
    "command",
    [
        ["report", "--graded", "{missing}"],
        ["feedback", "--graded", "{missing}"],
        ["export", "--lms", "canvas", "--graded", "{missing}", "--roster", "r.csv", "--out", "o"],
        ["grade", "no_such_assignment", "{missing}", "--out", "{out}"],
        ["validate", "{missing}/x.ipynb"],
    ],
)
def test_a_bad_argument_is_one_line_naming_it(tmp_path, command):
    missing = tmp_path / "missing"
    argv = [a.format(missing=missing, out=tmp_path / "out") for a in command]
    finished = subprocess.run(
        [sys.executable, "-m", "autograder", *argv], capture_output=True, text=True, cwd=tmp_path
    )
    assert finished.returncode != 0
    assert "Traceback" not in finished.stderr + finished.stdout
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlgrade:"), finished.stderr
    assert "internal error" not in lines[0]
    assert not missing.exists()


STUDENT_FILES = {
    "deep": (b"[" * 5000 + b"]" * 5000, "imbriqué sur plus de 100 niveaux"),
    "not_json": (b"print('hello')", "n'est pas un JSON valide"),
    "not_utf8": ('{"cells": "é"}'.encode("latin-1"), "n'est pas du texte UTF-8"),
    "a_list": (b"[1, 2, 3]", "n'est pas un notebook Jupyter"),
    "old_format": (b'{"nbformat": 3, "worksheets": [{"cells": 5}]}', "l'ancien format 3"),
    "long_number": (b'{"cells": [], "n": ' + b"7" * 100_001 + b"}", "plus de 4300 chiffres"),
    "bad_tests": (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"otter": {"tests": '
                  b'{"q1": 7, "q2": "def ("}}}, "cells": [{"cell_type": "code", '
                  b'"source": "x = 1", "metadata": {}, "outputs": [], "execution_count": null}]}',
                  None),
}  # fmt: skip


@pytest.mark.parametrize("command", ["validate", "check"])
@pytest.mark.parametrize("case", sorted(STUDENT_FILES))
def test_a_student_command_on_a_broken_notebook_is_one_line_naming_it(tmp_path, command, case):
    """In the student's language; ``check`` on public tests edited by hand runs the others."""
    content, said = STUDENT_FILES[case]
    path = tmp_path / f"{case}.ipynb"
    path.write_bytes(content)
    argv = [sys.executable, "-m", "autograder", command, str(path)]
    if command == "validate":
        argv += ["--assignment", "sgd_batch_size"]
    finished = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
    assert "Traceback" not in finished.stderr + finished.stdout
    assert "internal error" not in finished.stderr
    if said is None:  # readable: the notebook runs, without the broken tests
        assert finished.stderr == ""
        assert ("0/0" if command == "check" else "Fonction manquante") in finished.stdout
        return
    assert finished.returncode != 0 and finished.stdout == ""
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"dlgrade: {path} : ") and said in lines[0]


@pytest.mark.parametrize("command", ["validate", "check"])
@pytest.mark.parametrize(
    ("lang", "folder_said", "missing_said"),
    [("fr", "c'est un dossier, pas un notebook", "aucun fichier de ce nom"),
     ("en", "this is a folder, not a notebook", "no file of that name")],
)  # fmt: skip
def test_a_folder_or_a_missing_file_is_named_in_the_student_s_language(
    tmp_path, command, lang, folder_said, missing_said
):
    (tmp_path / "tp.ipynb").mkdir()
    for path, said in (
        (tmp_path / "tp.ipynb", folder_said),
        (tmp_path / "nope.ipynb", missing_said),
    ):
        argv = [sys.executable, "-m", "autograder", command, str(path), "--lang", lang]
        finished = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
        assert finished.returncode == 2 and finished.stdout == ""
        assert finished.stderr.strip().splitlines() == [
            f"dlgrade: {path}{' :' if lang == 'fr' else ':'} {said}"
        ]


def test_a_bug_is_one_line_and_a_log(monkeypatch, capsys, tmp_path):
    def broken(args):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "parser", lambda: _parser_running(broken))
    assert cli.main([]) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith("dlgrade: internal error (KeyError") and "Traceback" not in line
    log = line.rsplit("details in ", 1)[1]
    assert "Traceback" in Path(log).read_text()


def test_output_read_in_part_stops_quietly(tmp_path):
    """`dlgrade check notebook | head -1`: the reader leaves before the output is written
    (here at once); no error, no log."""
    template = Project.default().template("sgd_batch_size")
    command = f"{sys.executable} -m autograder check {template} | true"
    finished = subprocess.run(["bash", "-o", "pipefail", "-c", command],
                              capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert finished.stderr == "" and finished.returncode == 141


def _parser_running(function):
    import argparse

    parser = argparse.ArgumentParser()
    parser.set_defaults(run=function)
    return parser


def test_later_commands_find_the_gradebook_and_language_of_the_grading(tmp_path, project):
    import nbformat

    from .conftest import correct_notebook

    submissions = tmp_path / "class"
    submissions.mkdir()
    nbformat.write(correct_notebook(project, "sgd_batch_size"), submissions / "ana.ipynb")
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    out = tmp_path / "out"
    grade = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(submissions),
             "--out", str(out), "--gradebook", url, "--workers", "1", "--lang", "en"]  # fmt: skip
    assert subprocess.run(grade, capture_output=True).returncode == 0
    assert not (out / "gradebook.sqlite").exists()
    for command in ("report", "feedback"):
        later = [sys.executable, "-m", "autograder", command, "--graded", str(out)]
        finished = subprocess.run(later, capture_output=True, text=True)
        assert finished.returncode == 0, finished.stderr
    # the language of the grading, with no --lang repeated
    assert "Class report" in (out / "report.html").read_text()
    assert "Grading feedback" in (out / "feedback" / "ana.html").read_text()


def test_a_limit_of_zero_is_refused(tmp_path):
    command = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(tmp_path),
               "--out", str(tmp_path / "out"), "--timeout", "0"]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 2 and "--timeout" in finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--workers", "0"], "--workers"),
        (["--workers", "-3"], "--workers"),
        (["--timeout", "nan"], "--timeout"),
        (["--gradebook", "notaurl"], "notaurl"),
        (["--gradebook", "sqlite:////no/such/folder/x.db"], "/no/such/folder"),
        (["--out", "{file}"], "is not a folder"),
    ],
)
def test_a_bad_grading_option_is_one_line_naming_it(tmp_path, options, named):
    (tmp_path / "a_file").write_text("")
    options = [o.format(file=tmp_path / "a_file") for o in options]
    command = [sys.executable, "-m", "autograder", "grade", "sgd_batch_size", str(tmp_path),
               "--out", str(tmp_path / "out"), *options]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True)
    lines = finished.stderr.strip().splitlines()
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert named in lines[-1] and "internal error" not in lines[-1]  # argparse: usage first


def test_the_command_keeps_numpy_to_one_thread_unless_told_otherwise(tmp_path):
    """A BLAS thread in the grading process spins on a core the submissions need."""
    program = (
        "import os\n"
        "from autograder.cli import main\n"
        "main(['--course', '.', 'new', 'blas_probe'])\n"
        "import numpy as np\n"
        "a = np.ones((300, 300))\n"
        "a @ a\n"
        "print(len(os.listdir('/proc/self/task')), os.environ['OMP_NUM_THREADS'])\n"
    )
    environment = {
        k: v for k, v in os.environ.items() if k not in {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}
    }
    for given, expected in ((None, "1 1"), ("2", "2 2")):
        if given:
            environment |= {"OPENBLAS_NUM_THREADS": given, "OMP_NUM_THREADS": given}
        finished = subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path,
            env=environment,
        )  # fmt: skip
        assert finished.stdout.split("\n")[-2] == expected, finished.stderr


def _runners() -> set[int]:
    """The processes of this machine running a sandbox's runner."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"from execution.runner import serve" in command:
            found.add(int(pid))
    return found


def test_grading_stops_the_runners_it_started_when_the_assignment_is_unknown(tmp_path, capsys):
    """`dlgrade grade` starts its workers' runners before it loads the grader: a name that
    turns out wrong stops them, even in a process that goes on (a notebook, a server)."""
    before = _runners()
    assert cli.main(["grade", "no_such_assignment", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "no_such_assignment" in capsys.readouterr().err
    deadline = time.monotonic() + 5
    while _runners() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _runners() - before


def test_a_folder_graded_for_another_assignment_is_refused_and_kept(tmp_path, project, capsys):
    """Its results/ and grades.csv would be overwritten, student by student: one line
    names the folder and what it holds, and nothing in it changes."""
    import nbformat

    from .conftest import correct_notebook

    submissions = tmp_path / "class"
    submissions.mkdir()
    nbformat.write(correct_notebook(project, "sgd_batch_size"), submissions / "ana.ipynb")
    out = tmp_path / "out"
    assert (
        cli.main(["grade", "sgd_batch_size", str(submissions), "--out", str(out), "--workers", "1"])
        == 0
    )
    before = {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "gradebook" not in p.name
    }
    capsys.readouterr()
    assert (
        cli.main(["grade", "mlp_softmax", str(submissions), "--out", str(out), "--workers", "1"])
        == 2
    )
    error = capsys.readouterr().err.strip()
    assert (
        error
        == f"dlgrade: {out}: holds the grading of sgd_batch_size; grade mlp_softmax into another folder"
    )
    assert {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "gradebook" not in p.name
    } == before


def test_grading_without_bubblewrap_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("autograder.sandbox.bubblewrap", lambda: None)
    monkeypatch.delenv("DLGRADE_ISOLATION", raising=False)
    out = tmp_path / "out"
    assert cli.main(["grade", "sgd_batch_size", str(tmp_path), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("dlgrade: bubblewrap (bwrap) is not installed") and "\n" not in error
    assert "DLGRADE_ISOLATION=limits-only" in error and not out.exists()


def test_a_run_refused_once_its_class_is_read_prints_its_line_alone(tmp_path, project, capsys):
    """The progress bar appears when grading starts: a refusal after the class is read
    (here, the groups file of the earlier run is gone) is one line, under no empty bar."""
    import nbformat

    from .conftest import correct_notebook

    submissions = tmp_path / "class"
    submissions.mkdir()
    nbformat.write(correct_notebook(project, "sgd_batch_size"), submissions / "ana.ipynb")
    groups = tmp_path / "groups.csv"
    groups.write_text("group,student_id\nA,ana\nA,bob\n", encoding="utf-8")
    grade = ["grade", "sgd_batch_size", str(submissions), "--out", str(tmp_path / "out"),
             "--workers", "1"]  # fmt: skip
    assert cli.main([*grade, "--groups", str(groups)]) == 0
    capsys.readouterr()
    groups.unlink()
    assert cli.main(grade) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"dlgrade: --groups {groups} was given to an earlier run")
    assert len(error.splitlines()) == 1 and "━" not in error


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--lms", "canvas", "--graded", "{graded}", "--out", "{file}"],
        ["export", "--lms", "gradescope", "--graded", "{graded}", "--out", "{file}"],
        ["manual", "export", "sgd_batch_size", "q4_conclusion", "{graded}", "--out", "{file}"],
        ["demo", "--out", "{file}"],
    ],
)
def test_every_out_that_is_a_file_is_one_line(tmp_path, command):
    """Every command's --out is a folder (cycle19 #4: export and manual export ended in an
    internal error)."""
    (tmp_path / "a_file").write_text("kept")
    given = [c.format(graded=tmp_path, file=tmp_path / "a_file") for c in command]
    main = [sys.executable, "-m", "autograder", *given]
    finished = subprocess.run(main, capture_output=True, text=True)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr == f"dlgrade: {tmp_path / 'a_file'}: exists and is not a folder; choose another --out\n"
    assert (tmp_path / "a_file").read_text() == "kept"
