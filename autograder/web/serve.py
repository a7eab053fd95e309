"""Starting the server: the instructor's first account, then uvicorn."""

from __future__ import annotations

import os
from datetime import timedelta

from .app import create_app
from .config import WebConfig, WebConfigError
from .security import new_token
from .store import Store


def bootstrap_instructor(store: Store, login: str, valid: timedelta) -> str | None:
    """Make ``login`` an instructor account; returns a one-time sign-in path
    (``/link/…``) while it has no password, None once it has one."""
    account = store.user_by_login(login)
    if account is not None and not account.is_instructor:
        raise WebConfigError(f"--instructor {login}: this login is a student's account")
    account = account or store.add_user(login, "instructor", login)
    if account.password_hash:
        return None
    token = new_token()
    store.add_login_link(account.id, token, valid)
    return f"/link/{token}"


def serve(
    config: WebConfig, host: str = "127.0.0.1", port: int = 8000, instructor: str | None = None
) -> None:
    """Run the application until interrupted. Behind a reverse proxy, set
    ``FORWARDED_ALLOW_IPS`` to the proxy's address, so that client addresses (rate limits)
    and the scheme of sign-in links are the real ones."""
    import uvicorn

    app = create_app(config)
    instructor = instructor or os.environ.get("DLGRADE_INSTRUCTOR")
    if instructor:
        path = bootstrap_instructor(app.state.store, instructor, timedelta(days=config.link_days))
        if path:
            print(f"instructor {instructor}: choose a password at http://{host}:{port}{path}")
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )
