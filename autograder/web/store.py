"""The web application's own state: accounts, sign-in links, attempts, assignment settings.

Its tables live in the gradebook's database (``web_`` prefix), beside the gradebook's own,
so one SQLAlchemy URL (SQLite by default, PostgreSQL for a large course) holds a course.
A submitted notebook is stored as bytes in its attempt row: the grading worker (or a
Dask worker) needs no shared disk, and a restarted server finds its queue where it was.
Times are the server's local time, naive, like the deadlines of ``late.LatePolicy``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

users = Table(
    "web_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(200), nullable=False, unique=True),  # a student's: their student_id
    Column("role", String(20), nullable=False),  # "student" or "instructor"
    Column("name", String(300), nullable=False, default=""),
    Column("email", String(300), nullable=False, default=""),
    Column("roster", JSON, nullable=False, default=dict),  # the roster row: LMS identities
    Column("password_hash", String(300)),
    Column("session_epoch", Integer, nullable=False, default=0),  # raised: old sessions end
    Column("created_at", DateTime, nullable=False),
)

login_links = Table(
    "web_login_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("web_users.id"), nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("used_at", DateTime),
)

assignments = Table(
    "web_assignments",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("opens_at", DateTime),
    Column("deadline", DateTime),
    Column("closes_at", DateTime),  # no submission after it (late ones accepted until then)
    Column("per_day", Integer),  # attempts per 24 hours; None: no limit
    Column("cooldown_minutes", Integer),  # minutes between two attempts; None: no limit
    Column("instant_feedback", Boolean, nullable=False, default=True),
    Column("released", Boolean, nullable=False, default=False),
    Column("lms_id", String(200), nullable=False, default=""),  # Canvas item / Blackboard column
)

attempts = Table(
    "web_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("web_users.id"), nullable=False, index=True),
    Column("assignment", String(200), nullable=False),
    Column("received_at", DateTime, nullable=False),  # the server's receipt time
    Column("file_name", String(300), nullable=False),
    Column("notebook", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # "queued", "running", then "done"
    Column("status", String(20)),  # the result's status once graded
    Column("score", Float),
    Column("max_score", Float),
    Column("result", JSON),  # the stored result (results.normalized shape)
    Column("graded_at", DateTime),
)


def now() -> datetime:
    """The server's clock, to the second: receipt times and deadlines compare on it."""
    return datetime.now().replace(microsecond=0)


