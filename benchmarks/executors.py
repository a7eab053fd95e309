"""Whole-class throughput of the executors: local, and Dask on local clusters of 1 and 2 workers.

Usage: python benchmarks/executors.py [--submissions N]

Grades the same generated class (all three assignments, N submissions in all, default
1,000) end to end with `grade_class` (gradebook, grades.csv and results/ included),
once per executor, and prints submissions per second and the scaling from 1 to 2 Dask
workers. Each configuration starts from an empty output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import ASSIGNMENTS, generate_class

from autograder.assignment import Project
from autograder.class_run import grade_class
from autograder.executors import DaskExecutor, LocalExecutor
from autograder.grader import Settings


def grade_all(folders: dict[str, Path], out: Path, workers: int, executor) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for name in ASSIGNMENTS:
        run = grade_class(name, [folders[name]], out / name, Settings(workers=workers),
                          executor=executor)  # fmt: skip
        count += len(run.graded)
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folders = generate_class(Path(tmp) / "class", args.submissions, Project.default())
        configurations = [
            ("local executor", cores, LocalExecutor()),
            ("dask, 1 worker", 1, DaskExecutor()),
            ("dask, 2 workers", 2, DaskExecutor()),
        ]
        rates = {}
        for label, workers, executor in configurations:
            seconds, count = grade_all(
                folders, Path(tmp) / label.replace(" ", "_"), workers, executor
            )
            rates[label] = count / seconds
            print(
                f"{label:16s}: {count} submissions in {seconds:5.1f} s = {rates[label]:5.1f} submissions/s"
            )
    print(f"machine: {cores} cores")
    print(f"dask scaling 1 -> 2 workers: {rates['dask, 2 workers'] / rates['dask, 1 worker']:.2f}x")


if __name__ == "__main__":
    main()
