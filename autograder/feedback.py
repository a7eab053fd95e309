"""A failed check turned into the text a student reads: what is wrong, and the named mistake."""

from __future__ import annotations

from .checks import Verdict
from .messages import Message, render
from .misconceptions import find


def feedback_text(assignment: str, verdict: Verdict, lang: str = "fr") -> str:
    """The findings of one check, then the explanation of the known mistake if one matched."""
    lines = [render(message, lang) for message in verdict.messages]
    if verdict.misconception:
        explanation = find(verdict.misconception, assignment).explain(lang)
        lines.append(
            render(
                Message("misconception", {"id": verdict.misconception, "explanation": explanation}),
                lang,
            )
        )
    return "\n".join(lines)
