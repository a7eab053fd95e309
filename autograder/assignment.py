"""An assignment as its master notebook defines it: questions, points, and the checks behind them.

The master (otter-assign format) is the one place where questions and points are
written. Each hidden test cell calls ``verify(assignment, check_id, env)`` with its own
points, so both graders read the same weights from it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .course import AssignmentError, Project
from .judging import checks_for
from .notebook import InvalidNotebook, read_notebook


@dataclass(frozen=True)
class ScoredCheck:
    id: str
    points: float


@dataclass(frozen=True)
class Question:
    name: str
    manual: bool
    points: float
    checks: tuple[ScoredCheck, ...]
    prompt: str
    rubric: str


@dataclass(frozen=True)
class Assignment:
    name: str
    master: Path
    questions: tuple[Question, ...]

    @property
    def autograded(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if not q.manual)

    @property
    def check_ids(self) -> list[str]:
        return [c.id for q in self.autograded for c in q.checks]


_CONFIG = re.compile(r'^\s*"""\s*#\s*BEGIN TEST CONFIG(.*?)"""\s*#\s*END TEST CONFIG', re.S | re.I)
_BOUNDARY = re.compile(r"#\s+(begin|end)\s+(question|solution|tests|prompt)\b(.*)", re.I | re.S)
_FENCED = re.compile(r"^\s*```\s*otter\s*\n(.*?)\n\s*```\s*$", re.S)


@dataclass(frozen=True)
class MasterCell:
    """One cell of a master, with where it sits: the question it belongs to and the block
    (``solution``, ``tests`` or ``prompt``) it is in."""

    index: int
    kind: str  # "code", "markdown" or "raw"
    source: str
    question: Mapping[str, Any] | None  # the question's configuration, if inside one
    block: str | None


def master_cells(path: Path) -> list[MasterCell]:
    """The master's cells but otter's boundary cells, each with its question and block.

    Boundaries are read as otter assign reads them: a raw cell (or a Markdown cell holding
    an ``otter`` fenced block) whose first line is ``# BEGIN QUESTION``, ``# END TESTS``...,
    in any case. Boundaries out of order raise AssignmentError naming the cell.
    """
    try:
        notebook = read_notebook(path.read_bytes())
    except (OSError, InvalidNotebook) as error:
        raise AssignmentError(f"{path}: not a readable notebook ({error})") from None
    cells: list[MasterCell] = []
    question: dict[str, Any] | None = None
    block: str | None = None
    for index, cell in enumerate(notebook["cells"]):
        source, cell_type = cell["source"], cell["cell_type"]
        fenced = _FENCED.match(source) if cell_type == "markdown" else None
        boundary = _BOUNDARY.match((fenced.group(1) if fenced else source).strip())
        where = f"{path}: cell {index + 1}"
        if boundary and (cell_type == "raw" or fenced):
            begin, kind = boundary[1].lower() == "begin", boundary[2].lower()
            if kind == "question":
                if begin == (question is not None):
                    raise AssignmentError(
                        f"{where}: {'BEGIN QUESTION inside' if begin else 'END QUESTION outside'}"
                        " a question"
                    )
                question = _config(boundary[3], where) if begin else None
            else:
                if begin == (block is not None):
                    raise AssignmentError(f"{where}: {boundary[1]} {kind.upper()} out of order")
                block = kind if begin else None
            continue
        cells.append(MasterCell(index, cell_type, source, question, block))
    if question is not None:
        raise AssignmentError(f"{path}: question {question.get('name')} is not closed")
    return cells


def _config(text: str, where: str) -> dict[str, Any]:
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise AssignmentError(
            f"{where}: the question's configuration is not YAML ({error})"
        ) from None
    if not isinstance(config, dict) or not config.get("name"):
        raise AssignmentError(f"{where}: a question has no name")
    return config


