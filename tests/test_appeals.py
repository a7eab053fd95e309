"""Appeals: points given instead of an autograded question's, and excused students.

grades.csv, the feedback pages and the LMS files all show the override, the late penalty
applies to the sum it makes, and grading again keeps it. A bad row is refused whole, on
one line. An excused student has no grade: EX in Canvas, an empty cell elsewhere, never 0,
even with --missing-as-zero; undoing it gives the grade back.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from autograder import cli
from autograder.class_run import grade_class
from autograder.final_grade import apply_policy
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.late import LatePolicy
from autograder.lms_export import export
from autograder.pages import write_feedback, write_report
from autograder.progress import ClassProgress
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS

ASSIGNMENT = "sgd_batch_size"  # q1_gradient /3, q2_epoch /4, q3_tableau /1, q4_conclusion by hand
ROSTER = "student_id,last_name,first_name,email,username\n" + "".join(
    f"{s},Nom{s},Prénom,{s}@example.org,u{s}\n" for s in ("sgd001", "sgd002", "sgd003", "absent")
)
APPEAL = (
    'student_id,question,points,comment\nsgd001,q1_gradient,3,"Dérivée juste, test trop strict"\n'
)


@pytest.fixture(scope="module")
def graded_class(project, tmp_path_factory):
    """A class of three graded once; each test works on a copy of its folder."""
    folder = tmp_path_factory.mktemp("appeals")
    write_sample_class(folder / "class", ASSIGNMENT, project, size=3)
    run = grade_class(ASSIGNMENT, [folder / "class"], folder / "graded",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    return folder, sorted(run.graded, key=lambda r: r.student_id)


@pytest.fixture()
def graded(graded_class, tmp_path) -> Path:
    shutil.copytree(graded_class[0] / "graded", tmp_path / "graded")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return tmp_path / "graded"


def grades_csv(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "grades.csv", dtype={"student_id": str}).set_index("student_id")


def dlgrade(*argv: object) -> int:
    return cli.main([str(a) for a in argv])


def lms_cells(folder: Path, lms: str, **options) -> dict[str, str]:
    """The grade cell of each roster student in ``lms``'s import file."""
    out = folder.parent / "lms"
    export(lms, folder, folder.parent / "roster.csv", out, item="TP2", lms_id="77",
           partial=True, **options)  # fmt: skip
    if lms == "canvas":
        rows = list(csv.reader(io.StringIO((out / "canvas_import.csv").read_text("utf-8"))))
        return {row[1]: row[5] for row in rows[2:]}
    rows = list(csv.reader(io.StringIO((out / "moodle_import.csv").read_text("utf-8"))))
    return {row[0].split("@")[0]: row[3] for row in rows[1:]}


def test_an_override_reaches_grades_csv_the_pages_and_every_export(graded, graded_class):
    before = grades_csv(graded)
    appeal = graded.parent / "appeal.csv"
    appeal.write_text(APPEAL, encoding="utf-8")
    assert dlgrade("manual", "override", ASSIGNMENT, appeal, "--graded", graded) == 0

    after = grades_csv(graded)
    assert before.loc["sgd001", "q1_gradient"] == 2.0 and after.loc["sgd001", "q1_gradient"] == 3
    assert after.loc["sgd001", "score"] == before.loc["sgd001", "score"] + 1
    assert after.loc["sgd002", "score"] == before.loc["sgd002", "score"]  # nobody else

    write_feedback(graded, "fr")
    page = (graded / "feedback" / "sgd001.html").read_text(encoding="utf-8")
    assert re.search(r'id="score">([^<]*)<', page)[1] == f"{after.loc['sgd001', 'score']:g}"
    assert '3 / 3 points · <span class="reviewed">revue par l&#39;enseignant·e</span>' in page
    assert "les tests automatiques en donnaient 2" in page
    assert "Dérivée juste, test trop strict" in page
    assert "Tous les tests cachés sont réussis" not in page  # one failed: points aside
    write_feedback(graded, "en")
    page = (graded / "feedback" / "sgd001.md").read_text(encoding="utf-8")
    assert "3 / 3 points · reviewed by the instructor" in page
    assert "the automatic tests gave 2" in page
    report = write_report(graded, "fr").read_text(encoding="utf-8")
    assert re.search(r'id="reviewed">.*sgd001</td><td>Question 1<', report, re.S)

    final = f"{after.loc['sgd001', 'score']:g}"
    assert lms_cells(graded, "canvas")["sgd001"] == final
    moodle = graded.parent / "lms" / "moodle_import.csv"
    assert lms_cells(graded, "moodle")["sgd001"] == final
    assert "Dérivée juste, test trop strict" in moodle.read_text(encoding="utf-8")


