"""The evaluate stage command, run through its Typer app on a tiny prepared folder."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from digitflow.evaluation.metrics import metrics_for_split, per_class_records
from digitflow.evaluation.report import png_bytes, prediction_grid, worst_grid
from digitflow.network.digit_likeness import DigitLikeness
from digitflow.network.mlp import init_network
from digitflow.network.model_io import load_network, save_network
from digitflow.stages import evaluate

runner = CliRunner()
TEST_SIZE = 12
REPORTS = (
    "metrics.json",
    "confusion.json",
    "per_class.json",
    "test_grid.png",
    "worst.png",
    "reliability.json",
    "risk_coverage.json",
)


@pytest.fixture
def project(tmp_path) -> Path:
    """A prepared folder whose test split is 12 random digits, and a small random network."""
    rng = np.random.default_rng(0)
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    np.save(prepared / "X_test.npy", rng.random((784, TEST_SIZE), dtype=np.float32))
    np.save(prepared / "y_test.npy", (np.arange(TEST_SIZE) % 10).astype(np.uint8))
    # The training split is unreadable: the stage must never need it.
    (prepared / "X_train.npy").write_bytes(b"not an array")
    (prepared / "y_train.npy").write_bytes(b"not an array")
    save_network(tmp_path / "weights.npz", init_network((784, 8, 10), rng), {"seed": 0})
    write_params(tmp_path, {})
    return tmp_path


def write_params(folder: Path, evaluate_section: dict) -> None:
    (folder / "params.yaml").write_text(yaml.safe_dump({"evaluate": evaluate_section}))


def scored_test_split(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, proba)`` of the test split, computed here without the stage."""
    network, _ = load_network(folder / "weights.npz")
    X = np.load(folder / "prepared/X_test.npy")
    y = np.load(folder / "prepared/y_test.npy")
    return X, y, network.predict_proba(X)


def run_evaluate(folder: Path, *extra: str, model: str = "weights.npz"):
    args = [
        *("--params", str(folder / "params.yaml")),
        *("--data-dir", str(folder / "prepared")),
        *("--model", str(folder / model)),
        *("--metrics", str(folder / "reports/metrics.json")),
        *("--confusion", str(folder / "reports/confusion.json")),
        *("--per-class", str(folder / "reports/per_class.json")),
        *("--grid", str(folder / "reports/test_grid.png")),
        *("--worst", str(folder / "reports/worst.png")),
        *("--reliability", str(folder / "reports/reliability.json")),
        *("--risk-coverage", str(folder / "reports/risk_coverage.json")),
        *extra,
    ]
    return runner.invoke(evaluate.app, args)


def test_stage_scores_the_test_split_and_names_it(project):
    result = run_evaluate(project)
    assert result.exit_code == 0, result.output
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert list(metrics) == ["test"]
    assert metrics["test"]["samples"] == TEST_SIZE


def test_stage_metrics_match_the_network_on_the_test_arrays(project):
    assert run_evaluate(project).exit_code == 0
    _, y, proba = scored_test_split(project)
    expected = metrics_for_split("test", proba, y)["test"]
    written = json.loads((project / "reports/metrics.json").read_text())["test"]
    assert {key: written[key] for key in expected} == expected


def test_stage_writes_one_confusion_record_per_test_sample_in_order(project):
    assert run_evaluate(project).exit_code == 0
    records = json.loads((project / "reports/confusion.json").read_text())
    assert [r["actual"] for r in records] == [i % 10 for i in range(TEST_SIZE)]
    assert all(set(r) == {"actual", "predicted"} for r in records)


def test_stage_writes_per_digit_scores_in_a_file_of_their_own(project):
    assert run_evaluate(project).exit_code == 0
    _, y, proba = scored_test_split(project)
    records = json.loads((project / "reports/per_class.json").read_text())
    assert records == per_class_records(y, proba.argmax(axis=0))


def test_stage_pictures_follow_the_evaluate_params(project):
    write_params(project, {"grid_count": 4, "worst_count": 2})
    assert run_evaluate(project).exit_code == 0
    X, y, proba = scored_test_split(project)
    grid = png_bytes(prediction_grid(X, proba.argmax(axis=0), y, 4))
    worst = png_bytes(worst_grid(X, proba, y, 2))
    assert (project / "reports/test_grid.png").read_bytes() == grid
    assert (project / "reports/worst.png").read_bytes() == worst
    assert Image.open(project / "reports/worst.png").format == "PNG"


def test_stage_prints_a_summary_line(project):
    result = run_evaluate(project)
    assert "test: accuracy " in result.output and f"on {TEST_SIZE} samples" in result.output


def test_stage_offers_no_way_to_pick_another_split(project):
    result = run_evaluate(project, "--split", "train")
    assert result.exit_code == 2
    assert "--split" not in runner.invoke(evaluate.app, ["--help"]).output


def test_missing_model_is_one_line_error_and_old_reports_stay(project):
    reports = project / "reports"
    reports.mkdir()
    for name in REPORTS:
        (reports / name).write_text(f"old {name}")
    result = run_evaluate(project, model="missing.npz")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "missing.npz" in result.output
    assert {name: (reports / name).read_text() for name in REPORTS} == {
        name: f"old {name}" for name in REPORTS
    }
    assert sorted(p.name for p in reports.iterdir()) == sorted(REPORTS)


def test_out_of_range_param_is_refused_naming_the_key(project):
    write_params(project, {"worst_count": 0})
    result = run_evaluate(project)
    assert result.exit_code == 2
    assert "evaluate.worst_count" in result.output
    assert not (project / "reports").exists()


def test_stage_reports_calibration_with_the_stored_temperature_and_threshold(project):
    network, _ = load_network(project / "weights.npz")
    network.temperature = 3.0
    save_network(project / "weights.npz", network, {"calibration": {"min_confidence": 0.2}})
    assert run_evaluate(project).exit_code == 0
    written = json.loads((project / "reports/metrics.json").read_text())["test"]
    assert written["temperature"] == 3.0 and written["min_confidence"] == 0.2
    assert written["ece"] != written["ece_uncalibrated"]
    _, y, proba = scored_test_split(project)
    assert written["nll"] == pytest.approx(-np.mean(np.log(proba[y, np.arange(y.size)])), abs=1e-5)
    assert written["coverage_at_min_confidence"] == round(float(np.mean(proba.max(0) >= 0.2)), 6)


def test_stage_reports_the_share_the_stored_digit_likeness_rejects(project):
    network, _ = load_network(project / "weights.npz")
    network.likeness = DigitLikeness(np.zeros(8, np.float32), 0.0, 100.0)  # turns all away
    save_network(project / "weights.npz", network, {"calibration": {"min_confidence": 0.2}})
    assert run_evaluate(project).exit_code == 0
    written = json.loads((project / "reports/metrics.json").read_text())["test"]
    assert written["rejected_share"] == 1.0 and written["ok_share"] == 0.0


def test_stage_writes_the_reliability_and_risk_coverage_plots(project):
    assert run_evaluate(project).exit_code == 0
    bins = json.loads((project / "reports/reliability.json").read_text())
    assert sum(b["count"] for b in bins) == TEST_SIZE
    assert set(bins[0]) == {"bin", "confidence", "accuracy", "count"}
    curve = json.loads((project / "reports/risk_coverage.json").read_text())
    assert curve[-1]["coverage"] == 1.0 and len(curve) == TEST_SIZE
