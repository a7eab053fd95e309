"""Where a submission's code is executed: a fork server inside the sandbox.

Two kinds of process, so that no submission ever runs in, or next to, a process that
has held another submission's data:

* the **server**, one per worker, imports NumPy and decodes the class's plans once. For
  each submission it forks the child, supervises it (wall time, memory), kills whatever
  it left and replies. It never reads a byte a submission sent or wrote: the grader's
  request is passed to the child by the kernel (``splice``, stdin to the child's pipe),
  and the child's answers and output go to anonymous files that the server hands to the
  grader whole (``sendfile``). What it reads is the grader's own: one-byte commands, the
  class's configuration, each submission's *order* (which plans, how much time), and
  the number of a snapshot. So every fork of it is clean.
* the **child** reads its request, joins the submission's cgroup, gives itself private
  namespaces, drops to ``nobody``, sets its limits, runs the cells then the plan, and
  writes its answers as plain JSON.

When the grader may need a *follow-up* (a training loop judged again with its stand-ins),
the child forks a **snapshot** of itself once the cells have run, before the plan. The
snapshot waits; the server replies, and on the grader's word either ends it or passes
it the stand-ins, spliced as the request was, to run the follow-up plan from the state
the cells left: the cells are not run twice, and the answers to the notebook's own
functions were sent before any process of the submission held the stand-ins.
"""

from __future__ import annotations

import _signal  # signal's C functions: see TimeBudget.step
import builtins
import contextlib
import functools
import gc
import json
import math
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.random  # imported once by the server, not by every child (about 14 ms each)

from . import kernel, protocol
from .isolation import (
    MemoryWatchdog,
    SubmissionCgroup,
    become_subreaper,
    cap_tmpfs,
    join_processor_share,
    parent_of,
    private_namespaces,
    remove_ipc_objects,
)
from .plan import (
    CELL_FILE,
    Call,
    Interrupted,
    answers_to_json,
    describe_exception,
    plan_from_json,
    run_plan,
)

NOBODY = 65534
MAX_REQUEST_BYTES = 256 * 1024 * 1024
MAX_ORDER_BYTES = 4096
CLEANUP_SECONDS = 2.0
FORWARD_SECONDS = 10.0
"""How long the server waits for a child or a snapshot to take its request."""


@dataclass
class Config:
    """What every submission of the class shares, sent to the server, never by a submission:
    the limits, and the plans decoded once each (a class has one or two)."""

    limits: dict[str, Any]
    tmp: str | None
    cgroup: dict[str, Any] | None
    plans: dict[str, list[Call]]

    def update(self, data: dict[str, Any]) -> None:
        if self.cgroup is None:
            join_processor_share(data.get("cgroup"))
        self.limits, self.tmp, self.cgroup = data["limits"], data.get("tmp"), data.get("cgroup")
        self.plans[str(data["plan_id"])] = plan_from_json(data["plan"])


def serve(contained: bool) -> None:
    """The server loop: configure, or run one submission after another, until stdin closes
    or the grader is out of step (it then starts a new sandbox)."""
    config = Config({}, None, None, {})
    # The snapshot outlives its parent, the child: as the subreaper, the server can wait for it.
    snapshots = become_subreaper()
    while True:
        command = os.read(0, 1)
        if not command:  # the grader is done: nothing to flush, no need for a tidy exit
            os._exit(0)
        if command == protocol.CONFIGURE:
            config.update(json.loads(protocol.read_frame(0, MAX_REQUEST_BYTES)))
            if contained:
                for folder in protocol.SHARED_FOLDERS:
                    cap_tmpfs(folder, config.limits["disk_bytes"])
        elif command == protocol.START and config.plans:
            order = json.loads(protocol.read_frame(0, MAX_ORDER_BYTES))
            if not _serve_submission(Supervision(config, contained), order, snapshots):
                return
        else:
            return


def _serve_submission(supervision: Supervision, order: dict[str, Any], snapshots: bool) -> bool:
    """Run one submission and reply; then, if a snapshot was kept, do what the grader says
    with it. False when the server may be out of step with the grader."""
    try:
        reply = supervision.run(order, snapshots)
    except BaseException as error:  # the request may be half read: the sandbox must restart
        supervision.close()
        _send(_failure(error))
        return False
    try:
        _send(reply)
        if supervision.snapshot is None:
            return True
        command = os.read(0, 1)
        if command != protocol.FOLLOW_UP:
            return command == protocol.FINISH  # else the grader left, or is out of step
        try:
            reply = supervision.follow_up()
        except BaseException as error:
            _send(_failure(error))
            return False
        _send(reply)
        return True
    finally:
        supervision.close()


