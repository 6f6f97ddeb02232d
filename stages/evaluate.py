"""evaluate stage: score the trained network on the test split and draw its predictions."""

from pathlib import Path
from typing import Annotated

import typer

from digitflow.atomic import write_bytes_atomic, write_json_atomic
from digitflow.console import note, reports_errors
from digitflow.dataset.prepare import load_prepared
from digitflow.evaluation.calibration import confidence_and_correct, reliability_bins
from digitflow.evaluation.metrics import (
    confidence_scores,
    confusion_records,
    metrics_for_split,
    per_class_records,
    predicted_classes,
    status_scores,
)
from digitflow.evaluation.report import EvaluateConfig, png_bytes, prediction_grid, worst_grid
from digitflow.evaluation.selective import curve_records, risk_coverage
from digitflow.network.digit_likeness import hidden_and_logits
from digitflow.network.mlp import scaled_logits, softmax_columns
from digitflow.network.model_io import load_network, stored_min_confidence
from digitflow.options import PARAMS_FILE, ParamsFile, command_app
from digitflow.params import load_section

SPLIT = "test"
"""The only split this stage reads. There is deliberately no option to choose another: the
seed reported a "test" accuracy that it had measured on the training data."""

app = command_app()


@app.command()
@reports_errors
def main(
    params: ParamsFile = PARAMS_FILE,
    data_dir: Annotated[
        Path, typer.Option(help="Folder of prepared arrays; only X_test/y_test are read.")
    ] = Path("data/prepared"),
    model: Annotated[Path, typer.Option(help="Trained weights to score.")] = Path(
        "data/model/weights.npz"
    ),
    metrics: Annotated[Path, typer.Option(help="Where to write the metrics JSON.")] = Path(
        "reports/metrics.json"
    ),
    confusion: Annotated[
        Path, typer.Option(help="Where to write one {actual, predicted} record per sample.")
    ] = Path("reports/confusion.json"),
    per_class: Annotated[
        Path, typer.Option(help="Where to write each digit's precision, recall and F1.")
    ] = Path("reports/per_class.json"),
    grid: Annotated[Path, typer.Option(help="Picture of the first test digits.")] = Path(
        "reports/test_grid.png"
    ),
    worst: Annotated[Path, typer.Option(help="Picture of the worst mistakes.")] = Path(
        "reports/worst.png"
    ),
    reliability: Annotated[
        Path, typer.Option(help="Reliability diagram: confidence vs accuracy per bin.")
    ] = Path("reports/reliability.json"),
    risk_coverage_plot: Annotated[
        Path,
        typer.Option("--risk-coverage", help="Risk–coverage curve: error among the accepted."),
    ] = Path("reports/risk_coverage.json"),
) -> None:
    """Score the network on the test split: metrics, per-digit scores, confusion records,
    calibration plots and two pictures. Every probability is calibrated by the temperature
    stored with the model."""
    config = load_section(params, "evaluate", EvaluateConfig)
    network, meta = load_network(model)
    min_confidence = stored_min_confidence(model, meta)
    X_784xm, y_true = load_prepared(data_dir, SPLIT)
    hidden_hxm, logits_10xm = hidden_and_logits(network, X_784xm)  # one pass for both
    proba_uncalibrated_10xm = softmax_columns(logits_10xm.copy())
    proba_10xm = softmax_columns(scaled_logits(logits_10xm, network.temperature))
    y_pred = predicted_classes(proba_10xm)
    scores = metrics_for_split(SPLIT, proba_10xm, y_true)
    scores[SPLIT] |= confidence_scores(
        proba_10xm, proba_uncalibrated_10xm, y_true, network.temperature, min_confidence
    )
    unlike = (
        None if network.likeness is None else network.likeness.below_min(hidden_hxm, proba_10xm)
    )
    scores[SPLIT] |= status_scores(proba_10xm, y_true, min_confidence, unlike)
    confidence, correct = confidence_and_correct(proba_10xm, y_true)
    reliability_points = reliability_bins(confidence, correct)
    curve_points = curve_records(risk_coverage(confidence, correct))
    # Everything is computed before the first write, so a failure leaves the old reports whole.
    grid_png = png_bytes(prediction_grid(X_784xm, y_pred, y_true, config.grid_count))
    worst_png = png_bytes(worst_grid(X_784xm, proba_10xm, y_true, config.worst_count))
    write_json_atomic(metrics, scores)
    write_json_atomic(confusion, confusion_records(y_true, y_pred))
    write_json_atomic(per_class, per_class_records(y_true, y_pred))
    write_bytes_atomic(grid, grid_png)
    write_bytes_atomic(worst, worst_png)
    write_json_atomic(reliability, reliability_points)
    write_json_atomic(risk_coverage_plot, curve_points)
    summary = scores[SPLIT]
    note(
        f"{SPLIT}: accuracy {summary['accuracy']:.4f}, loss {summary['loss']:.4f} "
        f"on {summary['samples']} samples; ECE {summary['ece']:.4f} "
        f"(uncalibrated {summary['ece_uncalibrated']:.4f})"
    )


if __name__ == "__main__":
    app()
