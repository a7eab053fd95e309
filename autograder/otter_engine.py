"""The grading step of the otter autograder zip: dlgrade's engine, in a process of its own.

``otter_run.DlgradePlugin`` starts this module from the copy of the engine that the zip
carries (``files/dlgrade``: this assignment's checks, master and reference, nothing of the
others). The submission never runs in otter's kernel: it runs in dlgrade's sandbox and
is judged here, outside the student's process, exactly as ``dlgrade grade`` judges it.

Before grading, the sandbox must prove itself: a probe submission tries to read the
reference, the master and the checks, to import the grader's packages and to run as
root, and every try must fail. Isolation is bubblewrap when it works; else, when this
process is root (a Docker container where bubblewrap cannot create namespaces), the
unprivileged user ``nobody``; else grading is refused. The public tests (the template's
``grader.check`` tests) run in a second sandboxed execution, so their visible output
comes from a process that cannot read any secret. No process of the submission outlives
the engine (``reaper``), so none is left when otter starts its kernel and logging server.
One JSON report goes to stdout.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .course import Project
from .grader import Grader, Settings
from .messages import Message
from .notebook import InvalidNotebook, parse
from .reaper import become_subreaper, kill_descendants
from .results import SubmissionResult
from .sandbox import Limits, Sandbox, bubblewrap
from .submissions import MAX_NOTEBOOK_BYTES, Submission

ISOLATION_VARIABLE = "DLGRADE_OTTER_ISOLATION"
MODES = ("auto", "bubblewrap", "unprivileged", "limits-only")
"""``auto`` (default): bubblewrap, else ``nobody`` as root, else refuse; ``limits-only`` grades
as the current user with no probe, to try a zip on a laptop, never for real students."""
PUBLIC_TESTS_FILE = "public_tests.json"
REPORT_VERSION = 1


@dataclass(frozen=True)
class PublicTest:
    """One public test case of the template: a function of ``env`` that raises on failure."""

    question: str
    name: str
    source: str


@dataclass(frozen=True)
class CaseOutcome:
    passed: bool
    message: str | None


def main(argv: list[str] | None = None) -> int:
    """``ENGINE_ROOT ASSIGNMENT SUBMISSION [LANG]``: print the JSON report of one submission."""
    root, assignment, submission_path, *rest = argv if argv is not None else sys.argv[1:]
    lang = rest[0] if rest else "fr"
    mode = os.environ.get(ISOLATION_VARIABLE, "auto")
    become_subreaper()
    try:
        report = grade(Project(Path(root)), assignment, Path(submission_path), lang, mode)
    finally:
        kill_descendants()
    sys.stdout.write(json.dumps(report))
    return 0


def grade(project: Project, assignment: str, path: Path, lang: str, mode: str) -> dict[str, Any]:
    """Grade one submission file with the engine rooted at ``project``."""
    limits = Limits()
    grader = Grader(assignment, Settings(workers=1, limits=limits, lang=lang), project)
    submission = read_submission(path)
    sandbox, isolation, problem = open_sandbox(limits, mode, secrets(project, assignment))
    if sandbox is None:  # the details are for the instructor's log, not for the student
        print(f"dlgrade: grading refused: {problem}", file=sys.stderr)
        return build_report(grader.failed(submission, Message("status_no_sandbox")), {}, isolation)
    with sandbox:
        result = grader.grade(submission, sandbox)
        kill_descendants(foreign_only=True)  # no daemon of the graded run sees the next one
        public = run_public_tests(sandbox, submission, result, public_tests(project, assignment))
    if result.incident:
        print(f"dlgrade: incident while grading:\n{result.incident}", file=sys.stderr)
    return build_report(result, public, isolation)


def read_submission(path: Path) -> Submission:
    """The submission's bytes, read at most once and bounded in size."""
    with path.open("rb") as file:
        content = file.read(MAX_NOTEBOOK_BYTES + 1)
    if len(content) > MAX_NOTEBOOK_BYTES:
        return Submission("submission", path.name, b"", oversize=path.stat().st_size)
    return Submission("submission", path.name, content)


def secrets(project: Project, assignment: str) -> list[Path]:
    """Files the submission must not be able to read: reference, master and checks."""
    return [
        project.reference(assignment),
        project.master(assignment),
        project.folder(assignment) / "checks.py",
    ]


