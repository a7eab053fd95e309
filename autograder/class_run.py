"""A whole class: find the submissions, grade what is new, write grades.csv and results/.

The executor decides where each submission is graded (local threads by default, or a
Dask cluster); this process alone writes the gradebook and the output files.
"""

from __future__ import annotations

import gc
import json
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from .course import Project
from .errors import DlgradeError
from .executors import Executor, LocalExecutor
from .final_grade import write_grades
from .gradebook import GRADED_RECORD, Gradebook, graded_settings, intake_fields
from .grader import Grader, Settings
from .late import POLICY_FILE, LateTimesError, load_policy, times_problem
from .manual import hand_grades
from .pages import INDEX, outdated_pages, write_index
from .results import SubmissionResult
from .submissions import (
    NAMED_BY,
    NAMINGS,
    Intake,
    Problem,
    Submission,
    collect,
    student_file_name,
)


@dataclass
class ClassRun:
    """What a class run did: how many it graded, what was skipped, what could not be read,
    the named mistakes found (each counted once per student), and the results themselves
    unless the run was asked not to keep them (``keep_results=False``: a class of any
    size in constant memory, its results being in the gradebook and results/)."""

    assignment: str
    out: Path
    graded: list[SubmissionResult] = field(default_factory=list)
    graded_count: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the run read the class
    isolation: str = ""
    mistakes: Counter[str] = field(default_factory=Counter)

    def add(self, result: SubmissionResult, keep: bool) -> None:
        self.graded_count += 1
        if result.status == "invalid":  # the file and its reason, on screen after the run
            self.problems.append(Problem(result.origin, result.message))
        self.isolation = self.isolation or result.isolation
        self.mistakes.update({t.misconception for t in result.tests if t.misconception})
        if keep:
            self.graded.append(result)

    @property
    def grades(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "grades.csv", dtype={"student_id": str})


