"""A late penalty only from true submission times, and deadlines as instructors write them.

The gradebooks here hold results shaped as the grader stores them, with the times and
their sources as the intake records them (``time_source``, Canvas's ``late_flag``).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from autograder import results
from autograder.cli import main
from autograder.gradebook import Gradebook
from autograder.late import (
    LatePolicy,
    LateTimesError,
    PolicyError,
    load_policy,
    parse_moment,
    times_problem,
)

from .conftest import current_hash

ASSIGNMENT = "sgd_batch_size"
DEADLINE = datetime(2026, 12, 1, 23, 59)


def graded_folder(folder: Path, students: dict[str, dict]) -> Path:
    """A graded folder whose students scored 8/8, with the given time fields."""
    gradebook = Gradebook.in_folder(folder)
    run = gradebook.start_run(ASSIGNMENT, "hash", {})
    for number, (student, times) in enumerate(students.items()):
        test = results.TestResult("check", "q1", 8.0, 8.0, True, "", None)
        gradebook.record(run, results.SubmissionResult(
            student, ASSIGNMENT, "graded", "", 8.0, 8.0, f"sha-{number}", current_hash(ASSIGNMENT),
            f"{student}.ipynb", "bwrap", tests=[test], **times))  # fmt: skip
    gradebook.close()
    return folder


def at(moment: str, source: str = "csv") -> dict:
    return {"submitted_at": moment, "time_source": source}


def late_policy(folder: Path, *options: str) -> list[str]:
    return ["late-policy", "--graded", str(folder), "--deadline", "2026-12-01T23:59+00:00",
            "--percent-per-day", "10", *options]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-01T23:59", datetime(2026, 12, 1, 23, 59)),
        ("2026-12-01 23:59", datetime(2026, 12, 1, 23, 59)),
        ("13/12/2026 23:59", datetime(2026, 12, 13, 23, 59)),
        ("12/13/2026 11:59 PM", datetime(2026, 12, 13, 23, 59)),
        ("12/12/2026 08:00", datetime(2026, 12, 12, 8, 0)),
        ("1er décembre 2026 à 23h59", datetime(2026, 12, 1, 23, 59)),
        ("1 déc. 2026 23:59", datetime(2026, 12, 1, 23, 59)),
        ("December 1, 2026 11:59 PM", datetime(2026, 12, 1, 23, 59)),
        ("1 December 2026, 12:30 am", datetime(2026, 12, 1, 0, 30)),
    ],
)
def test_deadlines_in_iso_french_and_english_forms(text, moment):
    assert parse_moment(text, "--deadline") == moment


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("01/12/2026 23:59", r"--deadline: '01/12/2026 23:59' is ambiguous .* 2026-12-01T23:59"),
        ("2026-12-01", r"has no time; write e\.g\. 2026-12-01T23:59"),
        ("31/02/2026 10:00", r"not a valid date"),
        ("next tuesday", r"not a date and time; write e\.g\. 2026-12-01T23:59"),
        ("1 brumaire 2026 10:00", r"not a date and time"),
    ],
)
def test_ambiguous_or_incomplete_deadlines_are_refused(text, message):
    with pytest.raises(PolicyError, match=message):
        parse_moment(text, "--deadline")


def test_times_with_an_offset_meet_a_local_deadline():
    policy = LatePolicy(DEADLINE.replace(tzinfo=UTC), 10)
    assert policy.lateness("s", datetime(2026, 12, 2, 1, 0, tzinfo=UTC)).penalty_percent == 10
    assert not policy.lateness("s", datetime(2026, 12, 1, 22, 0, tzinfo=UTC)).late


def _machine_in(monkeypatch, zone: str):
    """This process's own time zone set to ``zone`` for one test."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def machine_in_tokyo(monkeypatch):
    """A machine whose own time zone is neither the course's nor UTC."""
    yield from _machine_in(monkeypatch, "Asia/Tokyo")


def test_times_without_an_offset_are_read_in_the_deadlines_offset(machine_in_tokyo):
    """A Moodle worksheet's times are the downloading teacher's, as the deadline written
    with the teacher's offset: neither is read in the machine's zone."""
    policy = LatePolicy(parse_moment("2025-12-01T23:59+01:00", "--deadline"), 10)
    assert not policy.lateness("jean", datetime(2025, 12, 1, 23, 30)).late
    assert not policy.lateness("paul", datetime(2025, 12, 1, 23, 58, 59)).late
    marie = policy.lateness("marie", datetime(2025, 12, 2, 0, 10))
    assert marie.late_by_hours == 11 / 60  # 10 min 1 s from 23:59:59: 11 started minutes


