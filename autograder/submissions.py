"""Where submissions come from: notebooks, folders, and the LMSs' bulk-download zips.

Nothing here raises on a hostile input: an unreadable file, archive or member becomes a
``Problem`` naming it, and the run goes on. Archives are read member by member in memory,
never extracted: no path in a zip can write anywhere, and a member named outside the
archive is refused. Sizes, notebook counts and the zip's own directory are capped before reading, and the bytes actually read are capped too (a
zip's declared sizes can lie). Every origin and message is printable text (control
characters and undecodable bytes escaped, length bounded). Only the instructor's own
option files raise (``Intake.read``, or ``collect`` when the class contradicts them), with
one line naming the file and the row.

Who the student is, strongest first (``NAMED_BY``; the instructor's guide is
``docs/intake.md``):

1. ``--id-pattern``: a regular expression with a group ``student``, searched in the path
   relative to the folder or archive given;
2. the LMS's naming. A Moodle folder ``Name_1234_assignsubmission_file/`` names
   everything inside it: the outermost such folder decides. A Gradescope export folder
   ``submission_<id>/`` is named by its ``submission_metadata.yml``, an nbgrader folder
   ``submitted/<student>/<assignment>/`` by its student. Else the file name: a
   flattened Moodle name (``Name_1234_assignsubmission_file_tp.ipynb``) or a Canvas name
   (``name_12345_67890_tp.ipynb``, ``name_LATE_…``, ``anon_Ab3xY_67890_…``), the leftmost
   id winning (the LMS writes its own before the student's file name), unless that id's
   other files in the download carry another name part (a name forged with digits);
3. the folder: notebooks of one folder or archive that share a file name (each student
   kept the same name) are named by their folder at the level, among those all of them
   have, that tells most of them apart (``alice/tp.ipynb``, ``L3/alice/rendu/tp.ipynb``: ``alice``),
   a level where one name sits in several folders (``rendu``) being inside theirs;
4. the file name (its stem);
5. ``metadata.dlgrade.student_id`` of the notebook, read **only** when the file name is the
   assignment's own template name (``mlp_softmax.ipynb``, ``mlp_softmax (1).ipynb``,
   ``mlp_softmax-Copy1.ipynb``), which names nobody. Anywhere else the claim is ignored;
6. a group's name (``Intake``, below).

Then what the instructor passes maps ids (``Intake``): a Moodle grading worksheet turns
participant ids into people (and Moodle group folders into their members), a groups CSV
turns a member's or a group's submission into the group's, whose grade reaches every
member (``Submission.members``). A submission that is a group's by its name only (6.,
``"group name"``) comes after a member's own: a name is what a student may choose. A
group named like a student (a member of another group, or the id of a notebook of no
group while the group has its members' own) is refused: which notebook is whose, only
the instructor knows.

Every id goes through ``clean_student_id``. When several submissions name the same
student (or group) in one ``collect``, each is reported and one is kept
(``_preference``): the strongest naming, then a file named exactly ``<id>.ipynb``
over one that becomes it once cleaned, then the latest submission time, then the
LMS's own order (Canvas attachment id, Blackboard attempt date, the zip entry's date
Moodle wrote), then the first by origin.

``submitted_at`` is only ever what the LMS or the instructor says (``time_source``):
Canvas's late marker (a flag, ``late_flag``, no time), Gradescope's ``:created_at:``,
Moodle's worksheet, a ``--times`` CSV, or file and zip-entry dates with
``--times-from-files`` only (a download or a copy dates them, not the student).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import yaml

from .errors import DlgradeError
from .late import PLAUSIBLE_YEARS, plausible
from .moodle_worksheet import Worksheet, read_worksheet
from .spreadsheet import RepeatedColumn, table_rows, table_text

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_NOTEBOOKS = 20_000
"""Notebooks read from one archive; other members cost little and are not counted, so a
student's folder of junk files cannot push the classmates after it out of the archive."""
MAX_DIRECTORY_BYTES = 16 * 1024 * 1024  # a zip's central directory, read before any member
MAX_METADATA_BYTES = 16 * 1024 * 1024  # Gradescope's submission_metadata.yml
MAX_ID_CHARS = 64
MAX_ORIGIN_CHARS = 300
_UTF8_NAME_FLAG = 0x800  # a zip member's general purpose bit 11: its name is UTF-8

# Canvas: "smithjohn_12345_67890_tp1.ipynb": the sortable name without its non-word
# characters (underscores kept), "LATE" (older Canvas: "late") when late, the user id, the
# attachment id, then the student's own file name.
CANVAS = re.compile(
    r"^(?P<name>[^/]+?)_(?:(?P<late>(?i:late))_)?(?P<id>\d+)_(?P<attachment>\d+)_(?P<file>.+)$",
    re.ASCII,
)
# Canvas with anonymous grading: no name, "anon_" and the 5 base58 characters of the
# submission's anonymous id: "anon_Ab3xY_67890_tp1.ipynb", "LATE_anon_Ab3xY_67890_tp1.ipynb"
CANVAS_ANONYMOUS = re.compile(
    r"^(?:(?P<late>(?i:late))_)?(?P<id>anon_[1-9A-HJ-NP-Za-km-z]{5})_(?P<attachment>\d+)_(?P<file>.+)$"
)
# Moodle folder "Jean Dupont_4321_assignsubmission_file" (Moodle ≥ 4.1; earlier versions
# end it with "_"), the id being the last one; a group assignment writes the group's name
# and id instead. A flattened file "Jean Dupont_4321_assignsubmission_file_tp1.ipynb": the
# first one.
MOODLE_FOLDER = re.compile(
    r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$", re.ASCII
)
MOODLE_FILE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_.", re.ASCII
)
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$", re.ASCII)
# Blackboard's "Item_username_attempt_2026-12-02-09-00-00_file": the attempt's date orders
# two attempts of one student (named by --id-pattern)
BLACKBOARD_ATTEMPT = re.compile(r"_attempt_(\d{4}(?:-\d\d){5})(?:_|\.|$)", re.ASCII)
BLACKBOARD_NAME = re.compile(r"^(?P<head>.+)_attempt_\d{4}(?:-\d\d){5}_.", re.ASCII)
GRADESCOPE_METADATA = "submission_metadata.yml"
NBGRADER_FOLDER = "submitted"  # nbgrader's submitted/<student>/<assignment>/
# How strongly a submission is tied to its student: the strongest wins a duplicate
NAMED_BY = ("pattern", "lms", "ambiguous lms", "folder", "file name", "metadata", "group name")
NAMINGS = {  # NAMED_BY in words
    "pattern": "--id-pattern", "lms": "the LMS", "ambiguous lms": "an LMS name read two ways",
    "folder": "its folder", "file name": "its file name", "metadata": "its metadata",
    "group name": "a group's name",
}  # fmt: skip
# Where a submission time may come from (Submission.time_source); nothing else gives one
TIME_SOURCES = ("canvas-flag", "gradescope", "moodle-worksheet", "csv", "file-dates", "server")


class IntakeError(DlgradeError):
    """An option file or value (--id-pattern, --times, --groups...) that cannot be used."""


@dataclass(frozen=True)
class Submission:
    """One notebook to grade, with who submitted it and where it came from."""

    student_id: str
    origin: str
    content: bytes = field(repr=False)
    student_name: str | None = None
    submitted_at: datetime | None = None  # only from the LMS or the instructor (time_source)
    oversize: int | None = None  # bytes of a notebook over MAX_NOTEBOOK_BYTES: graded invalid
    named_by: str = "file name"  # one of NAMED_BY
    lms_order: int = 0  # Canvas attachment id, Blackboard attempt date: larger is newer
    loader: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)
    digest: str = ""
    time_source: str | None = None  # one of TIME_SOURCES, or None when there is no time
    late_flag: bool = False  # the LMS marked it late (Canvas), whatever the time
    members: tuple[str, ...] = ()  # whom the grade reaches; collect gives (student_id,) alone
    lms: str | None = None  # "canvas", "moodle", "gradescope" or "nbgrader" when it named it
    file_time: datetime | None = None  # the file's or zip entry's date: not a submission time
    file_name: str = ""  # the file's name, as the LMS or the folder gives it

    @property
    def sha256(self) -> str:
        return self.digest or hashlib.sha256(self.content).hexdigest()

    def read(self) -> bytes:
        """The notebook's bytes. A collected class holds none in memory: each is read
        again when graded, and must still be what was hashed when it was found."""
        if self.loader is None:
            return self.content
        content = self.loader()
        if hashlib.sha256(content).hexdigest() != self.digest:
            raise DlgradeError(f"{self.origin}: changed on disk since the class was collected")
        return content

    def loaded(self) -> Submission:
        """The same submission carrying its bytes (to send it to another machine)."""
        return replace(self, content=self.read(), loader=None)


