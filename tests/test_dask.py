"""The Dask executor: same results as local grading, and no grade lost when workers die."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from autograder.class_run import grade_class
from autograder.executors import DaskExecutor, RemoteJob, grade_remotely
from autograder.gradebook import Gradebook
from autograder.grader import Settings
from autograder.sample_class import write_sample_class

from .conftest import FAST_LIMITS, interrupted_grading, stored_rows

SETTINGS = Settings(workers=2, limits=FAST_LIMITS)


@pytest.fixture(scope="module")
def sample_class(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask_class")
    write_sample_class(folder, "mlp_softmax", project, size=20)
    return folder


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        yield cluster


def rows(out) -> pd.DataFrame:
    return stored_rows(out, "mlp_softmax")


def test_both_executors_give_identical_results(project, sample_class, tmp_path):
    grade_class("mlp_softmax", [sample_class], tmp_path / "local", SETTINGS)
    grade_class("mlp_softmax", [sample_class], tmp_path / "dask", SETTINGS,
                executor=DaskExecutor(project_root=str(project.root)))  # fmt: skip
    local = (tmp_path / "local" / "grades.csv").read_text()
    assert local == (tmp_path / "dask" / "grades.csv").read_text()
    pd.testing.assert_frame_equal(rows(tmp_path / "local"), rows(tmp_path / "dask"))


def test_a_killed_worker_loses_nothing(project, sample_class, cluster, tmp_path):
    client = Client(cluster)
    victims = list(client.run(os.getpid).values())
    killed = []

    def kill_one_worker(result):
        if not killed:
            killed.append(victims[0])
            os.kill(victims[0], signal.SIGKILL)

    executor = DaskExecutor(cluster.scheduler_address, project_root=str(project.root))
    run = grade_class("mlp_softmax", [sample_class], tmp_path / "out", SETTINGS,
                      executor=executor, on_result=kill_one_worker)  # fmt: skip
    client.close()
    assert killed
    graded = rows(tmp_path / "out")
    assert len(run.graded) == 20 and graded["student_id"].is_unique and len(graded) == 20
    grade_class("mlp_softmax", [sample_class], tmp_path / "local", SETTINGS)
    pd.testing.assert_frame_equal(graded, rows(tmp_path / "local"))


def kill_the_worker_for_one_student(job: RemoteJob):
    """A task that brings its worker down for one student, as a submission escaping its
    sandbox would."""
    if job.submission.student_id == "mlp005":
        os._exit(1)
    return grade_remotely(job)


def test_a_submission_killing_workers_is_an_error_after_bounded_tries(
    project, sample_class, tmp_path
):
    executor = DaskExecutor(max_tries=2, task=kill_the_worker_for_one_student,
                            project_root=str(project.root))  # fmt: skip
    run = grade_class("mlp_softmax", [sample_class], tmp_path / "out", SETTINGS, executor=executor)
    results = {r.student_id: r for r in run.graded}
    assert len(results) == 20
    assert results["mlp005"].status == "error" and results["mlp005"].score == 0
    assert "2" in results["mlp005"].message
    local = grade_class("mlp_softmax", [sample_class], tmp_path / "local", SETTINGS)
    for result in local.graded:
        if result.student_id != "mlp005":
            assert results[result.student_id].tests == result.tests, result.student_id


def test_ctrl_c_leaves_a_gradebook_that_a_rerun_completes(sample_class, tmp_path):
    import subprocess

    out = tmp_path / "out"
    command, _ = interrupted_grading(sample_class, out, "dask", workers=1)
    partial = len(Gradebook.in_folder(out).submissions("mlp_softmax"))
    # On a fast machine the class may be done before the signal lands: then nothing is left
    # to resume, but the gradebook must still hold what was graded.
    assert 0 < partial <= 20
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    graded = Gradebook.in_folder(out).submissions("mlp_softmax")
    assert len(graded) == 20 and graded["student_id"].is_unique
