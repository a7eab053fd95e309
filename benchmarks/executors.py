"""Cost of one more submission with each executor (threads, processes, Dask), in one run.

Usage: python benchmarks/executors.py [--submissions N] [--assignment NAME] [--workers W]

Each configuration grades the same class (the sample mix of one assignment, repeated)
end to end with `grade_class` (gradebook, grades.csv and results/ included) twice, from
empty output folders: N/5 and N submissions. The difference of the two times over the
difference of the sizes is the cost of one more submission, free of start-up (cluster,
workers, graders, reference answers), which is the rest. Dask's overhead per submission is
its marginal cost minus the local executor's: with one submission per task (as before
batching) and with batches of ``MAX_BATCH`` (the default size for a class of 64
submissions per worker or more; a fixed size keeps both class sizes comparable). Dask
on one worker gives its scaling. The process executor runs with as many workers as the
thread executor, then twice as many (more workers than cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import class_folder, sample_mixes

from autograder.class_run import grade_class
from autograder.course import Project
from autograder.executors import (
    MAX_BATCH,
    DaskExecutor,
    Executor,
    LocalExecutor,
    ProcessExecutor,
)
from autograder.grader import Settings
from autograder.sandbox import default_workers


def seconds(name: str, submissions: Path, out: Path, workers: int, executor: Executor) -> float:
    started = time.perf_counter()
    grade_class(name, [submissions], out, Settings(workers=workers), executor=executor)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=600)
    parser.add_argument("--assignment", default="mlp_softmax")
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    name, workers = args.assignment, args.workers
    sizes = (args.submissions // 5, args.submissions)
    configurations = [
        ("local executor", workers, LocalExecutor),
        ("processes", workers, ProcessExecutor),
        ("processes, 2x workers", 2 * workers, ProcessExecutor),
        ("dask, 1 per task", workers, lambda: DaskExecutor(batch_size=1)),
        ("dask, batched", workers, lambda: DaskExecutor(batch_size=MAX_BATCH)),
        ("dask, batched, 1 worker", 1, lambda: DaskExecutor(batch_size=MAX_BATCH)),
    ]
    marginal, startup = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mix = sample_mixes(folder / "mix", Project.default(), 0)[name]
        classes = {size: class_folder(mix, size, folder / f"class-{size}") for size in sizes}
        for label, count, executor in configurations:
            small, large = (
                seconds(name, classes[size], folder / f"{label}-{size}", count, executor())
                for size in sizes
            )
            marginal[label] = (large - small) / (sizes[1] - sizes[0])
            startup[label] = small - sizes[0] * marginal[label]
    local = marginal["local executor"]
    print(f"machine: {os.cpu_count()} cores; {name}, {sizes[0]} and {sizes[1]} submissions")
    print(f"{'configuration':24s} {'start-up s':>10} {'ms/submission':>13} {'overhead ms':>11}")
    for label, _, _ in configurations:
        same_workers = not label.endswith(("1 worker", "2x workers"))
        overhead = f"{(marginal[label] - local) * 1e3:11.1f}" if same_workers else ""
        print(f"{label:24s} {startup[label]:10.1f} {marginal[label] * 1e3:13.1f} {overhead:>11}")
    scaling = marginal["dask, batched, 1 worker"] / marginal["dask, batched"]
    print(f"dask scaling 1 -> {workers} workers: {scaling:.2f}x; overhead: minus the local "
          "executor, per submission, with the same workers")  # fmt: skip


if __name__ == "__main__":
    main()
