"""The digit-likeness score: one forward pass for hidden layer and logits, a fit that tells
digits from non-digits, its threshold on held-out digits, and reproducible bits."""

import numpy as np
import pytest
from helpers import synthetic_digits

from digitflow.network import mlp
from digitflow.network.digit_likeness import (
    DIGITS_REJECTED,
    confidence_log_odds,
    fit_digit_likeness,
    hidden_and_logits,
)
from digitflow.network.mlp import PREDICT_CHUNK, init_network


@pytest.fixture
def network():
    return init_network((784, 32, 10), np.random.default_rng(0))


def not_digits(count: int, seed: int) -> np.ndarray:
    """Pictures unlike the synthetic digits: a solid block of ink somewhere in the frame."""
    rng = np.random.default_rng(seed)
    pictures = np.zeros((count, 28, 28), np.float32)
    for picture, (top, left) in zip(pictures, rng.integers(0, 14, (count, 2)), strict=True):
        picture[top : top + 14, left : left + 14] = 1
    return pictures.reshape(count, 784).T.copy()


def scored(likeness, network, X_784xm: np.ndarray) -> np.ndarray:
    return likeness.scores(hidden_and_logits(network, X_784xm)[0], network.predict_proba(X_784xm))


@pytest.mark.parametrize("chunk", [PREDICT_CHUNK, 16])  # one chunk, and several
def test_hidden_and_logits_gives_the_networks_hidden_layer_and_logits(network, chunk, monkeypatch):
    monkeypatch.setattr(mlp, "PREDICT_CHUNK", chunk)
    X, _ = synthetic_digits(50, seed=1)
    hidden, logits = hidden_and_logits(network, X)
    relu = np.maximum(network.weights[0] @ X + network.biases[0], 0)
    np.testing.assert_allclose(hidden, relu, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(logits, network.predict_logits(X))


def test_the_score_of_a_pass_already_made_turns_away_what_unlike_does(network):
    likeness = fit_digit_likeness(
        network, synthetic_digits(200, seed=1)[0], not_digits(200, 2), synthetic_digits(100, 3)[0]
    )
    X = np.concatenate([synthetic_digits(50, seed=4)[0], not_digits(50, 5)], axis=1)
    probs, unlike = likeness.unlike(network, X)
    hidden, _ = hidden_and_logits(network, X)
    assert unlike.any() and not unlike.all()
    np.testing.assert_array_equal(likeness.below_min(hidden, probs), unlike)


def test_fitted_score_puts_digits_above_non_digits(network):
    likeness = fit_digit_likeness(
        network, synthetic_digits(200, seed=1)[0], not_digits(200, 2), synthetic_digits(100, 3)[0]
    )
    digits = scored(likeness, network, synthetic_digits(100, seed=4)[0])
    others = scored(likeness, network, not_digits(100, 5))
    ranked_above = np.mean(digits[:, None] > others[None, :])  # AUROC
    assert ranked_above > 0.99
    assert np.mean(others < likeness.min_score) > 0.9


def test_threshold_lets_all_but_a_few_val_digits_through(network):
    X_val = synthetic_digits(400, seed=3)[0]
    likeness = fit_digit_likeness(network, synthetic_digits(200, 1)[0], not_digits(200, 2), X_val)
    passing = scored(likeness, network, X_val) >= likeness.min_score
    assert np.mean(~passing) == pytest.approx(DIGITS_REJECTED, abs=1 / 400)


def test_same_inputs_fit_the_same_bits(network):
    inputs = synthetic_digits(100, 1)[0], not_digits(100, 2), synthetic_digits(50, 3)[0]
    first, second = fit_digit_likeness(network, *inputs), fit_digit_likeness(network, *inputs)
    assert first.weights.tobytes() == second.weights.tobytes()
    assert (first.bias, first.min_score) == (second.bias, second.min_score)
    assert first.weights.dtype == np.float32


def test_unlike_gives_the_networks_probabilities_and_the_pictures_below_the_minimum(network):
    X = np.concatenate([synthetic_digits(20, seed=4)[0], not_digits(20, 5)], axis=1)
    likeness = fit_digit_likeness(
        network, synthetic_digits(200, 1)[0], not_digits(200, 2), synthetic_digits(100, 3)[0]
    )
    probs, unlike = likeness.unlike(network, X)
    np.testing.assert_array_equal(probs, network.predict_proba(X))
    np.testing.assert_array_equal(unlike, scored(likeness, network, X) < likeness.min_score)
    assert unlike[20:].mean() >= 0.8 > 0.2 >= unlike[:20].mean()


def test_confidence_log_odds_stays_finite_for_a_certain_answer():
    probs = np.array([[1.0, 0.5], [0.0, 0.5]], np.float32)
    log_odds = confidence_log_odds(probs)
    assert np.isfinite(log_odds).all() and log_odds[0] > 10 and log_odds[1] == 0
