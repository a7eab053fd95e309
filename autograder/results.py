"""The result of grading one submission, as stored in the gradebook and in results/<id>.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("graded", "error", "timeout", "memory", "invalid")


@dataclass(frozen=True)
class TestResult:
    name: str
    question: str
    score: float
    max_score: float
    passed: bool
    feedback: str
    misconception: str | None


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

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["questions"] = {
            q: {"score": s, "max_score": m} for q, (s, m) in self.questions.items()
        }
        return data
