"""Metrics of predictions against labels, checked on cases small enough to compute by hand."""

import json
import math

import numpy as np
import pytest

from digitflow.evaluation.metrics import (
    PROBABILITY_FLOOR,
    EmptySplitError,
    accuracy,
    class_scores,
    confidence_scores,
    confusion_matrix,
    confusion_records,
    mean_cross_entropy,
    metrics_for_split,
    per_class_records,
    predicted_classes,
    status_scores,
)


def one_hot_proba(labels: list[int], confidence: float = 0.91) -> np.ndarray:
    """(10, m) float32 probabilities putting ``confidence`` on each label, the rest spread."""
    proba = np.full((10, len(labels)), (1 - confidence) / 9, dtype=np.float32)
    proba[labels, np.arange(len(labels))] = confidence
    return proba


# Actual 0 0 1 1 2 / predicted 0 1 1 1 0: class 2 is never predicted, class 3..9 never occur.
Y_TRUE = np.array([0, 0, 1, 1, 2], dtype=np.uint8)
Y_PRED = np.array([0, 1, 1, 1, 0])


def test_predicted_class_is_the_most_probable_row():
    proba = np.array([[0.1, 0.7], [0.6, 0.2], [0.3, 0.1]], dtype=np.float32)
    assert predicted_classes(proba).tolist() == [1, 0]


def test_accuracy_is_the_fraction_right():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(3 / 5)


def test_confusion_matrix_rows_are_actual_columns_predicted():
    confusion = confusion_matrix(Y_TRUE, Y_PRED)
    assert confusion.shape == (10, 10)
    assert confusion[0, 0] == 1 and confusion[0, 1] == 1
    assert confusion[1, 1] == 2
    assert confusion[2, 0] == 1
    assert confusion.sum() == 5


def test_class_scores_match_hand_computation():
    scores = class_scores(confusion_matrix(Y_TRUE, Y_PRED))
    # class 0: predicted twice (1 right), 2 actual (1 found)
    assert scores[0].precision == pytest.approx(1 / 2)
    assert scores[0].recall == pytest.approx(1 / 2)
    assert scores[0].f1 == pytest.approx(1 / 2)
    # class 1: predicted 3 times (2 right), 2 actual (both found)
    assert scores[1].precision == pytest.approx(2 / 3)
    assert scores[1].recall == pytest.approx(1.0)
    assert scores[1].f1 == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    assert [s.support for s in scores[:3]] == [2, 2, 1]


def test_class_never_predicted_has_precision_zero_not_nan():
    never_predicted = class_scores(confusion_matrix(Y_TRUE, Y_PRED))[2]
    assert (never_predicted.precision, never_predicted.recall, never_predicted.f1) == (0, 0, 0)
    assert never_predicted.support == 1


def test_absent_class_has_recall_zero_and_support_zero():
    absent = class_scores(confusion_matrix(Y_TRUE, Y_PRED))[7]
    assert (absent.precision, absent.recall, absent.f1, absent.support) == (0, 0, 0, 0)


def test_loss_is_mean_negative_log_of_true_class_probability():
    proba = one_hot_proba([3, 5], confidence=0.5)
    proba[:, 1] = one_hot_proba([5], confidence=0.25)[:, 0]
    expected = -(math.log(0.5) + math.log(0.25)) / 2
    assert mean_cross_entropy(proba, np.array([3, 5])) == pytest.approx(expected, rel=1e-6)


def test_loss_with_zero_probability_for_true_class_is_clipped_and_finite():
    proba = np.zeros((10, 2), dtype=np.float32)
    proba[4, 0] = 1.0  # right and certain: loss 0
    proba[4, 1] = 1.0  # true class 9 has probability 0
    loss = mean_cross_entropy(proba, np.array([4, 9]))
    assert math.isfinite(loss)
    assert loss == pytest.approx(-math.log(PROBABILITY_FLOOR) / 2)


