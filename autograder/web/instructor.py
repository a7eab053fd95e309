"""What an instructor does: accounts from the roster, the class at a glance, settings, late
policy, hand grading, release, LMS exports, grading runs on an LMS archive.

Every page here requires the instructor role. Grading, hand grades, late policy and
exports are the library's own functions; this module gathers forms and shows results.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import threading
import traceback
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..assignment import Question, load_assignment
from ..class_run import grade_class
from ..errors import DlgradeError
from ..feedback import attention_text, mistake, needs_attention
from ..final_grade import class_grades, grade_table
from ..late import LatePolicy, load_policy
from ..lms_export import (
    LMS,
    ROSTER_COLUMNS,
    RosterError,
    UnfinishedHandGrading,
    export,
    read_roster,
)
from ..manual import (
    collect_answers,
    excuse,
    give_on_appeal,
    hand_grades,
    manual_question,
    student_answer,
    template_answer,
)
from ..messages import number_text
from ..notebook import read_notebook
from ..submissions import Intake, clean_student_id
from .auth import requires
from .render import error_text, language, page, text
from .security import checked_form, new_token
from .store import AssignmentSettings, now
from .student import assignment_name, feedback_page_context, titles, with_grades
from .worker import attempt_of

ARCHIVES = "archives"


@requires("instructor")
def dashboard(request: Request) -> Response:
    state = request.app.state
    counts = state.store.queue_counts()
    rows = [
        {
            "name": name,
            "title": titles(request, name)[0],
            "settings": state.store.settings(name),
            "graded": len(state.gradebook.latest(name)),
        }
        for name in state.config.project.names()
    ]
    return page(
        request,
        "instructor.html.j2",
        rows=rows,
        queued=counts.get("queued", 0),
        running=counts.get("running", 0),
    )


# --- accounts -------------------------------------------------------------------------


@requires("instructor")
def students(request: Request) -> Response:
    count = _number_in_address(request, "imported")
    return students_page(
        request, message="" if count is None else text(request, "imported", n=count)
    )


def _number_in_address(request: Request, name: str) -> int | None:
    """The number a form's redirection put in the address (how many were imported,
    queued...), for the page's message; None if there is none."""
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def students_page(
    request: Request, links: list[tuple[str, str]] | None = None, message: str = "", error: str = ""
) -> Response:
    return page(
        request,
        "students.html.j2",
        400 if error else 200,
        students=request.app.state.store.students(),
        links=links or [],
        message=message,
        error=error,
        days=request.app.state.config.link_days,
    )


@requires("instructor")
async def import_roster(request: Request) -> Response:
    """Create or update one student account per roster row (the roster of the exports)."""
    form = await checked_form(request)
    upload = form.get("roster")
    content = await upload.read() if hasattr(upload, "read") else b""
    store = request.app.state.store
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_bytes(content)
        try:
            accounts = roster_accounts(path, store.emails())
        except DlgradeError as error:
            sent = str(getattr(upload, "filename", "") or "roster.csv")
            return students_page(request, error=error_text(request, error, {str(path): sent}))
    for account in accounts:
        store.add_user(account.login, "student", account.name, account.email, account.row)
    # Redirected, so that reloading the page does not send the roster again.
    return RedirectResponse(f"/instructor/students?imported={len(accounts)}", 303)


@dataclass(frozen=True)
class RosterAccount:
    """A student account as a roster row gives it."""

    login: str
    name: str
    email: str
    row: dict[str, str]  # the roster row (ROSTER_COLUMNS): the student's LMS identities


