"""The network maths: initialisation, forward pass, gradients, predictions."""

import numpy as np
import pytest

from digitflow.network.mlp import (
    PREDICT_CHUNK,
    Network,
    Workspace,
    evaluate,
    init_network,
    loss_and_gradients,
)


def float64_network(layer_sizes: tuple[int, ...], seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    network = init_network(layer_sizes, rng)
    # Non-zero biases so their gradients are exercised away from the initial point.
    return Network(
        [W.astype(np.float64) for W in network.weights],
        [rng.normal(0, 0.1, b.shape) for b in network.biases],
    )


def mean_loss(network: Network, X: np.ndarray, y: np.ndarray) -> float:
    loss, _, _ = loss_and_gradients(network, X, y)
    return loss


def test_he_initialisation_scales_weights_by_fan_in():
    network = init_network((784, 400, 10), np.random.default_rng(0))
    assert network.layer_sizes == (784, 400, 10)
    assert [W.shape for W in network.weights] == [(400, 784), (10, 400)]
    assert [b.shape for b in network.biases] == [(400, 1), (10, 1)]
    assert all(W.dtype == np.float32 for W in network.weights)
    assert network.weights[0].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert not any(b.any() for b in network.biases)


@pytest.mark.parametrize("parameter", ["weights", "biases"])
def test_gradients_match_central_differences_in_every_layer(parameter):
    rng = np.random.default_rng(1)
    network = float64_network((6, 5, 4, 3))
    X = rng.normal(size=(6, 7))
    y = rng.integers(0, 3, size=7)
    _, grad_W, grad_b = loss_and_gradients(network, X, y)
    analytic = grad_W if parameter == "weights" else grad_b
    step = 1e-6
    for layer, values in enumerate(getattr(network, parameter)):
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            original = values[index]
            values[index] = original + step
            plus = mean_loss(network, X, y)
            values[index] = original - step
            minus = mean_loss(network, X, y)
            values[index] = original
            numeric[index] = (plus - minus) / (2 * step)
        np.testing.assert_allclose(analytic[layer], numeric, rtol=1e-5, atol=1e-8)


def test_forward_is_relu_of_w_a_plus_b_bit_for_bit_with_the_textbook_order():
    rng = np.random.default_rng(3)
    network = init_network((784, 50, 30, 10), rng)
    network.biases = [rng.normal(0, 0.5, b.shape).astype(np.float32) for b in network.biases]
    X = rng.random((784, 40), dtype=np.float32)
    A = X
    for W, b in zip(network.weights[:-1], network.biases[:-1], strict=True):
        A = np.maximum(W @ A + b, 0)
    # the logits' product, in the orientation the workspace has sgemm compute it
    A = (A.T @ network.weights[-1].T).T + network.biases[-1]
    np.testing.assert_array_equal(Workspace(network, 40).forward(network, X), A)


def test_loss_is_finite_for_huge_logits():
    network = float64_network((4, 3, 2))
    network.weights[-1] *= 1e6
    X = np.random.default_rng(2).normal(size=(4, 5))
    loss, _, _ = loss_and_gradients(network, X, np.zeros(5, dtype=np.int64))
    assert np.isfinite(loss)


def test_predict_proba_returns_columns_of_probabilities_across_chunks():
    network = init_network((784, 16, 10), np.random.default_rng(3))
    m = PREDICT_CHUNK + 5
    X = np.random.default_rng(4).random((784, m), dtype=np.float32)
    probs = network.predict_proba(X)
    assert probs.shape == (10, m)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probs[:, -5:], network.predict_proba(X[:, -5:]), rtol=1e-5)


def test_evaluate_agrees_with_predict_proba():
    network = init_network((784, 16, 10), np.random.default_rng(5))
    X = np.random.default_rng(6).random((784, 50), dtype=np.float32)
    y = np.random.default_rng(7).integers(0, 10, size=50).astype(np.uint8)
    probs = network.predict_proba(X)
    loss, accuracy = evaluate(network, X, y)
    assert accuracy == np.mean(probs.argmax(axis=0) == y)
    assert loss == pytest.approx(-np.mean(np.log(probs[y, np.arange(50)])), rel=1e-4)


def test_evaluate_on_an_empty_split_is_nan():
    network = init_network((784, 4, 10), np.random.default_rng(8))
    loss, accuracy = evaluate(network, np.zeros((784, 0), np.float32), np.zeros(0, np.uint8))
    assert np.isnan(loss) and np.isnan(accuracy)
