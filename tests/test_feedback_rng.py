"""A training loop that does not draw only from the ``rng`` it is given is told so: its
values are wrong on every input, and "the loop differs" would not say why."""

from __future__ import annotations

import pytest

from .test_gaming_common import SEEDS, verdicts, with_reference

LOOPS = {
    "mlp_softmax": (
        ["train_params", "train_history"],
        "def train(params, X, Y, lr, batch_size, epochs, rng, activation='tanh'):\n"
        "    return _right_train(params, X, Y, {lr}, batch_size, epochs, {rng}, activation)\n",
    ),
    "backprop_miniconv": (
        ["train_weights", "train_losses"],
        "def train(X, Y, W0, alpha, rng, max_iter=1000, tol=1e-6):\n"
        "    return _right_train(X, Y, W0, {lr}, {rng}, max_iter, tol)\n",
    ),
}


def loop(assignment: str, *, rng: str = "rng", lr: str | None = None) -> dict:
    checks, source = LOOPS[assignment]
    rate = lr or ("lr" if assignment == "mlp_softmax" else "alpha")
    student = "_right_train = train\n" + source.format(rng=rng, lr=rate)
    return verdicts(assignment, with_reference(assignment, student), None, checks)


def keys(verdict) -> list[str]:
    return [message.key for message in verdict.messages]


@pytest.mark.parametrize("assignment", LOOPS)
@pytest.mark.parametrize(
    ("rng", "said"),
    [
        ("np.random.default_rng()", "draws_elsewhere"),  # a generator without a seed
        ("np.random.default_rng(int(np.random.randint(1000)))", "draws_elsewhere"),
        ("np.random.default_rng(42)", "ignores_rng"),  # a seed of its own
    ],
)
def test_a_loop_drawing_elsewhere_than_its_rng_is_told_so(assignment, rng, said):
    for check_id, verdict in loop(assignment, rng=rng).items():
        assert not verdict.passed, check_id
        assert keys(verdict)[0] == said, (check_id, keys(verdict))
        text = verdict.messages[0].render("fr")
        assert "`rng`" in text and "train" in text


@pytest.mark.parametrize("assignment", LOOPS)
def test_a_loop_wrong_for_another_reason_is_not_said_to_misuse_its_rng(assignment):
    for check_id, verdict in loop(
        assignment, lr="0.5 * " + ("lr" if assignment == "mlp_softmax" else "alpha")
    ).items():
        assert not verdict.passed, check_id
        assert not {"draws_elsewhere", "ignores_rng"} & set(keys(verdict)), check_id
    for check_id, verdict in loop(assignment).items():  # the reference, through the wrapper
        assert verdict.passed, check_id


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_the_finding_holds_on_drawn_inputs_and_reads_in_english(seed):
    checks, source = LOOPS["mlp_softmax"]
    student = "_right_train = train\n" + source.format(rng="np.random.default_rng(3)", lr="lr")
    found = verdicts("mlp_softmax", with_reference("mlp_softmax", student), seed, checks)
    for verdict in found.values():
        assert keys(verdict)[0] == "ignores_rng"
        assert "does not draw from the `rng` it is given" in verdict.messages[0].render("en")


def test_a_permutation_drawn_then_forgotten_is_not_blamed_on_a_generator_of_its_own():
    """Drawing from rng and never using the draw is the other way to ignore it: the
    feedback names both, not only "a generator made inside the function"."""
    student = (
        "_right_train = train\n"
        "def train(params, X, Y, lr, batch_size, epochs, rng, activation='tanh'):\n"
        "    perm = rng.permutation(len(X))\n"
        "    return _right_train(params, X, Y, lr, batch_size, epochs,\n"
        "                        np.random.default_rng(0), activation)\n"
    )
    found = verdicts("mlp_softmax", with_reference("mlp_softmax", student), None, ["train_params"])
    message = found["train_params"].messages[0]
    assert message.key == "ignores_rng"
    assert "permutation tirée puis oubliée" in message.render("fr")
    assert "permutation drawn then forgotten" in message.render("en")


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_loop_that_never_keeps_its_updates_is_told_so_not_blamed_on_its_rng(seed):
    """Each step's parameters computed and dropped: the result is the same for any seed,
    as for a loop ignoring its rng, but the parameters it returns are those it was given,
    and the feedback says so (styles19 U2)."""
    student = """
def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
    history = []
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            b = perm[s:s + batch_size]
            _, cache = forward(params, X[b], activation)
            new_params = sgd_step(params, backward(params, X[b], Y[b], cache, activation), lr)
        history.append(loss_accuracy(forward(params, X, activation)[0], Y)[0])
    return params, history
"""
    checks = ["train_params", "train_history"]
    found = verdicts("mlp_softmax", with_reference("mlp_softmax", student), seed, checks)
    for check in checks:
        assert keys(found[check])[0] == "never_updates", check
        text = found[check].messages[0].render("fr")
        assert "paramètres de départ" in text and "permutation" not in text
