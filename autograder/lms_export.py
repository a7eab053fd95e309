"""Where LMS files are written: Canvas, Moodle and Blackboard grade imports, Gradescope results.

The roster joins the gradebook's students to LMS identities. Nothing is guessed: students
graded but absent from the roster, roster entries with no submission, duplicated
identities are listed in the ``RosterReport``; entries with no submission are exported
blank (missing), not as zero, unless asked.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .assignment import load_assignment
from .class_run import grade_table
from .errors import DlgradeError
from .feedback import check_outputs, questions_feedback, reveal_for, status_text, summary_text
from .gradebook import Gradebook
from .late import LatePolicy, adjusted, load_policy
from .spreadsheet import safe
from .submissions import student_file_name

LMS = ("canvas", "moodle", "blackboard", "gradescope")
ROSTER_COLUMNS = ("student_id", "last_name", "first_name", "email", "username",
                  "sis_user_id", "sis_login_id", "section")  # fmt: skip
IDENTITY_COLUMNS = ("student_id", "username", "email", "sis_user_id", "sis_login_id")


class RosterError(DlgradeError, ValueError):
    """A roster that cannot be used; the message names the file and the row."""


@dataclass
class RosterReport:
    """What the join between gradebook and roster found."""

    not_in_roster: list[str] = field(default_factory=list)
    no_submission: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            *(f"graded but not in the roster (not exported): {s}" for s in self.not_in_roster),
            *(
                f"in the roster, no submission (exported as missing): {s}"
                for s in self.no_submission
            ),
            *(f"student_id repeated in the roster (first row used): {s}" for s in self.duplicated),
            *(f"matches several roster rows (not exported): {s}" for s in self.ambiguous),
        ]


def read_roster(path: Path) -> pd.DataFrame:
    """The roster CSV: a ``student_id`` column (the id the grader gives) and LMS identities."""
    try:
        roster = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise RosterError(f"{path}: unreadable roster ({error})") from None
    if "student_id" not in roster.columns:
        raise RosterError(f"{path}: the roster needs a 'student_id' column")
    blank = roster.index[roster["student_id"].str.strip() == ""]
    if len(blank):
        raise RosterError(f"{path}: row {blank[0] + 2} has an empty student_id")
    for column in ROSTER_COLUMNS:
        if column not in roster.columns:
            roster[column] = ""
    return roster


def join(grades: pd.DataFrame, roster: pd.DataFrame) -> tuple[pd.DataFrame, RosterReport]:
    """Roster rows with their grade (NaN where there is no submission), and the report.

    A graded id matches a roster row through any identity column (student_id, username,
    email, SIS ids): exactly one row is a match, several rows are ambiguous and reported,
    never guessed.
    """
    report = RosterReport()
    counts = Counter(roster["student_id"])
    report.duplicated = sorted(s for s, n in counts.items() if n > 1)
    roster = roster.drop_duplicates("student_id", keep="first").reset_index(drop=True)
    rows_by_identity: dict[str, set[int]] = {}
    for index, row in roster.iterrows():
        for column in IDENTITY_COLUMNS:
            if row[column]:
                rows_by_identity.setdefault(row[column], set()).add(index)
    matched: dict[int, str] = {}
    for graded_id in grades["student_id"]:
        rows = rows_by_identity.get(graded_id, set())
        if len(rows) > 1:
            report.ambiguous.append(graded_id)
        elif not rows:
            report.not_in_roster.append(graded_id)
        else:
            matched[rows.pop()] = graded_id
    report.not_in_roster.sort()
    report.ambiguous.sort()
    roster = roster.assign(graded_id=[matched.get(i) for i in roster.index])
    report.no_submission = sorted(roster.loc[roster["graded_id"].isna(), "student_id"])
    scores = grades.rename(columns={"student_id": "graded_id"})
    return roster.merge(scores, on="graded_id", how="left"), report


def _score(value: float, missing_as_zero: bool) -> str:
    if pd.isna(value):
        return "0" if missing_as_zero else ""
    return f"{float(value):g}"


def canvas_csv(joined: pd.DataFrame, item: str, points: float, assignment_id: str,
               missing_as_zero: bool = False) -> str:  # fmt: skip
    """Canvas's gradebook import: identity columns, one ``Name (id)`` column, and the
    "Points Possible" row that Canvas's own export has under the header."""
    column = f"{item} ({assignment_id})"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
    writer.writerow(["    Points Possible", "", "", "", "", f"{points:g}"])
    for _, row in joined.iterrows():
        name = ", ".join(n for n in (row["last_name"], row["first_name"]) if n)
        writer.writerow([safe(name), safe(row["student_id"]), safe(row["sis_user_id"]),
                         safe(row["sis_login_id"]), safe(row["section"]),
                         _score(row["score"], missing_as_zero)])  # fmt: skip
    return out.getvalue()


def moodle_csv(joined: pd.DataFrame, item: str, feedback: dict[str, str],
               missing_as_zero: bool = False) -> str:  # fmt: skip
    """Moodle's grade import (CSV): identifiers to map a user (email, username, ID number),
    the grade item, and its feedback text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Email address", "Username", "ID number", item, f"{item} (feedback)"])
    for _, row in joined.iterrows():
        writer.writerow([safe(row["email"]), safe(row["username"]), safe(row["sis_user_id"]),
                         _score(row["score"], missing_as_zero),
                         safe(feedback.get(row["student_id"], ""))])  # fmt: skip
    return out.getvalue()


def blackboard_csv(joined: pd.DataFrame, item: str, points: float, column_id: str,
                   missing_as_zero: bool = False) -> str:  # fmt: skip
    """Blackboard Grade Center upload: keyed by Username, one column named with its total
    points and ending in ``|column id``; every field quoted, as Blackboard requires."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Last Name", "First Name", "Username",
                     f"{item} [Total Pts: {points:g} Score] |{column_id}"])  # fmt: skip
    for _, row in joined.iterrows():
        writer.writerow([safe(row["last_name"]), safe(row["first_name"]), safe(row["username"]),
                         _score(row["score"], missing_as_zero)])  # fmt: skip
    return out.getvalue()


