"""The late-submission policy: a deadline, a penalty per started day or hour, a cap, and
per-student extensions. Saved as ``late_policy.json`` in a graded folder, it is applied by
``final_grade`` wherever a grade leaves the grader: grades.csv, pages, report and exports.

A penalty is only as true as the submission times it is computed from. LMS bulk
downloads date their zip entries when the zip is built and a copied folder carries copy
times, so ``times_problem`` refuses file dates unless the instructor accepts them
explicitly, a Canvas ``_LATE_`` marker without a time, and a class where some students
have a time and others none.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import DlgradeError
from .spreadsheet import table_rows, table_text

POLICY_FILE = "late_policy.json"
# the times a penalty may be computed from: the LMS's, the instructor's, the web server's
TRUE_TIME_SOURCES = ("gradescope", "moodle-worksheet", "csv", "server")
HOW_TO_GIVE_TIMES = (
    "grade the class again with the LMS's times: --times CSV (student_id,submitted_at), "
    "--moodle-worksheet (Moodle's grading worksheet) or Gradescope's export (its "
    "submission_metadata.yml)"
)

GIVE_THEIR_TIMES = (
    "Give only their times: grade again into the same --out with --times CSV "
    "(student_id,submitted_at) holding just their rows; the other students' times are kept"
)


class PolicyError(DlgradeError, ValueError):
    """A policy, a date or an extensions file that cannot be used; the message names it."""


SOME_MISSING = "times_some_missing"
"""The reason of a class where some students have a true time and others none: the
others' lateness can be computed, theirs stays unknown until their time is given."""


class LateTimesError(PolicyError):
    """Submission times a penalty must not be computed from; the message names students,
    ``students`` holds them all."""

    @property
    def students(self) -> tuple[str, ...]:
        return tuple(self.details.get("students", ()))

    @property
    def partial(self) -> bool:
        """Only some students lack a time: the policy applies to the others, and these
        students' grades wait for their times (an export that holds them refuses)."""
        return self.reason == SOME_MISSING


@dataclass(frozen=True)
class Lateness:
    late_by_hours: float
    penalty_percent: float

    @property
    def late(self) -> bool:
        return self.late_by_hours > 0


ON_TIME = Lateness(0.0, 0.0)


