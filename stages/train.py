"""train stage: fit the MLP on data/prepared and write data/model/weights.npz."""

import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from dvclive import Live

from digitflow.atomic import restored_on_failure
from digitflow.console import note, reports_errors, warn
from digitflow.dataset.prepare import load_prepared
from digitflow.mnist_form.digit import mnist_digit
from digitflow.network.calibration import calibrate_on
from digitflow.network.digit_likeness import DIGITS_REJECTED, fit_digit_likeness, load_not_digits
from digitflow.network.mlp import Network
from digitflow.network.model_io import save_network
from digitflow.network.training import (
    EpochStats,
    TrainConfig,
    TrainResult,
    check_fits_in_memory,
    class_histogram,
    collapsed_class,
    train,
)
from digitflow.network.whole_digit import FIT_PIECES, fit_whole_digit
from digitflow.options import PARAMS_FILE, ParamsFile, command_app
from digitflow.params import load_section
from digitflow.progress import count_progress, interactive
from digitflow.synthetic.pieces import piece_examples

app = command_app()


def log_epoch(live: Live, stats: EpochStats) -> None:
    """One row per epoch in dvclive/plots/metrics/*.tsv, its step the epoch counted from 1."""
    live.step = stats.epoch
    for name, value in epoch_figures(stats).items():
        live.log_metric(name, value)
    live.next_step()


def epoch_figures(stats: EpochStats) -> dict[str, float]:
    """An epoch's figures under their dvclive names. `scheduled_lr` is the rate the schedule
    gave at the epoch's start, not the `train.lr` param it starts from."""
    figures = {
        "scheduled_lr": stats.lr,
        "train/loss": stats.train_loss,
        "train/accuracy": stats.train_accuracy,
    }
    if not math.isnan(stats.val_loss):  # NaN when the val split is empty
        figures |= {"val/loss": stats.val_loss, "val/accuracy": stats.val_accuracy}
    return figures


def kept_epoch_summary(result: TrainResult) -> dict:
    """dvclive/metrics.json: the figures of the epoch whose weights are saved (dvclive's own
    summary holds the last epoch's), nested as dvclive nests them. dvclive adds `step`: the
    last epoch run."""
    kept = result.history[result.best_epoch - 1]
    summary: dict = {"best_epoch": result.best_epoch}
    for name, value in epoch_figures(kept).items():
        group, _, key = name.rpartition("/")
        (summary.setdefault(group, {}) if group else summary)[key] = value
    return summary


def describe(stats: EpochStats) -> str:
    val = "" if math.isnan(stats.val_loss) else f", val acc {stats.val_accuracy:.2%}"
    return f"loss {stats.train_loss:.4f}, train acc {stats.train_accuracy:.2%}{val}"


