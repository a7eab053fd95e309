"""Where a submission's code is executed: a fork server inside the sandbox.

Three kinds of process, so that no submission ever runs in, or next to, a process that
has held another submission's data:

* the **server**, one per worker, imports NumPy and decodes the class's plan once. It
  reads only one-byte commands and the class-wide configuration, never a submission,
  so every copy of it is clean.
* for each submission it forks a **session**. The session reads that submission's cells
  itself, gives it private namespaces and a cgroup (``isolation``), forks the child,
  supervises it (wall time, memory, bounded reading of its pipes), kills everything it
  left, writes one framed reply and exits. Its memory dies with it.
* the **child** drops to ``nobody``, sets its limits, runs the cells then the plan, and
  writes its answers on a pipe as plain JSON.

When the grader may need a *follow-up* (a training loop judged again with its stand-ins),
the child forks a **snapshot** of itself once the cells have run, before the plan. The
snapshot waits; the session replies, and on the grader's word either ends it or hands it
the stand-ins to run the follow-up plan from the state the cells left: the cells are not
run twice, and the answers to the notebook's own functions were sent before any process
of the submission held the stand-ins.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import json
import math
import os
import re
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.random  # imported once by the server, not by every child (about 14 ms each)

from . import kernel, protocol
from .isolation import (
    MemoryWatchdog,
    SubmissionCgroup,
    become_subreaper,
    parent_of,
    private_namespaces,
    remove_ipc_objects,
)
from .plan import (
    Call,
    Interrupted,
    answers_to_json,
    describe_exception,
    plan_from_json,
    run_plan,
)

NOBODY = 65534
MAX_REQUEST_BYTES = 256 * 1024 * 1024
MAX_RESULT_BYTES = 16 * 1024 * 1024
OUTPUT_SHOWN = 4096
CLEANUP_SECONDS = 2.0
PRIVATE_FOLDER = "/tmp/submission"  # each submission's own tmpfs, inside the sandbox
_EVENT = re.compile(rb"^(cell|snapshot) (\d{1,9})\n", re.MULTILINE)
"""The child's lines before its answers: the cell it starts, the snapshot it kept."""


@dataclass
class Config:
    """What every submission of the class shares, sent to the server, never by a submission:
    the limits, and the plans decoded once each (a class has one or two)."""

    limits: dict[str, Any]
    tmp: str | None
    cgroup: dict[str, Any] | None
    plans: dict[str, list[Call]]

    def update(self, data: dict[str, Any]) -> None:
        self.limits, self.tmp, self.cgroup = data["limits"], data.get("tmp"), data.get("cgroup")
        self.plans[str(data["plan_id"])] = plan_from_json(data["plan"])


def serve(contained: bool) -> None:
    """The server loop: configure, or fork one session per submission, until stdin closes."""
    config = Config({}, None, None, {})
    while True:
        command = os.read(0, 1)
        if not command:  # the grader is done: nothing to flush, no need for a tidy exit
            os._exit(0)
        if command == protocol.CONFIGURE:
            config.update(json.loads(protocol.read_frame(0, MAX_REQUEST_BYTES)))
        elif command == protocol.START and config.plans:
            sys.stdout.flush()
            sys.stderr.flush()
            # The collector would otherwise visit every object the server holds in each
            # fork, writing to their pages: a private copy of the whole heap per submission.
            gc.freeze()
            pid = os.fork()
            if pid == 0:
                _session(config, contained)
            os.waitpid(pid, 0)
        else:
            return  # out of step with the grader: it restarts the sandbox


