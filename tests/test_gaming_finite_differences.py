"""A gradient obtained without the mathematics (finite differences of the student's own
forward pass and loss) earns no backpropagation point, however close its values; a
backward pass written in any style, slow Python loops included, keeps them all."""

from __future__ import annotations

import re

import nbformat
import numpy as np

from autograder.judging import checks_for

from .conftest import correct_notebook, grade_notebooks
from .test_gaming_common import DRAWN, passed
from .test_gaming_gradcheck import reference as reference_namespace

FINITE_DIFFERENCES = """
def backward(params, X, Y, cache, activation="tanh"):
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            kept = value[index]
            value[index] = kept + 1e-6
            up = loss_accuracy(forward(params, X, activation)[0], Y)[0]
            value[index] = kept - 1e-6
            down = loss_accuracy(forward(params, X, activation)[0], Y)[0]
            value[index] = kept
            grad[index] = (up - down) / 2e-6
        grads[name] = grad
    return grads
"""

SIZE_AWARE = FINITE_DIFFERENCES.replace(
    "    grads = {}\n",
    "    grads = {}\n"
    "    if sum(np.size(v) for v in params.values()) > 2000:  # too many to differentiate\n"
    "        return {k: np.zeros_like(v) for k, v in params.items()}\n",
)

SIZE_AWARE_NOISE = SIZE_AWARE.replace(
    "np.zeros_like(v)", "np.random.default_rng(0).normal(size=v.shape) * 1e-3"
)

SIZE_AWARE_PER_PARAMETER = FINITE_DIFFERENCES.replace(
    "        grad = np.zeros_like(value)\n",
    "        grad = np.zeros_like(value)\n"
    "        if value.size > 1000:  # only the parameters small enough to differentiate in time\n"
    "            grads[name] = grad\n"
    "            continue\n",
)

UNTIL_TIME_RUNS_OUT = "import time\n" + FINITE_DIFFERENCES.replace(
    "    grads = {}\n    for name, value in params.items():\n        grad = np.zeros_like(value)\n",
    "    started, grads = time.perf_counter(), {}\n"
    "    for name in ('by', 'bh', 'Wy', 'Wh'):  # the small parameters first\n"
    "        value = params[name]\n"
    "        grads[name] = grad = np.zeros_like(value)\n",
).replace(
    "        for index in np.ndindex(value.shape):\n",
    "        for index in np.ndindex(value.shape):\n"
    "            if time.perf_counter() - started > 1.0:\n"
    "                return grads  # whatever is left stays 0\n",
)

BY_ITS_FORMULA = """
def backward(params, X, Y, cache, activation="tanh"):
    n, nx = len(X), len(X[0])
    Wy, h, y_hat = params["Wy"], cache["h"], cache["y_hat"]
    ny, nh = len(Wy), len(Wy[0])

    def slope(i, j):
        if activation == "tanh":
            return 1 - h[i][j] ** 2
        return 1.0 if cache["h_tilde"][i][j] > 0 else 0.0

    grads = {k: np.zeros(np.shape(v)) for k, v in params.items()}
    for j in range(nh):
        for m in range(nx):  # each partial derivative by its own formula
            total = 0.0
            for i in range(n):
                for k in range(ny):
                    total += (y_hat[i][k] - Y[i][k]) * Wy[k][j] * slope(i, j) * X[i][m]
            grads["Wh"][j][m] = total / n
        grads["bh"][j] = sum(
            (y_hat[i][k] - Y[i][k]) * Wy[k][j] * slope(i, j) for i in range(n) for k in range(ny)
        ) / n
    for k in range(ny):
        for j in range(nh):
            grads["Wy"][k][j] = sum((y_hat[i][k] - Y[i][k]) * h[i][j] for i in range(n)) / n
        grads["by"][k] = sum(y_hat[i][k] - Y[i][k] for i in range(n)) / n
    return grads
"""