def test_the_late_penalty_applies_to_the_overridden_sum(graded_class, tmp_path):
    deadline = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    gradebook = Gradebook.in_folder(tmp_path)
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    gradebook.record(run, *(
        replace(result, submitted_at=(deadline + timedelta(hours=30)).isoformat(),
                time_source="csv")
        for result in graded_class[1]
    ))  # fmt: skip
    gradebook.close()
    appeal = tmp_path / "appeal.csv"
    appeal.write_text(APPEAL, encoding="utf-8")
    assert dlgrade("manual", "override", ASSIGNMENT, appeal, "--graded", tmp_path) == 0
    apply_policy(tmp_path, LatePolicy(deadline, 25, "day", 60, {}))  # 2 days late: 50 %

    grades = grades_csv(tmp_path)
    autograded = graded_class[1][0].score  # 7 of 8: q1_gradient 2 of 3
    assert grades.loc["sgd001", "late_penalty"] == pytest.approx((autograded + 1) / 2)
    assert grades.loc["sgd001", "score"] == pytest.approx((autograded + 1) / 2)


def test_an_override_survives_grading_again_and_the_run_says_so(graded, graded_class):
    appeal = graded.parent / "appeal.csv"
    appeal.write_text(APPEAL, encoding="utf-8")
    assert dlgrade("manual", "override", ASSIGNMENT, appeal, "--graded", graded) == 0
    before = Gradebook.of_graded(graded)
    graded_before = before.latest(ASSIGNMENT)["graded_at"].max()
    before.close()

    run = grade_class(ASSIGNMENT, [graded_class[0] / "class"], graded,
                      Settings(workers=2, limits=FAST_LIMITS, regrade=True))  # fmt: skip

    assert run.graded_count == 3
    after = Gradebook.of_graded(graded)
    assert after.latest(ASSIGNMENT)["graded_at"].min() > graded_before  # graded anew
    after.close()
    assert grades_csv(graded).loc["sgd001", "q1_gradient"] == 3
    assert any(
        note.startswith("sgd001: the points given on appeal to q1_gradient are kept")
        for note in run.notes
    )


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("nobody,q1_gradient,1,", r"row 3: unknown student 'nobody' for sgd_batch_size"),
        ("sgd002,q9_missing,1,", r"row 3: unknown question 'q9_missing' for sgd_batch_size \("
                                 r"one of q1_gradient, q2_epoch, q3_tableau\)"),
        ("sgd002,q1_gradient,3.5,", r"row 3: points 3.5 outside 0 … 3 for q1_gradient"),
        ("sgd002,q2_epoch,-1,", r"row 3: points -1 outside 0 … 4 for q2_epoch"),
        ("sgd002,q1_gradient,trois,", r"row 3: points 'trois' is not a number"),
        ("sgd002,q4_conclusion,2,", r"row 3: q4_conclusion is graded by hand; give its points "
                                    r"with dlgrade manual import"),
        ("sgd001,q1_gradient,1,", r"row 3: student 'sgd001' and q1_gradient appear twice"),
        # a comment whose quote is never closed would take every row below as its text
        ('sgd002,q1_gradient,1,"Bien vu, la consigne\nsgd003,q1_gradient,2,ok',
         r"not a readable CSV file \(row 3: a quote opened there is never closed\)"),
        (f"sgd002,q1_gradient,1,{'x' * 200_000}", r"not a readable CSV file \(row 3: "),
    ],
    ids=["unknown-student", "unknown-question", "above-maximum", "negative", "not-a-number",
         "hand-graded", "twice", "quote-never-closed", "huge-comment"],
)  # fmt: skip
def test_a_bad_row_is_one_line_naming_it_and_changes_nothing(graded, capsys, row, said):
    grades = (graded / "grades.csv").read_bytes()
    appeal = graded.parent / "appeal.csv"
    appeal.write_text(APPEAL + row + "\n", encoding="utf-8")  # row 2 is right
    assert dlgrade("manual", "override", ASSIGNMENT, appeal, "--graded", graded) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"dlgrade: {re.escape(str(appeal))}: {said}", lines[0])
    gradebook = Gradebook.of_graded(graded)
    assert gradebook.overrides(ASSIGNMENT) == {}  # not even row 2
    gradebook.close()
    assert (graded / "grades.csv").read_bytes() == grades


def test_an_empty_points_cell_removes_the_override(graded, capsys):
    score = grades_csv(graded).loc["sgd001", "score"]
    appeal = graded.parent / "appeal.csv"
    appeal.write_text(APPEAL, encoding="utf-8")
    assert dlgrade("manual", "override", ASSIGNMENT, appeal, "--graded", graded) == 0
    appeal.write_text("student_id,question,points,comment\nsgd001,q1_gradient,,\n", "utf-8")
    assert dlgrade("manual", "override", ASSIGNMENT, appeal, "--graded", graded) == 0
    assert "0 override(s) given, 1 removed" in capsys.readouterr().out
    assert grades_csv(graded).loc["sgd001", "score"] == score