def _session(config: Config, contained: bool) -> None:
    """Read one submission, grade it in a child, reply; then, if a snapshot was kept, do
    what the grader says with it. Exits, never returns."""
    session = None
    try:
        request = json.loads(protocol.read_frame(0, MAX_REQUEST_BYTES))
        plan = config.plans[str(request["plan_id"])]
        follow_up = config.plans.get(str(request.get("follow_up")))
        session = Session(config, contained)
        reply = session.run(
            request["cells"], plan, request.get("standins"), follow_up, request.get("seconds")
        )
    except BaseException as error:
        reply = _failure(error)
    try:
        _reply(reply)
        kept = session is not None and session.snapshot is not None
        if kept and os.read(0, 1) == protocol.FOLLOW_UP:  # else FINISH, or the grader left
            try:
                standins = json.loads(protocol.read_frame(0, MAX_REQUEST_BYTES))["standins"]
                reply = session.follow_up(standins)
            except BaseException as error:
                reply = _failure(error)
            _reply(reply)
    finally:
        try:
            if session is not None:
                session.close()
        finally:
            os._exit(0)


def _failure(error: BaseException) -> dict[str, Any]:
    traceback.print_exc()
    return {"status": "error", "exit": f"runner failure: {describe_exception(error)}"}


def _reply(reply: dict[str, Any]) -> None:
    protocol.write_all(1, protocol.frame(json.dumps(reply).encode()))