def roster_accounts(path: Path, emails: Mapping[str, str]) -> list[RosterAccount]:
    """The accounts of a roster file, refused (``RosterError``, naming the rows) when it
    gives one id twice (which row's email and name hold would be a guess) or one email,
    in any case, to two accounts, or to an account it does not name (``emails``: login →
    email of the accounts there): signing in by email opens the one account with that
    address, so a second would lock the first out."""
    accounts: dict[str, tuple[int, RosterAccount]] = {}
    for person in read_roster(path).to_dict("records"):
        login, line = clean_student_id(person["student_id"]), int(person["line"])
        if login is None:
            continue
        if login in accounts:
            first = accounts[login][0]
            raise RosterError(
                f"{path}: rows {first} and {line}: student_id {login} twice; keep one row per "
                "student",
                "roster_id_twice",
                file=path, first=first, line=line, student=login,
            )  # fmt: skip
        name = " ".join(part for part in (person["first_name"], person["last_name"]) if part)
        row = {column: person[column] for column in ROSTER_COLUMNS}
        accounts[login] = (line, RosterAccount(login, name or login, person["email"], row))
    owners: dict[str, tuple[str, int | None]] = {
        email.lower(): (login, None) for login, email in emails.items() if login not in accounts
    }
    for login, (line, account) in accounts.items():
        email = account.email.strip()
        if not email:
            continue
        other, first = owners.setdefault(email.lower(), (login, line))
        if other == login:
            continue
        if first is None:
            raise RosterError(
                f"{path}: row {line}: email {email} is account {other}'s already (in any case): "
                "signing in by email would open neither; give another",
                "roster_email_taken",
                file=path, line=line, email=email, other=other,
            )  # fmt: skip
        raise RosterError(
            f"{path}: rows {first} and {line}: {other} and {login} have one email, {email} (in "
            "any case): signing in by email would open neither; give each their own",
            "roster_email_twice",
            file=path, first=first, line=line, email=email, other=other, student=login,
        )  # fmt: skip
    return [account for _, account in accounts.values()]


def make_link(request: Request, user_id: int) -> str:
    """A new one-time sign-in link for an account (shown once, stored hashed)."""
    token = new_token()
    days = request.app.state.config.link_days
    request.app.state.store.add_login_link(user_id, token, timedelta(days=days))
    return f"{str(request.base_url).rstrip('/')}/link/{token}"


@requires("instructor")
async def links(request: Request) -> Response:
    """One-time links for one student (``user``) or for every student without a password."""
    form = await checked_form(request)
    everyone = request.app.state.store.students()
    wanted = str(form.get("user", ""))
    chosen = (
        [s for s in everyone if str(s.id) == wanted]
        if wanted
        else [s for s in everyone if not s.password_hash]
    )
    made = [(s.login, make_link(request, s.id)) for s in chosen]
    return students_page(request, links=made)


# --- the class ------------------------------------------------------------------------


def _full_marks_share(points: Iterable[float | None], full: float) -> float | None:
    """The share of full marks among the students who have points on a question; None
    while none has (a question graded by hand and not started is not 0 % success)."""
    given = [p for p in points if p is not None and p == p]  # NaN: not graded yet
    return sum(p >= full for p in given) / len(given) if given else None


def class_view(request: Request, name: str) -> dict:
    """The class at a glance: one row per student (questions, total after the late
    penalty, status), success per question, frequent named mistakes, incidents."""
    state = request.app.state
    lang = language(request)
    assignment = load_assignment(name, state.config.project.root)
    results = {r["student_id"]: r for r in state.gradebook.latest_results(name)}
    policy = load_policy(state.config.graded(name))
    # Students whose time cannot be trusted (an archive's file dates...) get no penalty
    # here, and are named; the exports refuse until their times are given.
    graded = class_grades(state.gradebook, name, policy, strict=False)
    problem = graded.times_problem
    table = grade_table(state.gradebook, assignment, policy, strict=False)
    questions = [
        c
        for c in table.columns
        if c not in ("student_id", "assignment", "late_penalty", "score", "max_score", "status")
    ]
    maxima = {q.name: q.points for q in assignment.questions}
    names = {u.login: u.name for u in state.store.students()}
    rows = []
    for record in table.to_dict("records"):
        grade = graded.grades.get(record["student_id"])  # None: excused, with no notebook
        penalty = grade.lateness.penalty_percent if grade else 0
        if problem and record["student_id"] in problem.students:
            late = text(request, "time_unknown")
        elif grade and grade.lateness.late and not grade.excused:  # no grade, no penalty
            late = f"−{number_text(penalty, lang)} %" if penalty else "0 %"
        else:
            late = ""
        rows.append(
            {
                "student": record["student_id"],
                "name": names.get(record["student_id"])
                or results.get(record["student_id"], {}).get("student_name")
                or "",
                "scores": [record[q] for q in questions],
                "total": None if grade is None or grade.excused else record["score"],
                "max": record["max_score"],
                "status": record["status"],
                "late": late,
                "late_note": grade.late_note(lang) if grade and not grade.excused else "",
            }
        )
    success = [(q, _full_marks_share(table[q], maxima.get(q, 0))) for q in questions]
    counted = Counter(
        m for r in results.values() for m in {t["misconception"] for t in r["tests"]} if m
    )
    mistakes = [(mistake(m, name, lang).title, count) for m, count in counted.most_common(10)]
    incidents = [
        {
            "student": r["student_id"],
            "status": r["status"],
            "text": attention_text(r, lang),
            "incident": r.get("incident") or "",
        }
        for r in results.values()
        if needs_attention(r)
    ]
    return {
        "questions": questions,
        "maxima": maxima,
        "rows": rows,
        "success": success,
        "mistakes": mistakes,
        "incidents": incidents,
        "policy": policy,
        "warning": error_text(request, problem) if problem else "",
        "manual": [q for q in assignment.questions if q.manual],
        "titles": titles(request, name)[1],
        "title": titles(request, name)[0],
    }


