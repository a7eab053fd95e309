"""The one final grade of each student, computed here and nowhere else.

final = autograded points + hand-graded points − late penalty (a percentage of that sum,
capped, extensions applied), optionally scaled to the maximum of the LMS grade item.
Points the instructor gave an autograded question on appeal replace that question's
autograded points, before the penalty; an excused student has no final grade at all
(``None``: not a number, and never 0). grades.csv, the feedback pages, the class report
and every LMS export read it, so a student sees one number everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .assignment import Assignment
from .gradebook import Gradebook
from .late import (
    ON_TIME,
    Lateness,
    LatePolicy,
    LateTimesError,
    lateness_of,
    load_policy,
    submitted_at,
    times_problem,
)
from .manual import hand_grades
from .messages import Message, duration_text, number_text, render, score_text
from .spreadsheet import safe

EXCUSED = "excused"
"""grades.csv's status of an excused student, whose score is empty (no grade, not 0)."""


@dataclass(frozen=True)
class FinalGrade:
    """A student's final grade and what it is made of."""

    student_id: str
    status: str
    autograded: float
    autograded_max: float
    hand: Mapping[str, float | None]  # question graded by hand → points (None: not given)
    hand_max: float
    lateness: Lateness
    overridden: Mapping[str, float] = field(default_factory=dict)  # question → appeal points
    excused: bool = False
    time_unknown: bool = False  # under a late policy without a time: penalty not yet known

    @property
    def before_penalty(self) -> float:
        return round(self.autograded + sum(p for p in self.hand.values() if p is not None), 4)

    @property
    def max_score(self) -> float:
        return self.autograded_max + self.hand_max

    @property
    def penalty(self) -> float:
        """The points the late penalty takes away."""
        return round(self.before_penalty * self.lateness.penalty_percent / 100, 4)

    @property
    def score(self) -> float | None:
        """The final grade; None for an excused student, who has none (never 0)."""
        if self.excused:
            return None
        return round(self.before_penalty - self.penalty, 4)

    def scaled(self, maximum: float | None) -> float | None:
        """The final grade on a scale of ``maximum`` points (the LMS item's), to 0.01."""
        if self.score is None or maximum is None or maximum == self.max_score:
            return self.score
        return round(self.score * maximum / self.max_score, 2) if self.max_score else 0.0

    def late_note(self, lang: str = "fr", maximum: float | None = None) -> str:
        """The sentence explaining the penalty ("" when on time), its grades on the scale
        of the page it is on (``maximum``: the LMS item's, as ``scaled``)."""
        if self.time_unknown and not self.excused:
            return render(Message("late_time_unknown", {}), lang)
        if not self.lateness.late or self.excused:
            return ""
        before = replace(self, lateness=ON_TIME).scaled(maximum)
        late = {"late": duration_text(self.lateness.late_by_hours, lang),
                "percent": number_text(self.lateness.penalty_percent, lang)}  # fmt: skip
        if not before:  # nothing to take away: no "0 → 0"
            return render(Message("late_penalty_nothing", late), lang)
        grades = {
            "before": score_text(before, lang),
            "after": score_text(self.scaled(maximum), lang),
        }
        return render(Message("late_penalty", {**late, **grades}), lang)


def final_grade(
    result: Mapping[str, Any],
    hand: Mapping[str, tuple[float, float, str]],
    hand_max: Mapping[str, float],
    policy: LatePolicy | None,
    overrides: Mapping[str, tuple[float, str]] | None = None,
    excused: bool = False,
    time_unknown: bool = False,
) -> FinalGrade:
    """One student's final grade from a normalized result, this student's hand grades
    (``manual.hand_grades``: question → points, max, comment) and the questions the class
    was graded on by hand (question → max points; a student without points there has 0).
    ``overrides`` (``Gradebook.overrides``: question → points, comment) replace the
    autograded points of their questions; ``excused`` leaves the student without a grade;
    ``time_unknown``: a policy applies but this student has no time (no penalty yet, said)."""
    overridden = {q: points for q, (points, _) in (overrides or {}).items()}
    questions = result.get("questions") or {}
    replaced = sum(questions.get(q, {}).get("score", 0.0) for q in overridden)
    return FinalGrade(
        student_id=result["student_id"],
        status=result["status"],
        autograded=round(result["score"] - replaced + sum(overridden.values()), 4),
        autograded_max=result["max_score"],
        hand={q: hand[q][0] if q in hand else None for q in hand_max},
        hand_max=sum(hand_max.values()),
        lateness=lateness_of(result, policy),
        overridden=overridden,
        excused=excused,
        time_unknown=time_unknown,
    )