class Session:
    """One submission, from its private namespaces to its reply (or two)."""

    def __init__(self, config: Config, contained: bool):
        self.config = config
        self.limits = config.limits
        self.contained = contained
        self.private = False
        self.snapshot: int | None = None  # the post-cells copy of the child, waiting
        self.watchdog: MemoryWatchdog | None = None  # without a cgroup: set once forked
        self._resources: contextlib.ExitStack | None = None

    def run(
        self,
        cells: list[str],
        plan: list[Call],
        standins: str | None = None,
        follow_up: list[Call] | None = None,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """Run the cells then ``plan`` in one child. The grader's stand-ins (the source of
        the assignment's ``standins.py``) come with the request that uses them, never with
        the server's configuration: a plan of the notebook's own functions runs in a child
        that has never held them. With ``follow_up``, a snapshot of the child after its
        cells is kept for ``follow_up(standins)``. ``seconds``, if below the wall-clock
        limit, is this run's budget (the grader's second run of a submission's cells)."""
        limits = self.limits
        started = time.monotonic()
        deadline = started + min(limits["wall_seconds"], seconds or math.inf)
        self.private = self.contained and private_namespaces(
            limits["disk_bytes"], PRIVATE_FOLDER
        )
        if not any(call.standins for call in plan):
            standins = None
        if follow_up is not None and not become_subreaper():
            follow_up = None  # the snapshot could not be waited for: no snapshot
        self._open()
        pid = os.fork()
        if pid == 0:
            job = Job(cells, plan, standins, follow_up, self.workdir, self.result_write,
                      self.go_read, self.output_fd, deadline)  # fmt: skip
            _child(job, limits, self.cgroup)
        os.close(self.result_write)
        os.close(self.go_read)
        self.watchdog = (  # the child's session: its processes, the snapshot's included
            None
            if self.cgroup
            else MemoryWatchdog(limits["memory_bytes"], self.contained, session_id=pid)
        )
        watched = self._supervise(pid, deadline)
        events = _events(watched.result)
        if follow_up is not None and watched.wait_status is not None:
            self.snapshot = _waiting_snapshot(events.get("snapshot"))
        self._tidy()
        return self._reply(watched, events, started)

    def follow_up(self, standins: str) -> dict[str, Any]:
        """Hand the stand-ins to the snapshot; it runs the follow-up plan and exits."""
        snapshot, self.snapshot = self.snapshot, None
        assert snapshot is not None
        started = time.monotonic()
        deadline = started + protocol.FOLLOW_UP_SHARE * self.limits["wall_seconds"]
        end = deadline - ANSWER_MARGIN * self.limits["wall_seconds"]
        message = json.dumps({"standins": standins, "end": end}).encode()
        protocol.write_all(self.go_write, protocol.frame(message))
        watched = self._supervise(snapshot, deadline)
        self._tidy()
        return self._reply(watched, _events(watched.result), started)

    def close(self) -> None:
        """Kill whatever is left of the submission and remove its files and cgroup."""
        if self.snapshot is not None:
            _kill_group(self.snapshot)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.snapshot, 0)  # gone before the sweep looks for leftovers
            self.snapshot = None
        if self._resources is not None:
            self._resources.close()
            self._resources = None

    def _open(self) -> None:
        """The submission's folder, cgroup, output file and pipes, undone by ``close``."""
        limits = self.limits
        stack = self._resources = contextlib.ExitStack()
        self.workdir = tempfile.mkdtemp(
            prefix="submission-", dir=PRIVATE_FOLDER if self.private else self.config.tmp
        )
        stack.callback(shutil.rmtree, self.workdir, ignore_errors=True)
        if not self.private:
            stack.callback(remove_ipc_objects)
        self.cgroup = SubmissionCgroup.create(
            self.config.cgroup, limits["memory_bytes"], limits["processes"]
        )
        if self.cgroup:
            stack.callback(self.cgroup.remove)
        if self.contained:
            stack.callback(_kill_everything_else)
        # The output goes to a file the child holds open but cannot reach by name: its
        # size is capped by RLIMIT_FSIZE, as for any file the submission writes.
        self.output_fd, output_path = tempfile.mkstemp(
            prefix="output-", dir=os.path.dirname(self.workdir)
        )
        stack.callback(os.unlink, output_path)
        stack.callback(os.close, self.output_fd)
        # Two pipes: the child's answers, and the session's word to the snapshot. The
        # session closes the child's ends once it has forked.
        self.result_read, self.result_write = os.pipe()
        self.go_read, self.go_write = os.pipe()
        for fd in (self.result_read, self.go_write):
            stack.callback(os.close, fd)

    def _supervise(self, pid: int, deadline: float) -> Watched:
        """Watch ``pid`` (the child, or the snapshot) until it ends or is stopped."""
        try:
            return _watch(pid, self.result_read, deadline, self.watchdog)
        finally:
            _kill_group(pid)

    def _tidy(self) -> None:
        """Kill what the process just watched left behind, sparing the snapshot if one is
        kept (``_supervise`` killed its process group)."""
        spared = set() if self.snapshot is None else {self.snapshot}
        if self.cgroup:
            self.cgroup.kill_all(spared)
        if self.contained:
            _kill_everything_else(spared)

    def _reply(self, watched: Watched, events: dict[str, Any], started: float) -> dict[str, Any]:
        limits, cgroup, watchdog = self.limits, self.cgroup, self.watchdog
        usage = watched.usage
        peak = cgroup.peak_bytes() if cgroup else watchdog.peak if watchdog else None
        out_of_memory = (cgroup.out_of_memory() if cgroup else False) or bool(
            watchdog and watchdog.exceeded
        )
        timed_out = (
            watched.stopped == "time"
            or (
                watched.wait_status is not None
                and os.WIFSIGNALED(watched.wait_status)
                and os.WTERMSIG(watched.wait_status) == signal.SIGXCPU
            )
            or (usage is not None and usage.ru_utime + usage.ru_stime >= limits["cpu_seconds"])
        )
        if out_of_memory:
            status = "memory"
        elif timed_out:
            status = "timeout"
        else:
            status = _status(events)
        return {
            "status": status,
            "answers": events.get("answers"),
            "cell_errors": events.get("cell_errors", []),
            "last_cell": events.get("cell"),
            "output": os.pread(self.output_fd, OUTPUT_SHOWN, 0).decode("utf-8", errors="replace"),
            "seconds": round(time.monotonic() - started, 3),
            "peak_memory_kb": peak // 1024 if peak else (usage.ru_maxrss if usage else None),
            "runner_memory_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "exit": f"stopped by the grader ({watched.stopped})"
            if watched.wait_status is None
            else _describe_exit(watched.wait_status),
            "follow_up": self.snapshot is not None,
        }


