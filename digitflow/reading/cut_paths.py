"""Where touching digits may be cut apart: candidate paths through one group of ink.

A path gives, for each row of the group's mask, the column where the left piece ends: the
ink left of it goes to the left digit, the rest to the right one. Four kinds are tried, as
segmentation-by-recognition readers do (Casey and Lecomte's survey, 1996):

- projection minima: straight down at the columns holding the least ink;
- contour valleys: straight down at the dips of the upper contour (where ink starts lowest,
  between two digits' tops) and the rises of the lower contour (between their bottoms);
- drop-fall: the path of a drop falling from the top, or rising from the bottom, from a
  valley or a projection minimum: it slides round ink where it can and cuts through where it
  cannot, so it follows a gap that winds (a 6's bowl under a 5's foot);
- slanted: straight lines leaning either way through those columns and through the gaps
  between strokes a third and two thirds of the way down (digits leaning on each other).

Which path, if any, is right is for the network to say (``segment``); here only their
shapes are found, on the group's own box.
"""

from dataclasses import dataclass

import numpy as np

MAX_PATHS = 12
"""Paths kept per group: those severing the fewest strokes, each kind in turn."""
VALLEYS = 4
"""Deepest valleys of each contour tried."""
PROJECTION_MINIMA = 4
"""Least-ink columns tried."""
SLIDE = 0.15
"""A drop slides sideways round ink by at most this share of the row's height."""
SLANTS = (-0.5, -0.25, 0.25, 0.5)
"""Slanted paths lean by these many columns per row, through each column tried above and
each gap between strokes a third and two thirds of the way down."""


@dataclass(frozen=True)
class CutPath:
    """One way of cutting a group's mask in two."""

    kind: str
    """"projection", "upper valley", "lower valley", "drop-fall", "rising drop" or "slanted"."""
    ends: np.ndarray
    """(h,) int: in row r of the mask, columns < ends[r] are the left piece's."""


