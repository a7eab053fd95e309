"""The corpus of notebooks written from CONTRACT.md alone (``tests/corpus/``), graded fairly.

Each corpus file ``<assignment>__<style>.py`` is a notebook (cells separated by ``# %%``)
whose comment ``# expect: {"wrong": [...], "mistake": "..."}`` lists the contract
functions that are genuinely wrong. Graded with the real grader (sandbox included):

- a notebook with nothing wrong gets full marks;
- a wrong function loses only the checks that judge it: a check judges the functions its
  calls test, the gradient check judges ``backward``;
- a misconception is named only where the corpus says something is wrong, and it is the
  mistake the file describes (``NAMED``); every mistake of ``NAMED`` is named.

The same assertions run in-process on several seeds (``test_corpus_is_fair_whatever_the_seed``),
since the drawn inputs change from one grading to the next.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import Check
from autograder.execution.plan import run_plan
from autograder.judging import checks_for, code, judge, plan_for

from .conftest import ASSIGNMENTS, grade_notebooks, notebook_with

CORPUS = Path(__file__).parent / "corpus"
SEED = 20_260_101
"""The seed of the real grading run (fixed, so that a failure can be reproduced)."""
SEEDS = (None, 3, 1234, 98_765)
SLIPS = re.compile(r"\{\w+\}|\(écart -\)|\bNone\b|\bUnsupported\b|Traceback")
"""What a feedback sentence never shows: a placeholder left unfilled, a gap with no
value, Python's None, a type name of the grader's own, a traceback."""


NAMED: dict[str, set[str]] = {
    # The mistake each file describes, as the catalogue names it (CONTRACT.md's list and
    # the assignments' mistakes.py). Files not listed here must still be graded fairly; a
    # name given to one of them is checked against the functions it marks as wrong.
    "backprop_miniconv__cache_keys_ascent": {"gradient_ascent"},
    "backprop_miniconv__forgot_relu_deriv": {"relu_derivative_missing"},
    "backprop_miniconv__loss_after_update": {"loss_after_update"},
    "backprop_miniconv__kink_w01_ge_zero_where": {"relu_derivative_at_zero"},
    "backprop_miniconv__kink_w02_heaviside_half_matmul": {"relu_derivative_at_zero"},
    "backprop_miniconv__kink_w03_central_diff": {"relu_derivative_at_zero"},
    "backprop_miniconv__kink_w04_forward_diff_lists": {"relu_derivative_at_zero"},
    "backprop_miniconv__loss_no_half_stop_threshold": {"loss_without_half"},
    "backprop_miniconv__one_path": {"weight_sharing_single_path"},
    "backprop_miniconv__patience_no_tol_guard": {"stops_with_tol_zero"},
    "backprop_miniconv__sign_error": {"error_sign"},
    "backprop_miniconv__stop_off_by_one": {"stops_one_iteration_late"},
    "backprop_miniconv__stop_tol_zero": {"stops_with_tol_zero"},
    "backprop_miniconv__w0_in_place": {"w0_modified_in_place"},
    "mlp_softmax__bias_double_n": {"bias_not_summed"},
    "mlp_softmax__bias_not_summed": {"bias_not_summed"},
    "mlp_softmax__drop_last_batch": {"last_batch_dropped"},
    "mlp_softmax__grad_logits_over_n": {"grad_logits_divided"},
    "mlp_softmax__missing_1n_grad": {"missing_batch_mean"},
    "mlp_softmax__missing_1n_loss": {"loss_not_averaged"},
    "mlp_softmax__sgd_ascent": {"gradient_ascent"},
    "mlp_softmax__softmax_axis0": {"softmax_wrong_axis"},
    "mlp_softmax__softmax_axis0_in_forward": {"softmax_wrong_axis"},
    "mlp_softmax__softmax_global_max": {"softmax_overflow"},
    "mlp_softmax__tanh_prime": {"tanh_derivative"},
    "mlp_softmax__unstable_softmax": {"softmax_overflow"},
    "sgd_batch_size__count_examples_sign": {"error_sign", "updates_counted_in_examples"},
    "sgd_batch_size__gradient_ascent": {"gradient_ascent"},
    "sgd_batch_size__leftover_batch": {"leftover_batch_used"},
    "sgd_batch_size__sheet_sign": {"error_sign"},
    # The sheet's x(y − ŷ) copied inline with w − αG: an update that climbs the gradient.
    "sgd_batch_size__sheet_sign_inline": {"gradient_ascent"},
    "sgd_batch_size__sum_inline": {"sum_instead_of_mean"},
    "sgd_batch_size__sum_not_mean": {"sum_instead_of_mean"},
}

NOT_DETECTED = {
    # Wrong by the letter of the contract, deliberately not caught (see the report):
    # H(0) = 1 instead of 0 differs only where a_k is exactly 0, which no input hits.
    "backprop_miniconv__relu_deriv_at_zero",
}


@dataclass(frozen=True)
class Notebook:
    stem: str
    assignment: str
    cells: list[str]
    wrong: frozenset[str]

    @property
    def student(self) -> str:
        return self.stem.split("__", 1)[1].replace("_", "-")


def corpus() -> list[Notebook]:
    notebooks = []
    for path in sorted(CORPUS.glob("*__*.py")):
        assignment = path.stem.split("__", 1)[0]
        if assignment not in ASSIGNMENTS:
            continue
        text = path.read_text(encoding="utf-8")
        expect = json.loads(re.search(r"#\s*expect:\s*(\{.*\})", text).group(1))
        cells = [c.strip("\n") for c in re.split(r"^# %%.*$", text, flags=re.M) if c.strip()]
        notebooks.append(Notebook(path.stem, assignment, cells, frozenset(expect["wrong"])))
    return notebooks


NOTEBOOKS = corpus()
pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no corpus in tests/corpus")


def judged_functions(check: Check) -> set[str]:
    """The contract functions a check judges: those its calls test (the gradient check
    judges backward, whatever forward and loss it also calls)."""
    if check.id == "backward_gradcheck":
        return {"backward"}
    return {call.function for call in check.calls}


def unfair(notebook: Notebook, failed: dict[str, str | None], seed: int | None) -> list[str]:
    """What is wrong with the grading of one notebook: failed checks of functions that are
    right, misconceptions named for the wrong reason."""
    checks = checks_for(notebook.assignment, seed)
    problems = [
        f"{check_id} fails, but judges {sorted(judged_functions(checks[check_id]))}, right"
        for check_id in failed
        if not judged_functions(checks[check_id]) & notebook.wrong
    ]
    named = {name for name in failed.values() if name}
    if notebook.stem in NAMED:
        expected = NAMED[notebook.stem]
        problems += [f"{name} is named, not the file's mistake" for name in named - expected]
        problems += [f"{name} is never named" for name in expected - named]
    elif named and not notebook.wrong:
        problems.append(f"{sorted(named)} named in a correct notebook")
    return problems


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, object]:
    """Every corpus notebook graded by the real grader, by stem."""
    results = {}
    for assignment in ASSIGNMENTS:
        mine = [n for n in NOTEBOOKS if n.assignment == assignment]
        if not mine:
            continue
        folder = tmp_path_factory.mktemp(f"corpus_{assignment}")
        notebooks = {n.student: notebook_with(n.cells, assignment) for n in mine}
        _, by_student = grade_notebooks(assignment, notebooks, folder, seed=SEED)
        results.update({n.stem: by_student[n.student] for n in mine})
    return results


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_corpus_notebook_is_graded_fairly(notebook, graded):
    result = graded[notebook.stem]
    assert result.status == "graded", result.message
    failed = {t.name: t.misconception for t in result.tests if not t.passed}
    if not notebook.wrong:
        assert result.score == result.max_score, failed
    assert unfair(notebook, failed, SEED) == []
    if notebook.wrong and notebook.stem not in NOT_DETECTED:
        assert failed, "a wrong function loses nothing"
    slips = {t.name: t.feedback for t in result.tests if SLIPS.search(t.feedback)}
    assert slips == {}, "feedback a student could not read as a sentence"


@pytest.mark.parametrize("seed", SEEDS)
def test_corpus_is_fair_whatever_the_seed(seed):
    """The corpus in-process (trusted test code), on the fixed inputs and drawn ones."""
    problems = {}
    for notebook in NOTEBOOKS:
        namespace: dict[str, object] = {"__name__": "__main__"}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for cell in notebook.cells:  # a broken cell is part of the corpus: the others run
                with contextlib.suppress(Exception):
                    exec(cell, namespace)
            standins = code(notebook.assignment).standins
            answers = run_plan(plan_for(notebook.assignment, seed=seed), namespace, standins)
            verdicts = {
                check_id: judge(notebook.assignment, check_id, answers, seed=seed)
                for check_id in checks_for(notebook.assignment, seed)
            }
        failed = {c: v.misconception for c, v in verdicts.items() if not v.passed}
        found = unfair(notebook, failed, seed)
        if found:
            problems[notebook.stem] = found
    assert problems == {}


def test_corpus_summary(graded, capsys):
    """How many notebooks, how many graded fairly (printed for the report)."""
    fair = [n.stem for n in NOTEBOOKS if not unfair(n, _failed(graded[n.stem]), SEED)]
    with capsys.disabled():
        print(f"\ncorpus: {len(NOTEBOOKS)} notebooks, {len(fair)} graded fairly")
    assert len(fair) == len(NOTEBOOKS)


def _failed(result) -> dict[str, str | None]:
    return {t.name: t.misconception for t in result.tests if not t.passed}
