"""The train stage through its real command line, on a tiny prepared folder."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import synthetic_digits
from typer.testing import CliRunner

from digitflow.network.model_io import load_network
from digitflow.network.training import EpochStats, TrainResult
from digitflow.stages.train import app, kept_epoch_summary

runner = CliRunner()
TINY_TRAIN = {
    "hidden": [16],
    "optimizer": "momentum",
    "lr": 0.05,
    "batch_size": 32,
    "epochs": 3,
    # 200 digits and 3 epochs: a tiny network learns them unslanted and at their own width
    "slant": 0.0,
    "aspect": 0.0,
}


def prepare_folder(root: Path, y_train: np.ndarray | None = None) -> Path:
    prepared = root / "prepared"
    prepared.mkdir()
    X_train, labels = synthetic_digits(200, seed=1)
    splits = {
        "train": (X_train, labels if y_train is None else y_train),
        "val": synthetic_digits(50, seed=2),
        "test": synthetic_digits(50, seed=3),
    }
    for split, (X, y) in splits.items():
        np.save(prepared / f"X_{split}.npy", X)
        np.save(prepared / f"y_{split}.npy", y)
    return prepared


def run_args(root: Path, out_name: str, train_params: dict = TINY_TRAIN) -> list[str]:
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump({"train": train_params}))
    args = ["--params", str(params), "--data-dir", str(root / "prepared")]
    return args + ["--out", str(root / "model" / out_name), "--live-dir", str(root / "dvclive")]


def run_stage(root: Path, train_params: dict, out_name: str = "weights.npz"):
    return runner.invoke(app, run_args(root, out_name, train_params))


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # dvclive looks for a repo from the working directory
    prepare_folder(tmp_path)
    return tmp_path


def test_stage_writes_weights_and_dvclive_metrics(root):
    result = run_stage(root, TINY_TRAIN)
    assert result.exit_code == 0, result.output
    network, meta = load_network(root / "model/weights.npz")
    assert network.layer_sizes == (784, 16, 10)
    assert meta["train"]["hidden"] == [16] and len(meta["history"]) == 3
    metrics = json.loads((root / "dvclive/metrics.json").read_text())
    assert metrics["step"] == 3 and metrics["best_epoch"] == meta["best_epoch"]
    assert set(metrics["train"]) == {"loss", "accuracy"} and set(metrics["val"]) == {
        "loss",
        "accuracy",
    }
    curve = (root / "dvclive/plots/metrics/val/accuracy.tsv").read_text().splitlines()
    assert curve[0].split("\t") == ["step", "accuracy"] and len(curve) == 4
    assert "epoch 3/3" in result.output  # plain log lines when not on a terminal
    assert not (root / "dvc.yaml").exists()


def test_stage_stores_the_temperature_and_threshold_fitted_on_val(root):
    assert run_stage(root, {**TINY_TRAIN, "target_error": 0.2}).exit_code == 0
    network, meta = load_network(root / "model/weights.npz")
    calibration = meta["calibration"]
    assert network.temperature == calibration["temperature"] != 1.0
    X_val, y_val = np.load(root / "prepared/X_val.npy"), np.load(root / "prepared/y_val.npy")
    proba = network.predict_proba(X_val)
    accepted = proba.max(axis=0) >= calibration["min_confidence"]
    assert np.mean(proba.argmax(axis=0)[accepted] != y_val[accepted]) <= 0.2
    assert calibration["val_coverage"] == pytest.approx(accepted.mean(), abs=1e-6)


def test_stage_without_val_split_logs_train_metrics_only(root):
    for name, empty in (
        ("X_val.npy", np.zeros((784, 0), np.float32)),
        ("y_val.npy", np.zeros(0, np.uint8)),
    ):
        np.save(root / "prepared" / name, empty)
    result = run_stage(root, {**TINY_TRAIN, "patience": 1})
    assert result.exit_code == 0, result.output
    metrics = json.loads((root / "dvclive/metrics.json").read_text())
    assert "val" not in metrics and metrics["best_epoch"] == 3
    network, meta = load_network(root / "model/weights.npz")
    assert meta["epochs_run"] == 3
    assert network.temperature == 1.0 and meta["calibration"]["min_confidence"] is None
    assert "no validation split" in result.output


def test_stage_reruns_write_identical_bytes(root):
    assert run_stage(root, TINY_TRAIN, "first.npz").exit_code == 0
    assert run_stage(root, TINY_TRAIN, "second.npz").exit_code == 0
    assert (root / "model/first.npz").read_bytes() == (root / "model/second.npz").read_bytes()


def test_diverging_run_fails_and_leaves_previous_weights_untouched(root):
    weights = root / "model/weights.npz"
    weights.parent.mkdir()
    weights.write_bytes(b"previous weights")
    result = run_stage(root, {**TINY_TRAIN, "optimizer": "sgd", "lr": 1e4})
    assert result.exit_code == 1
    assert "diverged in epoch 1" in result.output and "train.lr=10000.0" in result.output
    assert weights.read_bytes() == b"previous weights"
    assert [p.name for p in weights.parent.iterdir()] == ["weights.npz"]


def test_collapsed_predictions_are_warned_with_the_histogram(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prepare_folder(tmp_path, y_train=np.full(200, 2, dtype=np.uint8))
    result = run_stage(tmp_path, TINY_TRAIN)
    assert result.exit_code == 0, result.output
    assert "collapsed onto class 2" in result.output
    assert "[0, 0, 50, 0, 0, 0, 0, 0, 0, 0]" in result.output


def test_bad_params_fail_with_the_key_named(root):
    result = run_stage(root, {**TINY_TRAIN, "lr": -1})
    assert result.exit_code == 2
    assert "train.lr must be > 0" in result.output
    assert not (root / "model").exists()


@pytest.mark.parametrize("key", ["elastic_alpha", "elastic_sigma", "weight_decay"])
def test_infinite_float_param_fails_naming_that_key(root, key):
    result = run_stage(root, {**TINY_TRAIN, key: float("inf")})
    assert result.exit_code == 2, result.output
    assert f"train.{key} must be a finite number, got inf" in result.output
    assert not (root / "model").exists() and not (root / "dvclive").exists()


def test_network_too_big_for_memory_fails_naming_the_size(root):
    result = run_stage(root, {**TINY_TRAIN, "hidden": [100_000_000]})
    assert result.exit_code == 2, result.output
    assert "train.hidden [100000000] would need about 1,845.7 GiB of memory" in result.output
    assert not (root / "model").exists() and not (root / "dvclive").exists()


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "bad_params",
    [{"elastic_alpha": float("inf")}, {"optimizer": "sgd", "lr": 1e4}],
    ids=["bad-param", "diverging"],
)
def test_failed_run_keeps_the_last_good_logs(root, bad_params):
    assert run_stage(root, TINY_TRAIN).exit_code == 0
    good_logs = files_under(root / "dvclive")
    assert "metrics.json" in good_logs and "plots/metrics/val/accuracy.tsv" in good_logs
    assert run_stage(root, {**TINY_TRAIN, **bad_params}).exit_code != 0
    assert files_under(root / "dvclive") == good_logs
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []


def test_curves_count_epochs_from_one_and_name_the_scheduled_rate(root):
    assert run_stage(root, TINY_TRAIN).exit_code == 0
    curves = root / "dvclive/plots/metrics"
    for name in ["train/loss", "train/accuracy", "val/loss", "val/accuracy", "scheduled_lr"]:
        steps = [line.split("\t")[0] for line in (curves / f"{name}.tsv").read_text().splitlines()]
        assert steps == ["step", "1", "2", "3"], name
    assert not (curves / "lr.tsv").exists()  # read as train.lr; the schedule moves it


def test_metrics_summary_is_the_kept_epochs_not_the_last():
    def epoch(n: int, val_accuracy: float) -> EpochStats:
        return EpochStats(n, 0.1 / n, 1.0 / n, 0.5 + n / 10, 2.0 / n, val_accuracy, 1.0)

    history = [epoch(1, 0.7), epoch(2, 0.9), epoch(3, 0.8)]
    summary = kept_epoch_summary(TrainResult(network=None, history=history, best_epoch=2))
    assert summary == {
        "best_epoch": 2,
        "scheduled_lr": 0.05,
        "train": {"loss": 0.5, "accuracy": 0.7},
        "val": {"loss": 1.0, "accuracy": 0.9},
    }


def save_not_digits(path: Path) -> Path:
    """Solid blocks of ink: nothing like the synthetic digits."""
    pictures = np.zeros((40, 28, 28), np.uint8)
    for i, picture in enumerate(pictures):
        picture[i % 14 : i % 14 + 14, 4:18] = 255
    np.save(path, pictures)
    return path


def test_stage_stores_a_digit_likeness_score_fitted_against_not_digits(root):
    not_digits = ["--not-digits", str(save_not_digits(root / "not_digits.npy"))]
    runs = [runner.invoke(app, [*run_args(root, name), *not_digits]) for name in ("a", "b")]
    assert all(result.exit_code == 0 for result in runs), runs[0].output
    assert "digit-likeness fitted against 40 non-digits" in runs[0].output
    likeness = load_network(root / "model/a")[0].likeness
    assert likeness is not None and likeness.weights.shape == (16,)
    assert (root / "model/a").read_bytes() == (root / "model/b").read_bytes()


def test_stage_refuses_a_not_digits_file_that_is_not_pictures(root):
    np.save(root / "bad.npy", np.zeros((3, 10), np.uint8))
    result = runner.invoke(app, [*run_args(root, "w"), "--not-digits", str(root / "bad.npy")])
    assert result.exit_code == 1
    assert "bad.npy: expected uint8 (k, 28, 28)" in result.output
    assert not (root / "model/w").exists()
