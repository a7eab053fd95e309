"""The reference solutions: hand-derived values, finite differences, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from solutions import backprop_miniconv as miniconv
from solutions import mlp_softmax as mlp
from solutions import sgd_batch_size as epoch


def central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        gradient[index] = (f(x + step) - f(x - step)) / (2 * h)
    return gradient


def test_miniconv_forward_by_hand():
    # a1 = 1*1 + 2*0.5 = 2, a2 = 2*1 + 3*0.5 = 3.5, y_hat = 2*2 + 3.5*(-1) = 0.5
    y_hat, cache = miniconv.forward(np.array([1.0, 0.5, 2.0, -1.0]), np.array([1.0, 2.0, 3.0]))
    assert y_hat == pytest.approx(0.5)
    assert cache == pytest.approx({"a1": 2.0, "a2": 3.5, "o1": 2.0, "o2": 3.5})
    assert miniconv.loss(1.0, y_hat) == pytest.approx(0.125)


def test_miniconv_relu_cuts_negative_inputs():
    y_hat, cache = miniconv.forward(np.array([-1.0, -1.0, 3.0, 5.0]), np.array([1.0, 1.0, 1.0]))
    assert cache["o1"] == cache["o2"] == 0.0 and y_hat == 0.0
    assert np.all(miniconv.backward(np.array([-1.0, -1.0, 3.0, 5.0]), np.ones(3), 2.0) == 0.0)


@pytest.mark.parametrize("seed", range(6))
def test_miniconv_backward_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    W, x, y = rng.normal(size=4), rng.normal(size=3), rng.normal()
    numeric = central_difference(lambda w: miniconv.loss(y, miniconv.forward(w, x)[0]), W)
    np.testing.assert_allclose(miniconv.backward(W, x, y), numeric, rtol=1e-5, atol=1e-8)


def test_should_stop_contract():
    assert miniconv.should_stop([], 10, 1e-6) is False
    assert miniconv.should_stop([1.0] * 10, 10, 0.0) is True
    assert miniconv.should_stop([0.5] * 500, 1000, 0.0) is False
    assert miniconv.should_stop([0.5] * 500, 10**6, 1e-6) is True
    falling = [0.95**k for k in range(150)]
    assert miniconv.should_stop(falling, 10**6, 1e-6) is False


def test_miniconv_train_is_deterministic_and_learns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    Y = np.array([miniconv.forward(np.array([1.0, -0.5, 2.0, 1.0]), x)[0] for x in X])
    W0 = np.array([0.5, 0.5, 0.5, 0.5])
    first = miniconv.train(X, Y, W0, 0.05, np.random.default_rng(3), max_iter=400, tol=0.0)
    second = miniconv.train(X, Y, W0, 0.05, np.random.default_rng(3), max_iter=400, tol=0.0)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1] and len(first[1]) == 400
    assert np.mean(first[1][-50:]) < np.mean(first[1][:50])
    np.testing.assert_array_equal(W0, [0.5, 0.5, 0.5, 0.5])


@pytest.mark.parametrize(
    ("batch_size", "weight", "updates"), [(1, 2.0486, 4), (2, 2.28125, 2), (4, 1.625, 1)]
)
def test_exercise2_corrected_table(batch_size, weight, updates):
    w, n = epoch.sgd_epoch(0.5, epoch.SHEET_X, epoch.SHEET_Y, 0.1, batch_size)
    assert w == pytest.approx(weight, abs=1e-12) and n == updates


def test_exercise2_gradient_by_hand_and_leftovers():
    # dl/dw = -x (y - w x): at w = 0.5, x = 1, y = 2 it is -1.5
    assert epoch.batch_gradient(0.5, [1.0], [2.0]) == pytest.approx(-1.5)
    assert epoch.sgd_epoch(0.5, epoch.SHEET_X, epoch.SHEET_Y, 0.1, 3)[1] == 1


def test_softmax_rows_and_large_logits():
    P = mlp.softmax(np.array([[1000.0, 0.0], [-1000.0, -999.0], [1.0, 1.0]]))
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P[2], [0.5, 0.5])


def test_loss_accuracy_on_saturated_predictions_is_finite():
    L, acc = mlp.loss_accuracy(np.array([[1.0, 0.0], [0.0, 1.0]]), np.eye(2))
    assert L == 0.0 and acc == 1.0


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_backward_matches_finite_differences(activation):
    rng = np.random.default_rng(1)
    params = mlp.init_params(3, 4, 3, rng)
    params = {k: v + rng.normal(scale=0.3, size=v.shape) for k, v in params.items()}
    X, Y = rng.normal(size=(6, 3)), np.eye(3)[rng.integers(3, size=6)]
    _, cache = mlp.forward(params, X, activation)
    grads = mlp.backward(params, X, Y, cache, activation)
    for name in params:

        def loss_of(value, name=name):
            changed = {**params, name: value}
            return mlp.loss_accuracy(mlp.forward(changed, X, activation)[0], Y)[0]

        numeric = central_difference(loss_of, params[name])
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_grad_logits_is_the_derivative_of_the_loss():
    rng = np.random.default_rng(2)
    Z, Y = rng.normal(size=(1, 4)), np.eye(4)[[2]]
    numeric = central_difference(lambda z: mlp.loss_accuracy(mlp.softmax(z), Y)[0], Z)
    np.testing.assert_allclose(mlp.grad_logits(mlp.softmax(Z), Y), numeric, rtol=1e-5)


def test_mlp_train_is_deterministic_and_leaves_params_alone():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(30, 2)), np.eye(2)[rng.integers(2, size=30)]
    params = mlp.init_params(2, 5, 2, np.random.default_rng(0))
    saved = {k: v.copy() for k, v in params.items()}
    a = mlp.train(params, X, Y, 0.5, 7, 5, np.random.default_rng(9))
    b = mlp.train(params, X, Y, 0.5, 7, 5, np.random.default_rng(9))
    assert a[1] == b[1] and len(a[1]) == 5
    for name in params:
        np.testing.assert_array_equal(a[0][name], b[0][name])
        np.testing.assert_array_equal(params[name], saved[name])
