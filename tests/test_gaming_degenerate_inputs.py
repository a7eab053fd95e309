"""A drawn input is never so degenerate that a wrong function passes on it: a grade must
not depend on the run's secret seed."""

from __future__ import annotations

import pytest

from .test_gaming_common import passed, with_reference

SEEDS = (None, *range(40))

WRONG_LOSSES = {
    "mean_over_all_entries": (
        "def loss_accuracy(Y_hat, Y):\n"
        "    Y_hat, Y = np.asarray(Y_hat, float), np.asarray(Y, float)\n"
        "    L = -np.mean(Y * np.log(np.clip(Y_hat, 1e-12, None)))\n"
        "    return float(L), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))\n"
    ),
    "sum_not_mean": (
        "def loss_accuracy(Y_hat, Y):\n"
        "    Y_hat, Y = np.asarray(Y_hat, float), np.asarray(Y, float)\n"
        "    L = -np.sum(Y * np.log(np.clip(Y_hat, 1e-12, None)))\n"
        "    return float(L), float(np.mean(Y_hat.argmax(1) == Y.argmax(1)))\n"
    ),
}


@pytest.mark.parametrize("mistake", WRONG_LOSSES)
def test_a_wrong_loss_fails_the_saturated_rows_whatever_the_seed(mistake):
    namespace = with_reference("mlp_softmax", "import numpy as np", WRONG_LOSSES[mistake])
    for seed in SEEDS:
        assert not passed("mlp_softmax", namespace, seed, ["loss_accuracy_saturated"]), seed


def test_the_reference_passes_the_saturated_rows_whatever_the_seed():
    namespace = with_reference("mlp_softmax")
    for seed in SEEDS:
        assert passed("mlp_softmax", namespace, seed, ["loss_accuracy_saturated"]), seed