def _waiting_snapshot(pid: int | None) -> int | None:
    """The snapshot the child announced, if it is still there and the session's: a number
    the submission wrote instead names nothing the session spares."""
    if pid is None or pid in (os.getpid(), os.getppid(), 1):
        return None
    try:
        return pid if parent_of(pid) == os.getpid() else None
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Job:
    """What one child runs, and where it writes."""

    cells: list[str]
    calls: list[Call]
    standins: str | None  # the source of the stand-ins, for a plan that uses them
    follow_up: list[Call] | None  # keep a snapshot after the cells, for these calls
    workdir: str
    result_fd: int
    go_fd: int  # where the snapshot reads the session's word
    output_fd: int
    deadline: float  # time.monotonic() at which the session kills the child


@dataclass
class Watched:
    """What the session saw of its child: its result bytes and how it ended."""

    result: bytes = b""
    wait_status: int | None = None
    usage: Any = None
    stopped: str | None = None  # why the session killed it: "time", "memory"...


def _watch(pid: int, result_fd: int, deadline: float, watchdog: MemoryWatchdog | None) -> Watched:
    """Read the result pipe (bounded) until the process exits, the deadline passes, or its
    memory exceeds the limit. A grandchild holding the pipe open cannot make it wait: the
    process's exit is seen on its own descriptor (a pidfd), or polled where there is none."""
    seen = Watched()
    result = bytearray()
    keep = {os.getpid(), os.getppid(), 1}
    exited = _pidfd(pid)
    watched = [result_fd] if exited is None else [result_fd, exited]
    try:
        while True:
            now = time.monotonic()
            if now >= deadline or (watchdog and watchdog.poll(keep)):
                seen.stopped = "memory" if watchdog and watchdog.exceeded else "time"
                break
            ready = select.select(watched, [], [], min(0.02, deadline - now))[0]
            if result_fd in ready:
                chunk = os.read(result_fd, 1 << 16)
                result += chunk
                if not chunk:  # no writer left: only the exit is still to be seen, and
                    watched.remove(result_fd)  # a pipe at its end would wake us at once
            if len(result) > MAX_RESULT_BYTES:
                seen.stopped = "oversized result"
                break
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                seen.wait_status, seen.usage = status, usage
                while len(result) <= MAX_RESULT_BYTES and _read_some(result_fd, result):
                    pass
                break
    finally:
        if exited is not None:
            os.close(exited)
    if seen.wait_status is None:
        _kill_group(pid)
        os.waitpid(pid, 0)
    seen.result = bytes(result) if len(result) <= MAX_RESULT_BYTES else b""
    return seen


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # before Linux 5.3, or Python built without it
        return None


def _standins(source: str) -> dict[str, Any]:
    """The ``STANDINS`` table that an assignment's ``standins.py`` defines."""
    namespace: dict[str, Any] = {"__name__": "standins"}
    exec(compile(source, "standins.py", "exec"), namespace)
    return dict(namespace["STANDINS"])


def _read_some(fd: int, sink: bytearray) -> bool:
    """Append what can be read now, without blocking; False at the end or when empty."""
    if not select.select([fd], [], [], 0)[0]:
        return False
    chunk = os.read(fd, 1 << 16)
    sink += chunk
    return bool(chunk)


def _child(job: Job, limits: dict[str, Any], cgroup: SubmissionCgroup | None) -> None:
    """Run one submission; ends with os._exit, whatever the student's code does."""
    try:
        standins = _standins(job.standins) if job.standins else {}
        if cgroup:
            cgroup.join()
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(job.output_fd, 1)
        os.dup2(job.output_fd, 2)
        kept = {job.result_fd, job.go_fd} if job.follow_up is not None else {job.result_fd}
        _close_all_but(kept)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _link_font_list(job.workdir)
        if os.geteuid() == 0:
            os.chown(job.workdir, NOBODY, NOBODY)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        _limit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
        _limit(resource.RLIMIT_AS, limits["memory_bytes"])
        _limit(resource.RLIMIT_FSIZE, limits["output_bytes"])
        if cgroup is None:  # else pids.max counts this submission alone, not all of nobody's
            _limit(resource.RLIMIT_NPROC, limits["processes"])
        _limit(resource.RLIMIT_NOFILE, 64)
        _limit(resource.RLIMIT_CORE, 0)
        os.chdir(job.workdir)
        os.environ["HOME"] = os.environ["TMPDIR"] = job.workdir
        tempfile.tempdir = None  # tempfile reads TMPDIR again: files go to the workdir
        _answer(job.result_fd, _run(job, standins))
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    os._exit(0)


