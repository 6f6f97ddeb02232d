"""Selective prediction: how wrong the answers are that a confidence threshold lets through.

Sorting samples by confidence, most confident first, and accepting the first k gives coverage
k / m and risk (the error rate among the accepted) for every k: the risk–coverage curve
(Geifman & El-Yaniv, NeurIPS 2017). AURC is its mean over k. Confidences come as ``(m,)``
floats, ``correct`` as ``(m,)`` booleans.
"""

import math
from dataclasses import dataclass

import numpy as np

COVERAGES = (0.90, 0.95, 0.99)
"""The coverages whose risk evaluate reports."""
CURVE_POINTS = 200
"""Points of the risk–coverage plot: enough for a smooth line, small enough to diff."""


@dataclass(frozen=True)
class RiskCoverage:
    """The curve as arrays over k = 1..m accepted samples (most confident first)."""

    confidence: np.ndarray
    """Confidence of the k-th most confident sample, non-increasing."""
    risk: np.ndarray
    """Error rate among the first k."""

    @property
    def coverage(self) -> np.ndarray:
        m = self.risk.size
        return np.arange(1, m + 1) / m


def risk_coverage(confidence: np.ndarray, correct: np.ndarray) -> RiskCoverage:
    """The risk–coverage curve. Ties keep sample order (a stable sort), so the curve is the
    same on every machine."""
    order = np.argsort(-confidence, kind="stable")
    errors = np.cumsum(~correct[order])
    return RiskCoverage(confidence[order], errors / np.arange(1, confidence.size + 1))


def risk_at_coverage(curve: RiskCoverage, coverage: float) -> float:
    """Risk when the ``ceil(coverage * m)`` most confident samples are accepted."""
    k = max(1, math.ceil(coverage * curve.risk.size - 1e-9))
    return float(curve.risk[k - 1])


def aurc(curve: RiskCoverage) -> float:
    """Area under the risk–coverage curve: the mean risk over every k (lower is better)."""
    return float(np.mean(curve.risk))


def curve_records(curve: RiskCoverage, points: int = CURVE_POINTS) -> list[dict]:
    """``{"coverage", "risk", "confidence"}`` at ``points`` evenly spaced coverages: the plot."""
    m = curve.risk.size
    picks = np.unique(np.ceil(np.linspace(1, m, min(points, m))).astype(np.int64)) - 1
    return [
        {
            "coverage": float(curve.coverage[k]),
            "risk": float(curve.risk[k]),
            "confidence": float(curve.confidence[k]),
        }
        for k in picks.tolist()
    ]
