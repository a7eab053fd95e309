"""Where submissions come from: notebooks, folders, and the LMSs' bulk-download zips.

Nothing here raises on a hostile input: an unreadable file, archive or member becomes a
``Problem`` naming it, and the run goes on. Archives are read member by member in memory,
never extracted: no path in a zip can write anywhere. Sizes, member counts and the zip's
own directory are capped before reading, and the bytes actually read are capped too (a
zip's declared sizes can lie). Every origin and message is printable text (control
characters and undecodable bytes escaped, length bounded).

Who the student is (``identify``), strongest first:

1. the LMS's naming. A Moodle folder ``Name_1234_assignsubmission_file_/`` names everything
   inside it: the outermost such folder decides, whatever the files in it are called. Else
   the file name: a flattened Moodle name (``Name_1234_assignsubmission_file_tp.ipynb``)
   or a Canvas name (``name_12345_67890_tp.ipynb``, ``name_late_…``), the leftmost id
   winning (the LMS writes its own before the student's file name);
2. the file name (its stem);
3. ``metadata.dlgrade.student_id`` of the notebook, read **only** when the file name is the
   assignment's own template name (``mlp_softmax.ipynb``, ``mlp_softmax (1).ipynb``,
   ``mlp_softmax-Copy1.ipynb``), which names nobody. Anywhere else the claim is ignored.

Every id goes through ``clean_student_id``. When several submissions name the same
student in one ``collect``, each is reported and one is kept: the strongest naming, then
(for LMS-named ones) the newest by the LMS's order (Canvas attachment id) and time (the
archive member's date), then the first by origin.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .checks import ASSIGNMENTS
from .errors import DlgradeError

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 16 * 1024 * 1024  # a zip's central directory, read before any member
MAX_ID_CHARS = 64
MAX_ORIGIN_CHARS = 300

# Canvas: "smithjohn_12345_67890_tp1.ipynb", late ones "smithjohn_late_12345_67890_tp1.ipynb"
CANVAS = re.compile(
    r"^(?P<name>[^_/]+?)(?:_late|_LATE)?_(?P<id>\d+)_(?P<attachment>\d+)_(?P<file>.+)$", re.ASCII
)
# Moodle folder "Jean Dupont_4321_assignsubmission_file_" (the id is the last one), or a
# flattened file "Jean Dupont_4321_assignsubmission_file_tp1.ipynb" (the first one)
MOODLE_FOLDER = re.compile(
    r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_$", re.ASCII
)
MOODLE_FILE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_.", re.ASCII
)
# The template's own name, as Jupyter or a browser saves copies of it: names nobody
TEMPLATE_NAME = re.compile(
    rf"^(?:{'|'.join(map(re.escape, ASSIGNMENTS))})(?:-Copy\d*| ?\(\d+\))?$", re.IGNORECASE
)
# How strongly a submission is tied to its student: the strongest wins a duplicate
NAMED_BY = ("lms", "file name", "metadata")
DUPLICATE_RULE = "kept: LMS naming first, then the newest by the LMS, then the first by origin"


@dataclass(frozen=True)
class Submission:
    """One notebook to grade, with who submitted it and where it came from."""

    student_id: str
    origin: str
    content: bytes = field(repr=False)
    student_name: str | None = None
    submitted_at: datetime | None = None
    refused: str | None = None  # why it cannot be graded (too large...): graded as invalid
    named_by: str = "file name"  # one of NAMED_BY
    lms_order: int = 0  # Canvas attachment id (larger is newer); 0 when the LMS gives none
    loader: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)
    digest: str = ""

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
    if submission.refused:
        return submission
    digest = hashlib.sha256(submission.content).hexdigest()
    return replace(submission, content=b"", loader=loader, digest=digest)


@dataclass(frozen=True)
class Problem:
    """An input that could not become a submission, or needs a look, and why."""

    origin: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", printable(self.origin))
        object.__setattr__(self, "message", printable(self.message, 1000))


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


def collect(paths: Iterable[str | Path]) -> tuple[list[Submission], list[Problem]]:
    """Every notebook found in ``paths`` (sorted by origin), and the problems met.

    Several notebooks for one student are all reported, each naming the others; the one
    kept follows ``DUPLICATE_RULE``.
    """
    found: list[Submission] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        for item in _walk(path, path.name):
            (found if isinstance(item, Submission) else problems).append(item)
    by_student: dict[str, list[Submission]] = {}
    for submission in sorted(found, key=lambda s: s.origin):
        by_student.setdefault(submission.student_id, []).append(submission)
    kept = []
    for student, group in by_student.items():
        group.sort(key=_preference)
        kept.append(group[0])
        if len(group) > 1:
            problems.extend(_duplicates(student, group))
    return sorted(kept, key=lambda s: s.origin), problems


def _preference(submission: Submission) -> tuple:
    """Sort key of one student's submissions: the first is graded (see DUPLICATE_RULE)."""
    lms = submission.named_by == "lms"
    stamp = submission.submitted_at.timestamp() if lms and submission.submitted_at else 0.0
    return (NAMED_BY.index(submission.named_by), -submission.lms_order if lms else 0, -stamp)