def test_an_excused_student_is_ex_in_canvas_and_never_0(graded):
    """sgd003 handed in a notebook, absent did not: both excused; zed sent nothing."""
    roster = graded.parent / "roster.csv"
    roster.write_text(roster.read_text("utf-8") + "zed,Nom,Zed,zed@example.org,uzed\n", "utf-8")
    assert dlgrade("manual", "excuse", ASSIGNMENT, "sgd003", "--graded", graded,
                   "--comment", "Certificat médical") == 0  # fmt: skip
    assert dlgrade("manual", "excuse", ASSIGNMENT, "absent", "--graded", graded) == 0

    grades = grades_csv(graded)
    assert grades.loc["sgd003", "status"] == grades.loc["absent", "status"] == "excused"
    assert pd.isna(grades.loc["sgd003", "score"]) and pd.isna(grades.loc["absent", "score"])
    assert grades.loc["sgd002", "status"] == "graded"

    canvas = lms_cells(graded, "canvas", missing="zero")
    assert canvas["sgd003"] == canvas["absent"] == "EX"
    assert canvas["zed"] == "0" and float(canvas["sgd002"]) > 0
    report = (graded.parent / "lms" / "canvas_roster_report.txt").read_text("utf-8")
    assert "excused, written as 'EX': absent" in report
    moodle = lms_cells(graded, "moodle", missing="zero")
    assert moodle["sgd003"] == moodle["absent"] == "" and moodle["zed"] == "0"

    write_feedback(graded, "fr")
    page = (graded / "feedback" / "sgd003.html").read_text(encoding="utf-8")
    assert re.search(r'id="score">([^<]*)<', page)[1] == "dispensé·e"
    assert "Vous êtes dispensé·e de ce devoir" in page and "Certificat médical" in page
    write_feedback(graded, "en")
    page = (graded / "feedback" / "sgd003.md").read_text(encoding="utf-8")
    assert "Score: excused" in page and "You are excused from this assignment" in page
    report = write_report(graded, "fr").read_text(encoding="utf-8")
    mean = (grades.loc["sgd001", "score"] + grades.loc["sgd002", "score"]) / 2
    assert re.search(r'id="mean">([^<]*)<', report)[1] == f"{mean:.2f}"  # not a 0 among them


def test_undoing_an_excusal_gives_the_grade_back(graded, capsys):
    score = grades_csv(graded).loc["sgd003", "score"]
    assert dlgrade("manual", "excuse", ASSIGNMENT, "sgd003", "--graded", graded) == 0
    assert dlgrade("manual", "excuse", ASSIGNMENT, "sgd003", "--graded", graded, "--undo") == 0
    grades = grades_csv(graded)
    assert grades.loc["sgd003", "score"] == score and grades.loc["sgd003", "status"] == "graded"
    assert lms_cells(graded, "canvas")["sgd003"] == f"{score:g}"
    capsys.readouterr()
    assert dlgrade("manual", "excuse", ASSIGNMENT, "sgd003", "--graded", graded, "--undo") == 2
    assert capsys.readouterr().err.strip() == (
        "dlgrade: 'sgd003' is not excused from sgd_batch_size: nothing to undo"
    )


def test_grading_again_keeps_an_excused_student_excused_and_counts_them(graded, graded_class):
    assert dlgrade("manual", "excuse", ASSIGNMENT, "sgd003", "--graded", graded) == 0
    assert dlgrade("manual", "excuse", ASSIGNMENT, "absent", "--graded", graded) == 0
    run = grade_class(ASSIGNMENT, [graded_class[0] / "class"], graded,
                      Settings(workers=2, limits=FAST_LIMITS, regrade=True))  # fmt: skip
    assert "sgd003: excused, and still so after this grading" in " ".join(run.notes)
    assert grades_csv(graded).loc["sgd003", "status"] == "excused"
    screen = io.StringIO()
    ClassProgress(ASSIGNMENT, Console(file=screen, width=200)).summary(run)
    shown = screen.getvalue()
    assert "3 submission(s) for 4 student(s)" in shown  # absent sent nothing
    assert re.search(r"excused\s*│\s*2", shown)


@pytest.mark.parametrize("student", ["", "a/b", "bad\x1b[31mred", "two\nlines", " padded"])
def test_an_excusal_for_what_is_no_student_id_is_refused(graded, capsys, student):
    assert dlgrade("manual", "excuse", ASSIGNMENT, student, "--graded", graded) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "is not a student id" in line and "\x1b" not in line


def test_a_comment_typed_in_another_encoding_is_kept_readable(graded):
    """A terminal in Latin-1 gives bytes that are no UTF-8: Python hands them over as lone
    surrogates, which no database stores."""
    comment = b"malade \xe9t\xe9".decode("utf-8", "surrogateescape")
    assert (
        dlgrade("manual", "excuse", ASSIGNMENT, "sgd002", "--graded", graded, "--comment", comment)
        == 0
    )
    gradebook = Gradebook.of_graded(graded)
    assert gradebook.excused(ASSIGNMENT)["sgd002"].startswith("malade ")
    gradebook.close()