@requires("instructor")
def class_page(request: Request) -> Response:
    requeued = _number_in_address(request, "requeued")
    policy = load_policy(request.app.state.config.graded(assignment_name(request)))
    if request.query_params.get("saved") == "late" and policy is not None:
        return class_response(request, late_saved=_policy_text(request, policy))
    if "saved" in request.query_params:
        message = text(request, "saved")
    elif requeued is not None:
        message = text(request, "requeued", n=requeued)
    else:
        message = ""
    return class_response(request, message=message)


@dataclass(frozen=True)
class FailedForm:
    """A form of the class page that was refused: which one (``settings``, ``late``,
    ``extension``), why, and what was typed, shown again in it rather than lost."""

    form: str
    error: str
    typed: Mapping[str, str]


def _policy_text(request: Request, policy: LatePolicy) -> str:
    """What the late policy now is, said after it is saved (an emptied form included)."""
    if not policy.percent_per_unit:
        return text(request, "late_saved_none", extensions=len(policy.extensions))
    lang = language(request)
    return text(
        request,
        "late_saved",
        percent=number_text(policy.percent_per_unit, lang),
        unit=text(request, policy.unit),
        cap=number_text(policy.cap_percent, lang),
        extensions=len(policy.extensions),
    )


def class_response(
    request: Request,
    message: str = "",
    error: str = "",
    partial_export: str = "",
    failed: FailedForm | None = None,
    late_saved: str = "",
) -> Response:
    name = assignment_name(request)
    state = request.app.state
    return page(
        request,
        "class.html.j2",
        400 if error or failed else 200,
        name=name,
        settings=state.store.settings(name),
        message=message,
        error=error,
        failed=failed,
        late_saved=late_saved,
        partial_export=partial_export,
        lms=LMS,
        runs=[r for r in state.runs.values() if r.assignment == name],
        known_students=sorted(_known_students(request, name)),
        **class_view(request, name),
    )


class FormError(ValueError):
    """A form field the instructor must correct: the catalogue's sentence, filled."""

    def __init__(self, key: str, **values: str):
        super().__init__(key)
        self.key, self.values = key, values

    def text(self, request: Request) -> str:
        return text(request, self.key, **self.values)


def _date(request: Request, form, field: str, label: str) -> datetime | None:
    value = str(form.get(field) or "").strip()
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        raise FormError("bad_date", field=text(request, label)) from None


def _count(request: Request, form, field: str, label: str) -> int | None:
    value = str(form.get(field) or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) <= 0:
        raise FormError("bad_count", field=text(request, label))
    return int(value)


def _percent(request: Request, form, field: str, label: str, default: float) -> float:
    value = str(form.get(field) or "").strip().replace(",", ".")
    try:
        number = float(value) if value else default
    except ValueError:
        number = -1.0
    if not 0 <= number <= 100:  # NaN fails too
        raise FormError("bad_percent", field=text(request, label))
    return number


