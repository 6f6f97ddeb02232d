"""How close does reading a photo of a digit get to the network's accuracy on clean MNIST?

Builds photo-like pictures of MNIST *test* digits (digitflow.synthetic.photos:
paper, lighting, 40-400 px
canvases, placement, scale, rotation, blur, noise; every format of PHOTO_FORMATS in turn) in
five styles (turned up to ±15°; upright; a fine pen; a bold marker filling the picture; the
sheet on a dark desk) and ten of documents (form boxes thin, thick, light, dark, touching;
comb boxes; ruled paper with a red margin; squared paper; phone photos; a tilted sheet on a
desk), writes them to a temporary folder, reads them back with ``read_digit``
and with the seed notebook's method (grayscale, resize the whole picture to 28×28, invert),
and prints accuracy against the clean 28×28 digits, per format, and the time per picture. Then
the same for digits drawn with pen strokes, a stand-in for writers MNIST never saw.

The model is data/model/weights.npz (or --weights) and the digits come from data/prepared (or
--data-dir): run ``dvc repro`` first.

    .venv/bin/python bench/photo_accuracy.py --count 2000
    .venv/bin/python bench/photo_accuracy.py --count 10000   # the whole test set, ~10 min
    .venv/bin/python bench/photo_accuracy.py --count 10000 --styles "thick dark" --styles drawn

Each style draws its photos from its own random stream (seed, style's place in the list), so a
run of a few styles (--styles, any part of a title) makes the same photos as the full run.
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from digitflow.mnist_form import stroke
from digitflow.network.model_io import load_network
from digitflow.reading.images import ImageError, open_image, read_image
from digitflow.synthetic.photos import PHOTO_FORMATS, draw_digit, write_photo

PROJECT = Path(__file__).resolve().parents[1]
PREPARED = PROJECT / "data/prepared"
WEIGHTS = PROJECT / "data/model/weights.npz"

FINE_PEN = {"max_rotation_deg": 0, "pen_threshold": 0.85}
"""Strokes about 60% as wide as MNIST's: a fine pen on a big digit."""
BOLD_FILLING = {"max_rotation_deg": 0, "height_fraction": (0.85, 1.0), "pen_threshold": 0.15}
"""A marker's thick strokes on a digit that fills the picture: little paper shows."""
ON_A_DESK = {"max_rotation_deg": 0, "desk_margin": 0.25}
"""The sheet photographed on a dark desk that shows around it."""
UPRIGHT = {"max_rotation_deg": 0}
IN_A_BOX = {"height_fraction": (0.35, 0.8)}
"""Digits in printed form boxes fill more of the picture than loose ones."""
FINE_RULES = {"line_width": (0.005, 0.03)}
"""Ruled and squared paper's lines are thinner than a form's box."""
DOCUMENT_STYLES: tuple[tuple[str, dict], ...] = (
    ("in a form box, any width, tone and margin", {"printed": "box", **IN_A_BOX}),
    (
        "in a thin light box",
        {"printed": "box", "line_width": (0.005, 0.02), "line_tone": "light", **IN_A_BOX},
    ),
    (
        "in a thick dark box",
        {"printed": "box", "line_width": (0.05, 0.1), "line_tone": "dark", **IN_A_BOX},
    ),
    ("in a box nearly touching the ink", {"printed": "box", "box_margin": (0.0, 0.05), **IN_A_BOX}),
    ("in comb boxes", {"printed": "comb", **IN_A_BOX}),
    ("on ruled paper with a red margin", {"printed": "ruled", "red_margin": True, **FINE_RULES}),
    ("on squared paper", {"printed": "squared", **FINE_RULES}),
    (
        "phone photo: perspective, shadow, vignette, colour cast",
        {"perspective": 0.06, "shadow": 0.5, "colour_cast": 0.15, "max_lighting": 0.4},
    ),
    (
        "phone photo of a form box",
        {
            "printed": "box",
            "perspective": 0.06,
            "shadow": 0.5,
            "colour_cast": 0.15,
            "max_tilt_deg": 5,
            **IN_A_BOX,
        },
    ),
    ("a tilted sheet on a desk", {"desk_margin": 0.25, "max_tilt_deg": 8}),
)
"""Real documents: printed structure around or under the digit, and phone photos of it
(digitflow.synthetic.printed and make_photo's photo options); all upright digits."""

