"""Throughput of `dlgrade grade` against sequential `otter run`, measured in the same run.

Usage: python benchmarks/throughput.py [--submissions N] [--otter-sample K] [--workers W]

Generates a sample class (all three assignments), grades N submissions with the class
grader and K of them with `otter run`, one after the other, then prints submissions per
second for each, their ratio, and the peak memory of one grader worker (the warm runner
plus the largest forked submission).

The baseline is otter's native zip, as otter assign writes it (hidden tests in the
student's kernel). The zips `dlgrade build` ships run dlgrade's sandboxed engine under
otter and are slower; they are timed too, for information, but never used as the
baseline, which would flatter the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import ASSIGNMENTS, generate_class

from autograder.assignment import Project
from autograder.build import otter_assigned
from autograder.grader import Grader, Settings
from autograder.sandbox import Sandbox
from autograder.submissions import collect


def time_dlgrade(classes: dict[str, list[Path]], workers: int) -> tuple[float, int, dict]:
    """Seconds to grade every submission, including starting the sandboxes."""
    from concurrent.futures import ThreadPoolExecutor

    memory = {"runner_kb": 0, "submission_kb": 0}
    started = time.perf_counter()
    count = 0
    sandboxes = [Sandbox() for _ in range(workers)]
    try:
        for name, paths in classes.items():
            grader = Grader(name, Settings(workers=workers))
            submissions, _ = collect(paths)
            count += len(submissions)
            chunks = [submissions[i::workers] for i in range(workers)]

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(_grade_all, [grader] * workers, chunks, sandboxes))
        elapsed = time.perf_counter() - started
        for sandbox in sandboxes:
            reply = sandbox.run(["x = 1"])
            memory["runner_kb"] = max(memory["runner_kb"], reply["runner_memory_kb"])
    finally:
        for sandbox in sandboxes:
            sandbox.close()
    return elapsed, count, memory


def _grade_all(grader: Grader, submissions: list, sandbox: Sandbox) -> None:
    for submission in submissions:
        grader.grade(submission, sandbox)


def native_zips(project: Project, folder: Path) -> dict[str, Path]:
    """Otter's own autograder zip of each assignment, as otter assign writes it."""
    zips = {}
    for name in ASSIGNMENTS:
        (zips[name],) = (otter_assigned(name, project, folder) / "autograder").glob("*.zip")
    return zips


def time_otter(
    classes: dict[str, list[Path]], sample: int, zips: dict[str, Path]
) -> tuple[float, int]:
    picked = [(n, p) for n, paths in classes.items() for p in paths[: -(-sample // len(classes))]]
    picked = picked[:sample]
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        for name, path in picked:
            subprocess.run(
                [sys.executable, "-m", "otter", "run", "-a", str(zips[name]), "-o", out, str(path)],
                capture_output=True, check=False, timeout=600,
            )  # fmt: skip
        return time.perf_counter() - started, len(picked)


def peak_submission_kb(classes: dict[str, list[Path]]) -> int:
    """The largest resident size of one forked submission, over a few of each assignment."""
    peak = 0
    with Sandbox() as sandbox:
        for name, paths in classes.items():
            grader = Grader(name)
            for submission in collect(paths[:5])[0]:
                from autograder.notebook import InvalidNotebook, parse

                try:
                    cells = parse(submission.read())
                except InvalidNotebook:
                    continue
                reply = sandbox.run(cells, grader.plan_json)
                peak = max(peak, reply.get("peak_memory_kb") or 0)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--otter-sample", type=int, default=6)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    project = Project.default()
    with tempfile.TemporaryDirectory() as tmp:
        folders = generate_class(Path(tmp), args.submissions, project)
        classes = {name: sorted(folder.glob("*.ipynb")) for name, folder in folders.items()}
        ours, count, memory = time_dlgrade(classes, args.workers)
        native = native_zips(project, Path(tmp) / "native")
        theirs, otter_count = time_otter(classes, args.otter_sample, native)
        shipped = {name: project.autograder_zip(name) for name in ASSIGNMENTS}
        through_ours, _ = time_otter(classes, args.otter_sample, shipped)
        submission_kb = peak_submission_kb(classes)
    ours_rate, otter_rate = count / ours, otter_count / theirs
    worker_mb = (memory["runner_kb"] + submission_kb) / 1024
    print(f"machine: {os.cpu_count()} cores; dlgrade workers: {args.workers}")
    print(f"dlgrade grade : {count} submissions in {ours:.1f} s = {ours_rate:.2f} submissions/s")
    print(
        f"otter run     : {otter_count} submissions in {theirs:.1f} s = {otter_rate:.3f} submissions/s (sequential)"
    )
    print(f"ratio         : {ours_rate / otter_rate:.1f}x")
    print(
        f"otter run with dlgrade's zip: {otter_count / through_ours:.3f} submissions/s "
        "(sequential; the zip runs the sandboxed engine)"
    )
    print(
        f"peak memory per worker: {worker_mb:.0f} MB (warm runner {memory['runner_kb'] / 1024:.0f} MB"
        f" + largest submission {submission_kb / 1024:.0f} MB, counted twice where they share pages)"
    )
    print(
        f"grading process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