def _settings(request: Request, name: str, form) -> AssignmentSettings:
    """The settings form, checked: dates in order, and hidden feedback that will come."""
    settings = AssignmentSettings(
        name,
        _date(request, form, "opens_at", "opens"),
        _date(request, form, "deadline", "deadline"),
        _date(request, form, "closes_at", "closes"),
        _count(request, form, "per_day", "per_day"),
        _count(request, form, "cooldown_minutes", "cooldown"),
        form.get("instant_feedback") == "on",
        form.get("released") == "on",
        str(form.get("lms_id") or "").strip()[:200],
    )
    opens, deadline, closes = settings.opens_at, settings.deadline, settings.closes_at
    if opens and deadline and opens >= deadline:
        raise FormError("opens_after_deadline")
    if deadline and closes and closes < deadline:
        raise FormError("closes_before_deadline")
    if opens and closes and closes <= opens:
        raise FormError("closes_before_opens")
    if not (settings.instant_feedback or settings.released or deadline):
        raise FormError("hidden_forever")
    return settings


@requires("instructor")
async def save_settings(request: Request) -> Response:
    name = assignment_name(request)
    form = await checked_form(request)
    try:
        settings = _settings(request, name, form)
    except FormError as error:
        return class_response(request, failed=_failed("settings", error.text(request), form))
    state = request.app.state
    state.store.save_settings(settings)
    policy = load_policy(state.config.graded(name))
    if policy is not None and settings.deadline and policy.deadline != settings.deadline:
        replace(policy, deadline=settings.deadline).save(state.config.graded(name))
    return RedirectResponse(f"/instructor/assignments/{name}?saved=1", 303)


def _failed(which: str, error: str, form) -> FailedForm:
    typed = {key: value for key, value in form.items() if isinstance(value, str)}
    return FailedForm(which, error, typed)


def _known_students(request: Request, name: str) -> set[str]:
    """Whom an extension can be for: the accounts, and the students graded from archives."""
    state = request.app.state
    graded = {r["student_id"] for r in state.gradebook.latest_results(name, detail=False)}
    return graded | {account.login for account in state.store.students()}


def _late_policy(request: Request, name: str, form, deadline: datetime) -> LatePolicy:
    """The late policy after one of its three forms: an extension removed (``remove``:
    the student), one added (``student`` and ``extension``), or the penalty."""
    previous = load_policy(request.app.state.config.graded(name)) or LatePolicy(deadline, 0.0)
    policy = replace(previous, deadline=deadline)
    if "remove" in form:
        extensions = {s: d for s, d in policy.extensions.items() if s != form["remove"]}
        return replace(policy, extensions=extensions)
    if "student" in form:
        student = clean_student_id(str(form.get("student") or "")) or ""
        if student not in _known_students(request, name):
            raise FormError("unknown_student", login=student)
        until = _date(request, form, "extension", "deadline")
        if until is None:
            raise FormError("extension_date_missing")
        if until <= deadline:
            raise FormError("extension_after_deadline")
        return replace(policy, extensions={**policy.extensions, student: until})
    unit = str(form.get("unit") or policy.unit)
    if unit not in ("day", "hour"):
        raise FormError("bad_value", field=text(request, "per_unit"))
    return replace(
        policy,
        percent_per_unit=_percent(request, form, "percent", "percent", 0.0),  # emptied: none
        unit=unit,
        cap_percent=_percent(request, form, "cap", "cap", 100.0),
        # Here file dates come only from an archive whose instructor said they are the
        # submission times (the grading run's ``file_dates`` box): they are vouched for.
        accept_file_dates=True,
    )


@requires("instructor")
async def save_late_policy(request: Request) -> Response:
    """The library's late policy, on the assignment's deadline, with its extensions."""
    name = assignment_name(request)
    form = await checked_form(request)
    state = request.app.state
    deadline = state.store.settings(name).deadline
    which = "extension" if "student" in form else "late"
    if deadline is None:
        return class_response(request, failed=_failed(which, text(request, "needs_deadline"), form))
    try:
        policy = _late_policy(request, name, form, deadline)
    except FormError as error:
        return class_response(request, failed=_failed(which, error.text(request), form))
    policy.save(state.config.graded(name))
    return RedirectResponse(f"/instructor/assignments/{name}?saved=late#late", 303)


@requires("instructor")
def student_page(request: Request) -> Response:
    return _student_response(request, request.path_params["login"])


