"""What a student does: see the assignments, download a template, submit, read feedback.

A student's pages name no student: everything is looked up from the session, and an
attempt id in a URL is served only to its owner (or an instructor); anyone else gets the
same 404 as for an attempt that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..assignment import load_assignment
from ..feedback import assignment_title, load_settings, question_title, status_text
from ..late import ON_TIME, Lateness, load_policy
from ..manual import hand_grades
from ..notebook import InvalidNotebook, parse
from ..pages import feedback_context
from ..results import normalized
from .auth import requires
from .render import language, page, text
from .security import checked_form
from .store import AssignmentSettings, User, now


def assignment_name(request: Request) -> str:
    """The assignment named in the URL, if this course has it (404 otherwise)."""
    name = request.path_params["name"]
    if name not in request.app.state.config.project.names():
        raise HTTPException(404)
    return name


def titles(request: Request, name: str) -> tuple[str, dict[str, str]]:
    """An assignment's title and its questions' titles, in the visitor's language, as the
    feedback pages give them."""
    lang = language(request)
    assignment = load_assignment(name, request.app.state.config.project.root)
    settings = load_settings(assignment.master)
    questions = {q.name: question_title(q, lang, settings) for q in assignment.questions}
    return assignment_title(assignment.master, lang, settings), questions


def deadline_for(request: Request, settings: AssignmentSettings, login: str) -> datetime | None:
    """The student's deadline: an extension of the late policy, else the assignment's."""
    policy = load_policy(request.app.state.config.graded(settings.name))
    extension = policy.extensions.get(login) if policy else None
    return extension or settings.deadline


@dataclass(frozen=True)
class LateNotice:
    """What a submission received now would cost: its penalty, and the on-time attempt
    it would replace for the grade (only the latest submission counts: an on-time one
    that a late one already replaced is not asked about again)."""

    penalty_percent: float
    replaces: datetime | None


def late_notice(
    request: Request, settings: AssignmentSettings, login: str, tried: list[dict], at: datetime
) -> LateNotice | None:
    """None while a submission would still be on time (grace and extension included)."""
    policy = load_policy(request.app.state.config.graded(settings.name))
    deadline = deadline_for(request, settings, login)

    def lateness(moment: datetime) -> Lateness:
        if policy is not None:
            return policy.lateness(login, moment)
        return Lateness(0.01, 0.0) if deadline is not None and moment > deadline else ON_TIME

    if not lateness(at).late:
        return None
    latest = max((a["received_at"] for a in tried), default=None)
    on_time = latest if latest is not None and not lateness(latest).late else None
    return LateNotice(lateness(at).penalty_percent, on_time)


def policy_text(request: Request, settings: AssignmentSettings) -> str:
    parts = []
    if settings.per_day:
        parts.append(text(request, "policy_per_day", n=settings.per_day))
    if settings.cooldown_minutes:
        parts.append(text(request, "policy_cooldown", n=settings.cooldown_minutes))
    return ", ".join(parts) or text(request, "policy_none")


def next_allowed(settings: AssignmentSettings, previous: list[datetime], at: datetime) -> datetime:
    """When the attempt policy lets this student submit again (``at`` if now):
    ``per_day`` attempts in any 24 hours, and ``cooldown_minutes`` between two."""
    moments = [at]
    if settings.per_day:
        recent = sorted(t for t in previous if t > at - timedelta(days=1))
        if len(recent) >= settings.per_day:
            moments.append(recent[-settings.per_day] + timedelta(days=1))
    if settings.cooldown_minutes and previous:
        moments.append(max(previous) + timedelta(minutes=settings.cooldown_minutes))
    return max(moments)


@requires("student")
def assignments(request: Request) -> Response:
    state = request.app.state
    user: User = request.state.user
    rows = []
    for name in state.config.project.names():
        settings = state.store.settings(name)
        tried = with_grades(request, name, state.store.attempts_of(user.id, name))
        rows.append(
            {
                "name": name,
                "title": titles(request, name)[0],
                "settings": settings,
                "latest": tried[0] if tried else None,
                "count": len(tried),
                "deadline": deadline_for(request, settings, user.login),
                "open": settings.is_open(now()),
                "shown": feedback_shown(request, settings),
            }
        )
    return page(request, "assignments.html.j2", rows=rows, now=now())


@requires("student")
def assignment(request: Request) -> Response:
    return assignment_page(request)


def assignment_page(request: Request, error: str = "") -> Response:
    """An assignment as its student sees it: dates, policy, the upload form, attempts."""
    name = assignment_name(request)
    state = request.app.state
    user: User = request.state.user
    settings = state.store.settings(name)
    tried = with_grades(request, name, state.store.attempts_of(user.id, name))
    moment = now()
    deadline = deadline_for(request, settings, user.login)
    wait = next_allowed(settings, [a["received_at"] for a in tried], moment)
    return page(
        request,
        "assignment.html.j2",
        400 if error else 200,
        name=name,
        title=titles(request, name)[0],
        settings=settings,
        shown=feedback_shown(request, settings),
        attempts=tried,
        deadline=deadline,
        now=moment,
        open=settings.is_open(moment),
        wait=wait if wait > moment else None,
        late=late_notice(request, settings, user.login, tried, moment),
        policy=policy_text(request, settings),
        error=error,
        max_mb=state.config.max_upload_bytes // 2**20,
    )


@requires("student")
def template(request: Request) -> Response:
    """The assignment's notebook, from its opening on."""
    name = assignment_name(request)
    path = request.app.state.config.project.template(name)
    opens_at = request.app.state.store.settings(name).opens_at
    if not path.is_file() or (opens_at is not None and now() < opens_at):
        raise HTTPException(404)
    return FileResponse(path, media_type="application/x-ipynb+json", filename=f"{name}.ipynb")


