"""The result of grading one submission, as stored in the gradebook and in results/<id>.json."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

STATUSES = ("graded", "error", "timeout", "memory", "invalid")
# What grades, late penalties and intake read of a result: a class's summaries stay small.
SUMMARY = ("student_id", "assignment", "status", "score", "max_score", "questions", "origin",
           "named_by", "lms", "submitted_at", "time_source", "late_flag", "members",
           "submission_hash", "autograder_hash")  # fmt: skip


GRADER_FAILURE = "status_grader_failure"
"""The message of a result the grader itself failed to produce (its sandbox would not
start): no grade, and the next run grades the notebook again."""


@dataclass(frozen=True)
class TestResult:
    name: str
    question: str
    score: float
    max_score: float
    passed: bool
    feedback: str  # rendered when graded, in the run's language: for the engines' reports
    misconception: str | None
    messages: tuple[dict[str, Any], ...] = ()
    """The findings as data (``messages.to_data``), rendered in any language when shown."""


@dataclass(frozen=True)
class SubmissionResult:
    student_id: str
    assignment: str
    status: str
    message: str
    score: float
    max_score: float
    submission_hash: str
    autograder_hash: str
    origin: str
    isolation: str
    tests: list[TestResult] = field(default_factory=list)
    questions: dict[str, tuple[float, float]] = field(default_factory=dict)
    student_name: str | None = None
    submitted_at: str | None = None
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    incident: str | None = None  # the grader's own traceback: for the instructor only
    named_by: str = "file name"  # what gave the student's identity (submissions.NAMED_BY)
    lms: str | None = None  # the LMS whose download named the student (Submission.lms)
    status_message: dict[str, Any] | None = None  # ``message`` as data, for any language
    time_source: str | None = None  # where submitted_at comes from (submissions.TIME_SOURCES)
    late_flag: bool = False  # the LMS itself marked the submission late (Canvas)
    members: tuple[str, ...] = ()  # the students this grade reaches (a group's members)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        """The result as JSON data (dicts, lists, numbers, texts), as stored. Built field
        by field: its findings are already plain data (``messages.to_data``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["tests"] = [
            {**{f.name: getattr(t, f.name) for f in fields(t)}, "messages": list(t.messages)}
            for t in self.tests
        ]
        data["questions"] = {
            q: {"score": s, "max_score": m} for q, (s, m) in self.questions.items()
        }
        data["cell_errors"] = [dict(error) for error in self.cell_errors]
        data["members"] = list(self.members)
        if self.status_message is not None:
            data["status_message"] = dict(self.status_message)
        return data


def normalized(data: Any) -> dict[str, Any]:
    """A stored result, whatever wrote it, in the shape every later command expects.

    Results are validated before they are stored, but a gradebook may come from an
    older version or be edited by hand: fields of the wrong type are replaced by empty
    ones here, so one odd row never stops ``feedback``, ``report`` or an export. Results
    written before findings were stored as data have no ``messages`` nor
    ``status_message``: their rendered ``feedback`` and ``message`` are shown instead.
    """
    data = data if isinstance(data, dict) else {}

    def text(value: Any, default: str = "") -> str:
        return value if isinstance(value, str) else default

    def number(value: Any) -> float:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if is_number and value == value else 0.0

    tests = (
        [
            {
                "name": text(t.get("name")),
                "question": text(t.get("question")),
                "score": number(t.get("score")),
                "max_score": number(t.get("max_score")),
                "passed": t.get("passed") is True,
                "feedback": text(t.get("feedback")),
                "misconception": t.get("misconception")
                if isinstance(t.get("misconception"), str)
                else None,
                "messages": [m for m in t.get("messages") or [] if isinstance(m, dict)]
                if isinstance(t.get("messages"), list)
                else [],
            }
            for t in data.get("tests") or []
            if isinstance(t, dict)
        ]
        if isinstance(data.get("tests"), list)
        else []
    )
    questions = data.get("questions") if isinstance(data.get("questions"), dict) else {}
    status = data.get("status") if data.get("status") in STATUSES else "error"
    return {
        **{k: v for k, v in data.items() if isinstance(k, str)},
        "student_id": text(data.get("student_id"), "?"),
        "assignment": text(data.get("assignment")),
        "status": status,
        "message": text(data.get("message")),
        "score": number(data.get("score")),
        "max_score": number(data.get("max_score")),
        "tests": tests,
        "questions": {
            str(name): {"score": number(q.get("score")), "max_score": number(q.get("max_score"))}
            for name, q in questions.items()
            if isinstance(q, dict)
        },
        "cell_errors": [
            {
                "cell": e.get("cell") if isinstance(e.get("cell"), int) else "?",
                "error": text(e.get("error")),
                "start": text(e.get("start")) if e.get("start") else None,
            }
            for e in data.get("cell_errors") or []
            if isinstance(e, dict)
        ]
        if isinstance(data.get("cell_errors"), list)
        else [],
        "output": text(data.get("output")),
        "status_message": data.get("status_message")
        if isinstance(data.get("status_message"), dict)
        else None,
        "submitted_at": data.get("submitted_at")
        if isinstance(data.get("submitted_at"), str)
        else None,
        "time_source": data.get("time_source")
        if isinstance(data.get("time_source"), str)
        else None,
        "late_flag": data.get("late_flag") is True,
        "lms": data.get("lms") if isinstance(data.get("lms"), str) else None,
        "members": [m for m in data.get("members") or [] if isinstance(m, str)]
        if isinstance(data.get("members"), list)
        else [],
    }
