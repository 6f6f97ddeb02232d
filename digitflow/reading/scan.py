"""Ink graded like a scan: how strong a picture's ink is, and the digit's region cut from the
full-resolution picture with paper at 0 and stroke cores at 1."""

import numpy as np
from PIL import Image

from digitflow.float_images import float_image, float_pixels
from digitflow.mnist_form.mnist_frame import BOX_PX
from digitflow.reading.paper import median

CROP_SIDE_PX = 4 * BOX_PX
"""The digit is graded at up to 4× its final size, then area-averaged: MNIST's grey edges came
from shrinking bilevel scans the same way. (Enlarging smaller digits to it first reads worse.)"""
HOT_PIXELS = 3
"""The few brightest pixels that may be noise, not ink."""
CORE_FRACTION = 0.5
"""Pixels above this share of the strongest ink are stroke cores; their median is the ink level."""
NOISE_SIGMAS = 3.0
"""Signal weaker than this many grain deviations (or a tenth of the ink level) is paper."""


def ink_levels(signal: np.ndarray, least: float) -> tuple[float, float] | None:
    """(strongest, level) of the signal: its maximum ignoring a few hot pixels, and a typical
    stroke core's signal (the median of the pixels above half the strongest). None when the
    strongest is below ``least``. Only pixels above ``least`` are sorted: paper is most of a
    picture, and sorting all of it is the slow part."""
    candidates = np.sort(signal[signal >= least])
    if candidates.size == 0:
        return None
    strongest = float(candidates[-1 - min(HOT_PIXELS, signal.size // 1000, candidates.size - 1)])
    if strongest < least:
        return None
    cores = candidates[np.searchsorted(candidates, CORE_FRACTION * strongest, side="right") :]
    return strongest, float(cores[cores.size // 2])  # sorted already: the middle is the median


def crop(gray: np.ndarray, region: tuple[int, int, int, int], max_side_px: int) -> np.ndarray:
    """``region`` (top, bottom, left, right) of ``gray``, area-averaged down so its long side
    is at most ``max_side_px``."""
    top, bottom, left, right = region
    part = gray[top:bottom, left:right]
    ratio = max_side_px / max(part.shape)
    if ratio >= 1:
        return part
    size = (max(1, round(part.shape[1] * ratio)), max(1, round(part.shape[0] * ratio)))
    return float_pixels(float_image(part).resize(size, Image.Resampling.BOX))


def within(
    mask_small: np.ndarray, region: tuple[float, ...], scale: float, shape: tuple[int, int]
) -> np.ndarray:
    """The analysis-resolution mask sampled (nearest pixel) at the centres of a (h, w) grid
    laid over a full-resolution region."""
    top, bottom, left, right = (edge / scale for edge in region)
    height, width = mask_small.shape
    whole = all(float(edge).is_integer() and edge >= 0 for edge in (top, left))
    if whole and shape == (bottom - top, right - left) and bottom <= height and right <= width:
        # one grid cell per mask pixel: the centres sample exactly the region's own pixels
        return mask_small[int(top) : int(bottom), int(left) : int(right)].copy()
    rows = top + (np.arange(shape[0]) + 0.5) * (bottom - top) / shape[0]
    cols = left + (np.arange(shape[1]) + 0.5) * (right - left) / shape[1]
    rows = np.minimum(rows.astype(int), height - 1)
    cols = np.minimum(cols.astype(int), width - 1)
    return mask_small[np.ix_(rows, cols)]


def graded(signal: np.ndarray, digit: np.ndarray) -> np.ndarray | None:
    """Ink (h, w) in [0, 1] within the ``digit`` mask: 0 up to the paper's grain, rising
    linearly to 1 at the stroke cores' level; None when nothing is left."""
    steps = np.abs(np.diff(signal, axis=1)).ravel()
    grain = median(steps) / 0.954 if steps.size else 0.0
    # (the median of |a - b| for two N(0, σ²) pixels is 0.954 σ)
    signal = np.where(digit, signal, 0.0).astype(np.float32)
    levels = ink_levels(signal, np.finfo(np.float32).tiny)
    if levels is None:
        return None
    level = levels[1]
    floor = min(max(NOISE_SIGMAS * grain, 0.1 * level), 0.5 * level)
    return np.clip((signal - floor) / (level - floor), 0.0, 1.0)
