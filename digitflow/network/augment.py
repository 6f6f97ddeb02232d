"""Data augmentation for 28x28 digits: random shifts, rotations and elastic distortions.

Batches are samples-major, ``(batch, 784)``, as in the training loop. Every random draw
comes from the generator passed in. Elastic distortion follows Simard et al. (2003): a random
displacement field per image, uniform noise smoothed by a Gaussian of ``sigma`` pixels and
scaled by ``alpha``, applied with bilinear interpolation. A rotation about the frame's centre
(photos are rarely held perfectly upright) and a shift are added to the same field, so all
three cost one resampling; shifts alone move whole pixels, with no resampling.

The smoothed noise is drawn directly in the few directions the blur lets through: for
``B = G / 3**0.25`` (the blur matrix scaled to uniform(-1, 1)'s variance 1/3), ``B @ N @ B.T``
with ``N`` standard normal has the covariance of ``G @ U @ G.T`` with ``U`` uniform noise,
and a truncated SVD of ``B`` keeps 7 of 28 directions at sigma 4. That is ~15x fewer random
numbers and two small products instead of a blur of 784 values per field.
"""

import numpy as np

SIDE = 28


class Augmenter:
    """Distorts batches in place; ``active`` is False when every option is off."""

    def __init__(
        self,
        shift_px: int = 0,
        rotate_deg: float = 0.0,
        elastic_alpha: float = 0.0,
        elastic_sigma: float = 4.0,
    ):
        self.shift_px = shift_px
        self.rotate_rad = np.radians(rotate_deg)
        self.field_basis = field_basis(elastic_alpha, elastic_sigma) if elastic_alpha else None

    @property
    def active(self) -> bool:
        return self.shift_px > 0 or self.rotate_rad > 0 or self.field_basis is not None

    def __call__(self, X_bx784: np.ndarray, rng: np.random.Generator) -> None:
        batch = X_bx784.shape[0]
        k = self.shift_px
        dy = rng.integers(-k, k + 1, size=batch) if k else np.zeros(batch, dtype=np.int64)
        dx = rng.integers(-k, k + 1, size=batch) if k else np.zeros(batch, dtype=np.int64)
        if self.rotate_rad == 0 and self.field_basis is None:
            X_bx784[:] = shift_images(X_bx784, dy, dx)
            return
        if self.field_basis is None:
            zeros = np.zeros((batch, SIDE, SIDE), dtype=np.float32)
            field_y, field_x = zeros, zeros.copy()
        else:
            field_y, field_x = self.displacement_fields(batch, rng)
        if self.rotate_rad:
            turn_y, turn_x = rotation_fields(rng.uniform(-self.rotate_rad, self.rotate_rad, batch))
            field_y += turn_y
            field_x += turn_x
        grid = np.arange(SIDE, dtype=np.float32)
        # The pixel at (i, j) is read from (i + field - shift): content moves by +shift.
        field_y += grid[:, None] - dy[:, None, None].astype(np.float32)
        field_x += grid[None, :] - dx[:, None, None].astype(np.float32)
        X_bx784[:] = sample_bilinear(X_bx784, field_y, field_x)

    def displacement_fields(
        self, batch: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two (batch, 28, 28) smooth random fields in pixels: ``B @ N @ B.T`` per field."""
        basis = self.field_basis  # (28, r)
        rank = basis.shape[1]
        noise = rng.standard_normal((2 * batch * rank, rank), dtype=np.float32)
        half = (noise @ basis.T).reshape(2 * batch, rank, SIDE)  # rows of N @ B.T
        # B @ (N @ B.T) is the transpose of (N @ B.T).T @ B.T: one flat product instead of a
        # batch of small ones, and the transposed field has the same distribution.
        half_t = np.ascontiguousarray(half.transpose(0, 2, 1)).reshape(-1, rank)
        fields = (half_t @ basis.T).reshape(2, batch, SIDE, SIDE)
        return fields[0], fields[1]


def rotation_fields(angles_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Displacements (batch, 28, 28) in y and x that turn each image by its angle about the
    frame's centre (positive: clockwise as displayed, y pointing down)."""
    centred = np.arange(SIDE, dtype=np.float32) - (SIDE - 1) / 2
    cos = np.cos(angles_rad).astype(np.float32)[:, None, None]
    sin = np.sin(angles_rad).astype(np.float32)[:, None, None]
    y, x = centred[None, :, None], centred[None, None, :]
    # Output pixel (y, x) reads the source turned back: R(angle) applied to (y, x).
    return cos * y - sin * x - y, sin * y + cos * x - x


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
    """Resample each image at fractional source coordinates (batch, 28, 28), zero outside.

    ``src_y`` and ``src_x`` are overwritten (they become the interpolation weights).
    """
    batch = X_bx784.shape[0]
    side = SIDE + 2
    padded = np.zeros(batch * side * side + side + 1, dtype=X_bx784.dtype)
    padded[: batch * side * side].reshape(batch, side, side)[:, 1:-1, 1:-1] = X_bx784.reshape(
        batch, SIDE, SIDE
    )
    # Clipped coordinates land on the zero border, which is the value outside the image.
    # Shifted by one for the border, so floor() is >= 0; float32 throughout.
    wy = np.clip(src_y, -1.0, SIDE - 1e-3, out=src_y)
    wx = np.clip(src_x, -1.0, SIDE - 1e-3, out=src_x)
    wy += np.float32(1)
    wx += np.float32(1)
    y0, x0 = np.floor(wy), np.floor(wx)
    wy -= y0  # now the weights of the lower and right neighbours
    wx -= x0
    y0 *= side
    y0 += x0
    top_left = y0.astype(np.int32)
    top_left += (np.arange(batch, dtype=np.int32) * side * side)[:, None, None]
    # The other three neighbours: the same indices into views that start 1, side, side + 1
    # values later (the tail padding keeps them in bounds).
    top, top_right = padded.take(top_left), padded[1:].take(top_left)
    bottom, bottom_right = padded[side:].take(top_left), padded[side + 1 :].take(top_left)
    # Linear interpolation a + w (b - a), in place: along x on both rows, then along y.
    top_right -= top
    top_right *= wx
    top += top_right
    bottom_right -= bottom
    bottom_right *= wx
    bottom += bottom_right
    bottom -= top
    bottom *= wy
    top += bottom
    return top.reshape(batch, SIDE * SIDE)
