"""Calibrating the trained network on the validation split: the temperature that makes its
probabilities honest, and the confidence threshold that keeps accepted answers on target.

Temperature scaling (Guo et al., ICML 2017) divides every logit by one scalar T fitted on
held-out data to minimise the negative log-likelihood: the predicted class never changes, only
how sure the network says it is. Both results are stored in the weights file, so evaluate and
predict-folder use them without the validation data.
"""

import math

import numpy as np

from digitflow.network.mlp import Network, scaled_logits, softmax_columns

_NEWTON_STEPS = 50
_BETA_RANGE = (1e-3, 1e3)
"""1 / T is searched within this range: far beyond any network worth calibrating."""


def fit_temperature(logits_10xm: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 minimising the mean NLL of ``softmax(logits / T)`` against labels ``y``.

    The NLL is convex in beta = 1 / T (a log-sum-exp of a linear function minus a linear
    function), with derivative mean(E_p[z] - z_y) and second derivative mean(Var_p[z]); so
    Newton's method on beta, kept inside a shrinking bracket, finds the one minimum in a few
    steps. Returns 1 when there is nothing to fit on. The result is rounded to float32, the
    precision the weights file stores, so a saved and reloaded model gives the same numbers.
    """
    if y.size == 0:
        return 1.0
    z = logits_10xm.astype(np.float64)
    z_true = z[y, np.arange(y.size)]
    low, high = _BETA_RANGE
    beta = 1.0
    for _ in range(_NEWTON_STEPS):
        slope, curvature = _nll_slope_and_curvature(z, z_true, beta)
        if abs(slope) < 1e-10:
            break
        if slope > 0:
            high = beta
        else:
            low = beta
        step = beta - slope / curvature if curvature > 0 else None
        beta = step if step is not None and low < step < high else np.sqrt(low * high)
        if high / low < 1 + 1e-9:
            break
    return float(np.float32(1.0 / beta))


def _nll_slope_and_curvature(z: np.ndarray, z_true: np.ndarray, beta: float) -> tuple[float, float]:
    scaled = beta * z
    scaled -= scaled.max(axis=0)
    p = np.exp(scaled)
    p /= p.sum(axis=0)
    mean_z = (p * z).sum(axis=0)  # (m,)
    var_z = (p * z * z).sum(axis=0) - mean_z**2
    return float(np.mean(mean_z - z_true)), float(np.mean(var_z))


def min_confidence_for(confidence: np.ndarray, correct: np.ndarray, target_error: float) -> float:
    """The lowest threshold t such that the samples with confidence >= t (``(m,)`` floats)
    are wrong (``~correct``) at most ``target_error`` of the time: the widest coverage that
    keeps the risk on target.

    A threshold must accept every sample of a confidence it admits, so only cuts between
    distinct confidences are candidates. When no cut keeps the target (or there are no
    samples) the result is 1.0: only certain answers pass.
    """
    if confidence.size == 0:
        return 1.0
    order = np.argsort(-confidence, kind="stable")  # most confident first
    ranked = confidence[order]
    risk = np.cumsum(~correct[order]) / np.arange(1, ranked.size + 1)
    cuts = np.append(ranked[1:] < ranked[:-1], True)  # the last sample of each tie
    allowed = np.flatnonzero(cuts & (risk <= target_error))
    return float(ranked[allowed[-1]]) if allowed.size else 1.0


def calibrate_on(network: Network, X_784xm: np.ndarray, y: np.ndarray, target_error: float) -> dict:
    """Fit ``network.temperature`` on held-out images (set in place) and choose there the
    threshold for ``target_error``: the ``calibration`` record of the weights file's meta.
    Without images the network stays as trained and no threshold is stored (None)."""
    record = {"temperature": 1.0, "min_confidence": None, "target_error": target_error}
    if y.size == 0:
        return record
    logits = network.predict_logits(X_784xm)
    network.temperature = fit_temperature(logits, y)
    proba = softmax_columns(scaled_logits(logits, network.temperature))
    confidence, correct = proba.max(axis=0), proba.argmax(axis=0) == y
    # Floored to the CSV's 6 decimals, on which predict-folder decides (and re-decides) rows.
    min_confidence = math.floor(min_confidence_for(confidence, correct, target_error) * 1e6) / 1e6
    record |= {
        "temperature": network.temperature,
        "min_confidence": min_confidence,
        "val_coverage": round(float(np.mean(confidence >= min_confidence)), 6),
    }
    return record
