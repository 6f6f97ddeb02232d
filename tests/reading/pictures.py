"""Pictures of digits the reading tests share: drawn ink placed on paper, and how close two
28×28 readings must be to count as the same digit."""

import numpy as np
from PIL import Image

from digitflow.reading.images import normalise_digit
from digitflow.synthetic.photos import draw_digit

PAPER, INK = 0.9, 0.1


def digit_ink(label: int = 4, size_px: int = 80) -> np.ndarray:
    """A pen-drawn digit, (size_px, size_px) float32, ink high."""
    return draw_digit(label, np.random.default_rng(label), size_px)


def picture(
    ink: np.ndarray,
    canvas: tuple[int, int] = (160, 200),
    at: tuple[int, int] = (40, 60),
    light_on_dark: bool = False,
    lighting: np.ndarray | float = 1.0,
) -> np.ndarray:
    """A grayscale picture (h, w) float32 of ``ink`` placed at ``at`` (top, left)."""
    coverage = np.zeros(canvas, np.float32)
    coverage[at[0] : at[0] + ink.shape[0], at[1] : at[1] + ink.shape[1]] = ink
    paper, ink_level = (INK, PAPER) if light_on_dark else (PAPER, INK)
    return (paper + (ink_level - paper) * coverage) * lighting


def as_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))


def reference() -> np.ndarray:
    return normalise_digit(as_image(picture(digit_ink())))


def assert_same_digit(actual: np.ndarray, expected: np.ndarray, tolerance: float = 0.03):
    """Nearly equal up to a one-pixel shift (whole-pixel centring and a 20 px box rounded to
    whole pixels can move a digit by one pixel, as in MNIST)."""
    assert actual.shape == (28, 28) and actual.dtype == np.float32
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    differences = [np.abs(np.roll(actual, shift, axis=(0, 1)) - expected) for shift in shifts]
    assert min(difference.mean() for difference in differences) < tolerance
