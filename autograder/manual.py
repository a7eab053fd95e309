"""Hand-graded questions: gather every answer to one question, then import the points given.

``export_question`` writes an HTML page (the rubric on top, then every student's answer)
and a CSV to fill in: student_id, points, comment. ``import_scores`` checks the whole CSV
before writing anything, so a bad file changes nothing, and it names the faulty row.
Ids are written with ``spreadsheet.safe`` and read back with ``unsafe``: ``'bob``, ``bob``
and ``=bob`` stay three students.
Manual points live in their own table: an automatic regrade never touches them.
``hand_grades`` reads them back, with the grader's comments, for the feedback pages.
Appeals go the same way: ``import_overrides`` gives an autograded question other points
(with a comment the student sees), ``excuse`` excuses a student from the assignment; both
are stored apart from the gradings, so grading again keeps them.
"""

from __future__ import annotations

import csv
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from jinja2 import Environment, PackageLoader, select_autoescape

from .assignment import Question, load_assignment
from .course import Project
from .errors import DlgradeError
from .execution.protocol import encodable
from .gradebook import Gradebook, GradebookError
from .notebook import read_notebook
from .spreadsheet import delimiter, safe, table_rows, table_text, unsafe
from .submissions import Submission, clean_student_id, collect, printable

END_MARKERS = ("<!-- END QUESTION -->", "<!-- BEGIN QUESTION -->")
_environment = Environment(
    loader=PackageLoader("autograder", "templates"), autoescape=select_autoescape(["html.j2"])
)


class ManualImportError(DlgradeError, ValueError):
    """A filled CSV that cannot be imported; nothing of it was written."""


@dataclass(frozen=True)
class Answer:
    student_id: str
    text: str
    name: str | None = None  # the LMS's roster, a Blackboard receipt, else its file names


def manual_question(assignment: str, name: str) -> Question:
    questions = {q.name: q for q in load_assignment(assignment).questions if q.manual}
    if name not in questions:
        raise ManualImportError(
            f"{assignment} has no hand-graded question {name!r} (one of {', '.join(questions)})"
        )
    return questions[name]


def answer_in(cells: list[dict], prompt: str) -> str:
    """The cells after the question's prompt, up to the next question, as one text."""
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else ""
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and first_line and first_line in cell["source"]:
            parts = []
            for following in cells[index + 1 :]:
                source = following["source"]
                if any(marker in source for marker in END_MARKERS):
                    head = source.split("<!--")[0].strip()
                    if head:
                        parts.append(head)
                    break
                parts.append(source)
            return "\n\n".join(p for p in parts if p.strip())
    return ""


def collect_answers(
    assignment: str,
    question: Question,
    inputs: list[Path],
    ids: GradedIds | None = None,
) -> list[Answer]:
    """Each student's answer; an unreadable notebook gives an empty answer, not a crash.

    ``ids`` (``graded_ids``) names each notebook as the grading did, whatever intake
    options (worksheet, groups, id pattern) it used; a notebook the grading did not grade
    (an older attempt, a duplicate it set aside) has no answer to give points to."""
    submissions, _ = collect(inputs)
    unanswered = template_answer(assignment, question)
    answers: dict[str, Answer] = {}
    for submission in submissions:
        student = ids.of(submission) if ids else submission.student_id
        if student is None or student in answers:
            continue
        try:
            text = student_answer(read_notebook(submission.read())["cells"], question, unanswered)
        except Exception:  # a broken notebook has no answer to read
            text = ""
        name = submission.student_name or blackboard_receipt_name(submission.origin)
        answers[student] = Answer(student, text, name)
    return sorted(answers.values(), key=lambda a: a.student_id)


_ATTEMPT = re.compile(r"^(?P<stem>[^/]*_attempt_\d{4}(?:-\d{2}){5})_[^/]+$")
_RECEIPT_NAME = re.compile(r"^Name:\s*(?P<name>.*?)\s*(?:\([^()]*\))?\s*$", re.MULTILINE)
RECEIPT_BYTES = 65536


