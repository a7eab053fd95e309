"""Passwords, sign-in tokens, CSRF tokens and rate limits.

Passwords are hashed with scrypt (``hashlib.scrypt``, a memory-hard standard KDF) and a
random salt per password. Sessions are cookies signed by Starlette's ``SessionMiddleware``
(itsdangerous); each holds a CSRF token that every POST must send back, in its form or in
the ``X-CSRF-Token`` header of a script's request.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 10
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: the parameters travel with the hash, so they can grow."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return "$".join(["scrypt", *(str(SCRYPT[k]) for k in "nrp"), *encoded])


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches; an account without a password matches nothing."""
    try:
        kind, n, r, p, salt, digest = (stored or "").split("$")
        if kind != "scrypt":
            return False
        wanted = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(wanted),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, wanted)


@functools.cache
def unusable_hash() -> str:
    """A hash no password matches: checked for unknown logins, so that answering takes as
    long for them as for real accounts (no guessing who has one)."""
    return hash_password(secrets.token_urlsafe(32))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use), for forms and scripts."""
    if CSRF_FIELD not in request.session:
        request.session[CSRF_FIELD] = new_token()
    return request.session[CSRF_FIELD]


async def checked_form(request: Request, max_files: int = 1) -> FormData:
    """The POSTed form, after its CSRF token is checked against the session's (403 if not)."""
    form = await request.form(max_files=max_files, max_fields=200)
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = request.session.get(CSRF_FIELD, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "CSRF")
    return form


class RateLimiter:
    """At most ``limit`` events per key in any ``seconds``-long window (in memory: per
    server process)."""

    def __init__(self, limit: int, seconds: float):
        self.limit, self.seconds = limit, seconds
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False (and not counted) when over the limit."""
        with self._lock:
            if self._full(key):
                return False
            self._count(key)
            return True

    def exceeded(self, key: str) -> bool:
        """Whether ``key`` is at the limit now; counts nothing."""
        with self._lock:
            return self._full(key)

    def count(self, key: str) -> None:
        """Count one event for ``key``, whatever the limit."""
        with self._lock:
            self._count(key)

    def _full(self, key: str) -> bool:
        events = self._events.get(key)
        if not events:
            return False
        oldest = time.monotonic() - self.seconds
        while events and events[0] <= oldest:
            events.popleft()
        return len(events) >= self.limit

    def _count(self, key: str) -> None:
        moment = time.monotonic()
        self._events.setdefault(key, deque()).append(moment)
        if len(self._events) > 100_000:  # forget idle keys rather than grow forever
            self._events = {
                k: v for k, v in self._events.items() if v and v[-1] > moment - self.seconds
            }
