"""The late-submission policy: penalties per started unit, cap, extensions (the policy
reaching every output: test_final_grade; true times only: test_late_policy_times)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from autograder.final_grade import FinalGrade
from autograder.late import LatePolicy, PolicyError, lateness_of, parse_moment, read_extensions
from autograder.messages import duration_text

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
    grade = FinalGrade("s", "graded", 6.0, 8.0, {"q4": 2.0}, 3.0, lateness)
    assert grade.score == pytest.approx(8.0 * (1 - percent / 100)) and grade.max_score == 11


@pytest.mark.parametrize(
    ("deadline", "submitted", "late"),
    [
        ("2026-12-01T23:59", "2026-12-01T23:59:59.5", False),  # Canvas's 11:59 PM is 23:59:59
        ("2026-12-01T23:59", "2026-12-02T00:00:00", True),
        ("2026-12-01T23:59:00", "2026-12-01T23:59:30", False),  # seconds 0: to the minute
        ("2026-12-01T23:59:30", "2026-12-01T23:59:31", True),  # seconds given: as written
        ("2026-12-01T23:59+01:00", "2026-12-01T22:59:45+00:00", False),
    ],
)
def test_a_deadline_written_to_the_minute_includes_that_minute(deadline, submitted, late):
    policy = LatePolicy(datetime.fromisoformat(deadline), 10)
    lateness = policy.lateness("s", datetime.fromisoformat(submitted))
    assert lateness.late is late
    if late:  # counted from the deadline's last second: 23:59:59 for a deadline to the minute
        end = datetime.fromisoformat(deadline)
        end += timedelta(seconds=0 if end.second else 59)
        seconds = (datetime.fromisoformat(submitted) - end).total_seconds()
        assert lateness.late_by_hours == math.ceil(seconds / 60) / 60  # started minutes


@pytest.mark.parametrize(
    ("submitted", "shown", "days", "started_hours"),
    [
        ("2026-12-02T00:00:00", "1 min", 1, 1),  # a second late
        ("2026-12-02T00:10:00", "11 min", 1, 1),  # ten minutes and a second
        ("2026-12-02T10:00:00", "10 h 1 min", 1, 11),  # ten hours and a second
        ("2026-12-02T23:59:30", "1 j", 1, 24),  # 23 h 59 min 31 s: not yet a second day
        ("2026-12-02T23:59:59", "1 j", 1, 24),  # exactly one day after 23:59:59
        ("2026-12-03T00:00:00", "1 j 1 min", 2, 25),  # a second into the second day
    ],
)
def test_late_days_start_at_the_deadline_minute_s_last_second(
    submitted, shown, days, started_hours
):
    """Canvas's 11:59 PM is 23:59:59: each day and hour of lateness starts there, not at
    23:59:00, or every boundary would come 59 seconds early. The delay shown is in started
    minutes: it never reads as fewer days or hours than the penalty counts."""
    deadline, moment = datetime.fromisoformat("2026-12-01T23:59"), datetime.fromisoformat(submitted)
    lateness = LatePolicy(deadline, 10).lateness("s", moment)
    assert lateness.penalty_percent == 10 * days
    assert duration_text(lateness.late_by_hours) == shown
    assert LatePolicy(deadline, 1, unit="hour").lateness("s", moment).penalty_percent == (
        started_hours
    )


@pytest.mark.parametrize("text", ["9999-12-31T23:59", "0001-01-01T00:00", "1/13/0001 10:00"])
def test_a_deadline_in_no_plausible_year_is_one_line(text):
    with pytest.raises(PolicyError, match=r"--deadline: .* is not a plausible date"):
        parse_moment(text, "--deadline")


def test_an_extension_moves_the_deadline(tmp_path):
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student_id,deadline\ns1,2026-12-05T12:00\n", encoding="utf-8")
    policy = LatePolicy(DEADLINE, 10, extensions=read_extensions(extensions))
    assert not policy.lateness("s1", DEADLINE + timedelta(days=2)).late
    assert policy.lateness("s2", DEADLINE + timedelta(days=2)).penalty_percent == 20
    extensions.write_text("student_id,deadline\ns1,next tuesday\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"extensions\.csv: row 2: 'next tuesday' is not a date"):
        read_extensions(extensions)


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("s1,2026-12-10T23:59\ns1,2026-12-03T23:59\n",
         r"rows 2 and 3: two different extensions for s1; keep one row per student"),
        ("s1,2026-12-01T23:00\n", r"row 2: s1's extension \(2026-12-01T23:00\) is not after"),
        ("s2,2026-12-01T23:59\n", r"row 2: s2's extension .* is not after the deadline"),
        ("s1,2026-12-05T12:00\ns3,1970-01-01T00:00\n", r"row 3: s3's extension"),
    ],
)  # fmt: skip
def test_extensions_that_would_make_a_penalty_nobody_meant_are_refused(tmp_path, rows, said):
    """Two dates for one student, or a date not after the deadline (a typo in the year
    turned an extension into 100 %): one line naming the rows (rt18 #5)."""
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student_id,deadline\n" + rows, encoding="utf-8")
    with pytest.raises(PolicyError, match=said):
        read_extensions(extensions, DEADLINE)
    if "two different" not in said:  # without the deadline, the rows alone are checked
        read_extensions(extensions)
    extensions.write_text("student_id,deadline\ns1,2026-12-05T12:00\ns1,2026-12-05T12:00\n")
    assert read_extensions(extensions, DEADLINE) == {"s1": datetime(2026, 12, 5, 12)}


def test_an_extension_of_the_group_or_any_member_reaches_the_group_s_submission():
    two_days = (DEADLINE + timedelta(days=2)).isoformat()
    group = {"student_id": "group:G1", "members": ["alice", "bob"], "submitted_at": two_days}
    for extended in ("bob", "alice", "group:G1"):
        policy = LatePolicy(DEADLINE, 10, extensions={extended: DEADLINE + timedelta(days=3)})
        assert not lateness_of(group, policy).late, extended
    other = LatePolicy(DEADLINE, 10, extensions={"carol": DEADLINE + timedelta(days=3)})
    assert lateness_of(group, other).penalty_percent == 20
    both = LatePolicy(DEADLINE, 10, extensions={"alice": DEADLINE + timedelta(days=1),
                                                "bob": DEADLINE + timedelta(days=3)})  # fmt: skip
    assert not lateness_of(group, both).late  # the latest of them


def test_the_deadline_line_says_its_time_zone_and_warns_when_the_lms_differs():
    paris = datetime.fromisoformat("2026-12-03T10:00+01:00")
    named = LatePolicy(datetime(2026, 12, 1, 23, 59), 10, timezone="Europe/Paris")
    assert named.deadline_line([paris]) == "deadline 2026-12-01T23:59:00+01:00 (Europe/Paris)"
    assert (
        named.shown(datetime.fromisoformat("2026-12-03T09:00+00:00")) == "2026-12-03T10:00:00+01:00"
    )
    utc = LatePolicy(datetime.fromisoformat("2026-12-01T23:59+00:00"), 10)
    line = utc.deadline_line([paris, paris])
    assert line.startswith("deadline 2026-12-01T23:59:00+00:00 (its own offset)")
    assert line.endswith(
        "the submission times carry +01:00, not the deadline's +00:00: check --timezone"
    )
    assert "check" not in utc.deadline_line([datetime.fromisoformat("2026-12-02T08:00+00:00")])


def test_the_late_note_reads_in_minutes_hours_and_days_and_skips_nothing_to_take():
    """A student reads "1 min" or "2 j 4 h 12 min", not "0,02 h"; a zero loses nothing, so its
    note gives no "note 0 → 0"."""
    from autograder.final_grade import FinalGrade
    from autograder.late import Lateness

    def note(hours: float, autograded: float, lang: str = "fr") -> str:
        grade = FinalGrade("s", "graded", autograded, 10.0, {}, 0.0, Lateness(hours, 10.0))
        return grade.late_note(lang)

    assert note(1 / 60, 8.0) == "Rendu avec 1 min de retard : pénalité de 10 %, note 8 → 7,2."
    assert note(3 + 20 / 60, 8.0, "en") == "Submitted 3 h 20 min late: 10 % penalty, score 8 → 7.2."
    assert note(52.2, 8.0).startswith("Rendu avec 2 j 4 h 12 min de retard")
    assert note(5.0, 0.0) == "Rendu avec 5 h de retard (pénalité de 10 %)."


@pytest.mark.parametrize(
    ("deadline", "written_there", "written_in_utc", "late_by"),
    [  # autumn: 02:00-03:00 happens twice on 25 Oct; spring: it never happens on 29 Mar
        ("2026-10-24T23:59", "2026-10-25T09:00", "2026-10-25T08:00:00+00:00", 10 + 1 / 60),
        ("2026-10-24T23:59", "2026-10-25T23:30", "2026-10-25T22:30:00+00:00", 24 + 31 / 60),
        ("2026-03-28T23:59", "2026-03-29T03:10", "2026-03-29T01:10:00+00:00", 2 + 11 / 60),
    ],
)
def test_a_delay_across_a_change_of_daylight_saving_time_is_the_time_that_passed(
    deadline, written_there, written_in_utc, late_by
):
    """One instant, written in the course's zone without an offset or in UTC: one delay,
    the hours that passed since the deadline (cycle19 #1: the wall clocks were subtracted,
    an hour off across the change)."""
    policy = LatePolicy(datetime.fromisoformat(deadline), 1.0, "hour", timezone="Europe/Paris")
    there = policy.lateness("a", datetime.fromisoformat(written_there))
    in_utc = policy.lateness("b", datetime.fromisoformat(written_in_utc))
    assert there == in_utc
    assert math.isclose(there.late_by_hours, late_by)
    assert there.penalty_percent == math.ceil(late_by)
