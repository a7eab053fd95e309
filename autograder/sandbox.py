"""The sandbox a submission runs in: bubblewrap around a warm runner, with resource limits.

Under bubblewrap the runner sees a read-only system and Python, its own empty /tmp of a
fixed size, no network, its own PID namespace, and none of the grader's files: not the
hidden checks, not ``solutions/``, not other submissions. Without bubblewrap (another
OS), the runner is a plain process with the same resource limits, and every result says
so (``Sandbox.isolation``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .cgroups import WorkerCgroup
from .errors import DlgradeError
from .execution import protocol
from .execution.protocol import encodable
from .notebook import cell_start
from .seccomp import sandbox_filter

EXECUTION_PACKAGE = Path(__file__).resolve().parent / "execution"
INSIDE = "/opt/dlgrade"
ROOT_LINKS = ("/lib", "/lib64", "/lib32", "/bin", "/sbin")
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    **dict.fromkeys(BLAS_THREADS, "1"),
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; the defaults suit the course's small NumPy exercises."""

    wall_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = 1024 * 1024 * 1024
    output_bytes: int = 8 * 1024 * 1024
    disk_bytes: int = 64 * 1024 * 1024
    processes: int = 32


class SandboxError(DlgradeError, RuntimeError):
    """The runner itself failed (not the submission): it is restarted for the next one."""


class IsolationUnavailable(DlgradeError):
    """Bubblewrap is missing: a submission could read the reference solutions and the
    classmates' notebooks, so nothing is graded unless the instructor asks for it."""


ISOLATION_VARIABLE = "DLGRADE_ISOLATION"
"""Set to ``limits-only`` to grade without bubblewrap: resource limits only."""


def isolation_required() -> bool:
    """False only when the instructor chose, in ``DLGRADE_ISOLATION``, to grade unisolated."""
    return os.environ.get(ISOLATION_VARIABLE, "") != "limits-only"


class ReplyRejected(SandboxError):
    """What came back for a submission breaks the protocol (too late, too large, malformed):
    that submission is an ``error``, and is not tried again."""


MAX_HEADER_BYTES = 64 * 1024
REPLY_MARGIN_SECONDS = 10.0
"""Beyond the wall-clock limit: the server's own clean-up, and a slow machine."""
FOLLOW_UP_FLOOR = 0.1
"""Seconds a second run of the cells always gets: enough to answer that it ran out."""
MAX_CELL_ERRORS = 20
MAX_ERROR_CHARS = 500


def bubblewrap() -> str | None:
    return shutil.which("bwrap")


_FONT_BUILD = """
import glob, os, shutil, sys
cache, building = sys.argv[1], sys.argv[2]
os.environ["MPLCONFIGDIR"] = building
os.nice(19)
import matplotlib.font_manager
for path in glob.glob(building + "/*.json"):
    os.rename(path, os.path.join(cache, os.path.basename(path)))
shutil.rmtree(building, ignore_errors=True)
"""
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/X11R6/lib/X11/fonts")
"""The system's font folders, which the sandboxes see: a change in them calls for a new list."""


