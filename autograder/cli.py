"""The ``dlgrade`` command: a thin layer over the library's functions."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import DlgradeError
from .messages import LANGUAGES
from .sandbox import Limits

# Each command imports what it uses when it runs: a student's `dlgrade check` does not
# pay for otter, pandas or SQLAlchemy.


def _build(args: argparse.Namespace) -> int:
    from .assignment import Project
    from .build import build

    project = Project.default()
    names = args.names or project.names()
    for name in names:
        built = build(name, project, check=args.check)
        verb = "up to date" if args.check else "built"
        print(
            f"{name}: {verb} — {built.template.relative_to(project.root)}, {built.autograder_zip.relative_to(project.root)}"
        )
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .assignment import Project, load_assignment
    from .class_run import grade_class
    from .executors import DaskExecutor, LocalExecutor
    from .grader import Settings
    from .progress import ClassProgress

    load_assignment(args.assignment, Project.default().root)  # a wrong name: before any output
    for path in args.submissions:
        if not Path(path).exists():
            raise DlgradeError(f"{path}: no such file or folder to grade")
    limits = Limits(
        wall_seconds=args.timeout,
        cpu_seconds=math.ceil(args.timeout),
        memory_bytes=args.memory_mb * 2**20,
        output_bytes=args.output_mb * 2**20,
    )
    settings = Settings(workers=args.workers, limits=limits, lang=args.lang, regrade=args.regrade)
    executor = (
        DaskExecutor(args.scheduler, max_tries=args.max_tries)
        if args.executor == "dask"
        else LocalExecutor()
    )
    with ClassProgress(args.assignment) as progress:
        run = grade_class(
            args.assignment,
            args.submissions,
            args.out,
            settings,
            gradebook_url=args.gradebook,
            on_start=progress.start,
            on_result=progress.advance,
            executor=executor,
        )
    progress.summary(run)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .grader import Settings

    settings = Settings(workers=args.workers, lang=args.lang)
    table = run_demo(args.out, settings, size=args.size)
    print(table.to_string(index=False))
    print(f"\ngrades, results, feedback, report and gradebook: {args.out}/<assignment>/")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .lms_export import export

    report = export(
        args.lms,
        args.graded,
        args.roster,
        args.out,
        item=args.item or args.graded.name,
        lms_id=args.lms_id,
        missing_as_zero=args.missing_as_zero,
        lang=args.lang,
    )
    for line in report.lines():
        print(line, file=sys.stderr)
    print(f"{args.lms}: written to {args.out}")
    return 0


def _pages(args: argparse.Namespace) -> int:
    from .pages import write_feedback, write_report

    if args.command == "feedback":
        written = write_feedback(args.graded, args.lang, args.reveal)
        print(f"{len(written)} feedback page(s) in {args.graded / 'feedback'}")
    else:
        print(f"report: {write_report(args.graded, args.lang)}")
    return 0


def _manual(args: argparse.Namespace) -> int:
    from .assignment import load_assignment
    from .class_run import write_grades
    from .gradebook import Gradebook
    from .manual import export_question, import_scores

    if args.action == "export":
        html, table = export_question(args.assignment, args.question, args.submissions, args.out)
        print(f"read {html}\nfill {table}, then: dlgrade manual import ...")
        return 0
    gradebook = Gradebook.of_graded(args.graded)
    try:
        count = import_scores(args.assignment, args.question, args.csv, gradebook)
        write_grades(gradebook, load_assignment(args.assignment), args.graded / "grades.csv")
    finally:
        gradebook.close()
    print(f"{count} score(s) imported for {args.question}; {args.graded / 'grades.csv'} updated")
    return 0


def _student(args: argparse.Namespace) -> int:
    from .student_tools import check, validate

    if not Path(args.notebook).is_file():
        raise DlgradeError(f"{args.notebook}: no such notebook")

    report = (
        validate(args.notebook, args.assignment, args.lang)
        if args.command == "validate"
        else check(args.notebook, args.lang)
    )
    print("\n".join(report.lines))
    return 0 if report.ok else 1


def _late_policy(args: argparse.Namespace) -> int:
    from datetime import datetime

    from .late import LatePolicy, read_extensions

    hourly = args.percent_per_hour is not None
    policy = LatePolicy(
        deadline=datetime.fromisoformat(args.deadline),
        percent_per_unit=args.percent_per_hour if hourly else args.percent_per_day,
        unit="hour" if hourly else "day",
        cap_percent=args.cap,
        extensions=read_extensions(args.extensions) if args.extensions else {},
    )
    print(f"late policy saved: {policy.save(args.graded)}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dlgrade", description="Grade deep-learning notebooks.")
    commands = main.add_subparsers(dest="command", required=True)

    command = commands.add_parser("build", help="build student templates and otter autograders")
    command.add_argument("names", nargs="*", help="assignments (default: all)")
    command.add_argument(
        "--check", action="store_true", help="fail if a committed template is out of date"
    )
    command.set_defaults(run=_build)

    defaults = Limits()
    command = commands.add_parser("grade", help="grade a class's submissions, sandboxed")
    command.add_argument("assignment", help="assignment name, e.g. backprop_miniconv")
    command.add_argument("submissions", nargs="+", help=".ipynb files, folders or LMS zips")
    command.add_argument("--out", type=Path, required=True, help="output folder")
    command.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    command.add_argument("--lang", choices=LANGUAGES, default="fr", help="feedback language")
    command.add_argument("--regrade", action="store_true", help="grade again what is graded")
    command.add_argument("--gradebook", help="SQLAlchemy URL (default: SQLite in --out)")
    command.add_argument("--timeout", type=_positive(float), default=defaults.wall_seconds,
                         help="seconds per submission (wall clock and CPU)")  # fmt: skip
    command.add_argument("--memory-mb", type=_positive(int),
                         default=defaults.memory_bytes // 2**20)
    command.add_argument("--output-mb", type=_positive(int),
                         default=defaults.output_bytes // 2**20)  # fmt: skip
    command.add_argument("--executor", choices=("local", "dask"), default="local",
                         help="where submissions are graded (default: local processes)")  # fmt: skip
    command.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    command.add_argument("--max-tries", type=int, default=3,
                         help="Dask: tries before a submission that kills workers is an error")  # fmt: skip
    command.set_defaults(run=_grade)

    command = commands.add_parser("export", help="write LMS import files from a graded folder")
    command.add_argument(
        "--lms", choices=("canvas", "moodle", "blackboard", "gradescope"), required=True
    )
    command.add_argument("--graded", type=Path, required=True, help="the --out folder of a grading")
    command.add_argument("--roster", type=Path, help="roster CSV (student_id and LMS identities)")
    command.add_argument("--out", type=Path, required=True)
    command.add_argument("--item", help="grade item name in the LMS (default: the folder name)")
    command.add_argument("--lms-id", default="", help="Canvas assignment id / Blackboard column id")
    command.add_argument("--missing-as-zero", action="store_true",
                         help="export students without submission as 0 (default: blank)")  # fmt: skip
    command.add_argument("--lang", choices=LANGUAGES, default="fr", help="feedback texts' language")
    command.set_defaults(run=_export)

    for name, text in (("feedback", "one HTML and Markdown feedback page per student"),
                       ("report", "the class report (HTML with plots) for the instructor")):  # fmt: skip
        command = commands.add_parser(name, help=text)
        command.add_argument("--graded", type=Path, required=True, help="a grading --out folder")
        command.add_argument("--lang", choices=LANGUAGES, default="fr")
        if name == "feedback":
            command.add_argument("--reveal", choices=("hints", "values"),
                                 help="what failed checks show (default: the assignment's "
                                      "feedback.yaml)")  # fmt: skip
        command.set_defaults(run=_pages)

    manual = commands.add_parser("manual", help="hand-graded questions").add_subparsers(
        dest="action", required=True
    )
    command = manual.add_parser("export", help="every answer to one question, and a CSV to fill")
    command.add_argument("assignment")
    command.add_argument("question")
    command.add_argument("submissions", nargs="+", type=Path)
    command.add_argument("--out", type=Path, required=True)
    command.set_defaults(run=_manual)
    command = manual.add_parser("import", help="merge a filled CSV into the gradebook")
    command.add_argument("assignment")
    command.add_argument("question")
    command.add_argument("csv", type=Path)
    command.add_argument("--graded", type=Path, required=True, help="the grading --out folder")
    command.set_defaults(run=_manual)

    command = commands.add_parser("validate", help="student: is this notebook ready to submit?")
    command.add_argument("notebook", type=Path)
    command.add_argument("--assignment", help="default: the one named in the notebook")
    command.add_argument("--lang", choices=LANGUAGES, default="fr")
    command.set_defaults(run=_student)
    command = commands.add_parser("check", help="student: run the public tests of a notebook")
    command.add_argument("notebook", type=Path)
    command.add_argument("--lang", choices=LANGUAGES, default="fr")
    command.set_defaults(run=_student)

    command = commands.add_parser("late-policy", help="set the late penalty of a graded folder")
    command.add_argument("--graded", type=Path, required=True)
    command.add_argument(
        "--deadline", required=True, help="ISO date and time, e.g. 2026-12-01T23:59"
    )
    group = command.add_mutually_exclusive_group(required=True)
    group.add_argument("--percent-per-day", type=float, help="penalty per started day late")
    group.add_argument("--percent-per-hour", type=float, help="penalty per started hour late")
    command.add_argument("--cap", type=float, default=100.0, help="maximum penalty, in percent")
    command.add_argument("--extensions", type=Path, help="CSV: student_id,deadline")
    command.set_defaults(run=_late_policy)

    command = commands.add_parser("demo", help="build, then grade a generated sample class")
    command.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    command.add_argument("--size", type=int, default=30, help="students per assignment")
    command.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    command.add_argument("--lang", choices=LANGUAGES, default="fr", help="feedback language")
    command.set_defaults(run=_demo)
    return main


def _positive(kind: type) -> Callable[[str], float]:
    """An argparse type for a limit: a number above zero, or one clear error line."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above zero")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except DlgradeError as error:
        print(f"dlgrade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "dlgrade: interrupted; what was graded is saved, run again to resume", file=sys.stderr
        )
        return 130
    except Exception as error:  # a bug: one line for the user, the traceback in a log
        with tempfile.NamedTemporaryFile(
            "w", prefix="dlgrade-crash-", suffix=".log", delete=False
        ) as log:
            traceback.print_exc(file=log)
        print(
            f"dlgrade: internal error ({type(error).__name__}: {error}); details in {log.name}",
            file=sys.stderr,
        )
        return 1