def _flush_output() -> None:
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _close_all_but(kept: set[int]) -> None:
    """Close every descriptor above stderr but ``kept``."""
    low = 3
    for fd in sorted(kept):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _answer(result_fd: int, events: dict[str, Any]) -> None:
    """The final line on the result pipe, after what the cells printed is flushed."""
    _flush_output()
    protocol.write_all(result_fd, json.dumps(events).encode() + b"\n")


def _link_font_list(workdir: str) -> None:
    """The sandbox's font list (``protocol.FONT_CACHE``), linked for this submission in a
    folder next to its working folder (which starts empty), the folder Matplotlib is told
    to use: it only reads a cache in a folder it may also write. The list itself stays
    the grader's, read-only to the submission."""
    with contextlib.suppress(OSError):
        lists = [name for name in os.listdir(protocol.FONT_CACHE) if name.endswith(".json")]
        if not lists:
            return
        folder = workdir + "-matplotlib"
        os.makedirs(folder, exist_ok=True)
        for name in lists:
            os.symlink(os.path.join(protocol.FONT_CACHE, name), os.path.join(folder, name))
        if os.geteuid() == 0:  # the submission runs as nobody: Matplotlib must own its folder
            os.chown(folder, NOBODY, NOBODY)
        os.environ["MPLCONFIGDIR"] = folder


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    resource.setrlimit(which, (soft, soft if hard is None else hard))


CELLS_SHARE = 0.6
"""Of the wall-clock limit, the part the cells may use; the planned calls have the rest
(less a margin to send the answers): a notebook whose cells never end is still graded."""
ANSWER_MARGIN = 0.05
RESERVE_SECONDS = 1.0
"""At most this much is kept for each step still to come when one step runs long."""


class TimeBudget:
    """Time for a sequence of steps (the cells, or the planned calls) that ends at ``end``.

    A step may use all of it but a reserve for each step still to come, then it is
    ``Interrupted`` (SIGALRM), as a student interrupts a kernel: a demo cell that never
    ends, or a training loop that never stops, costs its own points only. A submission
    that disarms the alarm still meets the session's hard limit.
    """

    def __init__(self, end: float, steps: int):
        self.end = end
        self.left = steps
        self.reserve = min(RESERVE_SECONDS, 0.25 * max(end - time.monotonic(), 0.0) / max(steps, 1))

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        self.left -= 1
        started = time.monotonic()
        allowance = max(self.end - started - self.reserve * self.left, 0.01)

        def interrupt(signum: int, frame: Any) -> None:
            raise Interrupted(time.monotonic() - started)

        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, allowance)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _run(job: Job, standins: dict[str, Any]) -> dict[str, Any]:
    """Execute the cells in one namespace, as Jupyter would, then the planned calls."""
    np.random.seed(int.from_bytes(os.urandom(4), "little"))  # as fresh as a new kernel's
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    kernel.prepare(namespace, job.workdir)
    started = time.monotonic()
    wall = job.deadline - started
    cells = TimeBudget(started + CELLS_SHARE * wall, len(job.cells))
    cell_errors = []
    for index, source in enumerate(job.cells):
        os.write(job.result_fd, b"cell %d\n" % index)
        try:
            with cells.step():  # translating a cell takes its time too
                exec(kernel.compiled(source, f"<cellule {index + 1}>"), namespace)
        except BaseException as error:
            cell_errors.append({"cell": index + 1, "error": describe_exception(error)})
    if job.follow_up is not None:
        _keep_snapshot(job, namespace)
    calls = TimeBudget(job.deadline - ANSWER_MARGIN * wall, len(job.calls))
    with np.errstate(all="ignore"):
        answers = run_plan(job.calls, namespace, standins, calls.step)
    return {"answers": answers_to_json(answers), "cell_errors": cell_errors}