def _duplicates(student: str, group: list[Submission]) -> Iterator[Problem]:
    kept, others = group[0], group[1:]
    names = ", ".join(s.origin for s in others)
    yield Problem(
        kept.origin,
        f"student {student} has a second notebook, not graded: {names} ({DUPLICATE_RULE})",
    )
    for other in others:
        yield Problem(
            other.origin,
            f"second notebook for student {student}, not graded; graded: {kept.origin} "
            f"({DUPLICATE_RULE})",
        )


_IGNORED_FOLDERS = {".ipynb_checkpoints", "__MACOSX"}


def _walk(path: Path, name: str) -> Iterator[Submission | Problem]:
    """The submissions under ``path``; ``name`` is its path from the argument's folder (what
    ``identify`` reads). Any error on one path is a Problem for that path only."""
    try:
        if path.is_symlink():
            yield Problem(str(path), "symbolic link not followed")
        elif path.is_dir():
            root = path.parent
            for child in sorted(path.rglob("*")):
                if _IGNORED_FOLDERS & set(child.relative_to(root).parts):
                    continue  # Jupyter's autosaves, not what the student submitted
                if child.suffix.lower() in (".ipynb", ".zip") and (
                    child.is_symlink() or child.is_file()
                ):
                    yield from _walk(child, child.relative_to(root).as_posix())
        elif not path.exists():
            yield Problem(str(path), "no such file or folder")
        elif path.suffix.lower() == ".zip":
            yield from _read_archive(path)
        elif path.suffix.lower() == ".ipynb":
            status = path.stat()
            stamp = _timestamp(status.st_mtime)
            if status.st_size > MAX_NOTEBOOK_BYTES:
                yield _too_large(name, str(path), status.st_size, stamp)
            else:
                found = identify(name, str(path), path.read_bytes(), stamp)
                yield _lazy(found, partial(_read_file, path))
        else:
            yield Problem(str(path), "not a notebook (.ipynb) nor an archive (.zip)")
    except Exception as error:  # a vanished file, a denied folder, a name the OS refuses...
        yield Problem(str(path), f"unreadable ({type(error).__name__}: {error})")


def _timestamp(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds)
    except (OverflowError, OSError, ValueError):
        return None