def _files_only(earlier: Any, problems: list[Problem], found: list[Submission]) -> dict[str, str]:
    """Student → the files they sent, for the students the LMS shows without a notebook,
    this run's and earlier runs' (unless they have sent one since): the export tells them
    from those who sent nothing."""
    kept = (
        {k: v for k, v in earlier.items() if isinstance(v, str)}
        if isinstance(earlier, dict)
        else {}
    )
    kept.update(p.files_only for p in problems if p.files_only)
    with_notebook = {person for s in found for person in (s.student_id, *s.members)}
    return {
        student: files for student, files in sorted(kept.items()) if student not in with_notebook
    }


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
    executor: Executor | None = None,
    intake: Intake | None = None,
    keep_results: bool = True,
) -> ClassRun:
    """Grade every submission found in ``inputs`` (read as ``intake`` says); write
    grades.csv, results/ and the gradebook. Submissions are read one at a time when
    graded; with ``keep_results=False`` each result is forgotten once stored."""
    check_output_folder(name, out)
    recorded = graded_settings(out)
    earlier = recorded.get("intake")
    intake, notes = (intake or Intake()).with_earlier(earlier if isinstance(earlier, dict) else {})
    settings = settings or Settings()
    grader = Grader(name, settings, project)
    # What the set-up built (plans, reference answers, catalogues) lives as long as the
    # run: the collector need not walk it again every few hundred results.
    gc.freeze()
    found, problems = collect(inputs, intake, to_grade=True)
    gradebook = Gradebook(gradebook_url) if gradebook_url else Gradebook.in_folder(out)
    run = ClassRun(name, out, problems=problems, notes=notes)
    done = set() if settings.regrade else gradebook.graded_keys(name, grader.autograder_hash)
    found = _with_known_times(gradebook, name, found)
    previous = {r["student_id"]: r for r in gradebook.latest_results(name, detail=False)}
    try:
        untimed = _check_times_for_policy(out, found, previous)
    except DlgradeError:
        gradebook.close()
        raise
    todo, weaker = _named_as_surely(
        [s for s in found if (s.student_id, s.sha256) not in done], previous
    )
    refused = {p.origin for p in weaker}
    run.problems += weaker + _replacements(gradebook, name, todo, previous)
    run.notes += _kept_reviews(gradebook, name, todo)
    run.notes += [untimed] if untimed else []
    run.problems += _renamed(previous, [s for s in found if s.origin not in refused])
    regraded = sum(
        previous.get(s.student_id, {}).get("submission_hash") == s.sha256
        and previous[s.student_id].get("autograder_hash") != grader.autograder_hash
        for s in todo
    )
    if regraded and not settings.regrade:
        run.notes.append(
            f"{regraded} notebook(s) graded again: the assignment's checks, reference or the "
            "grader changed since they were graded"
        )
    run.skipped = len(found) - len(todo) - len(weaker)  # already graded; the rest refused
    (out / "results").mkdir(parents=True, exist_ok=True)
    updated = gradebook.update_intake(name, grader.autograder_hash, found)
    for stored in updated:
        _write_json(result_path(out, stored["student_id"]), stored)  # new times, groups...
    record = {
        "assignment": name,
        "gradebook": gradebook_url,
        "lang": settings.lang,
        "limits": asdict(settings.limits),
        "intake": dict(intake.identity),
        "files_only": _files_only(recorded.get("files_only"), problems, found),
    }
    (out / GRADED_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
    run_id = gradebook.start_run(name, grader.autograder_hash, grader.run_record())
    if on_start:
        on_start(len(todo))
    batch = _Batch(gradebook, run_id, out, grader)
    try:
        for result in (executor or LocalExecutor()).grade(grader, todo):
            batch.add(result)
            run.add(result, keep_results)
            if on_result:
                on_result(result)
        batch.flush()
        gradebook.finish_run(run_id)
    finally:
        batch.flush()
        write_grades(gradebook, grader.assignment, out / "grades.csv")
        _write_results_index(gradebook, name, out)
        gradebook.close()
    outdated = outdated_pages(out) if run.graded_count or updated else None
    run.notes += [outdated] if outdated else []
    return run


def _with_known_times(gradebook: Gradebook, name: str, found: list[Submission]) -> list[Submission]:
    """Submissions the intake gives no time, with the one stored when they were graded
    before: a forgotten ``--times`` erases nothing."""
    if all(s.submitted_at for s in found):
        return found
    known = gradebook.known_times(name)
    kept = []
    for submission in found:
        stored = known.get((submission.student_id, submission.sha256))
        if submission.submitted_at is None and stored:
            submission = replace(submission, submitted_at=stored[0], time_source=stored[1])
        kept.append(submission)
    return kept


def _check_times_for_policy(
    out: Path, found: list[Submission], previous: dict[str, dict]
) -> str | None:
    """With a late policy saved in ``out``, refuse a run whose class would have times no
    penalty can be computed from (file dates, say), before it stores anything: the folder
    stays as it was, and every command still reads it. Students without a time in a class
    that has times are graded (their penalty waits for their time, as ``late-policy``
    leaves it): the line naming them, or None."""
    policy = load_policy(out)
    if policy is None:
        return None
    rows = dict(previous)
    for submission in found:
        student = submission.student_id
        rows[student] = {
            **rows.get(student, {}),
            "student_id": student,
            **intake_fields(submission),
        }
    problem = times_problem(rows.values(), policy)
    if problem is not None and problem.partial:
        return f"{out} has a late policy ({POLICY_FILE}), and {problem}"
    if problem is not None:
        raise LateTimesError(
            f"{out} has a late policy ({POLICY_FILE}), and {problem}; nothing was graded",
            problem.reason,
            **problem.details,
        )
    return None


def _renamed(previous: dict[str, dict], found: list[Submission]) -> list[Problem]:
    """A notebook graded under another id in an earlier run, whose id this run does not
    find: the intake changed (another worksheet, groups file or id pattern), and the
    earlier id's grade, still in the gradebook, would be exported beside the new one. The
    same file, that is: the same content in a file of the same name and folder
    (classmates' copies of one notebook, or an appeal notebook graded alone, rename
    nobody)."""
    ids = {s.student_id for s in found}
    earlier: dict[tuple[str, str], list[str]] = {}
    for student, result in previous.items():
        if student not in ids:
            file = (result["submission_hash"], _file_name(result.get("origin") or ""))
            earlier.setdefault(file, []).append(student)
    return [
        Problem(
            submission.origin,
            f"graded as {', '.join(earlier[submission.sha256, _file_name(submission.origin)])} "
            "in an earlier run of this folder, "
            f"now as {submission.student_id}: both grades are in grades.csv and would both be "
            "exported. If the ids changed (another --moodle-worksheet, --groups or "
            "--id-pattern), grade the class into a new folder",
        )
        for submission in found
        if (submission.sha256, _file_name(submission.origin)) in earlier
    ]


def _file_name(origin: str) -> str:
    """An origin's file with its folder, whatever folder the instructor ran from:
    ``a.zip!Name_12_assignsubmission_file/tp.ipynb`` and ``../dl/Name_12_…/tp.ipynb``
    both give ``Name_12_assignsubmission_file/tp.ipynb``."""
    parts = PurePosixPath(origin.rsplit("!", 1)[-1].replace("\\", "/")).parts
    return "/".join(parts[-2:])


def check_output_folder(name: str, out: Path) -> None:
    """Refuse a folder holding another assignment's grading: its results/ and grades.csv
    would be overwritten by this one's."""
    other = graded_settings(out).get("assignment")
    if other not in (None, name):
        raise DlgradeError(f"{out}: holds the grading of {other}; grade {name} into another folder")


class _Batch:
    """Results stored a batch at a time: one gradebook transaction, then their files.

    A run killed at any moment loses at most one batch (graded again by the next run), and
    results/ never holds a result the gradebook lacks.
    """

    SIZE = 32
    SECONDS = 0.25

    def __init__(self, gradebook: Gradebook, run_id: int, out: Path, grader: Grader):
        self.gradebook, self.run_id, self.out, self.grader = gradebook, run_id, out, grader
        self.pending: list[SubmissionResult] = []
        self.since = time.monotonic()

    def add(self, result: SubmissionResult) -> None:
        self.pending.append(result)
        if len(self.pending) >= self.SIZE or time.monotonic() - self.since >= self.SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            try:
                self.gradebook.record(self.run_id, *self.pending)
                for result in self.pending:
                    write_result(self.out, result)
            except Exception:  # the batch again, one result at a time: the others keep theirs
                for result in self.pending:
                    self._store_alone(result)
        self.pending, self.since = [], time.monotonic()

    def _store_alone(self, result: SubmissionResult) -> None:
        """Store one result, or if it cannot be, the same submission as an internal error;
        what fails then (the database, the folder) stops the run."""
        try:
            self.gradebook.record(self.run_id, result)
            write_result(self.out, result)
        except Exception:
            failed = self.grader.unstorable(result, traceback.format_exc())
            self.gradebook.record(self.run_id, failed)
            write_result(self.out, failed)


def _named_as_surely(
    todo: list[Submission], previous: dict[str, dict]
) -> tuple[list[Submission], list[Problem]]:
    """The notebooks to grade, and a line for each left out: one named less surely than
    the one an earlier run graded for that student. Across runs as within one, a file's
    name or a notebook's own metadata never replaces an LMS submission (intake.md)."""
    kept, problems = [], []
    for submission in todo:
        before = previous.get(submission.student_id, {})
        earlier = before.get("named_by")
        if earlier in NAMED_BY and NAMED_BY.index(submission.named_by) > NAMED_BY.index(earlier):
            problems.append(
                Problem(
                    submission.origin,
                    f"not graded: student {submission.student_id} has a grade from a notebook "
                    f"named by {NAMINGS[earlier]} in an earlier run ({before['origin']}), and "
                    f"this one is named by {NAMINGS[submission.named_by]} only; to grade it "
                    "anyway, name it with --id-pattern",
                )
            )
        else:
            kept.append(submission)
    return kept, problems


def _replacements(
    gradebook: Gradebook, name: str, todo: list[Submission], previous: dict[str, dict]
) -> list[Problem]:
    """What a new notebook replaces, said rather than done in silence: hand-graded points
    given to the notebook it replaces, which it keeps until the instructor grades the new
    one."""
    hand_graded, _ = hand_grades(gradebook, name)
    problems = []
    for submission in todo:
        student = submission.student_id
        before = previous.get(student, {})
        changed = before.get("submission_hash") not in (None, submission.sha256)
        if changed and student in hand_graded:
            questions = ", ".join(sorted(hand_graded[student]))
            problems.append(
                Problem(
                    submission.origin,
                    f"a new notebook for student {student}, whose hand-graded points "
                    f"({questions}) were given to the earlier one and are kept: grade it "
                    "again by hand (dlgrade manual export ... --graded) if its answer changed",
                )
            )
    return problems


def _kept_reviews(gradebook: Gradebook, name: str, todo: list[Submission]) -> list[str]:
    """What grading ``todo`` does not change, said so that no grade surprises: points given
    on appeal stay over the checks' points, and an excused student stays excused."""
    students = {s.student_id for s in todo}
    overrides, excused = gradebook.overrides(name), gradebook.excused(name)
    notes = [
        f"{student}: the points given on appeal to {', '.join(sorted(questions))} are kept "
        "over this grading's (remove them with an empty points cell in dlgrade manual override)"
        for student, questions in sorted(overrides.items())
        if student in students
    ]
    notes += [
        f"{student}: excused, and still so after this grading (dlgrade manual excuse --undo)"
        for student in sorted(set(excused) & students)
    ]
    return notes


def _write_results_index(gradebook: Gradebook, name: str, out: Path) -> None:
    """results/index.csv: each student id → its results file, a group's members → the
    group's (``graded_as``): an email or a group id is no file name as it is."""
    graded = {r["student_id"] for r in gradebook.latest_results(name, detail=False)}
    rows = [(s, "", result_path(out, s).name) for s in graded]
    rows += [
        (member, submitter, result_path(out, submitter).name)
        for submitter, members in gradebook.members(name).items()
        if submitter in graded
        for member in members
        if member not in graded
    ]
    write_index(out / "results" / INDEX, ("student_id", "graded_as", "file"), rows)


def result_path(out: Path, student_id: str) -> Path:
    """results/<student>.json, under a file name no other id can share."""
    return out / "results" / f"{student_file_name(student_id)}.json"


def write_result(out: Path, result: SubmissionResult) -> None:
    _write_json(result_path(out, result.student_id), result.to_json())


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    temporary.replace(path)
