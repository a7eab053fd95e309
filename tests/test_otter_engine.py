"""The grading step of the otter zip, without otter: the sandbox must prove itself first."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from autograder import otter_engine
from autograder.otter_engine import open_sandbox, probe
from autograder.otter_run import as_test_files
from autograder.sandbox import Limits, Sandbox, bubblewrap

LIMITS = Limits(wall_seconds=20, cpu_seconds=20)


@pytest.fixture
def readable_secret():
    """A file any user may read, as the engine's files would be if nothing locked them."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-probe-"))
    folder.chmod(0o755)
    secret = folder / "reference.py"
    secret.write_text("ANSWER = 42\n")
    secret.chmod(0o644)
    yield secret
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback drops to nobody: needs root")
def test_the_probe_refuses_a_sandbox_that_can_read_the_reference(readable_secret):
    with Sandbox(LIMITS, isolate=False) as sandbox:
        problem = probe(sandbox, [readable_secret])
    assert problem is not None and str(readable_secret) in problem


@pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap is not installed")
def test_the_probe_accepts_bubblewrap(readable_secret):
    with Sandbox(LIMITS, isolate=True) as sandbox:
        assert probe(sandbox, [readable_secret]) is None


def test_without_bubblewrap_nor_root_grading_is_refused(monkeypatch, readable_secret):
    monkeypatch.setattr(otter_engine, "bubblewrap", lambda: None)
    monkeypatch.setattr(otter_engine.os, "geteuid", lambda: 1000)
    sandbox, isolation, problem = open_sandbox(LIMITS, "auto", [readable_secret])
    assert sandbox is None and isolation == "none"
    assert "limits-only" in problem


def test_a_broken_bubblewrap_falls_back_to_nobody_as_root(monkeypatch, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the fallback drops to nobody: needs root")
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(otter_engine, "bubblewrap", lambda: str(broken))
    monkeypatch.setattr("autograder.sandbox.bubblewrap", lambda: str(broken))
    secret = tmp_path / "reference.py"  # pytest's tmp folders are private: nobody cannot read
    secret.write_text("ANSWER = 42\n")
    sandbox, isolation, problem = open_sandbox(LIMITS, "auto", [secret])
    try:
        if sandbox is None:  # e.g. an installed checkout that anyone may read and import
            assert "bubblewrap:" in problem and "unprivileged-user:" in problem
        else:
            assert isolation == "unprivileged-user"
    finally:
        if sandbox is not None:
            sandbox.close()


def test_the_report_becomes_otter_scores():
    report = {
        "version": 1, "status": "graded", "message": "ok", "isolation": "bubblewrap",
        "questions": [{"name": "q1", "tests": [
            {"name": "test_shape", "hidden": False, "points": 0, "passed": False,
             "message": "AssertionError: shape"},
            {"name": "value", "hidden": True, "points": 2.0, "passed": True, "message": None},
            {"name": "other", "hidden": True, "points": 1.0, "passed": False, "message": "no"},
        ]}],
    }  # fmt: skip
    (test_file,) = as_test_files(report)
    assert (test_file.name, test_file.score, test_file.possible) == ("q1", 2.0, 3.0)
    report["questions"][0]["score"] = 2.5  # a mistake counted once gave back half a point
    assert as_test_files(report)[0].score == 2.5
    assert not test_file.passed_all_public
    assert "AssertionError: shape" in test_file.summary(public_only=True)
    assert "no" not in test_file.summary(public_only=True)
