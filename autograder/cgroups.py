"""The cgroup each sandbox receives from the grader, so each submission can get its own.

The grader (root) creates one folder per sandbox below its own cgroup, in the memory
and pids hierarchies (cgroup v1) or in the unified hierarchy (cgroup v2, when the
grader's cgroup delegates both controllers), and binds it into the sandbox. The
runner then creates one child per submission there (``execution.isolation``). Where
no such folder can be made, ``WorkerCgroup.create`` returns None and the runner falls
back to its memory watchdog.

With cgroup v1's cpu hierarchy, each sandbox also gets a folder there, which its server
joins: every sandbox then has the same share of the processors, however many processes
a submission starts (a submission of 30 busy processes would otherwise take 30 shares,
and make a classmate's code, graded beside it, run out of time).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .execution.isolation import SubmissionCgroup

INSIDE = "/run/dlgrade/cgroup"
_counter = itertools.count()


@dataclass(frozen=True)
class WorkerCgroup:
    """Folders made for one sandbox: where they are, and how the runner sees them."""

    version: int
    folders: dict[str, Path]  # controller ("memory", "pids" or "unified") -> folder

    @classmethod
    def create(cls) -> WorkerCgroup | None:
        if os.geteuid() != 0:
            return None
        name = f"dlgrade-{os.getpid()}-{next(_counter)}"
        for version, parents in ((2, _v2_parent()), (1, _v1_parents())):
            if not parents:
                continue
            folders = {controller: parent / name for controller, parent in parents.items()}
            _sweep(parents)
            try:
                for folder in folders.values():
                    folder.mkdir()
                if version == 2:
                    (folders["unified"] / "cgroup.subtree_control").write_text("+memory +pids")
            except OSError:
                for folder in folders.values():
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                continue
            return cls(version, folders)
        return None

    def spec(self, inside: bool) -> dict[str, Any]:
        """What the runner is told: the folders as it sees them."""
        paths = {c: f"{INSIDE}/{c}" if inside else str(f) for c, f in self.folders.items()}
        return {"version": self.version, **paths}

    def binds(self) -> list[str]:
        """bubblewrap arguments that make the folders writable inside the sandbox."""
        arguments = []
        for controller, folder in self.folders.items():
            arguments += ["--bind", str(folder), f"{INSIDE}/{controller}"]
        return arguments

    def remove(self) -> None:
        """Kill what a killed runner may have left, then remove the folders."""
        SubmissionCgroup(self.spec(inside=False)).remove()
        for folder in self.folders.values():
            with contextlib.suppress(OSError):
                folder.rmdir()


def _sweep(parents: dict[str, Path]) -> None:
    """Remove the folders of graders that died without cleaning up (killed, crashed)."""
    version = 2 if "unified" in parents else 1
    for stale in {p.name for parent in parents.values() for p in parent.glob("dlgrade-*-*")}:
        pid = stale.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            WorkerCgroup(version, {c: parent / stale for c, parent in parents.items()}).remove()


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, type, options) of every cgroup file system."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as file:
        for line in file:
            before, _, after = line.partition(" - ")
            fields, tail = before.split(), after.split()
            if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
                found.append((fields[3], fields[4], tail[0], set(tail[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup in each hierarchy: controller (or "unified") -> path."""
    paths = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as file:
        for line in file:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else ["unified"]:
                paths[controller] = path
    return paths


def _located(root: str, point: str, path: str) -> Path | None:
    if path != root and not path.startswith(root.rstrip("/") + "/"):
        return None
    return Path(point) / path[len(root) :].lstrip("/")


def _v1_parents() -> dict[str, Path]:
    """memory and pids, which the limits need, and cpu where it can be had (fairness)."""
    own = _own_paths()
    parents = {}
    for root, point, kind, options in _mounts():
        for controller in ("memory", "pids", "cpu"):
            if kind == "cgroup" and controller in options and controller in own:
                folder = _located(root, point, own[controller])
                if folder and os.access(folder, os.W_OK):
                    parents[controller] = folder
    return parents if {"memory", "pids"} <= set(parents) else {}


def _v2_parent() -> dict[str, Path]:
    own = _own_paths().get("unified")
    for root, point, kind, _ in _mounts():
        if kind != "cgroup2" or own is None:
            continue
        folder = _located(root, point, own)
        try:
            delegated = (folder / "cgroup.subtree_control").read_text().split() if folder else []
        except OSError:
            continue
        if folder and {"memory", "pids"} <= set(delegated):
            return {"unified": folder}
    return {}
