"""Calibration error and the reliability diagram, on confidences made by hand."""

import numpy as np
import pytest

from digitflow.evaluation.calibration import (
    bin_index,
    confidence_and_correct,
    expected_calibration_error,
    reliability_bins,
)


def test_bins_are_equal_width_and_closed_on_the_right():
    confidence = np.array([0.0, 1 / 15, 1 / 15 + 1e-9, 0.5, 1.0])
    assert bin_index(confidence).tolist() == [0, 0, 1, 7, 14]


def test_ece_on_hand_computed_bins():
    # Bin (0.6, 0.667]: confidences 0.62, 0.64, two right -> |1 - 0.63| = 0.37, weight 2/5.
    # Bin (0.933, 1]: 0.95, 0.97, 0.99, one right -> |1/3 - 0.97| = 0.6367, weight 3/5.
    confidence = np.array([0.62, 0.64, 0.95, 0.97, 0.99])
    correct = np.array([True, True, False, True, False])
    expected = 2 / 5 * 0.37 + 3 / 5 * abs(1 / 3 - 0.97)
    assert expected_calibration_error(confidence, correct) == pytest.approx(expected)
    bins = reliability_bins(confidence, correct)
    assert [b["count"] for b in bins] == [2, 3]
    assert bins[0]["accuracy"] == 1.0 and bins[1]["confidence"] == pytest.approx(0.97)


def test_perfectly_calibrated_confidences_have_no_error():
    confidence = np.full(4, 0.75)
    assert expected_calibration_error(confidence, np.array([1, 1, 1, 0], bool)) == 0.0


def test_confidence_is_the_top_probability_and_correct_its_class():
    proba = np.array([[0.7, 0.2], [0.3, 0.8]], dtype=np.float32)
    confidence, correct = confidence_and_correct(proba, np.array([0, 0]))
    assert confidence.tolist() == pytest.approx([0.7, 0.8]) and correct.tolist() == [True, False]
