"""One final grade everywhere: grades.csv, the feedback pages, the class report and every
LMS export agree for every student, with or without hand grading, late policy, scaling.

The class is graded for real once; its results are then stored with the submission times
an LMS would give (as the intake records them from a times CSV), so each combination is
a fresh graded folder. The expected grades are computed here from the policy's rules.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from autograder.assignment import load_assignment
from autograder.class_run import grade_class
from autograder.final_grade import apply_policy, write_grades
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.late import LatePolicy
from autograder.lms_export import export
from autograder.manual import import_scores
from autograder.pages import write_feedback, write_report
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS

ASSIGNMENT = "sgd_batch_size"
DEADLINE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
# 25 % per started day, capped at 60 %; the fourth student has three more days
DELAYS = [timedelta(hours=-1), timedelta(hours=30), timedelta(days=5), timedelta(days=2),
          timedelta(minutes=1), timedelta(days=-3)]  # fmt: skip
PENALTIES = [0, 50, 60, 0, 25, 0]
HAND = {0: ("2.5", "Bonne intuition"), 1: ("3", "Très bien vu"), 2: ("0", "Hors sujet")}


@pytest.fixture(scope="module")
def graded_results(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("final")
    write_sample_class(folder / "class", ASSIGNMENT, project, size=len(DELAYS))
    run = grade_class(ASSIGNMENT, [folder / "class"], folder / "graded",
                      Settings(workers=2, limits=FAST_LIMITS))  # fmt: skip
    return sorted(run.graded, key=lambda r: r.student_id)


def graded_folder(folder: Path, graded_results, manual: bool, policy: bool) -> Path:
    gradebook = Gradebook.in_folder(folder)
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    gradebook.record(run, *(
        replace(result, submitted_at=(DEADLINE + delay).isoformat(), time_source="csv")
        for result, delay in zip(graded_results, DELAYS, strict=True)
    ))  # fmt: skip
    if manual:
        filled = folder / "hand.csv"
        filled.write_text("student_id,points,comment\n" + "".join(
            f"{graded_results[i].student_id},{points},{comment}\n"
            for i, (points, comment) in HAND.items()
        ), encoding="utf-8")  # fmt: skip
        import_scores(ASSIGNMENT, "q4_conclusion", filled, gradebook)
    if policy:
        extension = {graded_results[3].student_id: DEADLINE + timedelta(days=3)}
        apply_policy(folder, LatePolicy(DEADLINE, 25, "day", 60, extension))
    else:
        write_grades(gradebook, load_assignment(ASSIGNMENT), folder / "grades.csv")
    gradebook.close()
    return folder


def expected_grades(graded_results, manual: bool, policy: bool) -> dict[str, float]:
    grades = {}
    for index, result in enumerate(graded_results):
        hand = float(HAND[index][0]) if manual and index in HAND else 0.0
        penalty = PENALTIES[index] if policy else 0
        grades[result.student_id] = round((result.score + hand) * (1 - penalty / 100), 4)
    return grades


def table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("scale_to", [None, 20.0], ids=["points", "scaled"])
@pytest.mark.parametrize("policy", [False, True], ids=["on-time", "late-policy"])
@pytest.mark.parametrize("manual", [False, True], ids=["auto", "hand-graded"])
def test_every_output_shows_the_same_final_grade(graded_results, tmp_path, manual, policy,
                                                 scale_to):  # fmt: skip
    folder = graded_folder(tmp_path / "graded", graded_results, manual, policy)
    expected = expected_grades(graded_results, manual, policy)
    maximum = 8.0 + (3.0 if manual else 0.0)
    assert len(set(expected.values())) > 1  # a class with different grades

    grades = pd.read_csv(folder / "grades.csv", dtype={"student_id": str}).set_index("student_id")
    assert grades["score"].to_dict() == pytest.approx(expected)
    assert set(grades["max_score"]) == {maximum}

    write_feedback(folder, "en")
    for student, grade in expected.items():
        page = (folder / "feedback" / f"{student}.html").read_text(encoding="utf-8")
        assert re.search(r'id="score">([^<]*)<', page)[1] == f"{grade:g}"
    report = write_report(folder, "en").read_text(encoding="utf-8")
    assert (
        re.search(r'id="mean">([^<]*)<', report)[1] == f"{statistics.fmean(expected.values()):.2f}"
    )

    lms_grades = {
        s: round(g * scale_to / maximum, 2) if scale_to else g for s, g in expected.items()
    }
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,last_name,first_name,email,username\n" + "".join(
        f"{s},Nom{s},Prénom,{s}@example.org,u{s}\n" for s in expected), encoding="utf-8")  # fmt: skip
    out = tmp_path / "lms"
    for lms in ("canvas", "moodle", "blackboard", "gradescope"):
        export(
            lms,
            folder,
            roster,
            out,
            item="TP2",
            lms_id="77",
            scale_to=scale_to,
            lang="en",
            partial=True,
        )  # some students have no hand grade: they count 0
    canvas = table(out / "canvas_import.csv")
    assert canvas[1][5] == f"{scale_to or maximum:g}"
    assert {row[1]: float(row[5]) for row in canvas[2:]} == pytest.approx(lms_grades)
    moodle = table(out / "moodle_import.csv")
    assert {row[0].split("@")[0]: float(row[3]) for row in moodle[1:]} == pytest.approx(lms_grades)
    blackboard = table(out / "blackboard_import.csv")
    assert blackboard[0][3] == f"TP2 [Total Pts: {scale_to or maximum:g} Score] |77"
    assert {row[2][1:]: float(row[3]) for row in blackboard[1:]} == pytest.approx(lms_grades)
    for student, grade in lms_grades.items():
        result = json.loads((out / "gradescope" / student / "results.json").read_text("utf-8"))
        assert result["score"] == pytest.approx(grade)

    feedback = {row[0].split("@")[0]: row[4] for row in moodle[1:]}
    first, late = graded_results[0].student_id, graded_results[1].student_id
    assert ("Bonne intuition" in feedback[first]) == manual
    assert ("50 % penalty" in feedback[late]) == policy
    assert all("Notebook graded" not in text for text in feedback.values())