def _lazy(submission: Submission, loader: Callable[[], bytes]) -> Submission:
    """``submission`` without its bytes in memory: hashed now, read again when graded."""
    if submission.oversize:
        return submission
    digest = hashlib.sha256(submission.content).hexdigest()
    return replace(submission, content=b"", loader=loader, digest=digest)


@dataclass(frozen=True)
class Problem:
    """An input that could not become a submission, or needs a look, and why."""

    origin: str
    message: str
    files_only: tuple[str, str] | None = None
    """(student, the files they sent) when the LMS shows a student whose files hold no
    notebook: the export tells them apart from the students who sent nothing."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", printable(self.origin))
        object.__setattr__(self, "message", printable(self.message, 1000))


@dataclass(frozen=True, eq=False)
class Groups(Mapping[str, tuple[str, ...]]):
    """``--groups``: each group's members, with the file and the rows that list them, so
    that a class contradicting the file is refused naming its row."""

    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = None
    rows: Mapping[str, int] = field(default_factory=dict)  # group -> the first row naming it
    member_rows: Mapping[str, int] = field(default_factory=dict)  # member -> their row

    def __getitem__(self, group: str) -> tuple[str, ...]:
        return self.members[group]

    def __iter__(self) -> Iterator[str]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class Intake:
    """What the instructor tells about a class that its files cannot: how to read ids,
    who works together, and when each submission was made."""

    id_pattern: re.Pattern[str] | None = None
    times: Mapping[str, datetime] = field(default_factory=dict)  # --times: id -> time
    times_file: Path | None = None  # where ``times`` was read
    times_from_files: bool = False  # file and zip-entry dates vouched for by the instructor
    worksheet: Worksheet = field(default_factory=Worksheet)  # participant id -> row
    groups: Groups = field(default_factory=Groups)  # --groups: group -> members
    identity: Mapping[str, str] = field(default_factory=dict)  # IDENTITY_OPTIONS given

    @classmethod
    def read(
        cls,
        *,
        id_pattern: str | None = None,
        times: Path | None = None,
        times_from_files: bool = False,
        moodle_worksheet: Path | None = None,
        groups: Path | None = None,
    ) -> Intake:
        """The intake the ``grade`` options describe; a bad option is one IntakeError (or
        WorksheetError) line naming it."""
        given = {"id_pattern": id_pattern, "moodle_worksheet": moodle_worksheet, "groups": groups}
        return cls(
            id_pattern=compile_id_pattern(id_pattern) if id_pattern is not None else None,
            times=read_times(times) if times else {},
            times_file=times,
            times_from_files=times_from_files,
            worksheet=read_worksheet(moodle_worksheet) if moodle_worksheet else Worksheet(),
            groups=read_groups(groups) if groups else Groups(),
            identity={
                option: value if option == "id_pattern" else str(Path(value).absolute())
                for option, value in given.items()
                if value is not None
            },
        )

    def with_earlier(self, recorded: Mapping[str, str]) -> tuple[Intake, list[str]]:
        """This intake completed by the options that say who is who (``IDENTITY_OPTIONS``)
        given to an earlier run of the same folder and not to this one, read again: a
        forgotten ``--groups`` or ``--moodle-worksheet`` would give the same notebooks
        other ids (a group split, a class counted twice). Also the lines saying so."""
        intake, notes = self, []
        for option, (flag, attribute) in IDENTITY_OPTIONS.items():
            value = recorded.get(option)
            if option in self.identity or not isinstance(value, str):
                continue
            try:
                earlier = Intake.read(**{option: value if option == "id_pattern" else Path(value)})
            except DlgradeError as error:
                raise IntakeError(
                    f"{flag} {value} was given to an earlier run of this folder and cannot be "
                    f"read now ({error}): give {flag} again, or grade into a new folder"
                ) from None
            identity = {**intake.identity, option: value}
            intake = replace(intake, **{attribute: getattr(earlier, attribute)}, identity=identity)
            notes.append(f"{flag} not given: {value}, given to an earlier run, is used again")
        return intake, notes


IDENTITY_OPTIONS = {
    "id_pattern": ("--id-pattern", "id_pattern"),
    "groups": ("--groups", "groups"),
    "moodle_worksheet": ("--moodle-worksheet", "worksheet"),
}
"""The intake options that decide students' ids, a folder keeps from run to run: by
``Intake.read``'s keyword, their flag and the field they fill."""


def compile_id_pattern(text: str) -> re.Pattern[str]:
    """``--id-pattern``: a regular expression with a named group ``student``."""
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise IntakeError(f"--id-pattern {text!r}: not a regular expression ({error})") from None
    if "student" not in pattern.groupindex:
        raise IntakeError(
            f"--id-pattern {text!r}: needs a named group for the id, e.g. "
            r"'^(?P<student>[^/]+)/' (a folder per student)"
        )
    return pattern


def read_times(path: Path) -> dict[str, datetime]:
    """``--times``: a CSV ``student_id,submitted_at`` (ISO 8601, with or without offset)."""
    times: dict[str, datetime] = {}
    rows: dict[str, int] = {}
    for line, row in _csv_rows(path, ("student_id", "submitted_at")):
        student = _csv_id(path, line, row["student_id"])
        try:
            moment = datetime.fromisoformat(row["submitted_at"].strip())
        except ValueError:
            raise IntakeError(
                f"{path}: row {line}: {row['submitted_at'][:40]!r} is not an ISO date and time "
                "(e.g. 2026-12-01T23:59 or 2026-12-01T23:59:00+01:00)",
                "times_csv_date",
                file=path,
                line=line,
                value=row["submitted_at"][:40],
            ) from None
        if not plausible(moment):
            raise IntakeError(
                f"{path}: row {line}: {row['submitted_at'][:40]!r} is not a plausible "
                f"submission time (a year in {PLAUSIBLE_YEARS.start} … {PLAUSIBLE_YEARS.stop - 1})",
                "times_csv_date",
                file=path,
                line=line,
                value=row["submitted_at"][:40],
            )
        if times.setdefault(student, moment) != moment:
            raise IntakeError(
                f"{path}: row {line}: student {student} already has another time (row "
                f"{rows[student]}); keep one row per student",
                "times_csv_twice",
                file=path,
                line=line,
                student=student,
                first=rows[student],
            )
        rows.setdefault(student, line)
    return times


