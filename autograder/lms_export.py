"""Where LMS files are written: Canvas, Moodle and Blackboard grade imports, Moodle's offline
grading worksheet, Gradescope results.

The roster is either dlgrade's own CSV (``student_id`` and LMS identities) or a file the
LMS wrote: Canvas's gradebook export, Blackboard's Grade Center download, Moodle's grading
worksheet. From an LMS file, the export reuses its item (Canvas assignment id, Blackboard
column id, worksheet rows) and its maximum, so the LMS updates that item instead of
creating a duplicate, and grades arrive on the item's scale.

Every grade is ``final_grade``'s. Nothing is guessed: students graded but absent from the
roster, roster entries with no submission, duplicated and ambiguous identities are listed
in the ``RosterReport``. A roster entry without a submission is left out (its grade in the
LMS is kept), unless asked to blank it or set it to 0. A student the LMS could not identify
stops the export.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

from .assignment import load_assignment
from .errors import DlgradeError
from .feedback import check_outputs, reveal_for, status_text
from .final_grade import ClassGrades, load_class
from .gradebook import graded_settings
from .late import GIVE_THEIR_TIMES, LateTimesError
from .moodle_worksheet import HEADERS, read_worksheet
from .spreadsheet import RepeatedColumn, safe, table_rows, table_text
from .submissions import GRADESCOPE_FOLDER, student_file_name

LMS = ("canvas", "moodle", "blackboard", "gradescope")
MISSING = ("keep", "blank", "zero")  # a roster entry without a submission: left out, "", 0
EXCUSED_CELL = {"canvas": "EX"}
"""What an excused student's grade cell holds: Canvas's gradebook import reads ``EX`` as
excused; the other LMSs' import files have no such value, and get an empty cell."""
ROSTER_COLUMNS = ("student_id", "name", "last_name", "first_name", "email", "username",
                  "sis_user_id", "sis_login_id", "section")  # fmt: skip
# what a graded id may be: Moodle's worksheet names a person by email, ID number or name
IDENTITY_COLUMNS = ("student_id", "username", "email", "sis_user_id", "sis_login_id", "name")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_ITEM = re.compile(r"^(?P<name>.*\S) \((?P<id>\d+)\)$")
BLACKBOARD_ITEM = re.compile(
    r"^(?P<name>.*?) ?\[Total Pts: (?P<points>[\d.,]+) \w+\] ?\|(?P<id>\S+)$"
)
_html = MarkdownIt("commonmark", {"html": False})  # a student's text stays text


class RosterError(DlgradeError, ValueError):
    """A roster or an LMS file that cannot be used; the message names the file and what to do."""


class UnfinishedHandGrading(DlgradeError):
    """An export while some students still lack points on a question graded by hand:
    they would get 0 there in the LMS. ``missing``: question → students without points."""

    SHOWN = 5  # students named per question; the rest are counted

    def __init__(self, assignment: str, missing: dict[str, list[str]]):
        listed = ", ".join(f"{q} ({self._who(s)})" for q, s in sorted(missing.items()))
        super().__init__(
            f"{assignment}: hand grading is unfinished, these questions have no points yet "
            f"for some students: {listed}. Finish it (dlgrade manual import), or export "
            "anyway with --partial (they count 0)"
        )
        self.missing = missing

    @classmethod
    def _who(cls, students: list[str]) -> str:
        named = ", ".join(students[: cls.SHOWN])
        more = f" and {len(students) - cls.SHOWN} more" if len(students) > cls.SHOWN else ""
        return f"{len(students)} student{'s' if len(students) > 1 else ''}: {named}{more}"


@dataclass
class RosterReport:
    """What the join between gradebook and roster found."""

    not_in_roster: list[str] = field(default_factory=list)
    no_submission: list[str] = field(default_factory=list)
    files_only: list[str] = field(default_factory=list)  # sent files, none a notebook
    duplicated: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    shared_rows: list[str] = field(default_factory=list)  # one row, several graded students
    held: list[str] = field(default_factory=list)  # no submission, a grade or EX in the LMS
    missing: str = "keep"
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        fate = {"keep": "left out: its grade in the LMS is kept", "blank": "exported blank",
                "zero": "exported as 0"}[self.missing]  # fmt: skip
        return [
            *self.notes,
            *(f"graded but not in the roster (not exported): {s}" for s in self.not_in_roster),
            *(f"in the roster, no submission ({fate}): {s}" for s in self.no_submission),
            *(f"in the roster, no submission, and the LMS already holds this (left as it is): {s}"
              for s in self.held),
            *(f"in the roster, sent no notebook ({fate}; look at what they sent): {s}"
              for s in self.files_only),
            *(f"repeated in the roster (first row used): {s}" for s in self.duplicated),
            *(f"matches several roster rows (not exported): {s}" for s in self.ambiguous),
            *(f"one roster row, several graded students (not exported): {s}"
              for s in self.shared_rows),
        ]  # fmt: skip


