"""Where submissions are graded: local worker threads or processes, or a Dask cluster.

An executor only decides *where* ``Grader.grade`` runs. The sandbox, the limits and the
comparison with the reference are the same everywhere, and only the coordinating
process writes the gradebook. So both executors give identical results.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.util
import os
import queue
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .course import Project
from .errors import MissingExtra
from .grader import Grader, Settings
from .messages import Message
from .results import SubmissionResult
from .sandbox import Sandbox
from .submissions import Submission


class Executor(Protocol):
    def grade(self, grader: Grader, submissions: list[Submission]) -> Iterator[SubmissionResult]:
        """Results as they complete; closing the iterator cancels what is still pending."""
        ...


class LocalExecutor:
    """One thread and one warm sandbox per worker, on this machine.

    ``sandboxes``, if given, are the workers' sandboxes, started by the caller before it
    loaded the grader (``sandbox.started_sandboxes``), so that their runners start while
    it does; the executor closes them when it is done."""

    def __init__(self, sandboxes: list[Sandbox] | None = None):
        self.sandboxes = sandboxes

    def grade(self, grader: Grader, submissions: list[Submission]) -> Iterator[SubmissionResult]:
        settings = grader.settings
        sandboxes, self.sandboxes = self.sandboxes, None
        if not sandboxes:
            sandboxes = [
                Sandbox(settings.limits, isolate=settings.isolate) for _ in range(settings.workers)
            ]
        idle: queue.Queue[Sandbox] = queue.Queue()
        for sandbox in sandboxes:
            idle.put(sandbox)

        def task(submission: Submission) -> SubmissionResult:
            sandbox = idle.get()
            try:
                return grader.grade(submission, sandbox)
            finally:
                idle.put(sandbox)

        pending = iter(submissions)
        running: set[Future[SubmissionResult]] = set()
        submitted: dict[Future[SubmissionResult], Submission] = {}
        with ThreadPoolExecutor(max_workers=settings.workers) as pool:
            try:
                while True:
                    while len(running) < 2 * settings.workers:
                        submission = next(pending, None)
                        if submission is None:
                            break
                        future = pool.submit(task, submission)
                        submitted[future] = submission
                        running.add(future)
                    if not running:
                        return
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield _outcome(grader, future, submitted.pop(future))
            finally:
                for future in running:
                    future.cancel()
                for sandbox in sandboxes:
                    sandbox.close()


def _outcome(grader: Grader, future: Any, submission: Submission) -> SubmissionResult:
    """A finished task's result; a task that raised becomes that submission's ``error``."""
    try:
        return future.result()
    except Exception:
        return _internal_error(grader, submission, traceback.format_exc())


def _internal_error(grader: Grader, submission: Submission, incident: str) -> SubmissionResult:
    return grader.failed(submission, Message("status_internal_error"), incident=incident)


@dataclass(frozen=True)
class RemoteJob:
    """What a Dask worker needs to grade one submission, and nothing it must trust."""

    assignment: str
    settings: Settings
    autograder_hash: str
    submission: Submission
    project_root: str | None


_local = threading.local()
_graders: dict[tuple[str, str | None, int | None], Grader] = {}
_graders_lock = threading.Lock()


def grade_remotely(job: RemoteJob) -> SubmissionResult:
    """The Dask task: grade one submission on the worker, with its own warm sandbox.

    The worker grades with its own checkout of the project; a different autograder
    (other checks, other solutions) is refused rather than trusted.
    """
    key = (job.assignment, job.project_root, job.settings.seed)
    with _graders_lock:
        if key not in _graders:
            project = Project(Path(job.project_root)) if job.project_root else Project.default()
            if len(_graders) >= 8:  # graders of earlier runs (other seeds) on a long-lived worker
                _graders.clear()
            _graders[key] = Grader(job.assignment, job.settings, project)
    grader = _graders[key]
    if grader.autograder_hash != job.autograder_hash:
        raise RuntimeError(
            f"worker {os.uname().nodename} has another version of {job.assignment}'s "
            "autograder; install the same project version on every worker"
        )
    sandboxes = getattr(_local, "sandboxes", None)
    if sandboxes is None:
        sandboxes = _local.sandboxes = {}
    limits_key = (job.settings.limits, job.settings.isolate)
    if limits_key not in sandboxes:
        sandboxes[limits_key] = Sandbox(job.settings.limits, isolate=job.settings.isolate)
    return grader.grade(job.submission, sandboxes[limits_key])


class ProcessExecutor:
    """One process per worker, each with its own grader and warm sandbox: judging runs in
    parallel instead of under one GIL, so a many-core machine is used in full.

    The workers build their ``Grader`` from the coordinator's settings (same seed, so the
    same hidden inputs and reference answers) and refuse another autograder. The
    coordinator keeps intake, the gradebook and the files, and a bounded window of
    submissions in flight. Workers ignore Ctrl-C: the coordinator stops them. When a
    worker process dies, the pool is made again and the submissions it held are tried
    again one at a time, so that a loss is counted only against the one submission in
    flight; one whose grading brings down ``max_tries`` pools is marked ``error``.
    """

    def __init__(
        self,
        *,
        max_tries: int = 3,
        task: Callable[[RemoteJob], SubmissionResult] = grade_remotely,
    ):
        self.max_tries = max_tries
        self.task = task

    def grade(self, grader: Grader, submissions: list[Submission]) -> Iterator[SubmissionResult]:
        workers = max(1, grader.settings.workers)
        root = str(grader.project.root)
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
        tries: dict[Future[SubmissionResult], tuple[Submission, int]] = {}
        suspects: deque[tuple[Submission, int]] = deque()
        pending = iter(submissions)

        def send(submission: Submission, attempt: int) -> None:
            job = RemoteJob(grader.assignment.name, grader.settings, grader.autograder_hash,
                            submission.loaded(), root)  # fmt: skip
            try:
                future = pool.submit(self.task, job)
            except BrokenProcessPool as broken:  # broke since the last wait: lost like the rest
                future = Future()
                future.set_exception(broken)
            tries[future] = (submission, attempt)

        try:
            while True:
                if suspects and not tries:  # alone in flight: its loss is its own
                    send(*suspects.popleft())
                while not suspects and len(tries) < 2 * workers:
                    submission = next(pending, None)
                    if submission is None:
                        break
                    send(submission, 1)
                if not tries:
                    return
                finished, _ = wait(tries, return_when=FIRST_COMPLETED)
                lost = []
                for future in finished:
                    submission, attempt = tries.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        lost.append((submission, attempt))
                    else:
                        yield _outcome(grader, future, submission)
                if not lost:
                    continue
                # The pool is broken and everything it held comes back, without saying
                # which one broke it: each is tried again alone, counted only then.
                lost += [tries.pop(future) for future in list(tries)]
                pool.shutdown(wait=False, cancel_futures=True)
                pool = ProcessPoolExecutor(workers, mp_context=context,
                                           initializer=_start_worker)  # fmt: skip
                if len(lost) > 1:
                    suspects.extend(lost)
                    continue
                ((submission, attempt),) = lost
                if attempt < self.max_tries:
                    suspects.appendleft((submission, attempt + 1))
                else:
                    message = Message("status_killed_worker", {"tries": self.max_tries})
                    yield grader.failed(submission, message)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_worker() -> None:
    """In each worker process: Ctrl-C is the coordinator's to handle, and the warm
    sandboxes are closed when the process ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    multiprocessing.util.Finalize(None, _close_sandboxes, exitpriority=10)


