"""Can the `ok` rows be trusted? Calibration, risk–coverage and out-of-distribution detection.

1. The test split: ECE and NLL before and after temperature scaling, the error among the
   90/95/99 % most confident answers, AURC, and the stored threshold's coverage and risk.
2. Photo styles of MNIST test digits (digitflow.synthetic.photos) and drawn digits: how many
   rows predict-folder's rules mark ok / uncertain / rejected, and how often ok rows are right.
3. Pictures that are not one handwritten digit, made here: several MNIST digits side by side,
   letters from the Liberation fonts (held out: the digit-likeness score is fitted on DejaVu
   fonts and half of these letters; "never fitted on" is the other half), random scribbles,
   blank paper with a smudge, photos of other things (shapes and texture), digits cut by the
   picture's edge. For each: the share of each status, and the detection AUROC (against
   upright photos of MNIST digits) of each signal in SIGNALS.
4. With --numbers: numbers of 2-4 MNIST digits read in number mode, and the same with one
   digit replaced by a letter: the statuses, with and without the digit likeness's check of
   each digit.
5. With --documents: the statuses of digits on documents; each style draws its photos from its
   own random stream (seed, style's place in the list), so --only-documents (the test split and
   the documents alone, about a third of the run) makes the same photos as the full run.

The model is data/model/weights.npz (or --weights) and the digits come from data/prepared (or
--data-dir). A weights file without a temperature is calibrated here on the val split first;
one without a digit-likeness score gets one fitted here as train fits it.

    .venv/bin/python bench/trust.py --count 500
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from photo_accuracy import BOLD_FILLING, DOCUMENT_STYLES, FINE_PEN, ON_A_DESK

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from make_not_digits import FIT_LETTERS  # noqa: E402
from PIL import Image, ImageDraw, ImageFont

from digitflow.batch.chunk_reading import (
    number_readers,
    predict_decoded,
    unlike_digit_of_number,
)
from digitflow.batch.predictions_file import decide
from digitflow.evaluation.calibration import confidence_and_correct, expected_calibration_error
from digitflow.evaluation.selective import COVERAGES, aurc, risk_at_coverage, risk_coverage
from digitflow.network.calibration import calibrate_on
from digitflow.network.digit_likeness import (
    fit_digit_likeness,
    hidden_and_logits,
    load_not_digits,
)
from digitflow.network.mlp import scaled_logits, softmax_columns
from digitflow.network.model_io import load_network, stored_min_confidence
from digitflow.network.training import TrainConfig
from digitflow.reading.images import ImageError, normalise_number, read_image
from digitflow.reading.one_digit import ink_taken_with_lines, rejection, with_lines_put_back
from digitflow.reading.segment import Rejected
from digitflow.synthetic.numbers import number_ink
from digitflow.synthetic.photos import draw_digit, make_photo

PROJECT = Path(__file__).resolve().parents[1]
NOT_DIGITS = PROJECT / "examples/not_digits.npy"
FONTS = sorted(Path("/usr/share/fonts").rglob("Liberation*.ttf"))
"""Held out: the digit-likeness score is fitted on DejaVu fonts (examples/make_not_digits.py)."""
LETTERS = "ABCDEFGHJKLMNPQRTUVWXYabcdefhijkmnpqrtuvwxy"
"""Letters, less those that are written like a digit (I l O o S s Z z B g)."""
NEVER_FITTED = "".join(sorted(set(LETTERS) - set(FIT_LETTERS)))
"""The letters examples/not_digits.npy does not hold."""
SIGNALS = {
    "msp": "MSP",
    "energy": "energy",
    "likeness": "likeness",
    "sum": "score",
    "rules": "statuses",
}
"""Detection scores: max softmax (the baseline), energy (logsumexp of the logits), the
hidden layer's digit-likeness, the score predict-folder rejects on (the likeness plus the max
softmax's log-odds), and predict-folder's statuses (rejected first, then by confidence)."""
WRONG_SIGNALS = {"msp": "MSP", "margin": "margin", "likeness": "likeness", "sum": "score"}
"""Signals of a wrong answer among digits on documents: max softmax, the margin between the
top two logits, the digit likeness, and the likeness plus the max softmax's log-odds."""
STATUS_HEADER = (
    f"  {'set':<34} {'ok':>7} {'ok right':>9} {'wrong':>5} {'uncertain':>9} {'rejected':>9}"
    f" {'error':>6}"
)
"""The columns of :func:`_print_statuses`' lines (wrong: how many ok rows are wrong)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="Pictures per set.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=PROJECT / "data/model/weights.npz")
    parser.add_argument("--data-dir", type=Path, default=PROJECT / "data/prepared")
    parser.add_argument(
        "--target-error",
        type=float,
        help="Choose the threshold again on the val split for this train.target_error "
        "instead of using the one stored with the weights.",
    )
    parser.add_argument(
        "--documents",
        action="store_true",
        help="Then the statuses of the digits on documents (form boxes, ruled and squared "
        "paper, phone photos: bench/photo_accuracy.py's DOCUMENT_STYLES).",
    )
    parser.add_argument(
        "--only-documents",
        action="store_true",
        help="The test split and the documents only (their photos as in a full --documents run).",
    )
    parser.add_argument(
        "--numbers",
        action="store_true",
        help="Then the statuses of numbers of 2-4 digits read with --read number, and of the "
        "same with one digit replaced by a letter.",
    )
    args = parser.parse_args()
    if not FONTS:
        parser.error("the letters need the Liberation fonts: apt-get install fonts-liberation")
    rng = np.random.default_rng(args.seed)
    network, meta = load_network(args.weights)
    threshold = stored_min_confidence(args.weights, meta)
    uncalibrated = network.temperature == 1.0 and threshold is None
    if uncalibrated or args.target_error is not None:
        X_val, y_val = _split(args.data_dir, "val")
        threshold = calibrate_on(
            network, X_val, y_val, args.target_error or TrainConfig.target_error
        )["min_confidence"]
        print(f"(calibrated here on {y_val.size} val digits, target error {args.target_error})")
    if network.likeness is None:
        network.likeness = fit_digit_likeness(
            network,
            _split(args.data_dir, "train")[0],
            load_not_digits(NOT_DIGITS),
            _split(args.data_dir, "val")[0],
        )
        print(f"(no digit-likeness score stored: fitted here against {NOT_DIGITS.name})")
    print(f"model {args.weights}: temperature {network.temperature:.4f}, threshold {threshold}")

    X_test, y_test = _split(args.data_dir, "test")
    _test_split(network, X_test, y_test, threshold)

    chosen = rng.choice(y_test.size, size=args.count, replace=False)
    digits = [X_test[:, i].reshape(28, 28) for i in chosen]
    labels = y_test[chosen]
    if not args.only_documents:
        _photos_and_not_digits(network, X_test, y_test, digits, labels, threshold, rng)
        if args.numbers:
            _numbers(network, X_test, y_test, threshold, rng, args.count)
    if args.documents or args.only_documents:
        _documents(network, digits, labels, threshold, args.seed)


def _photos_and_not_digits(network, X_test, y_test, digits, labels, threshold, rng) -> None:
    """Sections 2 and 3: the photo styles and drawn digits, then the pictures that are not
    one handwritten digit, all drawn from ``rng`` in turn."""
    count = len(digits)
    print(f"\nphoto styles ({count} each): share of rows, and accuracy of the ok rows")
    print(STATUS_HEADER)
    reference = None
    styles = {
        "rotation ±15°": {},
        "upright": {"max_rotation_deg": 0},
        "fine pen": FINE_PEN,
        "bold marker filling the picture": BOLD_FILLING,
        "the sheet on a dark desk": ON_A_DESK,
    }
    for name, style in styles.items():
        pictures = [make_photo(ink, rng, **style) for ink in digits]
        scored = _score(network, pictures, threshold)
        _print_statuses(name, scored, labels)
        if name == "upright":
            reference = scored
    drawn_labels = rng.integers(0, 10, size=count)
    drawn = [make_photo(draw_digit(int(d), rng), rng) for d in drawn_labels]
    _print_statuses("drawn digits (other writers)", _score(network, drawn, threshold), drawn_labels)

    print("\nnot one handwritten digit: share of rows, and detection AUROC vs upright photos")
    print(
        f"  {'set':<24} {'ok':>6} {'uncert':>6} {'reject':>6} {'error':>6}"
        + "".join(f" {name:>8}" for name in SIGNALS.values())
    )
    for name, make in (
        ("several digits", _several_digits),
        ("letters (held-out fonts)", _letter),
        ("letters never fitted on", _unfitted_letter),
        ("scribbles", _scribble),
        ("blank paper, smudge", _smudge),
        ("photos of other things", _other_photo),
        ("digits cut by the edge", _cut_digit),
    ):
        pictures = [make(X_test, y_test, rng) for _ in range(count)]
        _print_ood(name, _score(network, pictures, threshold), reference)


def _documents(network, digits, labels, threshold: float | None, seed: int) -> None:
    """Section 5: each style's photos from its own random stream (seed, place)."""
    print(f"\non documents ({len(digits)} each): share of rows, and accuracy of the ok rows;")
    print(
        "  then AUROC of right against wrong answers among the rows reading did not reject, "
        "for " + ", ".join(WRONG_SIGNALS.values()) + ", the share right of the 90 % "
        "ranked first by predict-folder's statuses, and how many wrong ok rows are digits "
        "the network misreads clean (as the same digit): no reading can mend those"
    )
    clean = network.predict_proba(np.stack(digits).reshape(len(digits), 784).T).argmax(axis=0)
    print(STATUS_HEADER)
    for place, (name, style) in enumerate(DOCUMENT_STYLES):
        style_rng = np.random.default_rng([seed, place])
        pictures = [make_photo(ink, style_rng, **style) for ink in digits]
        scored = _score(network, pictures, threshold)
        _print_statuses(name[:34], scored, labels)
        _print_wrong_detection(scored, labels, clean)


