"""Moodle's offline grading worksheet ("Download grading worksheet"), read in French or English.

Moodle names the submissions of its "Download all submissions" zip after a *participant
id* (``Jean Dupont_1234_assignsubmission_file/``); the worksheet is the only file that
ties that id to a person (``Identifier`` = ``Participant 1234``) and gives the true time of
each submission (``Last modified (submission)``). Moodle writes the worksheet in the
language of the teacher who downloads it, and reads it back the same way, so both the
headers and the dates come in either language:

====================================  ==========================================
English                               Français
====================================  ==========================================
Identifier                            Identifiant
Full name                             Nom complet
Email address                         Adresse de courriel
ID number                             Numéro d'identification
Status                                Statut
Group (group assignments)             Groupe
Grade                                 Note
Maximum grade                         Note maximale
Grade can be changed                  La note peut être modifiée
Last modified (submission)            Dernière modification (travail remis)
Last modified (grade)                 Dernière modification (note)
Feedback comments                     Commentaires de feedback
====================================  ==========================================

Dates are Moodle's ``userdate`` text in the teacher's time zone, with no offset:
``Monday, 1 December 2025, 11:59 PM`` or ``lundi 1 décembre 2025, 23:59`` (``-`` when
nothing was submitted). They are read as naive datetimes.

API (also for writing the worksheet back):

- ``read_worksheet(path) -> Worksheet``: a ``dict`` from participant id (``"1234"``) to
  ``WorksheetRow``; ``Worksheet.language`` (``"en"`` or ``"fr"``) and
  ``Worksheet.columns`` (the headers in the file's order) say how to write it back so
  that Moodle's import recognises it.
- ``WorksheetRow.student_id``: the id dlgrade uses for that person: the email address,
  else the ID number, else the full name.
- ``HEADERS``: field name -> (English header, French header).
- ``parse_moodle_date(text)``: one date cell.

A file that is not a worksheet, or a row or date that cannot be read, raises
``WorksheetError`` (a ``DlgradeError``) naming the file, the row and what is wrong.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import DlgradeError
from .spreadsheet import table_rows, table_text

MAX_WORKSHEET_BYTES = 32 * 1024 * 1024

HEADERS: dict[str, tuple[str, str]] = {
    "identifier": ("Identifier", "Identifiant"),
    "full_name": ("Full name", "Nom complet"),
    "email": ("Email address", "Adresse de courriel"),
    "id_number": ("ID number", "Numéro d'identification"),
    "status": ("Status", "Statut"),
    "group": ("Group", "Groupe"),
    "grade": ("Grade", "Note"),
    "max_grade": ("Maximum grade", "Note maximale"),
    "grade_can_be_changed": ("Grade can be changed", "La note peut être modifiée"),
    "last_modified_submission": (
        "Last modified (submission)",
        "Dernière modification (travail remis)",
    ),
    "last_modified_grade": ("Last modified (grade)", "Dernière modification (note)"),
    "feedback": ("Feedback comments", "Commentaires de feedback"),
}

MONTHS = {
    **{m: i for i, m in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"), start=1)},
    **{m: i for i, m in enumerate(
        ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
         "septembre", "octobre", "novembre", "decembre"), start=1)},
}  # fmt: skip
_TIME = re.compile(r"\b(\d{1,2})[:h](\d{2})(?::(\d{2}))?\s*([ap])?\.?\s*m?\b", re.IGNORECASE)
_PARTICIPANT = re.compile(r"(\d+)\s*$")


class WorksheetError(DlgradeError):
    """A grading worksheet that cannot be read; the message names the file and the row."""


@dataclass(frozen=True)
class WorksheetRow:
    """One participant of the worksheet; text cells as Moodle wrote them."""

    identifier: str  # "Participant 1234"
    full_name: str
    email: str
    id_number: str
    status: str
    last_modified_submission: datetime | None
    grade: str
    max_grade: str
    feedback: str
    group: str = ""  # group assignments only
    last_modified_grade: str = ""  # as written: Moodle's import compares it on the way back

    @property
    def participant_id(self) -> str:
        """The number that names this participant in the submissions zip."""
        match = _PARTICIPANT.search(self.identifier)
        return match[1] if match else ""


class Worksheet(dict[str, WorksheetRow]):
    """The rows by participant id, with what writing the file back needs."""

    def __init__(
        self,
        rows: dict[str, WorksheetRow] | None = None,
        language: str = "en",
        columns: tuple[str, ...] = (),
    ):
        rows = rows or {}
        super().__init__(rows)
        self.language = language
        self.columns = columns
        self._names = Counter(row.full_name for row in rows.values())

    def student_id(self, row: WorksheetRow) -> str:
        """Who a row is for dlgrade: the email address, else the ID number, else the full
        name if no one else in the worksheet bears it, else the participant number (two
        "Thomas Petit" are two students)."""
        if row.email or row.id_number:
            return row.email or row.id_number
        unique = row.full_name and self._names[row.full_name] == 1
        return row.full_name if unique else row.participant_id


def read_worksheet(path: Path | str) -> Worksheet:
    """The worksheet at ``path`` (CSV as Moodle writes it, or re-saved with ``;`` or tabs)."""
    path = Path(path)
    text = _text(path)
    try:
        table = table_rows(text)
    except csv.Error as error:
        raise WorksheetError(f"{path}: not a readable CSV file ({error})") from None
    header = table[0] if table else []
    fields, language = _fields(path, header)
    rows: dict[str, WorksheetRow] = {}
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            name: cells[index].strip() if index < len(cells) else ""
            for name, index in fields.items()
        }
        row = WorksheetRow(
            identifier=values["identifier"],
            full_name=values.get("full_name", ""),
            email=values.get("email", ""),
            id_number=values.get("id_number", ""),
            status=values.get("status", ""),
            last_modified_submission=_date(path, number, values.get("last_modified_submission")),
            grade=values.get("grade", ""),
            max_grade=values.get("max_grade", ""),
            feedback=values.get("feedback", ""),
            group=values.get("group", ""),
            last_modified_grade=values.get("last_modified_grade", ""),
        )
        if not row.participant_id:
            raise WorksheetError(
                f"{path}: row {number}: identifier {row.identifier[:60]!r} is not "
                "'Participant <number>'"
            )
        if row.participant_id in rows:
            raise WorksheetError(f"{path}: row {number}: {row.identifier} appears twice")
        rows[row.participant_id] = row
    return Worksheet(rows, language, tuple(header))


def parse_moodle_date(text: str) -> datetime | None:
    """A Moodle date cell (English or French ``userdate``) as a naive datetime; None for
    an empty cell or ``-``. Raises ValueError when the text is no such date."""
    text = _folded(text)
    if text in ("", "-"):
        return None
    words = re.findall(r"[a-z]+|\d+", text)
    month = next((MONTHS[w] for w in words if w in MONTHS), None)
    year = next((int(w) for w in words if w.isdigit() and len(w) == 4), None)
    time = _TIME.search(text)
    # the day: the first short number that is not part of the time
    before_time = text[: time.start()] if time else text
    day = next((int(w) for w in re.findall(r"\d+", before_time) if len(w) <= 2), None)
    if month is None or year is None or day is None or time is None:
        raise ValueError(f"not a Moodle date: {text!r}")
    hour, minute = int(time[1]), int(time[2])
    if time[4]:  # 12-hour clock
        if not 1 <= hour <= 12:
            raise ValueError(f"not a Moodle date: {text!r}")
        hour = hour % 12 + (12 if time[4].lower() == "p" else 0)
    return datetime(year, month, day, hour, minute, int(time[3] or 0))


def _text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_WORKSHEET_BYTES + 1)
    except OSError as error:
        raise WorksheetError(
            f"{path}: cannot read the grading worksheet ({error.strerror})"
        ) from None
    if len(raw) > MAX_WORKSHEET_BYTES:
        raise WorksheetError(f"{path}: larger than {MAX_WORKSHEET_BYTES} bytes: not a worksheet")
    return table_text(raw)


def _fields(path: Path, header: list[str]) -> tuple[dict[str, int], str]:
    """Column index of each known field, and the worksheet's language."""
    known = {
        _folded(title): (name, language)
        for name, titles in HEADERS.items()
        for title, language in zip(titles, ("en", "fr"), strict=True)
    }
    fields: dict[str, int] = {}
    languages = []
    for index, title in enumerate(header):
        name, language = known.get(_folded(title), (None, None))
        if name and name not in fields:
            fields[name] = index
            languages.append(language)
    if "identifier" not in fields:
        raise WorksheetError(
            f"{path}: not a Moodle grading worksheet (no 'Identifier' or 'Identifiant' column)"
        )
    language = "fr" if languages.count("fr") > languages.count("en") else "en"
    return fields, language


def _date(path: Path, row: int, text: str | None) -> datetime | None:
    try:
        return parse_moodle_date(text or "")
    except ValueError:
        raise WorksheetError(
            f"{path}: row {row}: {(text or '')[:60]!r} is not a Moodle date "
            "(e.g. 'Monday, 1 December 2025, 11:59 PM' or 'lundi 1 décembre 2025, 23:59')"
        ) from None


def _folded(text: str) -> str:
    """Lowercase, without accents, with plain apostrophes and single spaces."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())
