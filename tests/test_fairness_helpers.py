"""A mistake costs the points of the function that has it, and only those (CONTRACT.md,
"Helpers or inline"): a right function that calls a wrong helper keeps its points (mlp
forward calling softmax, mlp backward calling grad_logits, miniconv backward calling forward, batch_gradient calling
predict; the kink of ReLU included), and question 3's table earns its point when it holds what the student's own
sgd_epoch returns. A function wrong itself still loses its points, whatever it calls."""

from __future__ import annotations

import pytest

from .test_gaming_common import SEEDS, passed, verdicts, with_reference

MINICONV_BACKWARD = ["backward_dw1", "backward_dw2", "backward_dv1", "backward_dv2"]
MINICONV_GRADIENTS = [*MINICONV_BACKWARD, "backward_gradcheck"]

MINICONV_FORWARD_TYPO = """
def forward(W, x):
    w1, w2, v1, v2 = W
    x1, x2, x3 = x
    a1, a2 = x1 * w1 + x2 * w2, x2 * w1 + x3 * w2
    o1, o2 = max(0.0, a1), max(0.0, a2)
    return float(o1 * v1 + o2 * v1), {"a1": a1, "a2": a2, "o1": o1, "o2": o2}
"""

MINICONV_BACKWARD_CALLING_FORWARD = """
def backward(W, x, y):
    w1, w2, v1, v2 = W
    x1, x2, x3 = x
    y_hat, c = forward(W, x)
    e = y - y_hat
    H1, H2 = float(c["a1"] > 0), float(c["a2"] > 0)
    dw1 = -e * (v1 * H1 * x1 + v2 * H2 * x2)
    dw2 = -e * (v1 * H1 * x2 + v2 * H2 * x3)
    return np.array([dw1, dw2, -e * c["o1"], -e * c["o2"]])
"""

BACKWARD_MISTAKES = {
    "error_sign": ("e = y - y_hat", "e = y_hat - y"),
    "forgot_H": ('H1, H2 = float(c["a1"] > 0), float(c["a2"] > 0)', "H1, H2 = 1.0, 1.0"),
    "single_path": ("v1 * H1 * x1 + v2 * H2 * x2", "v1 * H1 * x1"),
    "second_path_only": ("v1 * H1 * x2 + v2 * H2 * x3", "v2 * H2 * x3"),
}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_right_backward_calling_a_wrong_forward_keeps_its_points(seed):
    namespace = with_reference(
        "backprop_miniconv", MINICONV_FORWARD_TYPO, MINICONV_BACKWARD_CALLING_FORWARD
    )
    found = passed("backprop_miniconv", namespace, seed, ["forward_output", *MINICONV_GRADIENTS])
    assert found == set(MINICONV_GRADIENTS)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("forward", ["right", "typo"])
@pytest.mark.parametrize("mistake", BACKWARD_MISTAKES)
def test_a_wrong_backward_loses_its_points_whatever_forward_it_calls(mistake, forward, seed):
    """Judged with the stand-in forward pass too, each mistake of the chain rule still
    fails the gradients it touches (the stand-in's inputs put each ReLU on and off)."""
    old, new = BACKWARD_MISTAKES[mistake]
    wrong = MINICONV_BACKWARD_CALLING_FORWARD.replace(old, new)
    assert wrong != MINICONV_BACKWARD_CALLING_FORWARD
    cells = [MINICONV_FORWARD_TYPO, wrong] if forward == "typo" else [wrong]
    namespace = with_reference("backprop_miniconv", *cells)
    assert passed("backprop_miniconv", namespace, seed, MINICONV_BACKWARD) != set(MINICONV_BACKWARD)
    assert "backward_gradcheck" not in passed(
        "backprop_miniconv", namespace, seed, ["backward_gradcheck"]
    )


MINICONV_FORWARD_WRONG_A = MINICONV_FORWARD_TYPO.replace(
    "x1 * w1 + x2 * w2,", "x1 * w1 + x2 * w1 + 0.3,"
).replace("o2 * v1", "o2 * v2")

