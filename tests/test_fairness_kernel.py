"""Cells written for a Jupyter kernel (magics, shell lines, help, display, get_ipython)
run as they would in Jupyter, as far as grading needs: they cost no point and no error."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from autograder.execution import kernel
from autograder.pages import write_feedback
from autograder.sandbox import EXECUTION_PACKAGE

from .conftest import correct_notebook, grade_notebooks

JUPYTER_CELLS = [
    "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n!pip list\nnp.dot?\n?np.sum",
    "%%writefile helpers_mod.py\ndef double(x):\n    return 2 * x\n",
    "from helpers_mod import double\nassert double(2) == 4\ndisplay(double(3))",
    "%%time\nTIMED = 1",
    "%time TIMED2 = TIMED + 1\nassert TIMED2 == 2\n%timeit -n 3 TIMED + 1",
    "get_ipython().run_line_magic('config', \"InlineBackend.figure_format = 'retina'\")",
    "%%capture captured\nprint('hidden')\nCAPTURED = 1",
    "assert CAPTURED == 1\ncaptured.show()",
    "%%bash\necho hi\nexit 1",
    "files = !ls\nassert isinstance(files, list)",
]


def test_jupyter_syntax_costs_nothing(project, tmp_path):
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in JUPYTER_CELLS]
    _, results = grade_notebooks("sgd_batch_size", {"jupyter": notebook}, tmp_path)
    result = results["jupyter"]
    assert result.cell_errors == [], result.cell_errors
    assert result.status == "graded" and result.score == result.max_score


def test_a_contract_function_defined_under_a_cell_magic_is_graded(project, tmp_path):
    notebook = correct_notebook(project, "sgd_batch_size")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    defining = [cell for cell in code if "def " in cell.source]
    for cell in defining:
        cell.source = "%%time\n" + cell.source
    _, results = grade_notebooks("sgd_batch_size", {"timed": notebook}, tmp_path)
    assert results["timed"].score == results["timed"].max_score


def test_a_real_syntax_error_is_reported_as_python_says_it(project, tmp_path):
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells.append(nbformat.v4.new_code_cell("def broken(:\n    pass"))
    _, results = grade_notebooks("sgd_batch_size", {"broken": notebook}, tmp_path)
    errors = results["broken"].cell_errors
    assert len(errors) == 1 and errors[0]["error"].startswith("SyntaxError")
    assert "get_ipython" not in errors[0]["error"]


def test_a_function_name_rebound_to_a_value_is_said_so(project, tmp_path):
    notebook = correct_notebook(project, "backprop_miniconv")
    notebook.cells.append(nbformat.v4.new_code_cell("loss = loss(1.0, 0.5)"))
    _, results = grade_notebooks("backprop_miniconv", {"rebound": notebook}, tmp_path)
    failed = [t for t in results["rebound"].tests if not t.passed]
    assert failed and any("loss is not a function" in t.feedback for t in failed)
    assert not any("loss is not defined" in t.feedback for t in failed)


IPYTHON_FORMS = [
    "%matplotlib inline", "%%time\nx = 1", "x = !ls", "y = %time 1", "np.dot?", "?np.sum",
    "/print 1", ",print a b", ">>> x = 1\n>>> x", "In [1]: def f():\n   ...:     return 2", "    x = 1\n    y = 2",
    "\n  z = 3",
]  # fmt: skip


@pytest.mark.parametrize("source", IPYTHON_FORMS)
def test_each_form_of_ipython_syntax_is_translated(source):
    pytest.importorskip("IPython")
    with pytest.raises(SyntaxError):
        compile(source, "<cell>", "exec")
    kernel.compiled(source, "<cell>")


def _loads_ipython(source: str) -> bool:
    """Whether compiling ``source`` as a cell imports IPython, in a fresh interpreter."""
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(EXECUTION_PACKAGE.parent)!r})\n"
        "from execution import kernel\n"
        "try:\n"
        f"    kernel.compiled({source!r}, '<cell>')\n"
        "except SyntaxError:\n"
        "    pass\n"
        "print('IPython' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True)
    return run.stdout.strip() == "True"


def test_a_plain_syntax_error_does_not_load_ipython():
    """IPython takes a tenth of a second to import in each fresh child: a cell it could
    not translate does not pay for it."""
    pytest.importorskip("IPython")
    assert not _loads_ipython("def broken(:\n    pass")
    assert not _loads_ipython("print('%d' % 3")
    assert _loads_ipython("%matplotlib inline\nx = 1")


def test_a_syntax_error_in_a_cell_of_many_empty_lines_costs_that_cell_only(project, tmp_path):
    """Looking for IPython syntax stays linear in the cell's length, and translating a cell
    counts in its own time: the cells after it are run and graded (a red team's notebook
    used to stop the whole submission)."""
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells.insert(0, nbformat.v4.new_code_cell("\n" * 300_000 + "x x"))
    _, results = grade_notebooks("sgd_batch_size", {"blank_lines": notebook}, tmp_path)
    result = results["blank_lines"]
    assert result.status == "graded" and result.score == result.max_score, result.message
    assert [e["error"].split(":")[0] for e in result.cell_errors] == ["SyntaxError"]


def test_an_error_names_the_line_of_the_students_cell(project, tmp_path):
    """The line where the student looks: in their cell, not in Python's helper behind
    ``exit()`` nor in NumPy's code that a cell called."""
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells += [
        nbformat.v4.new_code_cell("x = 1\nexit()"),
        nbformat.v4.new_code_cell("import numpy as np\n\nnp.linalg.inv(np.zeros((2, 2)))"),
        nbformat.v4.new_code_cell("def half(x):\n    return x / 0"),
        nbformat.v4.new_code_cell("y = 2\nhalf(y)"),
        # the last definition counts: predict fails in the cell that defines it
        nbformat.v4.new_code_cell("def predict(w, x):\n    w = float(w)\n    return half(w)"),
    ]
    _, results = grade_notebooks("sgd_batch_size", {"lines": notebook}, tmp_path)
    errors = [error["error"] for error in results["lines"].cell_errors]
    assert len(errors) == 3
    assert errors[0].startswith("SystemExit") and errors[0].endswith("(ligne 2)")
    assert errors[1].startswith("LinAlgError: Singular matrix") and errors[1].endswith("(ligne 3)")
    # raised in the function's own cell, not on line 2 of the cell that calls it
    defined_in = len([c for c in notebook.cells if c.cell_type == "code"]) - 2
    assert errors[2].endswith(f"(cellule {defined_in}, ligne 2 dans half)"), errors[2]
    failed = {t.name: t.feedback for t in results["lines"].tests if not t.passed}
    assert f"(cellule {defined_in}, ligne 2 dans half)" in failed["predict_value"]


