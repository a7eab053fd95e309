"""A sample class, made from the student templates: correct, mistaken, blank and broken notebooks.

Correct notebooks get the reference code written into the template's blanks. Typical
mistakes are small textual mutations of that code, each expected to be named by the
grader with a known misconception id. The class is what the README's main command
grades, and what the tests and benchmarks measure the graders on.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .assignment import master_cells, solved_source
from .course import Project, SampleMistake

SOLUTION_TAG = "otter_assign_solution_cell"


@dataclass(frozen=True)
class SampleStudent:
    student_id: str
    kind: str  # "correct", a misconception id, "blank", "syntax_error", "not_json", "exits"
    # ("exits": its first cell ends the process; it is left out, the rest graded)
    path: Path


def reference_source(
    assignment: str, project: Project, mutation: SampleMistake | None = None
) -> str:
    source = (project.root / "solutions" / f"{assignment}.py").read_text(encoding="utf-8")
    if mutation is None:
        return source
    if source.count(mutation.old) != 1:
        raise ValueError(f"sample mistake {mutation.mistake}: {mutation.old!r} is not unique")
    return source.replace(mutation.old, mutation.new)


def master_answers(assignment: str, project: Project) -> list[str]:
    """The master's solution cells as a student who solved them would write them: otter's
    markers and the prompt block removed (used for blanks that define no function)."""
    return [
        solved_source(cell.source)
        for cell in master_cells(project.master(assignment))
        if cell.kind == "code" and cell.block == "solution"
    ]


def fill_template(
    template: nbformat.NotebookNode, source: str, answers: list[str] | None = None
) -> nbformat.NotebookNode:
    """The template with each blank function replaced by its code from ``source``;
    imports, constants and helpers go into the first blank cell. Blanks that define no
    function take the matching cell of ``answers`` (``master_answers``)."""
    notebook = nbformat.from_dict(json.loads(json.dumps(template)))
    module = ast.parse(source)
    functions = {
        node.name: ast.get_source_segment(source, node)
        for node in module.body
        if isinstance(node, ast.FunctionDef)
    }
    blanks = [c for c in notebook.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
    defined = {
        name for cell in blanks for name in _defined_functions(cell.source) if name in functions
    }
    helpers = [
        ast.get_source_segment(source, node)
        for node in module.body
        if not (isinstance(node, ast.FunctionDef) and node.name in defined)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    for index, cell in enumerate(blanks):
        names = [n for n in _defined_functions(cell.source) if n in functions]
        if not names:
            if answers and index < len(answers) and not _defined_functions(answers[index]):
                cell.source = answers[index]
            continue
        parts = ([*helpers] if index == 0 else []) + [functions[n] for n in names]
        cell.source = "\n\n\n".join(parts)
    return notebook


def _defined_functions(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def write_sample_class(
    out: Path, assignment: str, project: Project | None = None, size: int = 30
) -> list[SampleStudent]:
    """Write ``size`` notebooks for ``assignment`` into ``out``; returns who is who."""
    project = project or Project.default()
    template = nbformat.read(project.template(assignment), as_version=4)
    out.mkdir(parents=True, exist_ok=True)
    answers = master_answers(assignment, project)
    correct = fill_template(template, reference_source(assignment, project), answers)
    plan: list[tuple[str, nbformat.NotebookNode | bytes]] = []
    for mutation in project.code(assignment).samples:
        mistaken = fill_template(template, reference_source(assignment, project, mutation), answers)
        plan += [(mutation.mistake, mistaken)] * 2
    plan += [("blank", template)] * 3
    plan.append(("syntax_error", _with_syntax_error(correct)))
    plan.append(("not_json", b'{"cells": [ this is not JSON'))
    plan.append(("exits", _with_first_cell(correct, "import os\nos._exit(0)")))
    plan += [("correct", correct)] * max(size - len(plan), 0)
    students = []
    for number, (kind, content) in enumerate(plan[:size], start=1):
        student_id = f"{assignment[:3]}{number:03d}"
        path = out / f"{student_id}.ipynb"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
        students.append(SampleStudent(student_id, kind, path))
    (out / "roster_kinds.json").write_text(
        json.dumps({s.student_id: s.kind for s in students}, indent=1), encoding="utf-8"
    )
    return students


def _with_syntax_error(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    broken = nbformat.from_dict(json.loads(json.dumps(notebook)))
    first = next(c for c in broken.cells if SOLUTION_TAG in c.metadata.get("tags", []))
    first.source = first.source.replace("def ", "def (", 1)
    return broken


def _with_first_cell(notebook: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    changed = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = nbformat.v4.new_code_cell(source)
    if changed.nbformat_minor < 5:  # nbformat 4.4 has no cell ids
        cell.pop("id", None)
    changed.cells.insert(0, cell)
    return changed