def _split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    return np.load(folder / f"X_{split}.npy"), np.load(folder / f"y_{split}.npy")


def _test_split(network, X, y, threshold) -> None:
    logits = network.predict_logits(X)
    raw = softmax_columns(logits.copy())
    calibrated = softmax_columns(scaled_logits(logits, network.temperature))
    for name, proba in (("uncalibrated", raw), ("calibrated", calibrated)):
        confidence, correct = confidence_and_correct(proba, y)
        nll = -np.mean(np.log(np.maximum(proba[y, np.arange(y.size)], 1e-12)))
        ece = expected_calibration_error(confidence, correct)
        print(f"test split, {name}: ECE {ece:.2%}, NLL {nll:.4f}")
    curve = risk_coverage(confidence, correct)
    risks = ", ".join(f"{c:.0%}: {risk_at_coverage(curve, c):.2%}" for c in COVERAGES)
    print(f"  risk at coverage {risks}; AURC {aurc(curve):.5f}")
    if threshold is not None:
        accepted = confidence >= threshold
        print(
            f"  threshold {threshold:.4f}: covers {accepted.mean():.2%}, "
            f"{np.mean(~correct[accepted]):.2%} of those wrong"
        )


def _score(network, pictures: list[Image.Image], threshold: float | None) -> dict:
    """For each picture: status (decided as predict-folder decides it), predicted digit and
    the network's signals."""
    digits, reasons, errors, put_back = [], [], [], []
    for picture in pictures:
        try:
            reading = read_image(picture, refuse_several=False)  # a rejection, as in the batch
        except ImageError as exc:
            errors.append(str(exc))
            continue
        errors.append("")
        digits.append(reading.digit)
        ink_taken = ink_taken_with_lines(reading)
        reasons.append(rejection(reading, ink_taken))
        put_back.append(with_lines_put_back(reading, ink_taken))
    read = np.array([not error for error in errors])
    digits_kx28x28 = np.zeros((read.size, 28, 28), np.float32)
    digits_kx28x28[read] = digits
    reading_reasons = reasons
    proba, _, reasons = predict_decoded(network, digits_kx28x28, errors, reasons, put_back)
    X = digits_kx28x28[read].reshape(-1, 784).T
    hidden, logits = hidden_and_logits(network, X)
    shifted = logits - logits.max(axis=0)
    energy = logits.max(axis=0) + np.log(np.exp(shifted).sum(axis=0))  # logsumexp
    statuses = np.full(read.size, "error", dtype=object)
    statuses[read] = [
        decide(f"{c:.6f}", reason, threshold or 0.0)[0]
        for c, reason in zip(proba.max(axis=0), reasons, strict=True)
    ]
    predicted = np.full(read.size, -1)
    predicted[read] = proba.argmax(axis=0)

    def per_picture(values: np.ndarray, missing: float) -> np.ndarray:
        out = np.full(read.size, missing)
        out[read] = values
        return out

    msp = proba.max(axis=0)
    likeness = network.likeness.likeness(hidden)
    rules = np.where(np.array(reasons, bool), -1.0, msp)
    return {
        "status": statuses,
        "predicted": predicted,
        "msp": per_picture(msp, 0.0),
        "energy": per_picture(energy, -1e9),
        "likeness": per_picture(likeness, -1e9),
        "sum": per_picture(network.likeness.scores(hidden, proba), -1e9),
        "rules": per_picture(rules, -2.0),
        "margin": per_picture(np.diff(np.sort(logits, axis=0)[-2:], axis=0)[0], -1e9),
        "reading_rejected": per_picture(np.array([bool(r) for r in reading_reasons]), True),
    }


