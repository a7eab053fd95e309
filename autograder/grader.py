"""Grading one submission: parse it, run it sandboxed, judge its answers.

The grading process never imports, unpickles or executes anything a student wrote: it
parses the notebook's JSON, sends the code to a sandbox, and reads back plain data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .assignment import Assignment, load_assignment
from .checks import Verdict
from .course import Project
from .errors import DlgradeError
from .execution.plan import (
    MODIFIED,
    Answer,
    Call,
    answers_from_json,
    plan_to_json,
    sampled_answers,
    with_dependencies,
)
from .execution.protocol import MAX_RESULT_BYTES
from .feedback import feedback_text, finding, reveal_for
from .judging import checks_for, judge, plan_for, reference_answers
from .messages import LANGUAGES, Message, Translated, render, to_data
from .mistakes import Failure, counted_once
from .notebook import InvalidNotebook, cell_reference, cell_start, parse
from .results import GRADER_FAILURE, SubmissionResult, TestResult
from .sandbox import (
    Limits,
    ReplyRejected,
    Run,
    Sandbox,
    SandboxError,
    default_workers,
    isolation_required,
)
from .submissions import MAX_NOTEBOOK_BYTES, Submission

FRAMEWORK = Path(__file__).resolve().parent
JUDGING_SOURCES = ("checks.py", "compare.py", "execution", "judging.py", "mistakes.py")
"""The framework's files that decide a score, besides the assignment's own."""


ENDINGS_PER_FUNCTION = 3
"""A function whose calls have ended the notebook's process this many times is not called
again: the runs the notebook is given again stay few (three per function at most)."""
MIN_RERUN_SECONDS = 1.0
CALL_ENDED = (
    "le notebook s'est arrêté net pendant cet appel ; ses autres appels ont été refaits sans lui"
)
CALL_NOT_MADE = "appel non fait : cette fonction a déjà arrêté net le notebook {count} fois"
CALL_ENDED_MEMORY = (
    "limite de mémoire ({megabytes} Mo) dépassée pendant cet appel ; "
    "ses autres appels ont été refaits sans lui"
)
LEFT_OUT_CELLS = 3
"""Cells that ended the notebook's process, left out of the runs that follow; a fourth
ends the notebook's grading as it is."""
CELL_ENDED = (
    "le notebook s'est arrêté net dans cette cellule ; il a été exécuté à nouveau sans elle"
)
CELL_ENDED_MEMORY = (
    "limite de mémoire ({megabytes} Mo) dépassée dans cette cellule ; "
    "le notebook a été exécuté à nouveau sans elle"
)


@dataclass(frozen=True)
class Reruns:
    """What the earlier runs of one submission left out, and the seconds they took: a
    planned call or a cell that ended the notebook's process costs itself only."""

    calls: dict[str, Answer] = field(default_factory=dict)  # answered by what ended them
    cells: dict[int, str] = field(default_factory=dict)  # index → what ended the process
    seconds: float = 0.0


SNAPSHOT_SECONDS = 0.004
"""What keeping a snapshot costs a submission that needs no follow-up: its fork, the pages
the run then copies, its end (3.4 to 5.9 ms of processor per submission, measured on the
three assignments: ``docs/benchmarks.md``)."""


class FollowUpOdds:
    """Whether the next submission should keep a snapshot for a follow-up. A snapshot costs
    every submission ``SNAPSHOT_SECONDS``; without one, only a submission that needs a
    follow-up pays, by running its cells again: at most what its first run took. So a
    snapshot is kept while the class's share of follow-ups so far times its mean first
    run is above that cost: a class whose training loops mostly pass stops keeping one.
    The share starts at one half (the first submissions keep one). Shared by the
    workers' threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._follow_ups = 0
        self._seconds = 0.0

    def snapshot_worth_it(self) -> bool:
        with self._lock:
            if not self._runs:
                return True
            share = (self._follow_ups + 1) / (self._runs + 2)
            return share * self._seconds / self._runs > SNAPSHOT_SECONDS

    def record(self, seconds: float, follow_up: bool) -> None:
        """One submission's first run (``seconds``), and whether it needed a follow-up."""
        with self._lock:
            self._runs += 1
            self._follow_ups += follow_up
            self._seconds += seconds