def read_groups(path: Path) -> Groups:
    """``--groups``: a CSV ``group,student_id``, one row per member. A student in two
    groups is refused, and so is a group named like a student of another group (names
    compared as ``_key`` does): a notebook named after that group would be the student's."""
    groups: dict[str, list[str]] = {}
    group_of: dict[str, str] = {}
    rows: dict[str, int] = {}
    member_rows: dict[str, int] = {}
    for line, row in _csv_rows(path, ("group", "student_id")):
        group = row["group"].strip()
        student = _csv_id(path, line, row["student_id"])
        if not group:
            raise IntakeError(f"{path}: row {line}: empty group name")
        if group_of.setdefault(student, group) != group:
            raise IntakeError(
                f"{path}: row {line}: student {student} is in two groups "
                f"({group_of[student]} and {group})"
            )
        rows.setdefault(group, line)
        member_rows.setdefault(student, line)
        if student not in groups.setdefault(group, []):
            groups[group].append(student)
    by_key: dict[str, list[str]] = {}  # students by how a group's name would match them
    for student in group_of:
        if key := _key(student):  # an id of punctuation only matches no name
            by_key.setdefault(key, []).append(student)
    for group, line in rows.items():
        other = next((s for s in by_key.get(_key(group), []) if group_of[s] != group), None)
        if other is not None:
            raise IntakeError(
                f"{path}: row {line}: group {group} is named like student {other}, a member "
                f"of group {group_of[other]}: rename the group"
            )
    members = {group: tuple(people) for group, people in groups.items()}
    return Groups(members, path, rows, member_rows)


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of an instructor's CSV (``,`` or ``;``, UTF-8 with or without BOM), with
    their line numbers; headers are matched without case or outer spaces."""
    try:
        text = table_text(path.read_bytes())
    except OSError as error:
        raise IntakeError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        rows = table_rows(text)
    except RepeatedColumn as error:
        raise IntakeError(
            f"{path}: {error}", "csv_column_twice", file=path, column=error.column
        ) from None
    except csv.Error as error:
        raise IntakeError(
            f"{path}: not a readable CSV file ({error})", "csv_unreadable", file=path
        ) from None
    header = [cell.strip().lower() for cell in (rows[0] if rows else [])]
    if not set(columns) <= set(header):
        raise IntakeError(
            f"{path}: needs the columns {', '.join(columns)} (found: {', '.join(header) or 'none'})",
            "csv_columns",
            file=path,
            columns=", ".join(columns),
            found=", ".join(header) or "—",
        )
    index = {name: header.index(name) for name in columns}
    for line, cells in enumerate(rows[1:], start=2):
        if any(cell.strip() for cell in cells):
            yield line, {name: cells[i] if i < len(cells) else "" for name, i in index.items()}


def _csv_id(path: Path, line: int, raw: str) -> str:
    student = clean_student_id(raw)
    if student is None:
        raise IntakeError(
            f"{path}: row {line}: empty student_id", "csv_row_no_id", file=path, line=line
        )
    return student


def printable(text: str, limit: int = MAX_ORIGIN_CHARS) -> str:
    """``text`` safe to show or store: control characters, invisible formatting characters
    and undecodable bytes (lone surrogates) written as escapes; at most ``limit`` chars."""
    text = "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        for c in text
    )
    if len(text) > limit:
        half = (limit - 1) // 2
        text = f"{text[:half]}…{text[-half:]}"
    return text


def clean_student_id(raw: object) -> str | None:
    """``raw`` made a usable student id, or None when nothing usable is left.

    NFC-normalised; undecodable bytes become ``%XX``; control, invisible-formatting and
    line-separator characters and path separators become ``_``; outer spaces are trimmed.
    Empty ids and ids made only of dots (``.``, ``..``) are refused. Ids over
    ``MAX_ID_CHARS`` are cut and end with ``~`` and a hash of the whole id, so two long ids
    stay distinct. A leading ``'``, ``=``, ``+``, ``-`` or ``@`` is kept: every CSV cell
    goes through ``spreadsheet.safe``, and file names through ``student_file_name``.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    text = unicodedata.normalize("NFC", str(raw))
    text = "".join(_id_char(c) for c in text.strip()).strip()
    if not text or set(text) == {"."}:
        return None
    if len(text) > MAX_ID_CHARS:
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        text = f"{text[: MAX_ID_CHARS - 17]}~{digest}"
    return text


