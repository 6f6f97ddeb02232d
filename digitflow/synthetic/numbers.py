"""Handwritten-looking numbers made of single digits, for the number-reading tests and bench.

``number_ink`` sets digit pictures (MNIST's, or drawn with ``photos.draw_digit``) side by side
the way people write a number: a spacing from generous to touching and overlapping, a wobbly
baseline and digits of slightly different sizes. The result is ink (h, w), ink high, ready for
``photos.make_photo``. Everything random comes from the ``np.random.Generator`` passed in.
"""

import numpy as np
from PIL import Image

from digitflow.synthetic.photos import as_unit

SPACINGS: dict[str, tuple[float, float]] = {
    "generous": (0.3, 0.6),
    "separated": (0.08, 0.25),
    "touching": (-0.05, -0.01),
    "overlapping": (-0.2, -0.1),
}
"""Gap between neighbours in digit heights. Separated gaps are between the digits' ink;
touching and overlapping ones are measured from where the ink first meets, so touching
strokes run into each other slightly and overlapping digits' boxes overlap (their ink may
cross or not)."""
HEIGHT_PX = 80
"""Height of a digit of size 1 in the ink returned."""
INK_CUT = 0.3
"""Coverage above which a pixel counts as ink when neighbours are pushed together."""


def number_ink(
    digits: list[np.ndarray],
    rng: np.random.Generator,
    spacing: str = "separated",
    baseline_jitter: float = 0.08,
    size_range: tuple[float, float] = (0.85, 1.15),
) -> np.ndarray:
    """The digits (each (h, w), uint8 or float, ink high) written left to right as one
    number: (H, W) float32 in [0, 1], ink high. ``baseline_jitter`` moves each digit up or
    down by up to that share of a digit's height; ``size_range`` scales each digit."""
    low, high = SPACINGS[spacing]
    glyphs = [_glyph(as_unit(d), rng.uniform(*size_range)) for d in digits]
    margin = int(HEIGHT_PX * (1 + baseline_jitter))
    height = max(g.shape[0] for g in glyphs) + 2 * margin
    width = sum(g.shape[1] for g in glyphs) + int(HEIGHT_PX * max(high, 0) * len(glyphs))
    canvas = np.zeros((height, width + 2 * margin), dtype=np.float32)
    left = margin
    for i, glyph in enumerate(glyphs):
        top = margin + round(
            (height - 2 * margin - glyph.shape[0]) / 2
            + rng.uniform(-baseline_jitter, baseline_jitter) * HEIGHT_PX
        )
        if i > 0:
            gap = round(rng.uniform(low, high) * HEIGHT_PX)
            left = _touching_left(canvas, glyph, top) + gap if low < 0 else left + gap
        window = canvas[top : top + glyph.shape[0], left : left + glyph.shape[1]]
        np.maximum(window, glyph, out=window)
        left += glyph.shape[1]
    rows, cols = np.flatnonzero(canvas.max(axis=1) > 0), np.flatnonzero(canvas.max(axis=0) > 0)
    return canvas[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _glyph(digit: np.ndarray, size: float) -> np.ndarray:
    """The digit's ink cropped to its box and scaled so a full-height digit is ``size``
    times HEIGHT_PX tall."""
    rows, cols = np.flatnonzero(digit.max(axis=1) > 0.05), np.flatnonzero(digit.max(axis=0) > 0.05)
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    ratio = size * HEIGHT_PX / max(crop.shape)  # MNIST: the long side is the digit's size
    shape = (max(1, round(crop.shape[1] * ratio)), max(1, round(crop.shape[0] * ratio)))
    return np.clip(np.asarray(Image.fromarray(crop).resize(shape, Image.Resampling.BICUBIC)), 0, 1)


def _touching_left(canvas: np.ndarray, glyph: np.ndarray, top: int) -> int:
    """The left edge at which ``glyph``, placed at row ``top``, first touches the ink
    already on the canvas when slid in from the right."""
    rows = slice(top, top + glyph.shape[0])
    placed = canvas[rows] > INK_CUT
    new = glyph > INK_CUT
    both = placed.any(axis=1) & new.any(axis=1)
    if not both.any():  # no row holds ink of both: touch the old ink's box instead
        return int(np.flatnonzero(canvas.max(axis=0) > INK_CUT)[-1]) + 1
    rightmost = placed.shape[1] - 1 - np.argmax(placed[:, ::-1], axis=1)
    leftmost = np.argmax(new, axis=1)
    return int((rightmost - leftmost)[both].max()) + 1
