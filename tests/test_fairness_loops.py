"""Training loops earn their points whichever way they are written (CONTRACT.md, "Helpers
or inline: the student's choice"): calling the helpers or computing inline, through
aliases, dicts, default arguments or closures; a wrong helper costs only its own checks;
only a loop wrong both ways loses the loop's points, with feedback that says so."""

from __future__ import annotations

import re

import pytest

from autograder.judging import checks_for

from .test_gaming_common import SEEDS, passed, verdicts, with_reference

MINICONV_TRAIN = ["train_weights", "train_losses"]
SGD_EPOCH = ["sgd_epoch_nb1", "sgd_epoch_nb2", "sgd_epoch_nb4", "sgd_epoch_leftover", "sheet_table"]
MLP_TRAIN = ["train_params", "train_history"]


def loop_with_helper(assignment: str, loop: str, wrongs: dict[str, str], wrong: str | None) -> dict:
    """The reference with the student's ``loop``, and one wrong helper when ``wrong`` names one."""
    cells = [wrongs[wrong], loop] if wrong else [loop]
    return with_reference(assignment, *cells)


# --- Exercice 1 ---------------------------------------------------------------------------

MINICONV_LOOPS = {
    "calls": "",
    "inline_loss": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(0.5 * (Y[i] - y_hat) ** 2)
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
""",
    "inline_forward": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    for _ in range(max_iter):
        i = rng.integers(len(X))
        x, y = X[i], Y[i]
        a1, a2 = x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]
        y_hat = max(a1, 0.0) * W[2] + max(a2, 0.0) * W[3]
        losses.append(loss(y, y_hat))
        W = W - alpha * np.asarray(backward(W, x, y))
    return W, losses
""",
    "inline_gradient_from_cache": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = W0.copy(), []
    while len(losses) < max_iter:
        i = rng.integers(len(X))
        x, y = X[i], Y[i]
        y_hat, c = forward(W, x)
        losses.append(loss(y, y_hat))
        e = y - y_hat
        d1, d2 = -e * W[2] * (c["a1"] > 0), -e * W[3] * (c["a2"] > 0)
        W = W - alpha * np.array([d1 * x[0] + d2 * x[1], d1 * x[1] + d2 * x[2],
                                  -e * c["o1"], -e * c["o2"]])
    return W, losses
""",
    "inline_everything": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    for _ in range(max_iter):
        i = rng.integers(len(X))
        x, y = X[i], Y[i]
        a = np.array([x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]])
        o = np.maximum(a, 0.0)
        e = y - o @ W[2:]
        losses.append(0.5 * e ** 2)
        d = -e * W[2:] * (a > 0)
        W = W - alpha * np.array([d[0] * x[0] + d[1] * x[1], d[0] * x[1] + d[1] * x[2], *(-e * o)])
    return W, losses
""",
    "aliases": """
fwd, lss, grad, stop = forward, loss, backward, should_stop

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while not stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        losses.append(lss(Y[i], fwd(W, X[i])[0]))
        W = W - alpha * grad(W, X[i], Y[i])
    return W, losses
""",
    "dict_of_helpers": """
OPS = {"forward": forward, "loss": loss, "backward": backward}

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        losses.append(OPS["loss"](Y[i], OPS["forward"](W, X[i])[0]))
        W = W - alpha * OPS["backward"](W, X[i], Y[i])
    return W, losses
""",
    "default_arguments": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6, f=forward, l=loss, g=backward):
    W, losses = np.array(W0, dtype=float), []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        losses.append(l(Y[i], f(W, X[i])[0]))
        W = W - alpha * g(W, X[i], Y[i])
    return W, losses
""",
    "closure": """
def make_train(f, l, g):
    def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
        W, losses = np.array(W0, dtype=float), []
        while not should_stop(losses, max_iter, tol):
            i = rng.integers(len(X))
            losses.append(l(Y[i], f(W, X[i])[0]))
            W = W - alpha * g(W, X[i], Y[i])
        return W, losses
    return train

