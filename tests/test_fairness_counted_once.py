"""One known mistake costs a question what its rubric line says, however many of the
question's checks it fails: a forgotten 1/n scales all four gradients of TP1's backward,
and a consistent student who drops the ½ of the loss and differentiates that loss
fails every component of Exercice 1's backward."""

from __future__ import annotations

import nbformat
import pytest

from autograder.judging import code
from autograder.mistakes import Failure, counted_once
from autograder.pages import write_feedback

from .conftest import correct_notebook, grade_notebooks

COSTS = {"scale": 2.0, "uncapped": None}


@pytest.mark.parametrize(
    ("failures", "kept"),
    [
        # four components of 1 point and a gradient check of 2 explained by one mistake
        ([Failure(1, "scale", False)] * 4 + [Failure(2, None, True)], 1 - 2 / 6),
        # already cheaper than its cost: nothing given back
        ([Failure(1, "scale", False)], None),
        # a failure the mistake does not explain: something else is wrong too
        ([Failure(1, "scale", False)] * 3 + [Failure(1, None, False)], None),
        # two different mistakes
        ([Failure(1, "scale", False)] * 3 + [Failure(1, "uncapped", False)], None),
        # a mistake without a cost, and a gradient check failing alone
        ([Failure(1, "uncapped", False)] * 4, None),
        ([Failure(2, None, True)], None),
    ],
)
def test_a_mistake_is_counted_once_only_when_it_explains_every_failure(failures, kept):
    given_back = counted_once(failures, COSTS)
    if kept is None:
        assert given_back is None
    else:
        assert given_back == pytest.approx(kept)


MISSING_1_OVER_N = """
_right_backward = backward
def backward(params, X, Y, cache, activation="tanh"):
    grads = _right_backward(params, X, Y, cache, activation)
    return {name: len(X) * g for name, g in grads.items()}
"""
AND_A_WRONG_WH = MISSING_1_OVER_N.replace(
    "for name, g in grads.items()}", "for name, g in grads.items()} | {'Wh': 0 * grads['Wh']}"
)


def with_cell(project, source: str):
    notebook = correct_notebook(project, "mlp_softmax")
    notebook.cells.append(nbformat.v4.new_code_cell(source))  # the last definition counts
    return notebook


def test_a_forgotten_one_over_n_costs_the_backward_question_its_rubric_line(project, tmp_path):
    cost = code("mlp_softmax").mistakes["missing_batch_mean"].cost
    notebooks = {
        "correct": correct_notebook(project, "mlp_softmax"),
        "missing": with_cell(project, MISSING_1_OVER_N),
        "and_wh": with_cell(project, AND_A_WRONG_WH),
    }
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path)
    full = results["correct"].questions["p2_backward"]
    assert full == (6.0, 6.0)
    missing = results["missing"]
    failed = [t for t in missing.tests if t.question == "p2_backward" and not t.passed]
    assert len(failed) == 5  # the four gradients and the gradient check
    assert missing.questions["p2_backward"] == (6.0 - cost, 6.0)
    assert missing.score == pytest.approx(results["correct"].score - cost)
    assert sum(t.score for t in missing.tests) == pytest.approx(missing.score)
    # with a second mistake the question is scored check by check, as before
    assert results["and_wh"].questions["p2_backward"] == (0.0, 6.0)

    write_feedback(tmp_path / "out")
    pages = tmp_path / "out" / "feedback"
    page = (pages / "missing.md").read_text(encoding="utf-8")
    assert "Gradients non divisés par n" in page
    assert "comptée une seule fois pour toute la question : 2 points en moins" in page
    assert "une seule fois" not in (pages / "and_wh.md").read_text(encoding="utf-8")
    assert "une seule fois" in (pages / "missing.html").read_text(encoding="utf-8")