@dataclass
class Reply:
    """What the server sends the grader: its own account of the run, then the bytes the
    child wrote, passed on unread (its answers from ``result_offset``, its output)."""

    header: dict[str, Any]
    result_fd: int | None = None
    result_offset: int = 0
    output_fd: int | None = None


def _failure(error: BaseException) -> Reply:
    traceback.print_exc()
    return Reply({"limit": None, "exit": f"runner failure: {describe_exception(error)}"})


def _send(reply: Reply) -> None:
    """Three frames: the header, the child's result, its output (the first bytes). A
    result over the limit goes empty, and the header says so."""
    header, result_size = reply.header, _size(reply.result_fd) - reply.result_offset
    if result_size > protocol.MAX_RESULT_BYTES:
        header, result_size = {**header, "result_too_large": True}, 0
    protocol.write_all(1, protocol.frame(json.dumps(header).encode()))
    _send_file(reply.result_fd, reply.result_offset, result_size)
    _send_file(reply.output_fd, 0, min(_size(reply.output_fd), protocol.OUTPUT_BYTES))


def _size(fd: int | None) -> int:
    return 0 if fd is None else os.fstat(fd).st_size


def _send_file(fd: int | None, offset: int, size: int) -> None:
    """A frame of ``size`` bytes of ``fd`` from ``offset``, copied by the kernel: they never
    enter the server's memory."""
    protocol.write_all(1, max(size, 0).to_bytes(protocol.HEADER_BYTES, "big"))
    while fd is not None and size > 0:
        sent = os.sendfile(1, fd, offset, size)
        if not sent:  # the file shrank under us (the submission truncated it): pad
            protocol.write_all(1, bytes(size))
            return
        offset += sent
        size -= sent


def _forward_frame(target: int | None, deadline: float) -> None:
    """Pass the frame arriving on stdin to the pipe ``target`` without reading it (the
    kernel moves its pages). What ``target`` does not take before ``deadline`` (its reader
    gone, or stuck) is discarded the same way: stdin stays in step with the grader.
    Raises FrameError if the grader leaves mid-frame or the frame is too large."""
    size = int.from_bytes(protocol.read_exactly(0, protocol.HEADER_BYTES), "big")
    if size > MAX_REQUEST_BYTES:
        raise protocol.FrameError(f"a frame of {size} bytes exceeds the limit")
    if target is not None:
        try:
            _write_within(target, size.to_bytes(protocol.HEADER_BYTES, "big"), deadline)
        except (OSError, TimeoutError):
            target = None
    while size:
        if target is not None:
            try:
                size -= _splice_within(target, size, deadline)
                continue
            except (OSError, TimeoutError):
                target = None
        moved = os.splice(0, _devnull(), size)
        if not moved:
            raise protocol.ChannelClosed("the grader left in the middle of a frame")
        size -= moved


