"""``dlgrade build``: from a master notebook to a student template and an otter autograder.

Otter Assign runs on a staged copy of the master with this package and this assignment's
reference beside it (its ``autograder_files``), so that it can check the master against its
own hidden tests. Its zip is then rewritten by ``otter_zip.package``: the grading step runs
dlgrade's engine (the submission sandboxed, compared outside it), and the zip carries this
assignment's checks and reference only. The template is checked for leaks: no line of a
solution and no hidden test may appear in it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .assignment import load_assignment, master_cells, solution_lines
from .course import COURSE_VARIABLE, Project
from .errors import DlgradeError, MissingExtra
from .judging import reference_answers
from .otter_zip import package

_CONFIG_HIDDEN = re.compile(r"^\s*hidden:\s*true\s*$", re.M | re.I)
_TRIVIAL = {"...", "pass", "else:", "try:", "return", '"""', "import numpy as np"}


class BuildError(DlgradeError, RuntimeError):
    """The build failed or its output is not what is committed; the message names the file."""


@dataclass(frozen=True)
class Built:
    name: str
    template: Path
    autograder_zip: Path
    solution_notebook: Path
    student_folder: Path


def build(name: str, project: Project | None = None, *, check: bool = False) -> Built:
    """Build one assignment. With ``check``, only compare with the committed template."""
    project = project or Project.default()
    load_assignment(name, project.root)  # fails early, naming the cell, on a broken master
    reference_answers(name, root=project.root)  # the reference passes its own checks
    with tempfile.TemporaryDirectory(prefix=f"dlgrade-build-{name}-") as tmp:
        result = otter_assigned(name, project, Path(tmp))
        template_text = with_contract(
            canonical(result / "student" / f"{name}.ipynb"), name, project
        )
        leaks = find_leaks(template_text, name, project)
        if leaks:
            raise BuildError(
                f"{project.master(name)}: the student template would contain "
                f"{len(leaks)} line(s) of solution or hidden test, e.g. {leaks[0]!r}"
            )
        template = project.template(name)
        if check:
            committed = canonical(template) if template.is_file() else None
            if committed != template_text:
                raise BuildError(
                    f"{template}: out of date with its master {project.master(name)}; "
                    "run 'dlgrade build' and commit the result"
                )
        else:
            template.parent.mkdir(parents=True, exist_ok=True)
            template.write_text(template_text, encoding="utf-8")
        dist = project.dist(name)
        dist.mkdir(parents=True, exist_ok=True)
        (zip_path,) = (result / "autograder").glob("*.zip")
        package(zip_path, project.autograder_zip(name), name, project, template_text)
        solution = dist / f"{name}-solution.ipynb"
        shutil.copy(result / "autograder" / f"{name}.ipynb", solution)
        student = write_student_folder(dist / "student", name, template_text)
    return Built(name, template, project.autograder_zip(name), solution, student)


def write_student_folder(folder: Path, name: str, template_text: str) -> Path:
    """What a student downloads: the template, and its public tests as otter test files in
    ``tests/``, so that otter's own ``otter check NOTEBOOK`` works beside dlgrade's.

    Each public test there is worth one point: otter check divides by the points of the
    tests it runs, and the template's own are worth 0 (only hidden checks are graded).
    """
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "tests").mkdir(parents=True)
    (folder / f"{name}.ipynb").write_text(template_text, encoding="utf-8")
    tests = nbformat.reads(template_text, as_version=4).metadata.get("otter", {}).get("tests", {})
    for question, source in tests.items():
        checked = re.sub(r"@test_case\(points=0\b", "@test_case(points=1", source)
        (folder / "tests" / f"{question}.py").write_text(checked, encoding="utf-8")
    return folder


def otter_assigned(name: str, project: Project, folder: Path) -> Path:
    """Otter assign's own output for one assignment, in ``folder``: its ``student/``
    template and its native ``autograder/`` zip (hidden tests run in the student's kernel,
    which ``build`` replaces; the benchmarks time it as otter's baseline)."""
    stage = folder / name
    stage.mkdir(parents=True)
    shutil.copy(project.master(name), stage / f"{name}.ipynb")
    _stage_sources(stage, name, project)
    _otter_assign(stage / f"{name}.ipynb", stage / "out")
    return stage / "out"


