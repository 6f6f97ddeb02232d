"""How well are whole numbers read (``--read number``)? Exact-string and per-digit accuracy by
length and by spacing, and pictures per second.

Numbers of 1-6 MNIST *test* digits (never training digits; digitflow.synthetic.numbers:
spacing from generous to touching and overlapping, a wobbly baseline, sizes varying by ±15 %
within a number) are made into photos (digitflow.synthetic.photos: tinted, unevenly lit paper,
blur, noise) in turn upright, tilted up to ±3°, with a fine pen and on a dark desk, and read
with ``normalise_number`` in one process. Per-digit accuracy is 1 - edit distance / length
(a digit dropped or added costs one). One-digit pictures are also read in digit mode.

The model is data/model/weights.npz (or --weights) and the digits come from data/prepared (or
--data-dir): run ``dvc repro`` first.

    .venv/bin/python bench/number_accuracy.py --count 50   # 50 numbers per length and spacing
"""

import argparse
import time
from pathlib import Path

import numpy as np

from digitflow.batch.chunk_reading import number_readers
from digitflow.network.model_io import load_network
from digitflow.reading.images import EmptyImage, normalise_digit, normalise_number
from digitflow.reading.segment import Rejected
from digitflow.synthetic.numbers import SPACINGS, number_ink
from digitflow.synthetic.photos import make_photo

PROJECT = Path(__file__).resolve().parents[1]
PREPARED = PROJECT / "data/prepared"
WEIGHTS = PROJECT / "data/model/weights.npz"
LENGTHS = range(1, 7)
STYLES = (
    {"max_rotation_deg": 0},
    {"max_rotation_deg": 3},
    {"max_rotation_deg": 0, "pen_threshold": 0.85},  # a fine pen
    {"max_rotation_deg": 0, "desk_margin": 0.25},  # the sheet on a dark desk
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="Numbers per length and spacing.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="Trained weights.")
    parser.add_argument("--data-dir", type=Path, default=PREPARED, help="Prepared arrays.")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    X_test, y_test = np.load(args.data_dir / "X_test.npy"), np.load(args.data_dir / "y_test.npy")
    network, _ = load_network(args.weights)

    classify, likeness = number_readers(network)
    print(f"model: {args.weights}; {args.count} numbers per length and spacing")
    exact, per_digit, reading_s, reading_cpu_s, pictures = {}, {}, 0.0, 0.0, 0
    single = {"number": 0, "digit": 0, "n": 0}
    for spacing in SPACINGS:
        for length in LENGTHS:
            right, digit_score, digits = 0, 0.0, 0
            for k in range(args.count):
                chosen = rng.integers(0, y_test.size, length)
                truth = "".join(str(y_test[i]) for i in chosen)
                ink = number_ink([X_test[:, i].reshape(28, 28) for i in chosen], rng, spacing)
                aspect = ink.shape[1] / ink.shape[0] * rng.uniform(1.1, 1.6)
                photo = make_photo(ink, rng, aspect=aspect, **STYLES[k % len(STYLES)])
                start, start_cpu = time.perf_counter(), time.process_time()
                got = _read_number(photo, classify, likeness)
                reading_s += time.perf_counter() - start
                reading_cpu_s += time.process_time() - start_cpu
                pictures += 1
                right += got == truth
                digit_score += max(0, length - _edit_distance(truth, got))
                digits += length
                if length == 1:
                    single["n"] += 1
                    single["number"] += got == truth
                    single["digit"] += _read_digit(photo, classify) == truth
            exact[spacing, length] = right / args.count
            per_digit[spacing, length] = digit_score / digits
    _table("exact-string accuracy", exact)
    _table("per-digit accuracy (1 - edit distance / length)", per_digit)
    for spacing in SPACINGS:
        mid = np.mean([exact[spacing, n] for n in (2, 3, 4)])
        print(f"2-4 digits, {spacing}: {mid:.1%} exact")
    n = single["n"]
    print(
        f"one-digit pictures ({n}): number mode {single['number'] / n:.1%}, "
        f"digit mode {single['digit'] / n:.1%}"
    )
    print(
        f"{pictures / reading_s:.1f} pictures/s in one process, "
        f"{pictures / reading_cpu_s:.1f} per CPU-second (reading only, photos in memory)"
    )


def _read_number(photo, classify, likeness) -> str:
    try:
        number = normalise_number(photo, classify, likeness=likeness)
    except (EmptyImage, Rejected):
        return ""
    return "".join(str(d) for d in number.probs_kx10.argmax(axis=1))


def _read_digit(photo, classify) -> str:
    try:
        return str(int(classify(normalise_digit(photo)[None]).argmax()))
    except (EmptyImage, Rejected):
        return ""


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _table(title: str, figures: dict) -> None:
    print(f"\n== {title}")
    print(f"  {'digits':<8}" + "".join(f"{s:>13}" for s in SPACINGS))
    for length in LENGTHS:
        cells = "".join(f"{figures[s, length]:>13.1%}" for s in SPACINGS)
        print(f"  {length:<8}{cells}")


if __name__ == "__main__":
    main()