def _write_within(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        if not select.select([], [fd], [], max(deadline - time.monotonic(), 0))[1]:
            raise TimeoutError
        view = view[os.write(fd, view) :]


def _splice_within(target: int, size: int, deadline: float) -> int:
    """Move up to ``size`` bytes from stdin to ``target`` (non-blocking); the bytes moved."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([], [target], [], remaining)[1]:
            raise TimeoutError
        try:
            moved = os.splice(0, target, size, flags=os.SPLICE_F_NONBLOCK)
        except BlockingIOError:  # stdin is empty for now: the rest of the frame is coming
            select.select([0], [], [], max(deadline - time.monotonic(), 0))
            continue
        if not moved:
            raise protocol.ChannelClosed("the grader left in the middle of a frame")
        return moved


@functools.cache
def _devnull() -> int:
    """Where the rest of a frame nobody takes goes (opened once, kept by the server)."""
    return os.open(os.devnull, os.O_WRONLY)


class Supervision:
    """One submission as the server sees it: its folder, cgroup, files and pipes, the
    child it forks and the snapshot it may keep, until ``close``."""

    def __init__(self, config: Config, contained: bool):
        self.config = config
        self.limits = config.limits
        self.contained = contained
        self.snapshot: int | None = None  # the post-cells copy of the child, waiting
        self.watchdog: MemoryWatchdog | None = None  # without a cgroup: set once forked
        self._resources = contextlib.ExitStack()
        self._fds: list[int] = []  # descriptors to close with the submission
        self._result_end = 0  # where the follow-up's result starts in the result file

    def run(self, order: dict[str, Any], snapshots: bool) -> Reply:
        """Fork the child, pass it the request that follows the order on stdin, and watch
        it run the cells then the order's plan. With a follow-up plan in the order, a
        snapshot of the child after its cells is kept for ``follow_up``. The order's
        ``seconds``, if below the wall-clock limit, is this run's budget (the grader's
        second run of a submission's cells)."""
        limits = self.limits
        started = time.monotonic()
        deadline = started + min(limits["wall_seconds"], order.get("seconds") or math.inf)
        plan = self.config.plans[str(order["plan_id"])]
        skipped = order.get("skip") or []
        plan = [call for position, call in enumerate(plan) if position not in skipped]
        follow_up = self.config.plans.get(str(order.get("follow_up")))
        if not snapshots:
            follow_up = None  # the snapshot could not be waited for: no snapshot
        self._open()
        request_read, request_write = self._pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # The collector would otherwise visit every object the server holds in each
        # fork, writing to their pages: a private copy of the whole heap per submission.
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            job = Job(plan, follow_up, self.folder, request_read, self.result_fd,
                      self.announce_write, self.go_read, self.output_fd, deadline,
                      limits["wall_seconds"], self.contained)  # fmt: skip
            _child(job, limits, self.cgroup)
        for fd in (request_read, self.announce_write, self.go_read):
            self._release(fd)
        self.watchdog = (  # the child's session: its processes, the snapshot's included
            None
            if self.cgroup
            else MemoryWatchdog(limits["memory_bytes"], self.contained, session_id=pid)
        )
        try:
            _forward_frame(request_write, min(deadline, started + FORWARD_SECONDS))
        finally:
            self._release(request_write)  # the child sees the end of its request
        watched = self._supervise(pid, deadline)
        if follow_up is not None and watched.wait_status is not None:
            self.snapshot = _waiting_snapshot(_announced(self.announce_read))
        self._tidy()
        self._result_end = _size(self.result_fd)
        return self._reply(watched, started)

    def follow_up(self) -> Reply:
        """Pass the grader's stand-ins (the frame on stdin) to the snapshot; it runs the
        follow-up plan and exits."""
        snapshot, self.snapshot = self.snapshot, None
        assert snapshot is not None
        started = time.monotonic()
        deadline = started + protocol.FOLLOW_UP_SHARE * self.limits["wall_seconds"]
        offset = self._result_end
        _forward_frame(self.go_write, min(deadline, started + FORWARD_SECONDS))
        watched = self._supervise(snapshot, deadline)
        self._tidy()
        reply = self._reply(watched, started)
        reply.result_offset = offset
        return reply

    def close(self) -> None:
        """Kill whatever is left of the submission and remove its files and cgroup."""
        if self.snapshot is not None:
            _kill_group(self.snapshot)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.snapshot, 0)  # gone before the sweep looks for leftovers
            self.snapshot = None
        self._resources.close()

    def _open(self) -> None:
        """The submission's folder, cgroup, files and pipes, undone by ``close``."""
        limits = self.limits
        stack = self._resources
        stack.callback(self._close_all)
        # The child mounts its private tmpfs over this folder; without one, its files go here.
        self.folder = tempfile.mkdtemp(prefix="submission-", dir=self.config.tmp)
        os.chmod(self.folder, 0o711)  # the unprivileged child reaches its own folder below
        stack.callback(shutil.rmtree, self.folder, ignore_errors=True)
        stack.callback(remove_ipc_objects)  # none is left where the child had its own namespace
        self.cgroup = SubmissionCgroup.create(
            self.config.cgroup, limits["memory_bytes"], limits["processes"]
        )
        if self.cgroup:
            stack.callback(self.cgroup.remove)
        if self.contained:
            stack.callback(_empty_shared_folders)  # once the submission's processes are gone
            stack.callback(_kill_everything_else)
        # Anonymous files, sizes capped by RLIMIT_FSIZE as for any file the submission
        # writes: its output, and its result (the cells it starts, then its answers).
        self.output_fd = self._memfd("output")
        self.result_fd = self._memfd("result")
        # Pipes: the snapshot's number, announced by the child; the server's word to the snapshot.
        self.announce_read, self.announce_write = self._pipe()
        self.go_read, self.go_write = self._pipe()

    def _memfd(self, name: str) -> int:
        return self._own(os.memfd_create(name))

    def _pipe(self) -> tuple[int, int]:
        read, write = os.pipe()
        return self._own(read), self._own(write)

    def _own(self, fd: int) -> int:
        self._fds.append(fd)
        return fd

    def _release(self, fd: int) -> None:
        """Close a descriptor before ``close`` (the child's ends of its pipes, once forked)."""
        self._fds.remove(fd)
        os.close(fd)

    def _close_all(self) -> None:
        while self._fds:
            _close_quietly(self._fds.pop())

    def _supervise(self, pid: int, deadline: float) -> Watched:
        """Watch ``pid`` (the child, or the snapshot) until it ends or is stopped."""
        try:
            return _watch(pid, deadline, self.watchdog)
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

    def _reply(self, watched: Watched, started: float) -> Reply:
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
        header = {
            "limit": "memory" if out_of_memory else "timeout" if timed_out else None,
            "seconds": round(time.monotonic() - started, 3),
            "peak_memory_kb": peak // 1024 if peak else (usage.ru_maxrss if usage else None),
            "runner_memory_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "exit": f"stopped by the grader ({watched.stopped})"
            if watched.wait_status is None
            else _describe_exit(watched.wait_status),
            "follow_up": self.snapshot is not None,
        }
        return Reply(header, self.result_fd, 0, self.output_fd)