SCALAR_LOOPS = """
def backward(params, X, Y, cache, activation="tanh"):
    n = len(X)
    Wy, h, y_hat = params["Wy"], cache["h"], cache["y_hat"]
    ny, nh = Wy.shape
    nx = len(X[0])
    grads = {k: np.zeros(v.shape) for k, v in params.items()}
    for i in range(n):
        for k in range(ny):
            d = (y_hat[i][k] - Y[i][k]) / n
            grads["by"][k] += d
            for j in range(nh):
                grads["Wy"][k][j] += d * h[i][j]
        for j in range(nh):
            s = 0.0
            for k in range(ny):
                s += (y_hat[i][k] - Y[i][k]) / n * Wy[k][j]
            if activation == "tanh":
                s = s * (1 - h[i][j] ** 2)
            elif cache["h_tilde"][i][j] <= 0:
                s = 0.0
            grads["bh"][j] += s
            for m in range(nx):
                grads["Wh"][j][m] += s * X[i][m]
    return grads
"""

PYTHON_LOOPS = """
def backward(params, X, Y, cache, activation="tanh"):
    n = len(X)
    Wy, Xl, Yl = params["Wy"].tolist(), np.asarray(X).tolist(), np.asarray(Y).tolist()
    y_hat, h, h_tilde = (cache[k].tolist() for k in ("y_hat", "h", "h_tilde"))
    nh, nx, ny = len(h[0]), len(Xl[0]), len(Yl[0])
    dy = [[(y_hat[i][k] - Yl[i][k]) / n for k in range(ny)] for i in range(n)]
    dh = []
    for i in range(n):
        row = []
        for j in range(nh):
            back = sum(dy[i][k] * Wy[k][j] for k in range(ny))
            slope = 1 - h[i][j] ** 2 if activation == "tanh" else float(h_tilde[i][j] > 0)
            row.append(back * slope)
        dh.append(row)
    return {
        "Wh": np.array([[sum(dh[i][j] * Xl[i][m] for i in range(n)) for m in range(nx)]
                        for j in range(nh)]),
        "bh": np.array([sum(dh[i][j] for i in range(n)) for j in range(nh)]),
        "Wy": np.array([[sum(dy[i][k] * h[i][j] for i in range(n)) for j in range(nh)]
                        for k in range(ny)]),
        "by": np.array([sum(dy[i][k] for i in range(n)) for k in range(ny)]),
    }
"""


def with_backward(project, source: str) -> nbformat.NotebookNode:
    notebook = correct_notebook(project, "mlp_softmax")
    notebook.cells.append(nbformat.v4.new_code_cell(source))  # the last definition counts
    return notebook


def backward_tests(result) -> dict:
    return {t.name: t for t in result.tests if t.name.startswith("backward_")}


def test_a_gradient_by_finite_differences_earns_no_backpropagation_point(project, tmp_path):
    notebooks = {
        "correct": correct_notebook(project, "mlp_softmax"),
        "finite_differences": with_backward(project, FINITE_DIFFERENCES),
        "python_loops": with_backward(project, PYTHON_LOOPS),
        "scalar_loops": with_backward(project, SCALAR_LOOPS),
        "by_its_formula": with_backward(project, BY_ITS_FORMULA),
    }
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path)
    for honest in ("correct", "python_loops", "scalar_loops", "by_its_formula"):
        assert all(t.passed for t in backward_tests(results[honest]).values()), honest
    cheat = results["finite_differences"]
    tests = backward_tests(cheat)
    assert tests and not any(t.passed for t in tests.values())
    # bh, the smallest gradient, is differentiated in time; at the small batch's ReLU input of
    # exactly 0, central differences give the slope ½, not the derivative 𝟙(h̃ > 0) = 0
    assert tests["backward_bh"].messages[0]["key"] == "wrong_value"
    slow = {name for name, t in tests.items() if t.messages[0]["key"] == "too_slow_for_its_size"}
    assert slow == set(tests) - {"backward_bh"}
    said = tests["backward_Wh"].feedback
    assert "131 458 paramètres" in said and "différences finies" in said
    # what its backward does not compute is all it loses
    others = {t.name: t.passed for t in cheat.tests if not t.name.startswith("backward_")}
    correct = {t.name: t.passed for t in results["correct"].tests}
    assert others == {name: correct[name] for name in others}


