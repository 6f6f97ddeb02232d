"""How well confidences match accuracy: the expected calibration error (ECE) and the
reliability diagram's bins.

Confidences come as ``(m,)`` arrays of the top class's probability, ``correct`` as ``(m,)``
booleans. (The temperature that calibrates the network is fitted in
``digitflow.network.calibration``.)
"""

import numpy as np

ECE_BINS = 15
"""Equal-width confidence bins for ECE and the reliability diagram, as in Guo et al."""


def confidence_and_correct(proba_10xm: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The top probability (m,) float64 and whether the top class is the label (m,) bool."""
    return proba_10xm.max(axis=0).astype(np.float64), proba_10xm.argmax(axis=0) == y


def bin_index(confidence: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Bin of each confidence among ``bins`` equal-width bins ``(k/bins, (k+1)/bins]``; a
    confidence of exactly 0 goes into the first."""
    return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)


def reliability_bins(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> list[dict]:
    """One record per non-empty bin, in order: ``{"bin", "confidence", "accuracy", "count"}``
    (mean confidence and accuracy of the samples in it): the reliability diagram's points."""
    index = bin_index(confidence, bins)
    count = np.bincount(index, minlength=bins)
    confidence_sum = np.bincount(index, weights=confidence, minlength=bins)
    correct_sum = np.bincount(index, weights=correct.astype(np.float64), minlength=bins)
    return [
        {
            "bin": f"{k / bins:.3f}-{(k + 1) / bins:.3f}",
            "confidence": confidence_sum[k] / count[k],
            "accuracy": correct_sum[k] / count[k],
            "count": int(count[k]),
        }
        for k in range(bins)
        if count[k]
    ]


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE: the sample-weighted mean over bins of |accuracy - mean confidence|."""
    m = confidence.size
    return float(
        sum(
            r["count"] / m * abs(r["accuracy"] - r["confidence"])
            for r in reliability_bins(confidence, correct, bins)
        )
    )
