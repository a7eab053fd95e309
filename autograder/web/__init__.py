"""``dlgrade serve``: the course on the web, over the library.

Students sign in (accounts from the roster), submit notebooks, and read the same feedback
pages as ``dlgrade feedback``; instructors see the class, hand-grade, set the late policy,
release feedback and download LMS files. Grading is the library's: a background worker
hands queued attempts to an executor, which runs them in the sandbox (see ``worker``).
"""

from ..errors import MissingExtra

try:
    from .app import create_app
    from .config import WebConfig
    from .serve import serve
except ModuleNotFoundError as missing:
    if missing.name not in ("starlette", "itsdangerous", "markdown_it", "multipart"):
        raise
    raise MissingExtra("web", "dlgrade serve") from None

__all__ = ["WebConfig", "create_app", "serve"]