def _read_archive(path: Path) -> Iterator[Submission | Problem]:
    """The notebooks of a zip; a corrupt member (bad deflate stream, CRC, header...) is a
    Problem naming the archive and the member, and the next member is read."""
    try:
        with path.open("rb") as file:
            directory = _directory_size(file)
        if directory is not None and directory > MAX_DIRECTORY_BYTES:
            yield Problem(str(path), f"zip directory of {directory} bytes: archive not opened")
            return
        archive = zipfile.ZipFile(path)
    except Exception as error:  # zipfile raises many kinds of errors on a corrupt archive
        yield Problem(str(path), f"unreadable zip archive ({type(error).__name__}: {error})")
        return
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ARCHIVE_MEMBERS:
            yield Problem(
                str(path),
                f"{len(members)} members, more than {MAX_ARCHIVE_MEMBERS}: the rest is skipped",
            )
            members = members[:MAX_ARCHIVE_MEMBERS]
        total = 0
        for member in members:
            origin = f"{path}!{member.filename}"
            try:
                item = _read_member(archive, member, origin)
            except Exception as error:  # zlib.error, BadZipFile, EOFError, struct.error...
                item = Problem(
                    origin, f"unreadable archive member ({type(error).__name__}: {error})"
                )
            if isinstance(item, Submission):
                total += len(item.content)
                if total > MAX_ARCHIVE_BYTES:
                    yield Problem(str(path), "archive larger than the limit; the rest is skipped")
                    return
                item = _lazy(item, partial(_read_archived, path, member.filename))
            if item is not None:
                yield item


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, origin: str
) -> Submission | Problem | None:
    """One archive member as a submission, a problem, or None when it is not a notebook."""
    name = PurePosixPath(member.filename.replace("\\", "/"))
    if name.suffix.lower() == ".zip":
        return Problem(origin, "archive inside an archive: not opened")
    if member.is_dir() or _IGNORED_FOLDERS & set(name.parts) or name.suffix.lower() != ".ipynb":
        return None
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


def _read_file(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(MAX_NOTEBOOK_BYTES + 1)


def _read_archived(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        return stream.read(MAX_NOTEBOOK_BYTES + 1)


def _directory_size(file: BinaryIO) -> int | None:
    """The size of a zip's central directory, read from its end record (zip64 too), before
    ``zipfile`` loads it all in memory; None when there is no end record."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(max(0, size - 22 - 65535))
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if directory == 0xFFFFFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        file.seek(int.from_bytes(tail[at - 12 : at - 4], "little"))
        record = file.read(56)
        if record[:4] == b"PK\x06\x06":
            directory = int.from_bytes(record[40:48], "little")
    return directory


def _too_large(name: str, origin: str, size: int, stamp: datetime | None) -> Submission:
    """A notebook over the size limit: kept as a submission, to be graded ``invalid``."""
    reason = f"notebook too large ({size} bytes, limit {MAX_NOTEBOOK_BYTES})"
    return identify(name, origin, b"", stamp, refused=reason)


def identify(
    name: str,
    origin: str,
    content: bytes,
    submitted_at: datetime | None = None,
    refused: str | None = None,
) -> Submission:
    """Who submitted this notebook. ``name`` is its path as the LMS archive or the folder
    gives it (``Name_1234_assignsubmission_file_/tp.ipynb``); the rule is in the module's
    docstring."""
    parts = PurePosixPath(name.replace("\\", "/")).parts or (name,)
    file = parts[-1]
    origin = printable(origin)

    def make(student: str, by: str, person: str | None = None, order: int = 0) -> Submission:
        person = printable(person, 100) if person else None
        return Submission(student, origin, content, person, submitted_at, refused, by, order)

    for folder in parts[:-1]:
        match = MOODLE_FOLDER.match(folder)
        if match:
            return make(match["id"], "lms", match["name"])
    # a file name: the LMS writes its id first, then the student's own file name
    matches = [m for m in (MOODLE_FILE.match(file), CANVAS.match(file)) if m]
    if matches:
        match = min(matches, key=lambda m: m.start("id"))
        order = int(match["attachment"][:18]) if match.re is CANVAS else 0
        return make(match["id"], "lms", match["name"], order)
    stem = PurePosixPath(file).stem
    if TEMPLATE_NAME.match(stem):
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
