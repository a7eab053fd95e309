"""Server-side rendering: Jinja2 with autoescaping, the feedback pages of the library, and
students' Markdown without any HTML of theirs.

The application's templates extend the library's ``base.html.j2`` (one look for the
feedback pages and the application), and a feedback page is the library's own
``feedback.html.j2`` filled by ``pages.feedback_context``: the same page as
``dlgrade feedback``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..errors import DlgradeError
from ..messages import error_text, points_text, score_text, texts
from ..pages import code_spans
from .security import CSRF_FIELD, csrf_token

environment = Environment(
    loader=ChoiceLoader(
        [PackageLoader("autograder.web", "templates"), PackageLoader("autograder", "templates")]
    ),
    autoescape=select_autoescape(["html", "html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(
    num=score_text, pts=points_text, error_text=error_text, code_spans=code_spans
)

# Raw HTML is off: a student's <script>, <img onerror> or <iframe> is shown as text, and
# markdown-it refuses javascript:, vbscript: and data: links.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)


RENDERED_CHARS = 50_000
"""Of a student's Markdown, what a page renders: a longer answer (a table of thousands of
columns) would take the server tens of seconds and the browser more; the page says it is cut."""
_MARK = re.compile("\ue000(\\d+)\ue001")
_ATTRIBUTE = re.compile(r'="[^"]*"')


def markdown_html(text: str) -> Markup:
    """A student's (or a rubric's) Markdown as safe HTML, its first ``RENDERED_CHARS``.
    LaTeX (``$…$``) is kept as written, in a ``math`` span (as plain text in an attribute,
    such as an image's description), untouched by Markdown's emphasis rules."""
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\ue000{len(spans) - 1}\ue001"  # private-use marks: Markdown leaves them

    # the marks are the renderer's alone: a student's own would name spans that do not exist
    text = text[:RENDERED_CHARS].replace("\ue000", "").replace("\ue001", "")
    html = _markdown.render(_MATH.sub(keep, text))
    html = _ATTRIBUTE.sub(lambda a: _MARK.sub(lambda m: escape(spans[int(m[1])]), a[0]), html)
    return Markup(
        _MARK.sub(lambda m: f'<span class="math">{escape(spans[int(m[1])])}</span>', html)
    )


def when(moment: datetime | None) -> str:
    """A date and time as people read it (server time, to the minute)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def local_input(moment: datetime | None) -> str:
    """A date and time as an ``<input type=datetime-local>`` holds it."""
    return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""


environment.filters.update(markdown=markdown_html, when=when, local_input=local_input)
environment.globals.update(rendered_chars=RENDERED_CHARS)


def language(request: Request) -> str:
    return request.session.get("lang") or request.app.state.config.lang


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """An application page in the visitor's language, with the session's CSRF token."""
    lang = language(request)
    common = {
        "request": request,
        "lang": lang,
        "tx": texts("web", lang),
        "user": getattr(request.state, "user", None),
        "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD,
    }
    body = environment.get_template(template).render({**common, **context})
    return HTMLResponse(body, status_code=status_code)


def text(request: Request, key: str, **values: Any) -> str:
    return texts("web", language(request))[key].format(**values)


def error_text(request: Request, error: DlgradeError, uploads: dict[str, str] | None = None) -> str:
    """A library error as the visitor reads it: its sentence of the ``errors`` catalogue
    when it has one (in the web's words: a form's field, not a command-line flag), else
    its message. ``uploads``: the server's copy of an uploaded file → the name it was
    sent under, so that no server path is shown."""
    lang = language(request)
    sentences = texts("errors", lang)
    uploads = uploads or {}
    if error.reason not in sentences:
        message = str(error)
        for path, name in uploads.items():
            message = message.replace(path, name)
        return message

    def shown(value: Any) -> Any:
        if isinstance(value, list | tuple):
            names = ", ".join(map(str, value[:5]))
            more = len(value) - 5
            return f"{names} {sentences['more'].format(n=more)}" if more > 0 else names
        return uploads.get(str(value), value)

    details = {key: shown(value) for key, value in error.details.items()}
    return sentences[error.reason].format(how=sentences["times_how"], **details)
