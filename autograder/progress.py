"""What the instructor sees while a class is graded: a progress bar, then a summary.

Text that comes from the inputs (file names, archive members, problem messages) is printed
as rich ``Text``, never as markup: ``notes[/b].zip`` prints as it is, styles nothing, and
cannot make rich raise.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .class_run import ClassRun
from .final_grade import EXCUSED
from .results import STATUSES, SubmissionResult
from .submissions import GROUP_PREFIX


class ClassProgress:
    """A rich progress bar fed by ``grade_class``'s callbacks. It appears once grading
    starts (``start``): a run refused before, for a missing file or a wrong option, prints
    its one line alone, not under an empty bar."""

    def __init__(self, assignment: str, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self._bar = Progress(
            "[bold]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._task = self._bar.add_task(assignment, total=None)
        self._unfinished: list[Text] = []  # one line per submission not graded to the end

    def __enter__(self) -> ClassProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def start(self, total: int) -> None:
        self._bar.update(self._task, total=total)
        self._bar.start()

    def advance(self, result: SubmissionResult) -> None:
        self._bar.advance(self._task)
        if result.status in ("error", "timeout", "memory"):
            self._unfinished.append(
                Text.assemble((result.status, "red"), f" {result.origin}: {result.message}")
            )
        elif result.incident:  # graded, but a check could not be judged
            self._unfinished.append(
                Text.assemble(
                    ("incident", "red"),
                    f" {result.origin}: a check could not be judged (the traceback is in "
                    "its result's incident)",
                )
            )

    def summary(self, run: ClassRun) -> None:
        """Counts by status, score statistics, the most frequent named mistakes, problems."""
        rows = run.grades
        # grades.csv has a row per student; a group's members point at its submission's row
        graded_as = rows.get("graded_as")
        grades = rows if graded_as is None else rows[graded_as.fillna("") == ""]
        people = len(rows) - sum(s.startswith(GROUP_PREFIX) for s in grades["student_id"])
        counts = Counter(grades["status"])
        # an excused student without a notebook has a row, with no maximum: no submission
        submissions = len(grades) - int(
            ((grades["status"] == EXCUSED) & grades["max_score"].isna()).sum()
        )
        # A line of its own: a table's title is wrapped to the table's narrow width.
        self.console.print(
            Text(
                f"{run.assignment}: {submissions} submission(s) for {people} student(s) in "
                f"{run.out / 'grades.csv'}"
            )
        )
        table = Table()
        table.add_column("status")
        table.add_column("students", justify="right")
        for status in (*STATUSES, *([EXCUSED] if EXCUSED in counts else [])):
            table.add_row(status, str(counts.get(status, 0)))
        self.console.print(table)
        if len(grades):
            scores = grades["score"]
            self.console.print(
                f"score: mean {scores.mean():.2f}, median {scores.median():.2f}, "
                f"min {scores.min():.2f}, max {scores.max():.2f} / {grades['max_score'].max():g}"
            )
        if run.mistakes:
            named = ", ".join(f"{m} ({n})" for m, n in run.mistakes.most_common(5))
            self.console.print(Text(f"most frequent named mistakes (students): {named}"))
        self.console.print(
            Text(
                f"graded now: {run.graded_count}, already graded (skipped): {run.skipped}, "
                f"isolation: {run.isolation or 'n/a'}"
            )
        )
        if run.isolation == "limits-only":
            self.console.print(
                "[bold red]WARNING: graded without bubblewrap (DLGRADE_ISOLATION=limits-only): "
                "submissions could read solutions/ and each other's notebooks[/]"
            )
        for note in run.notes:
            self.console.print(Text.assemble(("note", "cyan"), f" {note}"))
        for problem in run.problems:
            line = Text.assemble(("problem", "yellow"), f" {problem.origin}: {problem.message}")
            self.console.print(line)
        for line in self._unfinished:
            self.console.print(line)