def _numbers(network, X, y, threshold: float | None, rng, count: int) -> None:
    print(f"\nnumbers of 2-4 digits, --read number ({count} each): share of rows, ok rows right")
    print(STATUS_HEADER)
    classify, likeness = number_readers(network)
    for spacing in ("generous", "separated", "touching"):
        for with_letter in (False, True):
            statuses, unchecked, right = [], [], []
            for _ in range(count):
                chosen = rng.integers(0, y.size, int(rng.integers(2, 5)))
                glyphs = [X[:, i].reshape(28, 28) for i in chosen]
                truth = "".join(str(y[i]) for i in chosen)
                if with_letter:
                    glyphs[int(rng.integers(len(glyphs)))] = _letter_ink(rng)
                    truth = ""
                ink = number_ink(glyphs, rng, spacing)
                aspect = ink.shape[1] / ink.shape[0] * rng.uniform(1.1, 1.6)
                photo = make_photo(ink, rng, aspect=aspect, max_rotation_deg=0)
                status, without, read = _number_status(
                    network, photo, classify, likeness, threshold
                )
                statuses.append(status)
                unchecked.append(without)
                right.append(read == truth)
            name = f"{spacing}{', one digit a letter' if with_letter else ''}"
            for title, status in ((name, statuses), ("  without the likeness", unchecked)):
                scored = {"status": np.array(status), "predicted": np.array(right)}
                _print_statuses(title, scored, np.ones(count, bool))