MINICONV_BACKWARD_BY_DIFFERENCES = """
def backward(W, x, y):
    W = np.asarray(W, dtype=float)
    gradient = np.zeros(4)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        plus, minus = forward(W + step, x)[0], forward(W - step, x)[0]
        gradient[k] = (0.5 * (y - plus) ** 2 - 0.5 * (y - minus) ** 2) / 2e-6
    return gradient
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_a_right_backward_keeps_the_kink_point_when_its_forward_misplaces_the_kink(seed):
    """A forward whose a1 is wrong puts its kink elsewhere: the backward calling it is
    judged at the kink with the stand-in forward, whose kink is where the inputs put it."""
    namespace = with_reference(
        "backprop_miniconv", MINICONV_FORWARD_WRONG_A, MINICONV_BACKWARD_CALLING_FORWARD
    )
    judged = ["forward_cache", "backward_relu_at_zero"]
    assert passed("backprop_miniconv", namespace, seed, judged) == {"backward_relu_at_zero"}


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("forward", ["right", "wrong_a"])
@pytest.mark.parametrize(
    "backward",
    [
        MINICONV_BACKWARD_CALLING_FORWARD.replace('c["a1"] > 0', 'c["a1"] >= 0'),
        MINICONV_BACKWARD_BY_DIFFERENCES,
    ],
    ids=["H(0)=1", "finite_differences"],
)
def test_a_wrong_gradient_at_the_kink_fails_whatever_forward_it_calls(backward, forward, seed):
    cells = [MINICONV_FORWARD_WRONG_A, backward] if forward == "wrong_a" else [backward]
    namespace = with_reference("backprop_miniconv", *cells)
    assert not passed("backprop_miniconv", namespace, seed, ["backward_relu_at_zero"])


MLP_SOFTMAX_COLUMNS = """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)
"""

MLP_FORWARD_INLINE_COLUMNS = """
def forward(params, X, activation="tanh"):
    h_tilde = X @ params["Wh"].T + params["bh"]
    h = np.tanh(h_tilde) if activation == "tanh" else np.maximum(h_tilde, 0)
    y_tilde = h @ params["Wy"].T + params["by"]
    E = np.exp(y_tilde)
    y_hat = E / E.sum(axis=0)
    return y_hat, {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_hat}
"""

MLP_FORWARD = ["forward_output", "forward_cache"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_right_forward_calling_a_wrong_softmax_keeps_its_points(seed):
    namespace = with_reference("mlp_softmax", MLP_SOFTMAX_COLUMNS)
    found = passed("mlp_softmax", namespace, seed, ["softmax_values", *MLP_FORWARD])
    assert found == set(MLP_FORWARD)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_forward_with_its_own_wrong_softmax_loses_its_points(seed):
    namespace = with_reference("mlp_softmax", MLP_FORWARD_INLINE_COLUMNS)
    found = verdicts("mlp_softmax", namespace, seed, MLP_FORWARD)
    assert not any(v.passed for v in found.values())
    assert {v.misconception for v in found.values()} == {"softmax_wrong_axis"}


MLP_GRAD_LOGITS_SIGN = """
def grad_logits(Y_hat, Y):
    return np.asarray(Y, dtype=float) - np.asarray(Y_hat, dtype=float)
"""
MLP_BACKWARD_WITHOUT_MEAN = """
def backward(params, X, Y, cache, activation="tanh"):
    delta_y = grad_logits(cache["y_hat"], Y)
    delta_h = (delta_y @ params["Wy"]) * activation_derivative(cache["h_tilde"], cache["h"], activation)
    return {"Wy": delta_y.T @ cache["h"], "by": delta_y.sum(axis=0),
            "Wh": delta_h.T @ X, "bh": delta_h.sum(axis=0)}