def font_cache_root() -> Path:
    """Where the sandboxes' font lists are kept between grading processes, as Matplotlib
    keeps its own: ``$XDG_CACHE_HOME/dlgrade/fonts`` (``~/.cache`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "dlgrade", "fonts")


def _font_list_key() -> str:
    """Names a list by what it depends on: the Python and the Matplotlib that build it, and
    the font folders' modification times (one per folder: a font added or removed)."""
    parts = [sys.executable, importlib.metadata.version("matplotlib")]
    for top in FONT_FOLDERS:
        for folder, _, _ in os.walk(top):
            with contextlib.suppress(OSError):
                parts.append(f"{folder} {os.stat(folder).st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class SharedFontList:
    """Matplotlib's font list for the sandboxes: a plotting notebook neither rebuilds it
    (a second each) nor waits for it. Built once per machine and kept, as Matplotlib
    keeps its own (``font_cache_root``; a new one when Matplotlib or the fonts change),
    in a sandbox like the submissions' own so that it names the fonts they see, at low
    priority while the first class starts grading. The sandboxes bind it read-only. A
    list appears whole (written aside, then renamed); a build cut short, by the end of
    its grading process or its death, leaves a partial folder the next build removes."""

    BUILDING = "building-"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._folder: Path | None = None
        self._builder: subprocess.Popen[bytes] | None = None

    def acquire(self, sandbox_arguments: list[str]) -> str | None:
        """The folder to bind read-only at ``protocol.FONT_CACHE``; None without Matplotlib
        or where no folder can hold the list."""
        with self._lock:
            if self._folder is None:
                if importlib.util.find_spec("matplotlib") is None:
                    return None
                folder = font_cache_root() / _font_list_key()
                try:
                    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
                    folder.chmod(0o755)  # read by the submissions, as nobody
                    if not any(folder.glob("*.json")):
                        self._builder = self._build(folder, sandbox_arguments)
                except OSError:
                    return None
                self._folder = folder
            self._users += 1
            return str(self._folder)

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users > 0 or self._folder is None:
                return
            if self._builder is not None:
                _kill_tree(self._builder.pid)
                self._builder.wait()
                shutil.rmtree(self._folder / self._building, ignore_errors=True)
            self._folder = self._builder = None

    @property
    def _building(self) -> str:
        return f"{self.BUILDING}{os.getpid()}"

    def _build(self, folder: Path, sandbox_arguments: list[str]) -> subprocess.Popen[bytes]:
        for partial in folder.glob(f"{self.BUILDING}*"):
            owner = partial.name[len(self.BUILDING) :]
            if not (owner.isdigit() and Path(f"/proc/{owner}").exists()):
                shutil.rmtree(partial, ignore_errors=True)
        (folder / self._building).mkdir(exist_ok=True)
        silent = subprocess.DEVNULL
        return subprocess.Popen(
            [
                *sandbox_arguments, "--die-with-parent",
                "--bind", str(folder), protocol.FONT_CACHE,
                sys.executable, "-I", "-c", _FONT_BUILD,
                protocol.FONT_CACHE, f"{protocol.FONT_CACHE}/{self._building}",
            ],
            stdin=silent, stdout=silent, stderr=silent, env={}, start_new_session=True,
        )  # fmt: skip


_FONT_LIST = SharedFontList()


@contextlib.contextmanager
def _seccomp_pipe(contained: bool) -> Iterator[int | None]:
    """A pipe holding the sandbox's seccomp filter (``seccomp.sandbox_filter``), for
    bubblewrap to read at its start; None outside bubblewrap or on an unlisted machine."""
    program = sandbox_filter() if contained else None
    if program is None:
        yield None
        return
    read, write = os.pipe()
    try:
        os.write(write, program)  # a few hundred bytes: the pipe holds them
    finally:
        os.close(write)
    try:
        yield read
    finally:
        os.close(read)


def cores() -> int:
    """The cores this process may run on (its affinity, which a container may narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers() -> int:
    """Sandboxes to run at once: one more than the cores, so that no core idles while a
    worker's answers are judged in the grading process or its sandbox waits on the kernel
    (on 2 cores, 1,000 submissions: 71 s with 2 workers, 61 s with 3, 65 s with 4)."""
    return cores() + 1


class Sandbox:
    """One warm runner. ``run`` is not thread-safe: give each worker thread its own.

    With ``font_list``, the sandbox reads Matplotlib's font list that the grading process
    builds once for all its sandboxes (``SharedFontList``), for the plotting notebooks
    among the submissions to come: worth its second of CPU for a class, not for one
    notebook, which would not wait for it.
    """

    def __init__(
        self, limits: Limits | None = None, *, isolate: bool = True, font_list: bool = True
    ):
        self.limits = limits or Limits()
        self.font_list = font_list
        if isolate and not bubblewrap():
            raise IsolationUnavailable(
                "bubblewrap (bwrap) is not installed: without it a submission could read "
                "solutions/ and the other notebooks; install it (apt install bubblewrap), or "
                f"set {ISOLATION_VARIABLE}=limits-only to grade with resource limits only"
            )
        self.isolation = "bubblewrap" if isolate else "limits-only"
        self._process: subprocess.Popen[bytes] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._cgroup: WorkerCgroup | None = None
        self._fonts: str | None = None  # the shared font list's folder, while it uses it
        self._plans: dict[str, int] = {}  # plans the running server holds, by their JSON
        self._with_standins: set[str] = set()  # those of them that call stand-ins
        self._lock = threading.Lock()
        self._stderr = None

    def run(
        self,
        cells: list[str],
        plan_json: str = "[]",
        standins: str | None = None,
        *,
        seconds: float | None = None,
        skip: Sequence[int] = (),
    ) -> dict[str, Any]:
        """Execute one submission; returns the runner's validated reply.

        ``plan_json`` is the plan already encoded (``json.dumps(plan_to_json(plan))``): a
        class shares one plan, sent to the runner once, not once per submission.
        ``standins`` is the source of the stand-ins the plan's calls use: sent with this
        submission only, so that no other run's process ever holds it. ``seconds``, when
        given, is less than the wall-clock limit: the time a notebook has left; ``skip``
        lists the positions in the plan of calls not to make (they ended the notebook).
        Raises ``ReplyRejected`` when the reply breaks the protocol (the submission's
        fault), ``SandboxError`` when the runner itself stopped.
        """
        with self._lock:
            return self._run(cells, plan_json, standins, seconds=seconds, skip=skip)

    @contextlib.contextmanager
    def open(
        self,
        cells: list[str],
        plan_json: str,
        *,
        follow_up: str,
        snapshot: bool = True,
        seconds: float | None = None,
        skip: Sequence[int] = (),
    ) -> Iterator[Run]:
        """Execute one submission as ``run`` does, for a follow-up plan (``follow_up``,
        encoded) that the grader may or may not need once it has judged the answers.
        With ``snapshot``, the runner keeps what the cells left, and ``Run.follow_up`` runs
        the plan without running the cells again; the sandbox then serves nothing else
        until the block ends. Without, a follow-up runs the cells again."""
        with self._lock:
            started = time.monotonic()
            kept = follow_up if snapshot else None
            reply = self._run(cells, plan_json, follow_up=kept, seconds=seconds, skip=skip)
            run = Run(self, cells, follow_up, reply, time.monotonic() - started)
            try:
                yield run
            finally:
                run.finish()

    def _run(
        self,
        cells: list[str],
        plan_json: str,
        standins: str | None = None,
        *,
        follow_up: str | None = None,
        seconds: float | None = None,
        skip: Sequence[int] = (),
    ) -> dict[str, Any]:
        process = self.start()
        assert process.stdin
        plans = [plan_json] if follow_up is None else [plan_json, follow_up]
        for plan in plans:
            if plan not in self._plans:
                self._plans[plan] = len(self._plans)
                if any(call.get("standins") for call in json.loads(plan)):
                    self._with_standins.add(plan)
                configuration = self._configuration(plan).encode()
                self._send(protocol.CONFIGURE + protocol.frame(configuration))
        order: dict[str, Any] = {"plan_id": self._plans[plan_json]}
        if follow_up is not None:
            order["follow_up"] = self._plans[follow_up]
        if seconds is not None:
            order["seconds"] = seconds
        if skip:
            order["skip"] = list(skip)
        if plan_json not in self._with_standins:
            standins = None  # no process of this run may hold them
        request = {"cells": cells, "standins": standins}
        reply = self._exchange(
            protocol.START
            + protocol.frame(json.dumps(order).encode())
            + protocol.frame(json.dumps(request).encode())
        )
        return _with_cell_starts(reply, cells)

    def _send(self, data: bytes) -> None:
        assert self._process and self._process.stdin
        try:
            self._process.stdin.write(data)
        except OSError as error:
            self.close()
            raise SandboxError(f"the sandbox stopped: {error}") from error

    def _exchange(self, message: bytes) -> dict[str, Any]:
        """Send ``message`` to the runner and read its one reply, within the time limit."""
        self._send(message)
        assert self._process and self._process.stdout
        deadline = time.monotonic() + self.limits.wall_seconds + REPLY_MARGIN_SECONDS
        stdout = self._process.stdout.fileno()
        try:
            header = protocol.read_frame(stdout, MAX_HEADER_BYTES, deadline)
            result = protocol.read_frame(stdout, protocol.MAX_RESULT_BYTES, deadline)
            output = protocol.read_frame(stdout, protocol.OUTPUT_BYTES, deadline)
        except protocol.ChannelClosed:
            detail = self._stderr_tail()
            self.close()
            raise SandboxError(f"the sandbox stopped without replying {detail}".strip()) from None
        except protocol.FrameError as error:
            self.close()
            raise ReplyRejected(str(error)) from None
        except OSError as error:
            self.close()
            raise SandboxError(f"the sandbox stopped: {error}") from error
        return validated_reply(header, result, output)

    def close(self) -> None:
        """Stop the runner: closing its stdin ends it (and its PID namespace) cleanly."""
        if self._process is not None:
            with contextlib.suppress(OSError):
                if self._process.stdin:
                    self._process.stdin.close()
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                _kill_tree(self._process.pid)
                self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None
            self._plans = {}
            self._with_standins = set()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._fonts is not None:
            _FONT_LIST.release()
            self._fonts = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _configuration(self, plan_json: str) -> str:
        contained = self.isolation == "bubblewrap"
        settings: dict[str, Any] = {
            "limits": asdict(self.limits),
            "tmp": None if contained else self._scratch_dir(),
            "cgroup": self._cgroup.spec(inside=contained) if self._cgroup else None,
            "plan_id": self._plans[plan_json],
        }
        return f'{{"plan": {plan_json}, {json.dumps(settings)[1:]}'

    def start(self) -> subprocess.Popen[bytes]:
        """Start the runner now if it is not running (``run`` does it otherwise): a caller
        that starts it first does its own work while the runner imports NumPy."""
        # No --die-with-parent: it ties the sandbox to the *thread* that started it. The
        # runner stops when its stdin closes instead, which the grader's exit guarantees.
        if self._process is None or self._process.poll() is not None:
            self.close()
            self._cgroup = WorkerCgroup.create()
            if self.font_list and self.isolation == "bubblewrap":
                self._fonts = _FONT_LIST.acquire(self._bubblewrap_arguments())
            with _seccomp_pipe(self.isolation == "bubblewrap") as seccomp:
                self._process = subprocess.Popen(
                    self.command(seccomp),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self._stderr_file(),
                    bufsize=0,
                    env=ENVIRONMENT if self.isolation != "bubblewrap" else {},
                    start_new_session=True,
                    pass_fds=() if seccomp is None else (seccomp,),
                )
        return self._process

    def _stderr_file(self):
        """The runner's own error output (never the submissions'), kept for diagnosis."""
        if self._stderr is None:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        return self._stderr

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - 1000))
        return self._stderr.read().decode(errors="replace")

    def _scratch_dir(self) -> str:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="dlgrade-sandbox-")
            os.chmod(self._scratch.name, 0o711)  # the unprivileged child reaches its own folder
            os.symlink(EXECUTION_PACKAGE, Path(self._scratch.name) / "execution")
        return self._scratch.name

    def command(self, seccomp: int | None = None) -> list[str]:
        """The command line that starts the runner; under bubblewrap, with the seccomp
        filter read from descriptor ``seccomp`` if one is given."""
        contained = self.isolation == "bubblewrap"
        path = INSIDE if contained else self._scratch_dir()
        bootstrap = (
            f"import sys; sys.path.insert(0, {path!r}); "
            f"from execution.runner import serve; "
            f"serve(contained={contained})"
        )
        python = [sys.executable, "-I", "-c", bootstrap]
        if not contained:
            return python
        filtered = [] if seccomp is None else ["--seccomp", str(seccomp)]
        return [*self._bubblewrap_arguments(), *filtered, *python]

    def _bubblewrap_arguments(self) -> list[str]:
        # As root, no user namespace: the runner keeps the right to drop each submission
        # to the unprivileged user "nobody", for whom the kernel enforces the process limit.
        namespaces = (
            [
                "--unshare-pid",
                "--unshare-net",
                "--unshare-ipc",
                "--unshare-uts",
                "--unshare-cgroup-try",
            ]
            if os.geteuid() == 0
            else ["--unshare-all"]
        )
        arguments = [
            bubblewrap() or "bwrap",
            *namespaces,
            "--new-session",
            "--clearenv",
            "--proc", "/proc",
            "--dev", "/dev",
            "--perms", "1777", "--size", str(self.limits.disk_bytes), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(self.limits.disk_bytes), "--tmpfs", "/dev/shm",
            "--chdir", "/tmp",
        ]  # fmt: skip
        for name, value in ENVIRONMENT.items():
            arguments += ["--setenv", name, value]
        if self._cgroup:
            arguments += self._cgroup.binds()
        for link in ROOT_LINKS:
            if os.path.islink(link):
                arguments += ["--symlink", os.readlink(link), link]
        folders = _system_folders()
        for parent in _parents(folders):
            arguments += ["--perms", "0755", "--dir", parent]
        for folder in folders:
            arguments += ["--ro-bind", folder, folder]
        for name in ("autograder", "solutions"):
            hidden = _installed_package(name)
            if hidden:
                arguments += ["--tmpfs", hidden]
        if self._fonts is not None:
            arguments += ["--ro-bind", self._fonts, protocol.FONT_CACHE]
        arguments += ["--ro-bind", str(EXECUTION_PACKAGE), f"{INSIDE}/execution"]
        return arguments


def started_sandboxes(limits: Limits, count: int) -> list[Sandbox]:
    """``count`` sandboxes whose runners start now, each importing NumPy in its own process
    while the caller goes on loading the grader."""
    sandboxes = [Sandbox(limits, isolate=isolation_required()) for _ in range(count)]
    try:
        for sandbox in sandboxes:
            sandbox.start()
    except BaseException:
        for sandbox in sandboxes:
            sandbox.close()
        raise
    return sandboxes


class Run:
    """One submission, held open by ``Sandbox.open`` while its answers are judged: the
    runner keeps a snapshot of the process its cells ran in."""

    def __init__(
        self,
        sandbox: Sandbox,
        cells: list[str],
        follow_up: str,
        reply: dict[str, Any],
        seconds: float,
    ):
        self.sandbox = sandbox
        self.cells = cells
        self.follow_up_json = follow_up
        self.reply = reply
        self.seconds = seconds  # what its runs took so far, as the grader saw it
        self._held = bool(reply.get("follow_up"))

    def follow_up(self, standins: str | None, *, skip: Sequence[int] = ()) -> dict[str, Any]:
        """Run the follow-up plan with ``standins`` (the source of the stand-ins it uses)
        from the state the cells left, or, without a snapshot (or once it is used), after
        running the cells again, with what the runs before left of the time
        (``protocol.FOLLOW_UP_SHARE``); ``skip`` as for ``Sandbox.run``. Raises as
        ``Sandbox.run`` does."""
        if self._held:
            self._held = False
            word = protocol.frame(json.dumps({"standins": standins, "skip": list(skip)}).encode())
            reply = self.sandbox._exchange(protocol.FOLLOW_UP + word)
        else:
            self.finish()
            wall = self.sandbox.limits.wall_seconds
            budget = max((1 + protocol.FOLLOW_UP_SHARE) * wall - self.seconds, FOLLOW_UP_FLOOR)
            reply = self.sandbox._run(
                self.cells, self.follow_up_json, standins, seconds=budget, skip=skip
            )
        self.seconds += reply["seconds"] or 0.0
        return reply

    def finish(self) -> None:
        """Let the runner end the submission, if it is waiting for the grader's word."""
        if self._held:
            self._held = False
            with contextlib.suppress(SandboxError):
                self.sandbox._send(protocol.FINISH)


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants: bubblewrap's init inside the sandbox
    included, whose death ends every process of the sandbox's PID namespace."""
    children: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as file:
                children += [int(c) for c in file.read().split()]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    for child in children:
        _kill_tree(child)