def test_an_error_names_its_cell_by_its_first_line(project, tmp_path):
    """Jupyter numbers no cell: the student finds "cellule 12" by the line it starts with."""
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells += [
        nbformat.v4.new_code_cell("# mes imports\n\n  from absent_module import softmax"),
        nbformat.v4.new_code_cell("# seulement un commentaire"),
        nbformat.v4.new_code_cell("1 / 0"),
    ]
    graded, results = grade_notebooks("sgd_batch_size", {"starts": notebook}, tmp_path)
    result = results["starts"]
    first, second = result.cell_errors
    assert (first["start"], second["start"]) == ("from absent_module import softmax", "1 / 0")
    assert f"cellule {first['cell']} « from absent_module import softmax »" in result.message
    assert second["cell"] == first["cell"] + 2
    write_feedback(graded.out)
    page = (graded.out / "feedback" / "starts.html").read_text(encoding="utf-8")
    assert f"Cellule {second['cell']} <code>1 / 0</code>" in page


def test_the_usual_companions_of_numpy_are_there_where_notebooks_are_graded(project, tmp_path):
    """SciPy's softmax, a tqdm progress bar, a Matplotlib plot: ordinary in a student's
    notebook, and what ``dlgrade check`` runs on the student's machine too."""
    notebook = correct_notebook(project, "mlp_softmax")
    notebook.cells += [
        nbformat.v4.new_code_cell("from scipy.special import softmax as _scipy_softmax\n"
                                  "def softmax(Z):\n    return _scipy_softmax(Z, axis=1)"),
        nbformat.v4.new_code_cell("from tqdm import tqdm\nfor _ in tqdm(range(3)):\n    pass"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"),
    ]  # fmt: skip
    _, results = grade_notebooks("mlp_softmax", {"companions": notebook}, tmp_path)
    result = results["companions"]
    assert result.cell_errors == [] and result.score == result.max_score