def blackboard_receipt_name(origin: str) -> str | None:
    """The student's name from the receipt Blackboard writes beside each attempt's files
    (``Item_user_attempt_<date>.txt``: ``Name: Jean Dupont (jdupont)``): its file names
    carry only the username. None when there is no such receipt or it names nobody."""
    archive, _, member = origin.rpartition("!")
    folder, _, base = member.replace("\\", "/").rpartition("/")
    match = _ATTEMPT.match(base)
    if match is None:
        return None
    receipt = f"{folder}/{match['stem']}.txt" if folder else f"{match['stem']}.txt"
    try:
        if archive:
            with zipfile.ZipFile(archive) as bundle, bundle.open(receipt) as file:
                data = file.read(RECEIPT_BYTES)
        else:
            with open(receipt, "rb") as file:
                data = file.read(RECEIPT_BYTES)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None
    found = _RECEIPT_NAME.search(data.decode("utf-8", "replace"))
    return printable(found["name"], 100) if found and found["name"] else None


def roster_names(roster: Path, students: list[str]) -> dict[str, str]:
    """Student id → the name the LMS's own file gives them (Canvas's gradebook export,
    Blackboard's Grade Center, Moodle's worksheet, a roster CSV with names), matched as
    an export matches them: a file name's slug drops accents and makes homonyms alike."""
    from .lms_export import join, read_lms_file

    people = read_lms_file(roster).people
    matched, _, _ = join({s: s for s in students}, people)
    names = {}
    for row, student in matched.items():
        person = people.loc[row]
        full = " ".join(p for p in (person["first_name"], person["last_name"]) if p)
        if name := person["name"] or full:
            names[student] = printable(name, 100)
    return names


def student_answer(cells: list[dict], question: Question, unanswered: str) -> str:
    """A student's answer in their notebook's ``cells``; empty when the answer cell still
    holds ``unanswered``, what the student template put there (``template_answer``)."""
    text = answer_in(cells, question.prompt)
    return "" if text.strip() == unanswered else text


def template_answer(assignment: str, question: Question) -> str:
    """What the student template holds where the answer to ``question`` goes (its
    invitation to answer); empty without a template."""
    try:
        cells = read_notebook(Project.default().template(assignment).read_bytes())["cells"]
    except (OSError, ValueError):
        return ""
    return answer_in(cells, question.prompt).strip()


@dataclass(frozen=True)
class GradedIds:
    """The id a grading gave each notebook: known by its content, or, for a notebook that
    several students handed in identical, by where it was found as well."""

    by_content: dict[str, str]
    by_place: dict[tuple[str, str], str]

    def of(self, submission: Submission) -> str | None:
        return self.by_content.get(submission.sha256) or self.by_place.get(
            (submission.sha256, _place(submission.origin))
        )


def _place(origin: str) -> str:
    """Where a notebook was found, however the folder or archive was named on the command
    line: the archive's name and its member, else the file's folder and name."""
    archive, _, member = origin.replace("\\", "/").rpartition("!")
    if archive:
        return f"{PurePosixPath(archive).name}!{member}"
    return "/".join(PurePosixPath(member).parts[-2:])


def graded_ids(graded: Path, assignment: str) -> GradedIds:
    """The ids the grading of a graded folder gave its notebooks."""
    gradebook = Gradebook.of_graded(graded)
    try:
        latest = gradebook.latest(assignment)
    finally:
        gradebook.close()
    students: dict[str, set[str]] = {}
    places: dict[tuple[str, str], set[str]] = {}
    rows = zip(latest["submission_hash"], latest["origin"], latest["student_id"], strict=True)
    for digest, origin, student in rows:
        students.setdefault(digest, set()).add(student)
        places.setdefault((digest, _place(origin)), set()).add(student)
    return GradedIds(
        {digest: ids.pop() for digest, ids in students.items() if len(ids) == 1},
        {place: ids.pop() for place, ids in places.items() if len(ids) == 1},
    )