@dataclass
class Roster:
    """The people of a roster file, and what its LMS needs to write the file back."""

    path: Path
    kind: str  # "dlgrade", "canvas", "blackboard" or "moodle-worksheet"
    people: pd.DataFrame  # ROSTER_COLUMNS, plus "line": the row's line in the file
    header: list[str]
    rows: list[list[str]]
    points_possible: list[str] = field(default_factory=list)  # Canvas's row under the header
    groups: dict[str, list[str]] = field(default_factory=dict)  # Moodle's: group → names


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV as spreadsheets and LMSs save it: comma, semicolon (French Excel) or tab
    separated, UTF-8 with or without BOM, UTF-16 (Blackboard's .xls download) or
    Windows-1252 (Excel's "CSV" in Western Europe)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RosterError(f"{path}: unreadable ({error.strerror}); check the path") from None
    text = table_text(raw)
    try:
        table = [row for row in table_rows(text) if any(row)]
    except RepeatedColumn as error:
        raise RosterError(
            f"{path}: {error}", "csv_column_twice", file=path, column=error.column
        ) from None
    except csv.Error as error:  # a binary file, a NUL byte, a lone carriage return...
        raise RosterError(
            f"{path}: not a CSV table ({error}); give the roster or the LMS's export",
            "roster_not_csv",
            file=path,
        ) from None
    if not table:
        raise RosterError(
            f"{path}: empty file; give the roster or the LMS's export", "roster_empty", file=path
        )
    header = [cell.strip() for cell in table[0]]
    return header, [row + [""] * (len(header) - len(row)) for row in table[1:]]


def read_roster(path: Path) -> pd.DataFrame:
    """The people of a roster file (``ROSTER_COLUMNS``), whatever its kind (``read_lms_file``)."""
    return read_lms_file(path).people


def read_lms_file(path: Path) -> Roster:
    """dlgrade's roster CSV, Canvas's gradebook export, Blackboard's Grade Center download
    or Moodle's grading worksheet, told apart by their header."""
    header, rows = read_table(path)
    if _column(header, "identifier") is not None:
        return _worksheet_roster(path, header, rows)
    if {"Student", "ID", "SIS Login ID"} <= set(header):
        return _canvas_roster(path, header, rows)
    if "Username" in header and any(BLACKBOARD_ITEM.match(h) for h in header):
        return _blackboard_roster(path, header, rows)
    if "student_id" in header:
        return _roster(path, "dlgrade", header, rows, {c: c for c in ROSTER_COLUMNS})
    raise RosterError(
        f"{path}: not a roster: give a CSV with a 'student_id' column, Canvas's gradebook "
        "export, Blackboard's Grade Center download or Moodle's grading worksheet",
        "roster_unknown",
        file=path,
    )


def _roster(path: Path, kind: str, header: list[str], rows: list[list[str]],
            columns: dict[str, str], skip: int = 0) -> Roster:  # fmt: skip
    """``columns``: roster column → the file's header for it."""
    where = {name: header.index(column) for name, column in columns.items() if column in header}
    people = []
    for line, row in enumerate(rows[skip:], start=2 + skip):
        person = {
            name: row[where[name]].strip() if name in where else "" for name in ROSTER_COLUMNS
        }
        if not person["student_id"]:
            raise RosterError(
                f"{path}: row {line} has no {columns['student_id']!r}; fill it or delete the row",
                "roster_row_no_id",
                file=path,
                line=line,
                column=columns["student_id"],
            )
        people.append({**person, "line": line})
    frame = pd.DataFrame(people, columns=[*ROSTER_COLUMNS, "line"])
    return Roster(path, kind, frame, header, rows[skip:])


def _canvas_roster(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    """Canvas's gradebook export: rows above the students (Points Possible, posting
    policies) carry no ID."""
    student, canvas_id = header.index("Student"), header.index("ID")
    skip = next((i for i, row in enumerate(rows) if row[canvas_id].strip()), len(rows))
    points = next((row for row in rows[:skip] if row[student].strip() == "Points Possible"), [])
    columns = {"student_id": "ID", "name": "Student", "sis_user_id": "SIS User ID",
               "sis_login_id": "SIS Login ID", "section": "Section"}  # fmt: skip
    roster = _roster(path, "canvas", header, rows, columns, skip)
    roster.points_possible = points
    return roster


def _blackboard_roster(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    columns = {"student_id": "Username", "last_name": "Last Name", "first_name": "First Name",
               "username": "Username", "sis_user_id": "Student ID"}  # fmt: skip
    return _roster(path, "blackboard", header, rows, columns)


def _worksheet_roster(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    """Moodle's grading worksheet (read by ``moodle_worksheet``): "Participant 4321" is the
    id of Moodle's download folders (``Name_4321_assignsubmission_file_``)."""
    sheet = read_worksheet(path)
    for column in ("grade", "max_grade"):
        if _column(header, column) is None:
            raise RosterError(
                f"{path}: a grading worksheet without a {HEADERS[column][sheet.language == 'fr']!r} "
                "column; download it again from the assignment (Grading action → Download "
                "grading worksheet)"
            )
    people = []
    for line, person in enumerate(sheet.values(), start=2):  # the file's rows, in order
        people.append({**dict.fromkeys(ROSTER_COLUMNS, ""), "student_id": person.participant_id,
                       "name": person.full_name, "email": person.email,
                       "sis_user_id": person.id_number, "line": line})  # fmt: skip
    frame = pd.DataFrame(people, columns=[*ROSTER_COLUMNS, "line"])
    roster = Roster(path, "moodle-worksheet", frame, header, rows)
    for person in sheet.values():
        if person.group:
            roster.groups.setdefault(person.group, []).append(person.full_name)
    return roster


def _column(header: list[str], name: str) -> int | None:
    """Where the worksheet's ``name`` column is (``moodle_worksheet.HEADERS``), in either
    language."""
    titles = {title.casefold() for title in HEADERS[name]}
    return next((i for i, h in enumerate(header) if h.strip().casefold() in titles), None)


def join(
    owners: dict[str, str], people: pd.DataFrame, own_ids: Collection[str] = ()
) -> tuple[dict[int, str], set[int], RosterReport]:
    """Roster row → the graded submission that is theirs; the rows to leave alone
    (repeated, or matching an ambiguous id); and the report.

    ``owners`` maps every graded student (``ClassGrades.owners``) to the submission that
    holds their grade. A graded id matches the row whose own id it is, else a row through
    the other identity columns (username, email, SIS ids, name): one row is a match,
    several rows are ambiguous and reported, never guessed. ``own_ids`` are ids in the
    roster's own id space (a Canvas user id, from a Canvas file name): they match its own
    id column only, never another student's SIS id.
    """
    report = RosterReport()
    counts = Counter(people["student_id"])
    report.duplicated = sorted(s for s, n in counts.items() if n > 1)
    first = ~people["student_id"].duplicated(keep="first")
    by_own_id: dict[str, set[int]] = {}
    by_other_id: dict[str, set[int]] = {}
    for index, row in people[first].iterrows():
        by_own_id.setdefault(row["student_id"], set()).add(index)
        for column in IDENTITY_COLUMNS[1:]:
            if row[column]:
                by_other_id.setdefault(row[column], set()).add(index)
    matched: dict[int, str] = {}
    claims: dict[int, list[str]] = {}  # roster row → the graded ids that match it
    untouched = set(people.index[~first])
    for graded_id in sorted(owners):
        rows = set(by_own_id.get(graded_id, ()))
        if not rows and graded_id not in own_ids:
            rows = set(by_other_id.get(graded_id, ()))
        if len(rows) > 1:
            report.ambiguous.append(graded_id)
            untouched |= rows
        elif not rows:
            report.not_in_roster.append(graded_id)
        else:
            claims.setdefault(rows.pop(), []).append(graded_id)
    for row, graded_ids in claims.items():
        if len({owners[g] for g in graded_ids}) == 1:
            matched[row] = owners[graded_ids[0]]
        else:  # two grades for one person (ids changed between runs): neither is guessed
            report.shared_rows.append(f"{people.loc[row, 'student_id']} ({', '.join(graded_ids)})")
            untouched.add(row)
    untouched -= set(matched)
    alone = [i for i in people.index if i not in matched and i not in untouched]
    report.no_submission = sorted(people.loc[alone, "student_id"])
    return matched, untouched, report


@dataclass
class Export:
    """One export's choices, shared by the writers."""

    grades: ClassGrades
    matched: dict[int, str]  # roster row → submitter
    untouched: set[int]  # roster rows never written (repeated, ambiguous)
    maximum: float | None  # the LMS item's maximum (None: the grader's own points)
    missing: str
    feedback: dict[str, str]  # submitter → feedback text
    excused_cell: str = ""  # EXCUSED_CELL

    def cell(self, index: int) -> str | None:
        """Row ``index``'s grade cell, or None when the row is left out."""
        if index in self.matched and self.matched[index] in self.grades.excused:
            return self.excused_cell
        if index in self.matched:
            return _points(self.grades.grades[self.matched[index]].scaled(self.maximum))
        if index in self.untouched:
            return None
        return {"keep": None, "blank": "", "zero": "0"}[self.missing]


EMPTY_GRADES = ("", "-")  # what an LMS file shows for "no grade yet" (Moodle: "-")


def _held_in_lms(roster: Roster, column: str) -> dict[int, str]:
    """Roster row → what the LMS file already holds in the item's column (a grade typed
    in the LMS, "EX" for an excused student), for the rows where it holds something."""
    if roster.kind == "moodle-worksheet":
        where = _column(roster.header, "grade")
    else:
        where = roster.header.index(column) if column in roster.header else None
    if where is None:
        return {}
    return {
        index: row[where].strip()
        for index, row in enumerate(roster.rows)
        if where < len(row) and row[where].strip() not in EMPTY_GRADES
    }


def _leave_what_the_lms_holds(
    roster: Roster, column: str, matched: dict[int, str], untouched: set[int], report: RosterReport
) -> set[int]:
    """The rows without a submission where the LMS already holds something (an excusal, a
    grade typed in the LMS, one given to a PDF): --missing-as-zero and --blank-missing
    never overwrite those; the report names them apart."""
    held = {i: v for i, v in _held_in_lms(roster, column).items()
            if i not in matched and i not in untouched}  # fmt: skip
    ids = {roster.people.loc[i, "student_id"]: v for i, v in held.items()}
    report.held = [f"{student} ({value})" for student, value in sorted(ids.items())]
    report.no_submission = [s for s in report.no_submission if s not in ids]
    report.files_only = [f for f in report.files_only if f.split(" (", 1)[0] not in ids]
    return set(held)


def _points(value: float) -> str:
    return f"{value:g}"


def canvas_csv(roster: Roster, export: Export, column: str, points: str) -> str:
    """Canvas's gradebook import: identity columns, the ``Name (assignment id)`` column,
    and the "Points Possible" row that Canvas's own export has under the header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY, column])
    writer.writerow(["    Points Possible", "", "", "", "", points])
    for index, person in roster.people.iterrows():
        if (grade := export.cell(index)) is not None:
            name = person["name"] or ", ".join(
                filter(None, [person["last_name"], person["first_name"]])
            )
            writer.writerow([safe(name), safe(person["student_id"]), safe(person["sis_user_id"]),
                             safe(person["sis_login_id"]), safe(person["section"]), grade])  # fmt: skip
    return out.getvalue()


def blackboard_csv(roster: Roster, export: Export, column: str) -> str:
    """Blackboard Grade Center upload: keyed by Username, one column named with its total
    points and ending in ``|column id``; every field quoted, as Blackboard requires."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Last Name", "First Name", "Username", column])
    for _, person, grade in _identified(roster, export, ("username",), "Username"):
        writer.writerow([safe(person["last_name"]), safe(person["first_name"]),
                         safe(person["username"]), grade])  # fmt: skip
    return out.getvalue()


def moodle_csv(roster: Roster, export: Export, item: str) -> str:
    """Moodle's grade import (CSV): identifiers to map a user (email, username, ID number),
    the grade item, and its feedback (HTML, which Moodle shows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Email address", "Username", "ID number", item, f"{item} (feedback)"])
    identifiers = ("email", "username", "sis_user_id")
    for index, person, grade in _identified(
        roster, export, identifiers, "email, username or ID number"
    ):
        text = export.feedback.get(export.matched.get(index, ""), "")
        writer.writerow([safe(person["email"]), safe(person["username"]),
                         safe(person["sis_user_id"]), grade, safe(text)])  # fmt: skip
    return out.getvalue()


def moodle_worksheet(roster: Roster, export: Export) -> str:
    """Moodle's grading worksheet filled in: the same columns, language and rows as the
    one downloaded; grades on its "Maximum grade" scale with its decimal separator, the
    feedback in "Feedback comments". Every other cell, and every row without a submission,
    stays as downloaded: Moodle compares "Last modified (grade)" to what it holds."""
    header = roster.header
    grade, feedback = _column(header, "grade"), _column(header, "feedback")
    maximum = _column(header, "max_grade")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for index, row in enumerate(roster.rows):
        row = list(row)
        cell = export.cell(index)
        if cell is not None:
            comma = "," in row[maximum]
            row[grade] = cell.replace(".", ",") if comma else cell
            if feedback is not None and index in export.matched:
                row[feedback] = export.feedback.get(export.matched[index], "")
        writer.writerow(row)  # Moodle's own cells, exactly as downloaded
    return out.getvalue()


def _identified(
    roster: Roster, export: Export, columns: tuple[str, ...], what: str
) -> list[tuple[int, pd.Series, str]]:
    """The roster's rows that get a grade (index, row, grade); refused, naming every such
    row, when some have none of ``columns``: the LMS could not match them to anyone."""
    graded = [
        (index, person, grade)
        for index, person in roster.people.iterrows()
        if (grade := export.cell(index)) is not None
    ]
    unknown = [person for _, person, _ in graded if not any(person[c] for c in columns)]
    if unknown:
        rows = ", ".join(f"row {p['line']} (student {p['student_id']})" for p in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        students = ", ".join(p["student_id"] for p in unknown[:10])
        raise RosterError(
            f"{roster.path}: {rows}{more} {'have' if len(unknown) > 1 else 'has'} no {what}, "
            f"so the LMS cannot tell who {'they are' if len(unknown) > 1 else 'it is'}; "
            "add it to the roster",
            "roster_unidentified",
            student=students + (f" (+{len(unknown) - 10})" if more else ""),
            what=what,
        )
    return graded


def gradescope_results(result: dict, lang: str = "fr", feedback: str = "") -> dict:
    """One submission's results in Gradescope's autograder format (results.json): its
    ``score`` (the final grade), ``feedback`` (the student's Markdown page, else the
    status) and each check, rendered in ``lang``. The page goes as HTML, rendered here with
    raw HTML off: as plain text Gradescope would show its Markdown escapes (``\\(``), and
    the student's own text inside it stays text either way. A field of the wrong type (an
    old or damaged gradebook row) is written empty, not raised."""
    tests = result.get("tests")
    tests = [t for t in tests if isinstance(t, dict)] if isinstance(tests, list) else []
    assignment = _assignment(result.get("assignment"))
    reveal = reveal_for(assignment.master if assignment else None, "graded")
    outputs = check_outputs({**result, "tests": tests}, assignment, lang, reveal)
    return {
        "score": _number(result.get("score")),
        "output": _html.render(feedback) if feedback else escape(status_text(result, lang)),
        "output_format": "html",
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


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def feedback_markdown(
    grades: ClassGrades, student: str, lang: str = "fr", maximum: float | None = None
) -> str:
    """The Markdown of a student's feedback page (hand-graded points and comments, late
    penalty), its grade on the LMS item's scale when ``maximum`` is given."""
    from .pages import feedback_context, render_markdown

    result = next(r for r in grades.results if r["student_id"] == student)
    context = feedback_context(
        result, grades.hand.get(student, {}), grades.started(), grades.policy, lang,
        shared_with=grades.sharers(student), overrides=grades.overrides.get(student),
        excused=grades.excused.get(student), time_unknown=grades.grades[student].time_unknown,
    )  # fmt: skip
    if result["status"] == "graded":  # "Notebook graded." says nothing next to a grade
        context["status"] = ""
    if maximum is not None:
        grade = grades.grades[student]
        context.update(
            final=grade.scaled(maximum), max_total=maximum, late_note=grade.late_note(lang, maximum)
        )
    return render_markdown(context)


def write_gradescope(
    grades: ClassGrades, out: Path, lang: str = "fr", maximum: float | None = None
) -> None:
    """``out/gradescope/<folder>/results.json`` per submission, and
    ``gradescope_folders.csv`` (student_id, folder, submission). A notebook from
    Gradescope's own export keeps its submission's folder name (``submission_304``), the id
    Gradescope's API needs to take the result back; any other is in
    ``student_file_name(student_id)``: an id such as ``zz/zoe``, ``..`` or ``Zoe`` gets its
    own folder inside ``gradescope/``, never another student's, never outside."""
    rows = []
    names = _gradescope_folders(grades.results)
    for result in grades.results:
        student = result["student_id"]
        if student in grades.excused:  # results.json has no value for "excused"
            continue
        submission = gradescope_submission(result)
        name = names[student]
        score = grades.grades[student].scaled(maximum)
        text = feedback_markdown(grades, student, lang, maximum)
        folder = out / "gradescope" / name
        folder.mkdir(parents=True, exist_ok=True)
        data = gradescope_results({**result, "score": score}, lang, text)
        (folder / "results.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1), "utf-8", errors="backslashreplace"
        )
        rows.append([safe(student), folder.name, submission or ""])
    with (out / "gradescope_folders.csv").open(
        "w", newline="", encoding="utf-8", errors="backslashreplace"
    ) as file:
        csv.writer(file, lineterminator="\n").writerows(
            [["student_id", "folder", "submission"], *rows]
        )


def _gradescope_folders(results: list[dict[str, Any]]) -> dict[str, str]:
    """Each student's folder name: Gradescope's own submission names first, then
    ``student_file_name``, its hashed form where a submission's name took it."""
    names: dict[str, str] = {}
    for result in results:
        submission = gradescope_submission(result)
        if submission and submission not in names.values():
            names[result["student_id"]] = submission
    taken = set(names.values())
    for result in results:
        student = result["student_id"]
        if student not in names:
            name = student_file_name(student)
            names[student] = name if name not in taken else student_file_name(f"{name} ")
    return names


def gradescope_submission(result: Mapping[str, Any]) -> str | None:
    """Gradescope's name of the submission a result grades (``submission_304``), read
    from where Gradescope's export put its notebook; None for any other notebook."""
    if result.get("lms") != "gradescope":
        return None
    parts = re.split(r"[/\\]", str(result.get("origin") or ""))
    return next((part for part in reversed(parts) if GRADESCOPE_FOLDER.match(part)), None)


def _item_column(roster: Roster, pattern: re.Pattern, item: str | None,
                 lms_id: str) -> re.Match | None:  # fmt: skip
    """The LMS file's column for this item: by ``--lms-id``, else by ``--item``, else
    its only one."""
    columns = [m for h in roster.header if (m := pattern.match(h))]
    chosen = [m for m in columns if (m["id"] == lms_id if lms_id else
                                     not item or m["name"] == item)]  # fmt: skip
    if len(chosen) == 1:
        return chosen[0]
    listed = ", ".join(m[0] for m in columns) or "none"
    details = {"file": roster.path, "columns": listed}
    if not lms_id and not item:
        found = f"{len(columns)} item columns ({listed})" if columns else "no item column"
        raise RosterError(
            f"{roster.path}: {found}; choose one with --lms-id (the number in the column name)",
            "lms_item_choose", count=len(columns), **details,
        )  # fmt: skip
    wanted = f"--lms-id {lms_id}" if lms_id else f"--item {item!r}"
    raise RosterError(
        f"{roster.path}: {wanted} matches {len(chosen)} of its columns ({listed}); "
        "choose one with --lms-id (the number in the column name)",
        "lms_item_unmatched", wanted=lms_id or item, count=len(chosen), **details,
    )  # fmt: skip


LMS_FILES = {"canvas": "Canvas's gradebook export",
             "blackboard": "Blackboard's Grade Center download",
             "moodle-worksheet": "Moodle's grading worksheet"}  # fmt: skip
LMS_OF_FILE = {"canvas": "canvas", "blackboard": "blackboard", "moodle-worksheet": "moodle"}


def _item(lms: str, roster: Roster, item: str | None, lms_id: str) -> tuple[str, float | None]:
    """The item's column header as the LMS file names it ("" when it must be made up),
    and its maximum when the file says it."""
    where = str(roster.path)
    if lms == "canvas" and roster.kind == "canvas":
        found = _item_column(roster, CANVAS_ITEM, item, lms_id)
        column = roster.header.index(found[0])
        possible = roster.points_possible[column].strip() if roster.points_possible else ""
        return found[0], _float(
            possible, f"{where}: Points Possible of {found[0]}"
        ) if possible else None
    if lms == "blackboard" and roster.kind == "blackboard":
        found = _item_column(roster, BLACKBOARD_ITEM, item, lms_id)
        return found[0], _float(found["points"], f"{where}: {found[0]}")
    if lms == "moodle" and roster.kind == "moodle-worksheet":
        column = _column(roster.header, "max_grade")
        values = sorted({row[column].strip() for row in roster.rows} - {""})
        return "", _float(values[0], f"{where}: {roster.header[column]}") if values else None
    if lms in ("canvas", "blackboard") and not lms_id and roster.kind in LMS_FILES:
        raise RosterError(
            f"{where}: this is {LMS_FILES[roster.kind]}, not {lms.title()}'s; export with "
            f"--lms {LMS_OF_FILE[roster.kind]}, or give {lms.title()}'s own export of the "
            "grades as --roster",
            "roster_other_lms", file=roster.path, lms=lms.title(),
            found=LMS_OF_FILE[roster.kind].title(),
        )  # fmt: skip
    if lms in ("canvas", "blackboard") and not lms_id:
        raise RosterError(
            f"{lms}: without the item's id, {lms.title()} would create a new "
            f"{'assignment' if lms == 'canvas' else 'text column'}; give --lms-id ("
            + ("the number in the assignment's URL" if lms == "canvas" else
               "the number after '|' in the Grade Center download's header")
            + f") or pass {lms.title()}'s own export of the grades as --roster",
            "lms_id_needed", lms=lms.title(),
        )  # fmt: skip
    return "", None


def _float(text: str, where: str) -> float:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise RosterError(f"{where}: {text!r} is not a number of points") from None
    if not math.isfinite(value) or value <= 0:
        raise RosterError(f"{where}: {text!r} is not a usable maximum")
    return value


CANVAS_TEST_STUDENT = ("Student, Test", "Test Student")
"""How Canvas names the student view's account in its gradebook export."""


def _test_students(roster: Roster, matched: dict[int, str], report: RosterReport) -> set[int]:
    """Canvas's test student rows without a submission: kept out of any ``missing`` policy
    (a 0 for the teacher's own test account), and out of the report's missing students."""
    people = roster.people
    rows = {
        index
        for index, person in people.iterrows()
        if index not in matched
        and person["name"].strip() in CANVAS_TEST_STUDENT
        and not person["sis_user_id"].strip()
    }
    ids = {people.loc[index, "student_id"] for index in rows}
    report.no_submission = [s for s in report.no_submission if s not in ids]
    report.notes += [f"Canvas's test student, no submission (left out): {s}" for s in sorted(ids)]
    return rows


def _refuse_groups_graded_as_people(
    roster: Roster, grades: ClassGrades, report: RosterReport
) -> None:
    """A Moodle group's folder graded without the worksheet is a student named by the
    group's number: its members would silently get nothing."""
    results = {r["student_id"]: r for r in grades.results}
    for graded_id in report.not_in_roster:
        result = results.get(graded_id, {})
        group = result.get("student_name")
        if result.get("lms") == "moodle" and group in roster.groups:
            members = ", ".join(roster.groups[group])
            raise RosterError(
                f"{roster.path}: {graded_id} is the Moodle group {group!r} ({members}), graded "
                "as one student because the class was graded without --moodle-worksheet: its "
                "members would get no grade. Grade the class into a new folder with "
                f"--moodle-worksheet {roster.path}"
            )


class GradedWithEarlierChecks(DlgradeError):
    """An export of grades given before the assignment's checks, reference or grader
    changed: they are not what grading the same notebooks now gives (a fixed check, new
    points). The message names the students and the files to grade again."""

    SHOWN = 5

    def __init__(self, assignment: str, stale: list[Mapping[str, Any]]):
        students = [r["student_id"] for r in stale]
        more = f" and {len(students) - self.SHOWN} more" if len(students) > self.SHOWN else ""
        sources = sorted({str(r.get("origin") or "?").split("!", 1)[0] for r in stale})
        files = ", ".join(sources[: self.SHOWN]) + (
            f" and {len(sources) - self.SHOWN} more" if len(sources) > self.SHOWN else ""
        )
        super().__init__(
            f"{assignment}: {len(students)} grade(s) were given before its checks, reference "
            f"or the grader changed: {', '.join(students[: self.SHOWN])}{more}. Grade again "
            f"the files they came from ({files}) into the same --out, or export these grades "
            "as they are with --earlier-checks"
        )
        self.students = students


def _graded_with_earlier_checks(grades: ClassGrades) -> list[Mapping[str, Any]]:
    """The results given before the assignment's checks, reference or the grader changed."""
    from .course import Project
    from .grader import autograder_hash

    try:
        project = Project.default()
        current = autograder_hash(load_assignment(grades.assignment, project.root), project)
    except (DlgradeError, OSError):  # the course is not here: nothing to compare with
        return []
    return [r for r in grades.results if r.get("autograder_hash") != current]


def _not_graded(grades: ClassGrades, exported: set[str], maximum: float | None) -> list[str]:
    """Exported submissions whose notebook could not be graded (unreadable, another
    assignment's, stopped): their 0 usually wants a look before it reaches the LMS."""
    return [
        f"exported as {grades.grades[r['student_id']].scaled(maximum):g}, its notebook not graded "
        f"({r['status']}: {r.get('message') or 'no reason recorded'}): {r['student_id']}"
        for r in sorted(grades.results, key=lambda r: r["student_id"])
        if r["student_id"] in exported
        and r["status"] != "graded"
        and r["student_id"] not in grades.excused
    ]


def _refuse_untimed(
    grades: ClassGrades, exported: set[str], report: RosterReport | None = None
) -> None:
    """Refuse to send a grade whose late penalty is unknown (a student without a time in a
    class that has times); such students the roster does not hold are only noted."""
    problem = grades.times_problem
    if problem is None:
        return
    if not problem.partial:  # class_grades refuses the others first: kept for safety
        raise problem
    untimed = [s for s in problem.students if s not in grades.excused]
    held = sorted(s for s in untimed if s in exported)
    if held:
        raise LateTimesError(
            f"{grades.assignment}: the late penalty of {', '.join(held)} is unknown (no "
            f"submission time, while other students have one). {GIVE_THEIR_TIMES}",
            problem.reason,
            students=held,
        )
    if report is not None and untimed:
        report.notes.append(
            "no submission time, so no late penalty known, but not exported (not in the "
            f"roster): {', '.join(sorted(untimed))}"
        )


def _tell_excused(report: RosterReport, grades: ClassGrades, exported: set[str], cell: str) -> None:
    """Say which students are exported as excused, and which excused ids the roster does
    not hold (a typo given to ``manual excuse`` would otherwise go unseen)."""
    ungraded = set(grades.excused) - set(grades.grades)
    report.not_in_roster = [s for s in report.not_in_roster if s not in ungraded]
    written = f"as {cell!r}" if cell else "as an empty cell (no excused value in this LMS's file)"
    report.notes += [
        f"excused, written {written}: {s}" for s in sorted(exported & set(grades.excused))
    ]
    report.notes += [
        f"excused but not in the roster (check the id given to dlgrade manual excuse): {s}"
        for s in sorted(ungraded - exported)
    ]


def _tell_files_only(
    report: RosterReport, people: pd.DataFrame, recorded: Mapping[str, Any], assignment: str
) -> None:
    """Move out of ``no_submission`` the roster's students whose LMS files held no notebook
    (``graded.json``'s ``files_only``, matched by any of their ids): a PDF sent instead of
    the notebook is a case for the instructor, not an empty submission."""
    sent = recorded.get("files_only") if recorded.get("assignment") == assignment else None
    if not isinstance(sent, dict) or not sent:
        return
    first = people.drop_duplicates("student_id").set_index("student_id")
    alone = []
    for student in report.no_submission:
        ids = [first.loc[student, column] for column in IDENTITY_COLUMNS[1:]]
        files = next((sent[i] for i in (student, *ids) if i and i in sent), None)
        if files is None:
            alone.append(student)
        else:
            report.files_only.append(f"{student} ({files})")
    report.no_submission = alone


def export(lms: str, grades_dir: Path, roster_path: Path | None, out: Path, *,
           item: str | None = None, lms_id: str = "", missing: str = "keep",
           scale_to: float | None = None, lang: str = "fr",
           assignment: str | None = None, partial: bool = False,
           earlier_checks: bool = False) -> RosterReport:  # fmt: skip
    """Write the import file of ``lms`` from a graded folder, feedback texts in ``lang``.

    ``missing`` says what a roster entry without a submission gets (``MISSING``); grades
    are on the scale of ``scale_to``, else of the item's maximum read in the LMS file.
    ``assignment`` is needed when the gradebook holds several; by default, the one graded
    last. Unfinished hand grading is refused (``UnfinishedHandGrading``) unless ``partial``;
    grades given with earlier checks (``GradedWithEarlierChecks``) unless ``earlier_checks``.
    """
    if lms not in LMS or missing not in MISSING:
        raise ValueError(f"unknown LMS {lms!r} or missing-policy {missing!r}")
    grades = load_class(grades_dir, assignment)
    stale = _graded_with_earlier_checks(grades)
    if stale and not earlier_checks:
        raise GradedWithEarlierChecks(grades.assignment, stale)
    unfinished = grades.unfinished() if not partial else {}
    if lms == "gradescope":
        if unfinished:
            raise UnfinishedHandGrading(grades.assignment, unfinished)
        _refuse_untimed(grades, set(grades.grades))
        out.mkdir(parents=True, exist_ok=True)
        write_gradescope(grades, out, lang, scale_to)
        excused = sorted(set(grades.excused) & set(grades.grades))
        return RosterReport(notes=[
            f"excused, no results.json written (Gradescope's has no excused value): {s}"
            for s in excused
        ])  # fmt: skip
    if roster_path is None:
        raise RosterError(
            f"--roster is needed to export to {lms}: its own export of the grades, or a CSV "
            "with a student_id column"
        )
    roster = read_lms_file(roster_path)
    column, file_max = _item(lms, roster, item, lms_id)
    if scale_to is not None and file_max is not None and scale_to != file_max:
        raise RosterError(
            f"--scale-to {scale_to:g}, but {roster.path} says the item is out of "
            f"{file_max:g}; drop --scale-to or change the item's maximum in the LMS"
        )
    maximum = scale_to if scale_to is not None else file_max
    named_by_canvas = {r["student_id"] for r in grades.results if r.get("lms") == "canvas"}
    own_ids = named_by_canvas if roster.kind == "canvas" else set()
    matched, untouched, report = join(grades.owners(), roster.people, own_ids)
    report.missing = missing
    if grades.results and not matched and not report.ambiguous and not report.shared_rows:
        raise RosterError(
            f"{roster.path}: not one of the {len(report.not_in_roster)} graded students is in "
            f"it (graded: {', '.join(report.not_in_roster[:3])}…; the roster's: "
            f"{', '.join(roster.people['student_id'][:3])}…): give the roster of this course, "
            "or grade again with the LMS's ids (--id-pattern, docs/intake.md)"
        )
    _refuse_groups_graded_as_people(roster, grades, report)
    _tell_excused(report, grades, set(matched.values()), EXCUSED_CELL.get(lms, ""))
    _refuse_untimed(grades, set(matched.values()), report)
    if unfinished:  # after who is who: "grade 17 by hand" must not hide a lost group
        raise UnfinishedHandGrading(grades.assignment, unfinished)
    if roster.kind == "canvas":  # never listed as missing, whatever --missing-* says
        untouched |= _test_students(roster, matched, report)
    top = max((g.max_score for g in grades.grades.values()), default=0.0)
    if maximum is not None and maximum != top:
        report.notes.append(f"grades scaled from /{top:g} to /{maximum:g}")
    points = maximum if maximum is not None else top
    _tell_files_only(report, roster.people, graded_settings(grades_dir), grades.assignment)
    if missing != "keep":
        untouched |= _leave_what_the_lms_holds(roster, column, matched, untouched, report)
    if stale:
        report.notes.append(
            "exported as they are (--earlier-checks), graded before the checks changed: "
            + ", ".join(r["student_id"] for r in stale)
        )
    report.notes += _not_graded(grades, set(matched.values()), maximum)
    name = item or grades.assignment
    feedback = {}
    if lms == "moodle":  # Moodle stores these comments as HTML: the page's Markdown, rendered
        feedback = {s: _html.render(feedback_markdown(grades, s, lang, maximum)).strip()
                    for s in set(matched.values()) if s in grades.grades}  # fmt: skip
    chosen = Export(grades, matched, untouched, maximum, missing, feedback,
                    EXCUSED_CELL.get(lms, ""))  # fmt: skip
    if lms == "canvas":
        text = canvas_csv(roster, chosen, column or f"{name} ({lms_id})", _points(points))
        target = "canvas_import.csv"
    elif lms == "blackboard":
        column = column or f"{name} [Total Pts: {points:g} Score] |{lms_id}"
        text, target = blackboard_csv(roster, chosen, column), "blackboard_import.csv"
    elif roster.kind == "moodle-worksheet":
        if _column(roster.header, "feedback") is None:
            report.notes.append(
                "the worksheet has no feedback comments column: enable 'Feedback comments' in "
                "the assignment's settings and download it again to send the feedback"
            )
        text, target = moodle_worksheet(roster, chosen), "moodle_worksheet.csv"
    else:
        text, target = moodle_csv(roster, chosen, name), "moodle_import.csv"
    out.mkdir(parents=True, exist_ok=True)
    (out / target).write_text(text, encoding="utf-8")
    (out / f"{lms}_roster_report.txt").write_text("\n".join(report.lines()) + "\n", "utf-8")
    return report