def _close_sandboxes() -> None:
    for sandbox in getattr(_local, "sandboxes", {}).values():
        sandbox.close()


@dataclass(frozen=True)
class Raised:
    """What a batch returns for a job whose task raised: the traceback, for the instructor."""

    incident: str


def grade_batch(
    task: Callable[[RemoteJob], SubmissionResult], jobs: list[RemoteJob]
) -> list[SubmissionResult | Raised]:
    """The Dask task: several submissions one after the other, so that Dask's cost per task
    (scheduling, messages) is paid once per batch. A job that raises fails alone."""
    results: list[SubmissionResult | Raised] = []
    for job in jobs:
        try:
            results.append(task(job))
        except Exception:
            results.append(Raised(traceback.format_exc()))
    return results


MAX_BATCH = 16
"""Submissions per Dask task at most: a lost worker costs at most this many regradings."""


class DaskExecutor:
    """Submissions go to Dask in batches, one task each; without a scheduler address, a
    local cluster.

    A task grades ``batch_size`` submissions (by default, enough tasks for four per
    worker, at most ``MAX_BATCH`` submissions each). When a worker dies, Dask fails the
    tasks it was running (the scheduler allows no silent retry). A lost batch is split:
    each of its submissions is submitted again alone, and that loss does not count against
    it. A submission alone in its task is tried up to ``max_tries`` times; one whose task
    brings down ``max_tries`` workers is marked ``error``.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        max_tries: int = 3,
        task: Callable[[RemoteJob], SubmissionResult] = grade_remotely,
        project_root: str | None = None,
        batch_size: int | None = None,
    ):
        self.scheduler = scheduler
        self.max_tries = max_tries
        self.task = task
        self.project_root = project_root
        self.batch_size = batch_size

    def grade(self, grader: Grader, submissions: list[Submission]) -> Iterator[SubmissionResult]:
        try:
            import dask
            from distributed import Client, KilledWorker, LocalCluster, as_completed
        except ImportError:
            raise MissingExtra("dask", "the Dask executor") from None

        scheduler_config = {
            "distributed.scheduler.allowed-failures": 0,
            "distributed.scheduler.worker-saturation": 1.0,
        }
        workers = max(1, grader.settings.workers)
        with dask.config.set(scheduler_config):
            if self.scheduler:
                client, cluster = Client(self.scheduler), None
            else:
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address=None
                )
                client = Client(cluster)
        root = self.project_root or (None if self.scheduler else str(grader.project.root))
        attempts: dict[object, tuple[list[Submission], int]] = {}
        keys = itertools.count()
        futures = as_completed()

        def submit(batch: list[Submission], attempt: int) -> None:
            jobs = [
                RemoteJob(
                    grader.assignment.name,
                    grader.settings,
                    grader.autograder_hash,
                    submission.loaded(),  # the bytes travel: workers do not share the files
                    root,
                )
                for submission in batch
            ]
            key = f"grade-{grader.assignment.name}-{batch[0].sha256[:16]}-{next(keys)}"
            future = client.submit(grade_batch, self.task, jobs, key=key, pure=False)
            attempts[future] = (batch, attempt)
            futures.add(future)

        # A bounded window of submissions in flight: the coordinator never holds the whole
        # class's notebooks, whatever its size.
        size = self.batch_size or max(1, min(MAX_BATCH, len(submissions) // (4 * workers)))
        remaining = iter(submissions)
        pending = iter(lambda: list(itertools.islice(remaining, size)), [])

        def top_up() -> None:
            while sum(len(batch) for batch, _ in attempts.values()) < 2 * workers * size:
                batch = next(pending, None)
                if batch is None:
                    return
                submit(batch, 1)

        try:
            top_up()
            for future in futures:
                batch, attempt = attempts.pop(future)
                lost = future.status == "error" and isinstance(future.exception(), KilledWorker)
                if lost and len(batch) > 1:
                    for submission in batch:
                        submit([submission], attempt)
                elif lost and attempt < self.max_tries:
                    submit(batch, attempt + 1)
                elif lost:
                    message = Message("status_killed_worker", {"tries": self.max_tries})
                    yield grader.failed(batch[0], message)
                else:
                    yield from _batch_outcome(grader, future, batch)
                top_up()
        finally:
            client.cancel([f for f in attempts if not f.done()])
            client.close()
            if cluster is not None:
                cluster.close()


def _batch_outcome(
    grader: Grader, future: Any, batch: list[Submission]
) -> Iterator[SubmissionResult]:
    """A finished batch's results; a job that raised becomes that submission's ``error``."""
    try:
        results = future.result()
    except Exception:
        results = [Raised(traceback.format_exc())] * len(batch)
    for submission, result in zip(batch, results, strict=True):
        yield (
            result
            if isinstance(result, SubmissionResult)
            else _internal_error(grader, submission, result.incident)
        )