def _student_response(request: Request, login: str, failed: FailedForm | None = None) -> Response:
    """A student's attempts, their counted feedback page, and the forms to give points on
    appeal or excuse them (``failed``: the form refused, shown with its values)."""
    name = assignment_name(request)
    state = request.app.state
    account = state.store.user_by_login(login)
    attempts = (
        with_grades(request, name, state.store.attempts_of(account.id, name)) if account else []
    )
    results = {r["student_id"]: r for r in state.gradebook.latest_results(name)}
    result = results.get(login)
    if account is None and result is None:
        raise HTTPException(404)
    question_titles = titles(request, name)[1]
    appealable = [
        {"name": q.name, "title": question_titles.get(q.name, q.name), "points": q.points}
        for q in load_assignment(name).questions
        if not q.manual
    ]
    given = state.gradebook.overrides(name).get(login, {})
    return page(
        request,
        "student.html.j2",
        400 if failed else 200,
        name=name,
        login=login,
        account=account,
        attempts=attempts,
        shown=True,
        web_attempt=attempt_of(result["origin"]) if result else None,
        appealable=appealable if result else [],
        appeals=[
            (question_titles.get(q, q), points, comment)
            for q, (points, comment) in sorted(given.items())
        ],
        excusal=state.gradebook.excused(name).get(login),
        failed=failed,
        saved=request.query_params.get("saved", ""),
        **{
            "title": f"{name} — {login}",
            **(feedback_page_context(request, result) if result else {}),
        },
    )


COMMENT_CHARS = 5000
"""The longest comment a form keeps."""


@requires("instructor")
async def give_on_appeal_form(request: Request) -> Response:
    """Points on appeal for one autograded question of one student (empty: removed)."""
    name = assignment_name(request)
    form = await checked_form(request)
    student = str(form.get("student", ""))
    try:
        give_on_appeal(
            name, student, str(form.get("question", "")), str(form.get("points", "")),
            str(form.get("comment", ""))[:COMMENT_CHARS], request.app.state.gradebook,
        )  # fmt: skip
    except DlgradeError as error:
        return _student_response(
            request, student, _failed("appeal", error_text(request, error), form)
        )
    return RedirectResponse(_student_url(name, student, "appeal"), 303)


@requires("instructor")
async def excuse_form(request: Request) -> Response:
    """Excuse one student from the assignment, or no longer (``undo``)."""
    name = assignment_name(request)
    form = await checked_form(request)
    student = str(form.get("student", ""))
    comment = str(form.get("comment", "")).strip()[:COMMENT_CHARS]
    try:
        excuse(name, student, request.app.state.gradebook, comment, undo="undo" in form)
    except DlgradeError as error:
        return _student_response(
            request, student, _failed("excuse", error_text(request, error), form)
        )
    return RedirectResponse(_student_url(name, student, "excuse"), 303)


def _student_url(name: str, student: str, saved: str) -> str:
    return f"/instructor/assignments/{name}/students/{quote(student, safe='')}?saved={saved}#review"


# --- hand grading ---------------------------------------------------------------------


def answer(request: Request, name: str, question: Question, result: dict) -> tuple[str, str]:
    """The student's answer to ``question`` and their code, from the notebook the gradebook
    counts (``result``): a web attempt, or a member of an LMS archive graded here."""
    state = request.app.state
    attempt_id = attempt_of(result["origin"])
    if attempt_id is None:
        archives = sorted((state.config.graded(name) / ARCHIVES).glob("*.zip"))
        found = collect_answers(name, question, archives)
        return next((a.text for a in found if a.student_id == result["student_id"]), ""), ""
    found = state.store.attempt(attempt_id)
    try:
        cells = read_notebook(found["notebook"])["cells"]
    except Exception:  # an unreadable notebook has no answer to show
        return "", ""
    code = "\n\n".join(c["source"] for c in cells if c["cell_type"] == "code")
    return student_answer(cells, question, template_answer(name, question)), code


