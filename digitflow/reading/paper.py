"""The paper under the ink: polarity, uneven background and grain of a grayscale picture.

The paper is first modelled as a plane fitted to the picture's edge pixels (a digit touches
the edges in a few places at most, however big and bold it is). Ink is the extreme that strays
furthest both from that plane and from its own neighbourhood, which gives the polarity (the
lit side of a shadow across the sheet strays from a plane fitted to its shadowed edges, but
not from its neighbourhood; a bold digit's paper gaps stray from their neighbourhood, but not
from the plane). Pixels more than half as far from the plane as the ink, and as far from the
most paper-like level near them, are taken for ink (a deep shadow is as far from the plane,
but not from the shadowed paper around it). A coarse grid of cells then follows lighting
gradients, vignetting and paper tint: each cell's level and grain come from the paper side
of its other pixels (the blurred edges of strokes are among them), and cells that are nearly
all ink take the level of their neighbours. Subtracting the model leaves the ink's signal,
ink high, near zero on the paper.
"""

from dataclasses import dataclass
from functools import cached_property, lru_cache
from statistics import NormalDist
from typing import Literal

import numpy as np
from PIL import Image

from digitflow.float_images import float_image, float_pixels

Polarity = Literal["auto", "dark-on-light", "light-on-dark"]

GRID_CELLS = 8
"""Cells along the picture's long side: fine enough for lighting, coarse next to strokes."""
POLARITY_TAIL = (1 / 500, 8)
"""Share of pixels, and at most this many, whose distance from the paper decides the polarity
and the ink's contrast (a thin 1 in a big photo is a few dozen analysis pixels)."""
OUTLIER_SPREADS = 3.0
"""Edge pixels further from the edges' median than this many times the median distance are
not paper (ink where the digit touches an edge)."""
INK_CUT = 0.5
"""Pixels further from the edge plane than this share of the ink's contrast are ink."""
PAPER_QUANTILES = (0.05, 0.25)
"""Quantiles of a cell's remaining pixels, from the paper's side, read as paper (the rest may
be the blurred edges of strokes): the level is found from the second, the grain from the gap
between the two."""
NEIGHBOURHOOD = 0.15
"""A pixel's neighbourhood, for the polarity: blocks of this share of the picture's long side
(wider than a stroke, narrower than a shadow's lit or shadowed part)."""
MIN_PAPER_SHARE = 0.1
"""A cell with less paper than this share takes its level from its neighbours."""
SETTLED_MARGIN = 1e-6
"""Far above the float32 rounding of a neighbourhood mean and of a pixel's difference from
it (pictures are in [0, 1]), so a bound that settles the polarity holds for the exact values."""
_PAPER_Z = tuple(NormalDist().inv_cdf(share) for share in PAPER_QUANTILES)


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
        paper = self._cells_image.resize(
            (ink.shape[1], ink.shape[0]), Image.Resampling.BILINEAR, box=box
        )
        return ink - float_pixels(paper)

    @cached_property
    def _cells_image(self) -> Image.Image:
        """``ink_cells`` as a Pillow image (resized for every region read)."""
        return float_image(self.ink_cells)


def read_paper(small: np.ndarray, polarity: Polarity = "auto") -> Paper:
    """Model the paper of a small (h, w) float32 picture in [0, 1]."""
    residual = small - _edge_plane(small)
    dark_ink, light_ink = _strays(residual)
    if polarity == "auto":
        polarity = _polarity(small, dark_ink, light_ink)
    light = polarity == "light-on-dark"
    ink = small if light else 1.0 - small
    contrast = light_ink if light else dark_ink
    is_ink = (residual if light else -residual) > INK_CUT * contrast
    index, cell_px = _cell_index(*small.shape)
    cell_pixels = np.take(ink, index)
    is_ink &= ink - _nearby_paper(cell_pixels, cell_px, small.shape) > INK_CUT * contrast
    # Each cell's pixels in ink units, its ink moved to the end as +inf: the first ``count``
    # sorted values are its paper (sorting is faster than a multi-rank partition of short rows).
    ordered = np.sort(np.where(np.take(is_ink, index), np.inf, cell_pixels), axis=-1)
    count = np.isfinite(ordered).sum(axis=-1)
    known = count >= MIN_PAPER_SHARE * ordered.shape[-1]
    if not known.any():  # ink everywhere by that measure: every pixel counts as paper
        ordered = np.sort(cell_pixels, axis=-1)
        count, known = np.full_like(count, ordered.shape[-1]), np.ones_like(known)
    paper, count = ordered[known], count[known]  # (cells, cell²), (cells,)

    def quantile(share: float) -> np.ndarray:
        return paper[np.arange(len(paper)), (share * count).astype(int)]

    outer, inner = (quantile(share) for share in PAPER_QUANTILES)
    z_outer, z_inner = _PAPER_Z
    noise = median(inner - outer) / (z_inner - z_outer)
    levels = np.zeros(known.shape, dtype=np.float32)
    levels[known] = inner - z_inner * noise  # the grain's mean, from its quantile
    levels = _filled(levels, known)
    return Paper(polarity, _bordered(levels), cell_px, noise)