@dataclass(frozen=True)
class LatePolicy:
    deadline: datetime
    percent_per_unit: float
    unit: str = "day"  # "day" or "hour"; every started unit counts
    cap_percent: float = 100.0
    extensions: dict[str, datetime] = field(default_factory=dict)
    accept_file_dates: bool = False  # the instructor vouched for file modification times
    timezone: str | None = None
    """Where the times written without an offset are (a Moodle worksheet's, a ``--times``
    file's, the deadline's): a zone name such as ``Europe/Paris``. Without it, the
    deadline's offset if it has one (the instructor and the LMS share a time zone),
    else this machine's time zone."""

    def __post_init__(self) -> None:
        if self.unit not in ("day", "hour"):
            raise PolicyError(f"penalty unit must be 'day' or 'hour', not {self.unit!r}")
        if not 0 <= self.percent_per_unit <= 100 or not 0 <= self.cap_percent <= 100:
            raise PolicyError("penalties are percentages between 0 and 100")
        if self.timezone is not None:
            _zone(self.timezone)

    def lateness(
        self, student_id: str, submitted_at: datetime | None, members: Iterable[str] = ()
    ) -> Lateness:
        """How late a submission is, and its penalty; no timestamp means not late
        (``times_problem`` decides beforehand whether a missing time is acceptable). A
        group's submission has the latest extension of the group or any of its members.

        A deadline written to the minute (23:59, no seconds) lasts until that minute ends
        and lateness counts from its last second, as the LMSs store it (Canvas's 11:59 PM
        is 23:59:59): 23:59:59.5 is on time, 00:00:00 a second late, 00:10 ten minutes
        late, the next day's 23:59:30 less than a day late. A deadline with seconds is
        taken as written."""
        if submitted_at is None:
            return ON_TIME
        deadline = self.extension_for(student_id, members) or self.deadline
        zone = _zone(self.timezone) if self.timezone else self.deadline.tzinfo
        # in UTC: two times of one zone subtract as wall clocks, an hour off across a
        # change of daylight saving time
        seconds = (
            _aware(submitted_at, zone).astimezone(UTC) - _aware(deadline, zone).astimezone(UTC)
        ).total_seconds()
        to_the_minute = not (deadline.second or deadline.microsecond)
        if seconds <= 0 or (to_the_minute and seconds < 60):
            return ON_TIME
        if to_the_minute:
            seconds -= 59  # counted from the minute's last second, as the LMSs store it
        units = math.ceil(seconds / (86400 if self.unit == "day" else 3600))
        # in started minutes, as units are counted: "10 h 1 min" for 11 started hours,
        # never a "10 h" that would look overcharged; a second late is a minute late
        late_by = math.ceil(seconds / 60) / 60
        return Lateness(late_by, min(units * self.percent_per_unit, self.cap_percent))

    def extension_for(self, student_id: str, members: Iterable[str] = ()) -> datetime | None:
        """The latest extension of the student, or of the group and its members."""
        extended = [self.extensions[p] for p in (student_id, *members) if p in self.extensions]
        return max(extended, default=None)

    def shown(self, moment: datetime) -> str:
        """A time as the policy reads it: in its time zone (``timezone``, else the
        deadline's offset, else this machine's)."""
        zone = _zone(self.timezone) if self.timezone else self.deadline.tzinfo
        return _aware(moment, zone).astimezone(zone).isoformat()

    def check_time_zone(self, submitted: Iterable[datetime]) -> None:
        """Refuse a deadline that only this machine's time zone places when the LMS says
        where its times are, at another offset: a deadline typed in Paris time, read on a
        server in UTC, would move every student's lateness by an hour, silently."""
        if self.timezone or self.deadline.tzinfo:
            return
        machine = _offset_text(_aware(self.deadline, None).utcoffset())
        offsets = sorted({_offset_text(t.utcoffset()) for t in submitted if t.tzinfo})
        if offsets and offsets != [machine]:
            raise PolicyError(
                f"the deadline {self.deadline.isoformat(timespec='minutes')} has no time zone "
                f"and this machine is at {machine}, but the submission times carry "
                f"{', '.join(offsets)}: give --timezone (such as Europe/Paris), or the "
                f"deadline with its offset ({self.deadline.isoformat(timespec='minutes')}"
                f"{offsets[0]})"
            )

    def deadline_line(self, submitted: Iterable[datetime]) -> str:
        """The deadline as read, saying in which time zone; and a warning when the LMS's
        times all carry another offset than the one written in the deadline (an offset
        typed by mistake). A time zone by name reads every time rightly: no warning."""
        if self.timezone:
            where = self.timezone
        elif self.deadline.tzinfo:
            where = "its own offset"
        else:
            where = "this machine's time zone: --timezone to choose"
        line = f"deadline {self.shown(self.deadline)} ({where})"
        if self.timezone:
            return line
        deadline = _aware(self.deadline, None)
        offsets = {t.utcoffset() for t in submitted if t.tzinfo}
        if offsets and deadline.utcoffset() not in offsets:
            shown = ", ".join(sorted(_offset_text(o) for o in offsets if o is not None))
            line += (
                f"; the submission times carry {shown}, not the deadline's "
                f"{_offset_text(deadline.utcoffset())}: check --timezone"
            )
        return line

    def save(self, folder: Path) -> Path:
        data = asdict(self)
        data["deadline"] = self.deadline.isoformat()
        data["extensions"] = {s: d.isoformat() for s, d in self.extensions.items()}
        path = folder / POLICY_FILE
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path


def _aware(moment: datetime, zone: tzinfo | None) -> datetime:
    """A time with its offset: a naive one is in ``zone``, else in this machine's zone."""
    if moment.tzinfo:
        return moment
    return moment.replace(tzinfo=zone) if zone else moment.astimezone()


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise PolicyError(f"{name!r} is not a time zone name (such as Europe/Paris)") from None


