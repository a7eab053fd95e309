"""Where grades are stored: every grading run, every submission's result, every check.

SQLite in the output folder by default, any SQLAlchemy URL on request. Each submission
is written in one transaction, keyed by (assignment, student, submission hash,
autograder hash): a run killed half-way leaves only whole rows, and a re-run skips what
is already there. Reads go through pandas.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import ArgumentError, OperationalError

from .errors import DlgradeError
from .results import GRADER_FAILURE, SUMMARY, SubmissionResult, normalized

if TYPE_CHECKING:
    from .submissions import Submission

metadata = MetaData()


GRADED_RECORD = "graded.json"
"""Written by a class run in its output folder: what later commands need to find."""


class GradebookError(DlgradeError):
    """A gradebook that cannot serve the command (missing, empty)."""


runs = Table(
    "grading_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment", String, nullable=False),
    Column("autograder_hash", String, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("settings", JSON),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("grading_runs.id"), nullable=False),
    Column("assignment", String, nullable=False),
    Column("student_id", String, nullable=False),
    Column("student_name", String),
    Column("submission_hash", String, nullable=False),
    Column("autograder_hash", String, nullable=False),
    Column("origin", Text, nullable=False),
    Column("status", String, nullable=False),
    Column("message", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("isolation", String, nullable=False),
    Column("submitted_at", String),  # ISO text, only as the LMS or the instructor gave it
    Column("graded_at", DateTime, nullable=False),
    Column("result", JSON, nullable=False),
    Column("time_source", String),  # submissions.TIME_SOURCES, or NULL: no time
    Column("late_flag", Boolean),  # the LMS marked it late (Canvas's LATE)
    Column("members", JSON),  # the student ids this grade reaches (a group's members)
    UniqueConstraint("assignment", "student_id", "submission_hash", "autograder_hash"),
)

check_results = Table(
    "check_results",
    metadata,
    Column("submission_id", ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    Column("check_id", String, nullable=False),
    Column("question", String, nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("misconception", String),
)


manual_scores = Table(
    "manual_scores",
    metadata,
    Column("assignment", String, nullable=False),
    Column("student_id", String, nullable=False),
    Column("question", String, nullable=False),
    Column("points", Float, nullable=False),
    Column("max_points", Float, nullable=False),
    Column("comment", Text, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    UniqueConstraint("assignment", "student_id", "question"),
)

grade_overrides = Table(  # an autograded question's points, given instead on appeal
    "grade_overrides",
    metadata,
    Column("assignment", String, nullable=False),
    Column("student_id", String, nullable=False),
    Column("question", String, nullable=False),
    Column("points", Float, nullable=False),
    Column("comment", Text, nullable=False),
    Column("given_at", DateTime, nullable=False),
    UniqueConstraint("assignment", "student_id", "question"),
)

excusals = Table(  # students excused from an assignment: no grade, not 0
    "excusals",
    metadata,
    Column("assignment", String, nullable=False),
    Column("student_id", String, nullable=False),
    Column("comment", Text, nullable=False),
    Column("given_at", DateTime, nullable=False),
    UniqueConstraint("assignment", "student_id"),
)


def _submission_row(run_id: int, result: SubmissionResult, graded_at: datetime) -> dict:
    return {
        "run_id": run_id,
        "assignment": result.assignment,
        "student_id": result.student_id,
        "student_name": result.student_name,
        "submission_hash": result.submission_hash,
        "autograder_hash": result.autograder_hash,
        "origin": result.origin,
        "status": result.status,
        "message": result.message,
        "score": result.score,
        "max_score": result.max_score,
        "isolation": result.isolation,
        "submitted_at": result.submitted_at,
        "graded_at": graded_at,
        "result": result.to_json(),
        "time_source": result.time_source,
        "late_flag": result.late_flag,
        "members": list(result.members or (result.student_id,)),
    }


def _forget_same_content(connection: Connection, results: Iterable[SubmissionResult]) -> None:
    """Delete the earlier gradings of the very content of ``results`` (same assignment,
    student, submission and autograder): one query per assignment and autograder."""
    wanted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for result in results:
        key = (result.assignment, result.autograder_hash)
        wanted.setdefault(key, set()).add((result.student_id, result.submission_hash))
    stale = []
    for (assignment, autograder), pairs in wanted.items():
        query = select(
            submissions.c.id, submissions.c.student_id, submissions.c.submission_hash
        ).where(
            submissions.c.assignment == assignment,
            submissions.c.autograder_hash == autograder,
            submissions.c.student_id.in_(sorted({student for student, _ in pairs})),
        )
        stale += [
            row.id
            for row in connection.execute(query)
            if (row.student_id, row.submission_hash) in pairs
        ]
    if stale:
        connection.execute(delete(check_results).where(check_results.c.submission_id.in_(stale)))
        connection.execute(delete(submissions).where(submissions.c.id.in_(stale)))


def _grader_failure(result: Any) -> bool:
    message = result.get("status_message") if isinstance(result, dict) else None
    return isinstance(message, dict) and message.get("key") == GRADER_FAILURE


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Gradebook:
    """A gradebook database; safe to reopen, append to and read while nothing writes."""

    def __init__(self, url: str):
        self.url = url
        sqlite = url.startswith("sqlite")
        try:
            self.engine: Engine = create_engine(url, connect_args={"timeout": 60} if sqlite else {})
        except (ArgumentError, ImportError, ValueError) as error:
            raise GradebookError(
                f"{url}: not a database URL SQLAlchemy can open ({error})"
            ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _begin_immediate)
        try:
            try:
                metadata.create_all(self.engine)
            except OperationalError:  # another run created the tables at the same moment
                metadata.create_all(self.engine)
        except OperationalError as error:
            raise GradebookError(f"{url}: the database cannot be opened ({error.orig})") from None
        _add_new_columns(self.engine)

    @classmethod
    def in_folder(cls, folder: Path) -> Gradebook:
        """The gradebook a class run writes into ``folder`` (created if needed)."""
        folder.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{folder / 'gradebook.sqlite'}")

    @classmethod
    def of_graded(cls, folder: Path) -> Gradebook:
        """The gradebook of an already graded folder, for the commands that read it: the
        one named in its ``graded.json`` (``grade --gradebook URL``), else its SQLite file."""
        url = graded_settings(folder).get("gradebook")
        if isinstance(url, str):
            return cls(url)
        if not (folder / "gradebook.sqlite").is_file():
            raise GradebookError(
                f"{folder}: no gradebook.sqlite here; grade a class into this folder first "
                f"(dlgrade grade NAME SUBMISSIONS… --out {folder})"
            )
        return cls(f"sqlite:///{folder / 'gradebook.sqlite'}")

    def start_run(self, assignment: str, autograder_hash: str, settings: dict) -> int:
        with self.engine.begin() as connection:
            return connection.execute(
                insert(runs).values(
                    assignment=assignment,
                    autograder_hash=autograder_hash,
                    started_at=_now(),
                    settings=settings,
                )
            ).inserted_primary_key[0]

    def finish_run(self, run_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(runs).where(runs.c.id == run_id).values(finished_at=_now()))

    def graded_keys(self, assignment: str, autograder_hash: str) -> set[tuple[str, str]]:
        """(student, submission hash) pairs already graded with this autograder. A result
        of the grader's own failure (a sandbox that would not start) grades nothing: the
        next run grades that notebook again."""
        columns = (submissions.c.student_id, submissions.c.submission_hash)
        mine = (
            submissions.c.assignment == assignment,
            submissions.c.autograder_hash == autograder_hash,
        )
        errors = submissions.c.status == "error"
        with self.engine.connect() as connection:
            keys = {
                tuple(row) for row in connection.execute(select(*columns).where(*mine, ~errors))
            }
            failed = connection.execute(select(*columns, submissions.c.result).where(*mine, errors))
            keys |= {(row[0], row[1]) for row in failed if not _grader_failure(row.result)}
        return keys

    def record(self, run_id: int, *results: SubmissionResult) -> None:
        """Store results in one transaction, each replacing a previous grading of the very
        same content (a class run stores them in batches: a few statements per batch,
        not per result)."""
        if not results:
            return
        with self.engine.begin() as connection:
            _forget_same_content(connection, results)
            graded_at = _now()
            rows = [_submission_row(run_id, result, graded_at) for result in results]
            ids = (
                connection.execute(
                    insert(submissions).returning(submissions.c.id, sort_by_parameter_order=True),
                    rows,
                )
                .scalars()
                .all()
            )
            checks = [
                {
                    "submission_id": submission_id,
                    "check_id": t.name,
                    "question": t.question,
                    "score": t.score,
                    "max_score": t.max_score,
                    "passed": t.passed,
                    "misconception": t.misconception,
                }
                for submission_id, result in zip(ids, results, strict=True)
                for t in result.tests
            ]
            if checks:
                connection.execute(insert(check_results), checks)

    def submissions(self, assignment: str | None = None) -> pd.DataFrame:
        """Every stored submission row (all gradings), oldest first."""
        query = select(submissions).order_by(submissions.c.id)
        if assignment:
            query = query.where(submissions.c.assignment == assignment)
        with self.engine.connect() as connection:
            return pd.read_sql(query, connection)

    def assignment(self) -> str:
        """The assignment graded most recently in this gradebook."""
        query = select(submissions.c.assignment).order_by(submissions.c.id.desc()).limit(1)
        with self.engine.connect() as connection:
            name = connection.execute(query).scalar()
        if name is None:
            raise GradebookError(f"{self.url}: the gradebook holds no graded submission")
        return name

    def latest(self, assignment: str) -> pd.DataFrame:
        """One row per student: the most recently graded submission."""
        frame = self.submissions(assignment)
        return frame.drop_duplicates("student_id", keep="last").reset_index(drop=True)

    def latest_results(self, assignment: str, *, detail: bool = True) -> list[dict]:
        """The stored result of each student's latest grading, sorted by student.

        Rows are read a few at a time; with ``detail=False`` each result keeps only its
        ``results.SUMMARY`` (points, status, times, origin), so the whole class's grades fit
        in little memory however large each result is.
        """
        latest = (
            select(func.max(submissions.c.id))
            .where(submissions.c.assignment == assignment)
            .group_by(submissions.c.student_id)
        )
        query = select(submissions.c.result).where(submissions.c.id.in_(latest))
        results = []
        with self.engine.connect() as connection:
            rows = connection.execution_options(yield_per=256).execute(query)
            for (stored,) in rows:
                result = normalized(_loaded(stored))
                results.append(result if detail else {k: result.get(k) for k in SUMMARY})
        return sorted(results, key=lambda r: r["student_id"])

    def known_times(self, assignment: str) -> dict[tuple[str, str], tuple[datetime, str]]:
        """The time last stored for each (student, submission hash) that has one, and its
        source: a submission graded again (``--regrade``, a new autograder) keeps the
        time it was given once, even by a run without ``--times``."""
        query = (
            select(submissions.c.student_id, submissions.c.submission_hash,
                   submissions.c.submitted_at, submissions.c.time_source)
            .where(submissions.c.assignment == assignment, submissions.c.submitted_at.is_not(None))
            .order_by(submissions.c.id)
        )  # fmt: skip
        known = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                try:
                    moment = datetime.fromisoformat(row.submitted_at)
                except (TypeError, ValueError):  # a damaged row: as if it had no time
                    continue
                known[(row.student_id, row.submission_hash)] = (moment, row.time_source)
        return known

    def update_intake(
        self, assignment: str, autograder_hash: str, found: Iterable[Submission]
    ) -> list[dict]:
        """What intake now says about submissions already graded with this autograder (a
        new ``--times`` or worksheet, a groups file...), written into their rows, so a run
        that skips them still stores true times. A time given once stays until another is
        given: a run without ``--times`` does not erase it. Returns the results that
        changed."""
        changed = []
        graded = self.graded_keys(assignment, autograder_hash)  # a new class: no other query
        with self.engine.begin() as connection:
            for submission in found:
                if (submission.student_id, submission.sha256) not in graded:
                    continue
                key = (
                    (submissions.c.assignment == assignment)
                    & (submissions.c.student_id == submission.student_id)
                    & (submissions.c.submission_hash == submission.sha256)
                    & (submissions.c.autograder_hash == autograder_hash)
                )
                given = intake_fields(submission)
                for row in connection.execute(
                    select(submissions.c.id, submissions.c.result).where(key)
                ):
                    stored = _loaded(row.result)
                    fields = dict(given)
                    if given["submitted_at"] is None and stored.get("submitted_at"):
                        fields.update({k: stored.get(k) for k in _TIME_FIELDS})
                    if all(stored.get(k) == v for k, v in fields.items()):
                        continue
                    stored = {**stored, **fields}
                    connection.execute(
                        update(submissions).where(submissions.c.id == row.id).values(
                            submitted_at=fields["submitted_at"], time_source=fields["time_source"],
                            late_flag=fields["late_flag"], members=fields["members"], result=stored,
                        )
                    )  # fmt: skip
                    changed.append(stored)
        return changed

    def members(self, assignment: str) -> dict[str, tuple[str, ...]]:
        """For each student's latest grading, whom its grade reaches: the members of a
        group submission, else the student alone (also for rows stored before groups)."""
        query = (
            select(submissions.c.student_id, submissions.c.members)
            .where(submissions.c.assignment == assignment)
            .order_by(submissions.c.id)
        )
        with self.engine.connect() as connection:
            rows = {row.student_id: row.members for row in connection.execute(query)}
        return {student: _member_ids(student, stored) for student, stored in rows.items()}

    def checks(self, submission_ids: Iterable[int]) -> pd.DataFrame:
        query = select(check_results).where(check_results.c.submission_id.in_(list(submission_ids)))
        with self.engine.connect() as connection:
            return pd.read_sql(query, connection)

    def record_manual(
        self, assignment: str, question: str, max_points: float, rows: list[tuple[str, float, str]]
    ) -> None:
        """Hand-given points for one question, all in one transaction (replacing earlier ones)."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(manual_scores).where(
                    (manual_scores.c.assignment == assignment)
                    & (manual_scores.c.question == question)
                    & manual_scores.c.student_id.in_([student for student, _, _ in rows])
                )
            )
            if rows:
                connection.execute(
                    insert(manual_scores),
                    [
                        {"assignment": assignment, "student_id": s, "question": question,
                         "points": p, "max_points": max_points, "comment": c,
                         "imported_at": _now()}
                        for s, p, c in rows
                    ],
                )  # fmt: skip

    def hand_graded(self, assignment: str) -> dict[str, float]:
        """The questions to grade by hand and their points, as the latest run recorded
        them from the master (a gradebook from before this record: none)."""
        query = (
            select(runs.c.settings)
            .where(runs.c.assignment == assignment)
            .order_by(runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            settings = connection.execute(query).scalar()
        questions = settings.get("hand_graded") if isinstance(settings, dict) else None
        if not isinstance(questions, dict):
            return {}
        return {
            str(q): float(points)
            for q, points in questions.items()
            if isinstance(points, int | float) and not isinstance(points, bool)
        }

    def record_overrides(
        self, assignment: str, rows: list[tuple[str, str, float | None, str]]
    ) -> None:
        """Points given on appeal, (student, question, points, comment), all in one
        transaction, each replacing the one before; ``None`` points remove it."""
        table = grade_overrides.c
        with self.engine.begin() as connection:
            for student, question, _, _ in rows:
                connection.execute(
                    delete(grade_overrides).where(
                        (table.assignment == assignment)
                        & (table.student_id == student)
                        & (table.question == question)
                    )
                )
            given = [
                {"assignment": assignment, "student_id": s, "question": q, "points": p,
                 "comment": c, "given_at": _now()}
                for s, q, p, c in rows
                if p is not None
            ]  # fmt: skip
            if given:
                connection.execute(insert(grade_overrides), given)

    def overrides(self, assignment: str) -> dict[str, dict[str, tuple[float, str]]]:
        """``{student: {question: (points, comment)}}``: the points given on appeal."""
        query = select(grade_overrides).where(grade_overrides.c.assignment == assignment)
        given: dict[str, dict[str, tuple[float, str]]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                given.setdefault(row.student_id, {})[row.question] = (row.points, row.comment)
        return given

    def set_excused(self, assignment: str, student: str, comment: str | None) -> bool:
        """Excuse ``student`` with ``comment``, or, with ``None``, no longer; whether
        they were excused before."""
        key = (excusals.c.assignment == assignment) & (excusals.c.student_id == student)
        with self.engine.begin() as connection:
            before = connection.execute(delete(excusals).where(key)).rowcount > 0
            if comment is not None:
                connection.execute(
                    insert(excusals).values(
                        assignment=assignment, student_id=student, comment=comment,
                        given_at=_now(),
                    )
                )  # fmt: skip
        return before

    def excused(self, assignment: str) -> dict[str, str]:
        """The students excused from ``assignment``, with the instructor's comment."""
        query = select(excusals.c.student_id, excusals.c.comment).where(
            excusals.c.assignment == assignment
        )
        with self.engine.connect() as connection:
            return {row.student_id: row.comment for row in connection.execute(query)}

    def manual(self, assignment: str) -> pd.DataFrame:
        query = select(manual_scores).where(manual_scores.c.assignment == assignment)
        with self.engine.connect() as connection:
            return pd.read_sql(query, connection)

    def close(self) -> None:
        self.engine.dispose()


_TIME_FIELDS = ("submitted_at", "time_source", "late_flag")


def intake_fields(submission: Submission) -> dict[str, Any]:
    """The fields of a stored result that intake decides, as ``SubmissionResult`` has them."""
    moment = submission.submitted_at
    return {
        "submitted_at": moment.isoformat() if moment else None,
        "time_source": submission.time_source,
        "late_flag": submission.late_flag,
        "members": list(submission.members or (submission.student_id,)),
    }


def _add_new_columns(engine: Engine) -> None:
    """Columns added since a gradebook was created, added to it (all nullable): an old
    gradebook stays readable and writable."""

    def present() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns(submissions.name)}

    for column in [c for c in submissions.columns if c.name not in present()]:
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"ALTER TABLE {submissions.name} ADD COLUMN {column.name} {kind}"
                )
        except OperationalError:  # another run added it at the same moment
            if column.name not in present():
                raise


def _member_ids(student: str, stored: Any) -> tuple[str, ...]:
    """A ``members`` cell (a JSON list, its text, or NULL in an older row) as ids."""
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            stored = None
    members = tuple(m for m in stored if isinstance(m, str)) if isinstance(stored, list) else ()
    return members or (student,)


def _sqlite_pragmas(connection, _record) -> None:
    # Transactions are begun by _begin_immediate, not by the driver.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL is stored in the file: only a new gradebook switches to it. Two runs creating
    # the same gradebook at once may find it locked for a moment: try again.
    for attempt in range(100):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.1)
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take SQLite's write lock when a transaction starts, so that two grading runs on
    one gradebook never interleave a read and a write of the same submission."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _loaded(stored: Any) -> Any:
    """A result column's value: already decoded by the driver, or JSON text."""
    if isinstance(stored, dict):
        return stored
    try:
        return json.loads(stored)
    except (TypeError, ValueError, RecursionError):
        return {}


def graded_settings(folder: Path) -> dict[str, Any]:
    """What a class run recorded in ``folder`` (``graded.json``: the assignment, gradebook
    URL, language and limits), so later commands need no repetition; {} if nothing."""
    try:
        record = json.loads((folder / GRADED_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def open_gradebook(where: str | Path) -> Gradebook:
    """The gradebook of a graded folder (the ``--out`` of a class run), or at a SQLAlchemy
    URL (library API). Never creates one."""
    if isinstance(where, str) and "://" in where:
        return Gradebook(where)
    return Gradebook.of_graded(Path(where))
