"""Write examples/not_digits.npy (committed): font letters framed as MNIST frames a digit, what
the train stage fits its digit-likeness score against (digitflow.network.digit_likeness).

Every letter of FIT_LETTERS in every DejaVu font of this machine, upright and turned 10° each
way, drawn large, cropped to its ink, its long side fitted to 20 px and its centre of mass put
at the centre of 28x28 (digitflow.mnist_form.mnist_frame, as reading frames a digit). Only DejaVu
fonts and these letters are used, so bench/trust.py measures on other fonts (Liberation) and
on letters never fitted on. Stored as (k, 28, 28) uint8, ink high.

    python examples/make_not_digits.py            # rewrites examples/not_digits.npy
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitflow.atomic import atomic_path
from digitflow.mnist_form.mnist_frame import centred_in_frame, fit_box

FIT_FONTS = "DejaVu*.ttf"
FIT_LETTERS = "ACEGJLNQTVXacehjmpruwy"
"""Half of bench/trust.py's letters (every other one); the rest are never fitted on."""
TURNS_DEG = (-10, 0, 10)
OUT = Path(__file__).resolve().parent / "not_digits.npy"


def framed_letter(letter: str, font: ImageFont.FreeTypeFont, turn_deg: float) -> np.ndarray:
    """(28, 28) float32 in [0, 1], ink high: the letter as MNIST would frame it."""
    canvas = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(canvas).text((64, 64), letter, 255, font, "mm")
    ink = np.asarray(canvas.rotate(turn_deg, Image.Resampling.BILINEAR), np.float32) / 255
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return centred_in_frame(fit_box(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]))


def main() -> None:
    fonts = sorted(Path("/usr/share/fonts").rglob(FIT_FONTS))
    pictures = [
        framed_letter(letter, ImageFont.truetype(str(path), 64), turn)
        for path in fonts
        for letter in FIT_LETTERS
        for turn in TURNS_DEG
    ]
    pixels_u8 = np.round(np.stack(pictures) * 255).astype(np.uint8)
    with atomic_path(OUT) as tmp, open(tmp, "wb") as f:
        np.save(f, pixels_u8, allow_pickle=False)
    print(f"wrote {OUT}: {len(pixels_u8)} letters from {len(fonts)} fonts")


if __name__ == "__main__":
    main()