@dataclass(frozen=True)
class GivenPoints:
    """Points already given by hand to one student for one question."""

    points: float
    comment: str
    resubmitted: bool  # another notebook was graded for the student since they were given


def given_points(graded: Path, assignment: str, question: str) -> dict[str, GivenPoints]:
    """The points a graded folder holds for ``question``, by student, each told whether the
    student handed in another notebook after they were imported."""
    gradebook = Gradebook.of_graded(graded)
    try:
        manual, history = gradebook.manual(assignment), gradebook.submissions(assignment)
    finally:
        gradebook.close()
    given = {}
    for row in manual[manual["question"] == question].itertuples():
        notebooks = history[history["student_id"] == row.student_id]
        before = notebooks[notebooks["graded_at"] <= row.imported_at]["submission_hash"]
        resubmitted = not notebooks.empty and (
            before.empty or before.iloc[-1] != notebooks["submission_hash"].iloc[-1]
        )
        comment = row.comment if isinstance(row.comment, str) else ""
        given[row.student_id] = GivenPoints(float(row.points), comment, resubmitted)
    return given


def export_question(
    assignment: str,
    question_name: str,
    inputs: list[Path],
    out: Path,
    graded: Path | None = None,
    roster: Path | None = None,
) -> tuple[Path, Path]:
    """<question>.html to read and <question>.csv to fill, in ``out``; with ``graded``, the
    students are named as in that graded folder, so that the filled CSV imports there, and
    the points already given there are filled in, but for a student who handed in another
    notebook since: their old points are shown, to be given again or changed. With
    ``roster`` (the LMS's own file), each student is named as the LMS names them."""
    question = manual_question(assignment, question_name)
    ids = graded_ids(graded, assignment) if graded is not None else None
    given = given_points(graded, assignment, question.name) if graded is not None else {}
    answers = collect_answers(assignment, question, inputs, ids)
    if roster is not None:
        names = roster_names(roster, [a.student_id for a in answers])
        answers = [replace(a, name=names.get(a.student_id, a.name)) for a in answers]
    out.mkdir(parents=True, exist_ok=True)
    html = out / f"{assignment}-{question.name}.html"
    html.write_text(
        _environment.get_template("manual.html.j2").render(
            assignment=assignment, question=question, answers=answers, given=given,
            lang="fr", title=f"{assignment} — {question.name}",
        ),
        encoding="utf-8",
    )  # fmt: skip
    table = out / f"{assignment}-{question.name}.csv"
    with table.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", "name", "points", "max_points", "comment", "note"])
        for answer in answers:
            known = given.get(answer.student_id)
            points, comment, note = "", "", ""
            if known is not None:
                comment = safe(known.comment)
                if known.resubmitted:
                    note = f"new notebook since your {known.points:g} points: read it again"
                else:
                    points = f"{known.points:g}"
            if not answer.text.strip() and not note:
                note = "no answer in the notebook"
            writer.writerow(
                [safe(answer.student_id), safe(answer.name or ""), points,
                 f"{question.points:g}", comment, note]
            )  # fmt: skip
    return html, table


def _student(cell: str, known: set[str]) -> str:
    """The student id a ``student_id`` cell names: exactly what ``export_question`` wrote
    (``spreadsheet.safe``, undone by ``unsafe``), or the same with outer spaces trimmed."""
    student = unsafe(cell)
    return student if student in known else unsafe(cell.strip())


def import_scores(assignment: str, question_name: str, filled: Path, gradebook: Gradebook) -> int:
    """Validate every row, then store them all in one transaction; returns the rows stored."""
    question = manual_question(assignment, question_name)
    known, members = _graded(gradebook, assignment)
    rows, seen = [], set()
    for where, row in _filled_rows(filled, ("student_id", "points")):
        student = _graded_student(row, known, members, where, assignment)
        if student in seen:
            raise ManualImportError(f"{where}: student {student!r} appears twice")
        seen.add(student)
        points = _points(row, question, where)
        if points is not None:  # else not graded yet
            rows.append((student, points, _comment(row)))
    gradebook.record_manual(assignment, question.name, question.points, rows)
    return len(rows)


