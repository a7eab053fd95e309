"""The otter plugin of dlgrade's autograder zips: otter hands the submission to dlgrade's engine.

Otter runs hidden tests in the student's own kernel, next to the test files and
whatever the zip ships: replacing ``verify``, patching NumPy or reading the solutions
wins points there. This plugin, listed in the zip's ``otter_config.json``, keeps otter
for what it is good at (the zip format, Gradescope's results) and moves the grading out:

- ``before_grading`` removes what otter would otherwise read from the submission folder
  (a ``.OTTER_LOG`` is unpickled by otter itself) and the copies of the engine and tests
  that otter places next to the submission, then runs ``otter_engine`` in a process of
  its own, from the zip's copy (``files/dlgrade``): the submission runs in dlgrade's
  sandbox and is judged outside it.
- ``before_execution`` gives otter's kernel an empty notebook: no student code runs there.
- ``after_grading`` replaces otter's results with the engine's, question by question.

Any failure of the engine is an ``OtterRuntimeError``: otter then records a zero with
an error, never a score computed some other way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.run.run_autograder.utils import OtterRuntimeError
from otter.test_files import GradingResults
from otter.test_files.abstract_test import TestCase, TestCaseResult
from otter.test_files.exception_test import ExceptionTestFile

ENGINE_FOLDER = "dlgrade"
"""The engine's folder inside the zip's ``files/`` (and so in ``source/files/``)."""
PLUGIN = f"{__name__}.DlgradePlugin"
ENGINE_TIMEOUT_SECONDS = 900
UNTRUSTED_NAMES = (".OTTER_LOG", ENGINE_FOLDER, "tests")
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from autograder.otter_engine import main; raise SystemExit(main(sys.argv[1:]))"
)
PASSED_FIELDS = {"version", "status", "message", "isolation", "questions"}


class DlgradePlugin(AbstractOtterPlugin):
    """Grades the submission with dlgrade's engine instead of otter's in-kernel tests."""

    report: dict[str, Any] | None = None

    def before_grading(self, config: Any) -> None:
        """Clean the submission folder, lock the autograder folder, then grade."""
        submission = Path(self.submission_path)
        remove_untrusted_files(submission.parent)
        autograder_dir = Path(config.autograder_dir).resolve()
        lock_down(autograder_dir)
        engine = autograder_dir / "source" / "files" / ENGINE_FOLDER
        assignment = self.plugin_config.get("assignment") or config.assignment_name
        lang = self.plugin_config.get("lang", "fr")
        self.report = run_engine(engine, assignment, submission, lang)

    def before_execution(self, submission: Any) -> nbformat.NotebookNode:
        """Otter's kernel gets a notebook with no cell: the student's code never runs there."""
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {
            "name": "python3", "display_name": "Python 3", "language": "python"
        }  # fmt: skip
        return notebook

    def after_grading(self, results: GradingResults) -> None:
        """Otter's results become the engine's: one test file per question."""
        if self.report is None:
            raise OtterRuntimeError("dlgrade: the submission was not graded")
        results.clear_results()
        for test_file in as_test_files(self.report):
            results.results[test_file.name] = test_file
        results.set_output(
            f"{self.report['message']}\n(dlgrade: sandbox {self.report['isolation']}, "
            "the notebook was not executed in otter's kernel)"
        )

    def generate_report(self) -> str:
        if self.report is None:
            return "dlgrade: not graded"
        return (
            f"dlgrade: status {self.report['status']}, isolation {self.report['isolation']}, "
            f"score {self.report.get('score')} / {self.report.get('max_score')}"
        )


def remove_untrusted_files(folder: Path) -> None:
    """Delete what otter would read or what the zip copied next to the submission."""
    for name in UNTRUSTED_NAMES:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def lock_down(autograder_dir: Path) -> None:
    """As root (Docker, Gradescope), no other user may enter the autograder folder: if the
    submission has to run as ``nobody``, it cannot reach the engine, the tests or results."""
    if os.geteuid() == 0:
        os.chmod(autograder_dir, 0o700)


def run_engine(engine: Path, assignment: str, submission: Path, lang: str) -> dict[str, Any]:
    """The engine's report, from a fresh interpreter that imports only the zip's engine."""
    if not (engine / "autograder" / "otter_engine.py").is_file():
        raise OtterRuntimeError(f"dlgrade: no engine in the autograder zip ({engine})")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "LANG", "LC_ALL", "TMPDIR", "DLGRADE_OTTER_ISOLATION")
    }
    environment["DLGRADE_ROOT"] = str(engine)
    command = [
        sys.executable,
        "-I",
        "-c",
        BOOTSTRAP,
        str(engine),
        assignment,
        str(submission),
        lang,
    ]
    try:
        finished = subprocess.run(
            command, capture_output=True, cwd=engine, env=environment,
            timeout=ENGINE_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        raise OtterRuntimeError("dlgrade: the grading engine did not finish in time") from error
    sys.stderr.write(finished.stderr.decode(errors="replace")[-20000:])
    try:
        report = json.loads(finished.stdout)
    except ValueError:
        report = None
    if finished.returncode != 0 or not isinstance(report, dict) or not set(report) >= PASSED_FIELDS:
        raise OtterRuntimeError(
            f"dlgrade: the grading engine failed (exit {finished.returncode}); "
            "the instructor finds the details in the autograder's log"
        )
    return report


def as_test_files(report: dict[str, Any]) -> list[ExceptionTestFile]:
    """Otter's test files for the engine's questions, with the engine's verdicts."""
    files = []
    for question in report["questions"]:
        cases, outcomes = [], []
        for test in question["tests"]:
            case = TestCase(
                name=test["name"],
                body=None,
                hidden=bool(test["hidden"]),
                points=float(test["points"]),
                success_message=None,
                failure_message=None,
            )
            cases.append(case)
            outcomes.append(TestCaseResult(case, test["message"], bool(test["passed"])))
        test_file = ExceptionTestFile(
            question["name"], f"tests/{question['name']}.py", cases, all_or_nothing=False
        )
        test_file.test_case_results = outcomes
        if isinstance(question.get("score"), int | float):
            # the engine's score: a known mistake counted once gives back part of its checks
            test_file.update_score(question["score"])
        files.append(test_file)
    return files
