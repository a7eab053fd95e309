"""Grading: one submission (parse, run sandboxed, judge), or a whole class in parallel.

The grading process never imports, unpickles or executes anything a student wrote: it
parses the notebook's JSON, sends the code to a sandbox, and reads back plain data.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from .assignment import Assignment, Project, load_assignment
from .checks import judge, plan_for, reference_answers
from .execution.plan import Answer, answers_from_json, plan_to_json
from .feedback import feedback_text
from .gradebook import Gradebook
from .messages import Message, render
from .notebook import InvalidNotebook, parse
from .results import SubmissionResult, TestResult
from .sandbox import Limits, Sandbox, SandboxError
from .submissions import Problem, Submission, collect

SOURCES_OF_TRUTH = ("autograder/checks", "autograder/execution", "autograder/compare.py",
                    "autograder/misconceptions.py")  # fmt: skip


@dataclass(frozen=True)
class Settings:
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    limits: Limits = field(default_factory=Limits)
    lang: str = "fr"
    regrade: bool = False
    isolate: bool = True


def autograder_hash(assignment: Assignment, project: Project) -> str:
    """A fingerprint of everything that decides a score: master, solution and checks."""
    digest = hashlib.sha256()
    files = [assignment.master, project.root / "solutions" / f"{assignment.name}.py"]
    for source in SOURCES_OF_TRUTH:
        path = project.root / source
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    for path in files:
        digest.update(path.relative_to(project.root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Grader:
    """Grades submissions of one assignment; the reference answers are computed once."""

    def __init__(self, name: str, settings: Settings | None = None, project: Project | None = None):
        self.project = project or Project.default()
        self.settings = settings or Settings()
        self.assignment = load_assignment(name, self.project.root)
        self.autograder_hash = autograder_hash(self.assignment, self.project)
        self.plan_json = json.dumps(plan_to_json(plan_for(name, self.assignment.check_ids)))
        reference_answers(name)

    def grade(self, submission: Submission, sandbox: Sandbox) -> SubmissionResult:
        """Parse, execute in ``sandbox`` (one retry if the sandbox itself fails), judge."""
        try:
            cells = parse(submission.content, self.assignment.name)
        except InvalidNotebook as invalid:
            reason = invalid.render(self.settings.lang)
            return self._result(
                submission, "invalid", Message("status_invalid", {"reason": reason}), sandbox
            )
        for attempt in (1, 2):
            try:
                reply = sandbox.run(cells, self.plan_json)
                break
            except SandboxError as error:
                if attempt == 2:
                    message = Message("status_grader_failure", {"error": str(error)})
                    return self._result(submission, "error", message, sandbox)
        return self._from_reply(submission, reply, sandbox)

    def _from_reply(
        self, submission: Submission, reply: dict, sandbox: Sandbox
    ) -> SubmissionResult:
        limits = self.settings.limits
        status = {"ok": "graded"}.get(reply["status"], reply["status"])
        answers: dict[str, Answer] | None = None
        if reply.get("answers"):
            try:
                answers = answers_from_json(reply["answers"])
            except ValueError:
                status, answers = "error", None
        errors = reply.get("cell_errors") or []
        if status == "timeout":
            cell = (reply.get("last_cell") or 0) + 1
            message = Message("status_timeout", {"seconds": limits.wall_seconds, "cell": cell})
        elif status == "memory":
            message = Message("status_memory", {"megabytes": limits.memory_bytes // 2**20})
        elif status == "error" or answers is None:
            status = "error"
            message = Message("status_error", {"exit": reply.get("exit", "?")})
        elif errors:
            first = errors[0]
            message = Message(
                "status_graded_with_errors",
                {"count": len(errors), "cell": first["cell"], "error": first["error"]},
            )
        else:
            message = Message("status_graded")
        return self._result(submission, status, message, sandbox, answers, reply)

    def _result(
        self,
        submission: Submission,
        status: str,
        message: Message,
        sandbox: Sandbox,
        answers: dict[str, Answer] | None = None,
        reply: dict | None = None,
    ) -> SubmissionResult:
        lang = self.settings.lang
        tests, questions = [], {}
        for question in self.assignment.autograded:
            earned = 0.0
            for scored in question.checks:
                if answers is None:
                    reason = render(message, lang)
                    test = TestResult(scored.id, question.name, 0.0, scored.points, False,
                                      render(Message("not_run", {"reason": reason}), lang), None)  # fmt: skip
                else:
                    verdict = judge(self.assignment.name, scored.id, answers)
                    score = scored.points if verdict.passed else 0.0
                    feedback = feedback_text(self.assignment.name, verdict, lang)
                    test = TestResult(scored.id, question.name, score, scored.points,
                                      verdict.passed, feedback, verdict.misconception)  # fmt: skip
                earned += test.score
                tests.append(test)
            questions[question.name] = (earned, question.points)
        return SubmissionResult(
            student_id=submission.student_id,
            assignment=self.assignment.name,
            status=status,
            message=render(message, lang),
            score=sum(t.score for t in tests),
            max_score=sum(q.points for q in self.assignment.autograded),
            submission_hash=submission.sha256,
            autograder_hash=self.autograder_hash,
            origin=submission.origin,
            isolation=sandbox.isolation,
            tests=tests,
            questions=questions,
            student_name=submission.student_name,
            submitted_at=submission.submitted_at.isoformat() if submission.submitted_at else None,
            cell_errors=(reply or {}).get("cell_errors") or [],
            output=(reply or {}).get("output") or "",
        )


@dataclass
class ClassRun:
    """What a class run did: the results written, what was skipped, what could not be read."""

    assignment: str
    out: Path
    graded: list[SubmissionResult] = field(default_factory=list)
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    isolation: str = ""

    @property
    def grades(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "grades.csv", dtype={"student_id": str})


def grade_class(
    name: str,
    inputs: Iterable[str | Path],
    out: Path,
    settings: Settings | None = None,
    *,
    gradebook_url: str | None = None,
    project: Project | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ClassRun:
    """Grade every submission found in ``inputs``; write grades.csv, results/ and the gradebook."""
    settings = settings or Settings()
    grader = Grader(name, settings, project)
    found, problems = collect(inputs)
    gradebook = Gradebook(gradebook_url) if gradebook_url else Gradebook.in_folder(out)
    run = ClassRun(name, out, problems=problems)
    done = set() if settings.regrade else gradebook.graded_keys(name, grader.autograder_hash)
    todo = [s for s in found if (s.student_id, s.sha256) not in done]
    run.skipped = len(found) - len(todo)
    (out / "results").mkdir(parents=True, exist_ok=True)
    run_id = gradebook.start_run(name, grader.autograder_hash, _settings_json(settings))
    if on_start:
        on_start(len(todo))
    try:
        with _sandboxes(settings) as (sandboxes, isolation):
            run.isolation = isolation
            for result in _in_parallel(todo, grader, sandboxes, settings.workers):
                gradebook.record(run_id, result)
                write_result(out, result)
                run.graded.append(result)
                if on_result:
                    on_result(result)
        gradebook.finish_run(run_id)
    finally:
        write_grades(gradebook, grader.assignment, out / "grades.csv")
        gradebook.close()
    return run


def _in_parallel(
    todo: list[Submission], grader: Grader, sandboxes: queue.Queue[Sandbox], workers: int
) -> Iterator[SubmissionResult]:
    """Results as they complete; on interruption, pending work is cancelled."""

    def task(submission: Submission) -> SubmissionResult:
        sandbox = sandboxes.get()
        try:
            return grader.grade(submission, sandbox)
        finally:
            sandboxes.put(sandbox)

    pending = iter(todo)
    with ThreadPoolExecutor(max_workers=workers) as executor:
        running: set[Future[SubmissionResult]] = set()
        try:
            while True:
                while len(running) < 2 * workers:
                    submission = next(pending, None)
                    if submission is None:
                        break
                    running.add(executor.submit(task, submission))
                if not running:
                    return
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in running:
                future.cancel()


@contextmanager
def _sandboxes(settings: Settings) -> Iterator[tuple[queue.Queue[Sandbox], str]]:
    """One warm sandbox per worker, handed out through a queue."""
    pool: queue.Queue[Sandbox] = queue.Queue()
    created = [Sandbox(settings.limits, isolate=settings.isolate) for _ in range(settings.workers)]
    for sandbox in created:
        pool.put(sandbox)
    try:
        yield pool, created[0].isolation
    finally:
        for sandbox in created:
            sandbox.close()


def _settings_json(settings: Settings) -> dict:
    return json.loads(json.dumps(asdict(settings)))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def result_path(out: Path, student_id: str) -> Path:
    """results/<student_id>.json, with a hash suffix when the id is not a safe file name."""
    safe = _UNSAFE.sub("_", student_id)[:80] or "_"
    if safe != student_id:
        safe += "-" + hashlib.sha256(student_id.encode()).hexdigest()[:8]
    return out / "results" / f"{safe}.json"


def write_result(out: Path, result: SubmissionResult) -> None:
    path = result_path(out, result.student_id)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2), "utf-8")
    temporary.replace(path)


def write_grades(gradebook: Gradebook, assignment: Assignment, path: Path) -> pd.DataFrame:
    """grades.csv: one row per student, from the latest grading in the gradebook."""
    latest = gradebook.latest(assignment.name)
    questions = [q.name for q in assignment.autograded]
    rows = []
    for _, row in latest.iterrows():
        result = row["result"] if isinstance(row["result"], dict) else json.loads(row["result"])
        scores = result.get("questions", {})
        rows.append(
            {
                "student_id": row["student_id"],
                "assignment": assignment.name,
                **{q: scores.get(q, {}).get("score", 0.0) for q in questions},
                "score": row["score"],
                "max_score": row["max_score"],
                "status": row["status"],
            }
        )
    columns = ["student_id", "assignment", *questions, "score", "max_score", "status"]
    frame = pd.DataFrame(rows, columns=columns).sort_values("student_id")
    frame.to_csv(path, index=False)
    return frame
