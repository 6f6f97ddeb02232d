"""A photo of a sheet on a desk: where the light sheet is, when a darker desk shows all
around it."""

import numpy as np

from digitflow.reading.paper import edge_pixels, median

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


def find_sheet(small: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a light sheet in a small (h, w) grey picture when its
    edges show a darker desk all around it, else None. The sheet is what is lighter than the
    edges: a nearly solid block (ink on it is a small share) spanning a good part of the
    picture each way. Dark ink on light paper is never lighter than the edges, however bold
    the digit; a shadow darkens part of the paper up to the picture's edges."""
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
