"""What a ``dlgrade serve`` instance is made of: where its data lives, how it grades."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Project
from ..errors import DlgradeError
from ..gradebook import GRADED_RECORD
from ..grader import Settings
from ..messages import LANGUAGES

SECRET_FILE = "secret_key"


class WebConfigError(DlgradeError, ValueError):
    """A server configuration that cannot run; the message names the option."""


@dataclass(frozen=True)
class WebConfig:
    """One course's server. ``data_dir`` holds the SQLite database by default, the secret
    key of the sessions, and one graded folder per assignment (late policy, exports)."""

    data_dir: Path
    database_url: str | None = None  # any SQLAlchemy URL; default SQLite in data_dir
    settings: Settings = field(default_factory=Settings)
    scheduler: str | None = None  # a Dask scheduler's address: grade on its cluster
    project: Project = field(default_factory=Project.default)
    lang: str = "fr"
    secure_cookies: bool = False  # behind HTTPS (the reverse proxy): cookies never in clear
    session_hours: float = 12
    max_upload_bytes: int = 4 * 2**20
    link_days: float = 14  # how long a one-time sign-in link stays valid

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise WebConfigError(f"--lang: one of {', '.join(LANGUAGES)}")

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'gradebook.sqlite'}"

    def secret_key(self) -> str:
        """``$DLGRADE_SECRET_KEY``, else a key made once and kept in ``data_dir`` (0600), so
        that sessions outlive a restart; every server behind one proxy needs the same."""
        if os.environ.get("DLGRADE_SECRET_KEY"):
            return os.environ["DLGRADE_SECRET_KEY"]
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def graded(self, assignment: str) -> Path:
        """The assignment's graded folder, as ``dlgrade grade --gradebook URL`` leaves one:
        the library's feedback, late-policy and export functions read it."""
        folder = self.data_dir / "graded" / assignment
        record = folder / GRADED_RECORD
        if not record.exists():
            folder.mkdir(parents=True, exist_ok=True)
            data = {"assignment": assignment, "gradebook": self.url, "lang": self.lang}
            record.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return folder
