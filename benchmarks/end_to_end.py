"""End to end: `dlgrade grade` as a whole process, against its floor and its peers, in one run.

Usage: python benchmarks/end_to_end.py [--sizes 100 1000 3000] [--otter-sample K]
       [--nbgrader-sample K] [--workers W] [--notebook-mb M] [--floor-sample N]

Every class is the same mix (the 30-notebook sample class of each assignment: correct,
mistaken, blank and broken notebooks, repeated under other student ids), split over the
three assignments. For each size, `dlgrade grade` runs once per assignment as its own
process: start-up, gradebook, grades.csv and results/ included. Printed per assignment:

- seconds per submission, and its ratio to the *floor*: one warm NumPy process per
  worker that forks and runs the same cells and contract calls per submission, without
  sandbox, limits, judging or files (benchmarks/floor.py), measured right before each
  `dlgrade grade` on the same class (its first N submissions at most), so both see the
  same load;
- peak memory: of the grading process (VmHWM), of the largest worker (its sandbox's process
  tree, resident sizes summed, sampled every 50 ms: an upper bound, shared pages are
  counted once per process) and of one submission (its cgroup's maximum usage, exact);
- how many times faster than sequential `otter run` (otter's native zip, hidden tests in
  the kernel) and `nbgrader autograde` (a course built here, whose hidden test cells run
  the same checks in the same Python), each on K notebooks per assignment spread over
  the mix, per submission, start-up included.

Then `dlgrade check` on one notebook, against `python -c pass` and `import numpy`.
nbgrader is installed in benchmarks/.cache/nbgrader-venv when absent (ignored by git).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import ASSIGNMENTS, MIX, class_folder, native_zips, otter_seconds, sample_mixes

import autograder
from autograder.assignment import load_assignment
from autograder.cgroups import _v1_parents, _v2_parent
from autograder.course import Project
from autograder.grader import Grader, Settings
from autograder.notebook import InvalidNotebook, parse
from autograder.sample_class import SOLUTION_TAG
from autograder.sandbox import ENVIRONMENT, cores, default_workers

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
NBGRADER_VENV = CACHE / "nbgrader-venv"
DLGRADE = Path(sys.executable).parent / "dlgrade"
SAMPLE_SECONDS = 0.05
KERNEL = "dlgrade-benchmark"


# --- the peers' samples ---------------------------------------------------------------


def spread(mix: list[Path], count: int) -> list[Path]:
    """``count`` notebooks spread evenly over the mix: the peers' sample."""
    return [mix[index * len(mix) // count] for index in range(count)]


# --- dlgrade, end to end, and its memory ----------------------------------------------


@dataclass(frozen=True)
class Run:
    """One `dlgrade grade` process: its submissions, wall time and memory peaks."""

    submissions: int
    seconds: float
    grader_kb: int
    worker_kb: int
    submission_kb: int


def run_dlgrade(name: str, folder: Path, count: int, out: Path, workers: int) -> Run:
    """One `dlgrade grade` process over the ``count`` notebooks of ``folder``, timed from its
    start to its exit."""
    command = [str(DLGRADE), "grade", name, str(folder), "--out", str(out),
               "--workers", str(workers)]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        with MemorySampler(process.pid) as memory:
            process.wait()
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed:\n{errors.read().decode()[-2000:]}")
    worker_kb = max(memory.trees.values(), default=0)
    submission_kb = max(memory.cgroups.values(), default=0)
    return Run(count, seconds, memory.grader_kb, worker_kb, submission_kb)


class MemorySampler:
    """Peaks of a grading process, of each of its child process trees (one per sandbox)
    and of the cgroups it makes for its sandboxes, read every ``SAMPLE_SECONDS``."""

    def __init__(self, pid: int):
        self.pid = pid
        self.grader_kb = 0
        self.trees: dict[int, int] = {}
        self.cgroups: dict[str, int] = {}
        parents = _v2_parent() or _v1_parents()
        self._cgroup_parent = parents.get("unified") or parents.get("memory")
        self._peak_file = "memory.peak" if "unified" in parents else "memory.max_usage_in_bytes"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.grader_kb = max(self.grader_kb, _status_kb(self.pid, "VmHWM"))
            for child in _children(self.pid):
                total = sum(_rss_kb(pid) for pid in _tree(child))
                self.trees[child] = max(self.trees.get(child, 0), total)
            if self._cgroup_parent:
                for folder in self._cgroup_parent.glob(f"dlgrade-{self.pid}-*"):
                    peak = _read_int(folder / self._peak_file) // 1024
                    self.cgroups[folder.name] = max(self.cgroups.get(folder.name, 0), peak)


def _read_int(path: Path, index: int = 0) -> int:
    """The ``index``-th number of a /proc or cgroup file; 0 once the file is gone."""
    try:
        return int(path.read_text().split()[index])
    except (OSError, ValueError, IndexError):
        return 0


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb(pid: int) -> int:
    return _read_int(Path(f"/proc/{pid}/statm"), 1) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _children(pid: int) -> list[int]:
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            children += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
    except OSError:
        pass
    return children


def _tree(pid: int) -> list[int]:
    return [pid, *(p for child in _children(pid) for p in _tree(child))]


# --- the floor -------------------------------------------------------------------------


def floor_seconds(name: str, mix: list[Path], count: int, workers: int) -> float:
    """Seconds per submission of the floor, over ``count`` submissions of the mix, in
    ``workers`` processes (one per core: it never waits, more would only share them)."""
    cells = []
    for path in (mix[index % len(mix)] for index in range(count)):
        with contextlib.suppress(InvalidNotebook):  # nothing to run: it costs the floor nothing
            cells.append(parse(path.read_bytes(), name))
    plan = json.loads(Grader(name, Settings(workers=1)).plan_json)
    command = [sys.executable, "-I", str(HERE / "floor.py")]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    processes = [subprocess.Popen(command, env=ENVIRONMENT, **pipes) for _ in range(workers)]
    for index, process in enumerate(processes):
        assert process.stdin and process.stdout
        job = {"plan": plan, "submissions": cells[index::workers]}
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
    for process in processes:
        assert process.stdout and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin
        process.stdin.write("go\n")
        process.stdin.flush()
    seconds = max(float(process.communicate()[0]) for process in processes)
    return seconds / count


# --- nbgrader ------------------------------------------------------------------------


def nbgrader_executable() -> Path:
    """nbgrader in its own environment (its dependencies are not dlgrade's), made once."""
    executable = NBGRADER_VENV / "bin" / "nbgrader"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NBGRADER_VENV)], check=True)
        pip = [str(NBGRADER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "nbgrader"], check=True)
    return executable