PHOTO_STYLES: tuple[tuple[str, dict], ...] = (
    ("photos, rotation ±15°", {}),
    ("photos, upright", UPRIGHT),
    ("photos, upright, fine pen", FINE_PEN),
    ("photos, upright, bold marker filling the picture", BOLD_FILLING),
    ("photos, upright, the sheet on a dark desk", ON_A_DESK),
)
UPRIGHT_DOCUMENTS = tuple(
    (f"photos, upright, {title}", {**UPRIGHT, **style}) for title, style in DOCUMENT_STYLES
)

ALL_PHOTO_STYLES = PHOTO_STYLES + UPRIGHT_DOCUMENTS
DRAWN = "drawn digits (not MNIST's writers), photos, rotation ±15°"

Predict = Callable[[np.ndarray], np.ndarray]  # (784, m) float32 -> (m,) labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="Photos per style.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="Trained weights.")
    parser.add_argument("--data-dir", type=Path, default=PREPARED, help="Prepared arrays.")
    parser.add_argument(
        "--styles",
        action="append",
        metavar="PART",
        help="Run only the styles whose title holds PART (repeatable; default: all).",
    )
    args = parser.parse_args()
    chosen_styles = _styles_chosen(args.styles)
    rng = np.random.default_rng(args.seed)

    X_test, y_test = np.load(args.data_dir / "X_test.npy"), np.load(args.data_dir / "y_test.npy")
    predict = load_model(args.weights)
    print(f"model: {args.weights}")
    print(f"clean MNIST test accuracy (10000): {accuracy(predict(X_test), y_test):.2%}")

    chosen = rng.choice(y_test.size, size=args.count, replace=False)
    X_784xm, y = X_test[:, chosen], y_test[chosen]
    clean_pred = predict(X_784xm)
    print(f"clean accuracy on the {args.count} chosen digits: {accuracy(clean_pred, y):.2%}")
    turned = np.stack([_turned(X_784xm[:, i], rng) for i in range(y.size)], axis=1)
    print("same digits turned ±15° and re-framed, no photo (rotation's own cost): ", end="")
    print(f"{accuracy(predict(turned), y):.2%}\n")

    digits = [X_784xm[:, i].reshape(28, 28) for i in range(y.size)]
    for place, (title, options) in enumerate(ALL_PHOTO_STYLES):
        if title not in chosen_styles:
            continue
        with tempfile.TemporaryDirectory(prefix="digitflow-bench-") as folder:
            style_rng = np.random.default_rng([args.seed, place])
            paths, formats = write_photos(digits, style_rng, Path(folder), options)
            compare(title, paths, formats, y, predict, clean_pred)
            if options is FINE_PEN:
                print(
                    f"  without the stroke-width step: {_without_stroke_step(paths, y, predict)}\n"
                )
    if DRAWN in chosen_styles:
        drawn_rng = np.random.default_rng([args.seed, len(ALL_PHOTO_STYLES)])
        _compare_drawn(args.count, drawn_rng, predict)


def _styles_chosen(parts: list[str] | None) -> set[str]:
    titles = [title for title, _ in ALL_PHOTO_STYLES] + [DRAWN]
    if not parts:
        return set(titles)
    chosen = {title for title in titles if any(part in title for part in parts)}
    if not chosen:
        raise SystemExit(f"no style's title holds {' or '.join(map(repr, parts))}: {titles}")
    return chosen


def _compare_drawn(count: int, rng: np.random.Generator, predict: Predict) -> None:
    """Not MNIST's writers: digits drawn with pen strokes (synthetic.photos.draw_digit); their
    "clean" reading is the drawing itself, read without any photo effects."""
    drawn_y = rng.integers(0, 10, size=count)
    drawn = [draw_digit(int(label), rng) for label in drawn_y]
    clean_drawn = read_cleanly(drawn)
    with tempfile.TemporaryDirectory(prefix="digitflow-bench-") as folder:
        paths, formats = write_photos(drawn, rng, Path(folder), {})
        compare(DRAWN, paths, formats, drawn_y, predict, predict(clean_drawn))


def read_cleanly(inks: list[np.ndarray]) -> np.ndarray:
    """(784, m): the 28×28 reading makes of each ink array (ink high) as it is, without any
    photo effects (also of one it would reject as several digits, as ``_digit_or_none``)."""
    return np.stack(
        [
            read_image(Image.fromarray(ink), "light-on-dark", refuse_several=False).digit.ravel()
            for ink in inks
        ],
        axis=1,
    )


