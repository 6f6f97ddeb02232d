"""How well does the whole-digit score tell one whole digit from two joined or a fragment?
AUROC on pieces of MNIST *test* digits (never the training digits it is fitted on), made as
train makes its examples (digitflow.synthetic.pieces, reading's normalisation), beside the
max softmax and the digit likeness.

    .venv/bin/python bench/whole_digit.py --count 2000
"""

import argparse
from pathlib import Path

import numpy as np
from trust import _auroc  # the bench beside this one

from digitflow.mnist_form.digit import mnist_digit
from digitflow.network.model_io import load_network
from digitflow.network.whole_digit import probabilities_and_scores
from digitflow.synthetic.pieces import piece_examples

PROJECT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="Whole digits, and other pieces.")
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--weights", type=Path, default=PROJECT / "data/model/weights.npz")
    parser.add_argument("--data-dir", type=Path, default=PROJECT / "data/prepared")
    args = parser.parse_args()
    network, _ = load_network(args.weights)
    if network.whole_digit is None:
        raise SystemExit(f"{args.weights}: no whole-digit score (train with --not-digits)")
    X_test = np.load(args.data_dir / "X_test.npy")
    whole, others = piece_examples(
        X_test, args.count, np.random.default_rng(args.seed), mnist_digit
    )
    probs, likeness, score = probabilities_and_scores(network, np.concatenate([whole, others], 1))
    signals = {
        "whole-digit score": score,
        "max softmax": probs.max(axis=0),
        "digit likeness": likeness,
    }
    n, pairs = args.count, args.count // 2
    print(f"{args.count} whole test digits against {pairs} joined pairs and {n - pairs} fragments")
    print(f"  {'AUROC':<18}{'all':>8}{'pairs':>8}{'fragments':>11}")
    for name, values in signals.items():
        right, wrong = values[:n], values[n:]
        figures = [_auroc(right, wrong), _auroc(right, wrong[:pairs]), _auroc(right, wrong[pairs:])]
        print(f"  {name:<18}" + "".join(f"{f:>8.3f}" for f in figures[:2]) + f"{figures[2]:>11.3f}")


if __name__ == "__main__":
    main()