@dataclass
class ClassGrades:
    """A graded class as every output needs it: results, hand grades, final grades, groups."""

    assignment: str
    policy: LatePolicy | None
    results: list[dict[str, Any]]
    hand: dict[str, dict[str, tuple[float, float, str]]]
    hand_max: dict[str, float]
    grades: dict[str, FinalGrade]
    members: dict[str, tuple[str, ...]]  # submitter → whom the grade reaches (Gradebook.members)
    times_problem: LateTimesError | None = None  # why some students' lateness is unknown
    overrides: dict[str, dict[str, tuple[float, str]]] = field(default_factory=dict)
    excused: dict[str, str] = field(default_factory=dict)  # student → comment, graded or not

    def unfinished(self) -> dict[str, list[str]]:
        """Questions graded by hand for some students and not yet for others: question →
        the students who still have no points there (they would count 0 in an export; an
        excused student waits for nothing)."""
        missing = {
            question: sorted(
                s
                for s in self.grades
                if question not in self.hand.get(s, {}) and s not in self.excused
            )
            for question in self.hand_max
        }
        return {question: students for question, students in missing.items() if students}

    def started(self) -> dict[str, float]:
        """The questions graded by hand for someone in the class, with their maximum: a
        page shows the others as not graded yet, where a grade counts them 0."""
        return {q: m for q, m in self.hand_max.items() if any(q in g for g in self.hand.values())}

    def owners(self) -> dict[str, str]:
        """Every student → the submission whose grade is theirs: their own, else their
        group's (a group's own id, such as ``group:A``, names no student). An excused
        student without a graded notebook is their own."""
        owners: dict[str, str] = {}
        for submitter in self.grades:
            for member in self.members.get(submitter) or (submitter,):
                if member == submitter or member not in self.grades:
                    owners.setdefault(member, submitter)
        for student in self.excused:
            owners.setdefault(student, student)
        return owners

    def sharers(self, submitter: str) -> list[str]:
        """The students, other than its submitter, whose grade is this submission's: a
        group's members (a member graded on their own keeps their own)."""
        return sorted(s for s, owner in self.owners().items() if owner == submitter != s)


def class_grades(
    gradebook: Gradebook,
    assignment: str,
    policy: LatePolicy | None,
    *,
    detail: bool = True,
    strict: bool = True,
) -> ClassGrades:
    """Every student's final grade; refuses (``LateTimesError``) a policy whose
    submission times cannot be trusted. ``strict=False``: those students get no penalty
    and the problem is kept in ``times_problem`` (a page shows it; an export must not).
    Some students without a time in a class that has times (``partial``) is never refused
    here: the others' penalties are known, those students' grades say that theirs is not
    (``time_unknown``), and an export that holds them refuses (``untimed_exported``).
    ``detail=False``: results without their checks (``Gradebook.latest_results``)."""
    results = gradebook.latest_results(assignment, detail=detail)
    problem = times_problem(results, policy) if policy is not None else None
    if problem is not None and strict and not problem.partial:
        raise problem
    untimed = set(problem.students) if problem else set()
    hand, started = hand_grades(gradebook, assignment)
    # the questions the master grades by hand count from the first run: not started, they
    # are 0 of their points, and an export waits for them (``unfinished``)
    hand_max = {**gradebook.hand_graded(assignment), **started}
    overrides, excused = gradebook.overrides(assignment), gradebook.excused(assignment)
    grades = {
        r["student_id"]: final_grade(
            r,
            hand.get(r["student_id"], {}),
            hand_max,
            None if r["student_id"] in untimed else policy,
            overrides.get(r["student_id"]),
            r["student_id"] in excused,
            r["student_id"] in untimed,
        )
        for r in results
    }
    members = gradebook.members(assignment)
    return ClassGrades(assignment, policy, results, hand, hand_max, grades, members, problem,
                       overrides, excused)  # fmt: skip


def load_class(graded: Path, assignment: str | None = None) -> ClassGrades:
    """The final grades of a graded folder (its gradebook and saved late policy), for
    ``assignment`` or the one graded last."""
    policy = load_policy(graded)
    gradebook = Gradebook.of_graded(graded)
    try:
        return class_grades(gradebook, assignment or gradebook.assignment(), policy)
    finally:
        gradebook.close()


