"""The MNIST recipe on a grayscale array: find the ink, fit it in 20×20, centre it in 28×28.

LeCun et al. size-normalised each bilevel NIST digit to fit a 20×20 box keeping its aspect ratio
(the anti-aliasing of that resize made the grey levels), then translated it so its centre of mass
sits at the centre of a 28×28 field. In MNIST the ink's long side spans exactly 20 px and the
centre of mass lies within ±0.5 px of pixel (14, 14): the translation is by whole pixels.

A photo first needs its ink separated from the paper. The paper (``paper``) and the
digit's components (``ink_components``) are found on a copy shrunk by a whole factor
to about ``ANALYSIS_SIDE_PX``; only the digit's own region is then cut from the full-resolution
array, and graded at no more than ``CROP_SIDE_PX``, so the work barely grows with the picture.
"""

import numpy as np
from PIL import Image

from digitflow.reading.ink_components import digit_components
from digitflow.reading.paper import Polarity, edge_pixels, median, read_paper

FRAME_PX = 28
BOX_PX = 20
ANALYSIS_SIDE_PX = 128
"""Paper and components are analysed on a copy shrunk by a whole factor to about this ..."""
MAX_ANALYSIS_FACTOR = 4
"""... but by no more than this: a small digit in a big photo must keep a few pixels per
stroke (a big picture's decoding dwarfs the extra work anyway)."""
CROP_SIDE_PX = 4 * BOX_PX
"""The digit is graded at up to 4× its final size, then area-averaged: MNIST's grey edges came
from shrinking bilevel scans the same way. (Enlarging smaller digits to it first reads worse.)"""
MIN_CONTRAST = 0.04
"""Ink must stand out from the paper by this much of the full grey scale ..."""
MIN_CONTRAST_SIGMAS = 6.0
"""... and by this many standard deviations of the paper's grain."""
HOT_PIXELS = 3
"""The few brightest pixels that may be noise, not ink."""
CORE_FRACTION = 0.5
"""Pixels above this share of the strongest ink are stroke cores; their median is the ink level."""
MASK_FRACTION = 0.35
"""Pixels above this share of the ink level are ink when looking for the digit's components."""
NOISE_SIGMAS = 3.0
"""Signal weaker than this many grain deviations (or a tenth of the ink level) is paper."""
BILEVEL_CUT = 0.5
"""NIST's scans were bilevel: ink where a pixel was more than half covered. Its bounding box
is the digit's extent (the faint halo around strokes is not)."""
STROKE_WIDTH_PX = (2.0, 2.6)
"""Stroke widths in px of the 20 px box (twice the area over the perimeter of the digit's
pixels above BILEVEL_CUT, at up to 4× resolution): a fine pen on a big digit is thickened to
MNIST's median width, a marker thinned to about its 90th percentile. (Thickening only to the
10th percentile, 1.4 px, read fine-pen photos 0.45 points worse.)"""
SHEET_CONTRAST = 0.2
"""A desk around the sheet differs from it by this much of the grey scale (lighting alone
changes the paper by less) ..."""
SHEET_SPAN = 0.3
"""... the sheet spans at least this share of the picture's height and width ..."""
SHEET_MARGIN = 0.02
"""... the desk shows on every side, at least this share of the picture wide ..."""
SHEET_SOLIDITY = 0.7
"""... at least this share of its box is lighter than the desk (the rest is ink on it) ..."""
SHEET_ENCLOSED = 0.97
"""... and the box of its full rows and columns holds this share of all that is lighter: a
bold chalk digit is a lighter blob too, but it thins out towards its edges (86–90 % against
99–100 % for sheets on the bench's desks)."""
MIN_DIGIT_FRACTION = 0.02
"""Ink smaller than this share of the picture's long side is a speck, not a digit."""