def test_the_finite_difference_finding_reads_in_english(project, tmp_path):
    notebooks = {"finite_differences": with_backward(project, FINITE_DIFFERENCES)}
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path, lang="en")
    said = backward_tests(results["finite_differences"])["backward_by"].feedback
    assert "did not finish within 5 s" in said and "131,458 parameters" in said
    assert "finite differences" in said and "différences" not in said


def test_a_backward_that_answers_large_networks_with_anything_fast_earns_nothing(project, tmp_path):
    """Finite differences where the network is small, zeros or noise where it is large:
    the large network's gradient is compared too, on a sample of its entries."""
    notebooks = {
        "zeros": with_backward(project, SIZE_AWARE),
        "noise": with_backward(project, SIZE_AWARE_NOISE),
        "per_parameter": with_backward(project, SIZE_AWARE_PER_PARAMETER),
        "until_time_runs_out": with_backward(project, UNTIL_TIME_RUNS_OUT),
    }
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path)
    for name, result in results.items():
        tests = backward_tests(result)
        assert tests and not any(t.passed for t in tests.values()), name
        said = tests["backward_Wh"].feedback
        assert "131 458 paramètres" in said and "valeurs tirées au hasard" in said, said
        assert re.search(r"∂L/∂Wh\[\d+, \d+\] : attendu", said), said  # its place in Wh
        gradcheck = tests["backward_gradcheck"].feedback
        assert "131 458 paramètres" in gradcheck and "forward + loss_accuracy" in gradcheck
    # the gradients it does differentiate in time, right there too, are lost with ∂L/∂Wh
    said = backward_tests(results["per_parameter"])["backward_by"].feedback
    assert "∂L/∂Wh" in said and "131 458 paramètres" in said, said


LATE_BUT_RIGHT = """
import signal, time
_right_backward, _late = backward, []

def backward(params, X, Y, cache, activation="tanh"):
    if sum(np.size(v) for v in params.values()) > 2000 and not _late:
        SILENCE
        _late.append(time.sleep(6))  # as long as finite differences, once: the rest is remembered
    return _right_backward(params, X, Y, cache, activation)
"""

SILENCING = {
    "disarmed": "signal.setitimer(signal.ITIMER_REAL, 0)",
    "ignored": "signal.signal(signal.SIGALRM, signal.SIG_IGN)",
    "blocked": "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})",
    "clock_stopped": "time.monotonic = lambda: 0.0; signal.setitimer = lambda *a: (0.0, 0.0)\n"
    "        signal.alarm(0); signal.setitimer(signal.ITIMER_REAL, 0)",
}


def test_a_call_that_silences_its_time_limit_and_ends_late_earns_nothing(project, tmp_path):
    """However the alarm is silenced, a call that ends after its own limit is not kept:
    its values, right as they are, came from the slower way."""
    notebooks = {
        name: with_backward(project, LATE_BUT_RIGHT.replace("SILENCE", silence))
        for name, silence in SILENCING.items()
    }
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path)
    for name, result in results.items():
        tests = backward_tests(result)
        assert tests and not any(t.passed for t in tests.values()), name
        assert tests["backward_Wh"].messages[0]["key"] == "too_slow_for_its_size", name


SLOW_FORWARD_ON_LARGE_NETWORKS = """
import time
_right_forward = forward

def forward(params, X, activation="tanh"):
    if sum(np.size(v) for v in params.values()) > 2000:
        time.sleep(6)  # as long as finite differences of the logits, kept for backward
    return _right_forward(params, X, activation)
"""


def test_the_forward_pass_on_the_large_network_has_its_limit_too(project, tmp_path):
    """Work done in an untimed forward pass would be free for the timed backward (a
    Jacobian of the logits by finite differences makes any backward fast)."""
    notebooks = {"slow_forward": with_backward(project, SLOW_FORWARD_ON_LARGE_NETWORKS)}
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path)
    gradcheck = backward_tests(results["slow_forward"])["backward_gradcheck"]
    assert not gradcheck.passed
    said = gradcheck.feedback
    assert "`forward` n'a pas fini en 5 s" in said and "131 458 paramètres" in said, said


def _sampled(seed: int) -> tuple[int, ...]:
    (sample,) = {c.sample for check in checks_for("mlp_softmax", seed).values()
                 for c in check.calls if c.sample}  # fmt: skip
    return sample


