"""The whole-digit score: a fit that tells whole digits from pairs and fragments of them, one
pass giving it with the probabilities and the digit likeness, and reproducible bits."""

import numpy as np
import pytest
from helpers import drawn_digits

from digitflow.mnist_form.digit import mnist_digit
from digitflow.network.digit_likeness import DigitLikeness, hidden_and_logits
from digitflow.network.mlp import init_network
from digitflow.network.whole_digit import fit_whole_digit, probabilities_and_scores
from digitflow.synthetic.pieces import piece_examples


@pytest.fixture
def network():
    return init_network((784, 64, 10), np.random.default_rng(0))


def examples(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return piece_examples(drawn_digits(40), count, np.random.default_rng(seed), mnist_digit)


def test_fragments_and_joined_pairs_score_unlike_a_whole_digit(network):
    score = fit_whole_digit(network, *examples(200, seed=1))
    whole, not_whole = (score.log_odds(hidden_and_logits(network, X)[0]) for X in examples(100, 2))
    pairs, fragments = not_whole[:50], not_whole[50:]
    for others in (pairs, fragments):
        assert np.mean(whole[:, None] > others[None, :]) > 0.9  # AUROC


def test_same_inputs_fit_the_same_bits(network):
    first = fit_whole_digit(network, *examples(50, seed=1))
    second = fit_whole_digit(network, *examples(50, seed=1))
    assert first.weights.tobytes() == second.weights.tobytes() and first.bias == second.bias


def test_one_pass_gives_the_probabilities_likeness_and_whole_digit_score(network):
    X, _ = examples(20, seed=3)
    network.likeness = DigitLikeness(np.ones(64, np.float32), 0.5, 0.0)
    probs, likeness, whole = probabilities_and_scores(network, X)
    assert whole is None
    np.testing.assert_array_equal(probs, network.predict_proba(X))
    np.testing.assert_array_equal(
        likeness, network.likeness.likeness(hidden_and_logits(network, X)[0])
    )
    network.whole_digit = fit_whole_digit(network, *examples(50, seed=1))
    _, _, whole = probabilities_and_scores(network, X)
    np.testing.assert_array_equal(
        whole, network.whole_digit.log_odds(hidden_and_logits(network, X)[0])
    )
