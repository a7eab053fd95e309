"""How much of a submission's cost is judging in the grading process, against the sandbox.

Usage: python benchmarks/judging.py [--submissions N]

Grades the sample mix of each assignment (N submissions, repeated) in one thread with one
warm sandbox, and splits each submission's time into the sandbox's run (its wall time:
the runner's work, in other processes, which scale with the cores) and the rest, spent in
the grading process: reading, decoding the reply, judging, feedback. That part holds the
GIL: its CPU time bounds one grading process to 1 / (that time) submissions per second,
whatever the number of cores. Printed: that ceiling, and the number of workers (and
cores) at which the sandboxes would reach it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from common import ASSIGNMENTS, class_folder, sample_mixes

from autograder.course import Project
from autograder.grader import Grader, Settings
from autograder.sandbox import Sandbox
from autograder.submissions import collect


class TimedSandbox(Sandbox):
    """A sandbox that adds up the wall time of its exchanges with the runner: a run, and a
    follow-up (which ``Sandbox.open`` makes inside the grader's judging)."""

    seconds = 0.0

    def _exchange(self, message: bytes) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return super()._exchange(message)
        finally:
            self.seconds += time.perf_counter() - started


def split(name: str, folder: Path) -> tuple[float, float, float, int]:
    """Seconds in the sandbox, wall and CPU seconds in the grading process, submissions."""
    grader = Grader(name, Settings(workers=1))
    submissions, _ = collect([folder])
    with TimedSandbox() as sandbox:
        grader.grade(submissions[0], sandbox)  # the runner's start-up is not a submission's
        sandbox.seconds = 0.0
        wall, cpu = time.perf_counter(), time.thread_time()
        for submission in submissions:
            grader.grade(submission, sandbox)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    return sandbox.seconds, wall - sandbox.seconds, cpu, len(submissions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=120, help="per assignment")
    args = parser.parse_args()
    print(f"{'assignment':18s} {'sandbox ms':>10} {'grader ms':>9} {'grader CPU ms':>13} "
          f"{'grader share':>12} {'ceiling /s':>10} {'cores to reach it':>17}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        mixes = sample_mixes(Path(tmp) / "mix", Project.default(), 0)
        for name in ASSIGNMENTS:
            folder = class_folder(mixes[name], args.submissions, Path(tmp) / name)
            sandbox, grader, cpu, count = split(name, folder)
            share = grader / (sandbox + grader)
            print(f"{name:18s} {sandbox / count * 1e3:10.1f} {grader / count * 1e3:9.1f} "
                  f"{cpu / count * 1e3:13.1f} {share:12.0%} {count / cpu:10.0f} "
                  f"{(sandbox + cpu) / cpu:17.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
