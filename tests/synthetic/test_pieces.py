"""Whole digits, joined pairs and fragments for fitting the whole-digit score
(synthetic.pieces)."""

import numpy as np
from helpers import drawn_digits

from digitflow.mnist_form.digit import mnist_digit
from digitflow.synthetic.pieces import fragment, piece_examples


def aspect(ink: np.ndarray) -> float:
    return ink.shape[1] / ink.shape[0]


def test_pieces_are_what_the_normaliser_makes_and_a_seed_gives_the_same_bits():
    X = drawn_digits(20)
    whole, not_whole = piece_examples(X, 30, np.random.default_rng(0), mnist_digit)
    assert whole.shape == not_whole.shape == (784, 30)
    assert whole.dtype == np.float32 and whole.max() <= 1 and not_whole.max() <= 1
    again = piece_examples(X, 30, np.random.default_rng(0), mnist_digit)
    np.testing.assert_array_equal(whole, again[0])
    np.testing.assert_array_equal(not_whole, again[1])


def test_half_the_other_pieces_are_joined_pairs_and_half_fragments_of_digits():
    inks = []

    def kept(ink: np.ndarray) -> np.ndarray:
        inks.append(ink)
        return mnist_digit(ink)

    piece_examples(drawn_digits(20), 40, np.random.default_rng(1), kept)
    whole, pairs, fragments = inks[:40], inks[40:60], inks[60:]
    assert np.median([aspect(ink) for ink in pairs]) > 1.5 * np.median([aspect(i) for i in whole])
    assert np.median([aspect(ink) for ink in fragments]) < np.median([aspect(i) for i in whole])


def test_a_fragment_is_one_side_of_a_cut_through_the_digits_middle_half():
    ink = np.ones((40, 20), np.float32)
    for seed in range(10):
        part = fragment(ink, np.random.default_rng(seed))
        assert part.shape[0] == 40 and 5 <= part.shape[1] <= 15