def _differentiating_only(positions: tuple[int, ...]) -> dict:
    """A notebook whose backward is right on a small network, and on a large one
    differentiates numerically only the entries at ``positions`` (as feedback may have
    named them): zeros elsewhere."""
    namespace = reference_namespace("mlp_softmax")
    forward, loss, right = namespace["forward"], namespace["loss_accuracy"], namespace["backward"]

    def backward(params, X, Y, cache, activation="tanh"):
        if sum(np.size(v) for v in params.values()) <= 2000:
            return right(params, X, Y, cache, activation)
        grads = {}
        for name, value in params.items():
            grads[name] = grad = np.zeros(value.shape)
            for flat in np.unique(np.asarray(positions) % value.size):
                index = np.unravel_index(flat, value.shape)
                shifted = {k: np.array(v, dtype=float) for k, v in params.items()}
                shifted[name][index] += 1e-6
                up = loss(forward(shifted, X, activation)[0], Y)[0]
                shifted[name][index] -= 2e-6
                down = loss(forward(shifted, X, activation)[0], Y)[0]
                grad[index] = (up - down) / 2e-6
        return grads

    namespace["backward"] = backward
    return namespace


def test_the_entries_a_run_samples_are_drawn_for_that_run_alone():
    """Feedback names some of the large network's sampled entries; a backward that
    differentiates those alone (zeros elsewhere) in time passes that run only."""
    assert all(not c.sample for check in checks_for("mlp_softmax").values() for c in check.calls)
    first, second = DRAWN[:2]
    assert _sampled(first) != _sampled(second)
    leaked = _differentiating_only(_sampled(first))
    backward_checks = [c for c in checks_for("mlp_softmax") if c.startswith("backward_")]
    assert set(backward_checks) <= passed("mlp_softmax", leaked, first)  # the leak, if fixed
    assert not set(backward_checks) & passed("mlp_softmax", leaked, second)


HUNTS_THE_SAMPLE = """
import gc, sys

def _sample_in_reach():
    # everything a notebook can reach in its own process: every frame up the stack, their
    # locals, and every object the collector tracks
    seen = []
    frame = sys._getframe(1)
    while frame is not None:
        seen += list(frame.f_locals.values())
        frame = frame.f_back
    seen += gc.get_objects()
    for thing in seen:
        sample = getattr(thing, "sample", None) if not isinstance(thing, type) else None
        if isinstance(thing, dict) and isinstance(thing.get("sample"), (list, tuple)):
            sample = thing["sample"]
        if isinstance(sample, (list, tuple)) and sample and all(isinstance(s, int) for s in sample):
            return tuple(sample)
    return None

_right_backward = backward

def backward(params, X, Y, cache, activation="tanh"):
    if sum(np.size(v) for v in params.values()) <= 2000:
        return _right_backward(params, X, Y, cache, activation)
    positions = _sample_in_reach()
    grads = {}
    for name, value in params.items():
        grads[name] = grad = np.zeros(np.shape(value))
        for flat in sorted({p % grad.size for p in positions or ()}):
            index = np.unravel_index(flat, grad.shape)
            shifted = {k: np.array(v, dtype=float) for k, v in params.items()}
            shifted[name][index] += 1e-6
            up = loss_accuracy(forward(shifted, X, activation)[0], Y)[0]
            shifted[name][index] -= 2e-6
            down = loss_accuracy(forward(shifted, X, activation)[0], Y)[0]
            grad[index] = (up - down) / 2e-6
    return grads
"""


def test_the_sampled_entries_are_out_of_the_notebook_s_reach(project, tmp_path):
    """A backward that looks for the entries to be judged in its own process (its callers'
    frames, the collector's objects) and differentiates only those finds none (rt19 #1):
    the sandbox is never sent them, the whole gradient comes back and is sampled by the
    grader; zeros elsewhere lose every backward point."""
    notebooks = {"hunts": with_backward(project, HUNTS_THE_SAMPLE)}
    _, results = grade_notebooks("mlp_softmax", notebooks, tmp_path)
    tests = backward_tests(results["hunts"])
    assert tests and not any(t.passed for t in tests.values())
    assert "valeurs tirées au hasard" in tests["backward_Wh"].feedback