def _stage_sources(stage: Path, name: str, project: Project) -> None:
    """What otter assign needs beside the master: the grader, a course folder holding this
    assignment only, and its reference only (never the other assignments' solutions)."""
    shutil.copytree(
        Path(__file__).resolve().parent,
        stage / "autograder",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copytree(
        project.folder(name),
        stage / "assignments" / name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "samples.py"),
    )
    (stage / "solutions").mkdir()
    for path in (project.root / "solutions" / "__init__.py", project.reference(name)):
        if path.is_file():
            shutil.copy(path, stage / "solutions")


def _otter_assign(master: Path, result: Path) -> None:
    try:
        from otter.assign import main as otter_assign
    except ImportError:
        raise MissingExtra("build", "dlgrade build (otter assign)") from None

    log = io.StringIO()
    with tempfile.TemporaryFile("w+") as kernel_log:
        try:
            with (
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
                _stderr_into(kernel_log),
                _course_variable(master.parent),
            ):
                otter_assign(str(master), str(result), no_pdfs=True)
        except Exception as error:
            kernel_log.seek(0)
            raise BuildError(
                f"{master.name}: otter assign failed: {error}\n"
                f"{(log.getvalue() + kernel_log.read())[-2000:]}"
            ) from error
    failed = [line for line in log.getvalue().splitlines() if "Test case failed" in line]
    if failed:
        raise BuildError(
            f"{master.name}: the master's own solutions fail {len(failed)} test(s):\n"
            + log.getvalue()[-3000:]
        )


@contextlib.contextmanager
def _stderr_into(file):
    """The process's standard error (file descriptor 2, which otter's kernel inherits)
    written into ``file`` meanwhile: the kernel's warnings are not the instructor's."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _course_variable(folder: Path):
    """``$DLGRADE_ROOT`` set to the staged course while otter assign runs the master's
    hidden tests in its kernel: they judge with this assignment's files only."""
    before = os.environ.get(COURSE_VARIABLE)
    os.environ[COURSE_VARIABLE] = str(folder)
    try:
        yield
    finally:
        if before is None:
            del os.environ[COURSE_VARIABLE]
        else:
            os.environ[COURSE_VARIABLE] = before


def with_contract(template_text: str, name: str, project: Project) -> str:
    """The template, naming in its metadata the functions the hidden checks call: what
    ``dlgrade validate`` checks on a student's machine, where no check is installed."""
    from .judging import plan_for

    notebook = nbformat.reads(template_text, as_version=4)
    functions = sorted(
        {call.function for call in plan_for(name, root=project.root) if not call.variable}
    )
    notebook.metadata["dlgrade"] = {"assignment": name, "functions": functions}
    return nbformat.writes(notebook) + "\n"


def canonical(path: Path) -> str:
    """A notebook as text, in nbformat's own layout, so equal notebooks compare equal: cell
    ids (nbformat ≥ 4.5), which otter assign draws at random, are numbered in order."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        if "id" in cell:
            cell.id = f"cell-{number}"
    return nbformat.writes(notebook) + "\n"


def secret_lines(name: str, project: Project) -> set[str]:
    """Lines that must never reach a student: the reference module, solution blocks and
    hidden tests of the master; not the lines the master itself shows students (a
    function's signature above its blank)."""
    reference = project.reference(name).read_text(encoding="utf-8")
    secrets = {line.strip() for line in reference.splitlines()}
    public: set[str] = set()
    for cell in master_cells(project.master(name)):
        if cell.kind != "code":
            continue
        if cell.block == "tests" and _CONFIG_HIDDEN.search(cell.source):
            secrets |= {line.strip() for line in cell.source.splitlines()}
            continue
        hidden = solution_lines(cell.source)
        secrets |= hidden
        if cell.block != "tests":
            public |= {line.strip() for line in cell.source.splitlines()} - hidden
    secrets -= public
    return {s for s in secrets if len(s) >= 12 and s not in _TRIVIAL and not s.startswith("#")}


def find_leaks(template_text: str, name: str, project: Project) -> list[str]:
    """Secret lines found in a template's code, markdown or metadata."""
    notebook = nbformat.reads(template_text, as_version=4)
    sources = [cell.source for cell in notebook.cells]
    tests = notebook.metadata.get("otter", {}).get("tests", {})
    sources += [str(test) for test in tests.values()]
    present = {line.strip() for text in sources for line in text.splitlines()}
    present |= {line.strip() for text in sources for line in text.replace("\\n", "\n").splitlines()}
    return sorted(secret_lines(name, project) & present)
