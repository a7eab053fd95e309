"""The late-submission policy: a deadline, a penalty per started day or hour, a cap, and
per-student extensions. Saved as ``late_policy.json`` in a graded folder, it is applied
wherever scores leave the grader: LMS exports, feedback pages and the class report.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import DlgradeError

POLICY_FILE = "late_policy.json"


class PolicyError(DlgradeError, ValueError):
    """A policy or an extensions file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Lateness:
    late_by_hours: float
    penalty_percent: float

    @property
    def late(self) -> bool:
        return self.late_by_hours > 0


@dataclass(frozen=True)
class LatePolicy:
    deadline: datetime
    percent_per_unit: float
    unit: str = "day"  # "day" or "hour"; every started unit counts
    cap_percent: float = 100.0
    extensions: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.unit not in ("day", "hour"):
            raise PolicyError(f"penalty unit must be 'day' or 'hour', not {self.unit!r}")
        if not 0 <= self.percent_per_unit <= 100 or not 0 <= self.cap_percent <= 100:
            raise PolicyError("penalties are percentages between 0 and 100")

    def lateness(self, student_id: str, submitted_at: datetime | None) -> Lateness:
        """How late a submission is, and its penalty; no timestamp means not late."""
        if submitted_at is None:
            return Lateness(0.0, 0.0)
        deadline = self.extensions.get(student_id, self.deadline)
        hours = (submitted_at - deadline).total_seconds() / 3600
        if hours <= 0:
            return Lateness(0.0, 0.0)
        units = math.ceil(hours / (24 if self.unit == "day" else 1))
        return Lateness(round(hours, 2), min(units * self.percent_per_unit, self.cap_percent))

    def apply(self, score: float, lateness: Lateness) -> float:
        return round(score * (1 - lateness.penalty_percent / 100), 4)

    def save(self, folder: Path) -> Path:
        data = asdict(self)
        data["deadline"] = self.deadline.isoformat()
        data["extensions"] = {s: d.isoformat() for s, d in self.extensions.items()}
        path = folder / POLICY_FILE
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path


def load_policy(folder: Path) -> LatePolicy | None:
    """The policy saved in a graded folder, if any."""
    path = folder / POLICY_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return LatePolicy(
        deadline=datetime.fromisoformat(data["deadline"]),
        percent_per_unit=data["percent_per_unit"],
        unit=data["unit"],
        cap_percent=data["cap_percent"],
        extensions={s: datetime.fromisoformat(d) for s, d in data["extensions"].items()},
    )


def read_extensions(path: Path) -> dict[str, datetime]:
    """``student_id,deadline`` rows; a bad date names its row."""
    extensions = {}
    with path.open(newline="", encoding="utf-8-sig") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            try:
                extensions[row["student_id"].strip()] = datetime.fromisoformat(
                    row["deadline"].strip()
                )
            except (KeyError, AttributeError, ValueError):
                raise PolicyError(
                    f"{path}: row {line}: expected student_id and an ISO deadline "
                    "(e.g. 2026-12-01T23:59)"
                ) from None
    return extensions


def adjusted(result: dict, policy: LatePolicy | None, lang: str = "fr") -> tuple[float, str]:
    """A result's score after the late penalty, and the sentence that explains it ("" if none)."""
    from .messages import Message, render

    if policy is None:
        return result["score"], ""
    lateness = policy.lateness(result["student_id"], parse_submitted_at(result.get("submitted_at")))
    if not lateness.late:
        return result["score"], ""
    after = policy.apply(result["score"], lateness)
    note = Message("late_penalty", {"hours": f"{lateness.late_by_hours:g}",
                                    "percent": f"{lateness.penalty_percent:g}",
                                    "before": f"{result['score']:g}", "after": f"{after:g}"})  # fmt: skip
    return after, render(note, lang)


def parse_submitted_at(value: object) -> datetime | None:
    """A result's ``submitted_at`` (ISO text or nothing) as a datetime."""
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None