def load_policy(folder: Path) -> LatePolicy | None:
    """The policy saved in a graded folder, if any."""
    path = folder / POLICY_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LatePolicy(
            deadline=datetime.fromisoformat(data["deadline"]),
            percent_per_unit=data["percent_per_unit"],
            unit=data["unit"],
            cap_percent=data["cap_percent"],
            extensions={s: datetime.fromisoformat(d) for s, d in data["extensions"].items()},
            accept_file_dates=data.get("accept_file_dates") is True,
            timezone=data.get("timezone"),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise PolicyError(
            f"{path}: unreadable late policy; delete it and run dlgrade late-policy again"
        ) from None


def read_extensions(
    path: Path, deadline: datetime | None = None, timezone: str | None = None
) -> dict[str, datetime]:
    """``student_id,deadline`` rows (comma or semicolon); a bad date names its row. Two
    different dates for one student, or (given the ``deadline`` and its ``timezone``) a
    date not after the deadline, are refused naming the rows: either would make a penalty
    the instructor did not mean (a typed year turns an extension into 100 %)."""
    try:
        text = table_text(path.read_bytes())
    except OSError as error:
        raise PolicyError(f"{path}: unreadable extensions file ({error})") from None
    try:
        header, *rows = table_rows(text) or [[]]
    except csv.Error as error:
        raise PolicyError(f"{path}: not a readable CSV file ({error})") from None
    zone = _zone(timezone) if timezone else deadline.tzinfo if deadline else None
    extensions: dict[str, datetime] = {}
    lines: dict[str, int] = {}
    for line, cells in enumerate(rows, start=2):
        if not cells:
            continue
        row = dict(zip(header, cells, strict=False))
        student, raw = (row.get("student_id") or "").strip(), row.get("deadline") or ""
        if not student:
            raise PolicyError(f"{path}: row {line}: expected student_id and deadline columns")
        moment = parse_moment(raw, f"{path}: row {line}")
        if student in extensions and extensions[student] != moment:
            raise PolicyError(
                f"{path}: rows {lines[student]} and {line}: two different extensions for "
                f"{student}; keep one row per student"
            )
        if deadline is not None and _aware(moment, zone) <= _aware(deadline, zone):
            raise PolicyError(
                f"{path}: row {line}: {student}'s extension ({raw.strip()}) is not after the "
                f"deadline ({deadline.isoformat()}): an extension moves the deadline later"
            )
        extensions[student], lines[student] = moment, line
    return extensions


_MONTHS = {
    **dict.fromkeys(("january", "jan", "janvier", "janv"), 1),
    **dict.fromkeys(("february", "feb", "février", "fevrier", "févr", "fevr", "fév"), 2),
    **dict.fromkeys(("march", "mar", "mars"), 3),
    **dict.fromkeys(("april", "apr", "avril", "avr"), 4),
    **dict.fromkeys(("may", "mai"), 5),
    **dict.fromkeys(("june", "jun", "juin"), 6),
    **dict.fromkeys(("july", "jul", "juillet", "juil"), 7),
    **dict.fromkeys(("august", "aug", "août", "aout"), 8),
    **dict.fromkeys(("september", "sep", "sept", "septembre"), 9),
    **dict.fromkeys(("october", "oct", "octobre"), 10),
    **dict.fromkeys(("november", "nov", "novembre"), 11),
    **dict.fromkeys(("december", "dec", "décembre", "decembre", "déc"), 12),
}
_TIME = (
    r"(?P<hour>\d{1,2})(?:[:h](?P<minute>\d{2})?(?::(?P<second>\d{2}))?)?\s*(?P<ampm>[ap]\.?m\.?)?"
)
_JOIN = r"(?:\s*(?:,|à|a|at|t)?\s*)"
_NUMERIC = re.compile(rf"(?P<a>\d{{1,2}})[/.](?P<b>\d{{1,2}})[/.](?P<year>\d{{4}}){_JOIN}{_TIME}")
_DAY_MONTH = re.compile(
    rf"(?P<day>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?P<month>[^\W\d_]+)\.?\s+(?P<year>\d{{4}}){_JOIN}{_TIME}"
)
_MONTH_DAY = re.compile(
    rf"(?P<month>[^\W\d_]+)\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}}){_JOIN}{_TIME}"
)
DATE_FORMS = (
    "2026-12-01T23:59 (ISO, optionally with an offset such as +01:00), 13/12/2026 23:59, "
    "1 décembre 2026 23h59, December 1, 2026 11:59 PM"
)


PLAUSIBLE_YEARS = range(1970, 2200)
"""The years a submission time or a deadline can fall in: a year 1 or 9999 is a typing
slip, and moving it by a time zone leaves the calendar."""


def plausible(moment: datetime) -> bool:
    return moment.year in PLAUSIBLE_YEARS


def parse_moment(text: str, where: str) -> datetime:
    """A date and time as instructors write them (``_parsed_moment``), in a plausible year."""
    moment = _parsed_moment(text, where)
    if not plausible(moment):
        years = f"{PLAUSIBLE_YEARS.start} … {PLAUSIBLE_YEARS.stop - 1}"
        raise PolicyError(f"{where}: {text!r} is not a plausible date (a year in {years})")
    return moment


def _parsed_moment(text: str, where: str) -> datetime:
    """A date and time as instructors write them: ISO, ``D/M/YYYY`` when the day cannot be
    read as a month (``13/12/2026``; ``01/12/2026`` is refused as ambiguous), or a French
    or English month name. A date without a time is refused: midnight is rarely meant."""
    cleaned = " ".join(text.strip().split())
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        moment = None
    if moment is not None:
        if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", cleaned):
            raise PolicyError(f"{where}: {text!r} has no time; write e.g. {cleaned}T23:59")
        return moment
    lowered = cleaned.lower()
    if match := _NUMERIC.fullmatch(lowered):
        a, b = int(match["a"]), int(match["b"])
        if a <= 12 and b <= 12 and a != b:
            raise PolicyError(
                f"{where}: {text!r} is ambiguous (day/month or month/day?); write it as ISO, "
                f"e.g. {match['year']}-{b:02d}-{a:02d}T23:59"
            )
        day, month = (b, a) if b > 12 else (a, b)
        return _moment(where, text, int(match["year"]), month, day, match)
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if (match := pattern.fullmatch(lowered)) and match["month"] in _MONTHS:
            month = _MONTHS[match["month"]]
            return _moment(where, text, int(match["year"]), month, int(match["day"]), match)
    raise PolicyError(f"{where}: {text!r} is not a date and time; write e.g. {DATE_FORMS}")


def _moment(where: str, text: str, year: int, month: int, day: int, match: re.Match) -> datetime:
    hour, minute, second = int(match["hour"]), int(match["minute"] or 0), int(match["second"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise PolicyError(f"{where}: {text!r}: {hour} is not an hour of AM/PM time")
        hour = hour % 12 + (12 if match["ampm"].startswith("p") else 0)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise PolicyError(f"{where}: {text!r} is not a valid date ({error})") from None


def submitted_at(result: Mapping[str, Any]) -> datetime | None:
    """A stored result's submission time, or None (absent or unreadable)."""
    value = result.get("submitted_at")
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def time_source(result: Mapping[str, Any]) -> str | None:
    """Where a result's time comes from. Results stored before sources were recorded
    took theirs from file and zip-entry dates: they count as ``file-dates``."""
    source = result.get("time_source")
    if isinstance(source, str):
        return source
    return "file-dates" if submitted_at(result) is not None else None


def times_problem(
    results: Iterable[Mapping[str, Any]], policy: LatePolicy
) -> LateTimesError | None:
    """Why some submission times must not be penalised from (None: all can be). The
    error's ``students`` are those whose time cannot be used."""
    results = list(results)

    def named(students: list[str]) -> str:
        shown = ", ".join(students[:5])
        return shown + (f" and {len(students) - 5} more" if len(students) > 5 else "")

    file_dated = [r["student_id"] for r in results if time_source(r) == "file-dates"]
    if file_dated and not policy.accept_file_dates:
        return LateTimesError(
            f"the submission times of {named(file_dated)} are file or zip-entry dates (when a "
            f"zip was built or a folder copied, not when students submitted): {HOW_TO_GIVE_TIMES}"
            "; or pass --accept-file-dates if these files kept their true times",
            "times_file_dates",
            students=file_dated,
        )
    known = {*TRUE_TIME_SOURCES, "file-dates"}
    strange = [r for r in results if submitted_at(r) is not None and time_source(r) not in known]
    if strange:
        sources = ", ".join(sorted({str(time_source(r)) for r in strange}))
        return LateTimesError(
            f"submission times from an unknown source ({sources}): {HOW_TO_GIVE_TIMES}",
            "times_unknown_source",
            students=[r["student_id"] for r in strange],
            sources=sources,
        )
    flagged = [
        r["student_id"] for r in results if r.get("late_flag") is True and submitted_at(r) is None
    ]
    if flagged:
        return LateTimesError(
            f"Canvas marks {named(flagged)} late but gives no time, so no delay or penalty "
            f"can be computed: {HOW_TO_GIVE_TIMES}",
            "times_canvas_flagged",
            students=flagged,
        )
    untimed = [r["student_id"] for r in results if submitted_at(r) is None]
    if untimed and len(untimed) == len(results):
        return LateTimesError(
            f"no submission time is known for any student: {HOW_TO_GIVE_TIMES}",
            "times_none",
            students=untimed,
        )
    if untimed:
        unflagged = all(
            r.get("lms") == "canvas" and r.get("late_flag") is not True
            for r in results
            if submitted_at(r) is None
        )
        hint = (
            " (Canvas did not mark their files LATE: if Canvas's due date is your deadline, "
            "a time at the deadline keeps them on time)"
            if unflagged
            else ""
        )
        return LateTimesError(
            f"no submission time for {named(untimed)}, while other students have one: their "
            f"late penalty is unknown. {GIVE_THEIR_TIMES}{hint}",
            SOME_MISSING,
            students=untimed,
        )
    return None


def lateness_of(result: Mapping[str, Any], policy: LatePolicy | None) -> Lateness:
    """One result's lateness under ``policy`` (on time without a policy)."""
    if policy is None:
        return ON_TIME
    members = result.get("members")
    members = [str(m) for m in members] if isinstance(members, list | tuple) else []
    return policy.lateness(str(result.get("student_id")), submitted_at(result), members)
