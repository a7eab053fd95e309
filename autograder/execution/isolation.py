"""Per-submission isolation inside the sandbox: fresh namespaces and a cgroup of its own.

A submission may start several processes and leave IPC objects or files behind. Where
the runner is root in the sandbox, each submission therefore has (its child makes the
namespaces for itself, the server that supervises it makes the cgroup):

* a new IPC namespace (SysV shared memory, semaphores and message queues die with it);
* a new mount namespace with a private tmpfs for its files, capped in bytes and inodes;
* a cgroup (v1 or v2) that caps the *total* memory and process count of all its
  processes, and lets the server kill every one of them.

Where none of this is possible (not root, no cgroup delegated), ``MemoryWatchdog`` sums
the resident memory of the submission's processes instead, and the per-process limits
still hold.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Iterable
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_REC, MS_PRIVATE = 2, 4, 32, 16384, 1 << 18
INODES_PER_MEGABYTE = 64

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def private_namespaces(tmp_bytes: int, folder: str) -> bool:
    """Give the calling process (and its future children) its own IPC objects and a fresh
    tmpfs at ``folder``, where the submission's files go.

    The tmpfs is mounted on its own folder, not over /tmp: the grader's Python may live
    under /tmp (a checkout there), and must stay visible. Returns False, changing nothing,
    when the process may not create namespaces.
    """
    if os.geteuid() != 0:
        return False
    try:
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    except OSError:
        return False
    _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    options = f"size={tmp_bytes},nr_inodes={_inodes(tmp_bytes)},mode=0755".encode()
    os.makedirs(folder, exist_ok=True)
    _check(_libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), "mount")
    return True


def cap_tmpfs(folder: str, tmp_bytes: int) -> bool:
    """Cap the bytes and the inodes of the tmpfs mounted at ``folder`` (the sandbox's
    /tmp or /dev/shm, which every submission may write in): many empty files fill it as
    surely as one large one. False, changing nothing, where it may not be remounted."""
    options = f"size={tmp_bytes},nr_inodes={_inodes(tmp_bytes)}".encode()
    flags = MS_REMOUNT | MS_NOSUID | MS_NODEV
    return os.geteuid() == 0 and _libc.mount(None, folder.encode(), None, flags, options) == 0


def _inodes(tmp_bytes: int) -> int:
    return max(256, tmp_bytes // 2**20 * INODES_PER_MEGABYTE)


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make the calling process the parent of its descendants' orphans: the server can then
    wait for a process its child left on purpose (and read its resource usage)."""
    return _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


_IPC_RMID = 0
_IPC_TABLES = (("shm", "shmctl"), ("sem", "semctl"), ("msg", "msgctl"))


def remove_ipc_objects() -> None:
    """Without a private IPC namespace: remove the SysV objects a submission left behind
    (shared memory, semaphores, message queues), so the next one finds none."""
    for table, function in _IPC_TABLES:
        try:
            lines = _read("/proc/sysvipc", table).splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1 and fields[1].isdigit():
                control = getattr(_libc, function)
                if function == "semctl":
                    control(int(fields[1]), 0, _IPC_RMID)
                else:
                    control(int(fields[1]), _IPC_RMID, None)


def join_processor_share(spec: dict[str, Any] | None) -> None:
    """Move the server into its sandbox's cpu cgroup (v1), if the grader made one: every
    process of its submissions then shares that sandbox's part of the processors."""
    if spec and spec.get("cpu"):
        with contextlib.suppress(OSError):
            _write(spec["cpu"], "cgroup.procs", 0)