def _id_char(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # a byte that was not UTF-8 (surrogateescape)
        return f"%{ord(char) - 0xDC00:02X}"
    if char in "/\\" or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return "_"
    return char


_FILE_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def student_file_name(student_id: str) -> str:
    """A file or folder name for ``student_id`` that no other id can share.

    Ids made of lowercase ASCII letters, digits, ``.``, ``_`` and ``-`` (not starting with
    a dot or a dash) are used as they are. Any other id gets its safe characters, ``~``
    (never in a name used as is) and 16 hex digits of its SHA-256: no ``/``, no ``..``, no
    clash on case-insensitive file systems, no clash with another id.
    """
    if _FILE_SAFE.match(student_id):
        return student_id
    stem = re.sub(r"[^a-z0-9._-]", "_", student_id.lower())[:40].lstrip(".-")
    digest = hashlib.sha256(student_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{stem}~{digest}"


@cache
def template_name() -> re.Pattern[str]:
    """The template's own name, as Jupyter or a browser saves copies of it
    (``mlp_softmax (1)``, ``mlp_softmax-Copy1``): it names nobody. Read from the course
    when first needed: intake itself knows no assignment."""
    from .course import assignment_names

    names = "|".join(map(re.escape, assignment_names())) or "(?!)"
    return re.compile(rf"^(?:{names})(?:-Copy\d*| ?\(\d+\))?$", re.IGNORECASE)


GROUP_PREFIX = "group:"


def group_id(name: str) -> str:
    """The student id of a group's submission: ``group:`` and the group's name (an id
    that names no student)."""
    return clean_student_id(f"{GROUP_PREFIX}{name}") or GROUP_PREFIX


@dataclass(frozen=True)
class _Found:
    """A notebook found, with the paths identification reads: ``name`` from the folder
    holding the argument (what ``identify`` reads), ``subject`` from inside the argument
    or archive (what ``--id-pattern`` reads), and ``scope``, the folder or archive whose
    notebooks are compared for shared file names."""

    name: str
    subject: str
    scope: str
    submission: Submission


@dataclass(frozen=True)
class _Metadata:
    """A Gradescope ``submission_metadata.yml`` met on the way."""

    origin: str
    content: bytes


@dataclass(frozen=True)
class _Other:
    """A file that is not a notebook (``tp.py``, a PDF...): if the LMS's naming or
    ``--id-pattern`` says whose it is and that student has no notebook at all, the
    instructor is told."""

    student: Submission  # who its path names, without content
    subject: str  # its path as ``--id-pattern`` reads it

    @property
    def file(self) -> str:
        return PurePosixPath(self.subject).name


@dataclass(frozen=True)
class _Gradescope:
    """One ``submission_<id>`` of Gradescope's metadata."""

    people: tuple[tuple[str, str | None], ...]  # (id, name) of each submitter
    created_at: datetime | None
    origin: str  # the metadata file


def collect(
    paths: Iterable[str | Path], intake: Intake | None = None, *, to_grade: bool = False
) -> tuple[list[Submission], list[Problem]]:
    """Every notebook found in ``paths`` (sorted by origin), and the problems met.

    Several notebooks for one student are all reported, each naming the others; the one
    kept follows ``_preference``. ``to_grade``: the ids will be grades' ids, so a download
    whose naming only an option reads (Blackboard's, without ``--id-pattern``) is refused.
    """
    intake = intake or Intake()
    found: list[Submission] = []
    problems: list[Problem] = []
    others: list[_Other] = []
    for path in map(Path, paths):
        items: list[_Found] = []
        gradescope: dict[str, _Gradescope] = {}
        metadata: list[str] = []
        for item in _walk(path, path.name, "", str(path)):
            if isinstance(item, Problem):
                problems.append(item)
            elif isinstance(item, _Other):
                others.append(item)
            elif isinstance(item, _Metadata) and _in_a_submission(item.origin, path):
                problems.append(
                    Problem(
                        item.origin,
                        "Gradescope metadata inside a student's "
                        "submission folder: ignored (only the export's is read)",
                    )
                )
            elif isinstance(item, _Metadata):
                unread = _read_gradescope(item, gradescope)
                problems += unread
                metadata += [] if unread else [item.origin]
            else:
                items.append(item)
        if to_grade and intake.id_pattern is None:
            _refuse_blackboard_without_pattern(path, items)
        found += _canvas_readings_checked(_named(items, gradescope, intake, problems), problems)
        problems += _gradescope_without_notebook(items, gradescope)
        problems += _gradescope_without_submitter(items, gradescope, metadata)
    found = [_identified(s, intake, problems) for s in found]
    _refuse_groups_named_like_students(found, intake.groups)
    problems += _members_spelled_otherwise(found, intake.groups)
    found = [_mapped(s, intake, problems) for s in found]
    by_student: dict[str, list[Submission]] = {}
    for submission in sorted(found, key=lambda s: s.origin):
        by_student.setdefault(submission.student_id, []).append(submission)
    kept = []
    for student, group in by_student.items():
        group.sort(key=_preference)
        if len(group) > 1 and group[0].named_by == "metadata":
            problems.extend(_claims(student, group))  # a notebook's word against another's
            continue
        kept.append(group[0])
        if len(group) > 1:
            problems.extend(_duplicates(student, group))
    problems += _without_notebook(others, set(by_student), intake)
    problems += _times_without_notebook(found, intake)
    problems += filter(None, map(_look_alike, kept))
    return sorted(kept, key=lambda s: s.origin), problems


_CANVAS_TAIL = re.compile(
    r"_(?:(?P<late>(?i:late))_)?(?P<id>\d+)_(?P<attachment>\d+)_(?P<file>.+)$", re.ASCII
)


def _refuse_blackboard_without_pattern(path: Path, items: list[_Found]) -> None:
    """A Blackboard download names nobody by the usual rules: its file names are
    ``Item_username_attempt_date_file``, and only the item's name, which the instructor
    knows, tells where a username (which may hold ``_``) begins. Graded as they are, every
    attempt would be a student of its own: refused, with the pattern to give."""
    names = [PurePosixPath(item.subject).name for item in items]
    heads = [BLACKBOARD_NAME.match(n) for n in names if n]
    if not heads or not all(heads) or any(i.submission.named_by == "lms" for i in items):
        return
    common = os.path.commonprefix([h["head"] for h in heads if h])  # noqa: RUF071 (text, not paths)
    item = common[: common.rfind("_")] if "_" in common else "ITEM"
    literal = re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", item)  # spaces kept readable
    raise IntakeError(
        f"{printable(str(path))}: a Blackboard download (files named "
        f"Item_username_attempt_date_file): give --id-pattern "
        f"'^{literal}_(?P<student>.+)_attempt_', with the column's name as it begins the "
        f"file names in place of {item!r} if that is not it"
    )


def _canvas_readings(file: str) -> list[re.Match[str]]:
    """Every way to split a Canvas file name into name, ids and the student's own file name:
    a name part with ``_<digits>_<digits>_`` in it (``x_1001_99999_mallory_1002_502_tp``)
    reads as several students."""
    return [
        match
        for at, char in enumerate(file)
        if char == "_" and at > 0 and (match := _CANVAS_TAIL.match(file, at))
    ]


def _name_part(reading: re.Match[str]) -> str:
    return reading.string[: reading.start()]


def _canvas_readings_checked(found: list[Submission], problems: list[Problem]) -> list[Submission]:
    """Canvas names read as the students they can only be. Canvas gives one user id one
    name part, so a reading whose id another file of the download gives another name is
    not this file's: a name part forged with digits cannot take a classmate's id. The
    first reading left is kept (a line says so when it is not the first of all), named by
    ``"ambiguous lms"``: a file its student has that reads one way only comes first."""
    readings = {
        id(s): parsed
        for s in found
        if s.lms == "canvas" and s.named_by == "lms"
        and (parsed := _canvas_readings(s.file_name))
        and parsed[0]["id"] == s.student_id  # not an anonymous name ("anon_Ab3xY_...")
    }  # fmt: skip
    names: dict[str, set[str]] = {}  # the name part each user id has in unambiguous files
    for only in (r[0] for r in readings.values() if len(r) == 1):
        names.setdefault(only["id"], set()).add(_name_part(only))
    checked = []
    for submission in found:
        choices = readings.get(id(submission), [])
        if len(choices) < 2:
            checked.append(submission)
            continue
        fitting = [m for m in choices if names.get(m["id"], {_name_part(m)}) == {_name_part(m)}]
        chosen = (fitting or choices)[0]
        if not fitting:
            problems.append(
                Problem(
                    submission.origin,
                    f"Canvas name that can be read as several students "
                    f"({', '.join(m['id'] for m in choices)}), each with files under another "
                    f"name: graded as {chosen['id']}, its first reading; check it",
                )
            )
        elif chosen["id"] != submission.student_id:
            problems.append(
                Problem(
                    submission.origin,
                    f"Canvas name that can also be read as student {submission.student_id}, "
                    f"whose other files carry another name: graded as {chosen['id']}",
                )
            )
        if chosen["id"] != submission.student_id:
            late = chosen["late"] is not None
            submission = replace(
                submission,
                student_id=chosen["id"],
                student_name=printable(_name_part(chosen), 100),
                lms_order=int(chosen["attachment"][:18]),
                late_flag=late,
                time_source="canvas-flag" if late else None,
            )
        if len({m["id"] for m in choices}) > 1:  # weaker than a name read as one user only
            submission = replace(submission, named_by="ambiguous lms")
        checked.append(submission)
    return checked


_LOOK_ALIKE_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}
"""Alphabets with letters that print alike (Latin a, Cyrillic а, Greek α)."""


def _look_alike(submission: Submission) -> Problem | None:
    """A line for an id that reads as another one in a table, so that the instructor sees
    it: written with compatibility forms that NFKC folds to plain ones (``ｂｏｂ`` in
    fullwidth letters, ``ﬁ``, a no-break space), or mixing look-alike alphabets once folded
    (``аlice`` with a Cyrillic а, ``ａlicе`` with a fullwidth a and a Cyrillic е). It is
    graded under its own id, as it is spelled."""
    student = submission.student_id
    folded = unicodedata.normalize("NFKC", student)
    scripts = {unicodedata.name(c, "").split(" ")[0] for c in folded if c.isalpha()}
    mixed = " and ".join(s.title() for s in sorted(scripts & _LOOK_ALIKE_SCRIPTS))
    said = []
    if folded != student:
        said.append(f"reads as {folded!r} once written in plain characters")
    if " and " in mixed:
        said.append(f"mixes {mixed} letters")
    if not said:
        return None
    return Problem(
        submission.origin,
        f"student id {student!r} {' and '.join(said)}: it may look like another student's "
        "id (graded under this exact spelling)",
    )


def _gradescope_without_notebook(
    items: list[_Found], gradescope: Mapping[str, _Gradescope]
) -> list[Problem]:
    """One line per Gradescope submission whose folder holds no notebook (a ``.py``
    export, a PDF): not graded, and the instructor should know."""
    folders = {part for item in items for part in PurePosixPath(item.name).parts}
    return [
        Problem(
            entry.origin,
            f"{key} ({', '.join(person for person, _ in entry.people)}) holds no notebook "
            "(.ipynb): not graded",
        )
        for key, entry in sorted(gradescope.items())
        if entry.people and key not in folders
    ]


def _gradescope_without_submitter(
    items: list[_Found], gradescope: Mapping[str, _Gradescope], metadata: list[str]
) -> list[Problem]:
    """One line per notebook in a ``submission_<id>`` folder that the export's metadata
    names no submitter for: it is named by its file or folder, which the instructor should
    check, since Gradescope's own names are not there."""
    if not metadata:
        return []  # folders named like Gradescope's, with no export: nothing to match
    problems = []
    for item in items:
        keys = [p for p in PurePosixPath(item.name).parts if GRADESCOPE_FOLDER.match(p)]
        if keys and not any(key in gradescope and gradescope[key].people for key in keys):
            problems.append(
                Problem(
                    item.submission.origin,
                    f"{keys[-1]} has no submitter in {', '.join(metadata)}: named from its "
                    "file or folder name; check whose it is",
                )
            )
    return problems


def _times_without_notebook(found: list[Submission], intake: Intake) -> list[Problem]:
    """Students the ``--times`` file gives a time but the class no notebook: a typo in an
    id would otherwise leave its student's notebook judged on no time at all."""
    people = {person for s in found for person in (s.student_id, *s.members)}
    unknown = sorted(set(intake.times) - people)
    if not unknown:
        return []
    shown = ", ".join(unknown[:10]) + (
        f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    )
    return [
        Problem(
            str(intake.times_file or "--times"), f"times for students without a notebook: {shown}"
        )
    ]


def _other(name: str, origin: str, subject: str | None = None) -> Iterator[_Other]:
    """The file as an ``_Other`` (``subject``: its path as ``--id-pattern`` reads it)."""
    yield _Other(identify(name, origin, b""), subject or name)


def _owner(other: _Other, intake: Intake) -> str | None:
    """Whose the file is, by ``--id-pattern`` or the LMS's naming; None for a file that
    names nobody (a README next to the class's folders)."""
    if intake.id_pattern is not None:
        match = intake.id_pattern.search(other.subject)
        student = clean_student_id(match["student"]) if match and match["student"] else None
        if student:
            return student
    if other.student.named_by == "lms":
        return _mapped(_identified(other.student, intake, []), intake, []).student_id
    return None


def _without_notebook(others: list[_Other], graded: set[str], intake: Intake) -> list[Problem]:
    """One line per student the LMS shows with files but no notebook: not graded, and the
    instructor should know why (a ``.py`` export, a PDF, a zip inside the LMS's zip...)."""
    files: dict[str, list[_Other]] = {}
    problems = []
    for other in others:
        student = _owner(other, intake)
        if student is None and other.file.lower().endswith(".zip"):
            problems.append(Problem(other.student.origin, "archive inside an archive: not opened"))
        elif student is not None and student not in graded:
            files.setdefault(student, []).append(other)
    for student, mine in sorted(files.items()):
        sent = ", ".join(sorted({o.file for o in mine})[:5])
        problems.append(
            Problem(
                mine[0].student.origin,
                f"student {student} submitted no notebook (.ipynb), only {sent}: not graded",
                (student, printable(sent, 200)),
            )
        )
    return problems


def _named(
    items: list[_Found],
    gradescope: Mapping[str, _Gradescope],
    intake: Intake,
    problems: list[Problem],
) -> list[Submission]:
    """The submissions of one argument, identified with what only the whole argument
    tells: Gradescope's metadata, shared file names, the instructor's pattern."""
    folders = _folder_names(items)
    named = []
    unmatched: list[tuple[_Found, Submission]] = []
    for item in items:
        submission = item.submission
        entry = next(
            (gradescope[p] for p in PurePosixPath(item.name).parts if p in gradescope), None
        )
        if entry and entry.people:
            (student, person), *_ = entry.people
            submission = replace(
                submission, student_id=student, student_name=person, named_by="lms",
                lms="gradescope", members=tuple(p for p, _ in entry.people),
                submitted_at=entry.created_at,
                time_source="gradescope" if entry.created_at else None,
            )  # fmt: skip
        elif item in folders:
            submission = replace(
                submission, student_id=folders[item], student_name=None, named_by="folder"
            )
        if intake.id_pattern is not None:
            match = intake.id_pattern.search(item.subject)
            student = clean_student_id(match["student"]) if match and match["student"] else None
            if student:
                attempt = BLACKBOARD_ATTEMPT.search(PurePosixPath(item.subject).name)
                submission = replace(
                    submission, student_id=student, named_by="pattern", members=(), lms=None,
                    lms_order=int(re.sub(r"\D", "", attempt[1])) if attempt else 0,
                )  # fmt: skip
            else:
                unmatched.append((item, submission))
        named.append(submission)
    problems += _not_matching_pattern(unmatched)
    return named


def _not_matching_pattern(unmatched: list[tuple[_Found, Submission]]) -> list[Problem]:
    """The notebooks ``--id-pattern`` does not name: one line for one, else one line for
    them all (a pattern kept from an appeal's run meets a whole LMS download), so that the
    other problems of the run are not buried."""
    if not unmatched:
        return []
    if len(unmatched) == 1:
        ((item, submission),) = unmatched
        return [
            Problem(
                submission.origin,
                f"{item.subject} does not match --id-pattern: named {submission.student_id} "
                "by the usual rules",
            )
        ]
    shown = ", ".join(f"{i.subject} → {s.student_id}" for i, s in unmatched[:3])
    more = f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""
    return [
        Problem(
            unmatched[0][0].scope,
            f"{len(unmatched)} notebooks do not match --id-pattern, named by the usual rules: "
            f"{shown}{more}",
        )
    ]


def _folder_names(items: list[_Found]) -> dict[_Found, str]:
    """Notebooks of one scope that share a file name (each student kept the same name),
    each named by its folder at the level that tells most of them apart (the deeper one
    on a tie: ``section/student/``). Only levels every one of them has count: what lies
    deeper is inside a student's own folder, which names nobody else (``aaron/bob/``
    is aaron's). A level where one name sits in several folders (``alice/rendu/``,
    ``bob/rendu/``) is inside the students' folders, not theirs: sub-folders in one
    student's folder cannot make it the level that names the class."""
    by_file: dict[tuple[str, str], list[_Found]] = {}
    for item in items:
        if item.submission.named_by in ("file name", "metadata"):
            file = PurePosixPath(item.subject).name.casefold()
            by_file.setdefault((item.scope, file), []).append(item)
    names: dict[_Found, str] = {}
    for group in by_file.values():
        folders = [PurePosixPath(item.subject).parent.parts for item in group]
        levels = range(min(map(len, folders)))
        if len(set(folders)) < 2 or not levels:
            continue
        naming = [i for i in levels if _one_folder_per_name(folders, i)] or list(levels)
        level = max(naming, key=lambda i: (len({f[i] for f in folders}), i))
        for item, parts in zip(group, folders, strict=True):
            student = clean_student_id(parts[level])
            if student:
                names[item] = student
    return names


def _one_folder_per_name(folders: list[tuple[str, ...]], level: int) -> bool:
    """Whether each name at ``level`` is found in one parent folder only."""
    parents: dict[str, tuple[str, ...]] = {}
    return all(parents.setdefault(f[level], f[:level]) == f[:level] for f in folders)


def _identified(submission: Submission, intake: Intake, problems: list[Problem]) -> Submission:
    """``submission`` named as the Moodle worksheet says, when it is a Moodle one."""
    if submission.lms == "moodle" and intake.worksheet:
        return _from_worksheet(submission, intake.worksheet, problems)
    return submission


def _mapped(submission: Submission, intake: Intake, problems: list[Problem]) -> Submission:
    """``submission`` (``_identified``) with the groups and times the instructor's files give.
    Its time is that of whoever sent it, else of the group it counts for: never another
    member's, which would make the group's time, and the notebook kept among several,
    depend on the order of the groups file's rows."""
    senders = (submission.student_id, *submission.members)
    if intake.groups:
        submission = _grouped(submission, intake.groups, problems)
    people = (*senders, submission.student_id)
    listed = next((intake.times[p] for p in people if p in intake.times), None)
    if listed is not None:
        submission = replace(submission, submitted_at=listed, time_source="csv")
    elif submission.time_source is None and intake.times_from_files and submission.file_time:
        submission = replace(
            submission, submitted_at=submission.file_time, time_source="file-dates"
        )
    return replace(submission, members=submission.members or (submission.student_id,))


def _from_worksheet(
    submission: Submission, worksheet: Worksheet, problems: list[Problem]
) -> Submission:
    """A Moodle submission named by its participant (or, for a group assignment, its
    group): the person's id and time, or the group's members, from the worksheet."""
    row = worksheet.get(submission.student_id)
    named = _key(submission.student_name or "")
    # A team's folder is "<group name>_<group id>"; a person's "<full name>_<participant>":
    # a student whose full name reads as a group's still has a person's folder.
    own_folder = row is not None and _key(row.full_name or "") == named
    team = [
        other for other in worksheet.values()
        if other.group and _key(other.group) == named and not own_folder
    ]  # fmt: skip
    rows = team or ([row] if row else [])
    if not rows:
        problems.append(
            Problem(
                submission.origin,
                f"Moodle participant {submission.student_id} is not in the grading worksheet: "
                "graded under that number",
            )
        )
        return submission
    people = (clean_student_id(worksheet.student_id(row)) for row in rows)
    ids = tuple(dict.fromkeys(person for person in people if person))
    times = [r.last_modified_submission for r in rows if r.last_modified_submission]
    first = rows[0]
    return replace(
        submission,
        student_id=group_id(first.group) if team else ids[0] if ids else submission.student_id,
        student_name=first.group if team else first.full_name or submission.student_name,
        members=ids if team else (),
        submitted_at=max(times) if times else None,
        time_source="moodle-worksheet" if times else None,
    )


def _grouped(submission: Submission, groups: Groups, problems: list[Problem]) -> Submission:
    """The submission of a member, or one named after a group (``_named_group``), made
    the group's: its id is the group's and it reaches every member. A notebook whose own
    id is the group's name is said so in one line: nothing tells it from the notebook of
    a student of that id (``_refuse_groups_named_like_students`` leaves only the case
    where the group needs it: none of its members sent their own)."""
    group = _member_group(submission, groups)
    if group is not None:
        return replace(submission, student_id=group_id(group), members=groups[group])
    group = _named_group(submission, groups)
    if group is None:
        return submission
    members = groups[group]
    if _key(group) == _key(submission.student_id):
        problems.append(
            Problem(
                submission.origin,
                f"named like group {group}: graded as the group's, for {', '.join(members)}, "
                f"none of whom sent a notebook of their own; if {submission.student_id} is a "
                f"student, rename the group in {groups.path or '--groups'}",
            )
        )
    return replace(submission, student_id=group_id(group), members=members, named_by="group name")


def _member_group(submission: Submission, groups: Groups) -> str | None:
    """The group of a notebook's student (or of one of its submitters), if any."""
    people = {submission.student_id, *submission.members}
    return next((group for group, members in groups.items() if people & set(members)), None)


def _named_group(submission: Submission, groups: Groups) -> str | None:
    """The group a notebook is named after (a Moodle team's folder, ``g1.ipynb``), if any.

    A name is what a student may choose, so it counts for less than an id: a Canvas file,
    whose name always carries its submitter's user id, is never a group's by its name; a
    notebook matched by its name only is named by ``"group name"``, the weakest naming, so
    a member's own notebook comes first (``_preference``)."""
    if submission.lms == "canvas":
        return None
    names = {_key(submission.student_name or ""), _key(submission.student_id)} - {""}
    return next((group for group in groups if _key(group) in names), None)


def _members_spelled_otherwise(found: list[Submission], groups: Groups) -> list[Problem]:
    """One line per group member who sent no notebook while a student of no group, whose
    id differs from theirs only in case or in compatibility characters (``Alice`` and
    ``alice``, ``ｂｏｂ`` and ``bob``), did: most likely one student, whom the groups file
    spells otherwise, and who would get both the group's grade and their own. Ids are
    kept as written (``Zoe`` and ``zoe`` may be two students): the instructor decides."""
    people = {person for s in found for person in (s.student_id, *s.members)}
    alone: dict[str, Submission] = {}  # how an id reads -> a notebook of no group
    for submission in found:
        if _member_group(submission, groups) is None:
            alone.setdefault(_reading(submission.student_id), submission)
    problems = []
    for group, members in groups.items():
        for member in members:
            near = alone.get(_reading(member))
            if member in people or near is None:
                continue
            problems.append(
                Problem(
                    str(groups.path),
                    f"row {groups.member_rows[member]}: member {member} of group {group} sent "
                    f"no notebook, but {near.student_id}, in no group, did ({near.origin}): if "
                    f"they are one student, write {near.student_id} in the groups file; as it "
                    f"is, {member} gets the group's grade and {near.student_id} their own",
                )
            )
    return problems


def _reading(student: str) -> str:
    """How an id reads in a table: without case or compatibility forms (NFKC)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", student).casefold())


def _refuse_groups_named_like_students(found: list[Submission], groups: Groups) -> None:
    """Refuse ``--groups`` when a group is named like the id of a notebook of no group
    while its members sent their own: that notebook is a student's own, or the group's
    second, and only the instructor knows which (taken as the group's, a student of that
    id would lose it)."""
    people = {person for s in found for person in (s.student_id, *s.members)}
    for submission in found:
        if _member_group(submission, groups) is not None:
            continue
        group = _named_group(submission, groups)
        if group is None or _key(group) != _key(submission.student_id):
            continue
        if people & set(groups[group]):
            raise IntakeError(
                f"{groups.path}: row {groups.rows[group]}: group {group} is named like "
                f"student {submission.student_id} ({submission.origin}), who is in no group, "
                "while its members sent notebooks of their own: rename the group (or remove "
                "that notebook, if it is the group's)"
            )


def _key(name: str) -> str:
    """A group or person name as LMSs rewrite it: lowercase letters and digits only
    (Canvas drops spaces and punctuation, Moodle turns ``_`` into spaces)."""
    return "".join(c for c in unicodedata.normalize("NFKC", name).casefold() if c.isalnum())


def _in_a_submission(origin: str, argument: Path) -> bool:
    """Whether a metadata file lies in a ``submission_<id>/`` folder: a student's upload,
    which must never name who the submissions are."""
    if argument.suffix.lower() == ".zip" and origin.startswith(f"{argument}!"):
        member = origin[len(str(argument)) + 1 :]
        parts = PurePosixPath(member.replace("\\", "/")).parts[:-1]
    else:
        try:
            parts = Path(origin).relative_to(argument).parts[:-1]
        except ValueError:
            parts = ()
    return any(GRADESCOPE_FOLDER.match(part) for part in parts)


def _preference(submission: Submission) -> tuple:
    """Sort key of one student's submissions: the first is graded.
    Among files named alike, one named exactly ``<id>.ipynb`` comes before one that only
    becomes it once cleaned (``alice .ipynb``, with a space, is not ``alice``; neither is
    ``alice.IPYNB``, which would sort first by origin)."""
    lms = submission.named_by in ("pattern", "lms", "ambiguous lms")
    entry = _seconds(submission.file_time) if lms else 0.0
    return (
        NAMED_BY.index(submission.named_by),
        submission.file_name != f"{submission.student_id}.ipynb",
        -_seconds(submission.submitted_at),
        -submission.lms_order if lms else 0,
        -entry,
    )


def _seconds(moment: datetime | None) -> float:
    try:
        return moment.timestamp() if moment else 0.0
    except (OverflowError, OSError, ValueError):
        return 0.0


def _duplicates(student: str, group: list[Submission]) -> Iterator[Problem]:
    """A line for each notebook of one student: the one graded names those that are not,
    and each of those names the graded one, with the rule that chose between them."""
    kept, others = group[0], group[1:]
    yield Problem(
        kept.origin,
        f"student {student} has a second notebook, not graded: "
        + "; ".join(f"{other.origin} ({_why_kept(kept, other)})" for other in others),
    )
    for other in others:
        yield Problem(
            other.origin,
            f"second notebook for student {student}, not graded; graded: {kept.origin} "
            f"({_why_kept(kept, other)})",
        )


def _why_kept(kept: Submission, other: Submission) -> str:
    """The rule of ``_preference`` that put ``kept`` before ``other``, in a few words."""
    order = "newer Canvas attachment" if kept.lms == "canvas" else "later attempt in the LMS"
    reasons = (
        f"kept: named by {NAMINGS[kept.named_by]}, the other by {NAMINGS[other.named_by]}",
        f"kept: named exactly {kept.student_id}.ipynb",
        f"kept: submitted later ({kept.submitted_at and kept.submitted_at.isoformat()})",
        f"kept: the {order}",
        "kept: the later file date in the LMS's download",
    )
    for reason, first, second in zip(reasons, _preference(kept), _preference(other), strict=True):
        if first != second:
            return reason
    return "kept: the first by path, nothing else told them apart"


def _claims(student: str, group: list[Submission]) -> Iterator[Problem]:
    """Notebooks named like the template whose metadata all claim one student: nothing
    tells the student's own from a classmate's copy, so none is graded."""
    names = ", ".join(s.origin for s in group)
    for submission in group:
        yield Problem(
            submission.origin,
            f"not graded: {len(group)} notebooks named like the template claim student "
            f"{student} in their metadata ({names}); rename the student's own to "
            f"{student}.ipynb, or pass --id-pattern",
        )


def _read_gradescope(metadata: _Metadata, into: dict[str, _Gradescope]) -> list[Problem]:
    """Gradescope's ``submission_metadata.yml`` (``submission_<id>:`` with ``:submitters:``
    and ``:created_at:``) added to ``into``; anything unreadable is a Problem."""
    try:
        data = yaml.safe_load(metadata.content)
    except Exception as error:  # yaml.YAMLError, RecursionError, a decoding error...
        return [
            Problem(metadata.origin, f"unreadable Gradescope metadata ({type(error).__name__})")
        ]
    if not isinstance(data, dict):
        return [Problem(metadata.origin, "not Gradescope metadata (no submission_<id> entries)")]
    for key, entry in data.items():
        if not (isinstance(key, str) and GRADESCOPE_FOLDER.match(key) and isinstance(entry, dict)):
            continue
        submitters = entry.get(":submitters")
        people = []
        for person in submitters if isinstance(submitters, list) else []:
            if isinstance(person, dict):
                named = (person.get(k) for k in (":sid", ":email", ":name"))
                student = next((i for i in map(clean_student_id, named) if i), None)
                name = person.get(":name")
                if student:
                    people.append(
                        (student, printable(name, 100) if isinstance(name, str) else None)
                    )
        into[key] = _Gradescope(tuple(people), _moment(entry.get(":created_at")), metadata.origin)
    return []


def _moment(value: object) -> datetime | None:
    """A YAML timestamp (PyYAML reads Gradescope's as a datetime) or ISO text."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return None
    return moment if isinstance(moment, datetime) and plausible(moment) else None


_IGNORED_FOLDERS = {".ipynb_checkpoints", "__MACOSX"}
NAMELESS = "a notebook with no name (.ipynb): whose it is cannot be told; not graded"


def _walk(
    path: Path, name: str, subject: str, scope: str
) -> Iterator[_Found | _Metadata | Problem]:
    """What is under ``path``; ``name`` is its path from the argument's folder (what
    ``identify`` reads), ``subject`` from inside the argument. Any error on one path is a
    Problem for that path only."""
    try:
        if path.is_symlink():
            yield Problem(str(path), "symbolic link not followed")
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                inside = child.relative_to(path)
                if _IGNORED_FOLDERS & set(inside.parts):
                    continue  # Jupyter's autosaves, not what the student submitted
                wanted = (
                    child.suffix.lower() in (".ipynb", ".zip")
                    or child.name == GRADESCOPE_METADATA
                    or child.name.lower() == ".ipynb"
                )
                if wanted and (child.is_symlink() or not child.is_dir()):
                    below = (PurePosixPath(subject) / inside.as_posix()).as_posix()
                    yield from _walk(child, f"{name}/{inside.as_posix()}", below, scope)
                elif child.is_file() and not child.is_symlink():
                    below = (PurePosixPath(subject) / inside.as_posix()).as_posix()
                    yield from _other(f"{name}/{inside.as_posix()}", str(child), below)
        elif path.name.lower() == ".ipynb":
            yield Problem(str(path), NAMELESS)
        elif not path.exists():
            yield Problem(str(path), "no such file or folder")
        elif not path.is_file():  # a FIFO or a device would block, or never end
            yield Problem(str(path), "not a regular file: not read")
        elif path.suffix.lower() == ".zip":
            yield from _read_archive(path)
        elif path.name == GRADESCOPE_METADATA:
            yield _Metadata(str(path), _read_file(path, MAX_METADATA_BYTES))
        elif path.suffix.lower() == ".ipynb":
            status = path.stat()
            stamp = _timestamp(status.st_mtime)
            if status.st_size > MAX_NOTEBOOK_BYTES:
                found = _too_large(name, str(path), status.st_size, stamp)
            else:
                found = identify(name, str(path), path.read_bytes(), stamp)
                found = _lazy(found, partial(_read_file, path))
            yield _Found(name, subject or path.name, scope, found)
        else:
            yield Problem(str(path), "not a notebook (.ipynb) nor an archive (.zip)")
    except Exception as error:  # a vanished file, a denied folder, a name the OS refuses...
        yield Problem(str(path), f"unreadable ({type(error).__name__}: {error})")


def _timestamp(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds)
    except (OverflowError, OSError, ValueError):
        return None


def _read_archive(path: Path) -> Iterator[_Found | _Metadata | Problem]:
    """The notebooks of a zip; a corrupt member (bad deflate stream, CRC, header, a name
    that is not what its flag says...) is a Problem naming the archive and the member, and
    the next member is read."""
    with ExitStack() as stack:
        try:
            archive, misnamed = stack.enter_context(_opened_zip(path))
        except _ArchiveRefused as refused:
            yield Problem(str(path), str(refused))
            return
        except Exception as error:  # zipfile raises many kinds of errors on a corrupt archive
            yield Problem(str(path), f"unreadable zip archive ({type(error).__name__}: {error})")
            return
        yield from _archive_members(path, archive, misnamed)


def _archive_members(
    path: Path, archive: zipfile.ZipFile, misnamed: frozenset[int]
) -> Iterator[_Found | _Metadata | Problem]:
    """What ``_read_archive`` yields, member by member (``misnamed``: by their index)."""
    total = notebooks = 0
    seen: Counter[str] = Counter()
    over: list[str] = []  # notebooks past the limit
    for index, member in enumerate(archive.infolist()):
        if index in misnamed:
            raw = member.filename.encode("cp437").decode("utf-8", "backslashreplace")
            yield Problem(f"{path}!{raw}", "member name marked UTF-8 that is not UTF-8: not read")
            continue
        member.filename = _member_name(member)
        seen[member.filename] += 1
        origin = f"{path}!{member.filename}"
        if seen[member.filename] > 1:  # a zip may hold two members of one name
            origin += f" (entry {seen[member.filename]} of that name)"
        if member.filename.lower().endswith(".ipynb"):
            notebooks += 1
            if notebooks > MAX_ARCHIVE_NOTEBOOKS:
                over.append(member.filename)
                continue
        try:
            item = _read_member(archive, member, origin)
        except Exception as error:  # zlib.error, BadZipFile, EOFError, struct.error...
            item = Problem(origin, f"unreadable archive member ({type(error).__name__}: {error})")
        if isinstance(item, Submission):
            total += len(item.content)
            if total > MAX_ARCHIVE_BYTES:
                yield Problem(str(path), "archive larger than the limit; the rest is skipped")
                return
            item = _lazy(item, partial(_read_archived, path, member.header_offset))
            name = member.filename.replace("\\", "/")
            item = _Found(name, name, str(path), item)
        if item is not None:
            yield item
    if over:
        named = ", ".join(over[:5]) + (", …" if len(over) > 5 else "")
        yield Problem(
            str(path),
            f"{notebooks} notebooks, more than {MAX_ARCHIVE_NOTEBOOKS} per archive: "
            f"the last {len(over)} not read ({named}); split the archive",
        )


class _ArchiveRefused(Exception):
    """An archive not opened, and why (its message)."""


@contextmanager
def _opened_zip(path: Path) -> Iterator[tuple[zipfile.ZipFile, frozenset[int]]]:
    """The zip at ``path``, and the indexes (in ``infolist``) of its members whose name is
    marked UTF-8 (bit 11) and is not.

    Its central directory is sized before ``zipfile`` loads it whole (``_ArchiveRefused``
    above ``MAX_DIRECTORY_BYTES``). One such name makes ``zipfile`` refuse the whole
    archive while it reads the directory, so it reads a copy where their mark is cleared
    (their names decode as cp437), and the caller refuses those members only."""
    with path.open("rb") as file:
        place = _directory(file)
        view: BinaryIO = file
        misnamed: frozenset[int] = frozenset()
        if place is not None:
            start, size = place
            if size > MAX_DIRECTORY_BYTES:
                raise _ArchiveRefused(f"zip directory of {size} bytes: archive not opened")
            file.seek(max(start, 0))  # before the file's start: zipfile says it is corrupt
            directory = bytearray(file.read(size) if start >= 0 else b"")
            misnamed = _clear_false_utf8_marks(directory)
            if misnamed:
                view = _Overlaid(file, start, bytes(directory))
        with zipfile.ZipFile(view) as archive:
            yield archive, misnamed


def _clear_false_utf8_marks(directory: bytearray) -> frozenset[int]:
    """The entries of a central directory (by index) whose name is marked UTF-8 and is not;
    their mark is cleared in ``directory``. Reading stops at the first entry that is not
    one: ``zipfile`` then says what is wrong with the archive."""
    misnamed = set()
    at = index = 0
    while directory[at : at + 4] == b"PK\x01\x02" and at + 46 <= len(directory):
        flags = int.from_bytes(directory[at + 8 : at + 10], "little")
        lengths = [
            int.from_bytes(directory[i : i + 2], "little") for i in (at + 28, at + 30, at + 32)
        ]
        name = bytes(directory[at + 46 : at + 46 + lengths[0]])
        if flags & _UTF8_NAME_FLAG:
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                directory[at + 8 : at + 10] = (flags & ~_UTF8_NAME_FLAG).to_bytes(2, "little")
                misnamed.add(index)
        at += 46 + sum(lengths)
        index += 1
    return frozenset(misnamed)


class _Overlaid(io.RawIOBase):
    """A file read with the bytes from ``at`` on replaced by ``patch`` (a zip's central
    directory, corrected): reads, seeks and positions are the file's own."""

    def __init__(self, file: BinaryIO, at: int, patch: bytes):
        super().__init__()
        self._file, self._at, self._patch = file, at, patch

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:
        start = self._file.tell()
        count = self._file.readinto(buffer)
        low, high = max(start, self._at), min(start + count, self._at + len(self._patch))
        if low < high:
            memoryview(buffer).cast("B")[low - start : high - start] = self._patch[
                low - self._at : high - self._at
            ]
        return count


def _member_name(member: zipfile.ZipInfo) -> str:
    """The member's name. Without the zip's UTF-8 flag, ``zipfile`` reads a name as
    cp437, the format's default, but many archivers (macOS, Info-ZIP, some LMS) write
    UTF-8 without the flag: "Zoé" would become "ZoÃ©". A name that is valid UTF-8 is read
    as UTF-8, as unzip and 7-Zip do; another stays cp437."""
    if member.flag_bits & _UTF8_NAME_FLAG:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return member.filename


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, origin: str
) -> Submission | _Metadata | Problem | None:
    """One archive member as a submission, Gradescope metadata, a problem, or None when it
    is none of these."""
    name = PurePosixPath(member.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or re.match(r"[A-Za-z]:", name.as_posix()):
        return Problem(origin, "path outside the archive (absolute, or with '..'): not read")
    if name.suffix.lower() == ".zip":
        # not opened; whose it is, the class's intake tells (a student who sent only a zip)
        return next(_other(name.as_posix(), origin))
    if member.is_dir() or _IGNORED_FOLDERS & set(name.parts):
        return None
    if stat.S_ISLNK(member.external_attr >> 16):
        return Problem(origin, "symbolic link inside the archive: not followed")
    if name.name.lower() == ".ipynb":
        return Problem(origin, NAMELESS)
    if name.name == GRADESCOPE_METADATA:
        if member.file_size > MAX_METADATA_BYTES:
            return Problem(origin, f"Gradescope metadata over {MAX_METADATA_BYTES} bytes: not read")
        with archive.open(member) as stream:
            return _Metadata(origin, stream.read(MAX_METADATA_BYTES))
    if name.suffix.lower() != ".ipynb":
        return next(_other(name.as_posix(), origin), None)
    try:
        stamp = datetime(*member.date_time) if member.date_time[0] >= 1980 else None
    except ValueError:  # month 0, day 31 of February...
        stamp = None
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > MAX_COMPRESSION_RATIO and member.file_size > 1024 * 1024:
        return Problem(origin, f"compression ratio {ratio:.0f}:1 looks like a zip bomb")
    if member.file_size > MAX_NOTEBOOK_BYTES:
        return _too_large(str(name), origin, member.file_size, stamp)
    with archive.open(member) as stream:
        content = stream.read(MAX_NOTEBOOK_BYTES + 1)
    if len(content) > MAX_NOTEBOOK_BYTES:
        return _too_large(str(name), origin, len(content), stamp)
    return identify(str(name), origin, content, stamp)


def _read_file(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    with path.open("rb") as file:
        return file.read(limit + 1)


def _read_archived(path: Path, offset: int) -> bytes:
    """The member found at ``offset``: by its place, as two members may share a name."""
    with _opened_zip(path) as (archive, _):
        member = next((m for m in archive.infolist() if m.header_offset == offset), None)
        if member is None:
            return b""  # the archive was replaced: ``Submission.read`` says so
        with archive.open(member) as stream:
            return stream.read(MAX_NOTEBOOK_BYTES + 1)


def _directory(file: BinaryIO) -> tuple[int, int] | None:
    """Where a zip's central directory starts, and its size, as ``zipfile`` reads them from
    the end record (and the zip64 record just before it, when its locator is there): read
    first, before ``zipfile`` loads the directory whole. None when there is no end record."""
    file.seek(0, 2)
    end = file.tell()
    base = max(0, end - 22 - 65535)
    file.seek(base)
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    location = base + at
    size = int.from_bytes(tail[at + 12 : at + 16], "little")
    if location >= 76:  # zip64: a 56-byte record, then a 20-byte locator
        file.seek(location - 76)
        records = file.read(76)
        if records[:4] == b"PK\x06\x06" and records[56:60] == b"PK\x06\x07":
            size = int.from_bytes(records[40:48], "little")
            return location - 76 - size, size
    return location - size, size


def _too_large(name: str, origin: str, size: int, stamp: datetime | None) -> Submission:
    """A notebook over the size limit: kept as a submission, to be graded ``invalid``."""
    return identify(name, origin, b"", stamp, oversize=size)


def identify(
    name: str,
    origin: str,
    content: bytes,
    file_time: datetime | None = None,
    oversize: int | None = None,
) -> Submission:
    """Who submitted this notebook, from its own path alone. ``name`` is its path as the
    LMS archive or the folder gives it (``Name_1234_assignsubmission_file/tp.ipynb``); the
    rule is in the module's docstring (``collect`` adds what needs the whole class). A
    backslash is part of a name here: an archive's members come with theirs made ``/``."""
    parts = PurePosixPath(name).parts or (name,)
    file = parts[-1]
    origin = printable(origin)

    def make(student: str, by: str, person: str | None = None, **lms: object) -> Submission:
        person = printable(person, 100) if person else None
        return Submission(
            student, origin, content, person, oversize=oversize, named_by=by, file_time=file_time,
            file_name=file, **lms,
        )  # fmt: skip

    folders = parts[:-1]
    for folder in folders:
        match = MOODLE_FOLDER.match(folder)
        if match:
            return make(match["id"], "lms", match["name"], lms="moodle")
    if NBGRADER_FOLDER in folders[:-2]:
        at = folders.index(NBGRADER_FOLDER)
        student = clean_student_id(folders[at + 1])
        if student:
            return make(student, "lms", lms="nbgrader")
    # a file name: the LMS writes its id first, then the student's own file name
    patterns = (MOODLE_FILE, CANVAS_ANONYMOUS, CANVAS)
    matches = [m for m in (p.match(file) for p in patterns) if m]
    if matches:
        match = min(matches, key=lambda m: m.start("id"))
        if match.re is MOODLE_FILE:
            return make(match["id"], "lms", match["name"], lms="moodle")
        late = match["late"] is not None
        return make(
            match["id"], "lms", match.groupdict().get("name"), lms="canvas",
            lms_order=int(match["attachment"][:18]), late_flag=late,
            time_source="canvas-flag" if late else None,
        )  # fmt: skip
    stem = PurePosixPath(file).stem
    if template_name().match(stem):
        claimed = clean_student_id(_metadata_student(content))
        if claimed:
            return make(claimed, "metadata")
    student = clean_student_id(stem)
    if student is None:  # "..ipynb", a name of control characters only...
        raw = file.encode("utf-8", "surrogateescape")
        student = f"unnamed~{hashlib.sha256(raw).hexdigest()[:16]}"
    return make(student, "file name")


def _metadata_student(content: bytes) -> object:
    """``metadata.dlgrade.student_id`` of a notebook, if any (never raises)."""
    try:
        metadata = json.loads(content).get("metadata", {})
        return metadata.get("dlgrade", {}).get("student_id")
    except Exception:  # not JSON, too deep (RecursionError), not a dict...
        return None
