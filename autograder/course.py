"""Where an assignment lives: a course folder, one folder per assignment, discovered.

A course folder holds::

    assignments/<name>/<name>.ipynb   the master notebook (otter-assign format): questions,
                                      points, one hidden test cell per check
    assignments/<name>/checks.py      FIXED inputs, draw(rng), build(inputs, reference, tag)
    assignments/<name>/mistakes.py    MISTAKES: the known mistakes and their wrong variants
    assignments/<name>/standins.py    STANDINS: simple functions for judging training loops
                                      (optional; NumPy only: it runs in the sandbox)
    assignments/<name>/samples.py     SAMPLE_MISTAKES: mistakes written into the demo class
                                      (optional)
    assignments/<name>/feedback.yaml  how much feedback reveals, titles in other languages
                                      (optional)
    solutions/<name>.py               the reference: the single source of truth
    student_templates/<name>.ipynb    written by ``dlgrade build``
    dist/<name>/                      written by ``dlgrade build``

Nothing in the framework names an assignment: ``Project.names`` scans the folder, and
``Project.code`` loads and checks an assignment's Python files, naming the file and line
of any problem.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import DlgradeError
from .mistakes import Mistake

COURSE_VARIABLE = "DLGRADE_ROOT"
"""Environment variable naming the course folder (``dlgrade --course`` sets it)."""


class AssignmentError(DlgradeError, ValueError):
    """An assignment folder that does not describe a gradable assignment; the message names
    the file (and line) at fault."""


@dataclass(frozen=True)
class SampleMistake:
    """A mistake written into the sample class: ``old`` (found exactly once in the
    reference) replaced by ``new``; the grader should name ``mistake`` and take points
    from ``affected_checks`` only."""

    mistake: str
    old: str
    new: str
    affected_checks: tuple[str, ...]


@dataclass(frozen=True)
class AssignmentCode:
    """An assignment's Python files, loaded: what judging and the demo need."""

    name: str
    folder: Path
    checks: ModuleType
    reference: ModuleType
    mistakes: Mapping[str, Mistake]
    standins: Mapping[str, Callable[..., Any]]
    standins_source: str | None
    """The text of ``standins.py``: the sandbox runs it only for the calls that use it."""
    samples: tuple[SampleMistake, ...]


@dataclass(frozen=True)
class Project:
    """A course folder: masters, checks, references, templates, build outputs."""

    root: Path

    @classmethod
    def default(cls) -> Project:
        """``$DLGRADE_ROOT``; else the working folder or the nearest parent holding
        ``assignments/``; else the checkout this package lives in; else the working folder."""
        if os.environ.get(COURSE_VARIABLE):
            return cls(Path(os.environ[COURSE_VARIABLE]).resolve())
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if (folder / "assignments").is_dir():
                return cls(folder)
        checkout = Path(__file__).resolve().parent.parent
        if (checkout / "assignments").is_dir():
            return cls(checkout)
        return cls(here)

    def folder(self, name: str) -> Path:
        return self.root / "assignments" / name

    def master(self, name: str) -> Path:
        return self.folder(name) / f"{name}.ipynb"

    def reference(self, name: str) -> Path:
        return self.root / "solutions" / f"{name}.py"

    def template(self, name: str) -> Path:
        return self.root / "student_templates" / f"{name}.ipynb"

    def dist(self, name: str) -> Path:
        return self.root / "dist" / name

    def autograder_zip(self, name: str) -> Path:
        return self.dist(name) / "autograder.zip"

    def names(self) -> list[str]:
        """The course's assignments: the folders of ``assignments/`` holding their master."""
        folder = self.root / "assignments"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if self.master(p.name).is_file())

    def code(self, name: str) -> AssignmentCode:
        """The assignment's checks, reference, mistakes, stand-ins and samples, loaded once."""
        return _load(self.root, name)


def assignment_names() -> list[str]:
    """The assignments of the default course folder."""
    return Project.default().names()