def import_overrides(assignment: str, filled: Path, gradebook: Gradebook) -> tuple[int, int]:
    """Points of autograded questions given on appeal (``student_id,question,points,comment``;
    an empty ``points`` cell removes the student's override of that question). Every row
    is checked before one transaction stores them all; returns (set, removed)."""
    questions = {q.name: q for q in load_assignment(assignment).questions}
    known, members = _graded(gradebook, assignment)
    rows: list[tuple[str, str, float | None, str]] = []
    for where, row in _filled_rows(filled, ("student_id", "question", "points")):
        appeal = _appeal(row, questions, known, members, where, assignment)
        if any(r[:2] == appeal[:2] for r in rows):
            raise ManualImportError(f"{where}: student {appeal[0]!r} and {appeal[1]} appear twice")
        rows.append(appeal)
    gradebook.record_overrides(assignment, rows)
    removed = sum(points is None for _, _, points, _ in rows)
    return len(rows) - removed, removed


def give_on_appeal(
    assignment: str, student: str, question: str, points: str, comment: str, gradebook: Gradebook
) -> float | None:
    """One student's points on appeal for one autograded question (the web's form), checked
    as a row of ``import_overrides`` is; empty ``points`` remove them. The points kept."""
    questions = {q.name: q for q in load_assignment(assignment).questions}
    known, members = _graded(gradebook, assignment)
    row = {"student_id": student, "question": question, "points": points, "comment": comment}
    appeal = _appeal(row, questions, known, members, f"{student}, {question}", assignment)
    gradebook.record_overrides(assignment, [appeal])
    return appeal[2]


def _appeal(
    row: dict[str, str], questions: dict[str, Question], known: set[str],
    members: dict[str, tuple[str, ...]], where: str, assignment: str,
) -> tuple[str, str, float | None, str]:  # fmt: skip
    """(student, question, points, comment) of one appeal; refused, naming ``where``, for
    a student not graded, a question that is not autograded, or points out of range."""
    student = _graded_student(row, known, members, where, assignment)
    name = (row.get("question") or "").strip()
    question = questions.get(name)
    if question is None:
        autograded = ", ".join(n for n, q in questions.items() if not q.manual)
        raise ManualImportError(
            f"{where}: unknown question {name!r} for {assignment} (one of {autograded})"
        )
    if question.manual:
        raise ManualImportError(
            f"{where}: {name} is graded by hand; give its points with dlgrade manual import"
        )
    return student, name, _points(row, question, where), _comment(row)


class ExcuseError(DlgradeError, ValueError):
    """A student who cannot be excused (or whose excusal cannot be undone) as asked."""


def excuse(
    assignment: str, student: str, gradebook: Gradebook, comment: str = "", *, undo: bool = False
) -> str:
    """Excuse ``student`` from ``assignment`` (their grade is "excused": no number, not 0),
    or with ``undo`` no longer; the line that says what was done. A student without a
    graded notebook may be excused: the exports excuse their roster row."""
    load_assignment(assignment)  # a wrong name: one line, before anything is written
    known, members = _graded(gradebook, assignment)
    group = _group_of(student, members)
    if student not in known and group is not None:
        raise ExcuseError(
            f"{student!r} is graded as {group} (a group's submission): excuse {group}, "
            "whose grade reaches every member"
        )
    if student not in known and clean_student_id(student) != student:
        raise ExcuseError(
            f"{student!r} is not a student id: no path separator, control character or "
            "outer space, and not empty (the ids are those of grades.csv or the roster)"
        )
    if undo and student not in gradebook.excused(assignment):
        raise ExcuseError(f"{student!r} is not excused from {assignment}: nothing to undo")
    gradebook.set_excused(assignment, student, None if undo else encodable(comment))
    if undo:
        return f"{student} is no longer excused from {assignment}"
    if student in known:
        return f"{student} is excused from {assignment}"
    return (
        f"{student} is excused from {assignment}; no notebook of theirs is graded here: the "
        "exports excuse the roster row of that id"
    )


