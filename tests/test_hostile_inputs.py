"""The hostile-input corpus, the pages and CSVs instructors open, and the gradebook under stress."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.gradebook import Gradebook
from autograder.pages import write_feedback, write_report
from autograder.sample_class import write_sample_class

from .hostile_corpus import ASSIGNMENT, CASES, FORMULA_NAME, XSS_NAME, matches, run_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    run, got = run_corpus(folder)
    return folder, run, got


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_gets_its_documented_behaviour(corpus, case):
    _, _, got = corpus
    assert matches(case.expected, got[case.name]), got[case.name]


def test_nothing_is_written_outside_the_output(corpus):
    folder, _, _ = corpus
    assert not Path("/tmp/abs_2222_2_tp.ipynb").exists()
    assert not list(folder.parent.glob("slip_1111*")) and not list(folder.glob("slip_1111*"))
    written = {p.relative_to(folder).parts[0] for p in folder.rglob("*")}
    assert written == {"inputs", "out"}


def test_pages_escape_student_controlled_text(corpus):
    folder, _, _ = corpus
    write_feedback(folder / "out")
    report = write_report(folder / "out").read_text(encoding="utf-8")
    for text in [
        report,
        *(p.read_text(encoding="utf-8") for p in (folder / "out" / "feedback").glob("*.html")),
    ]:
        assert "<img src=x" not in text and "<script>alert" not in text
    assert (
        "&lt;img src=x onerror=alert(1)&gt;"
        in (
            folder
            / "out"
            / "feedback"
            / next(p.name for p in (folder / "out" / "feedback").glob("*.html") if "img" in p.name)
        ).read_text(encoding="utf-8")
        or XSS_NAME not in report
    )


def test_grades_csv_cannot_hold_a_formula(corpus):
    folder, _, _ = corpus
    lines = (folder / "out" / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(f"'{FORMULA_NAME}") for line in lines)
    assert not any(line.startswith(("=", "+", "-", "@")) for line in lines)


def _consistent(out: Path) -> int:
    """Every stored submission is whole: unique key, and one check row per test."""
    gradebook = Gradebook.in_folder(out)
    rows = gradebook.submissions(ASSIGNMENT)
    assert rows["student_id"].is_unique
    checks = gradebook.checks(rows["id"]).groupby("submission_id").size()
    for _, row in rows.iterrows():
        assert checks.get(row["id"], 0) == len(row["result"]["tests"])
    gradebook.close()
    return len(rows)


def _command(folder: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(folder), "--out", str(out),
            "--workers", "1"]  # fmt: skip


def test_two_runs_at_once_neither_corrupt_nor_double_count(project, tmp_path):
    write_sample_class(tmp_path / "class", ASSIGNMENT, project, size=24)
    out = tmp_path / "out"
    runs = [subprocess.Popen(_command(tmp_path / "class", out), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE) for _ in range(2)]  # fmt: skip
    for process in runs:
        assert process.wait(timeout=300) == 0, process.stderr.read().decode()[-2000:]
    assert _consistent(out) == 24


def test_runs_killed_at_random_moments_leave_a_gradebook_a_rerun_completes(project, tmp_path):
    write_sample_class(tmp_path / "class", ASSIGNMENT, project, size=24)
    out = tmp_path / "out"
    chance = random.Random(2026)
    for _ in range(4):
        process = subprocess.Popen(_command(tmp_path / "class", out), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(chance.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if (out / "gradebook.sqlite").exists():
            _consistent(out)
    subprocess.run(_command(tmp_path / "class", out), check=True, capture_output=True, timeout=300)
    assert _consistent(out) == 24