@requires("instructor")
def hand_grading(request: Request) -> Response:
    """One question, one student at a time: the rubric, the answer, points and comment."""
    name = assignment_name(request)
    try:
        question = manual_question(name, request.path_params["question"])
    except DlgradeError:
        raise HTTPException(404) from None
    state = request.app.state
    results = {r["student_id"]: r for r in state.gradebook.latest_results(name)}
    graded = sorted(results)
    question_title = titles(request, name)[1][question.name]
    if not graded:
        return page(
            request,
            "hand_grading.html.j2",
            name=name,
            question=question,
            question_title=question_title,
            student=None,
        )
    student = request.query_params.get("student")
    index = graded.index(student) if student in graded else 0
    student = graded[index]
    by_hand, _ = hand_grades(state.gradebook, name)
    text, code = answer(request, name, question, results[student])
    given = by_hand.get(student, {}).get(question.name)
    return page(
        request,
        "hand_grading.html.j2",
        name=name,
        question=question,
        question_title=question_title,
        student=student,
        student_name=results[student].get("student_name"),
        answer=text,
        code=code,
        given=given,
        position=index + 1,
        count=len(graded),
        previous=graded[index - 1] if index > 0 else None,
        next=graded[index + 1] if index + 1 < len(graded) else None,
        done={s for s in graded if question.name in by_hand.get(s, {})},
    )


@requires("instructor")
async def save_hand_grade(request: Request) -> Response:
    """Points and comment for one student, saved at once (the page saves as you go)."""
    name = assignment_name(request)
    try:
        question = manual_question(name, request.path_params["question"])
    except DlgradeError:
        raise HTTPException(404) from None
    form = await checked_form(request)
    state = request.app.state
    student = str(form.get("student", ""))
    known = {r["student_id"] for r in state.gradebook.latest_results(name)}
    try:
        points = float(str(form.get("points", "")).replace(",", "."))
    except ValueError:
        points = -1.0
    if student not in known or not 0 <= points <= question.points:
        return JSONResponse(
            {"saved": False, "error": text(request, "bad_value", field="points")}, 400
        )
    comment = str(form.get("comment", "")).strip()[:COMMENT_CHARS]
    state.gradebook.record_manual(
        name, question.name, question.points, [(student, points, comment)]
    )
    return JSONResponse({"saved": True})


# --- exports and grading runs ---------------------------------------------------------


@requires("instructor")
def download_export(request: Request) -> Response:
    """The LMS import file, from the gradebook and the roster the accounts came from."""
    name = assignment_name(request)
    lms = request.path_params["lms"]
    if lms not in LMS:
        raise HTTPException(404)
    state = request.app.state
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-export-"))
    roster = folder / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, ROSTER_COLUMNS)
        writer.writeheader()
        for account in state.store.students():
            writer.writerow(
                {c: account.roster.get(c, "") for c in ROSTER_COLUMNS}
                | {"student_id": account.login}
            )
    out = folder / "out"
    partial = request.query_params.get("partial") == "1"
    try:
        export(
            lms,
            state.config.graded(name),
            roster,
            out,
            item=name,
            lms_id=state.store.settings(name).lms_id,
            assignment=name,
            lang=language(request),
            partial=partial,
        )
    except UnfinishedHandGrading as unfinished:
        shutil.rmtree(folder)
        listed = ", ".join(f"{titles(request, name)[1].get(q, q)} ({len(students)})"
                           for q, students in sorted(unfinished.missing.items()))  # fmt: skip
        message = text(request, "hand_unfinished", questions=listed)
        return class_response(request, error=message, partial_export=lms)
    except DlgradeError as error:
        shutil.rmtree(folder)
        shown = {str(roster): text(request, "students")}
        return class_response(request, error=error_text(request, error, shown))
    cleanup = BackgroundTask(shutil.rmtree, folder)
    if lms == "gradescope":
        archive = shutil.make_archive(str(folder / f"{name}-gradescope"), "zip", out)
        return FileResponse(archive, filename=f"{name}-gradescope.zip", background=cleanup)
    return FileResponse(
        out / f"{lms}_import.csv",
        media_type="text/csv",
        filename=f"{name}-{lms}.csv",
        background=cleanup,
    )


@dataclass
class LmsRun:
    """A grading run on an uploaded LMS archive, followed by the class page."""

    id: str
    assignment: str
    total: int | None = None
    done: int = 0
    state: str = "running"  # "running", "done", "failed"
    error: str = ""