def test_confusion_records_are_one_per_sample_in_sample_order():
    records = confusion_records(Y_TRUE, Y_PRED)
    assert records == [
        {"actual": 0, "predicted": 0},
        {"actual": 0, "predicted": 1},
        {"actual": 1, "predicted": 1},
        {"actual": 1, "predicted": 1},
        {"actual": 2, "predicted": 0},
    ]
    assert all(type(v) is int for record in records for v in record.values())


def test_metrics_json_key_names_and_order_are_pinned():
    """These names are read by `dvc metrics diff` across revisions: renaming one is a break."""
    metrics = metrics_for_split("test", one_hot_proba(Y_PRED.tolist()), Y_TRUE)
    assert list(metrics) == ["test"]
    assert list(metrics["test"]) == ["accuracy", "loss", "samples", "macro_f1"]


def test_per_class_records_are_one_per_digit_with_pinned_keys():
    records = per_class_records(Y_TRUE, Y_PRED)
    assert [r["digit"] for r in records] == list(range(10))
    assert all(list(r) == ["digit", "precision", "recall", "f1", "support"] for r in records)
    assert records[1] == {"digit": 1, "precision": 0.666667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert json.loads(json.dumps(records)) == records
    assert all(type(r["support"]) is int for r in records)


def test_metrics_json_values_match_the_parts():
    metrics = metrics_for_split("test", one_hot_proba(Y_PRED.tolist()), Y_TRUE)["test"]
    assert metrics["accuracy"] == 0.6
    assert metrics["samples"] == 5
    assert metrics["loss"] == pytest.approx(
        -(3 * math.log(0.91) + 2 * math.log(0.01)) / 5, abs=1e-6
    )
    assert metrics["macro_f1"] == round((0.5 + 0.8) / 10, 6)


def test_metrics_json_is_plain_json_with_builtin_types():
    metrics = metrics_for_split("test", one_hot_proba(Y_PRED.tolist()), Y_TRUE)
    assert json.loads(json.dumps(metrics)) == metrics
    assert type(metrics["test"]["samples"]) is int


def test_empty_split_is_refused_with_its_name():
    with pytest.raises(EmptySplitError, match="test split has no samples"):
        metrics_for_split("test", np.zeros((10, 0), dtype=np.float32), np.zeros(0, np.uint8))


def test_confidence_key_names_are_pinned_and_plain_json():
    """Anyone's scripts find the calibration figures under these names (issue 11)."""
    proba = one_hot_proba(Y_PRED.tolist())
    scores = confidence_scores(proba, proba, Y_TRUE, 1.0, 0.5)
    assert list(scores) == [
        "temperature",
        "ece",
        "ece_uncalibrated",
        "nll",
        "nll_uncalibrated",
        "risk_at_90",
        "risk_at_95",
        "risk_at_99",
        "aurc",
        "min_confidence",
        "coverage_at_min_confidence",
        "risk_at_min_confidence",
    ]
    assert json.loads(json.dumps(scores)) == scores


def test_threshold_is_measured_on_the_split_scored():
    proba = one_hot_proba(Y_PRED.tolist())
    proba[:, 0] = 0.1  # sample 0 (right) is unsure now
    scores = confidence_scores(proba, proba, Y_TRUE, 1.0, 0.5)
    assert scores["coverage_at_min_confidence"] == 0.8
    assert scores["risk_at_min_confidence"] == 0.5  # 1 and 2 of the four accepted are wrong
    unscored = confidence_scores(proba, proba, Y_TRUE, 1.0, None)
    assert unscored["coverage_at_min_confidence"] is None


def test_status_shares_are_those_predict_folder_would_give():
    proba = one_hot_proba(Y_PRED.tolist())
    proba[:, 0] = 0.1  # sample 0 (right) is below the threshold: uncertain
    unlike = np.array([False, False, True, False, False])  # sample 2 (right) is turned away
    scores = status_scores(proba, Y_TRUE, 0.5, unlike)
    assert scores == {"rejected_share": 0.2, "ok_share": 0.6, "risk_of_ok": round(2 / 3, 6)}
    without_likeness = status_scores(proba, Y_TRUE, None, None)
    assert without_likeness == {"rejected_share": None, "ok_share": 1.0, "risk_of_ok": 0.4}