def _number_status(network, photo, classify, likeness, threshold) -> tuple[str, str, str]:
    """Status (decided as predict-folder decides a number row), the status it would have
    without the digit likeness's check of each digit, and the digits read."""
    try:
        number = normalise_number(photo, classify, likeness=likeness)
    except Rejected:
        return "rejected", "rejected", ""
    except ImageError:
        return "error", "error", ""
    confidence = f"{float(np.prod(number.probs_kx10.max(axis=1))):.6f}"
    reason = unlike_digit_of_number(network, number)
    read = "".join(str(d) for d in number.probs_kx10.argmax(axis=1))
    threshold = threshold or 0.0
    return decide(confidence, reason, threshold)[0], decide(confidence, "", threshold)[0], read


def _print_statuses(name: str, scored: dict, labels: np.ndarray) -> None:
    status = scored["status"]
    ok = status == "ok"
    right = np.mean(scored["predicted"][ok] == labels[ok]) if ok.any() else float("nan")
    wrong = int(np.sum(scored["predicted"][ok] != labels[ok]))
    shares = [np.mean(status == s) for s in ("ok", "uncertain", "rejected", "error")]
    print(
        f"  {name:<34} {shares[0]:>7.1%} {right:>9.2%} {wrong:>5} {shares[1]:>9.1%}"
        f" {shares[2]:>9.1%} {shares[3]:>6.1%}"
    )


def _print_wrong_detection(scored: dict, labels: np.ndarray, clean: np.ndarray) -> None:
    """AUROC of right against wrong answers among the pictures reading read and did not
    reject, for each of WRONG_SIGNALS; how many of the 90 % of all pictures that
    predict-folder's statuses rank first are right; and how many wrong ``ok`` rows read as
    the network reads the clean digit (``clean``: its answer on each 28x28 as MNIST has it)."""
    right = scored["predicted"] == labels
    kept = ~scored["reading_rejected"].astype(bool)
    good, wrong = right & kept, ~right & kept
    aurocs = [
        _auroc(scored[key][good], scored[key][wrong]) if wrong.any() else np.nan
        for key in WRONG_SIGNALS
    ]
    first = np.argsort(-scored["rules"], kind="stable")[: round(0.9 * right.size)]
    wrong_ok = ~right & (scored["status"] == "ok")
    print(
        f"  {'':<34} "
        + " ".join(
            f"{name} {100 * a:.1f}" for name, a in zip(WRONG_SIGNALS.values(), aurocs, strict=True)
        )
        + f"; right at 90 %: {right[first].mean():.2%}"
        + f"; wrong ok read so clean: {int(np.sum(wrong_ok & (scored['predicted'] == clean)))}"
    )