def _system_folders() -> list[str]:
    """What Python and its packages need, read-only: system libraries and Python's prefixes."""
    candidates = ["/usr", *(f for f in ROOT_LINKS if not os.path.islink(f))]
    candidates += [sys.base_prefix, sys.prefix]
    candidates.append(os.path.dirname(os.path.realpath(sys.executable)))
    folders: list[str] = []
    for folder in sorted({os.path.realpath(c) for c in candidates if os.path.exists(c)}, key=len):
        if not any(folder == f or folder.startswith(f + "/") for f in folders):
            folders.append(folder)
    return folders


def _parents(folders: list[str]) -> list[str]:
    """Folders bubblewrap must create, readable by all, to reach the bound ones (e.g. /root)."""
    parents = {str(p) for f in folders for p in Path(f).parents if str(p) != "/"}
    return sorted(parents - set(folders), key=len)


def _installed_package(name: str) -> str | None:
    """The folder of an installed copy of the grader or of the solutions, to hide it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        if any(location.startswith(p) for p in (sys.prefix, sys.base_prefix)):
            return location
    return None


def validated_reply(header: bytes, result: bytes, output: bytes) -> dict[str, Any]:
    """The runner's reply, checked field by field: every byte of it is untrusted input.

    ``header`` is the runner's account of the run (how it ended, its time and memory);
    ``result`` is what the child wrote, passed on unread: the cells it started, then its
    answers and cell errors as a JSON line; ``output`` is the start of what it printed.
    Anything a submission could have shaped is typed, counted and truncated here, before
    the grader, the gradebook or a feedback page sees it. A reply that does not fit
    raises ``ReplyRejected``; a result without a final JSON line has no answers.
    """
    try:
        data = json.loads(header)
    except (ValueError, RecursionError):
        raise ReplyRejected("the reply is not valid JSON") from None
    if not isinstance(data, dict):
        raise ReplyRejected("the reply is not a JSON object")
    limit = data.get("limit")
    if limit not in (None, "timeout", "memory"):
        raise ReplyRejected("the reply has no valid status")
    events = _events(result)
    answers = events.get("answers")
    if answers is not None and not isinstance(answers, str):
        raise ReplyRejected("the answers are not plain data")
    errors = events.get("cell_errors", [])
    if not _well_formed(errors):
        raise ReplyRejected("the cell errors are malformed")
    return {
        "status": limit or _status(answers, errors),
        "answers": answers,
        "cell_errors": [
            {"cell": e["cell"], "error": _shortened(e["error"], MAX_ERROR_CHARS)}
            for e in errors[:MAX_CELL_ERRORS]
        ],
        "cell_error_count": len(errors),
        "last_cell": _integer(events.get("cell")),
        "last_call": _integer(events.get("call")),
        "output": output.decode("utf-8", errors="replace"),
        "seconds": _number(data.get("seconds")),
        "peak_memory_kb": _integer(data.get("peak_memory_kb")),
        "runner_memory_kb": _integer(data.get("runner_memory_kb")),
        "exit": _shortened(data.get("exit"), 200),
        "follow_up": data.get("follow_up") is True,
        "too_large": events.get("too_large") is True or data.get("result_too_large") is True,
    }


_STARTED = re.compile(rb"^(cell|call) (\d{1,9})$", re.MULTILINE)
"""The child's lines before its answers: the cell, then the planned call, it starts."""