@dataclass(frozen=True)
class Settings:
    workers: int = field(default_factory=default_workers)
    limits: Limits = field(default_factory=Limits)
    lang: str = "fr"
    regrade: bool = False
    isolate: bool = field(default_factory=isolation_required)
    """Refuse to grade without bubblewrap, unless ``DLGRADE_ISOLATION=limits-only``."""
    seed: int | None = None
    """Seed of the hidden inputs; None draws a secret one for each grading run, so values
    copied from a feedback page are worth nothing on the next submission."""


def autograder_hash(assignment: Assignment, project: Project) -> str:
    """A fingerprint of everything that decides a score: the assignment's folder (master,
    checks, mistakes, stand-ins), its reference, and the framework's judging code."""
    digest = hashlib.sha256()
    folder = project.folder(assignment.name)
    files = [(folder, assignment.master), (project.root, project.reference(assignment.name))]
    files += [(folder, path) for path in sorted(folder.glob("*.py"))]
    for source in JUDGING_SOURCES:
        path = FRAMEWORK / source
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        files += [(FRAMEWORK, p) for p in found]
    for base, path in files:
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _with_left_out(reply: dict, left_out: dict[int, str], cells: list[str]) -> dict:
    """The reply of a run without the cells in ``left_out``, each listed among its cell
    errors with what ended the process in it."""
    if not left_out:
        return reply
    added = [
        {"cell": index + 1, "error": error, "start": cell_start(cells[index])}
        for index, error in left_out.items()
    ]
    errors = sorted([*added, *reply["cell_errors"]], key=lambda error: error["cell"])
    return {
        **reply,
        "cell_errors": errors,
        "cell_error_count": reply["cell_error_count"] + len(added),
    }


