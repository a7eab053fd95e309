"""Where a submission's code is executed: the warm runner inside the sandbox.

The grader starts one runner per worker (under bubblewrap when available). The runner
imports NumPy once, then serves requests read from stdin, one JSON line each: the
notebook's code cells and the plan of calls. For each request it forks a fresh child
that drops privileges, sets resource limits, runs the cells and the plan in an empty
working folder, and writes its answers to a pipe. The runner enforces the wall-clock
limit, kills whatever the child left behind, deletes its folder, and replies with one
JSON line. No state and no file outlives a submission.
"""

from __future__ import annotations

import builtins
import contextlib
import json
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
import types
from typing import Any

import numpy as np

from .plan import answers_to_json, describe_exception, plan_from_json, run_plan
from .standins import STANDINS

NOBODY = 65534
MAX_RESULT_BYTES = 64 * 1024 * 1024
OUTPUT_SHOWN = 4096
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)


def serve(contained: bool) -> None:
    """Answer requests until stdin closes. ``contained``: alone in a PID namespace."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    for line in requests:
        reply = handle(json.loads(line), contained)
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


def handle(request: dict[str, Any], contained: bool) -> dict[str, Any]:
    limits = request["limits"]
    workdir = tempfile.mkdtemp(prefix="submission-", dir=request.get("tmp"))
    output_fd, output_path = tempfile.mkstemp(prefix="output-", dir=request.get("tmp"))
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child never returns
        os.close(read_end)
        _child(request, workdir, output_fd, write_end)
    os.close(write_end)
    os.close(output_fd)
    try:
        events, wait_status, usage = _collect(read_end, pid, started + limits["wall_seconds"])
    finally:
        os.close(read_end)
        _kill_group(pid)
        if contained:
            _kill_everything_else()
        output = _head(output_path)
        shutil.rmtree(workdir, ignore_errors=True)
        os.unlink(output_path)
    timed_out = (
        wait_status is None
        or (os.WIFSIGNALED(wait_status) and os.WTERMSIG(wait_status) == signal.SIGXCPU)
        or (usage is not None and usage.ru_utime + usage.ru_stime >= limits["cpu_seconds"])
    )
    return {
        "status": "timeout" if timed_out else _status(events),
        "answers": events.get("answers"),
        "cell_errors": events.get("cell_errors", []),
        "last_cell": events.get("cell"),
        "output": output,
        "seconds": round(time.monotonic() - started, 3),
        "peak_memory_kb": usage.ru_maxrss if usage else None,
        "runner_memory_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "exit": "killed at the time limit" if wait_status is None else _describe_exit(wait_status),
    }


def _child(request: dict[str, Any], workdir: str, output_fd: int, result_fd: int) -> None:
    """Run one submission; ends with os._exit, whatever the student's code does."""
    try:
        os.setsid()
        limits = request["limits"]
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        _limit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
        _limit(resource.RLIMIT_AS, limits["memory_bytes"])
        _limit(resource.RLIMIT_FSIZE, limits["output_bytes"])
        _limit(resource.RLIMIT_NPROC, limits["processes"])
        _limit(resource.RLIMIT_NOFILE, 64)
        _limit(resource.RLIMIT_CORE, 0)
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        events = _run(request["cells"], request["plan"], result_fd)
        for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.write(result_fd, json.dumps(events).encode() + b"\n")
    except BaseException:
        traceback.print_exc()
    os._exit(0)


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    resource.setrlimit(which, (soft, soft if hard is None else hard))


def _run(cells: list[str], plan: list[dict[str, Any]], result_fd: int) -> dict[str, Any]:
    """Execute the cells in one namespace, as Jupyter would, then the planned calls."""
    sys.modules["otter"] = _otter_stand_in()
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    cell_errors = []
    for index, source in enumerate(cells):
        os.write(result_fd, json.dumps({"cell": index}).encode() + b"\n")
        try:
            code = compile(_MAGIC.sub(r"\1pass", source), f"<cellule {index + 1}>", "exec")
            exec(code, namespace)
        except BaseException as error:
            cell_errors.append({"cell": index + 1, "error": describe_exception(error)})
    with np.errstate(all="ignore"):
        answers = run_plan(plan_from_json(plan), namespace, STANDINS)
    return {"answers": answers_to_json(answers), "cell_errors": cell_errors}


def _otter_stand_in() -> types.ModuleType:
    """``import otter`` and ``grader.check(...)`` work in a submission and do nothing."""

    class Notebook:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    module = types.ModuleType("otter")
    module.Notebook = Notebook  # type: ignore[attr-defined]
    return module


def _collect(fd: int, pid: int, deadline: float):
    """Read the child's event lines until it exits or the deadline passes (then kill it).

    Returns the events, the wait status (None if killed at the deadline) and the child's
    resource usage. A grandchild holding the pipe open cannot make the runner wait.
    """
    buffer, wait_status, usage = b"", None, None
    while wait_status is None:
        if time.monotonic() >= deadline:
            _kill_group(pid)
            os.wait4(pid, 0)
            return _events(buffer), None, None
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            buffer += _drain(fd, MAX_RESULT_BYTES - len(buffer))
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            wait_status, usage = status, rusage
    buffer += _drain(fd, MAX_RESULT_BYTES - len(buffer))
    return _events(buffer), wait_status, usage


def _drain(fd: int, room: int) -> bytes:
    """What can be read now without blocking, at most ``room`` bytes."""
    chunks = b""
    while room > 0 and select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, min(room, 1 << 20))
        if not chunk:
            break
        chunks += chunk
        room -= len(chunk)
    return chunks


def _events(buffer: bytes) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for line in buffer.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            return {"garbled": True}
        if isinstance(event, dict):
            merged.update(event)
    return merged


def _status(events: dict[str, Any]) -> str:
    if not isinstance(events.get("answers"), str):
        return "error"
    errors = json.dumps(events.get("cell_errors", [])) + events["answers"]
    return "memory" if "MemoryError" in errors else "ok"


def _describe_exit(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        return f"signal {signal.Signals(os.WTERMSIG(wait_status)).name}"
    return f"exit {os.WEXITSTATUS(wait_status)}"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _kill_everything_else() -> None:
    """In the sandbox's own PID namespace, nothing but the runner may survive a submission
    (a child that escaped its process group with setsid included)."""
    keep = {os.getpid(), os.getppid(), 1}
    for _ in range(3):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in keep]
        if not others:
            return
        for pid in others:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in others:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)


def _head(path: str) -> str:
    with open(path, "rb") as file:
        return file.read(OUTPUT_SHOWN).decode("utf-8", errors="replace")