def _events(result: bytes) -> dict[str, Any]:
    """The child's final JSON line, the last cell and the last planned call it started;
    junk is ignored.

    Only the last line is parsed as JSON, and the markers are matched by a bounded
    pattern, so the cost stays linear whatever the submission wrote.
    """
    head, _, last = result.rstrip(b"\n").rpartition(b"\n")
    events: dict[str, Any] = {}
    for started in _STARTED.finditer(head[-4096:] + b"\n" + last[:20]):
        events[started[1].decode()] = int(started[2])
    try:
        final = json.loads(last)
    except (ValueError, RecursionError):
        return events
    if isinstance(final, dict):
        events.update({k: final[k] for k in ("answers", "cell_errors", "too_large") if k in final})
    return events


def _with_cell_starts(reply: dict[str, Any], cells: list[str]) -> dict[str, Any]:
    """The reply, each cell it names (errors, the cell the time ran out in) given its first
    line (``notebook.cell_start``); a number out of range names none."""

    def start(number: int | None) -> str | None:
        return cell_start(cells[number - 1]) if number and 1 <= number <= len(cells) else None

    for error in reply["cell_errors"]:
        error["start"] = start(error["cell"])
    last = reply["last_cell"]
    reply["last_cell_start"] = start(last + 1) if last is not None else None
    return reply


def _well_formed(errors: Any) -> bool:
    return isinstance(errors, list) and all(
        isinstance(e, dict)
        and isinstance(e.get("cell"), int)
        and not isinstance(e.get("cell"), bool)
        and isinstance(e.get("error"), str)
        for e in errors
    )


def _status(answers: str | None, errors: list[dict[str, Any]]) -> str:
    """``ok`` for a child that answered, ``memory`` if it ran short of memory on the way."""
    if answers is None:
        return "error"
    text = json.dumps(errors) + answers[:100_000]
    return "memory" if "MemoryError" in text else "ok"


def _shortened(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else ""
    return encodable(text if len(text) <= limit else text[:limit] + "…")


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