def _not_gradable(request: Request, content: bytes, assignment: str) -> str | None:
    """Why the grader could not grade this file (not a notebook, another assignment's...),
    said before it becomes an attempt: a slip of the file picker costs no attempt and
    never replaces a graded one. Its code is never run here."""
    try:
        parse(content, assignment)
    except InvalidNotebook as invalid:
        return text(request, "not_gradable", reason=invalid.render(language(request)))
    return None


@requires("student")
async def submit(request: Request) -> Response:
    """Store the notebook with the server's receipt time, queue it, show its attempt."""
    received = now()
    name = assignment_name(request)
    state = request.app.state
    user: User = request.state.user
    form = await checked_form(request)
    settings = state.store.settings(name)
    upload = form.get("notebook")
    limit = state.config.max_upload_bytes
    content = await upload.read(limit + 1) if hasattr(upload, "read") else b""
    attempts = state.store.attempts_of(user.id, name)
    previous = [a["received_at"] for a in attempts]
    in_flight = any(a["state"] != "done" for a in state.store.attempts_of(user.id))
    error = None
    if not settings.is_open(received):
        error = text(request, "assignment_closed")
    elif in_flight:  # one attempt per student in the queue: nobody can hold up the class
        error = text(request, "still_grading")
    elif next_allowed(settings, previous, received) > received:
        error = text(request, "wait_until", date=next_allowed(settings, previous, received))
    elif not state.upload_limiter.allow(str(user.id)):
        error = text(request, "slow_down")
    elif len(content) > limit:
        error = text(request, "too_large", mb=limit // 2**20)
    elif (late := late_notice(request, settings, user.login, attempts, received)) and (
        late.replaces and form.get("replace_on_time") != "yes"
    ):  # an on-time grade is given up only knowingly
        error = text(request, "late_confirm_missing")
    else:
        error = _not_gradable(request, content, name)
    if error:
        return assignment_page(request, error)
    file_name = str(getattr(upload, "filename", "") or f"{name}.ipynb")[:200]
    attempt_id = state.store.add_attempt(user.id, name, file_name, content, received)
    state.worker.notify()
    return RedirectResponse(f"/attempts/{attempt_id}", 303)


def owned_attempt(request: Request) -> dict:
    """The attempt in the URL, if it is the visitor's own (or the visitor teaches)."""
    text = request.path_params["attempt_id"]
    if not (text.isascii() and text.isdigit() and len(text) <= 18):  # an id SQLite can hold
        raise HTTPException(404)
    found = request.app.state.store.attempt(int(text))
    user: User = request.state.user
    if found is None or not (user.is_instructor or found["user_id"] == user.id):
        raise HTTPException(404)
    return found


def feedback_shown(request: Request, settings: AssignmentSettings) -> bool:
    """Whether the visitor sees hidden-check findings now: at once when the instructor
    allows it, else from the student's deadline on, and always once released."""
    if settings.released or settings.instant_feedback or request.state.user.is_instructor:
        return True
    deadline = deadline_for(request, settings, request.state.user.login)
    return deadline is not None and now() >= deadline


def counted_submission(request: Request, name: str, student_id: str) -> str | None:
    """The hash of the submission a student's grade comes from: the latest the gradebook
    holds for them (hand grades and the late penalty are that submission's)."""
    for summary in request.app.state.gradebook.latest_results(name, detail=False):
        if summary["student_id"] == student_id:
            return summary["submission_hash"]
    return None


def feedback_page_context(request: Request, result: dict) -> dict:
    """The library's feedback page of one normalized result: hand grades, points given on
    appeal, an excusal and the late penalty once released, or for an instructor (before,
    the hidden checks alone), and only on the submission the grade comes from (an earlier
    attempt shows its checks)."""
    state = request.app.state
    name = result["assignment"]
    counted = counted_submission(request, name, result["student_id"])
    grades, graded_by_hand, policy, overrides, excused = {}, {}, None, None, None
    released = state.store.settings(name).released or request.state.user.is_instructor
    if released and result["submission_hash"] == counted:
        by_hand, graded_by_hand = hand_grades(state.gradebook, name)
        grades = by_hand.get(result["student_id"], {})
        policy = load_policy(state.config.graded(name))
        overrides = state.gradebook.overrides(name).get(result["student_id"])
        excused = state.gradebook.excused(name).get(result["student_id"])
    context = feedback_context(result, grades, graded_by_hand, policy, language(request),
                               overrides=overrides, excused=excused)  # fmt: skip
    return {**context, "superseded": counted is not None and result["submission_hash"] != counted}


def with_grades(request: Request, name: str, attempts: list[dict]) -> list[dict]:
    """Each graded attempt with the grade its feedback page shows (``grade``: points and
    maximum): the final grade for the one the grade comes from, its checks' for others."""
    done = [a for a in attempts if a["state"] == "done" and a.get("result")]
    if not done:
        return attempts
    first = normalized(done[0]["result"])
    counted = counted_submission(request, name, first["student_id"])
    for attempt in done:
        result = normalized(attempt["result"])
        if result["submission_hash"] == counted:
            context = feedback_page_context(request, result)
            attempt["grade"] = (context["final"], context["max_total"])
        else:  # its hidden checks alone: said so next to the grade
            attempt["grade"] = (result["score"], result["max_score"])
            attempt["superseded"] = True
    return attempts


@requires()
def attempt(request: Request) -> Response:
    found = owned_attempt(request)
    state = request.app.state
    settings = state.store.settings(found["assignment"])
    number = sum(
        1
        for a in state.store.attempts_of(found["user_id"], found["assignment"])
        if a["id"] <= found["id"]
    )
    context = {"attempt": found, "number": number, "settings": settings}
    if found["state"] != "done":
        ahead = state.store.queued_before(found["id"])
        return page(request, "attempt.html.j2", ahead=ahead, **context)
    if feedback_shown(request, settings):
        return page(
            request,
            "attempt_feedback.html.j2",
            **feedback_page_context(request, normalized(found["result"])),
            **context,
        )
    status = status_text(normalized(found["result"]), language(request))
    return page(
        request, "attempt.html.j2", later=text(request, "feedback_later", status=status), **context
    )


@requires()
def attempt_status(request: Request) -> Response:
    found = owned_attempt(request)
    ahead = request.app.state.store.queued_before(found["id"]) if found["state"] == "queued" else 0
    return JSONResponse({"state": found["state"], "ahead": ahead})


routes = [
    Route("/assignments", assignments),
    Route("/assignments/{name}", assignment),
    Route("/assignments/{name}/template", template),
    Route("/assignments/{name}/submit", submit, methods=["POST"]),
    Route("/attempts/{attempt_id}", attempt),
    Route("/attempts/{attempt_id}/status", attempt_status),
]