class Grader:
    """Grades submissions of one assignment; the reference answers are computed once."""

    def __init__(self, name: str, settings: Settings | None = None, project: Project | None = None):
        self.project = project or Project.default()
        settings = settings or Settings()
        if settings.seed is None:
            settings = replace(settings, seed=secrets.randbelow(2**31))
        self.settings = settings
        self.seed: int = settings.seed
        self.assignment = load_assignment(name, self.project.root)
        self.autograder_hash = autograder_hash(self.assignment, self.project)
        self.reveal = reveal_for(self.assignment.master, "graded")
        root = self.project.root
        plan = plan_for(name, self.assignment.check_ids, seed=self.seed, root=root)
        # Calls of the notebook's own functions, and calls with the grader's stand-ins
        # (training loops judged on their mechanics): the second run is made only when a
        # loop fails with the notebook's own functions, and only its answers to those
        # calls are kept.
        own = [call for call in plan if not call.standins]
        replaced = [call for call in plan if call.standins]
        self.plan = own
        self.plan_keys = {call.key for call in own}
        self.plan_json = json.dumps(plan_to_json(own))
        self.replaced_keys = {call.key for call in replaced}
        self.replaced_plan = with_dependencies(replaced, own)
        self.replaced_plan_json = json.dumps(plan_to_json(self.replaced_plan))
        self._function_of = {call.key: call.function for call in [*own, *self.replaced_plan]}
        self._samples = {call.key: call.sample for call in plan if call.sample}
        self.standins = self.project.code(name).standins_source
        # what counting a known mistake once needs (``_one_mistake_counted_once``)
        self._costs = {m.id: m.cost for m in self.project.code(name).mistakes.values()}
        self._follows = {c.id for c in checks_for(name, root=root).values() if c.follows}
        # Each training-loop check, with the stand-in calls it judges: a follow-up runs
        # those of the loop checks that fail with the notebook's own functions, no more.
        self.loop_checks = {
            check.id: keys
            for check in checks_for(name, self.seed, root=root).values()
            if check.id in self.assignment.check_ids
            and (keys := self.replaced_keys & {call.key for call in check.calls})
        }
        self.follow_up_odds = FollowUpOdds()
        reference_answers(name, self.seed, root=root)

    def run_record(self) -> dict:
        """What a gradebook run records of this grader: its settings, and the questions
        graded by hand with their points (every student is to have points there: an
        export refuses while some have none)."""
        settings = json.loads(json.dumps(asdict(self.settings)))
        manual = {q.name: q.points for q in self.assignment.questions if q.manual}
        return {**settings, "hand_graded": manual}

    def grade(self, submission: Submission, sandbox: Sandbox) -> SubmissionResult:
        """Parse, execute in ``sandbox`` (one retry if the sandbox itself fails), judge.

        Never raises: whatever goes wrong with one submission becomes its ``error``
        result, with the traceback kept for the instructor, so a class run goes on.
        """
        try:
            return self._grade(submission, sandbox)
        except Exception:
            return self.failed(
                submission, Message("status_internal_error"), incident=traceback.format_exc()
            )

    def _grade(self, submission: Submission, sandbox: Sandbox) -> SubmissionResult:
        try:
            if submission.oversize:
                megabytes = -(-submission.oversize // 2**20)  # rounded up: over the limit reads so
                limit = MAX_NOTEBOOK_BYTES // 2**20
                raise InvalidNotebook("too_large", size=str(megabytes), limit=str(limit))
            cells = parse(submission.read(), self.assignment.name)
        except InvalidNotebook as invalid:
            file = Path(submission.origin.split("!")[-1]).name
            reason = Message(
                "file_reason",
                {
                    "file": file,
                    "reason": Translated({lang: invalid.render(lang) for lang in LANGUAGES}),
                },
            )
            return self._result(
                submission,
                "invalid",
                Message("status_invalid", {"reason": reason}),
                sandbox.isolation,
            )
        failure: SandboxError | None = None
        for _attempt in (1, 2):  # once more in a restarted sandbox if the runner failed
            try:
                return self._executed(submission, cells, sandbox)
            except ReplyRejected as rejected:
                result = self._result(
                    submission, "error", Message("status_rejected"), sandbox.isolation
                )
                return replace(result, incident=f"reply rejected: {rejected}")
            except SandboxError as error:
                failure = error
        message = Message(GRADER_FAILURE, {"error": str(failure)})
        return self._result(submission, "error", message, sandbox.isolation)

    def _executed(
        self,
        submission: Submission,
        cells: list[str],
        sandbox: Sandbox,
        reruns: Reruns | None = None,
    ) -> SubmissionResult:
        """Run the cells and the plan in ``sandbox``, and judge the reply.

        A planned call or a cell that ends the notebook's process (a crash, ``os._exit``,
        closing the grader's pipe, the memory limit) is answered by what ended it, and
        the notebook runs again without it, in the time it has left: it costs that call's
        or cell's points, not the whole notebook's (a recursion that overflows the C stack
        on the grader's larger inputs, a last exploration cell that crashes).
        """
        reruns = reruns or Reruns()
        ended = reruns.calls
        skip = [position for position, call in enumerate(self.plan) if call.key in ended]
        plan = self._plan_without(ended)
        wall = self.settings.limits.wall_seconds
        seconds = wall - reruns.seconds if ended or reruns.cells else None
        run_cells = ["pass" if i in reruns.cells else code for i, code in enumerate(cells)]
        with contextlib.ExitStack() as stack:
            run: Run | None = None
            if self.replaced_keys:
                run = stack.enter_context(
                    sandbox.open(
                        run_cells,
                        self.plan_json,
                        follow_up=self.replaced_plan_json,
                        snapshot=self.follow_up_odds.snapshot_worth_it(),
                        seconds=seconds,
                        skip=skip,
                    )
                )
                reply = run.reply
            else:
                reply = sandbox.run(run_cells, self.plan_json, seconds=seconds, skip=skip)
            spent = reruns.seconds + (reply["seconds"] or wall)
            if ending := self._ended(reply, plan, ended, spent):
                reruns = replace(reruns, calls={**ended, **ending}, seconds=spent)
            elif left_out := self._ended_cell(reply, reruns, spent, len(cells)):
                reruns = replace(reruns, cells={**reruns.cells, **left_out}, seconds=spent)
            else:
                reply = _with_left_out(reply, reruns.cells, cells)
                return self._from_reply(submission, reply, sandbox, run, ended)
        return self._executed(submission, cells, sandbox, reruns)

    def _plan_without(self, ended: dict[str, Answer]) -> list[Call]:
        return [call for call in self.plan if call.key not in ended] if ended else self.plan

    def _cause_of_ending(
        self, reply: dict, spent: float, in_call: str, in_memory: str
    ) -> tuple[str, str] | None:
        """What ended the process without answers, and the sentence that says so:
        ``in_call`` (or ``in_memory`` for the memory limit); None when the run's own status stands: it answered, ran
        out of time, or too little time is left to run it again."""
        if (
            reply["answers"] is not None
            or reply["too_large"]
            or reply["status"] not in ("error", "memory")
            or self.settings.limits.wall_seconds - spent < MIN_RERUN_SECONDS
        ):
            return None
        if reply["status"] == "memory":
            megabytes = self.settings.limits.memory_bytes // 2**20
            return "MemoryError", in_memory.format(megabytes=megabytes)
        return reply["exit"] or "exit", in_call

    def _ended(
        self, reply: dict, plan: list[Call], ended: dict[str, Answer], spent: float
    ) -> dict[str, Answer]:
        """The calls to leave out of a new run, answered: the planned call during which the
        process ended without answers, or every call of its function once that function
        has ended it ``ENDINGS_PER_FUNCTION`` times. Empty when the run's own status
        stands (``_cause_of_ending``) or it ended in its cells."""
        position = reply["last_call"]
        if position is None or not 0 <= position < len(plan):
            return {}
        ending = self._cause_of_ending(reply, spent, CALL_ENDED, CALL_ENDED_MEMORY)
        if ending is None:
            return {}
        cause, text = ending
        call = plan[position]
        same = [other.key for other in plan if other.function == call.function]
        endings = 1 + sum(self._function_of[key] == call.function for key in ended)
        answer = Answer(error=f"{cause}: {text}")
        if endings < ENDINGS_PER_FUNCTION:
            return {call.key: answer}
        not_made = Answer(error=f"{cause}: {CALL_NOT_MADE.format(count=endings)}")
        return {**dict.fromkeys(same, not_made), call.key: answer}

    def _ended_cell(self, reply: dict, reruns: Reruns, spent: float, count: int) -> dict[int, str]:
        """The cell to leave out of a new run, with what ended the process in it; empty
        when the run's status stands (``_cause_of_ending``), it ended in a call, or
        ``LEFT_OUT_CELLS`` cells are left out already."""
        position = reply["last_cell"]
        if (
            reply["last_call"] is not None
            or position is None
            or not 0 <= position < count
            or position in reruns.cells
            or len(reruns.cells) >= LEFT_OUT_CELLS
        ):
            return {}
        ending = self._cause_of_ending(reply, spent, CELL_ENDED, CELL_ENDED_MEMORY)
        return {position: ": ".join(ending)} if ending else {}

    def failed(
        self, submission: Submission, message: Message, *, incident: str | None = None
    ) -> SubmissionResult:
        """The result of a submission that could not be graded at all (status ``error``)."""
        result = self._result(submission, "error", message, "none")
        return replace(result, incident=incident)

    def unstorable(self, result: SubmissionResult, incident: str) -> SubmissionResult:
        """``result`` as an internal error, for a result the gradebook or a file refused:
        the same student and notebook, the grader's traceback for the instructor. One
        student's result must never keep the others from theirs."""
        stub = Submission(result.student_id, result.origin, b"", digest=result.submission_hash)
        failed = self.failed(stub, Message("status_internal_error"), incident=incident)
        kept = ("status", "message", "score", "tests", "questions", "status_message", "incident")
        return replace(result, cell_errors=[], output="", **{k: getattr(failed, k) for k in kept})

    def _from_reply(
        self,
        submission: Submission,
        reply: dict,
        sandbox: Sandbox,
        run: Run | None = None,
        ended: dict[str, Answer] | None = None,
    ) -> SubmissionResult:
        limits = self.settings.limits
        status = {"ok": "graded"}.get(reply["status"], reply["status"])
        answers: dict[str, Answer] | None = None
        judged: dict[str, Verdict] = {}
        incident, incidents = None, []
        if reply.get("answers"):
            try:
                answers = self._answers(reply["answers"])
            except ValueError as malformed:
                status, answers, incident = "rejected", None, f"reply rejected: {malformed}"
            else:
                answers |= ended or {}
                if not self.plan_keys <= answers.keys():
                    status, answers = "rejected", None
                    incident = "reply rejected: answers to planned calls are missing"
                else:
                    answers, judged = self._with_loop_answers(answers, run, incidents)
        errors = reply["cell_errors"]
        plan = self._plan_without(ended or {})
        if status == "timeout" and reply["last_call"] in range(len(plan)):
            function = plan[reply["last_call"]].function
            message = Message(
                "status_timeout_call", {"seconds": limits.wall_seconds, "function": function}
            )
        elif status == "timeout":
            cell = cell_reference((reply.get("last_cell") or 0) + 1, reply.get("last_cell_start"))
            message = Message("status_timeout", {"seconds": limits.wall_seconds, "cell": cell})
        elif status == "memory":
            message = Message("status_memory", {"megabytes": limits.memory_bytes // 2**20})
        elif status == "rejected":
            status = "error"
            message = Message("status_rejected")
        elif reply.get("too_large") and answers is None:
            status = "error"
            most = min(limits.output_bytes, MAX_RESULT_BYTES)
            message = Message("status_too_large", {"megabytes": most // 2**20})
        elif status == "error" or answers is None:
            status = "error"
            message = Message("status_error", {"exit": reply.get("exit", "?")})
        elif errors:
            first = errors[0]
            message = Message(
                "status_graded_with_errors",
                {
                    "count": reply["cell_error_count"],
                    "cell": cell_reference(first["cell"], first.get("start")),
                    "error": first["error"],
                },
            )
        else:
            message = Message("status_graded")
        result = self._result(
            submission, status, message, sandbox.isolation, answers, reply, judged, incidents
        )
        return replace(result, incident="\n".join(filter(None, [incident, *incidents])) or None)

    def _with_loop_answers(
        self, answers: dict[str, Answer], run: Run | None, incidents: list[str]
    ) -> tuple[dict[str, Answer], dict[str, Verdict]]:
        """``answers`` completed with the calls that need the stand-ins: run only when a
        training loop fails with the notebook's own functions. With them, the verdicts of
        the loop checks when these answers are final, so that no check is judged twice
        (nor its incident, if its judge raised, kept twice)."""
        if run is None:
            return answers, {}
        pending = Answer(error="not run: the loop passed with the notebook's own functions")
        trial = {**answers, **dict.fromkeys(self.replaced_keys, pending)}
        trial_incidents: list[str] = []
        verdicts = {
            check: self._verdict(check, trial, trial_incidents) for check in self.loop_checks
        }
        passed = all(verdict.passed for verdict in verdicts.values())
        self.follow_up_odds.record(run.reply["seconds"] or 0.0, follow_up=not passed)
        if passed:
            run.finish()  # the runner ends the submission while the grader judges it
            incidents += trial_incidents
            return trial, verdicts
        needed = set().union(
            *(self.loop_checks[check] for check, verdict in verdicts.items() if not verdict.passed)
        )
        # A loop check that passed and shares no call with a failing one keeps its verdict:
        # its answers stay the trial's.
        unchanged = {
            check: verdict
            for check, verdict in verdicts.items()
            if verdict.passed and not self.loop_checks[check] & needed
        }
        try:
            extra = self._follow_up_answers(run, needed)
        except (SandboxError, ValueError) as error:
            failed = Answer(error=f"RuntimeError: the run with stand-ins failed ({error})")
            return {**trial, **dict.fromkeys(needed, failed)}, unchanged
        unfinished = Answer(error="RuntimeError: the run with stand-ins did not finish")
        kept = {k: extra.get(k, unfinished) for k in needed}
        kept |= {k + MODIFIED: extra[k + MODIFIED] for k in needed if k + MODIFIED in extra}
        return {**trial, **kept}, unchanged

    def _answers(self, text: str | bytes) -> dict[str, Answer]:
        """A sandbox's answers, as the judges read them: a sampled call's whole answer came
        back (the sample is never sent to the sandbox) and its sample is kept."""
        return sampled_answers(answers_from_json(text), self._samples)

    def _follow_up_answers(self, run: Run, needed: set[str]) -> dict[str, Answer]:
        """The follow-up's answers to the ``needed`` calls (with the calls whose answers
        they take as inputs); a call of it that ends the process is answered by that and
        left out of a new run, as in ``_executed``."""
        wanted = [call for call in self.replaced_plan if call.key in needed]
        running = {call.key for call in with_dependencies(wanted, self.replaced_plan)}
        ended: dict[str, Answer] = {}
        while True:
            skip = [
                i
                for i, call in enumerate(self.replaced_plan)
                if call.key in ended or call.key not in running
            ]
            plan = [call for i, call in enumerate(self.replaced_plan) if i not in skip]
            reply = run.follow_up(self.standins, skip=skip)
            more = self._ended(reply, plan, ended, run.seconds)
            if not more:
                return {**self._answers(reply["answers"] or "{}"), **ended}
            ended |= more

    def _one_mistake_counted_once(self, tests: list[TestResult]) -> list[TestResult]:
        """A question's tests, with the points its known mistake's cost gives back when
        that one mistake is all that is wrong there (``mistakes.counted_once``)."""
        failures = [
            Failure(t.max_score - t.score, t.misconception, t.name in self._follows)
            for t in tests
            if not t.passed
        ]
        kept = counted_once(failures, self._costs) if failures else None
        if kept is None:
            return tests
        return [t if t.passed else replace(t, score=t.max_score * kept) for t in tests]

    def _verdict(self, check_id: str, answers: dict[str, Answer], incidents: list[str]) -> Verdict:
        """One check's verdict. A judge that raises (a bug of the grader, on an answer
        nobody foresaw) fails that check alone, saying so; its traceback goes to
        ``incidents`` for the instructor. The other checks are judged as usual."""
        try:
            return judge(
                self.assignment.name, check_id, answers, seed=self.seed, root=self.project.root
            )
        except Exception:
            incidents.append(f"check {check_id}: {traceback.format_exc()}")
            return Verdict(False, (Message("check_internal_error"),))

    def _result(
        self,
        submission: Submission,
        status: str,
        message: Message,
        isolation: str,
        answers: dict[str, Answer] | None = None,
        reply: dict | None = None,
        judged: dict[str, Verdict] | None = None,
        incidents: list[str] | None = None,
    ) -> SubmissionResult:
        """The result of judging ``answers`` (each check not already in ``judged``); the
        tracebacks of judges that raised are added to ``incidents``."""
        incidents = incidents if incidents is not None else []
        lang, reveal = self.settings.lang, self.reveal
        tests, questions = [], {}
        for question in self.assignment.autograded:
            asked = []
            for scored in question.checks:
                if answers is None:
                    not_run = Message("not_run", {"reason": message})
                    test = TestResult(scored.id, question.name, 0.0, scored.points, False,
                                      render(not_run, lang, reveal), None, (to_data(not_run),))  # fmt: skip
                else:
                    verdict = judged.get(scored.id) if judged else None
                    if verdict is None:
                        verdict = self._verdict(scored.id, answers, incidents)
                    score = scored.points if verdict.passed else 0.0
                    feedback = feedback_text(self.assignment.name, verdict, lang, reveal)
                    test = TestResult(scored.id, question.name, score, scored.points,
                                      verdict.passed, feedback, verdict.misconception,
                                      finding(verdict))  # fmt: skip
                asked.append(test)
            asked = self._one_mistake_counted_once(asked)
            tests += asked
            questions[question.name] = (round(sum(t.score for t in asked), 9), question.points)
        return SubmissionResult(
            student_id=submission.student_id,
            assignment=self.assignment.name,
            status=status,
            message=render(message, lang),
            score=sum(earned for earned, _ in questions.values()),
            max_score=sum(q.points for q in self.assignment.autograded),
            submission_hash=submission.sha256,
            autograder_hash=self.autograder_hash,
            origin=submission.origin,
            isolation=isolation,
            tests=tests,
            questions=questions,
            student_name=submission.student_name,
            submitted_at=submission.submitted_at.isoformat() if submission.submitted_at else None,
            cell_errors=(reply or {}).get("cell_errors") or [],
            output=(reply or {}).get("output") or "",
            named_by=submission.named_by,
            lms=submission.lms,
            time_source=submission.time_source,
            late_flag=submission.late_flag,
            members=submission.members or (submission.student_id,),
            status_message=to_data(message),
        )


def grade_notebook(
    path: str | Path,
    assignment: str,
    *,
    student_id: str | None = None,
    settings: Settings | None = None,
    project: Project | None = None,
) -> SubmissionResult:
    """Grade one notebook file, sandboxed, as a class run would (library API).

    ``student_id`` defaults to the file's name. Never raises on a bad notebook: an
    unreadable or hostile one comes back as an ``invalid`` or ``error`` result.
    """
    path = Path(path)
    if not path.is_file():
        raise DlgradeError(f"{path}: no such notebook")
    settings = settings or Settings(workers=1)
    grader = Grader(assignment, settings, project)
    submission = Submission(student_id or path.stem, str(path), path.read_bytes())
    with Sandbox(settings.limits, isolate=settings.isolate, font_list=False) as sandbox:
        return grader.grade(submission, sandbox)