@requires("instructor")
async def start_run(request: Request) -> Response:
    """Keep the archive in the assignment's graded folder and grade it in a thread, with
    the library's class run: the same sandbox, gradebook and executor as the queue."""
    name = assignment_name(request)
    form = await checked_form(request, max_files=3)
    state = request.app.state
    folder = state.config.graded(name) / ARCHIVES
    folder.mkdir(exist_ok=True)
    run = LmsRun(new_token()[:12], name)
    stem = folder / f"{now():%Y%m%d-%H%M%S}-{run.id}"
    uploads = {
        field: (await _saved(form.get(field), stem.with_suffix(suffix)), form.get(field))
        for field, suffix in (("archive", ".zip"), ("times", ".times.csv"),
                              ("worksheet", ".sheet.csv"))
    }  # fmt: skip
    path, archive = uploads["archive"]
    if path is None:
        raise HTTPException(400)
    sent = {str(saved): upload.filename for saved, upload in uploads.values() if saved}
    if not zipfile.is_zipfile(path):
        _discard(uploads)
        return class_response(request, error=text(request, "not_a_zip", name=archive.filename))
    try:  # the true submission times: the LMS's times CSV, Moodle's grading worksheet, or
        # the archive's file dates when the instructor says they are the submission times
        intake = Intake.read(
            times=uploads["times"][0],
            moodle_worksheet=uploads["worksheet"][0],
            times_from_files=form.get("file_dates") == "on",
        )
    except DlgradeError as error:
        _discard(uploads)
        return class_response(request, error=error_text(request, error, sent))
    state.runs[run.id] = run

    def count(total: int) -> None:
        run.total = total

    def advance(_result) -> None:
        run.done += 1

    def grade() -> None:
        try:
            grade_class(
                name,
                [path],
                folder,
                state.config.settings,
                gradebook_url=state.config.url,
                project=state.config.project,
                on_start=count,
                on_result=advance,
                executor=state.worker.executor,
                intake=intake,
                keep_results=False,
            )
            run.state = "done"
        except Exception as error:  # shown on the class page; the traceback in the log
            traceback.print_exc()
            run.state, run.error = "failed", str(error)

    threading.Thread(target=grade, name=f"dlgrade-run-{run.id}", daemon=True).start()
    return RedirectResponse(f"/instructor/assignments/{name}#runs", 303)


def _discard(uploads: dict[str, tuple[Path | None, object]]) -> None:
    """The files of a refused grading run: nothing of it stays."""
    for saved, _ in uploads.values():
        if saved is not None:
            saved.unlink(missing_ok=True)


async def _saved(upload: object, path: Path) -> Path | None:
    """An uploaded file written to ``path`` (None when the field was left empty)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    with path.open("wb") as file:
        while chunk := await upload.read(2**20):
            file.write(chunk)
    return path


@requires("instructor")
async def regrade(request: Request) -> Response:
    """Grade every student's latest attempt again, through the queue."""
    name = assignment_name(request)
    await checked_form(request)
    count = request.app.state.store.requeue_latest(name)
    request.app.state.worker.notify()
    # Redirected, so that reloading the page does not queue the class again.
    return RedirectResponse(f"/instructor/assignments/{name}?requeued={count}", 303)


@requires("instructor")
def run_progress(request: Request) -> Response:
    run = request.app.state.runs.get(request.path_params["run_id"])
    if run is None:
        raise HTTPException(404)
    return JSONResponse(
        {"state": run.state, "done": run.done, "total": run.total, "error": run.error}
    )


routes = [
    Route("/instructor", dashboard),
    Route("/instructor/students", students),
    Route("/instructor/students/roster", import_roster, methods=["POST"]),
    Route("/instructor/students/links", links, methods=["POST"]),
    Route("/instructor/assignments/{name}", class_page),
    Route("/instructor/assignments/{name}/settings", save_settings, methods=["POST"]),
    Route("/instructor/assignments/{name}/late", save_late_policy, methods=["POST"]),
    Route("/instructor/assignments/{name}/appeal", give_on_appeal_form, methods=["POST"]),
    Route("/instructor/assignments/{name}/excuse", excuse_form, methods=["POST"]),
    Route("/instructor/assignments/{name}/students/{login:path}", student_page),
    Route("/instructor/assignments/{name}/manual/{question}", hand_grading),
    Route(
        "/instructor/assignments/{name}/manual/{question}/save", save_hand_grade, methods=["POST"]
    ),
    Route("/instructor/assignments/{name}/export/{lms}", download_export),
    Route("/instructor/assignments/{name}/runs", start_run, methods=["POST"]),
    Route("/instructor/assignments/{name}/regrade", regrade, methods=["POST"]),
    Route("/instructor/runs/{run_id}/status", run_progress),
]
