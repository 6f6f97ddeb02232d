"""Update rules against hand computations, and learning-rate schedules."""

import math

import numpy as np
import pytest

from digitflow.network.lanes import Lanes
from digitflow.network.optim import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, Schedule, make_optimizer


def run_steps(name, gradients, lr, **options):
    """Apply one step per gradient to a weight [[1, 2]] and a bias [[0.5]]; return both."""
    weight = np.array([[1.0, 2.0]], dtype=np.float32)
    bias = np.array([[0.5]], dtype=np.float32)
    optimizer = make_optimizer(name, [weight, bias], [True, False], **options)
    for grad_weight, grad_bias in gradients:
        optimizer.step(
            [np.array([grad_weight], np.float32), np.array([[grad_bias]], np.float32)], lr
        )
    return weight, bias


@pytest.mark.parametrize("name", ["gd", "sgd"])
def test_sgd_steps_against_the_gradient(name):
    weight, bias = run_steps(name, [([0.5, -1.0], 2.0)], lr=0.1)
    np.testing.assert_allclose(weight, [[0.95, 2.1]], rtol=1e-6)
    np.testing.assert_allclose(bias, [[0.3]], rtol=1e-6)


def test_weight_decay_adds_to_weight_gradients_only():
    weight, bias = run_steps("sgd", [([0.0, 0.0], 0.0)], lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(weight, [[1 - 0.1 * 0.5 * 1, 2 - 0.1 * 0.5 * 2]], rtol=1e-6)
    np.testing.assert_allclose(bias, [[0.5]])


def test_momentum_accumulates_velocity():
    grads = [([1.0, 0.0], 1.0), ([1.0, 2.0], -1.0)]
    weight, bias = run_steps("momentum", grads, lr=0.1, momentum=0.9)
    # v1 = g1, v2 = 0.9 v1 + g2; W = W0 - lr (v1 + v2)
    v1 = np.array([1.0, 0.0])
    v2 = 0.9 * v1 + np.array([1.0, 2.0])
    np.testing.assert_allclose(weight[0], np.array([1.0, 2.0]) - 0.1 * (v1 + v2), rtol=1e-6)
    np.testing.assert_allclose(bias, [[0.5 - 0.1 * (1.0 + (0.9 - 1.0))]], rtol=1e-6)


def test_nesterov_steps_by_gradient_plus_damped_velocity():
    grads = [([1.0, 0.0], 0.0), ([1.0, 2.0], 0.0)]
    weight, _ = run_steps("momentum", grads, lr=0.1, momentum=0.9, nesterov=True)
    g1, g2 = np.array([1.0, 0.0]), np.array([1.0, 2.0])
    v1 = g1
    v2 = 0.9 * v1 + g2
    expected = np.array([1.0, 2.0]) - 0.1 * (g1 + 0.9 * v1) - 0.1 * (g2 + 0.9 * v2)
    np.testing.assert_allclose(weight[0], expected, rtol=1e-6)


def test_adam_matches_the_bias_corrected_rule():
    grads = [([0.5, -2.0], 0.1), ([1.5, 1.0], 0.1)]
    weight, _ = run_steps("adam", grads, lr=0.01)
    expected = np.array([1.0, 2.0])
    m = np.zeros(2)
    v = np.zeros(2)
    for t, (g, _) in enumerate(grads, start=1):
        g = np.array(g)
        m = ADAM_BETA1 * m + (1 - ADAM_BETA1) * g
        v = ADAM_BETA2 * v + (1 - ADAM_BETA2) * g**2
        m_hat = m / (1 - ADAM_BETA1**t)
        v_hat = v / (1 - ADAM_BETA2**t)
        expected -= 0.01 * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
    np.testing.assert_allclose(weight[0], expected, rtol=1e-5)


def test_adam_first_step_moves_each_weight_by_lr():
    weight, _ = run_steps("adam", [([0.5, -2.0], 0.1)], lr=0.01)
    np.testing.assert_allclose(weight[0], [0.99, 2.01], rtol=1e-5)


def test_constant_schedule_keeps_the_rate():
    schedule = Schedule("constant", 0.1, epochs=10)
    assert [schedule.lr_at(p) for p in (0, 4.5, 9.9)] == [0.1, 0.1, 0.1]


def test_step_schedule_multiplies_by_gamma_every_step_epochs():
    schedule = Schedule("step", 1.0, epochs=10, step_epochs=3, step_gamma=0.5)
    rates = [schedule.lr_at(p) for p in (0, 2.99, 3, 5.5, 6, 9)]
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]


def test_cosine_schedule_falls_from_base_to_zero():
    schedule = Schedule("cosine", 0.2, epochs=4)
    assert schedule.lr_at(0) == pytest.approx(0.2)
    assert schedule.lr_at(2) == pytest.approx(0.1)
    assert schedule.lr_at(4) == pytest.approx(0.0, abs=1e-12)
    assert schedule.lr_at(1) == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)))


@pytest.mark.parametrize(
    ("name", "options"),
    [("sgd", {}), ("momentum", {"nesterov": True}), ("adam", {"weight_decay": 0.01})],
)
def test_two_lanes_update_bit_identically_to_one(name, options):
    rng = np.random.default_rng(0)
    shapes = [(33, 17), (33, 1), (5, 33), (5, 1)]
    grads = [[rng.standard_normal(s, dtype=np.float32) for s in shapes] for _ in range(3)]
    results = []
    for count in (1, 2):
        params = [np.ones(s, np.float32) for s in shapes]
        decayed = [s[1] > 1 for s in shapes]
        optimizer = make_optimizer(name, params, decayed, lanes=Lanes(count), **options)
        for step in grads:
            optimizer.step([g.copy() for g in step], 0.01)
        results.append(params)
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


def test_a_non_contiguous_parameter_is_refused():
    weight = np.ones((4, 4), np.float32).T[:, :2]
    with pytest.raises(ValueError, match="contiguous"):
        make_optimizer("sgd", [weight], [True])
