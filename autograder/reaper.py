"""No process of a submission outlives its grading, even without bubblewrap's PID namespace.

A submission can fork a daemon that leaves its process group (``setsid``) and waits for
what runs after it: in otter's grading, a kernel and a logging server that unpickles
whatever reaches its port. Under bubblewrap the namespace's end kills such a daemon;
without it (the unprivileged fallback in a container) nothing would. Here the grading
process makes itself a *child subreaper*: orphans of its descendants are re-parented to
it, never to init, so every process the submission started stays in its tree, where
``kill_descendants`` finds and kills it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
ROUNDS = 100


def become_subreaper() -> bool:
    """Adopt the orphans of every descendant (Linux); False where the kernel cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_descendants(*, foreign_only: bool = False) -> int:
    """SIGKILL every descendant of this process, until none is left; returns how many.

    ``foreign_only`` spares the processes running as this process's own user (the warm
    sandbox runner) and kills only the submission's, which run as another user.
    """
    killed = 0
    for _ in range(ROUNDS):
        targets = [
            pid for pid in descendants(os.getpid()) if not foreign_only or _uid(pid) != os.getuid()
        ]
        if not targets:
            break
        for pid in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        _reap_orphans()
        time.sleep(0.01)
    _reap_orphans()
    return killed


def descendants(root: int) -> list[int]:
    """Every process under ``root`` in the process tree, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, queue = [], list(children.get(root, []))
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()  # the name may hold spaces and ")"
    return int(fields[1]) if len(fields) > 1 else None


def _uid(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _reap_orphans() -> None:
    """Collect the exit status of adopted orphans, so none stays a zombie."""
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
