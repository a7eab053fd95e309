"""The one root of the errors dlgrade reports to its users.

Every error a user can act on derives from ``DlgradeError``; its message names the file
and what is wrong. The CLI prints it on one line. Anything else is a bug: the CLI prints
one line too, and keeps the traceback in a log file.
"""

from __future__ import annotations


class DlgradeError(Exception):
    """An error a user can act on; the message names the file and what is wrong."""
