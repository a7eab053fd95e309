"""The autograder zip of one assignment: otter's layout, dlgrade's engine inside.

Otter Assign writes a zip whose hidden tests run in the student's kernel, with every
file of ``autograder_files`` copied next to the submission. ``package`` rewrites it:

- ``files/`` holds only ``files/dlgrade``: the engine modules the grading step imports
  (found from the imports of ``otter_engine`` and ``otter_run``), this assignment's
  checks, master and reference, and ``public_tests.json`` (the template's public tests).
  No other assignment's checks, master or solutions.
- ``otter_config.json`` lists the plugin ``autograder.otter_run.DlgradePlugin``, which
  hands the submission to the engine (see ``otter_run``).
- ``run_otter.py`` (Gradescope, ``otter grade``) puts ``files/dlgrade`` on ``sys.path``
  before otter starts, so the plugin imports from the zip itself; ``otter run`` imports
  it from the installed ``dlgrade``.
- ``setup.sh`` also installs bubblewrap, and opens ``/root`` for traversal so that the
  user ``nobody`` can still load Python's modules when bubblewrap cannot run.
"""

from __future__ import annotations

import ast
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import nbformat

from .course import Project
from .otter_engine import PUBLIC_TESTS_FILE
from .otter_run import ENGINE_FOLDER, PLUGIN

ENGINE_ENTRY_POINTS = ("otter_engine.py", "otter_run.py")
ALWAYS_PACKAGED = ("execution",)  # the sandbox starts its runner from it by name
ENGINE_DATA = ("locale/*.yaml",)  # the sentences of the feedback, read by messages.py
ASSIGNMENT_FILES = ("checks.py", "mistakes.py", "standins.py", "feedback.yaml")
"""What the engine needs of the assignment's folder, besides its master (not the sample
mistakes of the demo class)."""
SETUP_ADDITION = """
# dlgrade: the submission runs in bubblewrap when the container allows namespaces, else
# as the user nobody, who must be able to traverse /root to load Python's own modules.
apt-get install -y bubblewrap || true
chmod 711 /root
"""


def package(otter_zip: Path, output: Path, name: str, project: Project, template_text: str) -> None:
    """Write ``output``: ``otter_zip`` with its files replaced by the engine of ``name``."""
    engine = engine_files(name, project.root)
    tests = public_tests(nbformat.reads(template_text, as_version=4))
    with (
        zipfile.ZipFile(otter_zip) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename.startswith("files/"):
                continue
            data = source.read(info)
            if info.filename == "otter_config.json":
                data = with_plugin(data, name)
            elif info.filename == "run_otter.py":
                data = run_otter_script(data)
            elif info.filename == "setup.sh":
                data = data.rstrip(b"\n") + b"\n" + SETUP_ADDITION.encode()
            target.writestr(info, data)
        prefix = f"files/{ENGINE_FOLDER}"
        for arcname, path in engine:
            target.write(path, f"{prefix}/{arcname}")
        target.writestr(f"{prefix}/{PUBLIC_TESTS_FILE}", json.dumps(tests, indent=1))


def with_plugin(config: bytes, name: str) -> bytes:
    """Otter's configuration with dlgrade's plugin, the only way grading happens."""
    data = json.loads(config)
    data["plugins"] = [{PLUGIN: {"assignment": name, "lang": "fr"}}]
    return json.dumps(data, indent=2).encode()


def run_otter_script(original: bytes) -> bytes:
    """Otter's ``run_otter.py``, with the zip's engine importable before otter starts."""
    match = re.search(rb'run_autograder\("([^"]+)"\)', original)
    autograder_dir = match.group(1).decode() if match else "/autograder"
    engine = f"{autograder_dir}/source/files/{ENGINE_FOLDER}"
    return (
        '"""Runs otter\'s autograding; dlgrade\'s plugin, imported from this zip, grades."""\n\n'
        "import sys\n\n"
        f"sys.path.insert(0, {engine!r})\n\n"
        "from otter.run.run_autograder import main as run_autograder  # noqa: E402\n\n"
        'if __name__ == "__main__":\n'
        f"    run_autograder({autograder_dir!r})\n"
    ).encode()


def engine_files(name: str, root: Path) -> list[tuple[str, Path]]:
    """(path in the engine folder, file) for everything the grading step of ``name`` needs:
    the framework's modules it imports, and this assignment's folder and reference only."""
    package_dir = Path(__file__).resolve().parent
    project = Project(root)
    folder = project.folder(name)
    own = [
        path
        for path in sorted(folder.iterdir())
        if path.name in ASSIGNMENT_FILES or path.name == project.master(name).name
    ]
    wanted = {package_dir / entry for entry in ENGINE_ENTRY_POINTS}
    for path in own:
        if path.suffix == ".py":
            wanted |= _local_imports(path, package_dir)
    for folder in ALWAYS_PACKAGED:
        wanted |= set((package_dir / folder).rglob("*.py"))
    queue = list(wanted)
    while queue:
        for found in _local_imports(queue.pop(), package_dir):
            if found not in wanted:
                wanted.add(found)
                queue.append(found)
    for pattern in ENGINE_DATA:
        wanted |= set(package_dir.glob(pattern))
    for path in list(wanted):
        for parent in path.relative_to(package_dir).parents:
            init = package_dir / parent / "__init__.py"
            if init.is_file():
                wanted.add(init)
    files = [
        (f"autograder/{p.relative_to(package_dir).as_posix()}", p)
        for p in sorted(wanted)
        if "__pycache__" not in p.parts
    ]
    files.append((f"solutions/{name}.py", project.reference(name)))
    files += [(f"assignments/{name}/{path.name}", path) for path in own]
    return files


def _local_imports(path: Path, package_dir: Path) -> set[Path]:
    """Files of the ``autograder`` package that ``path`` imports, at any depth of its code."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            parts = node.module.split(".") if node.module else []
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder"):
            base, parts = package_dir, node.module.split(".")[1:]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("autograder.")]
            found |= {m for n in names for m in _module_files(package_dir, n.split(".")[1:])}
            continue
        else:
            continue
        found |= _module_files(base, parts)
        for alias in node.names:
            found |= _module_files(base, [*parts, alias.name])
    return {p for p in found if package_dir in p.parents}


def _module_files(base: Path, parts: list[str]) -> set[Path]:
    target = base.joinpath(*parts)
    candidates = [target.with_suffix(".py"), target / "__init__.py"] if parts else []
    return {c for c in candidates if c.is_file()}


def public_tests(template: nbformat.NotebookNode) -> dict[str, list[dict[str, Any]]]:
    """The template's public test cases (what ``grader.check`` runs), ready to run as cells:
    each function without otter's decorator, and the call that otter would make."""
    tests: dict[str, list[dict[str, Any]]] = {}
    for question, source in template.metadata.get("otter", {}).get("tests", {}).items():
        cases = []
        for node in ast.parse(source).body:
            if not isinstance(node, ast.FunctionDef) or _is_hidden(node):
                continue
            node.decorator_list = []
            arguments = ", ".join(
                f"{a.arg}=globals()" if a.arg == "env" else f"{a.arg}=globals().get({a.arg!r})"
                for a in node.args.args
            )
            cases.append(
                {"name": node.name, "source": f"{ast.unparse(node)}\n\n{node.name}({arguments})"}
            )
        tests[question] = cases
    return tests


def _is_hidden(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "hidden" and isinstance(keyword.value, ast.Constant):
                    return bool(keyword.value.value)
    return False
