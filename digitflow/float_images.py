"""float32 arrays to and from Pillow's 32-bit float ("F") images, at a fraction of the cost
of ``Image.fromarray`` and ``np.asarray``: on reading's small pictures their checks cost more
than the resizes they feed."""

import numpy as np
from PIL import Image


def float_image(pixels: np.ndarray) -> Image.Image:
    """The "F" image of (h, w) float pixels (a copy, rounded to float32 as
    ``Image.fromarray`` rounds float64)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    height, width = pixels.shape
    return Image.frombuffer("F", (width, height), pixels, "raw", "F", 0, 1)


def float_pixels(image: Image.Image) -> np.ndarray:
    """The (h, w) float32 pixels of an "F" image, read-only as ``np.asarray``'s are."""
    width, height = image.size
    return np.frombuffer(image.tobytes(), dtype=np.float32).reshape(height, width)
