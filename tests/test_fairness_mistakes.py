"""Mistakes recognised by what they do, whichever way they are written, and contract
violations the notebook asks students to avoid (W0 modified in place) reported at a fair
cost: only the check of the weights, and only where the contract forbids it."""

from __future__ import annotations

import pytest

from autograder.judging import checks_for

from .test_gaming_common import DRAWN, SEEDS, verdicts, with_reference


def failed_and_named(assignment: str, seed, *cells: str) -> tuple[set[str], set[str]]:
    found = verdicts(assignment, with_reference(assignment, *cells), seed)
    failed = {c for c, v in found.items() if not v.passed}
    return failed, {v.misconception for v in found.values() if v.misconception}


MLP_BACKWARD = """
def backward(params, X, Y, cache, activation="tanh"):
    n = X.shape[0]
    dy = (cache["y_hat"] - Y) / n
    slope = {slope}
    dh = (dy @ params["Wy"]) * slope
    return {{"Wy": dy.T @ cache["h"], "by": {by}, "Wh": dh.T @ X, "bh": {bh}}}
"""
RIGHT_SLOPE = '1 - cache["h"] ** 2 if activation == "tanh" else (cache["h_tilde"] > 0)'

EVERY_EPOCH = {
    "sgd_epoch_nb1",
    "sgd_epoch_nb2",
    "sgd_epoch_nb4",
    "sgd_epoch_leftover",
    "sheet_table",
}
"""An epoch loop wrong for any batch size, next to the reference's table of results: the
table is then not what the notebook's own loop gives."""

SGD_EPOCH = """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    w, n_updates = w0, 0
    for start in range(0, len(X) - batch_size + 1, batch_size):
        xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
        {update}
        n_updates += {counted}
    return w, n_updates
"""

MLP_TRAIN = """
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    {before}
    for _ in range(epochs):
        {each_epoch}
        for s in range(0, len(X), batch_size):
            b = {batch}
            _, cache = forward(params, X[b], activation)
            params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
"""

MLP_RIGHT_TRAIN = MLP_TRAIN.format(
    before="pass", each_epoch="perm = rng.permutation(len(X))", batch="perm[s:s + batch_size]"
)
"""The contract's loop, to be made wrong in one place."""

MINICONV_TRAIN = """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while not should_stop(losses, max_iter, tol):
        {iteration}
    return W, losses
"""