def _empty_shared_folders() -> None:
    """Remove what the submission left in the sandbox's /tmp and /dev/shm, which anyone
    may write in, as on any machine: the next submission finds nothing of it. Only the
    shared font list stays, a read-only mount the grader made."""
    for folder in protocol.SHARED_FOLDERS:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.path == protocol.FONT_CACHE and os.path.ismount(entry.path):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _announced(fd: int) -> int | None:
    """The number the child announced for its snapshot, if any (a few bytes at most: the
    submission could have written there too)."""
    if not select.select([fd], [], [], 0)[0]:
        return None
    data = os.read(fd, 32)
    return int(data) if data.strip().isdigit() else None


def _waiting_snapshot(pid: int | None) -> int | None:
    """The snapshot the child announced, if it is still there and the server's: a number
    the submission wrote instead names nothing the server spares."""
    if pid is None or pid in (os.getpid(), os.getppid(), 1):
        return None
    try:
        return pid if parent_of(pid) == os.getpid() else None
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Job:
    """What one child runs, and where it reads and writes."""

    calls: list[Call]  # the plan, less the calls the order skips
    follow_up: list[Call] | None  # keep a snapshot after the cells, for these calls
    folder: str  # the submission's folder: its private tmpfs is mounted there
    request_fd: int  # where the child reads its request (cells, stand-ins)
    result_fd: int
    announce_fd: int  # where the child announces its snapshot
    go_fd: int  # where the snapshot reads the server's word
    output_fd: int
    deadline: float  # time.monotonic() at which the server kills the child
    wall_seconds: float  # the wall-clock limit, of which a follow-up has its share
    contained: bool


@dataclass
class Watched:
    """What the server saw of a process: how it ended."""

    wait_status: int | None = None
    usage: Any = None
    stopped: str | None = None  # why the server killed it: "time", "memory"


def _watch(pid: int, deadline: float, watchdog: MemoryWatchdog | None) -> Watched:
    """Wait until the process exits, the deadline passes, or its memory exceeds the limit.
    Its exit is seen on its own descriptor (a pidfd), or polled where there is none."""
    seen = Watched()
    keep = {os.getpid(), os.getppid(), 1}
    exited = _pidfd(pid)
    try:
        while True:
            now = time.monotonic()
            if now >= deadline or (watchdog and watchdog.poll(keep)):
                seen.stopped = "memory" if watchdog and watchdog.exceeded else "time"
                break
            if exited is None:
                time.sleep(min(0.005, deadline - now))
            else:
                select.select([exited], [], [], min(0.02, deadline - now))
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                seen.wait_status, seen.usage = status, usage
                break
    finally:
        if exited is not None:
            os.close(exited)
    if seen.wait_status is None:
        _kill_group(pid)
        os.waitpid(pid, 0)
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


