"""Does a picture hold one handwritten digit? The reasons it does not, from what reading found.

Each check looks at the ink groups found (``Reading.groups``, on the analysis copy): several
digits side by side (``segment.digits_side_by_side``, the check digit mode refuses with), ink
running off the picture's edge, a long thin line, a solid blot. The first that applies is the
row's reason, in a few words a person can act on; "" means the picture passed every check.
The thresholds were measured on the photo bench (bench/trust.py): each lets through at least
99.5 % of single MNIST digits.
"""

import numpy as np

from digitflow.reading.recipe import Reading
from digitflow.reading.segment import digits_side_by_side

EDGE_MIN_SIDE_SHARE = 0.25
"""Only a digit whose box spans this share of the picture along an edge can be cut there (a
small digit near the edge is just placed there) ..."""
EDGE_INNER_PX = 2
"""... and only if its strokes run into that edge undiminished: at least as much ink on the
border line as on the line this many analysis px inside. A stroke merely touching the edge
(a round digit filling the picture) narrows towards it; a cut stroke does not."""
LINE_ASPECT = 4.0
"""A box this many times wider than tall is a line, not a digit (MNIST's widest are ~2)."""
BLOT_COVERAGE = 0.75
"""Ink covering this share of its box is a blot: MNIST's boldest digits cover about half ..."""
BLOT_MIN_WIDTH_SHARE = 1 / 3
"""... unless the box is narrower than this share of its height: a straight 1 fills its own
thin box whatever the pen (on the photo bench, most blots found were 1s)."""


def rejection(reading: Reading) -> str:
    """Why ``reading`` is not of one handwritten digit, or "" when nothing says so."""
    groups = reading.groups
    if groups is None:
        return ""
    several = several_digits(reading)
    if several:
        return several
    top, bottom, left, right = reading.digit_box
    height, width = bottom - top, right - left
    if width >= LINE_ASPECT * height:
        return "a long thin line, not a digit"
    if reading.coverage >= BLOT_COVERAGE and width >= BLOT_MIN_WIDTH_SHARE * height:
        return "a solid blot of ink, not a digit"
    if runs_off_edge(groups.digit):
        return "the ink runs off the picture's edge: the digit may be cut"
    return ""


def several_digits(reading: Reading) -> str:
    """The refusal of a picture holding several digits side by side, or "" (the count is
    ``segment.digits_side_by_side``'s, the one check digit mode makes)."""
    if reading.groups is None:
        return ""
    count = digits_side_by_side(reading.groups.masses, reading.groups.boxes)
    return f"{count} digits side by side: use --read number" if count > 1 else ""


def runs_off_edge(digit: np.ndarray) -> bool:
    """Whether the digit's ink (an (h, w) mask of the whole analysis picture) runs off one of
    the picture's edges: it spans a good share along that edge, and its strokes reach the
    border as wide as they are just inside it."""
    height, width = digit.shape
    rows, cols = digit.any(axis=1), digit.any(axis=0)
    sides = (
        (digit[0], digit[min(EDGE_INNER_PX, height - 1)], cols),
        (digit[-1], digit[max(height - 1 - EDGE_INNER_PX, 0)], cols),
        (digit[:, 0], digit[:, min(EDGE_INNER_PX, width - 1)], rows),
        (digit[:, -1], digit[:, max(width - 1 - EDGE_INNER_PX, 0)], rows),
    )
    return any(
        border.any()
        and along.sum() >= EDGE_MIN_SIDE_SHARE * along.size
        and border.sum() >= inner.sum()
        for border, inner, along in sides
    )