def _print_ood(name: str, scored: dict, reference: dict) -> None:
    status = scored["status"]
    shares = [np.mean(status == s) for s in ("ok", "uncertain", "rejected", "error")]
    aurocs = [_auroc(reference[k], scored[k]) for k in SIGNALS]
    print(
        f"  {name:<24} "
        + " ".join(f"{s:>6.1%}" for s in shares)
        + " "
        + "".join(f" {100 * a:>8.1f}" for a in aurocs)
    )


def _auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """P(score of an in-distribution picture > an outside one), ties counted half."""
    scores = np.concatenate([inside, outside])
    order = scores.argsort(kind="stable")
    ranks = np.empty(scores.size)
    ranks[order] = np.arange(1, scores.size + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_in, n_out = inside.size, outside.size
    return (ranks[:n_in].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out)


def _several_digits(X, y, rng) -> Image.Image:
    count = int(rng.integers(2, 4))
    parts = []
    for i in rng.choice(y.size, size=count, replace=False):
        parts += [X[:, i].reshape(28, 28), np.zeros((28, int(rng.integers(0, 6))), np.float32)]
    return make_photo(np.concatenate(parts, axis=1), rng, max_rotation_deg=5)


def _letter(X, y, rng, letters: str = LETTERS) -> Image.Image:
    return make_photo(_letter_ink(rng, letters), rng)


def _letter_ink(rng, letters: str = LETTERS) -> np.ndarray:
    """(64, 64) uint8, ink high: one of ``letters`` in one of the Liberation fonts."""
    font = ImageFont.truetype(str(FONTS[int(rng.integers(len(FONTS)))]), 48)
    canvas = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(canvas).text((32, 32), str(rng.choice(list(letters))), 255, font, "mm")
    return np.asarray(canvas)


def _unfitted_letter(X, y, rng) -> Image.Image:
    return _letter(X, y, rng, NEVER_FITTED)


def _scribble(X, y, rng) -> Image.Image:
    canvas = Image.new("L", (64, 64), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(2, 6))):
        points = [tuple(p) for p in rng.uniform(4, 60, (int(rng.integers(3, 8)), 2))]
        draw.line(points, 255, int(rng.integers(2, 6)), joint="curve")
    return make_photo(np.asarray(canvas), rng)


def _smudge(X, y, rng) -> Image.Image:
    yy, xx = np.mgrid[0:64, 0:64]
    cy, cx = rng.uniform(16, 48, 2)
    sy, sx = rng.uniform(3, 12, 2)
    blob = np.exp(-(((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2) / 2)
    return make_photo((blob * rng.uniform(0.2, 0.7)).astype(np.float32), rng, max_rotation_deg=0)


def _other_photo(X, y, rng) -> Image.Image:
    side = int(rng.integers(60, 300))
    picture = Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(2, 8))):
        box = sorted(rng.uniform(0, side, 2)), sorted(rng.uniform(0, side, 2))
        shape = [box[0][0], box[1][0], box[0][1] + 1, box[1][1] + 1]
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(shape, fill=colour)
    noise = rng.normal(0, rng.uniform(2, 20), (side, side, 3))
    return Image.fromarray(np.clip(np.asarray(picture) + noise, 0, 255).astype(np.uint8))


def _cut_digit(X, y, rng) -> Image.Image:
    photo = make_photo(X[:, int(rng.integers(y.size))].reshape(28, 28), rng, **BOLD_FILLING)
    width, height = photo.size
    cut = rng.uniform(0.3, 0.45)
    side = int(rng.integers(4))
    box = [
        (int(cut * width), 0, width, height),
        (0, 0, int((1 - cut) * width), height),
        (0, int(cut * height), width, height),
        (0, 0, width, int((1 - cut) * height)),
    ][side]
    return photo.crop(box)


if __name__ == "__main__":
    main()
