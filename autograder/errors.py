"""The one root of the errors dlgrade reports to its users.

Every error a user can act on derives from ``DlgradeError``; its message names the file
and what is wrong. The CLI prints it on one line. Anything else is a bug: the CLI prints
one line too, and keeps the traceback in a log file.
"""

from __future__ import annotations

from typing import Any


class DlgradeError(Exception):
    """An error a user can act on; the message names the file and what is wrong.

    ``reason`` (optional) names the error's sentence in the catalogues' ``errors``
    section, filled with ``details``: the web application says it in the visitor's
    language and in its own words (a form's field, not a command-line flag)."""

    def __init__(self, message: str = "", reason: str = "", **details: Any):
        super().__init__(message)
        self.reason = reason
        self.details = details


class MissingExtra(DlgradeError, ImportError):
    """A feature whose optional dependencies are not installed: the message says which
    extra to install (a student's install has no otter, Dask or web server)."""

    def __init__(self, extra: str, feature: str):
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'dlgrade[{extra}]'")
