"""An assignment as its master notebook defines it: questions, points, and the checks behind them.

The master (otter-assign format) is the one place where questions and points are
written. Each hidden test cell calls ``verify(assignment, check_id, env)`` with its own
points, so both graders read the same weights from it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import yaml

from .course import AssignmentError, Project
from .judging import checks_for


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


_CONFIG = re.compile(r'^\s*"""\s*#\s*BEGIN TEST CONFIG(.*?)"""\s*#\s*END TEST CONFIG', re.S)


@cache
def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """Read the master notebook of ``name``; any inconsistency raises AssignmentError."""
    project = Project(root) if root else Project.default()
    path = project.master(name)
    if not path.is_file():
        raise AssignmentError(f"{path}: no master notebook for assignment {name!r}")
    notebook = nbformat.read(path, as_version=4)
    questions: list[Question] = []
    current: dict | None = None
    block = None
    for index, cell in enumerate(notebook.cells):
        where = f"{path}: cell {index}"
        source = cell.source.strip()
        if cell.cell_type == "raw" and source.startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(source.removeprefix("# BEGIN QUESTION")) or {}
            current = {"config": config, "checks": [], "prompt": [], "rubric": []}
        elif cell.cell_type == "raw" and source.startswith("# END QUESTION"):
            if current is None:
                raise AssignmentError(f"{where}: END QUESTION without BEGIN QUESTION")
            questions.append(_question(current, name, where))
            current = None
        elif cell.cell_type == "raw" and source.startswith("# BEGIN "):
            block = source.removeprefix("# BEGIN ").split()[0]
        elif cell.cell_type == "raw" and source.startswith("# END "):
            block = None
        elif current is not None and cell.cell_type == "markdown":
            if block == "SOLUTION":
                current["rubric"].append(cell.source)
            elif block is None:
                current["prompt"].append(cell.source)
        elif current is not None and cell.cell_type == "code" and block == "TESTS":
            scored = _hidden_check(cell.source, name, where, project.root)
            if scored:
                current["checks"].append(scored)
    if current is not None:
        raise AssignmentError(f"{path}: question {current['config'].get('name')} is not closed")
    return Assignment(name, path, tuple(questions))


def _question(current: dict, assignment: str, where: str) -> Question:
    config = current["config"]
    if "name" not in config:
        raise AssignmentError(f"{where}: a question has no name")
    manual = bool(config.get("manual", False))
    checks = tuple(current["checks"])
    points = float(config["points"]) if manual else sum(c.points for c in checks)
    if not manual and not checks:
        raise AssignmentError(f"{where}: question {config['name']} has no hidden check")
    return Question(
        config["name"],
        manual,
        points,
        checks,
        "\n\n".join(current["prompt"]),
        "\n\n".join(current["rubric"]),
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
