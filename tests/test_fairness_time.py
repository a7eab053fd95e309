"""A notebook whose cells or calls run too long loses only what they cost: the runner
interrupts them, as a student interrupts a kernel, and grades the rest."""

from __future__ import annotations

import re
import time

import nbformat
import pytest

from autograder.execution.plan import CELL_FILE, Interrupted, describe_exception
from autograder.execution.runner import TimeBudget
from autograder.messages import Message, render

from .conftest import correct_notebook, grade_notebooks

HANGS = {
    "busy": "while True:\n    pass",
    "sleeps": "import time\nfor _ in range(10**6):\n    time.sleep(1)",
    "catches_exception": "while True:\n    try:\n        sum(range(10**6))\n"
                         "    except Exception:\n        pass",
}  # fmt: skip


def with_cell(notebook: nbformat.NotebookNode, source: str, after: int) -> nbformat.NotebookNode:
    """``notebook`` with a code cell inserted after its ``after``-th code cell."""
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    notebook.cells.insert(code[after - 1] + 1, nbformat.v4.new_code_cell(source))
    return notebook


def test_a_cell_that_never_ends_costs_no_point(project, tmp_path):
    notebooks = {
        name: with_cell(correct_notebook(project, "backprop_miniconv"), source, after=2)
        for name, source in HANGS.items()
    }
    _, results = grade_notebooks("backprop_miniconv", notebooks, tmp_path)
    for name, result in results.items():
        assert result.status == "graded", name
        assert result.score == result.max_score, name
        assert "cellule 3" in result.message and "TimeoutError" in result.message, name


def test_a_function_that_never_returns_costs_only_its_own_checks(project, tmp_path):
    hang = "def sgd_epoch(*args, **kwargs):\n    while True:\n        pass"
    notebook = correct_notebook(project, "sgd_batch_size")
    notebook.cells.append(nbformat.v4.new_code_cell(hang))  # the last definition counts
    correct = correct_notebook(project, "sgd_batch_size")
    _, results = grade_notebooks("sgd_batch_size", {"hangs": notebook, "correct": correct},
                                 tmp_path)  # fmt: skip
    hangs, correct = results["hangs"], results["correct"]
    assert hangs.status == "graded" and 0 < hangs.score < correct.score == correct.max_score
    failed = [t for t in hangs.tests if not t.passed]
    assert failed and all("TimeoutError" in t.feedback for t in failed)


def test_a_notebook_that_swallows_the_interruption_meets_the_hard_limit(project, tmp_path):
    stubborn = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    notebook = with_cell(correct_notebook(project, "sgd_batch_size"), stubborn, after=1)
    _, results = grade_notebooks("sgd_batch_size", {"stubborn": notebook}, tmp_path)
    assert results["stubborn"].status == "timeout" and results["stubborn"].score == 0


def test_the_interruption_reads_in_english_too(project, tmp_path):
    notebook = with_cell(correct_notebook(project, "sgd_batch_size"), HANGS["busy"], after=1)
    _, results = grade_notebooks("sgd_batch_size", {"busy": notebook}, tmp_path, lang="en")
    message = results["busy"].message
    assert "stopped after" in message and "arrêté" not in message


def test_a_cell_that_takes_the_alarm_for_itself_loses_only_its_own_interruption(project, tmp_path):
    """A notebook may use SIGALRM (a home-made timeout): its handler lives in its cells,
    and the grader's own comes back for every later cell and call."""
    takes_alarm = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)"
    notebook = with_cell(correct_notebook(project, "backprop_miniconv"), HANGS["busy"], after=2)
    notebook = with_cell(notebook, takes_alarm, after=1)
    _, results = grade_notebooks("backprop_miniconv", {"alarm": notebook}, tmp_path)
    result = results["alarm"]
    assert result.status == "graded" and result.score == result.max_score
    assert "cellule 4" in result.message and "TimeoutError" in result.message


def test_an_interruption_says_whether_time_is_up_or_was_taken_before():
    """Not "arrêté après 0 s pour laisser du temps au reste" in the last cell: the words
    follow what happened."""

    def interrupted(seconds: float, steps: int) -> str:
        budget = TimeBudget(time.monotonic() + seconds, steps)
        with pytest.raises(Interrupted) as caught, budget.step():
            while True:
                pass
        return describe_exception(caught.value)

    assert interrupted(1.6, 2).endswith(
        "arrêté après 1 s, pour laisser du temps à la suite du notebook"
    )
    assert interrupted(1.2, 1).endswith("la limite de temps du notebook est atteinte")
    starved = interrupted(0.2, 1)
    assert "après 0 s" not in starved and "étapes précédentes" in starved
    assert "notebook's time limit is reached" in render(
        Message("raised", {"call": "f()", "error": interrupted(1.2, 1)}), "en"
    )


def test_an_interrupted_loop_is_placed_in_the_function_that_runs_it():
    """A loop that never ends in ``train``, interrupted while it runs ``forward``: the
    place said goes from the loop to the helper, not to the helper's cell alone."""
    cells = [
        "def forward(x):\n    return 2 * x\n",
        "def train(x):\n    while True:\n        x = forward(x) % 7\n",
    ]
    namespace: dict = {}
    for index, source in enumerate(cells):
        exec(compile(source, CELL_FILE.format(index + 1), "exec"), namespace)
    budget = TimeBudget(time.monotonic() + 0.3, 1)
    with pytest.raises(Interrupted) as caught, budget.step():
        namespace["train"](1)
    said = describe_exception(caught.value)
    chain = r"\(cellule 2, ligne [23] dans train( → cellule 1, ligne [12] dans forward)?\)$"
    assert re.search(chain, said)
    english = render(Message("raised", {"call": "train(1)", "error": said}), "en")
    assert re.search(r"\(cell 2, line [23] in train", english)


def test_a_call_with_a_limit_of_its_own_stops_there_and_leaves_the_rest_its_time():
    """``Call.seconds``: the call stops at its own limit, told as such (neither the
    notebook's time being up nor starved), and the steps after it keep their budget."""
    budget = TimeBudget(time.monotonic() + 30, 3)
    started = time.monotonic()
    with pytest.raises(Interrupted) as caught, budget.step(0.3):
        while True:
            pass
    assert 0.25 < time.monotonic() - started < 1.0
    assert not caught.value.last and not caught.value.starved
    with budget.step():  # the next step's alarm is the plan's, far away
        time.sleep(0.4)
    last = TimeBudget(time.monotonic() + 0.3, 1)
    with pytest.raises(Interrupted) as caught, last.step(5.0):  # a limit past the budget's end
        while True:
            pass
    assert caught.value.last  # the notebook's time is up, and the student is told so