def _edge_plane(small: np.ndarray) -> np.ndarray:
    """(h, w) plane fitted by least squares to the edge pixels near the edges' median: a
    bold digit may cover much of one edge, and the plane must not tilt towards it."""
    ys, xs, design = _plane_basis(*small.shape)
    values = edge_pixels(small)
    distance = np.abs(values - median(values))
    near = distance <= OUTLIER_SPREADS * median(distance) + 1e-6
    weighted = design * near[:, None]
    # Normal equations; the tiny ridge keeps a one-pixel-thin picture's slope at 0.
    normal = weighted.T @ design + _RIDGE
    level, slope_y, slope_x = np.linalg.solve(normal, weighted.T @ values).astype(np.float32)
    return level + np.add.outer(slope_y * ys, slope_x * xs)


_RIDGE = np.float32(1e-6) * np.eye(3, dtype=np.float32)


@lru_cache(maxsize=256)
def _plane_basis(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column coordinates (centred) of a (h, w) picture, and the plane's design
    matrix over its edge pixels (1, y, x each): the same for every picture of that shape
    (one scanner's or camera's pictures share theirs), so built once per shape."""
    ys = np.arange(height, dtype=np.float32) - (height - 1) / 2
    xs = np.arange(width, dtype=np.float32) - (width - 1) / 2
    # Filled in place: most photos' shapes are new, and stacking pieces costs twice as much.
    design = np.empty((2 * (height + width), 3), dtype=np.float32)
    design[:, 0] = 1
    bottom, left, right = width, 2 * width, 2 * width + height  # where each edge's rows start
    design[:bottom, 1], design[bottom:left, 1] = ys[0], ys[-1]
    design[left:right, 1], design[right:, 1] = ys, ys
    design[:bottom, 2], design[bottom:left, 2] = xs, xs
    design[left:right, 2], design[right:, 2] = xs[0], xs[-1]
    for array in (ys, xs, design):
        array.flags.writeable = False
    return ys, xs, design


def edge_pixels(picture: np.ndarray) -> np.ndarray:
    """The top, bottom, left and right rows of pixels of a (h, w) picture, in that order
    (``_edge_plane``'s pixel coordinates follow it)."""
    return np.concatenate([picture[0], picture[-1], picture[:, 0], picture[:, -1]])


def median(values: np.ndarray) -> float:
    """The middle value (the upper one of an even count): several times faster than np.median
    on the short arrays here."""
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _nearby_paper(cell_pixels: np.ndarray, cell_px: int, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) of ``shape``: the most paper-like level (in ink units) near each pixel, from
    each cell's pixels ``cell_pixels`` (gh, gw, cell²): each cell's outer paper quantile, the
    lowest of its 3×3 cells (a bold stroke may cover a whole cell), spread back bilinearly."""
    k = int(PAPER_QUANTILES[0] * cell_pixels.shape[-1])
    lowest = np.sort(cell_pixels, axis=-1)[..., k]  # faster than np.partition of short rows
    near = _lowest3x3(lowest)
    height, width = shape
    box = (0.0, 0.0, width / cell_px, height / cell_px)
    spread = float_image(near).resize((width, height), Image.Resampling.BILINEAR, box=box)
    return float_pixels(spread)


def _lowest3x3(cells: np.ndarray) -> np.ndarray:
    """The least value over each cell's 3×3 neighbourhood (edges repeated), rows then
    columns."""
    rows = cells.copy()
    np.minimum(rows[1:], cells[:-1], out=rows[1:])
    np.minimum(rows[:-1], cells[1:], out=rows[:-1])
    least = rows.copy()
    np.minimum(least[:, 1:], rows[:, :-1], out=least[:, 1:])
    np.minimum(least[:, :-1], rows[:, 1:], out=least[:, :-1])
    return least


def _polarity(small: np.ndarray, dark_ink: float, light_ink: float) -> Polarity:
    """Dark ink when the darkest pixels stray further than the brightest ones both from the
    plane (``dark_ink``, ``light_ink``) and from their neighbourhood's mean."""
    means = _block_means(small)
    settled = _settled_polarity(small, means, dark_ink, light_ink)
    if settled is not None:
        return settled
    spread = float_pixels(means.resize(small.shape[::-1], Image.Resampling.BILINEAR))
    dark_near, light_near = _strays(small - spread)
    dark = min(dark_ink, dark_near) > min(light_ink, light_near)
    return "dark-on-light" if dark else "light-on-dark"


def _block_means(small: np.ndarray) -> Image.Image:
    """``small`` averaged over blocks of NEIGHBOURHOOD of its long side (spread back smoothly,
    bilinear, to its size, it is each pixel's neighbourhood mean)."""
    return float_image(small).reduce(max(2, int(NEIGHBOURHOOD * max(small.shape))))


def _settled_polarity(
    small: np.ndarray, means: Image.Image, dark_ink: float, light_ink: float
) -> Polarity | None:
    """``_polarity``'s answer when the block ``means``' extremes give it already (the usual
    photo), without spreading them: bilinear weights are never negative, so each pixel's
    neighbourhood mean lies between the least and the greatest block mean. When dark ink
    strays the further from the plane and enough pixels lie more than ``light_ink`` below even
    the least mean, it strays further from its neighbourhood too than light ink does from the
    plane, so it wins both ways; the same for light ink above the greatest mean. None when
    the bounds do not tell."""
    least, greatest = means.getextrema()
    enough = _tail_rank(small.size) + 1  # pixels past the bound: the stray's rank is reached
    if dark_ink > light_ink:
        below = small < least - light_ink - SETTLED_MARGIN
        return "dark-on-light" if np.count_nonzero(below) >= enough else None
    above = small > greatest + dark_ink + SETTLED_MARGIN
    return "light-on-dark" if np.count_nonzero(above) >= enough else None


def _strays(residual: np.ndarray) -> tuple[float, float]:
    """How far the darkest and the brightest pixels stray from the plane (both >= 0), each
    ignoring the few most extreme pixels, which may be noise."""
    flat = residual.ravel()
    k = _tail_rank(flat.size)
    ordered = np.sort(flat)  # several times faster than np.partition at two ranks
    return max(0.0, -float(ordered[k])), max(0.0, float(ordered[flat.size - 1 - k]))


def _tail_rank(size: int) -> int:
    """The rank from either end of a picture's ``size`` pixels that ``_strays`` reads."""
    share, most = POLARITY_TAIL
    return min(max(1, min(int(size * share), most)), (size - 1) // 2)


def _cell_index(height: int, width: int) -> tuple[np.ndarray, int]:
    """Where each cell's pixels lie in a flattened (h, w) picture, (gh, gw, cell²) for
    ``np.take``, and the cell's side: GRID_CELLS along the long side, the picture mirrored
    beyond its far edges to fill the last ones. Built once for the picture's several
    per-cell views."""
    cell = max(2, -(-max(height, width) // GRID_CELLS))
    rows, cols = -(-height // cell), -(-width // cell)
    flat = _mirrored(height, rows * cell)[:, None] * width + _mirrored(width, cols * cell)
    return flat.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, -1), cell


def _mirrored(size: int, total: int) -> np.ndarray:
    """Indices that extend ``size`` samples to ``total`` as np.pad's "symmetric" mode does
    (mirrored with the edge repeated, again and again if need be): np.pad is several times
    slower on these small pictures."""
    period = np.arange(total) % (2 * size)
    return np.where(period < size, period, 2 * size - 1 - period)


def _filled(levels: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``levels`` with each unknown cell set, ring by ring, to the mean of its known
    neighbours (``known`` has at least one cell)."""
    levels, known = levels.copy(), known.copy()
    while not known.all():
        weights = _sum3x3(known.astype(np.float32))
        reached = ~known & (weights > 0)
        levels[reached] = _sum3x3(np.where(known, levels, 0.0))[reached] / weights[reached]
        known |= reached
    return levels


def _sum3x3(cells: np.ndarray) -> np.ndarray:
    """Sum over each cell's 3×3 neighbourhood, zeros beyond the edges."""
    padded = np.pad(cells, 1)
    rows, cols = cells.shape
    return sum(padded[dy : dy + rows, dx : dx + cols] for dy in range(3) for dx in range(3))


def _bordered(cells: np.ndarray) -> np.ndarray:
    """The grid with one more cell on every side continuing the edge's slope (a copy of the
    edge cell where the grid is one cell thick); np.pad is several times slower here."""
    rows, cols = cells.shape
    out = np.empty((rows + 2, cols + 2), dtype=cells.dtype)
    out[1:-1, 1:-1] = cells
    inner = out[:, 1:-1]
    inner[0] = 2 * inner[1] - inner[2] if rows >= 2 else inner[1]
    inner[-1] = 2 * inner[-2] - inner[-3] if rows >= 2 else inner[-2]
    out[:, 0] = 2 * out[:, 1] - out[:, 2] if cols >= 2 else out[:, 1]
    out[:, -1] = 2 * out[:, -2] - out[:, -3] if cols >= 2 else out[:, -2]
    return out
