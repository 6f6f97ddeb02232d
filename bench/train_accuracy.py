"""Accuracy and wall time of a training configuration, measured on the test split.

Reads the ``train`` section of a params file (default ``params.yaml``), applies ``--set``
overrides written like ``dvc exp run -S`` (``--set train.lr=0.1 --set train.hidden=[1024]``),
trains on the prepared train split with early stopping on val exactly as the train stage
does, then scores the kept weights on the test split. Prints one line per epoch and a summary:
seconds of training, test accuracy, test error.

    python bench/train_accuracy.py --set train.epochs=30
    python bench/train_accuracy.py --params params-best.yaml
"""

import argparse
import dataclasses
import os
import time
from pathlib import Path

import yaml

from digitflow.dataset.prepare import load_prepared
from digitflow.network.mlp import evaluate
from digitflow.network.training import EpochStats, TrainConfig, train
from digitflow.params import config_from_dict, read_params_file


def parse_override(text: str) -> tuple[str, object]:
    """``train.key=value`` -> ("key", YAML-parsed value)."""
    key, _, value = text.partition("=")
    return key.removeprefix("train."), yaml.safe_load(value)


def print_epoch(stats: EpochStats) -> None:
    print(
        f"  epoch {stats.epoch:3d}  lr {stats.lr:.4f}  loss {stats.train_loss:.4f}  "
        f"train {stats.train_accuracy:.4f}  val {stats.val_accuracy:.4f}  {stats.seconds:5.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/prepared"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="train.KEY=VALUE")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = parser.parse_args()

    section = dict(read_params_file(args.params).get("train") or {}) if args.params.exists() else {}
    section.update(parse_override(text) for text in args.set)
    config = config_from_dict("train", section, TrainConfig)
    data = [load_prepared(args.data_dir, split) for split in ("train", "val", "test")]
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = data
    print(f"load average {os.getloadavg()[0]:.2f} (timings are only meaningful near 0)")
    print(f"train: {dataclasses.asdict(config)}", flush=True)
    started = time.perf_counter()
    result = train(
        X_train, y_train, X_val, y_val, config, on_epoch=None if args.quiet else print_epoch
    )
    seconds = time.perf_counter() - started
    test_loss, test_accuracy = evaluate(result.network, X_test, y_test)
    print(
        f"trained {len(result.history)} epochs in {seconds:.1f} s, kept epoch {result.best_epoch}: "
        f"test accuracy {test_accuracy:.2%} (error {1 - test_accuracy:.2%}), test loss "
        f"{test_loss:.4f}"
    )


if __name__ == "__main__":
    main()