def test_a_time_zone_reads_naive_times_and_deadlines_with_daylight_saving(machine_in_tokyo):
    summer = LatePolicy(datetime(2026, 6, 1, 23, 59), 10, timezone="Europe/Paris")
    assert not summer.lateness("s", datetime(2026, 6, 1, 23, 30)).late  # a worksheet's
    assert not summer.lateness("s", datetime(2026, 6, 1, 21, 30, tzinfo=UTC)).late  # 23:30 there
    assert summer.lateness("s", datetime(2026, 6, 1, 22, 30, tzinfo=UTC)).late_by_hours == 31 / 60
    winter = LatePolicy(datetime(2026, 12, 1, 23, 59), 10, timezone="Europe/Paris")
    assert not winter.lateness("s", datetime(2026, 12, 1, 22, 30, tzinfo=UTC)).late
    with pytest.raises(
        PolicyError, match=r"'Paris' is not a time zone name \(such as Europe/Paris\)"
    ):
        LatePolicy(DEADLINE, 10, timezone="Paris")


def test_the_time_zone_is_saved_with_the_policy(tmp_path, capsys):
    folder = graded_folder(tmp_path / "graded", {
        "jean": at("2025-12-01T23:30:00", "moodle-worksheet"),
        "marie": at("2025-12-02T00:10:00", "moodle-worksheet"),
    })  # fmt: skip
    command = ["late-policy", "--graded", str(folder), "--deadline", "1er décembre 2025 à 23h59",
               "--percent-per-day", "10", "--timezone", "Europe/Paris"]  # fmt: skip
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "jean" not in out and "marie: submitted 2025-12-02T00:10:00+01:00, 11 min late" in out
    assert load_policy(folder).timezone == "Europe/Paris"
    assert main([*command[:-1], "Mars/Olympus"]) == 2
    assert capsys.readouterr().err.strip() == (
        "dlgrade: 'Mars/Olympus' is not a time zone name (such as Europe/Paris)"
    )


@pytest.fixture
def machine_in_utc(monkeypatch):
    """A grading server on UTC, for a course in Paris."""
    yield from _machine_in(monkeypatch, "UTC")


def test_a_deadline_only_this_machine_places_is_refused_when_the_lms_says_otherwise(
    tmp_path, capsys, machine_in_utc
):
    """Gradescope's times carry the course's +01:00; a deadline typed without an offset on
    a UTC server would be an hour off: 10 minutes late would be on time."""
    folder = graded_folder(tmp_path / "graded", {
        "aicha": at("2026-12-02T00:10:00+01:00", "gradescope"),
        "jean": at("2026-12-01T23:30:00+01:00", "gradescope"),
    })  # fmt: skip
    command = ["late-policy", "--graded", str(folder), "--deadline", "2026-12-01T23:59",
               "--percent-per-day", "10"]  # fmt: skip
    assert main(command) == 2
    assert capsys.readouterr().err.strip() == (
        "dlgrade: the deadline 2026-12-01T23:59 has no time zone and this machine is at "
        "+00:00, but the submission times carry +01:00: give --timezone (such as "
        "Europe/Paris), or the deadline with its offset (2026-12-01T23:59+01:00)"
    )
    assert load_policy(folder) is None  # nothing saved, grades.csv untouched
    assert not (folder / "grades.csv").exists()
    for fixed in (["--timezone", "Europe/Paris"], ["--deadline", "2026-12-01T23:59+01:00"]):
        assert main([*command, *fixed]) == 0
        out = capsys.readouterr().out
        assert "aicha: submitted 2026-12-02T00:10:00+01:00, 11 min late, penalty 10 %" in out
        assert "jean" not in out and "check --timezone" not in out


def test_times_in_utc_read_with_a_named_time_zone_raise_no_warning(machine_in_utc):
    policy = LatePolicy(datetime(2026, 12, 1, 23, 59), 10, timezone="Europe/Paris")
    canvas = [datetime(2026, 12, 1, 22, 30, tzinfo=UTC)]
    policy.check_time_zone(canvas)
    assert policy.deadline_line(canvas) == "deadline 2026-12-01T23:59:00+01:00 (Europe/Paris)"
    naive = LatePolicy(datetime(2026, 12, 1, 23, 59), 10)
    naive.check_time_zone(canvas)  # the machine's offset: what the deadline was read in
    naive.check_time_zone([datetime(2026, 12, 1, 23, 30)])  # a worksheet's: no offset at all