def cut_paths(mask: np.ndarray, row_height: float, margin_px: int) -> list[CutPath]:
    """Distinct candidate cuts of ``mask`` (h, w) bool, a group cropped to its box, each
    leaving at least ``margin_px`` columns of the box on either side, left to right."""
    height, width = mask.shape
    if width <= 2 * margin_px:
        return []
    tops, bottoms = _contours(mask)
    upper = _valleys(tops, margin_px)  # where the top contour dips lowest
    lower = _valleys(height - 1 - bottoms, margin_px)  # where the bottom contour rises highest
    minima = _projection_minima(mask, margin_px)
    slide = max(1, round(SLIDE * row_height))
    paths = [CutPath("projection", np.full(height, c)) for c in minima]
    paths += [CutPath("upper valley", np.full(height, c)) for c in upper]
    paths += [CutPath("lower valley", np.full(height, c)) for c in lower]
    paths += [CutPath("drop-fall", _drop_fall(mask, c, slide)) for c in upper + minima]
    rising = [_drop_fall(mask[::-1], c, slide)[::-1] for c in lower + minima]
    paths += [CutPath("rising drop", ends) for ends in rising]
    pivots = {(height // 2, c) for c in upper + lower + minima}
    for row in (height // 3, 2 * height // 3):
        pivots |= {(row, c) for c in _gaps(mask[row], margin_px)}
    paths += [
        CutPath("slanted", _line(height, pivot, slant))
        for pivot in sorted(pivots)
        for slant in SLANTS
    ]
    return _distinct(mask, paths, margin_px)


def left_of(path: CutPath, width: int) -> np.ndarray:
    """(h, w) bool: the pixels the path gives the left piece."""
    return np.arange(width)[None, :] < path.ends[:, None]


def strokes_severed(mask: np.ndarray, path: CutPath) -> int:
    """How many strokes the path cuts through (at least 1: the group is one piece of ink):
    the runs of rows where ink on its left touches ink on its right, diagonals included."""
    rows = np.arange(mask.shape[0])
    left = mask[rows, np.clip(path.ends - 1, 0, mask.shape[1] - 1)] & (path.ends > 0)
    right = mask[rows, np.clip(path.ends, 0, mask.shape[1] - 1)] & (path.ends < mask.shape[1])
    severed = left & right
    severed[:-1] |= (left[:-1] & right[1:]) | (right[:-1] & left[1:])
    starts = np.diff(severed.astype(np.int8), prepend=0) == 1
    return max(1, int(starts.sum()))


def _contours(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's first and last ink row (h and -1 where the column has none)."""
    height = mask.shape[0]
    inked = mask.any(axis=0)
    tops = np.where(inked, mask.argmax(axis=0), height)
    bottoms = np.where(inked, height - 1 - mask[::-1].argmax(axis=0), -1)
    return tops, bottoms


def _valleys(depth: np.ndarray, margin_px: int) -> list[int]:
    """Columns where ``depth`` (how far the contour lies from its edge of the box) is a
    local maximum over a window of ``margin_px`` either side, deepest first; each plateau
    counts once, at its middle."""
    width = depth.size
    window = np.lib.stride_tricks.sliding_window_view(
        np.pad(depth, margin_px, constant_values=-1), 2 * margin_px + 1
    )
    peak = (depth == window.max(axis=1)) & (depth > depth.min())
    peak[:margin_px] = peak[width - margin_px :] = False
    columns = np.flatnonzero(peak)
    if columns.size == 0:
        return []
    plateaus = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)
    middles = [int(p[len(p) // 2]) for p in plateaus]
    return sorted(middles, key=lambda c: -depth[c])[:VALLEYS]


def _projection_minima(mask: np.ndarray, margin_px: int) -> list[int]:
    """Columns where the ink per column is least over a window of ``margin_px`` either
    side, least first."""
    return _valleys(mask.shape[0] - mask.sum(axis=0), margin_px)[:PROJECTION_MINIMA]


def _drop_fall(mask: np.ndarray, start: int, slide_px: int) -> np.ndarray:
    """(h,) ends of the path a drop takes falling from the top of column ``start``: straight
    down through paper, else down-left or down-right, else sliding along its row to the
    nearest column with paper below (within ``slide_px``), else cutting straight down."""
    height, width = mask.shape
    ends = np.empty(height, dtype=int)
    x = start
    for r in range(height):
        ends[r] = x
        if r + 1 == height or not mask[r + 1, x]:
            continue
        x = _next_column(mask[r], mask[r + 1], x, slide_px, width)
    return ends


def _next_column(row: np.ndarray, below: np.ndarray, x: int, slide_px: int, width: int) -> int:
    for dx in (-1, 1):
        if 0 < x + dx < width and not below[x + dx]:
            return x + dx
    for step in range(2, slide_px + 1):
        for dx in (-step, step):
            beside = x + dx
            if not 0 < beside < width:
                continue
            way = row[min(x, beside) : max(x, beside) + 1]
            if not below[beside] and not way[1:-1].any():
                return beside
    return x


def _gaps(row: np.ndarray, margin_px: int) -> list[int]:
    """The middle column of each stretch of paper between ink along one row."""
    edges = np.flatnonzero(np.diff(row.astype(np.int8)))  # last column before each change
    if row[0]:
        edges = edges[1:]
    middles = [(a + b) // 2 + 1 for a, b in zip(edges[::2], edges[1::2], strict=False)]
    return [int(c) for c in middles if margin_px <= c <= row.size - margin_px]


def _line(height: int, pivot: tuple[int, int], slant: float) -> np.ndarray:
    """(h,) ends of the straight line through ``pivot`` (row, column), leaning by ``slant``
    columns per row (positive: its top to the right)."""
    row, column = pivot
    return np.rint(column - slant * (np.arange(height) - row)).astype(int)


def _distinct(mask: np.ndarray, paths: list[CutPath], margin_px: int) -> list[CutPath]:
    """Paths that split the ink differently, leaving ``margin_px`` of the box either side,
    at most MAX_PATHS of them (fewest strokes severed first), ordered left to right."""
    width = mask.shape[1]
    rows = mask.any(axis=1)
    first = np.where(rows, mask.argmax(axis=1), 0)
    last = np.where(rows, width - mask[:, ::-1].argmax(axis=1), 0)
    seen, kept = set(), []
    for path in paths:
        ends = np.clip(path.ends, margin_px, width - margin_px)
        # Where a row's ink lies wholly on one side, only that side matters.
        key = np.clip(ends, first, last)[rows].tobytes()
        if key in seen:
            continue
        seen.add(key)
        kept.append(CutPath(path.kind, ends))
    # Fewest strokes severed first, the kinds taking turns among equals.
    turn = {}
    ranks = [turn.setdefault(p.kind, []).append(p) or len(turn[p.kind]) for p in kept]
    order = sorted(range(len(kept)), key=lambda i: (strokes_severed(mask, kept[i]), ranks[i]))
    kept = [kept[i] for i in order[:MAX_PATHS]]
    return sorted(kept, key=lambda p: float(np.mean(p.ends[rows])))