VARIANTS = {
    # (assignment, cells, failed checks, named mistake)
    "updates_counted_in_examples": (
        "sgd_batch_size",
        [SGD_EPOCH.format(update="w = w - alpha * batch_gradient(w, xb, yb)", counted="len(xb)")],
        EVERY_EPOCH - {"sgd_epoch_nb1"},  # one example per batch: the count is right
        "updates_counted_in_examples",
    ),
    "gradient_at_w0": (
        "sgd_batch_size",
        [SGD_EPOCH.format(update="w -= alpha * batch_gradient(w0, xb, yb)", counted="1")],
        EVERY_EPOCH,
        "gradient_at_w0",
    ),
    "learning_rate_twice": (
        "sgd_batch_size",
        [
            SGD_EPOCH.format(
                update="step = alpha * batch_gradient(w, xb, yb); w -= alpha * step", counted="1"
            )
        ],
        EVERY_EPOCH,
        "learning_rate_twice",
    ),
    "mean_over_all_examples": (
        "sgd_batch_size",
        [
            SGD_EPOCH.format(
                update="w = w - alpha * np.sum(-xb * (yb - w * xb)) / len(X)", counted="1"
            )
        ],
        EVERY_EPOCH,
        "mean_over_all_examples",
    ),
    "x_sorted_in_place": (
        "sgd_batch_size",
        [
            SGD_EPOCH.format(
                update="w = w - alpha * batch_gradient(w, xb, yb)", counted="1"
            ).replace("    w, n_updates = w0, 0", "    w, n_updates = w0, 0\n    X.sort()")
        ],
        EVERY_EPOCH,
        "examples_sorted",
    ),
    "pairs_sorted_by_x_inline": (
        "sgd_batch_size",
        [
            """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    order = np.argsort(X)
    X, Y = X[order], Y[order]
    w = w0
    for b in range(len(X) // batch_size):
        xb, yb = X[b * batch_size:(b + 1) * batch_size], Y[b * batch_size:(b + 1) * batch_size]
        w = w - alpha * np.mean(-xb * (yb - w * xb))
    return w, len(X) // batch_size
"""
        ],
        EVERY_EPOCH,
        "examples_sorted",
    ),
    "x_and_y_each_sorted": (
        "sgd_batch_size",
        [
            SGD_EPOCH.format(update="w -= alpha * batch_gradient(w, xb, yb)", counted="1").replace(
                "X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)",
                "X, Y = np.sort(X), np.sort(Y)",
            )
        ],
        EVERY_EPOCH,
        "examples_sorted",
    ),
    "gradient_in_the_order_backpropagation_meets_it": (
        "backprop_miniconv",
        [
            """
def backward(W, x, y):
    w1, w2, v1, v2 = W
    a1, a2 = w1 * x[0] + w2 * x[1], w1 * x[1] + w2 * x[2]
    o1, o2 = max(a1, 0.0), max(a2, 0.0)
    dy = -(y - (v1 * o1 + v2 * o2))
    da1, da2 = dy * v1 * (a1 > 0), dy * v2 * (a2 > 0)
    return np.array([dy * o1, dy * o2, da1 * x[0] + da2 * x[1], da1 * x[1] + da2 * x[2]])
"""
        ],
        {"backward_dw1", "backward_dw2", "backward_dv1", "backward_dv2", "backward_gradcheck"},
        "gradient_order",
    ),
    "bias_averaged": (
        "mlp_softmax",
        [MLP_BACKWARD.format(slope=RIGHT_SLOPE, by="dy.mean(axis=0)", bh="dh.mean(axis=0)")],
        {"backward_by", "backward_bh", "backward_gradcheck"},
        "bias_not_summed",
    ),
    "bias_summed_over_everything": (
        "mlp_softmax",
        [MLP_BACKWARD.format(slope=RIGHT_SLOPE, by="dy.sum(axis=0)", bh="np.sum(dh)")],
        {"backward_bh", "backward_gradcheck"},
        "bias_not_summed",
    ),
    "tanh_applied_twice": (
        "mlp_softmax",
        [
            MLP_BACKWARD.format(
                slope='1 - np.tanh(cache["h"]) ** 2 if activation == "tanh" else (cache["h_tilde"] > 0)',
                by="dy.sum(axis=0)",
                bh="dh.sum(axis=0)",
            )
        ],
        {"backward_Wh", "backward_bh", "backward_gradcheck"},
        "tanh_derivative",
    ),
    "relu_derivative_one_at_zero": (
        "mlp_softmax",
        [
            MLP_BACKWARD.format(
                slope='1 - cache["h"] ** 2 if activation == "tanh" else (cache["h_tilde"] >= 0)',
                by="dy.sum(axis=0)",
                bh="dh.sum(axis=0)",
            )
        ],
        {"backward_bh"},
        "relu_derivative_at_zero",
    ),
    "relu_derivative_half_at_zero": (
        "mlp_softmax",
        [
            MLP_BACKWARD.format(
                slope='1 - cache["h"] ** 2 if activation == "tanh" '
                'else np.heaviside(cache["h_tilde"], 0.5)',
                by="dy.sum(axis=0)",
                bh="dh.sum(axis=0)",
            )
        ],
        {"backward_bh"},
        "relu_derivative_at_zero",
    ),
    "train_without_activation": (
        "mlp_softmax",
        [
            "def train(params, X, Y, lr, batch_size, epochs, rng, activation='tanh'):\n"
            "    history = []\n"
            "    for _ in range(epochs):\n"
            "        order = rng.permutation(len(X))\n"
            "        for s in range(0, len(X), batch_size):\n"
            "            b = order[s:s + batch_size]\n"
            "            _, cache = forward(params, X[b])\n"
            "            params = sgd_step(params, backward(params, X[b], Y[b], cache), lr)\n"
            "        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])\n"
            "    return params, history\n"
        ],
        {"train_params", "train_history"},
        "activation_not_passed",
    ),
    "permutation_drawn_before_the_epochs": (
        "mlp_softmax",
        [
            MLP_TRAIN.format(
                before="perm = rng.permutation(len(X))",
                each_epoch="pass",
                batch="perm[s:s + batch_size]",
            )
        ],
        {"train_params", "train_history"},
        "permutation_drawn_once",
    ),
    "data_shuffled_once_before_the_epochs": (
        "mlp_softmax",
        [
            MLP_TRAIN.format(
                before="order = rng.permutation(len(X)); X, Y = X[order], Y[order]",
                each_epoch="pass",
                batch="slice(s, s + batch_size)",
            )
        ],
        {"train_params", "train_history"},
        "permutation_drawn_once",
    ),
    "permutation_drawn_but_unused": (
        "mlp_softmax",
        [
            MLP_TRAIN.format(
                before="n = len(X)",
                each_epoch="perm = rng.permutation(n)",
                batch="np.arange(n)[s:s + batch_size]",
            )
        ],
        {"train_params", "train_history"},
        "permutation_unused",
    ),
    "batches_sliced_without_a_permutation": (
        "mlp_softmax",
        [MLP_TRAIN.format(before="pass", each_epoch="pass", batch="slice(s, s + batch_size)")],
        {"train_params", "train_history"},
        "permutation_unused",
    ),
    "another_example_drawn_for_the_update": (
        "backprop_miniconv",
        [
            MINICONV_TRAIN.format(
                iteration="""i = rng.integers(len(X))
        losses.append(loss(Y[i], forward(W, X[i])[0]))
        i = rng.integers(len(X))
        W = W - alpha * backward(W, X[i], Y[i])"""
            )
        ],
        {"train_weights", "train_losses"},
        "two_draws_per_iteration",
    ),
    "a_pair_drawn_per_iteration_inline": (
        "backprop_miniconv",
        [
            MINICONV_TRAIN.format(
                iteration="""i, j = rng.integers(len(X), size=2)
        x, y = X[i], Y[i]
        a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
        o = np.maximum(a, 0.0)
        e = y - o @ W[2:]
        losses.append(0.5 * e ** 2)
        d = -e * W[2:] * (a > 0)
        W = W - alpha * np.array([d[0] * x[0] + d[1] * x[1], d[0] * x[1] + d[1] * x[2], *(-e * o)])"""
            )
        ],
        {"train_weights", "train_losses"},
        "two_draws_per_iteration",
    ),
    "a_stray_draw_before_the_one_used": (
        "backprop_miniconv",
        [
            MINICONV_TRAIN.format(
                iteration="""drawn = rng.choice(len(X))  # shown while debugging
        i = rng.integers(len(X))
        losses.append(loss(Y[i], forward(W, X[i])[0]))
        W = W - alpha * backward(W, X[i], Y[i])"""
            )
        ],
        {"train_weights", "train_losses"},
        "two_draws_per_iteration",
    ),
    "a_noise_draw_after_the_example": (
        "backprop_miniconv",
        [
            MINICONV_TRAIN.format(
                iteration="""i = rng.integers(len(X))
        _ = rng.random()  # styles19: noise nobody uses
        losses.append(loss(Y[i], forward(W, X[i])[0]))
        W = W - alpha * backward(W, X[i], Y[i])"""
            )
        ],
        {"train_weights", "train_losses"},
        "two_draws_per_iteration",
    ),
    "batch_gradient_over_the_sheet_s_n": (
        "sgd_batch_size",
        [
            "X = np.array([1.0, 2.0, 3.0, 4.0])  # the sheet's data, as the notebook defines it\n"
            "def batch_gradient(w, xb, yb):\n    return np.sum(-xb * (yb - w * xb)) / len(X)\n"
        ],
        {"batch_gradient_value"},
        "mean_over_all_examples",
    ),
    "bias_of_the_first_example": (
        "mlp_softmax",
        [MLP_BACKWARD.format(slope=RIGHT_SLOPE, by="dy[0]", bh="dh[0]")],
        {"backward_by", "backward_bh", "backward_gradcheck"},
        "bias_not_summed",
    ),
    "one_epoch_too_few": (
        "mlp_softmax",
        [
            MLP_RIGHT_TRAIN.replace("range(epochs)", "range(1, epochs)")
        ],
        {"train_params", "train_history"},
        "epochs_off_by_one",
    ),
    "one_epoch_too_many": (
        "mlp_softmax",
        [
            MLP_RIGHT_TRAIN.replace("range(epochs)", "range(epochs + 1)")
        ],
        {"train_params", "train_history"},
        "epochs_off_by_one",
    ),
    "accuracy_as_a_count": (
        "mlp_softmax",
        [
            "_right_loss = loss_accuracy\n"
            "def loss_accuracy(Y_hat, Y):\n"
            "    L, _ = _right_loss(Y_hat, Y)\n"
            "    return L, float(np.sum(Y_hat.argmax(axis=1) == Y.argmax(axis=1)))\n"
        ],
        {"loss_accuracy_values", "loss_accuracy_saturated"},
        "accuracy_as_count",
    ),
    "softmax_global_max": (
        "mlp_softmax",
        [
            "def softmax(Z):\n    E = np.exp(Z - np.max(Z))\n    return E / E.sum(axis=1, keepdims=True)\n"
        ],
        {"softmax_large_logits"},
        "softmax_overflow",
    ),
    "sign_in_one_place": (
        "backprop_miniconv",
        [
            "_right = backward\ndef backward(W, x, y):\n    g = _right(W, x, y)\n"
            "    return np.array([g[0], g[1], -g[2], -g[3]])\n"
        ],
        {"backward_dv1", "backward_dv2", "backward_gradcheck"},
        "error_sign",
    ),
    "relu_for_its_derivative": (
        "backprop_miniconv",
        ["def relu_derivative(a):\n    return max(0.0, a)\n"],
        {"backward_dw1", "backward_dw2", "backward_gradcheck"},
        "relu_derivative_missing",
    ),
    "no_half_in_loss_nor_gradient": (
        "backprop_miniconv",
        [
            """
def loss(y, y_hat):
    return (y - y_hat) ** 2

def backward(W, x, y):
    y_hat, c = forward(W, x)
    e = y - y_hat
    d1, d2 = -2 * e * W[2] * relu_derivative(c["a1"]), -2 * e * W[3] * relu_derivative(c["a2"])
    return np.array([d1 * x[0] + d2 * x[1], d1 * x[1] + d2 * x[2], -2 * e * c["o1"], -2 * e * c["o2"]])
"""
        ],
        {"loss_value", "backward_dw1", "backward_dw2", "backward_dv1", "backward_dv2"},
        {"loss_without_half", "gradient_without_half"},
    ),
    "leftover_divided_by_batch_size": (
        "sgd_batch_size",
        [
            """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, n = w0, 0
    for start in range(0, len(X), batch_size):
        xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
        w = w - alpha * np.sum(-xb * (yb - w * xb)) / batch_size
        n += 1
    return w, n
"""
        ],
        {"sgd_epoch_leftover"},
        "leftover_batch_used",
    ),
    "last_batch_skipped_by_a_while_loop": (
        "sgd_batch_size",
        [
            """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, b = w0, 0
    while b < len(X) // batch_size - 1:  # b = 0, ..., [N/n_b] - 1, read as a bound left out
        w -= alpha * batch_gradient(w, X[b * batch_size:(b + 1) * batch_size],
                                    Y[b * batch_size:(b + 1) * batch_size])
        b += 1
    return w, b
"""
        ],
        EVERY_EPOCH,
        "last_batch_skipped",
    ),
    "sheet_indices_kept_one_based": (
        "sgd_batch_size",
        [
            """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, count = w0, 0
    for b in range(len(X) // batch_size):
        rows = [i for i in range(b * batch_size + 1, (b + 1) * batch_size + 1) if i < len(X)]
        xb, yb = np.array(X)[rows], np.array(Y)[rows]
        w = w - alpha * np.mean(-xb * (yb - w * xb))
        count += 1
    return w, count
"""
        ],
        EVERY_EPOCH,
        "one_based_batches",
    ),
}


