"""A printed box found as a whole: four straight sides closing round the digit.

Seen from outside the box, the first ink met along each row or column is the box's side,
whatever the digit inside does (it may touch a side, or be a 1 as straight as one). So
each side is fitted to the ink's outer edge on that side: along every tilt of
``lines.SLOPES`` the edge's pixels vote for the band they fall in, and the fullest band
wins. Its thickness is the run of ink inward from the edge that most of the side has
(a digit touching the side lengthens the run only where it touches), and no side is
thicker than the thinnest (one printer drew them all; a digit drawn along a side thickens
that one). The four sides make a box when each covers most of its length, each is
ANCHORED_ASPECT times longer than thick, they are square to each other give or take a phone
photo's perspective (so a quadrilateral is a box too), paper shows inside, and no ink
runs on past a corner along a side to the picture's edge (ruled and squared paper, a comb's
row of boxes do; a digit poking out of the box to the edge, or a corner on it, does not).
Inside a box nothing is printed: the digit's straight strokes there are never taken for
lines; ``lines.find_lines`` looks only outside it.
"""

from dataclasses import replace

import numpy as np

from digitflow.mnist_form.masks import bounds
from digitflow.reading.lines import (
    ANCHORED_ASPECT,
    SLOPES,
    Line,
    find_lines,
    line_pixels,
)

MIN_COVERED = 0.85
"""A side's edge lies on its fitted band along at least this share of its length ..."""
MIN_COVERED_LONG = 0.6
LONG_SIDE_PX = 32
"""... or this share, for a side at least this long (analysis px): a faint thin box comes out
of a phone photo's ink broken, and a narrow box tilted a few degrees has the ink's outer edge
on the sides across beyond its corners. A round stroke's outer edge stays within a band two
px wide along about 2·sqrt(2 / L) of its width L (0.5 at 32 px): a small digit's outline
would pass the lower share, a printed side's share does not shrink with its length."""
THICKNESS_SHARE = 0.25
"""A side is as thick as the run of ink inward from its edge at this quantile of its
length (a digit touching it lengthens the run where it touches)."""
MIN_SIDE_PX = 8
"""A box's side is at least this long (in analysis px)."""
SQUARE_DEG = 10.0
"""A box's four sides are square to each other give or take this: a phone photo's
perspective turns each by its own few degrees (its corners moved by 6 % of the picture's
sides turn a side up to 7°), and four sides each covered along most of their length
by the ink's outer edge are a box even so."""


def find_printed(mask: np.ndarray) -> list[Line]:
    """The printed lines among the ink pixels of ``mask`` (h, w): a box round the ink found
    as a whole, and the lines ``lines.find_lines`` finds outside it (all of them when there
    is no box)."""
    box = find_box(mask)
    if box is None:
        return find_lines(mask)
    outside = mask & ~_enclosed(mask.shape, box)
    return box + find_lines(outside)


def find_box(mask: np.ndarray) -> list[Line] | None:
    """The four sides (top, bottom, left, right) of a printed box whose outer edges are the
    ink's outer edges in ``mask`` (h, w); None when the ink's outline is not such a box."""
    if not mask.any():
        return None
    top, bottom, left, right = bounds(mask)
    found = []
    for horizontal, from_far_end in ((True, False), (True, True), (False, False), (False, True)):
        view = mask if horizontal else mask.T
        span = (int(left), int(right)) if horizontal else (int(top), int(bottom))
        side = _outer_side(view[::-1] if from_far_end else view, span)
        if side is None:
            return None
        found.append((horizontal, from_far_end, span, *side))
    # One printer drew all four sides: a digit running along one thickens only that one's run.
    thickness = min(side[-1] for side in found)
    sides = []
    for horizontal, from_far_end, span, slope, edge, run in found:
        run = min(run, thickness)
        if from_far_end:  # back from the flipped view: across = size - 1 - flipped across
            slope, edge = -slope, (mask.shape[0] if horizontal else mask.shape[1]) - edge - run
        sides.append(Line(horizontal, slope, (float(edge), float(edge + run)), span))
    return sides if _is_a_box(sides) and not _runs_off(mask, sides) else None