train = make_train(forward, loss, backward)
""",
}

MINICONV_WRONG = {
    "forward_without_relu": """
def forward(W, x):
    a1, a2 = x[0] * W[0] + x[1] * W[1], x[1] * W[0] + x[2] * W[1]
    return float(a1 * W[2] + a2 * W[3]), {"a1": a1, "a2": a2, "o1": a1, "o2": a2}
""",
    "loss_without_half": "def loss(y, y_hat):\n    return (y - y_hat) ** 2\n",
    "backward_sign": """
_right_backward = backward
def backward(W, x, y):
    return -_right_backward(W, x, y)
""",
    "should_stop_late": """
def should_stop(losses, max_iter, tol):
    return len(losses) > max_iter
""",
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("wrong", [None, *MINICONV_WRONG])
@pytest.mark.parametrize("loop", MINICONV_LOOPS)
def test_a_right_miniconv_loop_keeps_its_points_whatever_its_helpers(loop, wrong, seed):
    namespace = loop_with_helper("backprop_miniconv", MINICONV_LOOPS[loop], MINICONV_WRONG, wrong)
    assert passed("backprop_miniconv", namespace, seed, MINICONV_TRAIN) == set(MINICONV_TRAIN)


# --- Exercice 2 ---------------------------------------------------------------------------

SGD_LOOPS = {
    "calls": "",
    "inline_gradient": """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    for b in range(len(X) // batch_size):
        xb, yb = X[b * batch_size:(b + 1) * batch_size], Y[b * batch_size:(b + 1) * batch_size]
        w = w - alpha * np.mean(-xb * (yb - w * xb))
    return w, len(X) // batch_size
""",
    "inline_gradient_with_predict": """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, n = float(w0), 0
    for start in range(0, len(X) - batch_size + 1, batch_size):
        xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
        w -= alpha * float(np.sum(-xb * (yb - predict(w, xb)))) / batch_size
        n += 1
    return w, n
""",
    "dict_of_helpers": """
HELPERS = {"g": batch_gradient}

def sgd_epoch(w0, X, Y, alpha, batch_size):
    w = w0
    for b in range(len(X) // batch_size):
        part = slice(b * batch_size, (b + 1) * batch_size)
        w = w - alpha * HELPERS["g"](w, X[part], Y[part])
    return w, len(X) // batch_size
""",
    "default_argument": """
def sgd_epoch(w0, X, Y, alpha, batch_size, gradient=batch_gradient):
    w = w0
    for b in range(len(X) // batch_size):
        part = slice(b * batch_size, (b + 1) * batch_size)
        w = w - alpha * gradient(w, X[part], Y[part])
    return w, len(X) // batch_size
""",
    "reshape": """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    n = len(X) // batch_size
    w = w0
    for xb, yb in zip(np.reshape(X[:n * batch_size], (n, batch_size)),
                      np.reshape(Y[:n * batch_size], (n, batch_size))):
        w = w - alpha * batch_gradient(w, xb, yb)
    return w, n
""",
}

SGD_WRONG = {
    "gradient_summed": """
def batch_gradient(w, xb, yb):
    return float(np.sum(-np.asarray(xb) * (np.asarray(yb) - w * np.asarray(xb))))
""",
    "gradient_sheet_sign": """
def batch_gradient(w, xb, yb):
    return float(np.mean(np.asarray(xb) * (np.asarray(yb) - w * np.asarray(xb))))
""",
    "predict_squared": "def predict(w, x):\n    return w * w * np.asarray(x, dtype=float)\n",
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("wrong", [None, *SGD_WRONG])
@pytest.mark.parametrize("loop", SGD_LOOPS)
def test_a_right_epoch_keeps_its_points_whatever_its_helpers(loop, wrong, seed):
    namespace = loop_with_helper("sgd_batch_size", SGD_LOOPS[loop], SGD_WRONG, wrong)
    assert passed("sgd_batch_size", namespace, seed, SGD_EPOCH) == set(SGD_EPOCH)


def test_the_issue_example_inline_epoch_earns_everything():
    """sgd_epoch computing the batch gradient inline: 8/8, as the sheet's table says."""
    namespace = with_reference("sgd_batch_size", SGD_LOOPS["inline_gradient"])
    for seed in SEEDS:
        assert passed("sgd_batch_size", namespace, seed) == set(checks_for("sgd_batch_size"))


def test_a_loop_wrong_both_ways_says_so_with_the_sheets_values():
    """Gradient ascent with a right batch_gradient: the message compares with the right
    epoch (2.0486 for n_b = 1 on the sheet), and says the loop itself is wrong."""
    ascent = SGD_LOOPS["inline_gradient"].replace("w = w - alpha", "w = w + alpha")
    namespace = with_reference("sgd_batch_size", ascent)
    verdict = verdicts("sgd_batch_size", namespace, None, ["sgd_epoch_nb1"])["sgd_epoch_nb1"]
    assert not verdict.passed and verdict.misconception == "gradient_ascent"
    keys = [m.key for m in verdict.messages]
    assert "loop_wrong_both_ways" in keys
    text = "\n".join(m.render("fr") for m in verdict.messages)
    assert "attendu 2.0486" in text and "-0.39" not in text


def test_a_loop_one_batch_short_is_told_both_its_weight_and_its_update_count():
    """``range(n_updates - 1)``: w alone says only "wrong"; the count, 3 for 4, points at
    the loop's bound. Every wrong entry of the answer is named, and the loop message
    names nothing the sheet's loop does not have (no random draws in Exercice 2)."""
    short = """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, n_updates = float(w0), 0
    for b in range(len(X) // batch_size - 1):
        xb, yb = X[b * batch_size:(b + 1) * batch_size], Y[b * batch_size:(b + 1) * batch_size]
        w = w - alpha * np.mean(-xb * (yb - w * xb))
        n_updates += 1
    return w, n_updates
"""
    namespace = with_reference("sgd_batch_size", short)
    verdict = verdicts("sgd_batch_size", namespace, None, ["sgd_epoch_nb2"])["sgd_epoch_nb2"]
    text = "\n".join(m.render("fr") for m in verdict.messages)
    assert not verdict.passed
    assert "w est faux" in text
    [(expected, obtained)] = re.findall(r"n_updates est faux : attendu (\d+), obtenu (\d+)", text)
    assert int(obtained) == int(expected) - 1 and "tirages" not in text
    english = "\n".join(m.render("en") for m in verdict.messages)
    assert "n_updates is wrong" in english and "draws" not in english


STOPPING_LOOPS = {
    "calls_should_stop": "",
    "own_criterion_inline": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while len(losses) < max_iter:
        if tol > 0 and len(losses) >= 40:
            before, recent = np.mean(losses[-40:-20]), np.mean(losses[-20:])
            if abs(before - recent) <= tol * abs(before):
                break
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
""",
    "calls_a_criterion_that_never_stops_early": """
def should_stop(losses, max_iter, tol):
    return len(losses) >= max_iter
""",
}
IGNORING_LOOPS = {
    "counts_to_max_iter": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    for _ in range(max_iter):
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
""",
    "passes_tol_zero": """
def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while not should_stop(losses, max_iter, 0.0):
        i = rng.integers(len(X))
        y_hat, _ = forward(W, X[i])
        losses.append(loss(Y[i], y_hat))
        W = W - alpha * backward(W, X[i], Y[i])
    return W, losses
""",
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("loop", STOPPING_LOOPS)
def test_a_loop_that_stops_when_its_criterion_says_so_keeps_the_stopping_point(loop, seed):
    """Asking should_stop, or testing a criterion inline, both stop on a plateau; a wrong
    should_stop (that never stops early) costs its own checks, not the loop's."""
    namespace = with_reference("backprop_miniconv", STOPPING_LOOPS[loop])
    assert passed("backprop_miniconv", namespace, seed, ["train_stops"]) == {"train_stops"}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("loop", IGNORING_LOOPS)
def test_a_loop_deaf_to_its_stopping_criterion_loses_that_point_only(loop, seed):
    """Running to max_iter whatever tol is (with tol = 0 nothing tells it apart from a
    right loop) loses the stopping check, with feedback naming should_stop and tol; its
    weights and losses, right with tol = 0, keep theirs."""
    namespace = with_reference("backprop_miniconv", IGNORING_LOOPS[loop])
    found = verdicts("backprop_miniconv", namespace, seed, [*MINICONV_TRAIN, "train_stops"])
    assert {check for check, verdict in found.items() if verdict.passed} == set(MINICONV_TRAIN)
    [message, where] = found["train_stops"].messages
    assert message.key == "ignores_stopping_test"
    text = message.render("fr")
    assert "600 itérations" in text and "should_stop(losses, max_iter, tol)" in text
    assert "tol" in message.render("en") and "ReLU restent éteintes" in where.render("fr")


def test_a_loop_that_stops_with_the_stand_ins_is_not_called_wrong():
    """A backward returning more than the contract (its loss too), with a wrong sign, and a
    loop unpacking it: the loop stops with the stand-ins, so the feedback gives the error
    and the likely cause, not "the error is in the loop itself"."""
    code = """
_right_backward = backward
def backward(W, x, y):
    return -_right_backward(W, x, y), loss(y, forward(W, x)[0])

def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):
    W, losses = np.array(W0, dtype=float), []
    while not should_stop(losses, max_iter, tol):
        i = rng.integers(len(X))
        g, current = backward(W, X[i], Y[i])
        losses.append(current)
        W = W - alpha * g
    return W, losses
"""
    found = verdicts(
        "backprop_miniconv", with_reference("backprop_miniconv", code), None, MINICONV_TRAIN
    )
    failed = [v for v in found.values() if not v.passed]
    assert failed
    for verdict in failed:
        assert verdict.messages[-1].key == "loop_fails_with_standins"
        text = verdict.messages[-1].render("fr")
        assert "ValueError" in text and "backward" in text and "signatures" in text
        assert "loop_wrong_both_ways" not in [m.key for m in verdict.messages]


# --- TP1 ----------------------------------------------------------------------------------

MLP_LOOPS = {
    "calls": "",
    "inline_loss": """
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            _, cache = forward(params, X[idx], activation)
            params = sgd_step(params, backward(params, X[idx], Y[idx], cache, activation), lr)
        Y_hat, _ = forward(params, X, activation)
        history.append(float(-np.mean(np.sum(Y * np.log(np.clip(Y_hat, 1e-7, 1 - 1e-7)), axis=1))))
    return params, history
""",
    "inline_step_in_place": """
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    params = {k: v.copy() for k, v in params.items()}
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            _, cache = forward(params, X[idx], activation)
            grads = backward(params, X[idx], Y[idx], cache, activation)
            for k in params:
                params[k] -= lr * grads[k]
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
""",
    "inline_forward": """
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    sigma = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0))
    def run(p, A):
        h_tilde = A @ p["Wh"].T + p["bh"]
        h = sigma(h_tilde)
        y_tilde = h @ p["Wy"].T + p["by"]
        return softmax(y_tilde), {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde,
                                  "y_hat": softmax(y_tilde)}
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            _, cache = run(params, X[idx])
            params = sgd_step(params, backward(params, X[idx], Y[idx], cache, activation), lr)
        history.append(loss_accuracy(run(params, X)[0], Y)[0])
    return params, history
""",
    "inline_backward": """
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            Xb, Yb = X[idx], Y[idx]
            Y_hat, c = forward(params, Xb, activation)
            dy = (Y_hat - Yb) / len(Xb)
            slope = 1 - c["h"] ** 2 if activation == "tanh" else (c["h_tilde"] > 0)
            dh = (dy @ params["Wy"]) * slope
            grads = {"Wy": dy.T @ c["h"], "by": dy.sum(0), "Wh": dh.T @ Xb, "bh": dh.sum(0)}
            params = {k: params[k] - lr * grads[k] for k in params}
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
""",
}

MLP_WRONG = {
    "backward_without_mean": """
_right_backward = backward
def backward(params, X, Y, cache, activation="tanh"):
    return {k: len(X) * g for k, g in _right_backward(params, X, Y, cache, activation).items()}
""",
    "forward_ignores_relu": """
_right_forward = forward
def forward(params, X, activation="tanh"):
    return _right_forward(params, X, "tanh")
""",
    "loss_not_averaged": """
_right_loss = loss_accuracy
def loss_accuracy(Y_hat, Y):
    L, acc = _right_loss(Y_hat, Y)
    return L * len(Y), acc
""",
    "sgd_step_ascent": """
def sgd_step(params, grads, lr):
    return {k: params[k] + lr * grads[k] for k in params}
""",
    "softmax_columns": """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)
""",
}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("wrong", [None, *MLP_WRONG])
@pytest.mark.parametrize("loop", MLP_LOOPS)
def test_a_right_mlp_loop_keeps_its_points_whatever_its_helpers(loop, wrong, seed):
    namespace = loop_with_helper("mlp_softmax", MLP_LOOPS[loop], MLP_WRONG, wrong)
    assert passed("mlp_softmax", namespace, seed, MLP_TRAIN) == set(MLP_TRAIN)


def test_train_gets_the_losses_as_a_python_list():
    """should_stop receives a list, as the contract says: ``if not losses`` works."""
    strict = """
def should_stop(losses, max_iter, tol):
    assert type(losses) is list
    if not losses:
        return False
    return len(losses) >= max_iter
"""
    namespace = with_reference("backprop_miniconv", strict)
    for seed in SEEDS:
        found = passed(
            "backprop_miniconv", namespace, seed, ["should_stop_limits", *MINICONV_TRAIN]
        )
        assert found == {"should_stop_limits", *MINICONV_TRAIN}


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_wrong_loop_still_loses_its_points(seed):
    """Wrong loops, written inline or calling helpers: the loop's checks fail."""
    wrong_loops = {
        "backprop_miniconv": [
            MINICONV_LOOPS["inline_everything"].replace("W = W - alpha", "W = W + alpha"),
            MINICONV_LOOPS["aliases"].replace(
                "i = rng.integers(len(X))", "i = rng.integers(len(X) - 1)"
            ),
        ],
        "sgd_batch_size": [
            SGD_LOOPS["inline_gradient"].replace("np.mean(", "np.sum("),
            SGD_LOOPS["default_argument"].replace(
                "b * batch_size, (b + 1)", "b * batch_size + 1, (b + 1)"
            ),
        ],
        "mlp_softmax": [
            MLP_LOOPS["inline_backward"].replace("/ len(Xb)", ""),
            MLP_LOOPS["inline_loss"].replace(
                "perm = rng.permutation(len(X))", "perm = np.arange(len(X))"
            ),
        ],
    }
    loop_checks = {
        "backprop_miniconv": MINICONV_TRAIN, "sgd_batch_size": SGD_EPOCH, "mlp_softmax": MLP_TRAIN,
    }  # fmt: skip
    for assignment, loops in wrong_loops.items():
        for loop in loops:
            namespace = with_reference(assignment, loop)
            found = verdicts(assignment, namespace, seed, loop_checks[assignment])
            failed = [v for v in found.values() if not v.passed]
            assert failed, loop
            assert all(v.messages[-1].key == "loop_wrong_both_ways" for v in failed), loop
