"""Does a picture hold one handwritten digit? The reasons it does not, from what reading found.

Each check looks at the ink groups found (``Reading.groups``, on the analysis copy): several
digits side by side (``segment.digits_side_by_side``, the check digit mode refuses with), ink
running off the picture's edge, a long thin line, a solid blot. The first that applies is the
row's reason, in a few words a person can act on; "" means the picture passed every check.
The thresholds were measured on the photo bench (bench/trust.py): each lets through at least
99.5 % of single MNIST digits.
"""

from digitflow.reading.recipe import Reading
from digitflow.reading.segment import digits_side_by_side

EDGE_PX = 1
"""Ink within this many analysis px of the picture's border runs off it."""
EDGE_MIN_SIDE_SHARE = 0.25
"""Only a digit whose box spans this share of the picture along that edge counts as cut
(a tiny digit near the edge is just placed there)."""
LINE_ASPECT = 4.0
"""A box this many times wider than tall is a line, not a digit (MNIST's widest are ~2)."""
BLOT_COVERAGE = 0.75
"""Ink covering this share of its box is a blot: MNIST's boldest digits cover about half."""


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
    if reading.coverage >= BLOT_COVERAGE:
        return "a solid blot of ink, not a digit"
    if runs_off_edge(reading.digit_box, reading.picture.small.shape):
        return "the ink runs off the picture's edge: the digit may be cut"
    return ""


def several_digits(reading: Reading) -> str:
    """The refusal of a picture holding several digits side by side, or "" (the count is
    ``segment.digits_side_by_side``'s, the one check digit mode makes)."""
    if reading.groups is None:
        return ""
    count = digits_side_by_side(reading.groups.masses, reading.groups.boxes)
    return f"{count} digits side by side: use --read number" if count > 1 else ""


def runs_off_edge(box: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """Whether a digit box (top, bottom, left, right) touches the border of a (h, w) picture
    while spanning a good share of it along that border."""
    top, bottom, left, right = box
    height, width = shape
    tall = bottom - top >= EDGE_MIN_SIDE_SHARE * height
    wide = right - left >= EDGE_MIN_SIDE_SHARE * width
    touches_side = left < EDGE_PX or right > width - EDGE_PX
    touches_end = top < EDGE_PX or bottom > height - EDGE_PX
    return (touches_side and tall) or (touches_end and wide)