@pytest.mark.parametrize("seed", DRAWN[:3])
@pytest.mark.parametrize("name", VARIANTS)
def test_a_mistake_written_another_way_is_named_and_costs_only_its_checks(name, seed):
    assignment, cells, expected_failed, mistake = VARIANTS[name]
    failed, named = failed_and_named(assignment, seed, *cells)
    assert failed == expected_failed
    assert named == (mistake if isinstance(mistake, set) else {mistake})


W0_IN_PLACE = {
    "alias_then_minus_equals": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = W0, []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        losses.append(loss(Y[i], forward(W, X[i])[0]))
        W -= alpha * backward(W, X[i], Y[i])
    return W, losses
""",
    "asarray_does_not_copy": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.asarray(W0, dtype=float), []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        losses.append(loss(Y[i], forward(W, X[i])[0]))
        W[:] = W - alpha * backward(W, X[i], Y[i])
    return W, losses
""",
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("name", W0_IN_PLACE)
def test_w0_modified_in_place_costs_the_weights_check_only(name, seed):
    found = verdicts(
        "backprop_miniconv", with_reference("backprop_miniconv", W0_IN_PLACE[name]), seed
    )
    failed = {c for c, v in found.items() if not v.passed}
    assert failed == {"train_weights"}
    verdict = found["train_weights"]
    assert verdict.misconception == "w0_modified_in_place"
    assert verdict.messages[0].key == "input_modified"
    assert "W0" in verdict.messages[0].render("fr")


NOT_FORBIDDEN = {
    # The contract does not ask these functions to leave their arguments alone.
    "mlp_softmax": [
        "def sgd_step(params, grads, lr):\n    for k in params:\n        params[k] -= lr * grads[k]\n"
        "    return params\n",
        "_right_backward = backward\ndef backward(params, X, Y, cache, activation='tanh'):\n"
        "    cache['seen'] = True\n    return _right_backward(params, X, Y, cache, activation)\n",
    ],
    "sgd_batch_size": [
        "_right = batch_gradient\ndef batch_gradient(w, xb, yb):\n    g = _right(w, xb, yb)\n"
        "    xb *= 1.0\n    return g\n",
    ],
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("assignment", NOT_FORBIDDEN)
def test_modifying_an_argument_the_contract_does_not_protect_costs_nothing(assignment, seed):
    for cell in NOT_FORBIDDEN[assignment]:
        failed, _ = failed_and_named(assignment, seed, cell)
        assert failed == set(), (cell, failed)
    assert checks_for(assignment, seed)
