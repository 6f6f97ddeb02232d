"""Photographing a sheet with a phone: the sheet turned, seen in perspective, under a soft
shadow band and a colour cast. Lines printed square on the sheet come out slanted, and boxes
as quadrilaterals."""

import numpy as np
from PIL import Image


def photographed(
    pixels: np.ndarray, desk_rgb: np.ndarray, style, rng: np.random.Generator
) -> np.ndarray:
    """The sheet (h, w, 3) as a phone sees it: turned, in perspective, under a shadow band and
    a colour cast, as ``style`` asks (unchanged when it asks for none)."""
    height, width = pixels.shape[:2]
    if style.max_tilt_deg or style.perspective:
        image = Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))
        fill = tuple(int(round(255 * c)) for c in np.clip(desk_rgb, 0, 1))
        if style.max_tilt_deg:
            angle = rng.uniform(-style.max_tilt_deg, style.max_tilt_deg)
            image = image.rotate(angle, Image.Resampling.BICUBIC, fillcolor=fill)
        if style.perspective:
            moved = _corners(width, height) + rng.uniform(-1, 1, (4, 2)) * style.perspective * [
                width,
                height,
            ]
            coefficients = _perspective_coefficients(_corners(width, height), moved)
            image = image.transform(
                image.size,
                Image.Transform.PERSPECTIVE,
                coefficients,
                Image.Resampling.BICUBIC,
                fillcolor=fill,
            )
        pixels = np.asarray(image, dtype=np.float64) / 255
    if style.shadow:
        ys, xs = np.mgrid[0:height, 0:width] / max(height, width)
        direction = rng.uniform(0, 2 * np.pi)
        across = np.cos(direction) * xs + np.sin(direction) * ys
        edge = rng.uniform(across.min(), across.max())
        softness = rng.uniform(0.02, 0.15)
        depth = rng.uniform(0.3, 1.0) * style.shadow
        pixels = pixels * (1 - depth / (1 + np.exp(-(across - edge) / softness)))[..., None]
    if style.colour_cast:
        pixels = pixels * (1 + rng.uniform(-style.colour_cast, style.colour_cast, 3))
    return pixels


def _corners(width: int, height: int) -> np.ndarray:
    return np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)


def _perspective_coefficients(output: np.ndarray, source: np.ndarray) -> tuple[float, ...]:
    """The 8 coefficients PIL's PERSPECTIVE transform takes to fetch each ``output`` corner
    (4, 2) from its ``source`` corner."""
    rows = []
    for (x, y), (u, v) in zip(output, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return tuple(np.linalg.solve(np.array(rows), source.ravel()))
