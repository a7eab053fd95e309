"""The process executor: one process per worker judging in parallel, same results as the
thread executor, and no grade lost when a worker process dies."""

from __future__ import annotations

import itertools
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import pytest

from autograder.class_run import grade_class
from autograder.executors import LocalExecutor, ProcessExecutor, RemoteJob, grade_remotely
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.sample_class import write_sample_class
from autograder.sandbox import started_sandboxes

from .conftest import FAST_LIMITS, interrupted_grading, stored_rows

SETTINGS = Settings(workers=2, limits=FAST_LIMITS, seed=11)


@pytest.fixture(scope="module")
def sample_class(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("process_class")
    write_sample_class(folder, "mlp_softmax", project, size=16)
    return folder


@pytest.fixture(scope="module")
def threaded(sample_class, tmp_path_factory):
    out = tmp_path_factory.mktemp("threaded")
    grade_class("mlp_softmax", [sample_class], out, SETTINGS)
    return out


def rows(out) -> pd.DataFrame:
    return stored_rows(out, "mlp_softmax")


def test_processes_and_threads_give_identical_results(sample_class, threaded, tmp_path):
    run = grade_class("mlp_softmax", [sample_class], tmp_path, SETTINGS,
                      executor=ProcessExecutor())  # fmt: skip
    assert run.graded_count == 16
    assert (tmp_path / "grades.csv").read_text() == (threaded / "grades.csv").read_text()
    pd.testing.assert_frame_equal(rows(tmp_path), rows(threaded))


def test_more_workers_than_cores_grade_every_submission_once(sample_class, threaded, tmp_path):
    settings = Settings(workers=2 * (os.cpu_count() or 1) + 1, limits=FAST_LIMITS, seed=11)
    grade_class("mlp_softmax", [sample_class], tmp_path, settings, executor=ProcessExecutor())
    pd.testing.assert_frame_equal(rows(tmp_path), rows(threaded))


def kill_the_worker_for_one_student(job: RemoteJob):
    """A task that brings its worker process down for one student."""
    if job.submission.student_id == "mlp005":
        os._exit(1)
    return grade_remotely(job)


def test_a_submission_killing_workers_is_an_error_after_bounded_tries(
    sample_class, threaded, tmp_path
):
    executor = ProcessExecutor(max_tries=2, task=kill_the_worker_for_one_student)
    run = grade_class("mlp_softmax", [sample_class], tmp_path, SETTINGS, executor=executor)
    results = {r.student_id: r for r in run.graded}
    assert len(results) == 16
    assert results["mlp005"].status == "error" and results["mlp005"].score == 0
    assert "2" in results["mlp005"].message
    others = rows(tmp_path).query("student_id != 'mlp005'").reset_index(drop=True)
    expected = rows(threaded).query("student_id != 'mlp005'").reset_index(drop=True)
    pd.testing.assert_frame_equal(others, expected)


def test_a_pool_broken_between_two_submissions_loses_no_grade(
    sample_class, threaded, tmp_path, monkeypatch
):
    """A worker can die while the coordinator hands out the next submissions: the pool
    then refuses them. They are tried again like the rest of what it held, and nobody's
    grade pays for it."""
    submit = ProcessPoolExecutor.submit
    calls = itertools.count()

    def submit_on_a_pool_that_breaks_once(pool, *args, **kwargs):
        if next(calls) == 5:
            raise BrokenProcessPool("a worker died since the last wait")
        return submit(pool, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit_on_a_pool_that_breaks_once)
    run = grade_class("mlp_softmax", [sample_class], tmp_path, SETTINGS,
                      executor=ProcessExecutor(max_tries=1))  # fmt: skip
    assert run.graded_count == 16
    pd.testing.assert_frame_equal(rows(tmp_path), rows(threaded))


def test_ctrl_c_stops_the_workers_and_a_rerun_completes(sample_class, tmp_path):
    out = tmp_path / "out"
    command, errors = interrupted_grading(sample_class, out, "processes", workers=2)
    assert b"Traceback" not in errors
    partial = len(Gradebook.in_folder(out).submissions("mlp_softmax"))
    assert 0 < partial <= 16
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    graded = Gradebook.in_folder(out).submissions("mlp_softmax")
    assert len(graded) == 16 and graded["student_id"].is_unique


def test_the_thread_executor_grades_in_the_sandboxes_started_for_it(
    sample_class, threaded, tmp_path
):
    """`dlgrade grade` starts its workers' sandboxes before loading the grader: the
    executor grades in those (the same results), and closes them when done."""
    warm = started_sandboxes(FAST_LIMITS, SETTINGS.workers)
    runners = [sandbox._process.pid for sandbox in warm]
    grade_class("mlp_softmax", [sample_class], tmp_path, SETTINGS, executor=LocalExecutor(warm))
    assert all(sandbox._process is None for sandbox in warm)  # used, then closed
    assert not any(os.path.exists(f"/proc/{pid}") for pid in runners)
    pd.testing.assert_frame_equal(rows(tmp_path), rows(threaded))
