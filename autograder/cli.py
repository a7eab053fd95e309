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
from .sandbox import BLAS_THREADS, Limits, Sandbox, default_workers, started_sandboxes

# Each command imports what it uses when it runs: a student's `dlgrade check` does not
# pay for otter, pandas or SQLAlchemy.


def _use_course(folder: Path, *, new: bool) -> None:
    """Make ``folder`` the course of every later step (and of Dask workers started here)."""
    from .course import COURSE_VARIABLE

    if new:
        folder.mkdir(parents=True, exist_ok=True)
    elif not (folder / "assignments").is_dir():
        raise DlgradeError(f"{folder}: not a course folder (no assignments/ in it)")
    os.environ[COURSE_VARIABLE] = str(folder.resolve())


def _new(args: argparse.Namespace) -> int:
    from .course import Project
    from .scaffold import new_assignment

    project = Project(args.course.resolve()) if args.course else Project(Path.cwd().resolve())
    for path in new_assignment(args.name, project):
        print(f"created {path.relative_to(project.root)}")
    print(
        f"next: dlgrade build {args.name}, then dlgrade demo or dlgrade grade {args.name} … "
        "(docs/new_assignment.md)"
    )
    return 0


def _build(args: argparse.Namespace) -> int:
    from .build import build
    from .course import Project

    project = Project.default()
    names = args.names or project.names()
    if not names:
        raise DlgradeError(
            f"{project.root}: no assignment here (no assignments/<name>/<name>.ipynb); "
            "give the course folder with --course, or create one with dlgrade new NAME"
        )
    for name in names:
        built = build(name, project, check=args.check)
        verb = "up to date" if args.check else "built"
        print(
            f"{name}: {verb} — {built.template.relative_to(project.root)}, {built.autograder_zip.relative_to(project.root)}"
        )
    return 0


def _grade(args: argparse.Namespace) -> int:
    for path in args.submissions:
        if not Path(path).exists():
            raise DlgradeError(f"{path}: no such file or folder to grade")
    limits = Limits(
        wall_seconds=args.timeout,
        cpu_seconds=math.ceil(args.timeout),
        memory_bytes=args.memory_mb * 2**20,
        output_bytes=args.output_mb * 2**20,
    )
    # The local workers' runners start first: they import NumPy while this process loads
    # the grader, pandas and SQLAlchemy.
    warm = started_sandboxes(limits, args.workers) if args.executor == "local" else []
    try:
        return _grade_with(args, limits, warm)
    finally:
        for sandbox in warm:  # already closed by the executor, unless grading never began
            sandbox.close()