def _outer_side(view: np.ndarray, span: tuple[int, int]) -> tuple[float, int, int] | None:
    """(slope, edge, thickness) of the straight side that the first ink of each column of
    ``view`` (h, w) within ``span`` lies on, seen from row 0: the first row of its band is
    ``edge + slope * column``. None when too few columns' first ink lies on one band."""
    start, end = span
    if end - start < MIN_SIDE_PX:
        return None
    columns = view[:, start:end]
    inked = columns.any(axis=0)
    xs = np.flatnonzero(inked) + start
    first = columns.argmax(axis=0)[inked]
    pad = int(np.ceil(np.abs(SLOPES).max() * view.shape[1])) + 1
    bins = view.shape[0] + 2 * pad
    # (angles, columns): the band across each tilt that each column's first ink falls in
    across = (first[None, :] - xs[None, :] * SLOPES[:, None] + pad).astype(np.int64)
    flat = (across + bins * np.arange(SLOPES.size)[:, None]).ravel()
    counts = np.bincount(flat, minlength=SLOPES.size * bins).reshape(SLOPES.size, bins)
    pairs = counts[:, :-1] + counts[:, 1:]  # the edge may drift between two bins
    angle, low = divmod(int(np.argmax(pairs)), pairs.shape[1])
    least = MIN_COVERED_LONG if end - start >= LONG_SIDE_PX else MIN_COVERED
    if pairs[angle, low] < least * (end - start):
        return None
    on_edge = (across[angle] >= low) & (across[angle] < low + 2)
    runs = _runs_inward(view, first[on_edge], xs[on_edge], (end - start) // 2)
    thickness = int(np.quantile(runs, THICKNESS_SHARE))
    # The band starts in the pair's inner bin when most of the edge lies there (argmax
    # takes the outer one on a tie: a side a px thick lying in one bin).
    edge = low + int(counts[angle, low + 1] > counts[angle, low])
    return float(SLOPES[angle]), edge - pad, max(1, thickness)


def _runs_inward(view: np.ndarray, first: np.ndarray, xs: np.ndarray, longest: int) -> np.ndarray:
    """For each column ``xs``, how many px of ink run down ``view`` from row ``first``
    (at most ``longest``)."""
    rows = first[:, None] + np.arange(longest)[None, :]  # (columns, steps)
    inside = rows < view.shape[0]
    ink = view[np.minimum(rows, view.shape[0] - 1), xs[:, None]] & inside
    return np.where(ink.all(axis=1), longest, ink.argmin(axis=1))


def _is_a_box(sides: list[Line]) -> bool:
    """Do the four fitted sides (top, bottom, left, right) make a printed box: as thick as each
    other (one printer drew them), each at least ANCHORED_ASPECT times longer than thick,
    square to each other within SQUARE_DEG, and paper inside?"""
    if any(side.length_px < ANCHORED_ASPECT * side.thickness_px for side in sides):
        return False
    tilts = np.degrees(np.arctan([s.slope if s.horizontal else -s.slope for s in sides]))
    if tilts.max() - tilts.min() > SQUARE_DEG:
        return False
    top, bottom, left, right = sides
    inner_height = bottom.offset[0] - top.offset[1]
    inner_width = right.offset[0] - left.offset[1]
    return min(inner_height, inner_width) >= 2 * max(side.thickness_px for side in sides)


def _runs_off(mask: np.ndarray, box: list[Line]) -> bool:
    """Does ink of ``mask`` (h, w) outside the box reach the picture's edge along one of its
    sides, as a ruled or squared paper's lines and a comb's run on past a box's corners? (A
    digit poking out of the box to the edge, or a box's corner on it, does not.)"""
    top, bottom, left, right = box
    closing = [(left, right)] * 2 + [(top, bottom)] * 2
    box = [replace(side, span=_corners(side, *by)) for side, by in zip(box, closing, strict=True)]
    border = np.ones(mask.shape, dtype=bool)
    border[1:-1, 1:-1] = False
    off = mask & border & ~_enclosed(mask.shape, box)
    if not off.any():
        return False
    beyond = []
    for side in box:
        size = mask.shape[1] if side.horizontal else mask.shape[0]
        beyond += [replace(side, span=(0, side.span[0])), replace(side, span=(side.span[1], size))]
    return bool((off & line_pixels(mask.shape, beyond, grow_px=1.0)).any())


def _corners(side: Line, first: Line, last: Line) -> tuple[int, int]:
    """The span of ``side`` between the outer edges of the sides ``first`` and ``last`` that
    close it: its fitted span is the ink's, which a line running on past a corner lengthens."""
    across = side.offset[0]
    start = first.offset[0] + first.slope * across
    end = last.offset[1] + last.slope * across
    return max(int(np.floor(start)), side.span[0]), min(int(np.ceil(end)), side.span[1])


def _enclosed(shape: tuple[int, int], box: list[Line]) -> np.ndarray:
    """Mask (h, w) of the box's sides and everything inside them."""
    top, bottom, left, right = box
    rows, columns = np.indices(shape)
    return (
        (rows >= top.offset[0] + top.slope * columns)
        & (rows < bottom.offset[1] + bottom.slope * columns)
        & (columns >= left.offset[0] + left.slope * rows)
        & (columns < right.offset[1] + right.slope * rows)
    ) | line_pixels(shape, box)