def stored(**fields) -> dict:
    return results.normalized({"student_id": "s", **fields})


@pytest.mark.parametrize(
    ("class_", "message", "untimed"),
    [
        ([stored(submitted_at="2026-12-02T10:00:00", time_source="file-dates")],
         r"times of s are file or zip-entry dates .* --accept-file-dates", {"s"}),
        ([stored(submitted_at="2026-12-02T10:00:00")],  # stored before sources were recorded
         r"file or zip-entry dates", {"s"}),
        ([stored(submitted_at="2026-12-02T10:00:00", time_source="guessed")],
         r"submission times from an unknown source \(guessed\)", {"s"}),
        ([stored(student_id="ana", late_flag=True, time_source="canvas-flag"),
          stored(student_id="bob", time_source="canvas-flag")],
         r"Canvas marks ana late but gives no time", {"ana"}),
        ([stored(student_id="ana", submitted_at="2026-12-02T10:00:00", time_source="csv"),
          stored(student_id="bob")],
         r"no submission time for bob, while other students have one: .*times CSV", {"bob"}),
        ([stored(student_id="ana"), stored(student_id="bob")],
         r"no submission time is known for any student", {"ana", "bob"}),
        ([stored(student_id="ana", lms="canvas", late_flag=True, submitted_at="2026-12-02T10:00:00",
                 time_source="csv"),
          stored(student_id="bob", lms="canvas", time_source="canvas-flag")],
         r"no submission time for bob, .*times are kept \(Canvas did not mark their files LATE: "
         r"if Canvas's due date is your deadline, a time at the deadline keeps them on time\)$",
         {"bob"}),
    ],
)  # fmt: skip
def test_untrustworthy_times_are_refused(class_, message, untimed):
    problem = times_problem(class_, LatePolicy(DEADLINE, 10))
    assert isinstance(problem, LateTimesError)
    assert re.search(message, str(problem))
    assert set(problem.students) == untimed  # those whose lateness cannot be computed


def test_file_dates_pass_only_when_the_instructor_vouches_for_them():
    file_dated = [stored(submitted_at="2026-12-02T10:00:00", time_source="file-dates")]
    assert times_problem(file_dated, LatePolicy(DEADLINE, 10, accept_file_dates=True)) is None
    assert times_problem([stored(submitted_at="2026-12-02T10:00:00", time_source="gradescope")],
                         LatePolicy(DEADLINE, 10)) is None  # fmt: skip


def test_late_policy_prints_who_is_late_and_updates_grades(tmp_path, capsys):
    folder = graded_folder(tmp_path / "graded", {
        "ana": at("2026-12-01T23:00:00+00:00"),
        "bob": at("2026-12-02T11:59:00+00:00"),  # 11 h 59 min late: one started day
        "cid": at("2026-12-05T00:30:00+01:00", "moodle-worksheet"),  # 71.5 h: 3 days, capped
    })  # fmt: skip
    assert main(late_policy(folder, "--cap", "25")) == 0
    out = capsys.readouterr().out
    assert "ana" not in out
    assert "bob: submitted 2026-12-02T11:59:00+00:00, 12 h late, penalty 10 % (8 → 7.2)" in out
    assert (
        "cid: submitted 2026-12-04T23:30:00+00:00, 2 d 23 h 31 min late, penalty 25 % (8 → 6)"
        in out
    )
    assert "2 late submission(s) of 3" in out
    grades = pd.read_csv(folder / "grades.csv", dtype={"student_id": str}).set_index("student_id")
    assert grades["score"].to_dict() == {"ana": 8.0, "bob": 7.2, "cid": 6.0}
    assert grades.loc["cid", "late_penalty"] == 2.0
    assert json.loads((folder / "late_policy.json").read_text())["percent_per_unit"] == 10