def _grade_with(args: argparse.Namespace, limits: Limits, warm: list[Sandbox]) -> int:
    from .assignment import load_assignment
    from .class_run import check_output_folder, grade_class
    from .course import Project
    from .executors import DaskExecutor, LocalExecutor, ProcessExecutor
    from .grader import Settings
    from .progress import ClassProgress
    from .submissions import Intake

    load_assignment(args.assignment, Project.default().root)  # a wrong name: before any output
    check_output_folder(args.assignment, args.out)
    settings = Settings(workers=args.workers, limits=limits, lang=args.lang, regrade=args.regrade)
    executors = {
        "local": lambda: LocalExecutor(warm),
        "processes": lambda: ProcessExecutor(max_tries=args.max_tries),
        "dask": lambda: DaskExecutor(args.scheduler, max_tries=args.max_tries),
    }
    executor = executors[args.executor]()
    intake = Intake.read(
        id_pattern=args.id_pattern,
        times=args.times,
        times_from_files=args.times_from_files,
        moodle_worksheet=args.moodle_worksheet,
        groups=args.groups,
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
            intake=intake,
            keep_results=False,
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


def _graded_lang(args: argparse.Namespace) -> str:
    """``--lang``, else the language the folder was graded in, else French."""
    from .gradebook import graded_settings

    recorded = graded_settings(args.graded).get("lang")
    return args.lang or (recorded if recorded in LANGUAGES else "fr")


def _export(args: argparse.Namespace) -> int:
    from .lms_export import export

    report = export(
        args.lms,
        args.graded,
        args.roster,
        args.out,
        item=args.item,
        lms_id=args.lms_id,
        missing="zero" if args.missing_as_zero else "blank" if args.blank_missing else "keep",
        scale_to=args.scale_to,
        lang=_graded_lang(args),
        partial=args.partial,
        earlier_checks=args.earlier_checks,
    )
    for line in report.lines():
        print(line, file=sys.stderr)
    print(f"{args.lms}: written to {args.out}")
    return 0


def _pages(args: argparse.Namespace) -> int:
    from .pages import write_feedback, write_report

    lang = _graded_lang(args)
    if args.command == "feedback":
        written = write_feedback(args.graded, lang, args.reveal)
        folder = args.graded / "feedback"
        print(
            f"{len(written)} feedback page(s) in {folder}; who is which file: {folder / 'index.csv'}"
        )
    else:
        print(f"report: {write_report(args.graded, lang)}")
    return 0


def _manual(args: argparse.Namespace) -> int:
    from .assignment import load_assignment
    from .final_grade import write_grades
    from .gradebook import Gradebook
    from .manual import excuse, export_question, import_overrides, import_scores
    from .pages import outdated_pages

    if args.action == "export":
        html, table = export_question(
            args.assignment, args.question, args.submissions, args.out, args.graded, args.roster
        )
        print(f"read {html}\nfill {table}, then: dlgrade manual import ...")
        return 0
    gradebook = Gradebook.of_graded(args.graded)
    try:
        if args.action == "import":
            count = import_scores(args.assignment, args.question, args.csv, gradebook)
            done = f"{count} score(s) imported for {args.question}"
        elif args.action == "override":
            given, removed = import_overrides(args.assignment, args.csv, gradebook)
            done = f"{given} override(s) given, {removed} removed for {args.assignment}"
        else:
            done = excuse(args.assignment, args.student, gradebook, args.comment, undo=args.undo)
        write_grades(gradebook, load_assignment(args.assignment), args.graded / "grades.csv")
    finally:
        gradebook.close()
    print(f"{done}; {args.graded / 'grades.csv'} updated")
    outdated = outdated_pages(args.graded)
    if outdated:
        print(outdated)
    return 0


def _student(args: argparse.Namespace) -> int:
    from .student_tools import check, validate

    report = (
        validate(args.notebook, args.assignment, args.lang)
        if args.command == "validate"
        else check(args.notebook, args.lang)
    )
    print("\n".join(report.lines))
    return 0 if report.ok else 1


def _late_policy(args: argparse.Namespace) -> int:
    from .final_grade import apply_policy
    from .late import LatePolicy, parse_moment, read_extensions

    hourly = args.percent_per_hour is not None
    deadline = parse_moment(args.deadline, "--deadline")
    policy = LatePolicy(
        deadline=deadline,
        percent_per_unit=args.percent_per_hour if hourly else args.percent_per_day,
        unit="hour" if hourly else "day",
        cap_percent=args.cap,
        extensions=read_extensions(args.extensions, deadline, args.timezone)
        if args.extensions
        else {},
        accept_file_dates=args.accept_file_dates,
        timezone=args.timezone,
    )
    print("\n".join(apply_policy(args.graded, policy)))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .grader import Settings
    from .web import WebConfig, serve

    limits = Limits(wall_seconds=args.timeout, cpu_seconds=math.ceil(args.timeout))
    config = WebConfig(
        data_dir=args.data,
        database_url=args.database,
        settings=Settings(workers=args.workers, limits=limits, lang=args.lang),
        scheduler=args.scheduler,
        lang=args.lang,
        secure_cookies=args.secure_cookies,
    )
    serve(config, args.host, args.port, args.instructor)
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dlgrade", description="Grade deep-learning notebooks.")
    main.add_argument("--course", type=Path,
                      help="the course folder (holding assignments/ and solutions/); default: "
                           "$DLGRADE_ROOT, else the working folder or its nearest parent "
                           "holding assignments/")  # fmt: skip
    commands = main.add_subparsers(dest="command", required=True)

    command = commands.add_parser("new", help="a new assignment folder that builds and grades")
    command.add_argument("name", help="lower case letters, digits and _ (a Python module name)")
    command.set_defaults(run=_new)

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
    command.add_argument("--workers", type=_positive(int), default=default_workers())
    command.add_argument("--lang", choices=LANGUAGES, default="fr", help="feedback language")
    command.add_argument("--regrade", action="store_true", help="grade again what is graded")
    command.add_argument("--gradebook", help="SQLAlchemy URL (default: SQLite in --out)")
    command.add_argument("--timeout", type=_positive(float), default=defaults.wall_seconds,
                         help="seconds per submission (wall clock and CPU)")  # fmt: skip
    command.add_argument("--memory-mb", type=_positive(int), default=defaults.memory_bytes // 2**20)
    command.add_argument("--output-mb", type=_positive(int),
                         default=defaults.output_bytes // 2**20)  # fmt: skip
    command.add_argument("--executor", choices=("local", "processes", "dask"), default="local",
                         help="local: one thread per worker (default); processes: one process "
                              "per worker, judging in parallel (many cores); dask: a Dask "
                              "cluster")  # fmt: skip
    command.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    command.add_argument("--max-tries", type=_positive(int), default=3,
                         help="processes, dask: tries before a submission whose grading "
                              "kills workers is an error")  # fmt: skip
    intake = command.add_argument_group("intake (see docs/intake.md)")
    intake.add_argument("--id-pattern", metavar="REGEX",
                        help="the student id is the group (?P<student>…) of REGEX, searched in "
                             "each notebook's path inside the folder or zip given")  # fmt: skip
    intake.add_argument("--groups", type=Path, metavar="CSV",
                        help="group,student_id: a group's grade reaches every member")  # fmt: skip
    intake.add_argument("--moodle-worksheet", type=Path, metavar="CSV",
                        help="Moodle's grading worksheet: participant ids to people, and "
                             "the true submission times")  # fmt: skip
    intake.add_argument("--times", type=Path, metavar="CSV",
                        help="student_id,submitted_at (ISO 8601): submission times")  # fmt: skip
    intake.add_argument("--times-from-files", action="store_true",
                        help="take file and zip-entry dates as submission times (a download "
                             "or a copy changes them: only if you know they are true)")  # fmt: skip
    command.set_defaults(run=_grade)

    command = commands.add_parser("export", help="write LMS import files from a graded folder")
    command.add_argument(
        "--lms", choices=("canvas", "moodle", "blackboard", "gradescope"), required=True
    )
    command.add_argument("--graded", type=Path, required=True, help="the --out folder of a grading")
    command.add_argument("--roster", type=Path,
                         help="roster CSV (student_id and LMS identities), or the LMS's own "
                              "file: Canvas gradebook export, Blackboard Grade Center download, "
                              "Moodle grading worksheet")  # fmt: skip
    command.add_argument("--out", type=Path, required=True, help="output folder")
    command.add_argument("--item", help="grade item name in the LMS (default: the roster LMS "
                                        "file's only item, else the folder name)")  # fmt: skip
    command.add_argument("--lms-id", default="", help="Canvas assignment id / Blackboard column id")
    missing = command.add_mutually_exclusive_group()
    missing.add_argument("--missing-as-zero", action="store_true",
                         help="students without submission get 0 (default: left out, their "
                              "LMS grade kept)")  # fmt: skip
    missing.add_argument(
        "--blank-missing",
        action="store_true",
        help="students without submission get an empty cell (clears a grade)",
    )
    command.add_argument("--scale-to", type=_positive(float),
                         help="grades out of this many points (default: the item's maximum "
                              "in the LMS file, else the grader's points)")  # fmt: skip
    command.add_argument("--lang", choices=LANGUAGES,
                         help="feedback texts' language (default: the grading's)")  # fmt: skip
    command.add_argument(
        "--partial",
        action="store_true",
        help="export while hand grading is unfinished (missing points count 0)",
    )
    command.add_argument(
        "--earlier-checks",
        action="store_true",
        help="export grades given before the checks last changed, as they are",
    )
    command.set_defaults(run=_export)

    for name, text in (("feedback", "one HTML and Markdown feedback page per student"),
                       ("report", "the class report (HTML with plots) for the instructor")):  # fmt: skip
        command = commands.add_parser(name, help=text)
        command.add_argument("--graded", type=Path, required=True, help="a grading --out folder")
        command.add_argument("--lang", choices=LANGUAGES, help="default: the grading's language")
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
    command.add_argument("--out", type=Path, required=True, help="output folder")
    command.add_argument("--graded", type=Path,
                         help="the grading --out folder: students named as graded there (Moodle "
                              "worksheet, groups, --id-pattern)")  # fmt: skip
    command.add_argument("--roster", type=Path,
                         help="the LMS's own file (Canvas gradebook export, Blackboard Grade "
                              "Center, Moodle worksheet): students' names as the LMS has them")  # fmt: skip
    command.set_defaults(run=_manual)
    command = manual.add_parser("import", help="merge a filled CSV into the gradebook")
    command.add_argument("assignment")
    command.add_argument("question")
    command.add_argument("csv", type=Path)
    command.add_argument("--graded", type=Path, required=True, help="the grading --out folder")
    command.set_defaults(run=_manual)
    command = manual.add_parser("override", help="appeals: other points for autograded "
                                "questions, with a comment the student sees")  # fmt: skip
    command.add_argument("assignment")
    command.add_argument("csv", type=Path,
                         help="student_id,question,points,comment (an empty points cell "
                              "removes that override)")  # fmt: skip
    command.add_argument("--graded", type=Path, required=True, help="the grading --out folder")
    command.set_defaults(run=_manual)
    command = manual.add_parser("excuse", help="excuse a student: no grade (not 0), EX in Canvas")
    command.add_argument("assignment")
    command.add_argument("student", help="the id grades.csv uses, or the roster's")
    command.add_argument("--graded", type=Path, required=True, help="the grading --out folder")
    command.add_argument("--comment", default="", help="shown on the student's feedback page")
    command.add_argument("--undo", action="store_true", help="the student is no longer excused")
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
    command.add_argument("--deadline", required=True,
                         help="e.g. 2026-12-01T23:59, 13/12/2026 23:59 or '1 décembre 2026 "
                              "23h59' (01/12/2026 is refused as ambiguous)")  # fmt: skip
    group = command.add_mutually_exclusive_group(required=True)
    group.add_argument("--percent-per-day", type=float, help="penalty per started day late")
    group.add_argument("--percent-per-hour", type=float, help="penalty per started hour late")
    command.add_argument("--cap", type=float, default=100.0, help="maximum penalty, in percent")
    command.add_argument("--extensions", type=Path, help="CSV: student_id,deadline")
    command.add_argument("--timezone",
                         help="where times written without an offset are (a Moodle worksheet, "
                              "--times, the deadline), e.g. Europe/Paris; default: the "
                              "deadline's offset if it has one, else this machine's")  # fmt: skip
    command.add_argument("--accept-file-dates", action="store_true",
                         help="penalise from file modification times (only if the files "
                              "kept the times students submitted them)")  # fmt: skip
    command.set_defaults(run=_late_policy)

    command = commands.add_parser("serve", help="the course on the web: submissions, feedback, "
                                  "hand grading (needs the 'web' extra)")  # fmt: skip
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument("--data", type=Path, default=Path("course"),
                         help="folder of the course's files and SQLite database")  # fmt: skip
    command.add_argument("--database", help="SQLAlchemy URL (default: SQLite in --data)")
    command.add_argument("--instructor", help="instructor login to create (or $DLGRADE_INSTRUCTOR); "
                         "prints a one-time link to choose its password")  # fmt: skip
    command.add_argument("--workers", type=_positive(int), default=default_workers())
    command.add_argument("--timeout", type=_positive(float), default=defaults.wall_seconds)
    command.add_argument("--scheduler", help="Dask scheduler address: grade on its cluster")
    command.add_argument("--lang", choices=LANGUAGES, default="fr", help="default language")
    command.add_argument("--secure-cookies", action="store_true",
                         help="session cookies over HTTPS only (behind a TLS proxy)")  # fmt: skip
    command.set_defaults(run=_serve)

    command = commands.add_parser("demo", help="build, then grade a generated sample class")
    command.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    command.add_argument("--size", type=int, default=30, help="students per assignment")
    command.add_argument("--workers", type=_positive(int), default=default_workers())
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
        if not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above zero")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    # The grader's own arithmetic is on arrays of a few dozen numbers: a BLAS thread would
    # only spin after each product, on a core a submission needs (2 % of a class run's CPU
    # under `perf`). NumPy reads these when it loads, which no command has done yet.
    for variable in BLAS_THREADS:
        os.environ.setdefault(variable, "1")
    args = parser().parse_args(argv)
    try:
        if getattr(args, "course", None):
            _use_course(args.course, new=args.command == "new")
        out = getattr(args, "out", None)  # every command's --out is a folder, never a file
        if out is not None and out.exists() and not out.is_dir():
            raise DlgradeError(f"{out}: exists and is not a folder; choose another --out")
        return args.run(args)
    except DlgradeError as error:
        print(f"dlgrade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "dlgrade: interrupted; what was graded is saved, run again to resume", file=sys.stderr
        )
        return 130
    except BrokenPipeError:  # the reader of the output left (`| head`): stop quietly, as any tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing flushed at exit
        return 141
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
