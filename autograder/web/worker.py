"""The background grading worker: queued attempts go through the library's executors.

The web server never reads a submission as code: threads take the queued attempts from
the database a few at a time and hand them to an ``executors`` executor (local warm
sandboxes, or a Dask cluster), exactly as ``dlgrade grade`` does. There is one thread, or
lane, per worker, each grading with one sandbox: an attempt that runs until its time
limit holds up its own lane only, and an attempt queued meanwhile goes to a free one.
Each batch gets a new ``Grader``, so a new secret seed for the hidden inputs: values
copied from one feedback page are worth nothing on the next attempt.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable
from dataclasses import replace

from ..executors import DaskExecutor, Executor, LocalExecutor
from ..gradebook import Gradebook
from ..grader import Grader
from ..results import SubmissionResult, normalized
from ..submissions import Submission
from .config import WebConfig
from .store import Store

log = logging.getLogger("dlgrade.web")


def origin(attempt_id: int) -> str:
    """Where a web submission comes from, in results and the gradebook."""
    return f"web attempt {attempt_id}"


def attempt_of(origin_text: str) -> int | None:
    """The attempt a result's ``origin`` names; None for a submission from elsewhere."""
    match = re.fullmatch(r"web attempt (\d+)", origin_text)
    return int(match[1]) if match else None


LANE_BATCH = 2
"""Attempts a lane claims at once: few, so that a slow one delays few others, yet a
queue before a deadline does not pay a grader's start for every attempt."""


class GradingWorker:
    """One lane (thread) per worker draining the attempt queue; ``notify`` after queueing
    wakes them."""

    def __init__(self, config: WebConfig, store: Store, executor: Executor | None = None):
        self.config, self.store = config, store
        self.executor = executor or (
            DaskExecutor(config.scheduler) if config.scheduler else LocalExecutor()
        )
        self.lanes = max(1, config.settings.workers)
        self.settings = replace(config.settings, workers=1)  # a lane grades with one sandbox
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._claim = threading.Lock()  # one lane claims at a time: no attempt twice
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self.store.requeue_running()
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._loop, name=f"dlgrade-grading-{lane}", daemon=True)
            for lane in range(self.lanes)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def notify(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                graded = self.grade_queued()
            except Exception:  # the database or the cluster is down: try again soon
                log.exception("grading batch failed; its attempts go back to the queue")
                self._stop.wait(5)
                continue
            if not graded:
                self._wake.wait(2)
                self._wake.clear()

    def grade_queued(self, on_graded: Callable[[int], None] | None = None) -> int:
        """Grade a few queued attempts (``LANE_BATCH``); returns how many were graded.
        Those claimed but not graded when it fails go back to the queue."""
        with self._claim:
            rows = self.store.claim_queued(LANE_BATCH)
        try:
            self._grade_claimed(rows, on_graded)
        except Exception:
            self.store.requeue([row["id"] for row in rows])
            raise
        return len(rows)

    def _grade_claimed(self, rows: list[dict], on_graded: Callable[[int], None] | None) -> None:
        by_assignment: dict[str, list[dict]] = {}
        for row in rows:
            by_assignment.setdefault(row["assignment"], []).append(row)
        for name, batch in by_assignment.items():
            self._grade(name, batch, on_graded)

    def _store(
        self, gradebook: Gradebook, run_id: int, attempt: int, result: SubmissionResult
    ) -> None:
        gradebook.record(run_id, result)
        self.store.finish_attempt(attempt, normalized(result.to_json()))

    def _grade(self, name: str, rows: list[dict], on_graded: Callable[[int], None] | None) -> None:
        grader = Grader(name, self.settings, self.config.project)
        submissions = [
            Submission(
                student_id=row["login"],
                origin=origin(row["id"]),
                content=row["notebook"],
                student_name=row["student_name"] or None,
                submitted_at=row["received_at"],
                time_source="server",  # the receipt time: what the late policy trusts
                named_by="lms",
            )
            for row in rows
        ]
        gradebook = Gradebook(self.config.url)
        try:
            run_id = gradebook.start_run(
                name, grader.autograder_hash, {**grader.run_record(), "web": True}
            )
            attempt_of = {origin(row["id"]): row["id"] for row in rows}
            for result in self.executor.grade(grader, submissions):
                attempt = attempt_of[result.origin]
                try:
                    self._store(gradebook, run_id, attempt, result)
                except Exception:  # this result only (if the database, the batch goes back)
                    log.exception(
                        "attempt %s: result refused, stored as an internal error", attempt
                    )
                    failed = grader.unstorable(result, traceback.format_exc())
                    self._store(gradebook, run_id, attempt, failed)
                if on_graded:
                    on_graded(attempt)
            gradebook.finish_run(run_id)
        finally:
            gradebook.close()