def token_hash(token: str) -> str:
    """Sign-in links are stored hashed: a leaked database signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    login: str
    role: str
    name: str
    email: str
    roster: dict[str, str]
    password_hash: str | None
    session_epoch: int
    created_at: datetime

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


@dataclass(frozen=True)
class AssignmentSettings:
    name: str
    opens_at: datetime | None = None
    deadline: datetime | None = None
    closes_at: datetime | None = None
    per_day: int | None = None
    cooldown_minutes: int | None = None
    instant_feedback: bool = True
    released: bool = False
    lms_id: str = ""

    def is_open(self, at: datetime) -> bool:
        return (self.opens_at is None or at >= self.opens_at) and (
            self.closes_at is None or at < self.closes_at
        )


class Store:
    """Reads and writes of the web tables; each method is one transaction."""

    def __init__(self, url: str):
        sqlite = url.startswith("sqlite")
        self.engine: Engine = create_engine(url, connect_args={"timeout": 60} if sqlite else {})
        metadata.create_all(self.engine)

    # --- accounts ---------------------------------------------------------------------

    def user(self, user_id: int) -> User | None:
        return self._one(select(users).where(users.c.id == user_id))

    def user_by_login(self, login: str) -> User | None:
        """The account of a login (exactly: ids ``Zoe`` and ``zoe`` are two students), else
        of an email address (in any case) that only one account has."""
        login = login.strip()
        found = self._one(select(users).where(users.c.login == login))
        if found or "@" not in login:
            return found
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(users).where(func.lower(users.c.email) == login.lower()).limit(2)
            ).all()
        return User(**rows[0]._mapping) if len(rows) == 1 else None

    def emails(self) -> dict[str, str]:
        """The email of every account that has one, by login (a roster must not give one
        to a second account: signing in by email would open neither)."""
        query = select(users.c.login, users.c.email).where(users.c.email != "")
        with self.engine.connect() as connection:
            return {login: email for login, email in connection.execute(query)}

    def students(self) -> list[User]:
        query = select(users).where(users.c.role == "student").order_by(users.c.login)
        with self.engine.connect() as connection:
            return [User(**row._mapping) for row in connection.execute(query)]

    def add_user(
        self,
        login: str,
        role: str,
        name: str = "",
        email: str = "",
        roster: dict[str, str] | None = None,
    ) -> User:
        """Create the account, or update the name, email and roster row of an existing one
        (a roster imported again); the role of an existing account never changes."""
        existing = self.user_by_login(login)
        with self.engine.begin() as connection:
            if existing:
                connection.execute(
                    update(users)
                    .where(users.c.id == existing.id)
                    .values(name=name, email=email, roster=roster or {})
                )
                user_id = existing.id
            else:
                user_id = connection.execute(
                    insert(users).values(
                        login=login,
                        role=role,
                        name=name,
                        email=email,
                        roster=roster or {},
                        created_at=now(),
                    )
                ).inserted_primary_key[0]
        user = self.user(user_id)
        assert user is not None
        return user

    def end_sessions(self, user_id: int) -> None:
        """Every session of the account ends (signing out)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(session_epoch=users.c.session_epoch + 1)
            )

    def set_password(self, user_id: int, password_hash: str) -> None:
        """A new password ends every session of the account."""
        with self.engine.begin() as connection:
            connection.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, session_epoch=users.c.session_epoch + 1)
            )

    def add_login_link(self, user_id: int, token: str, valid: timedelta) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(login_links).values(
                    token_hash=token_hash(token), user_id=user_id, expires_at=now() + valid
                )
            )

    def link_user(self, token: str) -> User | None:
        """The account a sign-in link opens, if it is unused and not expired."""
        row = self._row(
            select(login_links).where(
                login_links.c.token_hash == token_hash(token),
                login_links.c.used_at.is_(None),
                login_links.c.expires_at > now(),
            )
        )
        return self.user(row["user_id"]) if row else None

    def use_link(self, token: str) -> bool:
        """Mark a link used, and every other link of its account still unused (an older
        mail, a link made twice: none may choose the password again); False if it was
        used (or expired) meanwhile: once only."""
        with self.engine.begin() as connection:
            mine = login_links.c.token_hash == token_hash(token)
            done = connection.execute(
                update(login_links)
                .where(mine, login_links.c.used_at.is_(None), login_links.c.expires_at > now())
                .values(used_at=now())
            )
            if done.rowcount != 1:
                return False
            owner = select(login_links.c.user_id).where(mine).scalar_subquery()
            connection.execute(
                update(login_links)
                .where(login_links.c.user_id == owner, login_links.c.used_at.is_(None))
                .values(used_at=now())
            )
            return True

    # --- assignments ------------------------------------------------------------------

    def settings(self, name: str) -> AssignmentSettings:
        row = self._row(select(assignments).where(assignments.c.name == name))
        return AssignmentSettings(**row) if row else AssignmentSettings(name)

    def save_settings(self, settings: AssignmentSettings) -> None:
        values = {k: v for k, v in vars(settings).items() if k != "name"}
        with self.engine.begin() as connection:
            done = connection.execute(
                update(assignments).where(assignments.c.name == settings.name).values(**values)
            )
            if done.rowcount == 0:
                connection.execute(insert(assignments).values(name=settings.name, **values))

    # --- attempts ---------------------------------------------------------------------

    def add_attempt(
        self, user_id: int, assignment: str, file_name: str, notebook: bytes, received_at: datetime
    ) -> int:
        with self.engine.begin() as connection:
            return connection.execute(
                insert(attempts).values(
                    user_id=user_id,
                    assignment=assignment,
                    file_name=file_name,
                    notebook=notebook,
                    sha256=hashlib.sha256(notebook).hexdigest(),
                    received_at=received_at,
                    state="queued",
                )
            ).inserted_primary_key[0]

    def attempt(self, attempt_id: int) -> dict[str, Any] | None:
        return self._row(select(attempts).where(attempts.c.id == attempt_id))

    def attempts_of(self, user_id: int, assignment: str | None = None) -> list[dict[str, Any]]:
        """A student's attempts, newest first, without their notebooks."""
        columns = [c for c in attempts.c if c.name != "notebook"]
        query = select(*columns).where(attempts.c.user_id == user_id)
        if assignment:
            query = query.where(attempts.c.assignment == assignment)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(attempts.c.id.desc()))
            return [dict(row._mapping) for row in rows]

    def queued_before(self, attempt_id: int) -> int:
        """How many attempts wait ahead of this one."""
        query = select(func.count()).where(attempts.c.state == "queued", attempts.c.id < attempt_id)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def queue_counts(self) -> dict[str, int]:
        query = select(attempts.c.state, func.count()).group_by(attempts.c.state)
        with self.engine.connect() as connection:
            return {state: count for state, count in connection.execute(query)}

    def claim_queued(self, limit: int) -> list[dict[str, Any]]:
        """The oldest queued attempts, marked running (one worker claims them)."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(attempts, users.c.login, users.c.name.label("student_name"))
                .join(users, users.c.id == attempts.c.user_id)
                .where(attempts.c.state == "queued")
                .order_by(attempts.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=attempts)
            ).all()
            ids = [row.id for row in rows]
            if ids:
                connection.execute(
                    update(attempts).where(attempts.c.id.in_(ids)).values(state="running")
                )
            return [dict(row._mapping) for row in rows]

    def requeue_latest(self, assignment: str) -> int:
        """Each student's latest graded attempt back to the queue: a regrade of what the
        server received (after a fix of the checks...), receipt times unchanged."""
        latest = (
            select(func.max(attempts.c.id))
            .where(attempts.c.assignment == assignment, attempts.c.state == "done")
            .group_by(attempts.c.user_id)
        )
        with self.engine.begin() as connection:
            done = connection.execute(
                update(attempts).where(attempts.c.id.in_(latest)).values(state="queued")
            )
            return done.rowcount

    def requeue_running(self) -> int:
        """Attempts a stopped server left running go back to the queue."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(attempts).where(attempts.c.state == "running").values(state="queued")
            )
            return done.rowcount

    def requeue(self, attempt_ids: list[int]) -> None:
        """Attempts a failed batch claimed and did not grade go back to the queue; those
        it graded stay done."""
        if not attempt_ids:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(attempts)
                .where(attempts.c.id.in_(attempt_ids), attempts.c.state == "running")
                .values(state="queued")
            )

    def finish_attempt(self, attempt_id: int, result: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id)
                .values(
                    state="done",
                    status=result["status"],
                    score=result["score"],
                    max_score=result["max_score"],
                    result=result,
                    graded_at=now(),
                )
            )

    # --- plumbing ---------------------------------------------------------------------

    def _row(self, query) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return dict(row._mapping) if row else None

    def _one(self, query) -> User | None:
        row = self._row(query)
        return User(**row) if row else None

    def close(self) -> None:
        self.engine.dispose()