@app.command()
@reports_errors
def main(
    params: ParamsFile = PARAMS_FILE,
    data_dir: Annotated[Path, typer.Option(help="Folder of prepared arrays.")] = Path(
        "data/prepared"
    ),
    out: Annotated[Path, typer.Option(help="Where to write the trained weights.")] = Path(
        "data/model/weights.npz"
    ),
    live_dir: Annotated[Path, typer.Option(help="Folder for dvclive's per-epoch logs.")] = Path(
        "dvclive"
    ),
    not_digits: Annotated[
        Path | None,
        typer.Option(
            help="A .npy of (k, 28, 28) uint8 pictures that are not digits: fit a "
            "digit-likeness score against them and store it (dvc.yaml passes "
            "examples/not_digits.npy)."
        ),
    ] = None,
) -> None:
    """Train the network on the prepared arrays and save its best weights."""
    config = load_section(params, "train", TrainConfig)
    X_not_digits = load_not_digits(not_digits) if not_digits is not None else None
    if config.ignored_keys():
        ignored = ", ".join(f"train.{key}" for key in config.ignored_keys())
        note(f"train.optimizer=gd runs the seeds' full-batch method; ignoring {ignored}")
    X_train, y_train = load_prepared(data_dir, "train")
    X_val, y_val = load_prepared(data_dir, "val")
    check_fits_in_memory(config, len(y_train), len(y_val))
    note(
        f"training hidden layers {list(config.hidden)} with {config.optimizer} for "
        f"{config.epochs} epochs on {len(y_train)} images"
    )
    show_lines = not interactive()
    # dvclive empties its folder when it starts, so the last good logs are set aside until the
    # run succeeds (not logged beside: in `dvc exp run` dvclive git-adds its own folder's files).
    with (
        restored_on_failure(live_dir),
        Live(dir=str(live_dir), dvcyaml=False, save_dvc_exp=False) as live,
        count_progress() as progress,
    ):
        task = progress.add_task("train", total=config.epochs, status="")

        def on_epoch(stats: EpochStats) -> None:
            log_epoch(live, stats)
            progress.update(task, advance=1, status=describe(stats))
            if show_lines:
                note(
                    f"epoch {stats.epoch}/{config.epochs}: {describe(stats)} ({stats.seconds:.1f}s)"
                )

        result = train(X_train, y_train, X_val, y_val, config, on_epoch=on_epoch)
        live.summary = kept_epoch_summary(result)
        live.step = len(result.history)  # next_step has moved it one past the last epoch
        calibration = calibrate(result.network, X_val, y_val, config)
        if X_not_digits is not None:
            fit_scores(result.network, X_train, X_not_digits, X_val, config.seed)
        save_network(out, result.network, result.summary(config) | {"calibration": calibration})

    if len(result.history) < config.epochs:
        note(f"stopped early: no val improvement in {config.patience} epochs")
    X_check = X_val if len(y_val) else X_train
    histogram = class_histogram(result.network, X_check)
    collapsed = collapsed_class(histogram)
    if collapsed is not None:
        warn(
            f"predictions collapsed onto class {collapsed}; predicted counts for 0-9: "
            f"{histogram.tolist()} (try another train.lr or train.seed)"
        )
    best = result.history[result.best_epoch - 1]
    note(f"wrote {out} (epoch {best.epoch}: {describe(best)})")


def calibrate(network: Network, X_val, y_val, config: TrainConfig) -> dict:
    """The calibration stored with the weights (the temperature is set on ``network``)."""
    if len(y_val) == 0:
        warn("no validation split: probabilities stay uncalibrated and no threshold is stored")
    calibration = calibrate_on(network, X_val, y_val, config.target_error)
    if len(y_val):
        note(
            f"calibrated on {len(y_val)} val images: temperature {network.temperature:.3f}; "
            f"confidence >= {calibration['min_confidence']:.4f} accepts "
            f"{calibration['val_coverage']:.1%} of them"
        )
    return calibration


def fit_scores(network: Network, X_train, X_not_digits, X_val, seed: int) -> None:
    """Set ``network.likeness``, fitted on training digits against ``X_not_digits``, and
    ``network.whole_digit``, fitted on training digits against pairs and fragments of them
    made with ``seed``."""
    if X_val.shape[1] == 0:
        warn("no validation split: no digit-likeness score is stored")
        return
    network.likeness = fit_digit_likeness(network, X_train, X_not_digits, X_val)
    note(
        f"digit-likeness fitted against {X_not_digits.shape[1]} non-digits: "
        f"score >= {network.likeness.min_score:.3f} passes all but {DIGITS_REJECTED:.1%} "
        "of the val images"
    )
    rng = np.random.default_rng(seed)
    whole, not_whole = piece_examples(X_train, FIT_PIECES, rng, mnist_digit)
    network.whole_digit = fit_whole_digit(network, whole, not_whole)
    note(f"whole-digit score fitted against {FIT_PIECES} pairs and fragments of training digits")


if __name__ == "__main__":
    app()