@cache
def _load(root: Path, name: str) -> AssignmentCode:
    project = Project(root)
    folder = project.folder(name)
    if not project.master(name).is_file():
        known = ", ".join(project.names()) or "none"
        raise AssignmentError(
            f"{project.master(name)}: no assignment {name!r} in {root} (assignments: {known})"
        )
    package = f"dlgrade_course_{hashlib.sha1(str(root).encode()).hexdigest()[:10]}.{name}"
    checks = _module(folder / "checks.py", f"{package}.checks", required=("FIXED", "draw", "build"))
    reference = _module(project.reference(name), f"{package}.solution", required=())
    mistakes_module = _module(folder / "mistakes.py", f"{package}.mistakes", ("MISTAKES",))
    mistakes = _mistakes(folder / "mistakes.py", mistakes_module.MISTAKES, reference)
    standins_path = folder / "standins.py"
    standins: Mapping[str, Callable[..., Any]] = {}
    standins_source = None
    if standins_path.is_file():
        standins = _module(standins_path, f"{package}.standins", ("STANDINS",)).STANDINS
        standins_source = standins_path.read_text(encoding="utf-8")
    samples: tuple[SampleMistake, ...] = ()
    if (folder / "samples.py").is_file():
        samples = tuple(
            _module(
                folder / "samples.py", f"{package}.samples", ("SAMPLE_MISTAKES",)
            ).SAMPLE_MISTAKES
        )
        reference_text = project.reference(name).read_text(encoding="utf-8")
        for sample in samples:
            if sample.mistake not in mistakes:
                raise AssignmentError(
                    f"{where(folder / 'samples.py', sample.mistake)}: sample of unknown mistake "
                    f"{sample.mistake!r} (mistakes.py has {', '.join(mistakes) or 'none'})"
                )
            found = reference_text.count(sample.old)
            if found != 1:
                raise AssignmentError(
                    f"{where(folder / 'samples.py', sample.mistake)}: the text a sample of "
                    f"{sample.mistake!r} replaces is found {found} times in "
                    f"{project.reference(name)}, not once"
                )
    return AssignmentCode(
        name, folder, checks, reference, mistakes, standins, standins_source, samples
    )


def _module(path: Path, module_name: str, required: tuple[str, ...]) -> ModuleType:
    """Import the file at ``path``; an error in it names the file and line."""
    if not path.is_file():
        raise AssignmentError(f"{path}: missing (see `dlgrade new` for a complete assignment)")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise AssignmentError(
            f"{failing_line(path, error)}: {type(error).__name__}: {error}"
        ) from None
    missing = [attribute for attribute in required if not hasattr(module, attribute)]
    if missing:
        raise AssignmentError(f"{path}: defines no {', '.join(missing)}")
    return module


def _mistakes(path: Path, entries: Any, reference: ModuleType) -> dict[str, Mistake]:
    """The mistakes by id, each checked: unique, titled and explained in French, and its
    variants replacing only functions the reference defines."""
    functions = {n for n, v in vars(reference).items() if callable(v) and not n.startswith("_")}
    mistakes: dict[str, Mistake] = {}
    for entry in entries:
        if not isinstance(entry, Mistake):
            raise AssignmentError(f"{path}: MISTAKES holds {entry!r}, not a Mistake")
        if entry.id in mistakes:
            raise AssignmentError(f"{where(path, entry.id)}: mistake {entry.id!r} listed twice")
        if "fr" not in entry.title or "fr" not in entry.explanation or not entry.variants:
            raise AssignmentError(
                f"{where(path, entry.id)}: mistake {entry.id!r} needs a French title, a French "
                "explanation and at least one variant"
            )
        namespace = dict(vars(reference))
        for variant in entry.variants:
            replaced = set(variant(namespace, namespace)) - functions
            if replaced:
                raise AssignmentError(
                    f"{where(path, entry.id)}: a variant of {entry.id!r} replaces "
                    f"{', '.join(sorted(replaced))}, which the reference does not define"
                )
        mistakes[entry.id] = entry
    return mistakes


def failing_line(path: Path, error: BaseException) -> str:
    """``path:line`` where ``error`` was raised in ``path`` (else ``path``)."""
    if isinstance(error, SyntaxError) and error.lineno:
        return f"{path}:{error.lineno}"
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename) == path:
            return f"{path}:{frame.lineno}"
    return str(path)


def where(path: Path, text: str) -> str:
    """``path:line`` of the first line of ``path`` quoting ``text``, for error messages."""
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if f'"{text}"' in line or f"'{text}'" in line:
                return f"{path}:{number}"
    except OSError:
        pass
    return str(path)
