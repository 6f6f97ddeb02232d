"""A photo of a sheet on a desk: where the light sheet is, when a darker desk shows all
around it, upright or turned; and the picture with only the sheet left in it."""

from dataclasses import dataclass

import numpy as np

from digitflow.reading.paper import edge_pixels, median

SHEET_CONTRAST = 0.2
"""A desk around the sheet differs from it by this much of the grey scale (lighting alone
changes the paper by less) ..."""
SHEET_SPAN = 0.3
"""... the sheet spans at least this share of the picture's height and width ..."""
SHEET_MARGIN = 0.02
"""... the desk shows on every side of its full rows and columns, at least this share of the
picture wide ..."""
SHEET_SOLIDITY = 0.7
"""... at least this share of the box of its full rows and columns is lighter than the desk
(the rest is ink on it) ..."""
SHEET_STRAIGHT_PX = 0.5
"""... and its sides are straight: along its full rows (columns), where the sheet begins and
ends lies within this many px of a straight line, in the median. A bold chalk digit is a
lighter blob too, but its sides are curves; a turned sheet's are still straight lines."""
SHEET_CORNER_SHARE = 0.1
"""Rows and columns holding this share of a full row's (column's) sheet are part of it: the
corners of a turned sheet reach beyond its full rows and columns."""
SHEET_EDGE_LEVEL = 0.75
"""The sheet's edge is where the grey rises this share of the way from the desk to the
sheet's paper (nearer the paper: the blurred rim between them is neither)."""
SHEET_RIM_PX = 2
"""px (of the analysis copy) of a sheet's edge left out: JPEG and the lens blur it into the
desk."""


@dataclass(frozen=True)
class Sheet:
    """Where the sheet lies in a small grey picture."""

    box: tuple[int, int, int, int]
    """(top, bottom, left, right) of the sheet, corners included, in px of the picture."""
    least: float
    """Grey level above which a pixel is the sheet's rather than the desk's."""
    paper: float
    """The sheet's usual grey level."""


def find_sheet(small: np.ndarray) -> Sheet | None:
    """The light sheet in a small (h, w) grey picture when its edges show a darker desk all
    around it, else None. The sheet is what is lighter than the edges: a nearly solid block
    (ink on it is a small share) with straight sides, spanning a good part of the picture
    each way. Dark ink on light paper is never lighter than the edges, however bold the
    digit; a shadow darkens part of the paper up to the picture's edges."""
    surround = median(edge_pixels(small))
    if float(small.max()) - surround <= SHEET_CONTRAST:  # the usual case: paper at the edges
        return None
    other = small - surround > SHEET_CONTRAST
    full_rows, full_cols = _spread(other.sum(axis=1), 0.5), _spread(other.sum(axis=0), 0.5)
    top, bottom, left, right = *full_rows, *full_cols
    height, width = small.shape
    if bottom - top < SHEET_SPAN * height or right - left < SHEET_SPAN * width:
        return None
    if other[top:bottom, left:right].mean() < SHEET_SOLIDITY:
        return None
    if not (_straight_sides(other[top:bottom]) and _straight_sides(other[:, left:right].T)):
        return None
    margins = np.array([top / height, 1 - bottom / height, left / width, 1 - right / width])
    if margins.min() < SHEET_MARGIN:  # the lighter block reaches an edge: lighting, not a desk
        return None
    top, bottom = _spread(other.sum(axis=1), SHEET_CORNER_SHARE)
    left, right = _spread(other.sum(axis=0), SHEET_CORNER_SHARE)
    paper = median(small[other])
    least = surround + SHEET_EDGE_LEVEL * (paper - surround)
    return Sheet((top, bottom, left, right), least, paper)


def _spread(counts: np.ndarray, share: float) -> tuple[int, int]:
    """First and last-plus-one index whose count is at least ``share`` of the largest."""
    held = np.flatnonzero(counts >= share * counts.max())
    return int(held[0]), int(held[-1]) + 1


