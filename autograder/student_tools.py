"""What a student runs before submitting: ``dlgrade validate`` and ``dlgrade check``.

Both run the notebook in the same sandbox as the grader. ``validate`` says whether it
runs from top to bottom, defines every function of the contract and belongs to the
right assignment. ``check`` runs the public tests (the ones ``grader.check`` runs) and
reports them in French or English.

A student waits for these commands, so this module imports only what they run: not the
master notebooks' reader (nbformat, YAML), and the checks only when ``validate`` has to
read the contract from them. Each command starts its sandbox first, then reads its
sentences (YAML) and imports NumPy (for the notebook's reader and the runner's answers):
the runner's own start-up, most of the wait, goes on beside this process's.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DlgradeError
from .messages import error_text, render, texts
from .notebook import InvalidNotebook, cell_reference, parse, read_notebook
from .sandbox import Limits, Sandbox, bubblewrap

if TYPE_CHECKING:
    from .execution.plan import Answer

LIMITS = Limits(wall_seconds=120, cpu_seconds=120)


@dataclass
class Report:
    ok: bool
    lines: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _started_sandbox() -> Iterator[Sandbox]:
    """A sandbox for one notebook, its runner started at once (without the font list a
    class's sandboxes build), before the caller reads its sentences and imports NumPy."""
    # A student's own machine holds no answers to hide: bubblewrap if it has it.
    with Sandbox(LIMITS, isolate=bubblewrap() is not None, font_list=False) as sandbox:
        sandbox.start()
        yield sandbox


def validate(notebook: Path, assignment: str | None = None, lang: str = "fr") -> Report:
    """Runs the notebook; lists cell errors, missing contract functions, a wrong assignment.

    Without ``assignment``, the one named in the notebook's metadata is checked.
    """
    with _readable(notebook, lang):
        content = notebook.read_bytes()
        data = read_notebook(content)
    metadata_name = _otter_metadata(data).get("assignment_name")
    metadata_name = metadata_name if isinstance(metadata_name, str) else None
    assignment = assignment or metadata_name
    if not assignment:
        from .course import AssignmentError

        message = texts("student", lang)["no_assignment"]
        raise AssignmentError(message.format(notebook=notebook))
    with _started_sandbox() as sandbox:
        t = texts("student", lang)
        from .execution.plan import Call, answers_from_json, plan_to_json, unavailable

        with _readable(notebook, lang):
            cells = parse(content, assignment)  # InvalidNotebook for another assignment
        functions = _contract_functions(data, assignment, notebook)
        # Calling each function with no argument tells "not defined" from "defined"
        # without running its body (every contract function has required arguments).
        plan = [Call(f"defined/{name}", name) for name in functions]
        reply = sandbox.run(cells, json.dumps(plan_to_json(plan)))
    report = Report(ok=True)
    report.lines.append(
        t["assignment_ok"].format(name=assignment) if metadata_name else t["assignment_unknown"]
    )
    errors = reply.get("cell_errors") or []
    report.ok = reply["status"] == "ok"
    report.lines += _execution_lines(reply, lang) or [t["runs"]]
    answers = answers_from_json(reply["answers"]) if reply.get("answers") else {}
    missing = [
        name
        for name in functions
        if f"defined/{name}" not in answers or unavailable(answers[f"defined/{name}"].error)
    ]
    report.lines += [t["missing"].format(name=name) for name in missing] or [t["defined"]]
    report.ok = report.ok and not errors and not missing
    report.lines.append(t["ready"].format(notebook=notebook) if report.ok else t["not_ready"])
    return report


def _contract_functions(data: dict, assignment: str, notebook: Path) -> list[str]:
    """The functions the assignment asks for: listed in the template's metadata by ``dlgrade
    build``; else, for an older template, read from the course's checks if there is one."""
    try:
        listed = data["metadata"]["dlgrade"]["functions"]
    except (KeyError, TypeError):
        listed = None
    if isinstance(listed, list) and listed and all(isinstance(f, str) for f in listed):
        return sorted(listed)
    from .course import AssignmentError
    from .judging import plan_for

    try:
        return sorted({call.function for call in plan_for(assignment)})
    except AssignmentError:
        raise AssignmentError(
            f"{notebook}: the notebook does not list the functions of {assignment!r}; "
            "start again from the template of the assignment"
        ) from None


class UnreadableNotebook(DlgradeError):
    """A notebook a student command cannot read or run: one line naming it and why, in the
    student's language (``reason`` keeps the ``InvalidNotebook``)."""

    def __init__(self, notebook: Path, reason: InvalidNotebook, lang: str):
        line = texts("student", lang)["unreadable"]
        super().__init__(line.format(notebook=notebook, reason=reason.render(lang)))
        self.reason = reason


@contextlib.contextmanager
def _readable(notebook: Path, lang: str) -> Iterator[None]:
    try:
        yield
    except InvalidNotebook as invalid:
        raise UnreadableNotebook(notebook, invalid, lang) from None
    except IsADirectoryError:
        raise UnreadableNotebook(notebook, InvalidNotebook("a_folder"), lang) from None
    except FileNotFoundError:
        raise UnreadableNotebook(notebook, InvalidNotebook("no_file"), lang) from None


def _otter_metadata(data: dict) -> dict:
    metadata = data.get("metadata")
    otter = metadata.get("otter") if isinstance(metadata, dict) else None
    return otter if isinstance(otter, dict) else {}


def check(notebook: Path, lang: str = "fr") -> Report:
    """Run the public tests stored in the notebook (otter metadata) after all its cells."""
    with _readable(notebook, lang):
        content = notebook.read_bytes()
        cells = parse(content)
    tests = _otter_metadata(read_notebook(content)).get("tests")
    tests = tests if isinstance(tests, dict) else {}
    with _started_sandbox() as sandbox:
        t = texts("student", lang)
        from .execution.plan import CELL_FILE, Call, answers_from_json, plan_to_json

        file = CELL_FILE.format(len(cells) + 1)
        cell, names = _public_tests_cell(_in_notebook_order(tests, cells), file)
        plan = [Call(name, name) for name in names]  # one call each: a hanging test is one
        reply = sandbox.run([*cells, cell], json.dumps(plan_to_json(plan)))
    answers = answers_from_json(reply["answers"]) if reply.get("answers") else {}
    lines = cell.splitlines()
    results = [_public_result(names[name], answers.get(name), lines, lang) for name in names]
    report = Report(ok=bool(results) and all(r["passed"] for r in results))
    report.lines += _execution_lines(reply, lang)
    for result in results:
        verdict = t["passed"] if result["passed"] else t["failed"]
        line = f"{result['question']} · {result['test']} : {verdict}"
        report.lines.append(line + (f" — {result['message']}" if result["message"] else ""))
    passed = sum(r["passed"] for r in results)
    report.lines += [t["summary"].format(passed=passed, total=len(results)), t["reminder"]]
    return report


def _execution_lines(reply: dict, lang: str) -> list[str]:
    """What went wrong while the cells ran, in the student's words: the run stopped (and
    where), then each cell that raised, so that a failing test can be traced to its cell."""
    t = texts("student", lang)
    status, lines = reply["status"], []
    if status == "timeout":
        cell = cell_reference((reply.get("last_cell") or 0) + 1, reply.get("last_cell_start"))
        lines.append(
            t["stopped_timeout"].format(seconds=f"{LIMITS.wall_seconds:g}", cell=render(cell, lang))
        )
    elif status == "memory":
        lines.append(t["stopped_memory"].format(megabytes=LIMITS.memory_bytes // 2**20))
    elif status != "ok":
        lines.append(t["stopped_error"].format(exit=reply.get("exit") or "?"))
    lines += [
        t["cell_error"].format(
            cell=render(cell_reference(error["cell"], error.get("start")), lang),
            error=error_text(error["error"], lang),
        )
        for error in reply.get("cell_errors") or []
    ]
    return lines


_CHECK_CELL = re.compile(r"""\.check\(\s*["']([^"']+)["']""")


def _in_notebook_order(tests: dict[str, str], cells: list[str]) -> dict[str, str]:
    """The public tests in the order of the notebook's ``grader.check("q…")`` cells (otter
    sorts its metadata by name: q14 would come before p2), the others after them."""
    order = [name for cell in cells for name in _CHECK_CELL.findall(cell) if name in tests]
    return {name: tests[name] for name in dict.fromkeys([*order, *tests])}


def _public_tests_cell(tests: dict[str, str], file: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """A cell (its code named ``file``) defining one function per public test of the
    notebook's otter metadata, each returning its result (``_PUBLIC_TEST``); and each
    function's question and test."""
    definitions: list[str] = []
    names: dict[str, tuple[str, str]] = {}
    for question, source in tests.items():
        try:
            body = ast.parse(source).body
        except (SyntaxError, TypeError, ValueError):  # metadata edited by hand: no such test
            continue
        for node in body:
            if isinstance(node, ast.FunctionDef):
                name, test = f"_dlgrade_{len(names)}", node.name
                node.decorator_list, node.name = [], f"{name}_test"
                definitions.append(ast.unparse(node))
                definitions.append(
                    _PUBLIC_TEST.format(name=name, question=question, test=test, file=file)
                )
                names[name] = (question, test)
    return "\n\n".join(definitions), names


# A failed test says its author's message; else the error with its type (a KeyError's
# text alone is a bare 'table') and the line of the test where it failed.
_PUBLIC_TEST = """def {name}():
    result = {{'question': {question!r}, 'test': {test!r}, 'passed': True, 'message': '', 'line': 0}}
    try:
        {name}_test(globals())
    except Exception as error:
        authored = type(error) is AssertionError and str(error)
        said = str(error) if type(error) is AssertionError else type(error).__name__ + ': ' + str(error)
        lines = [f.lineno for f in __import__('traceback').extract_tb(error.__traceback__) if f.filename == {file!r}]
        result.update(passed=False, message=said.strip()[:300], line=0 if authored or not lines else lines[-1])
    return result"""


def _public_result(
    test: tuple[str, str], outcome: Answer | None, cell: list[str], lang: str
) -> dict:
    """One public test's result; a test stopped by its time, or by an error that is no
    ``Exception``, failed with what stopped it (no outcome: the run ended before it).
    A failure without its author's message says the line of the test (in ``cell``, the
    lines of the public tests' cell) that failed."""
    value = outcome.value if outcome is not None and outcome.ok else None
    if isinstance(value, dict) and {"passed", "message"} <= value.keys():
        message, line = str(value["message"]), value.get("line")
        if value["passed"] is not True and type(line) is int and 0 < line <= len(cell):
            t = texts("student", lang)
            where = t["test_line"].format(line=cell[line - 1].strip()[:200])
            message = f"{message} ({where})" if message else where
        return {**value, "passed": value["passed"] is True, "message": message}
    error = error_text(outcome.error, lang) if outcome is not None else ""
    return {"question": test[0], "test": test[1], "passed": False, "message": error}