class SubmissionCgroup:
    """The cgroup of one submission, below the worker's delegated cgroup(s).

    ``spec`` comes from the grader: ``{"version": 1, "memory": dir, "pids": dir}`` or
    ``{"version": 2, "unified": dir}``, folders the runner may write to.
    """

    NAME = "submission"

    def __init__(self, spec: dict[str, Any]):
        self.version = spec["version"]
        parents = [spec["memory"], spec["pids"]] if self.version == 1 else [spec["unified"]]
        self.folders = [os.path.join(parent, self.NAME) for parent in parents]

    @classmethod
    def create(cls, spec: dict[str, Any] | None, memory_bytes: int, processes: int):
        """A fresh cgroup with the submission's limits, or None where none can be made."""
        if not spec:
            return None
        cgroup = cls(spec)
        try:
            cgroup.remove()  # a leftover of a runner that was killed
            for folder in cgroup.folders:
                os.mkdir(folder)
            if cgroup.version == 1:
                memory, pids = cgroup.folders
                _write(memory, "memory.limit_in_bytes", memory_bytes)
                with contextlib.suppress(OSError):  # absent without swap accounting
                    _write(memory, "memory.memsw.limit_in_bytes", memory_bytes)
                _write(pids, "pids.max", processes)
            else:
                (folder,) = cgroup.folders
                _write(folder, "memory.max", memory_bytes)
                with contextlib.suppress(OSError):
                    _write(folder, "memory.swap.max", 0)
                _write(folder, "pids.max", processes)
        except OSError:
            cgroup.remove()
            return None
        return cgroup

    def join(self) -> None:
        """Move the calling process (the submission's child, still root) into the cgroup.

        Moving a whole process makes the kernel wait for an RCU grace period (the lock
        that keeps its threads together): 5 to 20 ms, about a tenth of a submission. A
        process with one thread, which a fresh fork is, moves as that thread, through
        cgroup v1's ``tasks``, which needs no such lock."""
        single = self.version == 1 and len(os.listdir("/proc/self/task")) == 1
        for folder in self.folders:
            _write(folder, "tasks" if single else "cgroup.procs", 0)

    def kill_all(self, spared: Iterable[int] = (), patience: float = 2.0) -> None:
        """Kill every process of the submission but ``spared``, wherever it moved in its
        PID tree."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            members = self._members() - set(spared)
            if not members:
                return
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            _reap(members)
            time.sleep(0.005)

    def peak_bytes(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int(_read(self.folders[0], name))
        except (OSError, ValueError):
            return None

    def out_of_memory(self) -> bool:
        """Did the kernel kill one of its processes for want of memory?"""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            fields = dict(line.split() for line in _read(self.folders[0], name).splitlines())
        except (OSError, ValueError):
            return False
        return int(fields.get("oom_kill", "0")) > 0

    def remove(self) -> None:
        self.kill_all()
        for folder in self.folders:
            for _ in range(100):
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy for a moment while the last process is reaped
                    time.sleep(0.005)

    def _members(self) -> set[int]:
        members: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                members.update(int(p) for p in _read(folder, "cgroup.procs").split())
        return members


class MemoryWatchdog:
    """Without a cgroup: the summed resident memory of the submission's processes."""

    def __init__(self, limit_bytes: int, contained: bool, session_id: int):
        self.limit_bytes = limit_bytes
        self.contained = contained
        self.session_id = session_id
        self.peak = 0
        self.exceeded = False
        self._page = os.sysconf("SC_PAGE_SIZE")

    def poll(self, keep: Iterable[int]) -> bool:
        """Measure now; True when the submission's processes together exceed the limit."""
        total = 0
        spared = set(keep)
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in spared:
                continue
            try:
                if not self.contained and _session_of(name) != self.session_id:
                    continue
                total += int(_read(f"/proc/{name}", "statm").split()[1]) * self._page
            except (OSError, ValueError, IndexError):
                continue
        self.peak = max(self.peak, total)
        self.exceeded = self.exceeded or total > self.limit_bytes
        return self.exceeded


def parent_of(pid: int | str) -> int:
    """The parent process id of ``pid`` (OSError if it is gone)."""
    return int(_stat_fields(pid)[1])


def _session_of(pid: int | str) -> int:
    return int(_stat_fields(pid)[3])


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    stat = _read(f"/proc/{pid}", "stat")
    return stat[stat.rindex(")") + 2 :].split()


def _reap(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _read(folder: str, name: str) -> str:
    with open(os.path.join(folder, name)) as file:
        return file.read()


def _write(folder: str, name: str, value: int) -> None:
    with open(os.path.join(folder, name), "w") as file:
        file.write(str(value))
