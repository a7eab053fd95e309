"""What a notebook's cells find in the runner that a Jupyter kernel would give them.

Students write for IPython, not for plain Python: magics (``%matplotlib inline``,
``%%time``, ``%%writefile``), shell lines (``!pip list``), help (``np.dot?``),
``display(...)`` and ``get_ipython()``. A cell that plain Python cannot compile is
translated by IPython's own input transformer when IPython is installed (otherwise its
magic and shell lines are skipped), and the namespace holds a ``get_ipython()`` whose
magics do what matters for grading: ``%%time``, ``%%timeit``, ``%%capture`` and
``%time`` run their code, ``%%writefile`` writes its file, the others do nothing. As in
Jupyter, printing never fails: what goes past the output limit is dropped.
"""

from __future__ import annotations

import errno
import io
import os
import re
import sys
import types
from typing import Any

_MAGIC_LINE = re.compile(r"^([ \t]*)(?:[%!].*|\S.*\?\??[ \t]*)$", re.M)
_MAYBE_IPYTHON = re.compile(
    r"""^[ \t]*(?:[%!?/,;]|>>>|\.\.\.|In\ \[)  # an escape (magic, shell, help, autocall), a prompt
    | [?][ \t]*$                               # help at the end of a line
    | =[ \t]*[%!]                              # the result of a magic or a shell line
    | \A(?:[ \t]*\n)*[ \t]+\S                   # a cell indented as a whole""",
    re.M | re.X,
)
"""What IPython's transformer could translate: a cell with none of it that plain Python
rejects has a plain syntax error, and IPython (a tenth of a second to import in each
fresh child) is not loaded for it. Blanks are matched within a line only, so that the
search stays linear in a cell of many empty lines."""
RUN_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
"""Magics whose code runs (once) when a notebook is graded."""


def compiled(source: str, filename: str) -> types.CodeType:
    """The cell's code; IPython syntax translated when plain Python rejects it. A cell
    that is not valid IPython either raises the plain SyntaxError a student would see."""
    try:
        return compile(source, filename, "exec")
    except SyntaxError as error:
        if not _MAYBE_IPYTHON.search(source):
            raise
        try:
            return compile(_translated(source), filename, "exec")
        except SyntaxError:
            raise error from None


def _translated(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # without IPython: magic, shell and help lines are skipped
        return _MAGIC_LINE.sub(r"\1pass", source)
    return TransformerManager().transform_cell(source)


class Shell:
    """``get_ipython()`` in a graded notebook: enough of IPython's shell for the cells
    students write, and nothing that reaches outside the sandbox's working folder."""

    def __init__(self, namespace: dict[str, Any]):
        self.user_ns = namespace

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        if name in RUN_MAGICS:
            self._run(line)

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        if name == "writefile":
            words = line.split()
            paths = [word for word in words if not word.startswith("-")]
            if paths:
                with open(paths[-1], "a" if "-a" in words or "--append" in words else "w") as file:
                    file.write(cell)
        elif name in RUN_MAGICS:
            if name == "capture" and line.split():
                self.user_ns[line.split()[-1]] = _Captured()
            self._run(cell)

    def system(self, command: str) -> None:
        return None

    def getoutput(self, command: str) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

    def _run(self, code: str) -> None:
        try:
            compiled_code = compile(code, "<magic>", "exec")
        except SyntaxError:
            return  # options of %timeit (-n 10 …): timing only, nothing to grade
        exec(compiled_code, self.user_ns)


class _Captured:
    """What ``%%capture name`` binds: its output is not kept."""

    stdout = stderr = ""
    outputs: tuple[Any, ...] = ()

    def show(self) -> None:
        return None

    def __call__(self) -> None:
        return None


def display(*objects: Any, **options: Any) -> None:
    """IPython's ``display``: the text form of each object, on the output."""
    for value in objects:
        print(value)


class _Output(io.RawIOBase):
    """A kernel's output stream: what goes past the output limit (the file size limit of
    the file it writes to) is dropped, as Jupyter drops what floods its channel. Else
    the ``print`` that happens to fill the buffer past the limit fails, perhaps the one
    at the top of a later cell, and the functions that cell defines would be lost."""

    def __init__(self, fd: int):
        self.fd = fd
        self.full = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def write(self, data: Any) -> int:
        if not self.full:
            try:
                return os.write(self.fd, data)
            except OSError as error:
                if error.errno != errno.EFBIG:
                    raise
                self.full = True
        return memoryview(data).nbytes


def prepare(namespace: dict[str, Any], workdir: str) -> None:
    """A kernel's namespace, import path and output: ``get_ipython``, ``display``, the
    working folder importable (a module written by ``%%writefile``), ``import otter``
    harmless, ``print`` that never fails."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = io.TextIOWrapper(
            io.BufferedWriter(_Output(fd)),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=name == "stderr",
        )
        setattr(sys, name, stream)
    shell = Shell(namespace)
    namespace["get_ipython"] = lambda: shell
    namespace["display"] = display
    sys.path.insert(0, workdir)
    sys.modules["otter"] = otter_stand_in()


def otter_stand_in() -> types.ModuleType:
    """``import otter`` and ``grader.check(...)`` work in a submission and do nothing."""

    class Notebook:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    module = types.ModuleType("otter")
    module.Notebook = Notebook  # type: ignore[attr-defined]
    return module
