"""The hidden test cells of the otter autograder call ``verify``: one check, in otter's kernel.

Otter runs tests in the student's own process, so this path is only as trustworthy as
otter itself; ``dlgrade grade`` runs the same checks with the submission sandboxed.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from .checks import checks_for, judge
from .execution.plan import run_plan
from .execution.standins import STANDINS
from .feedback import feedback_text


def verify(assignment: str, check_id: str, env: MutableMapping[str, Any], lang: str = "fr") -> None:
    """Run one check on the notebook's namespace; raise AssertionError with the feedback."""
    check = checks_for(assignment)[check_id]
    answers = run_plan(list(check.calls), env, STANDINS)
    verdict = judge(assignment, check_id, answers)
    if not verdict.passed:
        raise AssertionError(feedback_text(assignment, verdict, lang))
