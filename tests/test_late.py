"""The late-submission policy: penalties, cap, extensions, applied in exports and pages."""

from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta

import pytest

from autograder.class_run import grade_class
from autograder.grader import Settings
from autograder.late import LatePolicy, PolicyError, read_extensions
from autograder.lms_export import export
from autograder.pages import write_feedback, write_report
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS

DEADLINE = datetime(2026, 12, 1, 23, 59)


@pytest.mark.parametrize(
    ("late_by", "unit", "percent"),
    [(timedelta(0), "day", 0), (timedelta(hours=1), "day", 10), (timedelta(hours=25), "day", 20),
     (timedelta(days=9), "day", 30), (timedelta(hours=2, minutes=1), "hour", 30)],
)  # fmt: skip
def test_penalty_per_started_unit_with_a_cap(late_by, unit, percent):
    policy = LatePolicy(DEADLINE, 10, unit, cap_percent=30)
    lateness = policy.lateness("s", DEADLINE + late_by)
    assert lateness.penalty_percent == percent
    assert policy.apply(8.0, lateness) == pytest.approx(8.0 * (1 - percent / 100))


def test_an_extension_moves_the_deadline(tmp_path):
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student_id,deadline\ns1,2026-12-05T12:00\n", encoding="utf-8")
    policy = LatePolicy(DEADLINE, 10, extensions=read_extensions(extensions))
    assert not policy.lateness("s1", DEADLINE + timedelta(days=2)).late
    assert policy.lateness("s2", DEADLINE + timedelta(days=2)).penalty_percent == 20
    extensions.write_text("student_id,deadline\ns1,next tuesday\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"extensions\.csv: row 2"):
        read_extensions(extensions)


def test_the_policy_reaches_exports_and_pages(project, tmp_path):
    students = write_sample_class(tmp_path / "class", "sgd_batch_size", project, size=20)
    correct = [s for s in students if s.kind == "correct"]
    on_time, late = correct[0], correct[1]
    for student, moment in (
        (on_time, DEADLINE - timedelta(hours=1)),
        (late, DEADLINE + timedelta(hours=30)),
    ):
        os.utime(student.path, (moment.timestamp(), moment.timestamp()))
    graded = tmp_path / "graded"
    grade_class(
        "sgd_batch_size", [tmp_path / "class"], graded, Settings(workers=2, limits=FAST_LIMITS)
    )
    LatePolicy(DEADLINE, 25, "day", cap_percent=50).save(graded)
    roster = tmp_path / "roster.csv"
    roster.write_text(f"student_id\n{on_time.student_id}\n{late.student_id}\n", encoding="utf-8")
    export("canvas", graded, roster, tmp_path / "lms", item="TP", lms_id="1")
    rows = {r[1]: r[5] for r in csv.reader((tmp_path / "lms" / "canvas_import.csv").open())}
    assert (
        float(rows[on_time.student_id]) == 8 and float(rows[late.student_id]) == 4
    )  # 2 days: 50 %
    write_feedback(graded)
    page = (graded / "feedback" / f"{late.student_id}.html").read_text(encoding="utf-8")
    assert "pénalité de 50 %" in page and 'id="score">4<' in page
    report = write_report(graded).read_text(encoding="utf-8")
    assert late.student_id in report.split('id="late"')[1]
