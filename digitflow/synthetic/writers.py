"""Digits by writers MNIST never saw, as ink for ``photos.make_photo``: digits drawn in
handwriting fonts with a random pen, slant and aspect, and the UCI 8x8 digits upscaled.

MNIST's writers are American census workers and students; these show how accuracy falls with
other hands. The fonts are Debian packages (``HANDWRITING_FONTS``, found by
``handwriting_fonts``); the UCI digits come with scikit-learn (``load_digits``), which the
caller loads: this module takes the 8x8 arrays. Everything random comes from the generator
passed in.
"""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HANDWRITING_FONTS: dict[str, tuple[str, ...]] = {
    "fonts-bwht": ("BecauseWe*-Regular.otf",),
    "fonts-comic-neue": ("ComicNeue-Regular.otf", "ComicNeue-Bold.otf", "ComicNeue-Light.otf"),
    "fonts-dancingscript": ("DancingScript-*.otf",),
    "fonts-kaushanscript": ("KaushanScript-Regular.otf",),
    "fonts-breip": ("Breip.ttf",),
    "fonts-dkg-handwriting": ("dkg*.ttf",),
    "fonts-humor-sans": ("Humor-Sans.ttf",),
    "fonts-kristi": ("Kristi.ttf",),
    "fonts-rufscript": ("Rufscript*.ttf",),
    "fonts-sjfonts": ("Delphine.ttf", "SteveHand.ttf"),
    "fonts-tomsontalks": ("TomsonTalks.ttf",),
}
"""Debian package -> its font files whose digits look written by hand (outline and
decorated faces left out), 23 faces in all."""
FONT_ROOT = Path("/usr/share/fonts")

GLYPH_PX = 96
"""Font size the bench draws the digits at."""
PEN_PX = (-1, 3)
"""Pen change in pixels at GLYPH_PX: negative thins every stroke by erosion, positive
thickens it by drawing the glyph's outline that wide."""
SLANT = (-0.35, 0.2)
"""Horizontal shear, x moved by slant times height above the centre: negative leans right."""
ASPECT = (0.8, 1.2)
"""Width scale of the glyph: narrow to wide hands."""


def handwriting_fonts(
    root: Path = FONT_ROOT, packages: Iterable[str] = HANDWRITING_FONTS
) -> tuple[list[Path], list[str]]:
    """The font files of ``packages`` (keys of ``HANDWRITING_FONTS``, all by default) found
    under ``root``, sorted, and the packages none of whose files were found."""
    found, missing = [], []
    for package in packages:
        patterns = HANDWRITING_FONTS[package]
        files = sorted({path for pattern in patterns for path in root.rglob(pattern)})
        found += files
        missing += [] if files else [package]
    return sorted(found), missing


def jittered_font_digit(
    label: int, font: ImageFont.FreeTypeFont, rng: np.random.Generator
) -> np.ndarray:
    """``font_digit`` with a pen, slant and aspect drawn from PEN_PX, SLANT and ASPECT."""
    pen_px = int(rng.integers(PEN_PX[0], PEN_PX[1] + 1))
    return font_digit(label, font, pen_px, rng.uniform(*SLANT), rng.uniform(*ASPECT))


def font_digit(
    label: int, font: ImageFont.FreeTypeFont, pen_px: int = 0, slant: float = 0.0, aspect=1.0
) -> np.ndarray:
    """The digit ``label`` drawn in ``font`` on a canvas twice the font's size, its strokes
    ``pen_px`` wider (thinner when negative), sheared by ``slant`` and ``aspect`` times as
    wide: (h, w) float32 in [0, 1], ink high."""
    side = 2 * round(font.size)
    centre = side / 2
    canvas = Image.new("L", (side, side), 0)
    bolder = max(pen_px, 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((centre, centre), str(label), 255, font, "mm", stroke_width=bolder, stroke_fill=255)
    if pen_px < 0:
        canvas = canvas.filter(ImageFilter.MinFilter(2 * -pen_px + 1))
    # Output x - c = aspect (x_in - c) + slant (y - c), so input x_in is read at
    # (x - c - slant (y - c)) / aspect + c.
    a, b = 1 / aspect, -slant / aspect
    inverse = (a, b, centre - a * centre - b * centre, 0, 1, 0)
    sheared = canvas.transform(
        canvas.size, Image.Transform.AFFINE, inverse, Image.Resampling.BILINEAR
    )
    return np.asarray(sheared, dtype=np.float32) / 255


def uci_digit(pixels_8x8: np.ndarray, side_px: int = 32) -> np.ndarray:
    """A UCI digit (8, 8) of counts 0-16 (ink high) as the (side_px, side_px) float32 bitmap
    in [0, 1] it was counted from: each count is the ink in a 4x4 block of a binary 32x32
    scan, so the smoothly upscaled counts (the local share of ink) are cut at one half, with
    an edge about one pixel wide."""
    unit = np.asarray(pixels_8x8, dtype=np.float32) / 16
    grown = Image.fromarray(unit).resize((side_px, side_px), Image.Resampling.BICUBIC)
    # The upscaled share changes by about a quarter per pixel across a stroke's edge.
    return np.clip((np.asarray(grown, dtype=np.float32) - 0.5) / 0.25 + 0.5, 0, 1)