@cache
def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """Read the master notebook of ``name``; any inconsistency raises AssignmentError, and a
    master that yields no question fails too."""
    project = Project(root) if root else Project.default()
    path = project.master(name)
    if not path.is_file():
        known = ", ".join(project.names()) or "none"
        raise AssignmentError(
            f"{path}: no assignment {name!r} in {project.root} (assignments: {known})"
        )
    parts: dict[str, dict[str, list]] = {}
    configs: dict[str, Mapping[str, Any]] = {}
    for cell in master_cells(path):
        if cell.question is None:
            continue
        question = cell.question["name"]
        configs[question] = cell.question
        part = parts.setdefault(question, {"checks": [], "prompt": [], "rubric": []})
        if cell.kind == "markdown" and cell.block == "solution":
            part["rubric"].append(cell.source)
        elif cell.kind == "markdown" and cell.block is None:
            part["prompt"].append(cell.source)
        elif cell.kind == "code" and cell.block == "tests":
            where = f"{path}: cell {cell.index + 1}"
            scored = _hidden_check(cell.source, name, where, project.root)
            if scored:
                part["checks"].append(scored)
    if not parts:
        raise AssignmentError(f"{path}: no question found (BEGIN QUESTION ... END QUESTION)")
    questions = tuple(
        _question(configs[q], part, f"{path}: question {q}") for q, part in parts.items()
    )
    assignment = Assignment(name, path, questions)
    unused = [c for c in checks_for(name, root=project.root) if c not in assignment.check_ids]
    if unused:
        raise AssignmentError(
            f"{path}: no hidden test runs the check(s) {', '.join(unused)} of "
            f"{project.folder(name) / 'checks.py'}: add a hidden test cell with their points, "
            "or remove them"
        )
    return assignment


def solution_lines(source: str) -> set[str]:
    """The lines of a code cell that otter removes from the template: inside ``# BEGIN
    SOLUTION`` … ``# END SOLUTION``, or ending with ``# SOLUTION``."""
    lines, inside = set(), False
    for line in source.splitlines():
        stripped = line.strip()
        if re.match(r"#\s*BEGIN SOLUTION", stripped, re.I):
            inside = True
        elif re.match(r"#\s*END SOLUTION", stripped, re.I):
            inside = False
        elif inside or re.search(r"#\s?SOLUTION( NO PROMPT)?$", stripped):
            lines.add(stripped)
    return lines


def solved_source(source: str) -> str:
    """A code cell as a student who solved it would write it: otter's markers and the
    prompt blocks removed, the solution kept."""
    kept, in_prompt = [], False
    for line in source.splitlines():
        if re.search(r"#\s*(BEGIN|END) PROMPT", line, re.I):
            in_prompt = bool(re.search(r"#\s*BEGIN PROMPT", line, re.I))
            continue
        if not in_prompt and not re.search(r"#\s*(BEGIN|END) SOLUTION|#\s?SOLUTION", line, re.I):
            kept.append(line)
    return "\n".join(kept)


def _question(config: Mapping[str, Any], part: dict[str, list], where: str) -> Question:
    manual = bool(config.get("manual", False))
    checks = tuple(part["checks"])
    if manual and not isinstance(config.get("points"), int | float):
        raise AssignmentError(f"{where}: a question graded by hand needs its 'points'")
    points = float(config["points"]) if manual else sum(c.points for c in checks)
    if not manual and not checks:
        raise AssignmentError(f"{where}: no hidden check")
    return Question(
        config["name"],
        manual,
        points,
        checks,
        "\n\n".join(part["prompt"]),
        "\n\n".join(part["rubric"]),
    )


def _hidden_check(source: str, assignment: str, where: str, root: Path) -> ScoredCheck | None:
    """The check a hidden test cell runs and its points; public cells (worth 0) give None."""
    match = _CONFIG.match(source)
    config = yaml.safe_load(match.group(1)) if match else {}
    hidden = bool(config.get("hidden", False)) or source.lstrip().startswith("# HIDDEN")
    points = config.get("points")
    if not hidden:
        if points != 0:
            raise AssignmentError(f"{where}: public tests must declare 'points: 0'")
        return None
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "verify"
    ]
    if len(calls) != 1 or not all(isinstance(a, ast.Constant) for a in calls[0].args[:2]):
        raise AssignmentError(f"{where}: a hidden test must call verify(assignment, check_id, env)")
    target, check_id = (a.value for a in calls[0].args[:2])
    if target != assignment:
        raise AssignmentError(f"{where}: verify() names assignment {target!r}, not {assignment!r}")
    if check_id not in checks_for(assignment, root=root):
        raise AssignmentError(f"{where}: unknown check {check_id!r} for {assignment}")
    if not isinstance(points, int | float) or points <= 0:
        raise AssignmentError(f"{where}: hidden test {check_id} needs positive 'points'")
    return ScoredCheck(check_id, float(points))