def mnist_digit(gray: np.ndarray, polarity: Polarity = "auto") -> np.ndarray | None:
    """Turn a grayscale picture (h, w) float32 in [0, 1] into MNIST's (28, 28) float32 layout
    (ink high, in [0, 1]); None when the picture holds no ink."""
    # 0. A photo of a sheet on a desk: only the sheet.
    scale = _analysis_factor(gray.shape)
    small = _reduced(gray, scale)
    sheet = _sheet(small) if polarity != "light-on-dark" else None  # chalk has no light sheet
    if sheet is not None:
        top, bottom, left, right = (edge * scale for edge in sheet)
        gray = gray[top:bottom, left:right]
        scale = _analysis_factor(gray.shape)
        small = _reduced(gray, scale)
    # 1. Paper and ink on the small copy: polarity, background, which blobs form the digit.
    paper = read_paper(small, polarity)
    signal_small = paper.ink_signal(small)
    levels = _ink_levels(signal_small, max(MIN_CONTRAST, MIN_CONTRAST_SIGMAS * paper.noise))
    if levels is None:
        return None
    level_small = levels[1]
    keep_small = digit_components(signal_small, signal_small > MASK_FRACTION * level_small)
    if keep_small is None or _is_speck(keep_small):
        return None
    # 2. The digit's region, at most CROP_SIDE_PX long, graded like a scan: paper 0, cores 1.
    top, bottom, left, right = _bounds(keep_small, margin=1)
    height, width = gray.shape
    region = (  # whole pixels, so a digit's rendering does not depend on its sub-pixel phase
        int(top * scale),
        min(int(np.ceil(bottom * scale)), height),
        int(left * scale),
        min(int(np.ceil(right * scale)), width),
    )
    crop = _crop(gray, region, CROP_SIDE_PX)
    signal = paper.ink_signal(crop, region, scale)
    ink = _graded(signal, _within(_dilated(keep_small), region, scale, crop.shape))
    if ink is None:
        return None
    # 3. MNIST's pen and geometry.
    ink = _mnist_stroke_width(ink)
    top, bottom, left, right = _bounds(ink > BILEVEL_CUT, margin=0)
    return fit_mnist_frame(ink[top:bottom, left:right])


