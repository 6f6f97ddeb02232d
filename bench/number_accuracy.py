"""How well are whole numbers read (``--read number``)? Exact-string and per-digit accuracy by
length and by spacing, and pictures per second.

Numbers of 1-6 MNIST *test* digits (never training digits; digitflow.synthetic.numbers:
spacing from generous to touching and overlapping, a wobbly baseline, sizes varying by ±15 %
within a number) are made into photos (digitflow.synthetic.photos: tinted, unevenly lit paper,
blur, noise) in turn upright, tilted up to ±3°, with a fine pen and on a dark desk, and read
with ``normalise_number`` in one process. Per-digit accuracy is 1 - edit distance / length
(a digit dropped or added costs one). One-digit pictures are also read in digit mode.
Misread numbers are counted by cause: no number at all, too few or too many pieces, or the
right count with a digit misread, told apart by whether the network misreads that MNIST
digit alone too; ``--debug-dir`` keeps each miss's photo and draws its cuts and 28x28s.

The model is data/model/weights.npz (or --weights) and the digits come from data/prepared (or
--data-dir): run ``dvc repro`` first.

    .venv/bin/python bench/number_accuracy.py --count 50   # 50 numbers per length and spacing
    .venv/bin/python bench/number_accuracy.py --spacings touching --lengths 3 --debug-dir /tmp/t
"""

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from digitflow.batch.chunk_reading import number_readers
from digitflow.network.model_io import load_network
from digitflow.reading.images import EmptyImage, normalise_digit, normalise_number
from digitflow.reading.number_picture import number_picture
from digitflow.reading.segment import Rejected, Segmentation
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
CAUSES = ("no number", "too few pieces", "too many pieces", "misread piece", "network misreads")
"""Why a number was misread; "network misreads": the right count of pieces, and every wrong
digit is one the network misreads alone too (as MNIST gives it)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="Numbers per length and spacing.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="Trained weights.")
    parser.add_argument("--data-dir", type=Path, default=PREPARED, help="Prepared arrays.")
    parser.add_argument("--spacings", nargs="+", choices=SPACINGS, default=list(SPACINGS))
    parser.add_argument("--lengths", nargs="+", type=int, default=list(LENGTHS))
    parser.add_argument("--debug-dir", type=Path, help="Draw each misread number here.")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    X_test, y_test = np.load(args.data_dir / "X_test.npy"), np.load(args.data_dir / "y_test.npy")
    network, _ = load_network(args.weights)

    classify, likeness = number_readers(network)
    alone = classify(X_test.T.reshape(-1, 28, 28)).argmax(axis=1)  # each test digit by itself
    print(f"model: {args.weights}; {args.count} numbers per length and spacing")
    exact, per_digit, reading_s, reading_cpu_s, pictures = {}, {}, 0.0, 0.0, 0
    single = {"number": 0, "digit": 0, "n": 0}
    causes = {spacing: Counter() for spacing in SPACINGS}
    for spacing in SPACINGS:
        for length in LENGTHS:
            right, digit_score, digits = 0, 0.0, 0
            for k in range(args.count):
                chosen = rng.integers(0, y_test.size, length)
                ink = number_ink([X_test[:, i].reshape(28, 28) for i in chosen], rng, spacing)
                aspect = ink.shape[1] / ink.shape[0] * rng.uniform(1.1, 1.6)
                photo = make_photo(ink, rng, aspect=aspect, **STYLES[k % len(STYLES)])
                if spacing not in args.spacings or length not in args.lengths:
                    continue  # drawn all the same, so every number is the same in any run
                truth = "".join(str(y_test[i]) for i in chosen)
                start, start_cpu = time.perf_counter(), time.process_time()
                number = _read_number(photo, classify, likeness)
                reading_s += time.perf_counter() - start
                reading_cpu_s += time.process_time() - start_cpu
                got = _digits(number)
                pictures += 1
                right += got == truth
                digit_score += max(0, length - _edit_distance(truth, got))
                digits += length
                if got != truth:
                    cause = _cause(truth, got, y_test[chosen] == alone[chosen])
                    causes[spacing][cause] += 1
                    if args.debug_dir is not None and number is not None:
                        name = f"{spacing}-{length}-{k:03d}-{truth}-{got}.png"
                        _save(args.debug_dir / cause.replace(" ", "-"), name, photo, number)
                if length == 1:
                    single["n"] += 1
                    single["number"] += got == truth
                    single["digit"] += _read_digit(photo, classify) == truth
            exact[spacing, length] = right / args.count
            per_digit[spacing, length] = digit_score / digits if digits else 0.0
    spacings = [s for s in SPACINGS if s in args.spacings]
    lengths = [n for n in LENGTHS if n in args.lengths]
    _table("exact-string accuracy", exact, spacings, lengths)
    _table("per-digit accuracy (1 - edit distance / length)", per_digit, spacings, lengths)
    print("\n== misread numbers by cause")
    print(f"  {'cause':<18}" + "".join(f"{s:>13}" for s in spacings))
    for cause in CAUSES:
        print(f"  {cause:<18}" + "".join(f"{causes[s][cause]:>13}" for s in spacings))
    print()
    middle = [n for n in (2, 3, 4) if n in lengths]
    for spacing in spacings if middle else []:
        mid = np.mean([exact[spacing, n] for n in middle])
        print(f"2-4 digits, {spacing}: {mid:.1%} exact")
    if n := single["n"]:
        print(
            f"one-digit pictures ({n}): number mode {single['number'] / n:.1%}, "
            f"digit mode {single['digit'] / n:.1%}"
        )
    print(
        f"{pictures / reading_s:.1f} pictures/s in one process, "
        f"{pictures / reading_cpu_s:.1f} per CPU-second (reading only, photos in memory)"
    )


def _read_number(photo, classify, likeness) -> Segmentation | None:
    try:
        return normalise_number(photo, classify, likeness=likeness)
    except (EmptyImage, Rejected):
        return None


def _digits(number: Segmentation | None) -> str:
    return "" if number is None else "".join(str(d) for d in number.probs_kx10.argmax(axis=1))


def _cause(truth: str, got: str, alone_right: np.ndarray) -> str:
    if not got:
        return "no number"
    if len(got) != len(truth):
        return "too few pieces" if len(got) < len(truth) else "too many pieces"
    wrong = np.array([a != b for a, b in zip(truth, got, strict=True)])
    return "network misreads" if not alone_right[wrong].any() else "misread piece"


def _save(folder: Path, name: str, photo: Image.Image, number: Segmentation) -> None:
    """The photo (to read again) and, beside it, how it was cut and read."""
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    photo.save(folder / "photos" / name)
    Image.fromarray(number_picture(number)).save(folder / name)


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


def _table(title: str, figures: dict, spacings: list[str], lengths: list[int]) -> None:
    print(f"\n== {title}")
    print(f"  {'digits':<8}" + "".join(f"{s:>13}" for s in spacings))
    for length in lengths:
        cells = "".join(f"{figures[s, length]:>13.1%}" for s in spacings)
        print(f"  {length:<8}{cells}")


if __name__ == "__main__":
    main()
