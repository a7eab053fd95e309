"""The floor of a submission's cost: a warm NumPy process forks and runs its cells and calls.

Started by end_to_end.py, one process per core, with only NumPy and the plan module
loaded. It reads one JSON line ``{"plan": [...], "submissions": [[cell, ...], ...]}``, then
waits for a line ``go``; for each submission it forks a child that executes the cells in a
fresh namespace, runs the plan's calls, writes the plain-data answers on a pipe and exits.
It prints ``ready`` once loaded, then the seconds from ``go`` to the last answer read. No
sandbox, no limits, no judging, no files: what any grader running these notebooks must
pay at the least.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import numpy.random  # held by the warm process, as dlgrade's runner holds it

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "autograder"))

from execution.kernel import otter_stand_in
from execution.plan import Call, answers_to_json, plan_from_json, run_plan


def answers_of(cells: list[str], plan: list[Call]) -> bytes:
    """Run one submission in a forked child; its answers as JSON bytes."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        null = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):
            os.dup2(null, stream)
        np.random.seed(int.from_bytes(os.urandom(4), "little"))
        sys.modules["otter"] = otter_stand_in()  # `grader.check` cells cost nothing, as in dlgrade
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        for index, source in enumerate(cells):
            with contextlib.suppress(BaseException):  # a failing cell, as in a kernel
                exec(compile(source, f"<cell {index + 1}>", "exec"), namespace)
        with np.errstate(all="ignore"):
            data = answers_to_json(run_plan(plan, namespace, {})).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def main() -> None:
    job = json.loads(sys.stdin.readline())
    plan = plan_from_json(job["plan"])
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    for cells in job["submissions"]:
        answers_of(cells, plan)
    print(time.perf_counter() - started, flush=True)


if __name__ == "__main__":
    main()
