"""The temperature fitted on logits with a known temperature, and the threshold choice."""

import numpy as np
import pytest

from digitflow.network.calibration import fit_temperature, min_confidence_for

# Most confident first: right, right, wrong, right, wrong.
CONFIDENCE = np.array([0.6, 0.99, 0.7, 0.9, 0.95])
CORRECT = np.array([False, True, True, False, True])


def logits_drawn_at_temperature(temperature: float, m: int, seed: int = 0):
    """Labels drawn from softmax(z / temperature): so ``temperature`` is the one that
    calibrates ``z``, and the fit should recover it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 4.0, (10, m)).astype(np.float32)
    p = np.exp((z - z.max(axis=0)) / temperature)
    p /= p.sum(axis=0)
    y = np.array([rng.choice(10, p=p[:, j]) for j in range(m)])
    return z, y


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_fit_recovers_the_temperature_the_labels_were_drawn_at(temperature):
    z, y = logits_drawn_at_temperature(temperature, 20_000)
    assert fit_temperature(z, y) == pytest.approx(temperature, rel=0.05)


def test_fit_minimises_the_negative_log_likelihood():
    z, y = logits_drawn_at_temperature(1.7, 4000, seed=1)

    def nll(t):
        s = z.astype(np.float64) / t
        s -= s.max(axis=0)
        return np.mean(np.log(np.exp(s).sum(axis=0)) - s[y, np.arange(y.size)])

    fitted = fit_temperature(z, y)
    assert nll(fitted) <= min(nll(fitted * 0.98), nll(fitted * 1.02))


def test_fit_is_float32_exact_and_one_without_samples():
    z, y = logits_drawn_at_temperature(2.0, 500)
    fitted = fit_temperature(z, y)
    assert float(np.float32(fitted)) == fitted
    assert fit_temperature(np.zeros((10, 0), np.float32), np.zeros(0, np.int64)) == 1.0


@pytest.mark.parametrize(
    ("target", "threshold"),
    [(0.0, 0.95), (0.2, 0.95), (0.25, 0.7), (0.5, 0.6)],
)
def test_threshold_is_the_widest_cut_keeping_the_risk_on_target(target, threshold):
    assert min_confidence_for(CONFIDENCE, CORRECT, target) == threshold


def test_threshold_never_splits_a_tie():
    # Accepting one of the two 0.8s would meet the target, but a threshold takes both.
    confidence = np.array([0.9, 0.8, 0.8])
    correct = np.array([True, True, False])
    assert min_confidence_for(confidence, correct, 0.1) == 0.9


def test_threshold_is_one_when_nothing_meets_the_target():
    assert min_confidence_for(np.array([0.9]), np.array([False]), 0.01) == 1.0
    assert min_confidence_for(np.zeros(0), np.zeros(0, bool), 0.01) == 1.0
