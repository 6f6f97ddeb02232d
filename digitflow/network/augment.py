"""Data augmentation for 28x28 digits: random shifts, rotations, slants, aspects, pen widths
and elastic distortions.

Batches are samples-major, ``(batch, 784)``, as in the training loop. Every random draw
comes from the generator passed in. Elastic distortion follows Simard et al. (2003): a random
displacement field per image, uniform noise smoothed by a Gaussian of ``sigma`` pixels and
scaled by ``alpha``, applied with bilinear interpolation. A rotation about the frame's centre
(photos are rarely held perfectly upright), a slant and a change of width (other writers'
hands) and a shift are added to the same field, so all of them cost one resampling; shifts
alone move whole pixels, with no resampling. A pen change (thinner or bolder strokes) is a
separate pass before it, a blend towards the grey-level erosion or dilation. A
:class:`Resampler` does it for a whole part of the batch at once, in buffers it keeps between
batches; every random number is drawn first, then each lane resamples its part of the batch.

The smoothed noise is drawn directly in the few directions the blur lets through: for
``B = G / 3**0.25`` (the blur matrix scaled to uniform(-1, 1)'s variance 1/3), ``B @ N @ B.T``
with ``N`` standard normal has the covariance of ``G @ U @ G.T`` with ``U`` uniform noise,
and a truncated SVD of ``B`` keeps 7 of 28 directions at sigma 4. That is ~15x fewer random
numbers and two small products instead of a blur of 784 values per field.
"""

import numpy as np

from digitflow.network import kernels
from digitflow.network.kernels import PADDED, SIDE
from digitflow.network.lanes import Lanes

LAST_SOURCE = np.float32(PADDED - 1 - 1e-3)
"""The highest source coordinate a pixel reads, in the padded frame: its neighbour one
further is still on the border."""


