"""Scores of predicted class probabilities against true labels: accuracy, loss, per-class F1.

Probabilities come as ``proba_10xm`` (classes x samples, the network's layout) and labels as
``y_true`` (m,) integers in 0..9. :func:`metrics_for_split` builds the nested metrics JSON that
``dvc metrics show/diff`` read: only the figures a person compares between runs, so the table
stays narrow; :func:`per_class_records` the per-digit figures, for a plot. Key names are part
of the interface (a renamed key shows as ``-`` for every older revision), so they are defined
once here and pinned by a test.
"""

from dataclasses import dataclass

import numpy as np

from digitflow.dataset.idx import NUM_CLASSES
from digitflow.errors import DigitflowError
from digitflow.evaluation.calibration import confidence_and_correct, expected_calibration_error
from digitflow.evaluation.selective import COVERAGES, aurc, risk_at_coverage, risk_coverage

PROBABILITY_FLOOR = 1e-12
"""Smallest probability the loss takes a log of: one certain mistake would otherwise make the
mean loss infinite and hide every other sample (−log 1e-12 ≈ 27.6)."""
DECIMALS = 6
"""Floats in the metrics JSON are rounded so reruns and diffs are not noise in the 17th digit."""


class EmptySplitError(DigitflowError):
    """The split to score has no samples, so no metric is defined."""


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class; 0.0 (not NaN) where a ratio has no denominator."""

    precision: float
    recall: float
    f1: float
    support: int


def predicted_classes(proba_10xm: np.ndarray) -> np.ndarray:
    """The most probable class of each sample: (10, m) -> (m,) int64."""
    return np.argmax(proba_10xm, axis=0)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


def mean_cross_entropy(proba_10xm: np.ndarray, y_true: np.ndarray) -> float:
    """Mean of −log p(true class), in float64, with p floored at :data:`PROBABILITY_FLOOR`."""
    p_true = proba_10xm[y_true, np.arange(y_true.size)].astype(np.float64)
    return float(-np.mean(np.log(np.clip(p_true, PROBABILITY_FLOOR, 1.0))))


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Counts as (n_classes, n_classes) int64: row = actual class, column = predicted class."""
    cells = y_true.astype(np.int64) * n_classes + y_pred.astype(np.int64)
    return np.bincount(cells, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def class_scores(confusion: np.ndarray) -> list[ClassScore]:
    """Per-class scores from a confusion matrix (rows actual, columns predicted).

    A class never predicted has precision 0 and a class absent from the labels has recall 0
    and support 0, rather than NaN, so the JSON stays valid and diffs stay numeric.
    """
    true_positive = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    precision = _ratio_or_zero(true_positive, predicted)
    recall = _ratio_or_zero(true_positive, support)
    f1 = _ratio_or_zero(2 * precision * recall, precision + recall)
    return [
        ClassScore(float(p), float(r), float(f), int(s))
        for p, r, f, s in zip(precision, recall, f1, support, strict=True)
    ]


def _ratio_or_zero(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    zeros = np.zeros_like(numerator, dtype=np.float64)
    return np.divide(numerator, denominator, out=zeros, where=denominator > 0)


def metrics_for_split(split: str, proba_10xm: np.ndarray, y_true: np.ndarray) -> dict:
    """The metrics JSON for one split, keys in a fixed order::

        {split: {"accuracy", "loss", "samples", "macro_f1"}}

    ``macro_f1`` averages all ten classes, absent ones included (as 0), so it never
    silently skips a class the network cannot see.
    """
    samples = int(y_true.size)
    if samples == 0:
        raise EmptySplitError(f"the {split} split has no samples, so it cannot be scored")
    y_pred = predicted_classes(proba_10xm)
    scores = class_scores(confusion_matrix(y_true, y_pred))
    return {
        split: {
            "accuracy": _rounded(accuracy(y_true, y_pred)),
            "loss": _rounded(mean_cross_entropy(proba_10xm, y_true)),
            "samples": samples,
            "macro_f1": _rounded(float(np.mean([score.f1 for score in scores]))),
        }
    }


def per_class_records(y_true: np.ndarray, y_pred: np.ndarray) -> list[dict]:
    """One ``{"digit", "precision", "recall", "f1", "support"}`` record per class, for the
    per-digit plot (``dvc plots`` reads record lists; ``dvc metrics`` would add 40 columns)."""
    scores = class_scores(confusion_matrix(y_true, y_pred))
    return [
        {
            "digit": digit,
            "precision": _rounded(score.precision),
            "recall": _rounded(score.recall),
            "f1": _rounded(score.f1),
            "support": score.support,
        }
        for digit, score in enumerate(scores)
    ]


def confidence_scores(
    proba_10xm: np.ndarray,
    proba_uncalibrated_10xm: np.ndarray,
    y_true: np.ndarray,
    temperature: float,
    min_confidence: float | None,
) -> dict:
    """How far the confidences can be trusted, for the split's section of the metrics JSON::

        {"temperature", "ece", "ece_uncalibrated", "nll", "nll_uncalibrated",
         "risk_at_90", "risk_at_95", "risk_at_99", "aurc",
         "min_confidence", "coverage_at_min_confidence", "risk_at_min_confidence"}

    ``risk_at_C`` is the error rate among the C % most confident answers. The threshold
    ``min_confidence`` was chosen on the validation split; here it is measured on this one
    (its three keys are null for a model that stores none).
    """
    confidence, correct = confidence_and_correct(proba_10xm, y_true)
    raw_confidence, _ = confidence_and_correct(proba_uncalibrated_10xm, y_true)
    curve = risk_coverage(confidence, correct)
    scores = {
        "temperature": _rounded(temperature),
        "ece": _rounded(expected_calibration_error(confidence, correct)),
        "ece_uncalibrated": _rounded(expected_calibration_error(raw_confidence, correct)),
        "nll": _rounded(mean_cross_entropy(proba_10xm, y_true)),
        "nll_uncalibrated": _rounded(mean_cross_entropy(proba_uncalibrated_10xm, y_true)),
    }
    for coverage in COVERAGES:
        scores[f"risk_at_{round(coverage * 100)}"] = _rounded(risk_at_coverage(curve, coverage))
    scores["aurc"] = _rounded(aurc(curve))
    scores["min_confidence"] = min_confidence
    scores["coverage_at_min_confidence"] = scores["risk_at_min_confidence"] = None
    if min_confidence is not None:
        accepted = confidence >= min_confidence
        scores["coverage_at_min_confidence"] = _rounded(float(accepted.mean()))
        wrong = float(np.mean(~correct[accepted])) if accepted.any() else 0.0
        scores["risk_at_min_confidence"] = _rounded(wrong)
    return scores


def status_scores(
    proba_10xm: np.ndarray,
    y_true: np.ndarray,
    min_confidence: float | None,
    unlike: np.ndarray | None,
) -> dict:
    """The statuses predict-folder would give the split's digits, for its section of the
    metrics JSON: ``{"rejected_share", "ok_share", "risk_of_ok"}``. ``unlike`` (m,) bool marks
    the digits the model's digit likeness turns away (None: the model has none, and
    ``rejected_share`` is null); ``ok`` is the rest with a confidence of at least
    ``min_confidence`` (all of the rest when it is None, as predict-folder decides)."""
    confidence, correct = confidence_and_correct(proba_10xm, y_true)
    rejected = np.zeros(y_true.size, bool) if unlike is None else unlike
    ok = ~rejected & (confidence >= (min_confidence or 0.0))
    return {
        "rejected_share": None if unlike is None else _rounded(float(rejected.mean())),
        "ok_share": _rounded(float(ok.mean())),
        "risk_of_ok": _rounded(float(np.mean(~correct[ok])) if ok.any() else 0.0),
    }


def _rounded(value: float) -> float:
    return round(value, DECIMALS)


def confusion_records(y_true: np.ndarray, y_pred: np.ndarray) -> list[dict[str, int]]:
    """One ``{"actual", "predicted"}`` record per sample, in sample order, for DVC's
    ``confusion`` plot template (which does the counting itself)."""
    return [
        {"actual": actual, "predicted": predicted}
        for actual, predicted in zip(y_true.tolist(), y_pred.tolist(), strict=True)
    ]