def open_sandbox(
    limits: Limits, mode: str, secret_files: list[Path]
) -> tuple[Sandbox | None, str, str | None]:
    """The first isolation that passes the probe: (sandbox, its name, None), else (None, 'none', why)."""
    if mode not in MODES:
        return None, "none", f"unknown {ISOLATION_VARIABLE}={mode!r}: one of {', '.join(MODES)}"
    candidates: list[tuple[str, bool]] = []
    if mode in ("auto", "bubblewrap") and bubblewrap():
        candidates.append(("bubblewrap", True))
    if mode in ("auto", "unprivileged") and os.geteuid() == 0:
        candidates.append(("unprivileged-user", False))
    if mode == "limits-only":
        candidates.append(("limits-only", False))
    problems = []
    for name, isolate in candidates:
        sandbox = Sandbox(limits, isolate=isolate, font_list=False)  # one notebook
        problem = None if name == "limits-only" else probe(sandbox, secret_files)
        if problem is None:
            return sandbox, name, None
        sandbox.close()
        problems.append(f"{name}: {problem}")
    if not candidates:
        problems.append(
            "bubblewrap is not installed and this process is not root, so the submission "
            f"cannot run as another user (set {ISOLATION_VARIABLE}=limits-only to grade "
            "without isolation, never for real students)"
        )
    return None, "none", "; ".join(problems)


def probe_cells(secret_files: list[Path]) -> list[str]:
    """Code that must fail, cell by cell, in a sandbox fit for grading."""
    cells = [f"open({str(path)!r}, 'rb').read(1)" for path in secret_files]
    cells += [
        "import autograder.judging",
        "import os\nif os.geteuid() != 0 and os.getuid() != 0:\n    raise PermissionError('unprivileged')",
    ]
    return cells


def probe(sandbox: Sandbox, secret_files: list[Path]) -> str | None:
    """None when every probe cell failed inside ``sandbox``; else what succeeded."""
    cells = probe_cells(secret_files)
    try:
        reply = sandbox.run(cells, "[]")
    except Exception as error:  # the sandbox could not start here (no namespaces...)
        return f"the sandbox does not work here ({type(error).__name__}: {str(error)[:300]})"
    if reply.get("status") != "ok":
        return f"the probe did not run (status {reply.get('status')!r})"
    failed = {e.get("cell") for e in reply.get("cell_errors") or []}
    succeeded = [cells[i - 1] for i in range(1, len(cells) + 1) if i not in failed]
    if succeeded:
        return f"a submission could run {succeeded[0]!r}"
    return None


def public_tests(project: Project, assignment: str) -> list[PublicTest]:
    """The template's public tests, as written by ``dlgrade build`` next to the engine."""
    path = project.root / PUBLIC_TESTS_FILE
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        PublicTest(question, case["name"], case["source"])
        for question, cases in data.items()
        for case in cases
    ]


def run_public_tests(
    sandbox: Sandbox, submission: Submission, result: SubmissionResult, tests: list[PublicTest]
) -> dict[tuple[str, str], CaseOutcome]:
    """Each public test run after the student's cells, in a sandboxed execution of its own.

    Only a submission that was graded runs again (a timeout would cost its time twice).
    Failure messages are the exception the test raised in the sandbox: whatever they
    print, the process that produced them could not read any secret.
    """
    if not tests:
        return {}
    if result.status != "graded":
        not_run = CaseOutcome(False, f"not run: {result.message}")
        return {(t.question, t.name): not_run for t in tests}
    try:
        cells = parse(submission.read(), result.assignment)
    except InvalidNotebook as invalid:
        return {(t.question, t.name): CaseOutcome(False, str(invalid)) for t in tests}
    appended = [f"{t.source}\n" for t in tests]
    try:
        reply = sandbox.run([*cells, *appended], "[]")
    except Exception as error:
        problem = CaseOutcome(False, f"not run: {type(error).__name__}")
        return {(t.question, t.name): problem for t in tests}
    errors = {e.get("cell"): e.get("error") for e in reply.get("cell_errors") or []}
    finished = reply.get("status") == "ok"
    outcomes = {}
    for index, test in enumerate(tests, start=len(cells) + 1):
        if index in errors:
            outcome = CaseOutcome(False, str(errors[index]))
        elif not finished:
            outcome = CaseOutcome(False, f"not run ({reply.get('status')})")
        else:
            outcome = CaseOutcome(True, None)
        outcomes[(test.question, test.name)] = outcome
    return outcomes


def build_report(
    result: SubmissionResult, public: dict[tuple[str, str], CaseOutcome], isolation: str
) -> dict[str, Any]:
    """The report the plugin turns into otter's results: one entry per question."""
    questions: dict[str, list[dict[str, Any]]] = {name: [] for name in result.questions}
    for (question, name), outcome in public.items():
        questions.setdefault(question, []).append(
            {"name": name, "hidden": False, "points": 0, "passed": outcome.passed,
             "message": outcome.message}
        )  # fmt: skip
    for test in result.tests:
        questions.setdefault(test.question, []).append(
            {"name": test.name, "hidden": True, "points": test.max_score,
             "passed": bool(test.passed and test.score == test.max_score),
             "message": None if test.passed else test.feedback}
        )  # fmt: skip
    return {
        "version": REPORT_VERSION,
        "assignment": result.assignment,
        "status": result.status,
        "message": result.message,
        "isolation": isolation,
        "score": result.score,
        "max_score": result.max_score,
        "questions": [
            {"name": name, "tests": tests, "score": result.questions.get(name, (None,))[0]}
            for name, tests in questions.items()
        ],
    }