def _straight_sides(rows: np.ndarray) -> bool:
    """Whether, along the middle half of the (n, w) mask ``rows`` (a turned sheet's other
    sides show in the rest), the first and the last True of each row lie on straight lines
    (in the median, within SHEET_STRAIGHT_PX), once ink is bridged: ink touching the side
    only moves a row's ends inwards, however many rows it covers, so their outer convex
    envelope is the side itself; a blob's sides are curves, which their envelope follows."""
    count = rows.shape[0]
    rows = rows[count // 4 : count - count // 4]
    half = rows.shape[0] // 2
    if half == 0:
        return True
    index = np.arange(rows.shape[0])
    firsts = rows.argmax(axis=1)
    lasts = rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    for side in (_lower_envelope(index, firsts), -_lower_envelope(index, -lasts)):
        # A robust line: the median slope between rows half the band apart, the median offset.
        slope = np.median(side[half : 2 * half] - side[:half]) / half
        offset = np.median(side - slope * index)
        if np.median(np.abs(side - (slope * index + offset))) > SHEET_STRAIGHT_PX:
            return False
    return True


def only_the_sheet(gray: np.ndarray, least: float, paper: float, rim_px: int) -> np.ndarray:
    """The (h, w) grey picture cut to a sheet's box with the desk left around the sheet (in
    the corners of a turned one, a blurred edge) painted over: along each row, then each
    column, what lies beyond the sheet (the pixels above ``least``, less a rim of
    ``rim_px``) takes the value of the sheet's edge, never darker than its ``paper``, so the
    desk becomes paper."""
    along_rows = _painted_along_rows(gray, least, paper, rim_px)
    return _painted_along_rows(along_rows.T, least, paper, rim_px).T


def _painted_along_rows(gray: np.ndarray, least: float, paper: float, rim_px: int) -> np.ndarray:
    """``only_the_sheet`` along the rows alone; rows holding no sheet take the nearest
    row's values."""
    sheet = gray > least
    has_sheet = sheet.any(axis=1)
    if not has_sheet.any():
        return gray
    width = gray.shape[1]
    rows = np.arange(gray.shape[0])
    first = sheet.argmax(axis=1)
    last = width - 1 - sheet[:, ::-1].argmax(axis=1)
    # The sheet is convex: where ink or a shadow near its edge is darker than ``least``, the
    # row's sheet seems to begin later, and the envelope of the other rows' ends fills it in.
    held = rows[has_sheet]
    first[has_sheet] = np.floor(_lower_envelope(held, first[has_sheet]))
    last[has_sheet] = np.ceil(-_lower_envelope(held, -last[has_sheet]))
    first, last = first + rim_px, last - rim_px
    middle = (first + last) // 2
    first, last = np.minimum(first, middle), np.maximum(last, middle)  # a narrow row: its middle
    index = np.arange(width)[None, :]
    painted = np.take_along_axis(gray, np.clip(index, first[:, None], last[:, None]), axis=1)
    # Ink reaching the sheet's edge must not be drawn out across the desk as a second mark:
    # what is painted is at least as light as the sheet's paper.
    beyond = (index < first[:, None]) | (index > last[:, None])
    painted = np.where(beyond, np.maximum(painted, paper), painted)
    nearest = np.maximum.accumulate(np.where(has_sheet, rows, 0))  # the last row above with sheet
    below = np.minimum.accumulate(np.where(has_sheet, rows, rows.size)[::-1])[::-1]
    nearest = np.where(has_sheet[nearest], nearest, below)
    return np.where(has_sheet[:, None], painted, np.maximum(painted[nearest], paper))


def _lower_envelope(index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """At each of the increasing ``index``, the greatest convex function lying on or below
    the points (index, values): their lower convex hull (Andrew's monotone chain)."""
    hull: list[tuple[int, int]] = []
    for point in zip(index.tolist(), values.tolist(), strict=True):
        while len(hull) >= 2 and _turn(hull[-2], hull[-1], point) <= 0:
            hull.pop()
        hull.append(point)
    xs, ys = zip(*hull, strict=True)
    return np.interp(index, xs, ys)


def _turn(o: tuple[int, int], a: tuple[int, int], b: tuple[int, int]) -> int:
    """Positive when o -> a -> b turns counter-clockwise (y up), 0 on a straight line."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