def write_photos(digits, rng, folder: Path, options) -> tuple[list[Path], list[str]]:
    names = list(PHOTO_FORMATS)
    formats = [names[i % len(names)] for i in range(len(digits))]
    paths = [
        write_photo(ink, rng, folder, f"{i:05d}", fmt, **options)
        for i, (ink, fmt) in enumerate(zip(digits, formats, strict=True))
    ]
    return paths, formats


def compare(title, paths, formats, y, predict: Predict, clean_pred: np.ndarray) -> None:
    opened, open_s = _timed(lambda: [open_image(path) for path in paths])
    digits, normalise_s = _timed(lambda: [_digit_or_none(image) for image in opened])
    misses = sum(digit is None for digit in digits)
    blank = np.zeros((28, 28), np.float32)  # a miss counts as a wrong answer
    ours = np.stack([(blank if d is None else d).ravel() for d in digits], axis=1)  # (784, m)
    naive = np.stack([_seed_method(path) for path in paths], axis=1)
    ours_pred, naive_pred = predict(ours), predict(naive)
    clean, ours_acc = accuracy(clean_pred, y), accuracy(ours_pred, y)
    ms = 1000 / len(paths)
    per_picture_ms = (open_s + normalise_s) * ms
    print(f"== {title}: {len(paths)} pictures ({misses} read as blank)")
    gap = 100 * (clean - ours_acc)
    print(f"  read_digit {ours_acc:.2%} (clean {clean:.2%}, gap {gap:.2f} points)")
    print(f"  seed's naive method {accuracy(naive_pred, y):.2%}")
    print(f"  ms/picture: open {open_s * ms:.2f} + normalise {normalise_s * ms:.2f}", end=" ")
    print(f"= {per_picture_ms:.2f} ({1000 / per_picture_ms:.0f} pictures/s in one process)")
    print(f"  {'format':<12} {'n':>5} {'clean':>7} {'read_digit':>10} {'naive':>7}")
    for fmt in PHOTO_FORMATS:
        picked = np.array([f == fmt for f in formats])
        row = [accuracy(pred[picked], y[picked]) for pred in (clean_pred, ours_pred, naive_pred)]
        print(f"  {fmt:<12} {picked.sum():>5} {row[0]:>7.2%} {row[1]:>10.2%} {row[2]:>7.2%}")
    print()


def _without_stroke_step(paths: list[Path], y: np.ndarray, predict: Predict) -> str:
    """Accuracy when strokes keep the width they have (stroke.STROKE_WIDTH_PX unbounded)."""
    bounds = stroke.STROKE_WIDTH_PX
    stroke.STROKE_WIDTH_PX = (0.0, float("inf"))
    try:
        digits = [_digit_or_none(open_image(path)) for path in paths]
    finally:
        stroke.STROKE_WIDTH_PX = bounds
    blank = np.zeros((28, 28), np.float32)
    X_784xm = np.stack([(blank if d is None else d).ravel() for d in digits], axis=1)
    return f"{accuracy(predict(X_784xm), y):.2%}"


def _digit_or_none(image: Image.Image) -> np.ndarray | None:
    """The 28×28 reading makes, also of a picture it would reject as several digits: the
    bench scores the reading, the statuses are bench/trust.py's."""
    try:
        return read_image(image, refuse_several=False).digit
    except ImageError:
        return None


def _seed_method(path: Path) -> np.ndarray:
    """preprocess_digit from the seed notebook: the anti-pattern."""
    image = Image.open(path).convert("L").resize((28, 28), Image.Resampling.LANCZOS)
    return (255 - np.asarray(image, dtype=np.float32)).ravel() / 255


def _turned(x_784: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A clean digit turned like the photos are (enlarged first, so turning does not blur it)
    and put back in MNIST's frame: what a perfect reader of a turned digit would give."""
    enlarged = Image.fromarray(x_784.reshape(28, 28)).resize((112, 112), Image.Resampling.BICUBIC)
    angle = rng.uniform(-15, 15)
    turned = enlarged.rotate(angle, Image.Resampling.BILINEAR, expand=True)
    clipped = Image.fromarray(np.clip(np.asarray(turned), 0, 1))
    return read_image(clipped, "light-on-dark", refuse_several=False).digit.ravel()


def _timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def accuracy(predicted: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predicted == y))


def load_model(weights: Path) -> Predict:
    network, _ = load_network(weights)  # a clear error when there is none: run `dvc repro`
    return lambda X_784xm: network.predict_proba(X_784xm).argmax(axis=0)


if __name__ == "__main__":
    main()