"""
MLP_GRADIENTS = ["backward_Wh", "backward_bh", "backward_Wy", "backward_by", "backward_gradcheck"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_right_backward_calling_a_wrong_grad_logits_keeps_its_points(seed):
    """The template's backward starts from grad_logits: its sign error costs its own point."""
    namespace = with_reference("mlp_softmax", MLP_GRAD_LOGITS_SIGN)
    found = passed("mlp_softmax", namespace, seed, ["grad_logits_values", *MLP_GRADIENTS])
    assert found == set(MLP_GRADIENTS)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("grad_logits", ["right", "sign"])
def test_a_wrong_backward_loses_its_points_whatever_grad_logits_it_calls(grad_logits, seed):
    cells = [MLP_GRAD_LOGITS_SIGN] if grad_logits == "sign" else []
    namespace = with_reference("mlp_softmax", *cells, MLP_BACKWARD_WITHOUT_MEAN)
    assert passed("mlp_softmax", namespace, seed, MLP_GRADIENTS) == set()


MLP_CACHE_WITH_ITS_OWN_KEY = """
_contract_forward = forward

def forward(params, X, activation="tanh"):
    Y_hat, cache = _contract_forward(params, X, activation)
    h = cache["h"]
    cache["slope"] = 1 - h ** 2 if activation == "tanh" else (cache["h_tilde"] > 0).astype(float)
    return Y_hat, cache

def backward(params, X, Y, cache, activation="tanh"):
    dy = (cache["y_hat"] - Y) / len(X)
    dh = (dy @ params["Wy"]) * cache["slope"]
    return {"Wy": dy.T @ cache["h"], "by": dy.sum(axis=0), "Wh": dh.T @ X, "bh": dh.sum(axis=0)}
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_a_backward_reading_what_its_own_forward_adds_to_the_cache_keeps_its_points(seed):
    """The contract names the keys a cache has, not all it may have: a backward reading a
    key its own forward adds is right, though the reference's cache lacks that key."""
    namespace = with_reference("mlp_softmax", MLP_CACHE_WITH_ITS_OWN_KEY)
    assert passed("mlp_softmax", namespace, seed, MLP_GRADIENTS) == set(MLP_GRADIENTS)
    wrong = MLP_CACHE_WITH_ITS_OWN_KEY.replace('cache["slope"]\n', "1.0\n")
    assert passed("mlp_softmax", with_reference("mlp_softmax", wrong), seed, MLP_GRADIENTS) == {
        "backward_Wy", "backward_by"}  # fmt: skip


SGD_PREDICT_SQUARED = "def predict(w, x):\n    return w * w * np.asarray(x, dtype=float)\n"

SGD_GRADIENT_CALLING_PREDICT = """
def batch_gradient(w, xb, yb):
    xb, yb = np.asarray(xb, dtype=float), np.asarray(yb, dtype=float)
    return float(np.mean(-xb * (yb - predict(w, xb))))
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_a_right_batch_gradient_calling_a_wrong_predict_keeps_its_points(seed):
    namespace = with_reference("sgd_batch_size", SGD_PREDICT_SQUARED, SGD_GRADIENT_CALLING_PREDICT)
    found = passed("sgd_batch_size", namespace, seed, ["predict_value", "batch_gradient_value"])
    assert found == {"batch_gradient_value"}
    wrong = SGD_GRADIENT_CALLING_PREDICT.replace("np.mean(-xb", "np.mean(xb")
    namespace = with_reference("sgd_batch_size", SGD_PREDICT_SQUARED, wrong)
    verdict = verdicts("sgd_batch_size", namespace, seed, ["batch_gradient_value"])
    assert verdict["batch_gradient_value"].misconception == "error_sign"


SGD_EPOCH_OFF_BY_ONE = """
def sgd_epoch(w0, X, Y, alpha, batch_size):
    w, n = float(w0), len(X) // batch_size - 1
    for b in range(n):
        part = slice(b * batch_size, (b + 1) * batch_size)
        w = w - alpha * batch_gradient(w, X[part], Y[part])
    return w, n