def _keep_snapshot(job: Job, namespace: dict[str, Any]) -> None:
    """Fork the state the cells left; the copy waits for the session's word, then runs
    the follow-up plan with the stand-ins it is given. Announced on the result pipe."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit != resource.RLIM_INFINITY and _resident_bytes() > limit // SNAPSHOT_SHARE:
        return  # two copies might not fit: the grader runs the cells again if need be
    _flush_output()  # else what the cells printed would be written twice
    try:
        pid = os.fork()
    except OSError:
        return  # no snapshot: the grader runs the cells again for the follow-up
    if pid == 0:
        try:
            os.setpgid(0, 0)  # out of the child's group, which dies with the child
            word = json.loads(protocol.read_frame(job.go_fd, MAX_REQUEST_BYTES))
            standins = _standins(word["standins"])
            calls = TimeBudget(word["end"], len(job.follow_up or ()))
            with np.errstate(all="ignore"):
                answers = run_plan(job.follow_up or [], namespace, standins, calls.step)
            _answer(job.result_fd, {"answers": answers_to_json(answers), "cell_errors": []})
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        os._exit(0)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # whichever of the two runs first
    os.write(job.result_fd, b"snapshot %d\n" % pid)


SNAPSHOT_SHARE = 4
"""A snapshot is kept only for a child using at most 1/SNAPSHOT_SHARE of its memory limit:
the pages it shares with the child are copied as either writes them."""


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _events(buffer: bytes) -> dict[str, Any]:
    """The child's final JSON line, the last cell it started and the snapshot it kept;
    junk is ignored.

    Only the last line is parsed as JSON, and the events are matched by a bounded
    pattern, so the cost stays linear whatever the submission wrote on the pipe.
    """
    if len(buffer) > MAX_RESULT_BYTES:
        return {}
    head, _, last = buffer.rstrip(b"\n").rpartition(b"\n")
    events: dict[str, Any] = {}
    for event in _EVENT.finditer(head[-4096:] + b"\n" if head else b""):
        events[event[1].decode()] = int(event[2])
    if last.startswith(b"cell "):
        with contextlib.suppress(ValueError):
            events["cell"] = int(last[5:12])
        return events
    try:
        final = json.loads(last)
    except (ValueError, RecursionError):
        return events
    if isinstance(final, dict):
        events.update({k: final[k] for k in ("answers", "cell_errors") if k in final})
    return events


def _status(events: dict[str, Any]) -> str:
    if not isinstance(events.get("answers"), str):
        return "error"
    errors = events.get("cell_errors")
    text = (json.dumps(errors) if isinstance(errors, list) else "") + events["answers"][:100_000]
    return "memory" if "MemoryError" in text else "ok"


def _describe_exit(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        return f"signal {signal.Signals(os.WTERMSIG(wait_status)).name}"
    return f"exit {os.WEXITSTATUS(wait_status)}"


def _kill_group(pid: int) -> None:
    """The child and its process group (the child may not have made its group yet)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _kill_everything_else(spared: Iterable[int] = ()) -> None:
    """In the sandbox's own PID namespace, nothing but the server, this session and the
    ``spared`` processes may survive a submission (a child that escaped its process group
    with setsid included)."""
    keep = {os.getpid(), os.getppid(), 1, *spared}
    deadline = time.monotonic() + CLEANUP_SECONDS
    while time.monotonic() < deadline:
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in keep]
        if not others:
            return
        for pid in others:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in others:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.005)
