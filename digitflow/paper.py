"""The paper under the ink: polarity, uneven background and grain of a grayscale picture.

A coarse grid of cell medians follows lighting gradients, vignetting and paper tint; cells
that are mostly ink are removed from it by a grey opening, so the model is of the paper alone.
Subtracting it leaves the ink's signal, ink high, near zero on the paper.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

Polarity = Literal["auto", "dark-on-light", "light-on-dark"]

GRID_CELLS = 8
"""Cells along the picture's long side: fine enough for lighting, coarse next to strokes."""
POLARITY_TAIL = (1 / 500, 8)
"""Share of pixels, and at most this many, whose distance from the paper decides the polarity:
ink is rare (a thin 1 in a big photo is a few dozen analysis pixels)."""


@dataclass(frozen=True)
class Paper:
    """What ``read_paper`` learnt about one picture's paper."""

    polarity: Polarity
    """"dark-on-light" or "light-on-dark", never "auto"."""
    ink_cells: np.ndarray
    """Paper level per cell in ink units (ink high), with one more cell around the grid
    continuing its slope, so the picture's border is not clamped to the outer cells' level."""
    cell_px: float
    """A cell's side in px of the analysed picture."""
    noise: float
    """Standard deviation of the paper's grain in the analysed picture."""

    def ink_signal(
        self, gray: np.ndarray, region: tuple[float, ...] | None = None, scale: float = 1.0
    ) -> np.ndarray:
        """Ink minus paper, (h, w) float32, for ``gray``: the analysed picture itself, or the
        ``region`` (top, bottom, left, right) of a version ``scale`` times larger, sampled
        as an (h, w) grid."""
        if region is None:
            region = (0, gray.shape[0], 0, gray.shape[1])
        ink = gray if self.polarity == "light-on-dark" else 1.0 - gray
        top, bottom, left, right = (edge / (self.cell_px * scale) + 1 for edge in region)
        rows, cols = self.ink_cells.shape
        box = (left, top, min(right, cols), min(bottom, rows))
        image = Image.fromarray(self.ink_cells)
        paper = image.resize((ink.shape[1], ink.shape[0]), Image.Resampling.BILINEAR, box=box)
        return ink - np.asarray(paper)


def read_paper(small: np.ndarray, polarity: Polarity = "auto") -> Paper:
    """Model the paper of a small (h, w) float32 picture in [0, 1]."""
    medians, spreads, cell_px = _cell_statistics(small)
    if polarity == "auto":
        polarity = _polarity(small, medians, cell_px)
    ink_cells = medians if polarity == "light-on-dark" else 1.0 - medians
    ink_cells = _bordered(_opening3x3(ink_cells), continue_slope=True)
    middle = spreads.size // 2
    noise = float(np.partition(spreads.ravel(), middle)[middle]) / 1.349  # median IQR / (IQR/σ)
    return Paper(polarity, ink_cells.astype(np.float32), cell_px, noise)


def _cell_statistics(small: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Median and interquartile range of each cell, (gh, gw) each, and the cell's side."""
    height, width = small.shape
    cell = max(2, -(-max(height, width) // GRID_CELLS))
    rows, cols = -(-height // cell), -(-width // cell)
    padded = np.pad(small, ((0, rows * cell - height), (0, cols * cell - width)), mode="symmetric")
    cells = padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    ordered = np.sort(cells, axis=-1)  # faster than a multi-rank partition of short rows
    count = cells.shape[-1]
    spread = ordered[..., (3 * count) // 4] - ordered[..., count // 4]
    return ordered[..., count // 2], spread, cell


def _polarity(small: np.ndarray, medians: np.ndarray, cell_px: int) -> Polarity:
    """Ink is the rare extreme: compare how far the darkest and the brightest pixels stray
    from the paper, modelled as a plane through the cells' medians so that a lighting
    gradient does not count (cells filled with ink tilt that plane only a little)."""
    rows, cols = medians.shape
    centre_y = np.arange(rows) - (rows - 1) / 2
    centre_x = np.arange(cols) - (cols - 1) / 2
    # On a full grid the plane's least-squares slopes are independent 1-D regressions.
    slope_y = float(medians.mean(axis=1) @ centre_y) / max(float(centre_y @ centre_y), 1e-9)
    slope_x = float(medians.mean(axis=0) @ centre_x) / max(float(centre_x @ centre_x), 1e-9)
    ys = (np.arange(small.shape[0]) + 0.5) / cell_px - rows / 2
    xs = (np.arange(small.shape[1]) + 0.5) / cell_px - cols / 2
    plane = float(medians.mean()) + np.add.outer(slope_y * ys, slope_x * xs)
    residual = (small - plane).ravel()
    share, most = POLARITY_TAIL
    k = min(max(1, min(int(residual.size * share), most)), (residual.size - 1) // 2)
    ordered = np.partition(residual, [k, residual.size - 1 - k])
    darkest, brightest = ordered[k], ordered[residual.size - 1 - k]
    return "dark-on-light" if -darkest > brightest else "light-on-dark"


def _opening3x3(cells: np.ndarray) -> np.ndarray:
    """Grey opening (min then max over 3×3 neighbours): removes cells that are mostly ink
    (high in ink units) while keeping smooth lighting ramps intact up to the grid's edges.
    The min sees the edge cells repeated (so an inky edge cell cannot spread), the max sees
    the eroded grid continued outwards (so a ramp's end is not taken for a peak)."""
    eroded = _filter3x3(_bordered(cells, continue_slope=False), np.minimum)
    return _filter3x3(_bordered(eroded, continue_slope=True), np.maximum)


def _filter3x3(cells: np.ndarray, reduce) -> np.ndarray:
    """``reduce`` over each full 3×3 window: (h - 2, w - 2)."""
    rows, cols = cells.shape[0] - 2, cells.shape[1] - 2
    out = cells[1 : rows + 1, 1 : cols + 1]
    for dy in range(3):
        for dx in range(3):
            out = reduce(out, cells[dy : dy + rows, dx : dx + cols])
    return out


def _bordered(cells: np.ndarray, continue_slope: bool) -> np.ndarray:
    """The grid with one more cell on every side: a copy of the edge cell, or the edge's
    slope continued (np.pad does the same, several times slower on a grid this small)."""
    rows, cols = cells.shape
    out = np.empty((rows + 2, cols + 2), dtype=cells.dtype)
    out[1:-1, 1:-1] = cells
    inner = out[:, 1:-1]
    slope_rows = continue_slope and rows >= 2
    inner[0] = 2 * inner[1] - inner[2] if slope_rows else inner[1]
    inner[-1] = 2 * inner[-2] - inner[-3] if slope_rows else inner[-2]
    slope_cols = continue_slope and cols >= 2
    out[:, 0] = 2 * out[:, 1] - out[:, 2] if slope_cols else out[:, 1]
    out[:, -1] = 2 * out[:, -2] - out[:, -3] if slope_cols else out[:, -2]
    return out
