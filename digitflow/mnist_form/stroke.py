"""MNIST's pen: strokes thickened or thinned into the range of widths MNIST's writers drew."""

import numpy as np

from digitflow.mnist_form.masks import bounds
from digitflow.mnist_form.mnist_frame import BOX_PX

BILEVEL_CUT = 0.5
"""NIST's scans were bilevel: ink where a pixel was more than half covered. Its bounding box
is the digit's extent (the faint halo around strokes is not)."""
STROKE_WIDTH_PX = (2.0, 2.6)
"""Stroke widths in px of the 20 px box (twice the area over the perimeter of the digit's
pixels above BILEVEL_CUT, at up to 4× resolution): a fine pen on a big digit is thickened to
MNIST's median width, a marker thinned to about its 90th percentile. (Thickening only to the
10th percentile, 1.4 px, read fine-pen photos 0.45 points worse.)"""


def mnist_stroke_width(ink: np.ndarray) -> np.ndarray:
    """The graded ink (h, w) in [0, 1] with its strokes thickened (grey dilation) or thinned
    (erosion) into ``STROKE_WIDTH_PX``, measured as they will be once the digit fits 20 px.
    Thickening pads the array by the radius it grows."""
    bilevel = ink > BILEVEL_CUT
    top, bottom, left, right = bounds(bilevel)
    px_per_box_px = max(bottom - top, right - left) / BOX_PX
    width = stroke_width_px(bilevel) / px_per_box_px
    low, high = STROKE_WIDTH_PX
    target = min(max(width, low), high)
    radius = round((target - width) / 2 * px_per_box_px)
    if radius > 0:
        return _grey_filter(np.pad(ink, radius), radius, np.maximum)
    if radius < 0:
        return _grey_filter(ink, -radius, np.minimum)
    return ink


def stroke_width_px(mask: np.ndarray) -> float:
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