def _graded(gradebook: Gradebook, assignment: str) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """The students graded for ``assignment``, and whom each grade reaches; a gradebook
    that never graded it (another assignment's folder) is refused."""
    known = set(gradebook.latest(assignment)["student_id"])
    if not known:
        raise GradebookError(f"{gradebook.url}: no grading of {assignment} in this gradebook")
    return known, gradebook.members(assignment)


def _group_of(student: str, members: dict[str, tuple[str, ...]]) -> str | None:
    """The group submission whose grade reaches ``student``, if any."""
    return next((s for s, people in members.items() if student in people), None)


def _filled_rows(filled: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """Each row of a CSV filled by the instructor, with where it is (``file: row N``); a
    header without ``columns``, or a row with more cells than the header, is refused."""
    try:
        text = table_text(filled.read_bytes())
    except OSError as error:
        raise ManualImportError(f"{filled}: unreadable ({error})") from None
    try:
        header, *rows = table_rows(text) or [[]]
    except csv.Error as error:
        raise ManualImportError(f"{filled}: not a readable CSV file ({error})") from None
    if not set(columns) <= set(header):
        named = " and ".join([", ".join(repr(c) for c in columns[:-1]), repr(columns[-1])])
        raise ManualImportError(f"{filled}: the header needs {named} columns")
    for line, cells in enumerate(rows, start=2):
        if not cells:
            continue
        if len(cells) > len(header):
            raise ManualImportError(
                f"{filled}: row {line}: more cells than the header has columns (a "
                f"{delimiter(text)!r} in a comment? put the comment in double quotes)"
            )
        yield f"{filled}: row {line}", dict(zip(header, cells, strict=False))


def _graded_student(
    row: dict[str, str], known: set[str], members: dict[str, tuple[str, ...]], where: str,
    assignment: str,
) -> str:  # fmt: skip
    """The graded student a row's ``student_id`` names; a group's member or an id that
    was not graded is refused, naming the row."""
    student = _student(row.get("student_id") or "", known)
    group = _group_of(student, members)
    if student not in known and group is not None:
        raise ManualImportError(
            f"{where}: {student!r} is graded as {group} (a group's submission): give the "
            f"points on {group}'s row, which reaches every member"
        )
    if student not in known:
        raise ManualImportError(
            f"{where}: unknown student {student!r} for {assignment} (the ids are those "
            "of grades.csv, as `manual export --graded` writes them)"
        )
    return student


def _points(row: dict[str, str], question: Question, where: str) -> float | None:
    """A row's ``points`` for ``question``, within 0 and its maximum; None when empty."""
    raw = (row.get("points") or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        points = float(raw)
    except ValueError:
        raise ManualImportError(
            f"{where}: points {raw!r} is not a number", "points_not_number", value=raw
        ) from None
    if not math.isfinite(points) or not 0 <= points <= question.points:
        raise ManualImportError(
            f"{where}: points {raw} outside 0 … {question.points:g} for {question.name}",
            "points_range", value=raw, max=f"{question.points:g}",
        )  # fmt: skip
    return points


def _comment(row: dict[str, str]) -> str:
    return unsafe((row.get("comment") or "").strip())


def hand_grades(
    gradebook: Gradebook, assignment: str
) -> tuple[dict[str, dict[str, tuple[float, float, str]]], dict[str, float]]:
    """The points and comments given by hand: ``{student: {question: (points, max_points,
    comment)}}``, and the questions graded by hand for anyone in the class with their
    maximum (a student without points there counts 0 of them, as in grades.csv)."""
    grades: dict[str, dict[str, tuple[float, float, str]]] = {}
    maxima: dict[str, float] = {}
    for row in gradebook.manual(assignment).itertuples():
        comment = row.comment if isinstance(row.comment, str) else ""
        grades.setdefault(row.student_id, {})[row.question] = (
            float(row.points),
            float(row.max_points),
            comment,
        )
        maxima[row.question] = float(row.max_points)
    return grades, maxima
