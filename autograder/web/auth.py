"""Who is asking: sign-in by password or one-time link, sessions, and the role guard.

There is no sign-up: accounts come from the instructor's roster (students) or from
``dlgrade serve --instructor`` (instructors). A one-time link lets its owner choose a
password; opening it (GET) changes nothing, so a mail scanner that follows links does
not spend it. A session records the account's ``session_epoch``: a new password ends
every older session.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .render import page, text
from .security import (
    MIN_PASSWORD,
    checked_form,
    hash_password,
    unusable_hash,
    verify_password,
)
from .store import User

Endpoint = Callable[[Request], Awaitable[Response] | Response]


def current_user(request: Request) -> User | None:
    user_id, epoch = request.session.get("user"), request.session.get("epoch")
    if not isinstance(user_id, int):
        return None
    user = request.app.state.store.user(user_id)
    return user if user is not None and user.session_epoch == epoch else None


def requires(role: str | None = None) -> Callable[[Endpoint], Endpoint]:
    """Only a signed-in account (of ``role``, if given) reaches the endpoint: no session is
    sent to the sign-in page (GET) or refused (401); a wrong role is refused (403).
    A plain (not ``async``) endpoint runs in a worker thread: its database reads and page
    rendering never hold up the other requests."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = current_user(request)
            if user is None:
                if request.method == "GET":
                    return RedirectResponse(f"/login?next={request.url.path}", 303)
                raise HTTPException(401)
            if role and user.role != role:
                raise HTTPException(403)
            request.state.user = user
            if inspect.iscoroutinefunction(endpoint):
                return await endpoint(request)
            return await run_in_threadpool(endpoint, request)

        return guarded

    return decorate


def _new_session(request: Request) -> None:
    """Nothing of the session survives but the visitor's language (a choice of theirs,
    not a right): nothing planted before sign-in, nothing of the account after sign-out."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


def _sign_in(request: Request, user: User) -> None:
    _new_session(request)
    request.session.update(user=user.id, epoch=user.session_epoch)


def _next_path(value: object) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


async def login(request: Request) -> Response:
    if request.method == "GET":
        return page(request, "login.html.j2", next=_next_path(request.query_params.get("next")))
    form = await checked_form(request)
    login_name, password = str(form.get("login", ""))[:300], str(form.get("password", ""))
    again = {"login": login_name, "next": _next_path(form.get("next"))}  # the form, refilled
    state = request.app.state
    client = request.client.host if request.client else "?"
    user = state.store.user_by_login(login_name)
    # Failed sign-ins only are counted (a class behind one address signs in freely), per
    # account from an address, and per address: from elsewhere, the account's owner still
    # signs in (no lock-out of a classmate or the instructor), and spellings of one login
    # (case, spaces, email) count as one.
    account = f"{(user.login if user else login_name).strip().lower()}@{client}"
    if state.login_limiter.exceeded(account) or state.address_limiter.exceeded(client):
        return page(request, "login.html.j2", 429, error=text(request, "too_many"), **again)
    stored = user.password_hash if user and user.password_hash else unusable_hash()
    if not await run_in_threadpool(verify_password, password, stored) or user is None:
        state.login_limiter.count(account)
        state.address_limiter.count(client)
        return page(request, "login.html.j2", 401, error=text(request, "bad_login"), **again)
    _sign_in(request, user)
    return RedirectResponse(again["next"], 303)


async def logout(request: Request) -> Response:
    """Sign out: every session of the account ends, so a copied cookie is worth nothing."""
    await checked_form(request)
    user = current_user(request)
    if user is not None:
        request.app.state.store.end_sessions(user.id)
    _new_session(request)
    return RedirectResponse("/login", 303)


async def link(request: Request) -> Response:
    """A one-time sign-in link: choose a password, then signed in."""
    token = request.path_params["token"]
    store = request.app.state.store
    user = store.link_user(token)
    if user is None:
        return page(request, "link.html.j2", 404, invalid=True)
    if request.method == "GET":
        return page(request, "link.html.j2", account=user, min_password=MIN_PASSWORD)
    form = await checked_form(request)
    password = str(form.get("password", ""))
    error = None
    if len(password) < MIN_PASSWORD:
        error = text(request, "password_short", n=MIN_PASSWORD)
    elif password != form.get("repeat"):
        error = text(request, "password_mismatch")
    if error:
        return page(
            request, "link.html.j2", 400, account=user, error=error, min_password=MIN_PASSWORD
        )
    if not store.use_link(token):
        return page(request, "link.html.j2", 404, invalid=True)
    store.set_password(user.id, await run_in_threadpool(hash_password, password))
    _sign_in(request, store.user(user.id))
    return RedirectResponse("/", 303)


async def switch_language(request: Request) -> Response:
    form = await checked_form(request)
    if form.get("lang") in ("fr", "en"):
        request.session["lang"] = form["lang"]
    return RedirectResponse(_next_path(form.get("next")), 303)


@requires()
def home(request: Request) -> Response:
    return RedirectResponse(
        "/instructor" if request.state.user.is_instructor else "/assignments", 303
    )


routes = [
    Route("/", home),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/link/{token}", link, methods=["GET", "POST"]),
    Route("/language", switch_language, methods=["POST"]),
]