def apply_policy(graded: Path, policy: LatePolicy) -> list[str]:
    """Save ``policy`` in a graded folder and rewrite its grades.csv, after checking that
    every submission time can be trusted; the lines that say who is late and by how much."""
    from .assignment import load_assignment

    gradebook = Gradebook.of_graded(graded)
    try:
        assignment = gradebook.assignment()
        grades = class_grades(gradebook, assignment, policy, detail=False)
        times = {r["student_id"]: submitted_at(r) for r in grades.results}
        policy.check_time_zone(t for t in times.values() if t)
        saved = policy.save(graded)
        write_grades(gradebook, load_assignment(assignment), graded / "grades.csv")
    finally:
        gradebook.close()
    late = sorted(
        (g for g in grades.grades.values() if g.lateness.late and not g.excused),
        key=lambda g: g.student_id,
    )
    lines = [f"late policy saved: {saved}; {graded / 'grades.csv'} updated"]
    lines.append(policy.deadline_line(t for t in times.values() if t))
    lines += [
        f"{g.student_id}: submitted {policy.shown(times[g.student_id])}, "
        f"{duration_text(g.lateness.late_by_hours, 'en')} late, penalty "
        f"{g.lateness.penalty_percent:g} % "
        f"({g.before_penalty:g} → {g.score:g})"
        for g in late
    ]
    lines += _saved_by_extensions(grades, policy, times)
    if grades.times_problem is not None:  # partial: the others' penalties are applied
        lines.append(
            f"{grades.times_problem}. Until then they have no penalty (late_penalty empty in "
            "grades.csv), and an export that holds them refuses"
        )
    lines.append(
        f"{len(late)} late submission(s) of {len(grades.results)}; run dlgrade feedback and "
        "dlgrade report again to show it on the pages"
    )
    graded_people = {
        str(p) for r in grades.results for p in (r["student_id"], *(r.get("members") or ()))
    }
    unknown = sorted(set(policy.extensions) - graded_people)
    if unknown:
        lines.append(
            f"extensions for no graded student or group member: {', '.join(unknown)} (no "
            "notebook yet, or an id that is not the one grades.csv uses: check them)"
        )
    return lines


def _saved_by_extensions(
    grades: ClassGrades, policy: LatePolicy, times: Mapping[str, datetime | None]
) -> list[str]:
    """One line per submission after the deadline that an extension keeps on time: the
    instructor sees that each extension was read, and for whom."""
    without = replace(policy, extensions={})
    lines = []
    for result in sorted(grades.results, key=lambda r: r["student_id"]):
        student, when = result["student_id"], times[result["student_id"]]
        members = [str(m) for m in result.get("members") or ()]
        extension = policy.extension_for(student, members)
        saved = not grades.grades[student].lateness.late
        if when and extension and saved and without.lateness(student, when, members).late:
            lines.append(
                f"{student}: submitted {policy.shown(when)}, after the deadline, on time by "
                f"the extension until {policy.shown(extension)}"
            )
    return lines


def write_grades(gradebook: Gradebook, assignment: Assignment, path: Path) -> pd.DataFrame:
    """grades.csv from ``grade_table``, with the late policy saved beside it; ids that look
    like formulas are neutralised. A group's grade also gets a row per member (who did not
    submit alone), ``graded_as`` naming the group's submission: one row per student."""
    frame = grade_table(gradebook, assignment, load_policy(path.parent))
    frame = _with_members(frame, gradebook.members(assignment.name))
    frame.assign(student_id=frame["student_id"].map(safe)).to_csv(path, index=False)
    return frame


def _with_members(frame: pd.DataFrame, members: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    graded = set(frame["student_id"])
    rows = [
        {**row, "student_id": member, "graded_as": row["student_id"]}
        for row in frame.to_dict("records")
        for member in members.get(row["student_id"], ())
        if member not in graded
    ]
    if not rows:
        return frame
    frame = pd.concat([frame.assign(graded_as=""), pd.DataFrame(rows)], ignore_index=True)
    return frame.sort_values("student_id").reset_index(drop=True)


def grade_table(
    gradebook: Gradebook,
    assignment: Assignment,
    policy: LatePolicy | None = None,
    *,
    strict: bool = True,
) -> pd.DataFrame:
    """One row per student: the latest grading's points per question, the points given by
    hand, the late penalty in points, and the final grade (``final_grade``) as ``score``
    (``strict``: as ``class_grades``)."""
    graded = class_grades(gradebook, assignment.name, policy, detail=False, strict=strict)
    questions = [q.name for q in assignment.autograded]
    order = [q.name for q in assignment.questions]
    by_hand = [q for q in order if q in graded.hand_max]
    by_hand += sorted(set(graded.hand_max) - set(by_hand))  # since removed from the master
    rows = []
    for result in graded.results:
        grade = graded.grades[result["student_id"]]
        scores = {q: s.get("score", 0.0) for q, s in result["questions"].items()}
        rows.append(
            {
                "student_id": result["student_id"],
                "assignment": assignment.name,
                **{q: grade.overridden.get(q, scores.get(q, 0.0)) for q in questions},
                **grade.hand,
                "late_penalty": None if grade.excused or grade.time_unknown else grade.penalty,
                "score": grade.score,
                "max_score": grade.max_score,
                "status": EXCUSED if grade.excused else result["status"],
            }
        )
    # an excused student without a notebook: a row all the same, one per student
    rows += [
        {"student_id": s, "assignment": assignment.name, "status": EXCUSED}
        for s in sorted(set(graded.excused) - set(graded.grades))
    ]
    columns = ["student_id", "assignment", *questions, *by_hand, "late_penalty", "score",
               "max_score", "status"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).sort_values("student_id").reset_index(drop=True)