def test_a_canvas_zip_without_times_is_refused_in_one_line(tmp_path, capsys):
    folder = graded_folder(tmp_path / "graded", {
        "101": {"late_flag": True, "time_source": "canvas-flag"},
        "102": {"time_source": "canvas-flag"},
    })  # fmt: skip
    assert main(late_policy(folder)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Canvas marks 101 late but gives no time" in err
    assert "--times CSV (student_id,submitted_at)" in err and "submission_metadata.yml" in err
    assert not (folder / "late_policy.json").exists()


def test_file_dates_need_the_explicit_option(tmp_path, capsys):
    folder = graded_folder(tmp_path / "graded", {
        "ana": at("2026-12-02T10:00:00Z", "file-dates"), "bob": at("2026-12-01T10:00:00Z", "file-dates"),
    })  # fmt: skip
    assert main(late_policy(folder)) == 2
    assert "--accept-file-dates" in capsys.readouterr().err
    assert not (folder / "late_policy.json").exists()
    assert main(late_policy(folder, "--accept-file-dates")) == 0
    assert "ana: submitted 2026-12-02T10:00:00+00:00" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--deadline", "01/12/2026 23:59"], "ambiguous"),
        (["--percent-per-day", "150"], "penalties are percentages between 0 and 100"),
        (["--extensions", "missing.csv"], "missing.csv: unreadable extensions file"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(tmp_path, capsys, arguments, message):
    folder = graded_folder(tmp_path / "graded", {"ana": at("2026-12-02T10:00:00")})
    command = late_policy(folder)
    for option, value in zip(arguments[::2], arguments[1::2], strict=True):
        if option in command:
            command[command.index(option) + 1] = value
        else:
            command += [option, value]
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err
    assert not (folder / "late_policy.json").exists()


def test_a_wrong_folder_is_one_line_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "not-graded"
    assert main(late_policy(missing)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"{missing}: no gradebook.sqlite here" in err
    assert not missing.exists()


def test_exports_and_pages_refuse_a_policy_on_untrustworthy_times(tmp_path, capsys):
    """A policy saved, then a class whose times no longer hold: nothing is penalised."""
    folder = graded_folder(tmp_path / "graded", {"ana": at("2026-12-02T10:00:00", "file-dates")})
    LatePolicy(DEADLINE, 10).save(folder)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nana\n", encoding="utf-8")
    for command in (["feedback", "--graded", str(folder)], ["report", "--graded", str(folder)],
                    ["export", "--lms", "moodle", "--graded", str(folder), "--roster", str(roster),
                     "--out", str(tmp_path / "lms")]):  # fmt: skip
        assert main(command) == 2
        assert "file or zip-entry dates" in capsys.readouterr().err
    assert not (tmp_path / "lms").exists() and not (folder / "report.html").exists()


def test_a_student_without_a_time_waits_alone_and_the_class_s_policy_applies(tmp_path, capsys):
    """A Moodle participant missing from the worksheet has no time: the late policy is
    applied to everyone else, and that student is named with the one thing to do (a
    --times file with their rows only); their grade has no penalty yet, says so on their
    page, and an export that would send it refuses (cycle 14, #9)."""
    folder = graded_folder(tmp_path / "graded", {
        "ana": at("2026-12-02T10:00:00+00:00"), "bob": {}, "cid": at("2026-12-01T20:00:00+00:00"),
    })  # fmt: skip
    assert main(late_policy(folder)) == 0
    out = capsys.readouterr().out
    assert (
        "ana: submitted 2026-12-02T10:00:00+00:00, 10 h 1 min late, penalty 10 % (8 → 7.2)" in out
    )
    assert "no submission time for bob, while other students have one" in out
    assert "--times CSV (student_id,submitted_at) holding just their rows" in out
    assert "every student" not in out
    grades = pd.read_csv(folder / "grades.csv", dtype={"student_id": str}).set_index("student_id")
    assert grades["score"].to_dict() == {"ana": 7.2, "bob": 8.0, "cid": 8.0}
    assert pd.isna(grades.loc["bob", "late_penalty"]) and grades.loc["cid", "late_penalty"] == 0

    assert main(["feedback", "--graded", str(folder)]) == 0
    assert "Heure de remise inconnue" in (folder / "feedback" / "bob.md").read_text()
    assert "Heure de remise" not in (folder / "feedback" / "cid.md").read_text()

    roster = tmp_path / "roster.csv"
    export = ["export", "--lms", "canvas", "--graded", str(folder), "--roster", str(roster),
              "--lms-id", "4813", "--partial", "--out"]  # fmt: skip
    roster.write_text("student_id,last_name,first_name\nana,A,Ana\nbob,B,Bob\ncid,C,Cid\n")
    capsys.readouterr()
    assert main([*export, str(tmp_path / "lms")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "the late penalty of bob is unknown" in err
    assert "holding just their rows" in err and not (tmp_path / "lms").exists()
    roster.write_text("student_id,last_name,first_name\nana,A,Ana\ncid,C,Cid\n")  # bob left
    assert main([*export, str(tmp_path / "lms")]) == 0
    report = (tmp_path / "lms" / "canvas_roster_report.txt").read_text()
    assert "no late penalty known, but not exported (not in the roster): bob" in report
