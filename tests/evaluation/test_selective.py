"""Risk–coverage and AURC, on a tiny example worked by hand."""

import numpy as np
import pytest

from digitflow.evaluation.selective import (
    aurc,
    curve_records,
    risk_at_coverage,
    risk_coverage,
)

# Most confident first: right, right, wrong, right, wrong.
CONFIDENCE = np.array([0.6, 0.99, 0.7, 0.9, 0.95])
CORRECT = np.array([False, True, True, False, True])


def test_curve_accepts_the_most_confident_first():
    curve = risk_coverage(CONFIDENCE, CORRECT)
    assert curve.confidence.tolist() == [0.99, 0.95, 0.9, 0.7, 0.6]
    assert curve.risk.tolist() == pytest.approx([0, 0, 1 / 3, 1 / 4, 2 / 5])
    assert curve.coverage.tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_risk_at_coverage_rounds_the_accepted_count_up():
    curve = risk_coverage(CONFIDENCE, CORRECT)
    assert risk_at_coverage(curve, 0.4) == 0.0
    assert risk_at_coverage(curve, 0.5) == pytest.approx(1 / 3)  # 3 of 5 accepted
    assert risk_at_coverage(curve, 1.0) == pytest.approx(2 / 5)


def test_aurc_is_the_mean_risk_over_every_coverage():
    expected = (0 + 0 + 1 / 3 + 1 / 4 + 2 / 5) / 5
    assert aurc(risk_coverage(CONFIDENCE, CORRECT)) == pytest.approx(expected)


def test_plot_records_span_the_curve_end_to_end():
    records = curve_records(risk_coverage(CONFIDENCE, CORRECT), points=3)
    assert [r["coverage"] for r in records] == pytest.approx([0.2, 0.6, 1.0])
    assert records[-1]["risk"] == pytest.approx(0.4)
