"""dlgrade: grade deep-learning notebooks safely, a whole class at a time.

The library API, which the ``dlgrade`` command, the web app and the tests call::

    from autograder import grade_notebook, grade_class, open_gradebook, DlgradeError

    result = grade_notebook("alice.ipynb", "mlp_softmax")      # one notebook, sandboxed
    run = grade_class("mlp_softmax", ["submissions.zip"], Path("out"))   # a whole class
    grades = open_gradebook("out").latest("mlp_softmax")       # a pandas DataFrame

Every error a caller can act on is a ``DlgradeError``. Names are imported when first used,
so that ``import autograder`` stays light for the student commands.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "grade_notebook": "grader",
    "grade_class": "class_run",
    "open_gradebook": "gradebook",
    "Settings": "grader",
    "Limits": "sandbox",
    "Project": "course",
    "DlgradeError": "errors",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'autograder' has no attribute {name!r}")
    return getattr(import_module(f".{_API[name]}", __name__), name)
