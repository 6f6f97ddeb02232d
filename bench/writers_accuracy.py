"""How well are writers MNIST never saw read? Digits in handwriting fonts, and UCI 8×8 digits.

Two sources of other hands (digitflow.synthetic.writers): digits drawn in 23 handwriting fonts
with a random pen (thinner or bolder), slant and aspect; and the 1,797 UCI 8×8 digits that
scikit-learn bundles, upscaled. Each is read as it is (no photo effects: the network's own
accuracy on that hand) and then as photos in the photo bench's five styles (bench/
photo_accuracy.py: turned up to ±15°, upright, fine pen, bold marker, sheet on a desk), and
with ``--documents`` its ten document styles too. Printed next to the clean MNIST test
accuracy, the figure these fall short of.

Needs Debian's handwriting fonts (the packages of HANDWRITING_FONTS):

    apt-get install fonts-bwht fonts-comic-neue fonts-dancingscript fonts-kaushanscript \\
        fonts-breip fonts-dkg-handwriting fonts-humor-sans fonts-kristi fonts-rufscript \\
        fonts-sjfonts fonts-tomsontalks

and scikit-learn (the bench extra: ``pip install -e '.[bench]'``). The model is
data/model/weights.npz (or --weights) and the MNIST test digits come from data/prepared (or
--data-dir): run ``dvc repro`` first.

    .venv/bin/python bench/writers_accuracy.py --count 1000
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
from photo_accuracy import (
    PHOTO_STYLES,
    PREPARED,
    UPRIGHT_DOCUMENTS,
    WEIGHTS,
    Predict,
    accuracy,
    compare,
    load_model,
    read_cleanly,
    write_photos,
)
from PIL import ImageFont

from digitflow.synthetic.writers import GLYPH_PX, handwriting_fonts, jittered_font_digit, uci_digit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="Digits per source (UCI: ≤ 1797).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="Trained weights.")
    parser.add_argument("--data-dir", type=Path, default=PREPARED, help="Prepared arrays.")
    parser.add_argument("--documents", action="store_true", help="Also the document styles.")
    args = parser.parse_args()
    fonts, missing = handwriting_fonts()
    if missing:
        parser.error(f"the font digits need Debian's fonts: apt-get install {' '.join(missing)}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        parser.error("the UCI digits need scikit-learn: pip install -e '.[bench]'")
    rng = np.random.default_rng(args.seed)

    X_test, y_test = np.load(args.data_dir / "X_test.npy"), np.load(args.data_dir / "y_test.npy")
    predict = load_model(args.weights)
    print(f"model: {args.weights}")
    print(f"clean MNIST test accuracy (10000): {accuracy(predict(X_test), y_test):.2%}\n")

    faces = [ImageFont.truetype(str(path), GLYPH_PX) for path in fonts]
    font_y = rng.integers(0, 10, size=args.count)
    font_inks = [
        jittered_font_digit(int(label), faces[rng.integers(len(faces))], rng) for label in font_y
    ]
    uci = load_digits()
    chosen = rng.choice(uci.target.size, size=min(args.count, uci.target.size), replace=False)
    uci_inks = [uci_digit(uci.images[i]) for i in chosen]
    styles = PHOTO_STYLES + (UPRIGHT_DOCUMENTS if args.documents else ())
    for source, inks, y in (
        (f"handwriting fonts ({len(fonts)} faces, jittered)", font_inks, font_y),
        ("UCI 8×8 digits, upscaled", uci_inks, uci.target[chosen]),
    ):
        _score_source(source, inks, y, predict, styles, rng)


def _score_source(source, inks, y, predict: Predict, styles, rng: np.random.Generator) -> None:
    clean_pred = predict(read_cleanly(inks))
    print(f"#### {source}: {len(y)} digits, read as they are: {accuracy(clean_pred, y):.2%}\n")
    for title, options in styles:
        with tempfile.TemporaryDirectory(prefix="digitflow-bench-") as folder:
            paths, formats = write_photos(inks, rng, Path(folder), options)
            compare(f"{source}, {title}", paths, formats, y, predict, clean_pred)


if __name__ == "__main__":
    main()