class Augmenter:
    """Distorts batches in place; ``active`` is False when every option is off."""

    def __init__(
        self,
        shift_px: int = 0,
        rotate_deg: float = 0.0,
        elastic_alpha: float = 0.0,
        elastic_sigma: float = 4.0,
        slant: float = 0.0,
        aspect: float = 0.0,
        pen: float = 0.0,
        lanes: Lanes | None = None,
        fused: bool = kernels.AVAILABLE,
    ):
        self.shift_px = shift_px
        self.rotate_rad = np.radians(rotate_deg)
        self.slant = slant
        self.aspect = aspect
        self.pen = pen
        self.field_basis = field_basis(elastic_alpha, elastic_sigma) if elastic_alpha else None
        self.lanes = lanes or Lanes()
        self.fused = fused
        self.resamplers = [Resampler(0, fused) for _ in range(self.lanes.count)]

    @property
    def active(self) -> bool:
        return self.shift_px > 0 or self.pen > 0 or self.resamples

    @property
    def resamples(self) -> bool:
        """Whether a batch is resampled, not only moved by whole pixels."""
        warps = (self.rotate_rad, self.slant, self.aspect)
        return any(warps) or self.field_basis is not None

    def __call__(self, X_bx784: np.ndarray, rng: np.random.Generator) -> None:
        batch = X_bx784.shape[0]
        k = self.shift_px
        dy = rng.integers(-k, k + 1, size=batch) if k else np.zeros(batch, dtype=np.int64)
        dx = rng.integers(-k, k + 1, size=batch) if k else np.zeros(batch, dtype=np.int64)
        if self.pen:
            change_pen(X_bx784, rng.uniform(-self.pen, self.pen, batch).astype(np.float32))
        if not self.resamples:
            X_bx784[:] = shift_images(X_bx784, dy, dx)
            return
        fields = None if self.field_basis is None else self.displacement_fields(batch, rng)
        maps = turn_and_shift(_uniform_or_zeros(self.rotate_rad, batch, rng), dy, dx)
        if self.slant or self.aspect:
            slants = _uniform_or_zeros(self.slant, batch, rng)
            widths = 1 + _uniform_or_zeros(self.aspect, batch, rng)
            slant_and_widen(maps, slants, widths)

        maps32 = maps.astype(np.float32)

        def resample_part(lane: int) -> None:
            part = self.lanes.part(batch, lane)
            images = X_bx784[part]
            if len(images) == 0:  # a batch smaller than the lanes
                return
            if len(images) > self.resamplers[lane].capacity:
                self.resamplers[lane] = Resampler(len(images), self.fused)
            part_fields = None if fields is None else fields[:, part].reshape(2, len(images), -1)
            self.resamplers[lane].resample(images, maps32[:, part], part_fields)

        self.lanes.run(resample_part)

    def displacement_fields(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        """(2, batch, 28, 28): smooth random fields in pixels (y, x), ``B @ N @ B.T`` each."""
        basis = self.field_basis  # (28, r)
        rank = basis.shape[1]
        noise = rng.standard_normal((2 * batch * rank, rank), dtype=np.float32)
        half = (noise @ basis.T).reshape(2 * batch, rank, SIDE)  # rows of N @ B.T
        # B @ (N @ B.T) is the transpose of (N @ B.T).T @ B.T: one flat product instead of a
        # batch of small ones, and the transposed field has the same distribution.
        half_t = np.ascontiguousarray(half.transpose(0, 2, 1)).reshape(-1, rank)
        return (half_t @ basis.T).reshape(2, batch, SIDE, SIDE)


class Resampler:
    """Bilinear resampling of batches of up to ``capacity`` images, zero outside the frame,
    in buffers made once, so a batch allocates nothing.

    Source coordinates are (2, batch, 784): the row and the column each output pixel reads,
    counted in the frame padded by a one-pixel zero border (the border is at 0 and 29). The
    padded images lie end to end in one flat buffer, so a pixel's four neighbours are the same
    indices into views that start 0, 1, 30 and 31 values later. Every pass runs over whole
    contiguous arrays: numpy is several times slower on strided or broadcast operands. With
    numba, :meth:`resample` runs :func:`kernels.affine_resample` instead, which computes each
    source as it reads it.
    """

    def __init__(self, capacity: int, fused: bool = kernels.AVAILABLE):
        self.capacity = capacity
        self.fused = fused
        pixels = SIDE * SIDE
        # One spare row and value at the end keep the shifted views of the last image in bounds.
        self.padded = np.zeros(capacity * PADDED * PADDED + PADDED + 1, dtype=np.float32)
        self.sources = np.empty(2 * capacity * pixels, dtype=np.float32)
        self.floors = np.empty(2 * capacity * pixels, dtype=np.float32)
        self.corners = np.empty(capacity * pixels, dtype=np.intp)  # take() wants intp
        self.neighbours = np.empty((4, capacity * pixels), dtype=np.float32)
        starts = np.arange(capacity, dtype=np.float32) * PADDED * PADDED
        self.image_starts = np.repeat(starts, pixels)  # exact: below 2**24
        centred = np.arange(SIDE, dtype=np.float32) - (SIDE - 1) / 2
        # (2, 784): each pixel's row and column from the frame's centre
        self.pixel_offsets = np.stack([np.repeat(centred, SIDE), np.tile(centred, SIDE)])

    def source_buffer(self, batch: int) -> np.ndarray:
        """The (2, batch, 784) sources a :meth:`sample` reads, contiguous for any batch."""
        return self.sources[: 2 * batch * SIDE * SIDE].reshape(2, batch, SIDE * SIDE)

    def affine_sources(self, maps: np.ndarray) -> np.ndarray:
        """Sources (2, batch, 784) of per-image affine maps (2, batch, 3): source row (then
        column) = ``map[0] y + map[1] x + map[2]``, with (y, x) an output pixel's offset from
        the frame's centre and the result counted in the padded frame. Computed elementwise in
        float32, in that order, as :func:`kernels.affine_resample` repeats it pixel by pixel."""
        batch = maps.shape[1]
        src = self.source_buffer(batch)
        scratch = self.floors[: src.size].reshape(src.shape)
        maps32 = maps.astype(np.float32)
        rows, cols = self.pixel_offsets
        np.multiply(maps32[:, :, 0, None], rows, out=src)
        np.multiply(maps32[:, :, 1, None], cols, out=scratch)
        src += scratch
        src += maps32[:, :, 2, None]
        return src

    def resample(self, X_bx784: np.ndarray, maps: np.ndarray, fields: np.ndarray | None) -> None:
        """Resample each image of the contiguous ``X_bx784`` in place at its affine map
        ``maps`` (2, batch, 3), plus its displacement field (2, batch, 784) unless None."""
        if self.fused:
            maps32 = maps.astype(np.float32, copy=False)
            rows, cols = self.pixel_offsets
            kernels.affine_resample(X_bx784, maps32, fields, rows, cols, LAST_SOURCE)
            return
        src = self.affine_sources(maps)
        if fields is not None:
            src += fields
        self.sample(X_bx784, src, out=X_bx784)

    def sample(self, X_bx784: np.ndarray, src: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Each image of ``X_bx784`` read at ``src`` (overwritten) into ``out``, a contiguous
        (batch, 784) array that may be ``X_bx784`` itself."""
        batch = X_bx784.shape[0]
        images = self.padded[: batch * PADDED * PADDED].reshape(batch, PADDED, PADDED)
        images[:, 1:-1, 1:-1] = X_bx784.reshape(batch, SIDE, SIDE)
        self.interpolate(images, src, LAST_SOURCE, out)
        return out

    def interpolate(
        self, images: np.ndarray, src: np.ndarray, last_source: np.float32, out: np.ndarray
    ) -> None:
        """Bilinear reads of padded ``images`` (batch, 30, 30) at ``src`` into ``out``;
        ``last_source``: the highest coordinate read, just short of the far border."""
        n = out.size
        # Clipped coordinates land on the zero border, which is the value outside the image.
        np.clip(src, 0.0, last_source, out=src)
        floors = self.floors[: 2 * n].reshape(src.shape)
        np.floor(src, out=floors)
        src -= floors  # now the weights of the lower and right neighbours
        rows, cols = floors.reshape(2, n)
        rows *= PADDED
        rows += cols
        rows += self.image_starts[:n]
        corners = self.corners[:n]
        np.copyto(corners, rows, casting="unsafe")  # exact small integers
        top, top_right, bottom, bottom_right = self.neighbours[:, :n]
        for start, values in zip(
            (0, 1, PADDED, PADDED + 1), (top, top_right, bottom, bottom_right), strict=True
        ):
            # The corners are in bounds, so "wrap" moves none; unlike the default "raise" it
            # writes straight into ``out``, and it measured faster than "clip".
            np.take(self.padded[start:], corners, out=values, mode="wrap")
        # Linear interpolation a + w (b - a), in place: along x on both rows, then along y.
        wy, wx = src.reshape(2, n)
        top_right -= top
        top_right *= wx
        top += top_right
        bottom_right -= bottom
        bottom_right *= wx
        bottom += bottom_right
        bottom -= top
        bottom *= wy
        np.add(top, bottom, out=out.reshape(n))


def turn_and_shift(angles_rad: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Affine maps (2, batch, 3) for :meth:`Resampler.affine_sources` that turn image ``b``
    by ``angles_rad[b]`` about the frame's centre (positive: clockwise as displayed, y down)
    and move its content by (dy, dx) pixels.

    Output pixel (y, x) from the centre reads the source turned back, R(angle) (y, x), moved
    by -shift: row ``c + cos y - sin x - dy``, column ``c + sin y + cos x - dx``.
    """
    cos, sin = np.cos(angles_rad), np.sin(angles_rad)
    centre = (SIDE - 1) / 2 + 1  # + 1: the zero border of the padded frame
    return np.array([[cos, -sin, centre - dy], [sin, cos, centre - dx]]).transpose(0, 2, 1)


def slant_and_widen(maps: np.ndarray, slants: np.ndarray, widths: np.ndarray) -> None:
    """Compose affine maps (2, batch, 3) of :func:`turn_and_shift` in place with a slant and
    a width change applied to the content before the turn: its columns move by ``-slant``
    times the row from the centre (positive: the top leans right) and are then scaled by
    ``width``. The source column the map reads becomes ``(slant * row + column) / width`` of
    what it read before, on the linear part only, so the shift stays in whole pixels."""
    maps[1, :, :2] += slants[:, None] * maps[0, :, :2]
    maps[1, :, :2] /= widths[:, None]


def change_pen(X_bx784: np.ndarray, amounts: np.ndarray) -> None:
    """Change each image's pen in place: ``amounts[b]`` in [-1, 1] of the way towards its
    grey-level erosion (negative: thinner strokes) or dilation (positive: bolder) by the
    5-pixel cross, so 1 is about a pixel wider on each side of a stroke."""
    batch = X_bx784.shape[0]
    padded = np.zeros((batch, PADDED, PADDED), dtype=X_bx784.dtype)
    images = padded[:, 1:-1, 1:-1]
    images[:] = X_bx784.reshape(batch, SIDE, SIDE)
    grown, shrunk = images.copy(), images.copy()
    for neighbour in (
        padded[:, :-2, 1:-1],
        padded[:, 2:, 1:-1],
        padded[:, 1:-1, :-2],
        padded[:, 1:-1, 2:],
    ):
        np.maximum(grown, neighbour, out=grown)
        np.minimum(shrunk, neighbour, out=shrunk)
    change = np.where(amounts[:, None, None] > 0, grown, shrunk)
    change -= images
    change *= np.abs(amounts)[:, None, None]
    X_bx784 += change.reshape(batch, -1)


def _uniform_or_zeros(limit: float, batch: int, rng: np.random.Generator) -> np.ndarray:
    """(batch,) draws uniform in (-limit, limit), or zeros drawing nothing when limit is 0."""
    return rng.uniform(-limit, limit, batch) if limit else np.zeros(batch)


def field_basis(alpha: float, sigma: float, kept_energy: float = 0.9999) -> np.ndarray:
    """(28, r) ``B`` such that ``B @ N @ B.T`` (N standard normal) has the covariance of
    ``alpha * G @ U @ G.T`` with U uniform in (-1, 1) and G the Gaussian blur."""
    U, S, _ = np.linalg.svd(gaussian_smoother(sigma).astype(np.float64))
    energy = np.cumsum(S**2) / np.sum(S**2)
    rank = int(np.searchsorted(energy, kept_energy)) + 1
    # alpha and uniform's variance 1/3 split evenly between the two factors
    scale = np.sqrt(alpha) / 3**0.25
    return (U[:, :rank] * S[:rank] * scale).astype(np.float32)


def gaussian_smoother(sigma: float, size: int = SIDE) -> np.ndarray:
    """(size, size) matrix ``G`` applying a 1-D Gaussian blur with zeros beyond the border."""
    offsets = np.arange(size, dtype=np.float64)
    distance = offsets[:, None] - offsets[None, :]
    kernel = np.exp(-(distance**2) / (2.0 * sigma**2))
    return (kernel / (np.sqrt(2.0 * np.pi) * sigma)).astype(np.float32)


def shift_images(X_bx784: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Move image ``b`` down by ``dy[b]`` and right by ``dx[b]`` whole pixels, filling zeros."""
    batch = X_bx784.shape[0]
    pad = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    side = SIDE + 2 * pad
    padded = np.zeros((batch, side, side), dtype=X_bx784.dtype)
    padded[:, pad : pad + SIDE, pad : pad + SIDE] = X_bx784.reshape(batch, SIDE, SIDE)
    # Output pixel (i, j) of image b reads padded[b, pad - dy + i, pad - dx + j].
    pixel = (np.arange(SIDE)[:, None] * side + np.arange(SIDE)).reshape(1, -1)  # (1, 784)
    corner = np.arange(batch) * side * side + (pad - dy) * side + (pad - dx)  # (batch,)
    return np.take(padded.reshape(-1), corner[:, None] + pixel)


def sample_bilinear(X_bx784: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """Each image resampled at fractional source coordinates (batch, 28, 28), zero outside:
    a new (batch, 784) array."""
    batch = X_bx784.shape[0]
    resampler = Resampler(batch)
    src = resampler.source_buffer(batch)
    src[0], src[1] = src_y.reshape(batch, -1), src_x.reshape(batch, -1)
    src += np.float32(1)  # the zero border
    return resampler.sample(X_bx784, src, out=np.empty_like(X_bx784))