def nbgrader_notebook(notebook: dict, assignment: str) -> dict:
    """The otter notebook as an nbgrader one: otter's cells dropped, the answer cells marked
    as solutions, and one hidden test cell per check, worth its points, running the check
    in the kernel (as otter's native zip does)."""
    cells = []
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "code" and (
            "import otter" in source or "grader.check(" in source
        ):
            continue
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            cell["metadata"]["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                            "grade_id": f"answer_{len(cells)}", "schema_version": 3}  # fmt: skip
        cells.append(cell)
    for question in load_assignment(assignment).autograded:
        for scored in question.checks:
            source = ("### BEGIN HIDDEN TESTS\nfrom autograder.otter_bridge import verify\n\n"
                      f"verify({assignment!r}, {scored.id!r}, globals())\n### END HIDDEN TESTS")  # fmt: skip
            metadata = {"grade": True, "solution": False, "locked": True, "points": scored.points,
                        "grade_id": scored.id, "schema_version": 3}  # fmt: skip
            cells.append({"cell_type": "code", "execution_count": None, "outputs": [],
                          "metadata": {"nbgrader": metadata}, "source": source})  # fmt: skip
    kernel = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    return {**notebook, "cells": cells, "metadata": {**notebook["metadata"], "kernelspec": kernel}}


def nbgrader_seconds(
    samples: dict[str, list[Path]], project: Project, folder: Path
) -> dict[str, float]:
    """Seconds per submission of `nbgrader autograde` on each assignment's sample, in a
    course made in ``folder``; its kernel is dlgrade's Python, so the checks can run."""
    bin_folder = nbgrader_executable().parent
    course = folder / "course"
    kernel = folder / "jupyter" / "kernels" / KERNEL
    kernel.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNEL, "language": "python"}  # fmt: skip
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n", encoding="utf-8"
    )
    environment = {**os.environ, "JUPYTER_PATH": str(folder / "jupyter"),
                   "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip

    def nbgrader(*arguments: str, must_succeed: bool = True) -> None:
        done = subprocess.run(["nbgrader", *arguments], cwd=course, env=environment,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if must_succeed and done.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(arguments)} failed:\n{done.stderr[-2000:]}")

    seconds = {}
    for name, paths in samples.items():
        source = course / "source" / name / f"{name}.ipynb"
        source.parent.mkdir(parents=True)
        template = json.loads(project.template(name).read_bytes())
        source.write_text(json.dumps(nbgrader_notebook(template, name)), encoding="utf-8")
        nbgrader("generate_assignment", name, "--force")
        for index, path in enumerate(paths):
            submitted = course / "submitted" / f"s{index:03d}" / name / f"{name}.ipynb"
            submitted.parent.mkdir(parents=True)
            try:
                content = json.dumps(nbgrader_notebook(json.loads(path.read_bytes()), name))
            except ValueError:
                content = path.read_text(encoding="utf-8")  # broken, as submitted
            submitted.write_text(content, encoding="utf-8")
        started = time.perf_counter()
        nbgrader("autograde", name, "--force", must_succeed=False)  # fails on the broken file
        seconds[name] = (time.perf_counter() - started) / len(paths)
    return seconds


# --- dlgrade check -------------------------------------------------------------------


def median_seconds(command: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def student_check_line(notebook: Path) -> str:
    python = median_seconds([sys.executable, "-c", "pass"])
    numpy = median_seconds([sys.executable, "-c", "import numpy"])
    check = median_seconds([str(DLGRADE), "check", str(notebook)])
    return (f"dlgrade check, one notebook: {check:.2f} s = {check / python:.1f}x `python -c pass` "
            f"({python:.3f} s), {check / numpy:.1f}x `import numpy` ({numpy:.3f} s); median of 5")  # fmt: skip


# --- the table -----------------------------------------------------------------------


def row(size: int, label: str, runs: dict[str, Run], peers: dict[str, dict[str, float]]) -> str:
    """One line of the table for ``runs`` (by assignment) together: the time per submission,
    its ratio to each peer's time on the same submissions, and the memory peaks."""
    count = sum(run.submissions for run in runs.values())
    seconds = sum(run.seconds for run in runs.values())
    peer = {
        peer: sum(run.submissions * times[name] for name, run in runs.items())
        for peer, times in peers.items()
    }
    peaks = [max(getattr(run, field) for run in runs.values()) / 1024
             for field in ("grader_kb", "worker_kb", "submission_kb")]  # fmt: skip
    return (f"{size:6d} {label:18s} {count:5d} {seconds / count * 1e3:10.1f} "
            f"{seconds / peer['floor']:8.2f} {peer['otter'] / seconds:8.0f} "
            f"{peer['otter'] / peer['floor']:13.0f} {peer['nbgrader'] / seconds:10.0f} "
            f"{peaks[0]:9.0f} {peaks[1]:9.0f} {peaks[2]:13.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000],
                        help="class sizes, all assignments together")  # fmt: skip
    parser.add_argument("--otter-sample", type=int, default=3, help="per assignment")
    parser.add_argument("--nbgrader-sample", type=int, default=10, help="per assignment")
    parser.add_argument("--floor-sample", type=int, default=300, help="per assignment")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--notebook-mb", type=float, default=0.0,
                        help="a plot output of this size in every notebook")  # fmt: skip
    args = parser.parse_args()
    project = Project.default()
    # dlgrade's modules byte-compiled, as `pip install` leaves them: the sandboxed runner
    # may not write its own, and PYTHONDONTWRITEBYTECODE would recompile them every run.
    compileall.compile_dir(Path(autograder.__file__).parent, quiet=1)
    runs: dict[int, dict[str, Run]] = {}
    floors: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as tmp:
        folder = Path(tmp)
        mixes = sample_mixes(folder / "mix", project, args.notebook_mb)
        for size in args.sizes:
            count = -(-size // len(ASSIGNMENTS))
            runs[size], floors[size] = {}, {}
            for name in ASSIGNMENTS:  # the floor right before dlgrade: paired, whatever the load
                sample = min(count, args.floor_sample)
                floors[size][name] = floor_seconds(name, mixes[name], sample, cores())
                submissions = class_folder(mixes[name], count, folder / f"class-{size}" / name)
                out = folder / f"graded-{size}" / name
                runs[size][name] = run_dlgrade(name, submissions, count, out, args.workers)
        zips = native_zips(project, folder / "native")
        otter = {
            name: otter_seconds([(name, p) for p in spread(mixes[name], args.otter_sample)], zips)
            / args.otter_sample
            for name in ASSIGNMENTS
        }
        samples = {name: spread(mixes[name], args.nbgrader_sample) for name in ASSIGNMENTS}
        nbgrader = nbgrader_seconds(samples, project, folder / "nbgrader")
        correct = next(p for p in mixes["mlp_softmax"][::-1] if p.read_bytes().startswith(b"{"))
        check_line = student_check_line(correct)
    print(f"machine: {os.cpu_count()} cores; dlgrade workers: {args.workers}; "
          f"notebooks: the {MIX}-notebook sample mix repeated, +{args.notebook_mb:g} MB each")  # fmt: skip
    print("per submission, start-up included; x floor: dlgrade / floor (lower is better); "
          "x otter, x nbgrader: peer / dlgrade (higher is better); floor x otter: otter / floor, "
          "the most any grader paying the floor, with no start-up, could reach")  # fmt: skip
    for name in ASSIGNMENTS:
        floor = ", ".join(f"{floors[size][name] * 1e3:.1f}" for size in args.sizes)
        print(f"  {name:18s} otter run {otter[name]:5.2f} s   nbgrader autograde "
              f"{nbgrader[name]:5.2f} s   floor ({', '.join(map(str, args.sizes))}) {floor} ms")  # fmt: skip
    print(f"{'class':>6} {'assignment':18s} {'n':>5} {'dlgrade ms':>10} {'x floor':>8} "
          f"{'x otter':>8} {'floor x otter':>13} {'x nbgrader':>10} {'grader MB':>9} {'worker MB':>9} "
          f"{'submission MB':>13}")  # fmt: skip
    for size, by_assignment in runs.items():
        peers = {"floor": floors[size], "otter": otter, "nbgrader": nbgrader}
        for name, run in by_assignment.items():
            print(row(size, name, {name: run}, peers))
        print(row(size, "all three", by_assignment, peers))
    print("grader MB: VmHWM of `dlgrade grade`; worker MB: largest sandbox process tree, RSS "
          "summed, sampled every 50 ms; submission MB: largest submission cgroup, exact")  # fmt: skip
    print(check_line)


if __name__ == "__main__":
    main()