def _analysis_factor(shape: tuple[int, int]) -> int:
    """Whole factor a picture is shrunk by for analysis (px of the picture per px)."""
    return min(-(-max(shape) // ANALYSIS_SIDE_PX), MAX_ANALYSIS_FACTOR)


def _sheet(small: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a light sheet when the picture's edges show a darker desk
    all around it, else None. The sheet is what is lighter than the edges: a nearly solid
    block (ink on it is a small share) spanning a good part of the picture each way. Dark ink
    on light paper is never lighter than the edges, however bold the digit; a shadow darkens
    part of the paper up to the picture's edges."""
    surround = median(edge_pixels(small))
    if float(small.max()) - surround <= SHEET_CONTRAST:  # the usual case: paper at the edges
        return None
    other = small - surround > SHEET_CONTRAST
    row_counts, col_counts = other.sum(axis=1), other.sum(axis=0)
    rows = np.flatnonzero(row_counts >= row_counts.max() / 2)
    cols = np.flatnonzero(col_counts >= col_counts.max() / 2)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    height, width = small.shape
    if bottom - top < SHEET_SPAN * height or right - left < SHEET_SPAN * width:
        return None
    margins = np.array([top / height, 1 - bottom / height, left / width, 1 - right / width])
    if margins.min() < SHEET_MARGIN:  # the lighter block reaches an edge: lighting, not a desk
        return None
    inside = other[top:bottom, left:right]
    if inside.mean() < SHEET_SOLIDITY or inside.sum() < SHEET_ENCLOSED * other.sum():
        return None
    return top + 1, bottom - 1, left + 1, right - 1  # inset: the sheet's edge may be blurred


def fit_mnist_frame(ink: np.ndarray) -> np.ndarray:
    """Scale a tightly cropped ink array (h, w) so its long side is 20 px (aspect kept,
    anti-aliased), and place it in a 28×28 frame with its centre of mass at pixel (14, 14)."""
    height, width = ink.shape
    ratio = BOX_PX / max(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))  # PIL order: (w, h)
    # Area averaging when shrinking is how a bilevel scan becomes grey edges; growing a tiny
    # digit needs interpolation instead, or it comes out blocky.
    resample = Image.Resampling.BOX if ratio <= 1 else Image.Resampling.BILINEAR
    patch = np.asarray(Image.fromarray(ink).resize(size, resample), dtype=np.float32)
    patch = np.clip(patch / max(float(patch.max()), 1e-6), 0.0, 1.0)
    mass = patch.sum()
    centre_y = float(patch.sum(axis=1) @ np.arange(patch.shape[0])) / mass
    centre_x = float(patch.sum(axis=0) @ np.arange(patch.shape[1])) / mass
    top = int(np.clip(round(FRAME_PX / 2 - centre_y), 0, FRAME_PX - patch.shape[0]))
    left = int(np.clip(round(FRAME_PX / 2 - centre_x), 0, FRAME_PX - patch.shape[1]))
    frame = np.zeros((FRAME_PX, FRAME_PX), dtype=np.float32)
    frame[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return frame


def _mnist_stroke_width(ink: np.ndarray) -> np.ndarray:
    """The ink with its strokes thickened (grey dilation) or thinned (erosion) into MNIST's
    usual range of stroke widths, measured as they will be once the digit fits 20 px."""
    bilevel = ink > BILEVEL_CUT
    top, bottom, left, right = _bounds(bilevel, margin=0)
    px_per_box_px = max(bottom - top, right - left) / BOX_PX
    width = _stroke_width(bilevel) / px_per_box_px
    low, high = STROKE_WIDTH_PX
    target = float(np.clip(width, low, high))
    radius = round((target - width) / 2 * px_per_box_px)
    if radius > 0:
        return _grey_filter(np.pad(ink, radius), radius, np.maximum)
    if radius < 0:
        return _grey_filter(ink, -radius, np.minimum)
    return ink


def _stroke_width(mask: np.ndarray) -> float:
    """Mean width of a mask's strokes in px: twice the area over the perimeter."""
    steps = np.diff(mask, axis=0).sum() + np.diff(mask, axis=1).sum()
    edges = steps + mask[0].sum() + mask[-1].sum() + mask[:, 0].sum() + mask[:, -1].sum()
    return 2 * float(mask.sum()) / max(float(edges), 1.0)


def _grey_filter(ink: np.ndarray, radius: int, reduce) -> np.ndarray:
    """``radius`` passes of a 3×3 max (dilation) or min (erosion), edges repeated."""
    for _ in range(radius):
        rows = ink.copy()
        rows[1:] = reduce(rows[1:], ink[:-1])
        rows[:-1] = reduce(rows[:-1], ink[1:])
        ink = rows.copy()
        ink[:, 1:] = reduce(ink[:, 1:], rows[:, :-1])
        ink[:, :-1] = reduce(ink[:, :-1], rows[:, 1:])
    return ink


def _reduced(gray: np.ndarray, factor: int) -> np.ndarray:
    """Each ``factor``×``factor`` block averaged (a partial block at the far edges too)."""
    if factor == 1:
        return gray
    return np.asarray(Image.fromarray(gray).reduce(factor))


def _crop(gray: np.ndarray, region: tuple[int, int, int, int], max_side_px: int) -> np.ndarray:
    """``region`` (top, bottom, left, right) of ``gray``, area-averaged down so its long side
    is at most ``max_side_px``."""
    top, bottom, left, right = region
    crop = gray[top:bottom, left:right]
    ratio = max_side_px / max(crop.shape)
    if ratio >= 1:
        return crop
    size = (max(1, round(crop.shape[1] * ratio)), max(1, round(crop.shape[0] * ratio)))
    return np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BOX))


def _ink_levels(signal: np.ndarray, least: float) -> tuple[float, float] | None:
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


def _graded(signal: np.ndarray, digit: np.ndarray) -> np.ndarray | None:
    """Ink (h, w) in [0, 1] within the ``digit`` mask: 0 up to the paper's grain, rising
    linearly to 1 at the stroke cores' level; None when nothing is left."""
    steps = np.abs(np.diff(signal, axis=1)).ravel()
    grain = median(steps) / 0.954 if steps.size else 0.0
    # (the median of |a - b| for two N(0, σ²) pixels is 0.954 σ)
    signal = np.where(digit, signal, 0.0).astype(np.float32)
    levels = _ink_levels(signal, np.finfo(np.float32).tiny)
    if levels is None:
        return None
    level = levels[1]
    floor = min(max(NOISE_SIGMAS * grain, 0.1 * level), 0.5 * level)
    return np.clip((signal - floor) / (level - floor), 0.0, 1.0)


def _is_speck(mask: np.ndarray) -> bool:
    top, bottom, left, right = _bounds(mask, margin=0)
    return max(bottom - top, right - left) < MIN_DIGIT_FRACTION * max(mask.shape)


def _bounds(mask: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """Bounding box (top, bottom, left, right; ends exclusive) of a non-empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        max(0, rows[0] - margin),
        min(height, rows[-1] + 1 + margin),
        max(0, cols[0] - margin),
        min(width, cols[-1] + 1 + margin),
    )


def _dilated(mask: np.ndarray) -> np.ndarray:
    """The mask grown by one pixel in all 8 directions (to keep anti-aliased stroke edges)."""
    rows = mask.copy()
    rows[1:] |= mask[:-1]
    rows[:-1] |= mask[1:]
    grown = rows.copy()
    grown[:, 1:] |= rows[:, :-1]
    grown[:, :-1] |= rows[:, 1:]
    return grown


def _within(
    mask_small: np.ndarray, region: tuple[float, ...], scale: float, shape: tuple[int, int]
) -> np.ndarray:
    """The analysis-resolution mask sampled (nearest pixel) at the centres of a (h, w) grid
    laid over a full-resolution region."""
    top, bottom, left, right = (edge / scale for edge in region)
    height, width = mask_small.shape
    rows = top + (np.arange(shape[0]) + 0.5) * (bottom - top) / shape[0]
    cols = left + (np.arange(shape[1]) + 0.5) * (right - left) / shape[1]
    rows = np.minimum(rows.astype(int), height - 1)
    cols = np.minimum(cols.astype(int), width - 1)
    return mask_small[np.ix_(rows, cols)]
