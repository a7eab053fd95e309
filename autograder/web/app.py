"""The ASGI application: routes, sessions, limits, security headers, the grading worker."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..executors import Executor
from ..gradebook import Gradebook
from . import auth, instructor, student
from .config import WebConfig
from .render import page
from .security import RateLimiter
from .store import Store
from .worker import GradingWorker

STATIC = Path(__file__).parent / "static"
FORM_OVERHEAD = 64 * 2**10
MAX_ARCHIVE_BYTES = 1 << 30  # an instructor's LMS zip
SECURITY_HEADERS = {
    # Only this site's own script and styles; the feedback pages' inline <style> is the
    # library's (student text in them is escaped, never markup).
    b"content-security-policy": b"default-src 'self'; script-src 'self'; "
    b"style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",  # sign-in links carry a token in their path
    b"x-frame-options": b"DENY",
}


class BodyLimit:
    """Requests larger than their limit are refused (413) before or while they arrive:
    a student's notebook upload, or an instructor's LMS archive under ``/instructor/``."""

    def __init__(self, app: ASGIApp, limit: int, archive_limit: int = MAX_ARCHIVE_BYTES):
        self.app, self.limit, self.archive_limit = app, limit, archive_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        large = scope["path"].startswith("/instructor/")
        limit = (self.archive_limit if large else self.limit) + FORM_OVERHEAD
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        refused = not declared.isdigit() or int(declared) > limit
        received = 0

        async def counted() -> Message:
            # Raised where the route reads the body: the error page then has the session
            # (the user's language and menu); a declared size over the limit reads nothing.
            nonlocal received
            if refused:
                raise HTTPException(413)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413)
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if request.url.path.endswith("/status") or "application/json" in request.headers.get(
        "accept", ""
    ):
        return JSONResponse({"error": error.status_code}, error.status_code)
    key = {401: "signed_out", 403: "forbidden", 404: "not_found", 413: "request_too_large"}.get(
        error.status_code, "error_text"
    )
    if error.status_code == 403 and error.detail == "CSRF":
        key = "stale_form"
    back = "/"
    if error.status_code == 413 and request.url.path.endswith("/submit"):
        key, back = "notebook_too_large", request.url.path.removesuffix("/submit")
    mb = request.app.state.config.max_upload_bytes // 2**20
    return page(
        request,
        "error.html.j2",
        error.status_code,
        key=key,
        code=error.status_code,
        mb=mb,
        back=back,
    )


async def _crash(request: Request, error: Exception) -> Response:
    """Any other error: logged with its traceback for the operator, a page for the user."""
    logging.getLogger("dlgrade.web").error(
        "%s %s", request.method, request.url.path, exc_info=error
    )
    return page(request, "error.html.j2", 500, key="error_text", code=500)


def create_app(
    config: WebConfig, *, executor: Executor | None = None, grade_in_background: bool = True
) -> Starlette:
    """The course's web application. ``grade_in_background=False`` leaves the queue to the
    caller (``app.state.worker.grade_queued()``), as tests do."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # every student's work
    gradebook = Gradebook(config.url)  # first: it creates the SQLite file and its WAL mode
    store = Store(config.url)
    worker = GradingWorker(config, store, executor)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if grade_in_background:
            worker.start()
        try:
            yield
        finally:
            worker.stop()
            store.close()
            gradebook.close()

    app = Starlette(
        routes=[
            *auth.routes,
            *student.routes,
            *instructor.routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, limit=config.max_upload_bytes),
            Middleware(
                SessionMiddleware,
                secret_key=config.secret_key(),
                session_cookie="dlgrade_session",
                max_age=int(config.session_hours * 3600),
                same_site="lax",
                https_only=config.secure_cookies,
            ),
        ],
        exception_handlers={HTTPException: _error, Exception: _crash},
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.store = store
    app.state.gradebook = gradebook
    app.state.worker = worker
    app.state.login_limiter = RateLimiter(10, 15 * 60)  # failed sign-ins, per account
    app.state.address_limiter = RateLimiter(60, 15 * 60)  # and per address (a lab's NAT)
    app.state.upload_limiter = RateLimiter(10, 60)
    app.state.runs = {}
    return app