"""
TABLE_FROM_EPOCH = "table = {n_b: sgd_epoch(0.5, SHEET_X, SHEET_Y, 0.1, n_b) for n_b in (1, 2, 4)}"
EPOCH_CHECKS = ["sgd_epoch_nb1", "sgd_epoch_nb2", "sgd_epoch_nb4"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_table_built_from_a_wrong_sgd_epoch_earns_question_3(seed):
    namespace = with_reference("sgd_batch_size", SGD_EPOCH_OFF_BY_ONE, TABLE_FROM_EPOCH)
    assert passed("sgd_batch_size", namespace, seed, [*EPOCH_CHECKS, "sheet_table"]) == {
        "sheet_table"
    }


@pytest.mark.parametrize(
    "table",
    [
        "table = {1: [2.0486, 4], 2: (2.28125, 2), 4: np.array([1.625, 1.0])}",
        "table = {str(n): sgd_epoch(0.5, SHEET_X, SHEET_Y, 0.1, n) for n in (4, 2, 1)}",
    ],
)
def test_a_right_table_in_another_form_earns_question_3(table):
    namespace = with_reference("sgd_batch_size", SGD_EPOCH_OFF_BY_ONE, table)
    assert passed("sgd_batch_size", namespace, SEEDS[1], ["sheet_table"]) == {"sheet_table"}


@pytest.mark.parametrize("seed", SEEDS)
def test_without_a_table_question_3_is_judged_on_sgd_epoch(seed):
    """The table is the notebook's, not the contract's: a notebook written from the
    contract alone earns question 3 with a right sgd_epoch, and only then."""
    right = with_reference("sgd_batch_size")
    assert passed("sgd_batch_size", right, seed, ["sheet_table"]) == {"sheet_table"}
    wrong = with_reference("sgd_batch_size", SGD_EPOCH_OFF_BY_ONE)
    assert passed("sgd_batch_size", wrong, seed, ["sheet_table"]) == set()


@pytest.mark.parametrize(
    ("table", "said"),
    [
        (
            "table = {1: (2.047, 4), 2: (1.809, 2), 4: (1.654, 1)}",  # the sheet's misprint
            ["table[1]", "attendu 2.0486", "sgd_epoch(0.5, ", ", 1)"],
        ),
        ("table = {1: (2.0486, 4), 2: (2.28125, 2)}", ["table", "clés 1, 2, 4"]),
        ("table = {1: (2.0486, 4), 2: (2.28125, 2), 4: '(1.625, 1)'}", ["table[4]"]),
        ("table = [(2.0486, 4), (2.28125, 2), (1.625, 1)]", ["table", "un dictionnaire"]),
        (
            "table = {n_b: ... for n_b in (1, 2, 4)}",  # the template's line, not filled in
            ["table[1]", "le notebook contient « ... » (la case du modèle"],
        ),
    ],
)
def test_a_wrong_table_loses_question_3_and_says_what_is_wrong(table, said):
    namespace = with_reference("sgd_batch_size", TABLE_FROM_EPOCH, table)
    verdict = verdicts("sgd_batch_size", namespace, SEEDS[1], ["sheet_table"])["sheet_table"]
    assert not verdict.passed
    text = " ".join(m.render("fr") for m in verdict.messages)
    assert all(part in text for part in said), text


@pytest.mark.parametrize("empty", ["()", "[]", "{}"])
def test_an_empty_result_of_sgd_epoch_makes_no_table_its_own(empty):
    """A table is the notebook's own results only when it holds them: an sgd_epoch that
    returns an empty container leaves nothing for a table of zeros to agree with."""
    broken = f"def sgd_epoch(w0, X, Y, alpha, batch_size):\n    return {empty}\n"
    zeros = "table = {n_b: (0, 0) for n_b in (1, 2, 4)}"
    namespace = with_reference("sgd_batch_size", broken, zeros)
    assert passed("sgd_batch_size", namespace, SEEDS[1], ["sheet_table"]) == set()
