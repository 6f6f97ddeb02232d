"""Boolean masks of ink: their bounding box, their pixels, and growing them by a pixel."""

import numpy as np


def bounds(mask: np.ndarray, margin: int = 0) -> tuple[int, int, int, int]:
    """Bounding box (top, bottom, left, right; ends exclusive) of a non-empty (h, w) mask,
    grown by ``margin`` px and clipped to the mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        max(0, rows[0] - margin),
        min(height, rows[-1] + 1 + margin),
        max(0, cols[0] - margin),
        min(width, cols[-1] + 1 + margin),
    )


def dilated(mask: np.ndarray) -> np.ndarray:
    """The mask grown by one pixel in all 8 directions (to keep anti-aliased stroke edges)."""
    rows = mask.copy()
    rows[1:] |= mask[:-1]
    rows[:-1] |= mask[1:]
    grown = rows.copy()
    grown[:, 1:] |= rows[:, :-1]
    grown[:, :-1] |= rows[:, 1:]
    return grown


def nonzero_pixels(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the non-zero entries of a (h, w) array in row-major order, as
    ``np.nonzero`` gives them: the flat indices split, 2-3 times faster than ``np.nonzero``
    on reading's small pictures."""
    return divmod(np.flatnonzero(array), array.shape[1])
