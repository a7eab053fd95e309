"""Files shaped as each LMS writes them, built by the LMS's own naming rules.

- Canvas (``ContentZipper``): ``<name>[_LATE]_<user id>_<attachment id>_<file name>``, the
  name being the sortable name lowercased with every non-word character removed (and
  ``_<digits>_`` squeezed); with anonymous grading ``[LATE_]anon_<5 base58>`` replaces the
  name and the user id; for a group assignment, the group's name and a member's id.
- Moodle (``mod_assign\\downloader``): one folder per participant
  ``<Full Name>_<participant id>_assignsubmission_file`` (``_`` in names become spaces;
  Moodle < 4.1 ends the folder with ``_``); ``Participant`` for blind marking; a group
  assignment names the folder after the group and its id. Without folders, the prefix
  is flattened into the file name. The grading worksheet is a CSV in the teacher's
  language, dates written by ``userdate``.
- Gradescope ("Export submissions"): ``assignment_<id>_export/submission_<id>/…`` and a
  ``submission_metadata.yml`` written by Ruby (``:submitters:``, ``:created_at:``).
- nbgrader: ``submitted/<student>/<assignment>/<notebook>.ipynb`` and ``timestamp.txt``.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat


def notebook_bytes(code: str = "x = 1") -> bytes:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    return nbformat.writes(notebook).encode()


def write_zip(path: Path, members: dict[str, bytes | tuple[bytes, tuple]]) -> Path:
    """A zip whose members may carry a date: ``{name: bytes}`` or ``{name: (bytes, date)}``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if isinstance(data, tuple):
                data, date = data
                archive.writestr(zipfile.ZipInfo(name, date), data)
            else:
                archive.writestr(name, data)
    return path


def write_unflagged_zip(path: Path, members: dict[str, bytes], encoding: str) -> Path:
    """A zip whose names are in ``encoding`` without the UTF-8 flag, as written by archivers
    that do not set it: each name goes in as an ASCII stand-in of the same length, whose
    bytes are then replaced (in the local header and the central directory)."""
    encoded = {name: name.encode(encoding) for name in members}
    stand_ins = {
        name: f"{i:0{len(raw)}d}".encode() for i, (name, raw) in enumerate(encoded.items())
    }
    write_zip(path, {stand_ins[name].decode(): data for name, data in members.items()})
    content = path.read_bytes()
    for name, raw in encoded.items():
        content = content.replace(stand_ins[name], raw)
    path.write_bytes(content)
    return path


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """The same members extracted to a folder (what an instructor gets by unzipping)."""
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_download(folder: Path, name: str, files: dict[str, bytes], extracted: bool) -> Path:
    """An LMS download as the instructor passes it: ``name``.zip, or the folder it unzips to."""
    return (
        write_tree(folder / name, files) if extracted else write_zip(folder / f"{name}.zip", files)
    )


# --- Canvas --------------------------------------------------------------------------------


def canvas_name(
    sortable_name: str | None,
    user_id: int | None,
    attachment_id: int,
    file_name: str,
    *,
    late: bool = False,
    anonymous_id: str | None = None,
    late_marker: str = "LATE",
) -> str:
    """A member of Canvas's "Download Submissions" zip."""
    if anonymous_id:
        parts = [late_marker if late else None, f"anon_{anonymous_id}"]
    else:
        name = re.sub(r"_(\d+)_", r"\1", sortable_name or "").lower()
        parts = [name, late_marker if late else None, str(user_id)]
    prefix = re.sub(r"[^\w]", "", "_".join(p for p in parts if p))
    return f"{prefix}_{attachment_id}_{file_name}"


# --- Moodle --------------------------------------------------------------------------------


def moodle_folder(full_name: str, number: int | None, *, legacy: bool = False) -> str:
    """A participant's (or, for a group assignment, a group's) folder in Moodle's zip."""
    prefix = full_name.replace("_", " ") + (f"_{number}" if number is not None else "")
    return f"{prefix}_assignsubmission_file" + ("_" if legacy else "")


def moodle_flat_name(full_name: str, participant: int, file_name: str) -> str:
    """A member of Moodle's zip when "download submissions in folders" is off."""
    return f"{full_name.replace('_', ' ')}_{participant}_assignsubmission_file_{file_name}"


ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")  # fmt: skip
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre")  # fmt: skip


def moodle_date(moment: datetime | None, language: str) -> str:
    """``userdate`` with the language's ``strftimedaydatetime`` (day and 12-hour clock without their zero)."""
    if moment is None:
        return "-"
    if language == "fr":  # %A %d %B %Y, %H:%M
        return (f"{FRENCH_DAYS[moment.weekday()]} {moment.day} "
                f"{FRENCH_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}")  # fmt: skip
    hour = moment.hour % 12 or 12  # %A, %d %B %Y, %I:%M %p
    return (f"{ENGLISH_DAYS[moment.weekday()]}, {moment.day} {ENGLISH_MONTHS[moment.month - 1]} "
            f"{moment.year}, {hour}:{moment:%M} {'PM' if moment.hour >= 12 else 'AM'}")  # fmt: skip


WORKSHEET_HEADERS = {
    "en": ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
           "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
           "Feedback comments"],
    "fr": ["Identifiant", "Nom complet", "Adresse de courriel", "Statut", "Note", "Note maximale",
           "La note peut être modifiée", "Dernière modification (travail remis)",
           "Dernière modification (note)", "Commentaires de feedback"],
}  # fmt: skip


def write_worksheet(
    path: Path,
    rows: list[tuple[int, str, str, datetime | None]],
    language: str = "en",
    groups: dict[int, str] | None = None,
) -> Path:
    """Moodle's offline grading worksheet: ``(participant, full name, email, submitted)``
    rows; ``groups`` adds the group column of a group assignment."""
    header = list(WORKSHEET_HEADERS[language])
    if groups is not None:
        header.insert(4, "Groupe" if language == "fr" else "Group")
    status = "Remis pour évaluation" if language == "fr" else "Submitted for grading"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for participant, name, email, moment in rows:
            row = [f"Participant {participant}", name, email, status, "", "100,00", "Oui",
                   moodle_date(moment, language), "-", ""]  # fmt: skip
            if groups is not None:
                row.insert(4, groups.get(participant, ""))
            writer.writerow(row)
    return path


# --- Gradescope ----------------------------------------------------------------------------


def gradescope_export(
    submissions: dict[int, tuple[list[tuple[str, str, str]], str, dict[str, bytes]]],
    assignment_id: int = 9100,
) -> dict[str, bytes]:
    """The members of Gradescope's export: ``{submission id: ([(name, sid, email)],
    created_at as Ruby writes it, {file: bytes})}``."""
    root = f"assignment_{assignment_id}_export"
    lines = []
    members = {}
    for number, (submitters, created_at, files) in submissions.items():
        lines += [f"submission_{number}:", "  :submitters:"]
        for name, sid, email in submitters:
            lines += [f"  - :name: {name}", f"    :sid: '{sid}'", f"    :email: {email}"]
        lines += [f"  :created_at: {created_at}", "  :score: 0.0", "  :status: processed"]
        for file, data in files.items():
            members[f"{root}/submission_{number}/{file}"] = data
    members[f"{root}/submission_metadata.yml"] = ("\n".join(lines) + "\n").encode()
    return members