def _child(job: Job, limits: dict[str, Any], cgroup: SubmissionCgroup | None) -> None:
    """Run one submission; ends with os._exit, whatever the student's code does."""
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # the grader's channel is the server's alone
        os.dup2(job.output_fd, 1)
        os.dup2(job.output_fd, 2)
        if cgroup:
            cgroup.join()
        os.setsid()
        request = json.loads(protocol.read_frame(job.request_fd, MAX_REQUEST_BYTES))
        standins = _standins(request["standins"]) if request.get("standins") else {}
        workdir = _working_folder(job, limits["disk_bytes"])
        kept = {job.result_fd}
        if job.follow_up is not None:
            kept |= {job.announce_fd, job.go_fd}
        _close_all_but(kept)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _link_font_list(job.folder)
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
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
        os.chdir(workdir)
        os.environ["HOME"] = os.environ["TMPDIR"] = workdir
        tempfile.tempdir = None  # tempfile reads TMPDIR again: files go to the workdir
        _answer(job.result_fd, _run(job, request["cells"], workdir, standins))
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    os._exit(0)


def _working_folder(job: Job, disk_bytes: int) -> str:
    """The submission's working folder, empty, in the submission's folder: on a tmpfs of
    its own (in private namespaces, where the sandbox allows them), capped in bytes and
    inodes, which vanishes with its last process."""
    if job.contained:
        private_namespaces(disk_bytes, job.folder)
    workdir = os.path.join(job.folder, "work")
    os.mkdir(workdir)
    return workdir


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
    """The final line of the result file, after what the cells printed is flushed. Answers
    over the file-size limit give way to a line that says so, for the student to read."""
    _flush_output()
    end = os.lseek(result_fd, 0, os.SEEK_END)
    try:
        protocol.write_all(result_fd, json.dumps(events).encode() + b"\n")
    except OSError:
        os.ftruncate(result_fd, end)
        os.lseek(result_fd, end, os.SEEK_SET)
        protocol.write_all(result_fd, b'{"too_large": true}\n')


def _link_font_list(folder: str) -> None:
    """The sandbox's font list (``protocol.FONT_CACHE``), linked for this submission in a
    folder of the submission's folder, next to its working folder (which starts empty),
    the folder Matplotlib is told to use: it only reads a cache in a folder it may also
    write. The list itself stays the grader's, read-only to the submission."""
    with contextlib.suppress(OSError):
        lists = [name for name in os.listdir(protocol.FONT_CACHE) if name.endswith(".json")]
        if not lists:
            return
        matplotlib = os.path.join(folder, "matplotlib")
        os.mkdir(matplotlib)
        for name in lists:
            os.symlink(os.path.join(protocol.FONT_CACHE, name), os.path.join(matplotlib, name))
        if os.geteuid() == 0:  # the submission runs as nobody: Matplotlib must own its folder
            os.chown(matplotlib, NOBODY, NOBODY)
        os.environ["MPLCONFIGDIR"] = matplotlib


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    resource.setrlimit(which, (soft, soft if hard is None else hard))


CELLS_SHARE = 0.6
"""Of the wall-clock limit, the part the cells may use; the planned calls have the rest
(less a margin to send the answers): a notebook whose cells never end is still graded."""
ANSWER_MARGIN = 0.05
RESERVE_SECONDS = 1.0
"""At most this much is kept for each step still to come when one step runs long."""


STARVED_SECONDS = 1.0
"""A step given less than this was left almost nothing by the steps before it: its
interruption says so, rather than "stopped after 0 s" (any other step runs a second at least)."""


_now = time.monotonic
_setitimer = signal.setitimer
"""The budget's clock and alarm, taken before any notebook runs: a notebook that
replaces ``time.monotonic`` or ``signal.setitimer`` moves neither."""