def gradescope_results(result: dict, lang: str = "fr", note: str = "") -> dict:
    """One submission's results in Gradescope's autograder format (results.json), its
    texts rendered in ``lang`` from the stored findings (``note``: the late penalty). A
    field of the wrong type (an old or damaged gradebook row) is written empty, not raised."""
    tests = result.get("tests")
    tests = [t for t in tests if isinstance(t, dict)] if isinstance(tests, list) else []
    assignment = _assignment(result.get("assignment"))
    reveal = reveal_for(assignment.master if assignment else None, "graded")
    outputs = check_outputs({**result, "tests": tests}, assignment, lang, reveal)
    return {
        "score": _number(result.get("score")),
        "output": " ".join(filter(None, [status_text(result, lang), note])),
        "output_format": "text",  # feedback quotes the student's own errors: never markup
        "test_output_format": "text",
        "visibility": "visible",
        "tests": [
            {
                "name": name,
                "score": _number(test.get("score")),
                "max_score": _number(test.get("max_score")),
                "status": "passed" if test.get("passed") is True else "failed",
                "output": output,
                "visibility": "visible",
            }
            for test, (name, output) in zip(tests, outputs, strict=True)
        ],
    }


def _assignment(name: object):
    """The assignment's master, for question titles and the reveal setting (None if this
    project lacks it: the stored question names are used)."""
    try:
        return load_assignment(name) if isinstance(name, str) else None
    except Exception:  # a gradebook from another course: exported without titles
        return None


def moodle_feedback(result: dict, policy: LatePolicy | None, lang: str = "fr") -> str:
    """The feedback text next to the grade: the status, the late penalty, and the
    questions that lost points with their named mistakes, in ``lang``."""
    assignment = _assignment(result.get("assignment"))
    questions = [
        q
        for q in questions_feedback(result, assignment, lang, "hints")
        if not q.manual  # hand-graded points are in the grade, their comments on the page
    ]
    return " ".join(
        filter(
            None,
            [
                status_text(result, lang),
                adjusted(result, policy, lang)[1],
                summary_text(questions, lang),
            ],
        )
    )


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def write_gradescope(
    by_student: dict[str, dict], policy: LatePolicy | None, out: Path, lang: str = "fr"
) -> None:
    """``out/gradescope/<folder>/results.json`` per student, and ``gradescope_folders.csv``
    (student_id, folder). The folder is ``student_file_name(student_id)``: an id such as
    ``zz/zoe``, ``..`` or ``Zoe`` gets its own folder inside ``gradescope/``, never another
    student's, never outside."""
    rows = []
    for student, result in sorted(by_student.items()):
        score, note = adjusted(result, policy, lang)
        folder = out / "gradescope" / student_file_name(student)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            gradescope_results({**result, "score": score}, lang, note), ensure_ascii=False, indent=1
        )
        (folder / "results.json").write_text(text, "utf-8", errors="backslashreplace")
        rows.append([safe(student), folder.name])
    with (out / "gradescope_folders.csv").open(
        "w", newline="", encoding="utf-8", errors="backslashreplace"
    ) as file:
        csv.writer(file, lineterminator="\n").writerows([["student_id", "folder"], *rows])


def export(lms: str, grades_dir: Path, roster_path: Path | None, out: Path, *,
           item: str, lms_id: str = "", missing_as_zero: bool = False,
           lang: str = "fr") -> RosterReport:  # fmt: skip
    """Write the import file(s) of ``lms`` from a graded folder's gradebook; the feedback
    texts (Moodle, Gradescope) in ``lang``."""
    if lms not in LMS:
        raise ValueError(f"unknown LMS {lms!r}: one of {', '.join(LMS)}")
    gradebook = Gradebook.of_graded(grades_dir)
    try:
        assignment = gradebook.assignment()
        grades = grade_table(gradebook, load_assignment(assignment))
        by_student = {r["student_id"]: r for r in gradebook.latest_results(assignment)}
    finally:
        gradebook.close()
    out.mkdir(parents=True, exist_ok=True)
    policy = load_policy(grades_dir)
    if lms == "gradescope":
        write_gradescope(by_student, policy, out, lang)
        return RosterReport()
    if roster_path is None:
        raise RosterError(f"--roster is needed to export to {lms}")
    if policy is not None:
        adjusted_scores = {s: adjusted(r, policy)[0] for s, r in by_student.items()}
        grades["score"] = grades["student_id"].map(adjusted_scores).fillna(grades["score"])
    joined, report = join(grades, read_roster(roster_path))
    points = float(grades["max_score"].max()) if len(grades) else 0.0
    if lms == "canvas":
        text = canvas_csv(joined, item, points, lms_id or "0", missing_as_zero)
    elif lms == "moodle":
        feedback = {  # Moodle shows feedback as HTML: the student's error texts are escaped
            s: html.escape(moodle_feedback(r, policy, lang)) for s, r in by_student.items()
        }
        text = moodle_csv(joined, item, feedback, missing_as_zero)
    else:
        text = blackboard_csv(joined, item, points, lms_id or "0", missing_as_zero)
    (out / f"{lms}_import.csv").write_text(text, encoding="utf-8")
    (out / f"{lms}_roster_report.txt").write_text("\n".join(report.lines()) + "\n", "utf-8")
    return report
