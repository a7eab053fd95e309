"""Where submissions come from: notebooks, folders, and the LMSs' bulk-download zips.

Archives are read member by member in memory, never extracted: no path in a zip can
write anywhere. Sizes are capped before reading, and the bytes actually read are capped
too (a zip's declared sizes can lie). The student's identity comes from the LMS file
naming when there is one (Canvas, Moodle), else from the notebook's metadata, else from
the file name.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

# Canvas: "smithjohn_12345_67890_tp1.ipynb", late ones "smithjohn_late_12345_67890_tp1.ipynb"
CANVAS = re.compile(
    r"^(?P<name>[^_/]+?)(?:_late|_LATE)?_(?P<id>\d+)_(?P<attachment>\d+)_(?P<file>.+)$"
)
# Moodle: "Jean Dupont_4321_assignsubmission_file_/tp1.ipynb" (folders) or the same joined by "_"
MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_/?(?P<file>.*)$"
)


@dataclass(frozen=True)
class Submission:
    """One notebook to grade, with who submitted it and where it came from."""

    student_id: str
    origin: str
    content: bytes = field(repr=False)
    student_name: str | None = None
    submitted_at: datetime | None = None
    refused: str | None = None  # why it cannot be graded (too large...): graded as invalid

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Problem:
    """An input that could not become a submission, and why."""

    origin: str
    message: str


def collect(paths: Iterable[str | Path]) -> tuple[list[Submission], list[Problem]]:
    """Every notebook found in ``paths``; duplicates of one student are reported, the
    first (in sorted order) is kept."""
    found: list[Submission] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        for item in _walk(path):
            (found if isinstance(item, Submission) else problems).append(item)
    kept: dict[str, Submission] = {}
    for submission in sorted(found, key=lambda s: s.origin):
        if submission.student_id in kept:
            problems.append(
                Problem(
                    submission.origin,
                    f"second notebook for student {submission.student_id} "
                    f"(kept {kept[submission.student_id].origin})",
                )
            )
        else:
            kept[submission.student_id] = submission
    return list(kept.values()), problems


def _walk(path: Path) -> Iterator[Submission | Problem]:
    if path.is_symlink():
        yield Problem(str(path), "symbolic link not followed")
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.suffix.lower() in (".ipynb", ".zip") and (
                child.is_file() or child.is_symlink()
            ):
                yield from _walk(child)
    elif not path.exists():
        yield Problem(str(path), "no such file or folder")
    elif path.suffix.lower() == ".zip":
        yield from _read_archive(path)
    elif path.suffix.lower() == ".ipynb":
        size = path.stat().st_size
        stamp = datetime.fromtimestamp(path.stat().st_mtime)
        if size > MAX_NOTEBOOK_BYTES:
            yield _too_large(path.name, str(path), size, stamp)
        else:
            yield identify(path.name, str(path), path.read_bytes(), stamp)
    else:
        yield Problem(str(path), "not a notebook (.ipynb) nor an archive (.zip)")


def _read_archive(path: Path) -> Iterator[Submission | Problem]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        yield Problem(str(path), f"unreadable zip archive: {error}")
        return
    with archive:
        total = 0
        for member in archive.infolist():
            name = PurePosixPath(member.filename.replace("\\", "/"))
            origin = f"{path}!{member.filename}"
            if name.suffix.lower() == ".zip":
                yield Problem(origin, "archive inside an archive: not opened")
                continue
            if member.is_dir() or "__MACOSX" in name.parts or name.suffix.lower() != ".ipynb":
                continue
            stamp = datetime(*member.date_time) if member.date_time[0] >= 1980 else None
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO and member.file_size > 1024 * 1024:
                yield Problem(origin, f"compression ratio {ratio:.0f}:1 looks like a zip bomb")
                continue
            if member.file_size > MAX_NOTEBOOK_BYTES:
                yield _too_large(str(name), origin, member.file_size, stamp)
                continue
            total += member.file_size
            if total > MAX_ARCHIVE_BYTES:
                yield Problem(str(path), "archive larger than the limit; the rest is skipped")
                return
            try:
                with archive.open(member) as stream:
                    content = stream.read(MAX_NOTEBOOK_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
                yield Problem(origin, f"unreadable archive member: {error}")
                continue
            if len(content) > MAX_NOTEBOOK_BYTES:
                yield _too_large(str(name), origin, len(content), stamp)
                continue
            yield identify(str(name), origin, content, stamp)


def _too_large(name: str, origin: str, size: int, stamp: datetime | None) -> Submission:
    """A notebook over the size limit: kept as a submission, to be graded ``invalid``."""
    student = identify(name, origin, b"", stamp)
    reason = f"notebook too large ({size} bytes, limit {MAX_NOTEBOOK_BYTES})"
    return Submission(student.student_id, origin, b"", student.student_name, stamp, reason)


def identify(
    name: str, origin: str, content: bytes, submitted_at: datetime | None = None
) -> Submission:
    """Who submitted this notebook, from its LMS file name, its metadata or its file name."""
    for pattern in (CANVAS, MOODLE):
        for part in (PurePosixPath(name).name, name):
            match = pattern.match(part)
            if match:
                return Submission(match["id"], origin, content, match["name"], submitted_at)
    student = _metadata_student(content)
    return Submission(student or PurePosixPath(name).stem, origin, content, None, submitted_at)


def _metadata_student(content: bytes) -> str | None:
    """``metadata.dlgrade.student_id`` of a notebook, if present (cheap and tolerant)."""
    try:
        metadata = json.loads(content).get("metadata", {})
        student = metadata.get("dlgrade", {}).get("student_id")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return str(student) if isinstance(student, str | int) and str(student).strip() else None
