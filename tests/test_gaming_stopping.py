"""Stopping criteria: any reasonable criterion the contract allows earns the three
stopping checks, whatever the seed; a rule that counts iterations, or that never looks
at the losses, does not."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from autograder.judging import code

from .independent import INDEPENDENT
from .test_gaming_common import (
    DRAWN,
    SEEDS,
    functions,
    namespace_of,
    passed,
    verdicts,
    with_reference,
)

MINICONV_TRAIN = ["train_weights", "train_losses"]
STOPPING = ["should_stop_limits", "should_stop_plateau", "should_stop_progress"]
Rule = Callable[[np.ndarray, float], bool]


def criterion(rule: Rule) -> Callable[[list, int, float], bool]:
    """``should_stop`` with the contract's fixed rules around the student's own ``rule``."""

    def should_stop(losses, max_iter, tol):
        if len(losses) >= max_iter:
            return True
        if tol <= 0 or len(losses) == 0:
            return False
        return bool(rule(np.asarray(losses, dtype=np.float64), tol))

    return should_stop


def relative_step(losses: np.ndarray, tol: float) -> bool:
    """The last update changed the loss by less than tol, relatively."""
    return len(losses) >= 2 and abs(losses[-1] - losses[-2]) <= tol * abs(losses[-2])


def relative_window(k: int) -> Rule:
    """The loss k iterations ago and now differ by less than tol, relatively."""
    return lambda losses, tol: (
        len(losses) > k and abs(losses[-1] - losses[-k - 1]) <= tol * abs(losses[-k - 1])
    )


def moving_average(window: int) -> Rule:
    """The mean of the last window and of the window before differ by less than tol."""

    def rule(losses, tol):
        if len(losses) < 2 * window:
            return False
        recent, before = losses[-window:].mean(), losses[-2 * window : -window].mean()
        return abs(before - recent) <= tol * abs(before)

    return rule


def patience(wait: int, relative: bool) -> Rule:
    """No improvement of the best loss by more than tol (or tol·best) for ``wait`` steps."""

    def rule(losses, tol):
        if len(losses) <= wait:
            return False
        best_before, best_recent = losses[:-wait].min(), losses[-wait:].min()
        return best_before - best_recent <= (tol * abs(best_before) if relative else tol)

    return rule


def smoothed(beta: float) -> Rule:
    """An exponential moving average of the loss that no longer moves (relatively)."""

    def rule(losses, tol):
        average = previous = losses[0]
        for value in losses[1:]:
            previous, average = average, beta * average + (1 - beta) * value
        return len(losses) >= 2 and abs(average - previous) <= tol * abs(previous)

    return rule


def no_longer_falls(losses: np.ndarray, tol: float) -> bool:
    """The loss went up or stayed put at the last iteration."""
    return len(losses) >= 2 and losses[-1] >= losses[-2] - tol * abs(losses[-2])


def flat_trend(window: int) -> Rule:
    """The slope of a line fitted to the last window is negligible against its mean."""

    def rule(losses, tol):
        if len(losses) < window:
            return False
        slope = np.polyfit(np.arange(window), losses[-window:], 1)[0]
        return abs(slope) * window <= tol * abs(losses[-window:].mean())

    return rule


LEGITIMATE: dict[str, Callable[[list, int, float], bool]] = {
    "reference": code("backprop_miniconv").reference.should_stop,
    "independent": namespace_of(INDEPENDENT["backprop_miniconv"])["should_stop"],
    "relative_step": criterion(relative_step),
    "relative_window_100": criterion(relative_window(100)),
    "moving_average_10": criterion(moving_average(10)),
    "moving_average_250": criterion(moving_average(250)),
    "patience_400_absolute": criterion(patience(400, relative=False)),
    "patience_20_relative": criterion(patience(20, relative=True)),
    "smoothed_0.9": criterion(smoothed(0.9)),
    "smoothed_0.99": criterion(smoothed(0.99)),
    "no_longer_falls": criterion(no_longer_falls),
    "flat_trend_200": criterion(flat_trend(200)),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", LEGITIMATE)
def test_a_legitimate_criterion_earns_every_stopping_check(name, seed):
    namespace = functions(should_stop=LEGITIMATE[name])
    assert passed("backprop_miniconv", namespace, seed, STOPPING) == set(STOPPING)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("name", LEGITIMATE)
def test_a_loop_asking_a_legitimate_criterion_stops_on_the_plateau(name, seed):
    """Every criterion the contract allows stops the training run on a plateau before its
    cap: the loop that asks it earns the stopping check of train."""
    namespace = with_reference("backprop_miniconv")
    namespace["should_stop"] = LEGITIMATE[name]
    assert passed("backprop_miniconv", namespace, seed, ["train_stops"]) == {"train_stops"}


DEGENERATE_TRAINS = {
    "nothing_recorded": lambda X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6: (W0, []),
    "one_loss": lambda X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6: (W0, [0.5]),
    "made_up_losses": lambda X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6: (W0, [1.0] * 9),
    "weights_lost": lambda X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6: (0 * W0, [0.5] * 9),
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("name", DEGENERATE_TRAINS)
def test_a_train_that_returns_without_training_does_not_earn_the_stopping_check(name, seed):
    """... and its feedback says where it stopped, not that it ran to its cap (rt18 #4)."""
    namespace = with_reference("backprop_miniconv")
    namespace["train"] = DEGENERATE_TRAINS[name]
    verdict = verdicts("backprop_miniconv", namespace, seed, ["train_stops"])["train_stops"]
    assert not verdict.passed
    steps = len(DEGENERATE_TRAINS[name](None, None, np.zeros(4), None, None)[1])
    message = verdict.messages[0].render("fr")
    assert f"s'arrête à l'itération {steps} " in message and "600" not in message


BLIND_STOP = """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    for step in range(max_iter):
        if tol > 0 and step >= {stop}:
            break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
"""


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("stop", ["2", "20", "100", "599", "max_iter // 2", "max_iter - 1"])
def test_a_loop_that_stops_after_a_count_of_its_own_loses_the_stopping_check(stop, seed):
    """Stopping after a number of steps fixed in advance whenever tol > 0, whatever the
    losses, lands inside the plateau's window; the run whose loss falls steadily to its cap
    shows it (rt18 #3), and the feedback says the loss was still falling. Its weights and
    losses with tol = 0 keep their points."""
    namespace = with_reference("backprop_miniconv", BLIND_STOP.format(stop=stop))
    found = verdicts("backprop_miniconv", namespace, seed, [*MINICONV_TRAIN, "train_stops"])
    assert {check for check, verdict in found.items() if verdict.passed} == set(MINICONV_TRAIN)
    [message, where] = found["train_stops"].messages
    assert message.key == "stops_while_falling"
    assert "baisse encore de plusieurs pour cent" in message.render("fr")
    assert "tol = 1e-09" in where.render("fr")


def counting(count: int) -> Callable[[list, int, float], bool]:
    """Stops after ``count`` iterations, whatever the losses (and obeys the fixed rules)."""
    return criterion(lambda losses, tol: len(losses) >= count)


COUNTS = (1, 10, 100, 299, 300, 500, 501, 1000, 1500, 2000, 2500, 5000, 10**7)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_bare_iteration_count_earns_nothing(seed):
    for count in (300, *COUNTS):
        namespace = functions(should_stop=lambda losses, max_iter, tol, n=count: len(losses) >= n)
        assert passed("backprop_miniconv", namespace, seed, STOPPING) == set(), count


@pytest.mark.parametrize("seed", SEEDS)
def test_an_iteration_count_within_the_fixed_rules_earns_only_those(seed):
    for count in COUNTS:
        namespace = functions(should_stop=counting(count))
        found = passed("backprop_miniconv", namespace, seed, STOPPING)
        assert found == {"should_stop_limits"}, count


GAMING: dict[str, Rule] = {
    "never": lambda losses, tol: False,
    "always": lambda losses, tol: True,
    "whole_history_flat": lambda losses, tol: bool(np.ptp(losses) == 0),
    "back_to_the_first_loss": lambda losses, tol: losses[-1] == losses[0],
    "loss_below_tol": lambda losses, tol: losses[-1] < tol,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", GAMING)
def test_a_rule_that_does_not_detect_a_plateau_earns_only_the_fixed_rules(name, seed):
    namespace = functions(should_stop=criterion(GAMING[name]))
    assert passed("backprop_miniconv", namespace, seed, STOPPING) == {"should_stop_limits"}


@pytest.mark.parametrize("seed", DRAWN)
def test_lengths_learnt_from_the_fixed_sequences_earn_nothing_new(seed):
    """Stop exactly at the lengths of the fixed plateaus: right on fixed inputs only (and
    not even on all of them: a fixed falling control is as long as a fixed plateau)."""
    FIXED = code("backprop_miniconv").checks.FIXED
    plateaus = {
        len(stop.losses) for stop in FIXED.stop_plateau + FIXED.stop_progress if stop.expected
    }
    namespace = functions(should_stop=criterion(lambda losses, tol: len(losses) in plateaus))
    assert "should_stop_progress" in passed("backprop_miniconv", namespace, None, STOPPING)
    assert passed("backprop_miniconv", namespace, seed, STOPPING) == {"should_stop_limits"}


@pytest.mark.parametrize("seed", SEEDS)
def test_ignoring_tol_zero_or_max_iter_loses_the_fixed_rules(seed):
    plateau = moving_average(50)
    ignores_tol = functions(
        should_stop=lambda losses, max_iter, tol: (
            len(losses) >= max_iter or plateau(np.asarray(losses, dtype=float), 1e-6)
        )
    )
    ignores_max_iter = functions(
        should_stop=lambda losses, max_iter, tol: (
            tol > 0 and plateau(np.asarray(losses, dtype=float), tol)
        )
    )
    for namespace in (ignores_tol, ignores_max_iter):
        assert "should_stop_limits" not in passed("backprop_miniconv", namespace, seed, STOPPING)


AS_AN_IF_READS_IT = {
    "none_for_false": lambda decided: True if decided else None,
    "one_entry_array": lambda decided: np.array([decided]),
    "numpy_bool": np.bool_,
    "zero_or_one": int,
}


@pytest.mark.parametrize("shape", AS_AN_IF_READS_IT)
def test_a_decision_is_read_as_the_loop_s_if_reads_it(shape):
    """None for False, or a one-entry array, decide as True/False do in the student's own
    loop: one rule for every return type (rt18 #6); two entries decide nothing."""
    right = with_reference("backprop_miniconv")["should_stop"]
    namespace = with_reference("backprop_miniconv")
    namespace["should_stop"] = lambda *args: AS_AN_IF_READS_IT[shape](right(*args))
    assert passed("backprop_miniconv", namespace, None, STOPPING) == set(STOPPING)
    namespace["should_stop"] = lambda *args: np.array([right(*args)] * 2)
    assert passed("backprop_miniconv", namespace, None, STOPPING) == set()