class TimeBudget:
    """Time for a sequence of steps (the cells, or the planned calls) that ends at ``end``.

    A step may use all of it but a reserve for each step still to come, then it is
    ``Interrupted`` (SIGALRM), as a student interrupts a kernel: a demo cell that never
    ends, or a training loop that never stops, costs its own points only. A step that
    disarms, blocks or ignores the alarm and ends late is ``Interrupted`` all the same
    when it ends: its answer is not kept, so a call's own limit cannot be escaped. One
    that never ends meets the server's hard limit.
    """

    def __init__(self, end: float, steps: int):
        self.end = end
        self.left = steps
        self.reserve = min(RESERVE_SECONDS, 0.25 * max(end - _now(), 0.0) / max(steps, 1))

    @contextlib.contextmanager
    def step(self, seconds: float | None = None) -> Iterator[None]:
        """One step, within what is left but the reserve, and within ``seconds`` if given."""
        self.left -= 1
        started = _now()
        allowance = max(self.end - started - self.reserve * self.left, 0.01)
        capped = False
        if seconds is not None and seconds < allowance:  # the call's own limit, not the plan's
            allowance, capped = seconds, True
        last, starved = not capped and self.left == 0, not capped and allowance < STARVED_SECONDS

        def interrupt(signum: int, frame: Any) -> None:
            raise Interrupted(_now() - started, last=last, starved=starved)

        # The handler is installed at each step, so that a cell that installs its own
        # loses only its own interruption. ``signal.signal`` would wrap handlers in enums,
        # 10 µs a step (70 steps a submission): the C function does not.
        previous = _signal.signal(signal.SIGALRM, interrupt)
        _setitimer(signal.ITIMER_REAL, allowance)
        try:
            yield
            elapsed = _now() - started
            if elapsed > allowance:  # the alarm did not ring: the step silenced it
                raise Interrupted(elapsed, last=last, starved=starved)
        finally:
            _setitimer(signal.ITIMER_REAL, 0)
            _signal.signal(signal.SIGALRM, previous)


def _run(job: Job, cells: list[str], workdir: str, standins: dict[str, Any]) -> dict[str, Any]:
    """Execute the cells in one namespace, as Jupyter would, then the planned calls."""
    np.random.seed(int.from_bytes(os.urandom(4), "little"))  # as fresh as a new kernel's
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    kernel.prepare(namespace, workdir)
    started = _now()
    wall = job.deadline - started
    budget = TimeBudget(started + CELLS_SHARE * wall, len(cells))
    cell_errors = []
    for index, source in enumerate(cells):
        os.write(job.result_fd, b"cell %d\n" % index)
        try:
            with budget.step():  # translating a cell takes its time too
                exec(kernel.compiled(source, CELL_FILE.format(index + 1)), namespace)
        except BaseException as error:
            cell_errors.append({"cell": index + 1, "error": describe_exception(error, index + 1)})
    if job.follow_up is not None:
        _keep_snapshot(job, namespace)
    calls = TimeBudget(job.deadline - ANSWER_MARGIN * wall, len(job.calls))
    with np.errstate(all="ignore"):
        answers = run_plan(job.calls, namespace, standins, calls.step, _marker(job.result_fd))
    try:
        return {"answers": answers_to_json(answers), "cell_errors": cell_errors}
    except MemoryError:  # answers too large to encode within the memory limit
        return {"too_large": True, "cell_errors": cell_errors}


def _marker(result_fd: int) -> Callable[[int], object]:
    """Writes ``call N`` before the plan's call N, as ``cell N`` before each cell: the
    grader knows in which call a submission that ended without answers stopped."""
    return lambda position: os.write(result_fd, b"call %d\n" % position)


def _keep_snapshot(job: Job, namespace: dict[str, Any]) -> None:
    """Fork the state the cells left; the copy waits for the server's word, then runs
    the follow-up plan with the stand-ins it is given. Announced to the server."""
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
            os.close(job.announce_fd)
            word = json.loads(protocol.read_frame(job.go_fd, MAX_REQUEST_BYTES))
            end = _now() + (protocol.FOLLOW_UP_SHARE - ANSWER_MARGIN) * job.wall_seconds
            standins = _standins(word["standins"])
            skipped = set(word.get("skip") or ())
            plan = [call for i, call in enumerate(job.follow_up or ()) if i not in skipped]
            calls = TimeBudget(end, len(plan))
            with np.errstate(all="ignore"):
                answers = run_plan(plan, namespace, standins, calls.step, _marker(job.result_fd))
            _answer(job.result_fd, {"answers": answers_to_json(answers), "cell_errors": []})
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        os._exit(0)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # whichever of the two runs first
    os.write(job.announce_fd, b"%d\n" % pid)
    os.close(job.announce_fd)


SNAPSHOT_SHARE = 4
"""A snapshot is kept only for a child using at most 1/SNAPSHOT_SHARE of its memory limit:
the pages it shares with the child are copied as either writes them."""


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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
    """In the sandbox's own PID namespace, nothing but the server, its parent and the
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
