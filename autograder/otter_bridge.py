"""The hidden test cells of the masters call ``verify``: one check, in otter's kernel.

Only ``dlgrade build`` runs it, when otter assign checks the master's own solutions
against its hidden tests: trusted code on both sides. Students are never graded by it.
In an otter kernel a student controls the namespace, NumPy and ``verify`` itself, so the
autograder zip does not run these cells: its plugin (``otter_run``) grades with the
sandboxed engine instead, as ``dlgrade grade`` does.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from .execution.plan import run_plan
from .feedback import feedback_text
from .judging import checks_for, code, judge


def verify(assignment: str, check_id: str, env: MutableMapping[str, Any], lang: str = "fr") -> None:
    """Run one check on the notebook's namespace; raise AssertionError with the feedback."""
    check = checks_for(assignment)[check_id]
    answers = run_plan(list(check.calls), env, code(assignment).standins)
    verdict = judge(assignment, check_id, answers)
    if not verdict.passed:
        raise AssertionError(feedback_text(assignment, verdict, lang))
