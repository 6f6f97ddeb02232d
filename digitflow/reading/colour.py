"""The ink signal from colour: any Pillow image as the (h, w) float32 grey picture in [0, 1]
that the paper model reads, at a working size."""

import numpy as np
from PIL import Image

WORKING_SIDE_PX = 1024
"""Larger pictures are box-reduced to about this long side first: a digit needs no more, and
the work stays proportional to a small picture."""


def grayscale_array(image: Image.Image) -> np.ndarray:
    """Luminance (h, w) float32 in [0, 1] of an image in any Pillow mode, transparent parts
    composited onto white. Integer modes are scaled by their full range (8-bit 255, 16-bit
    65535); 32-bit 'I' and 'F' images, whose range no file format fixes, are stretched from
    their own minimum to maximum unless already within [0, 1]. Pictures over twice
    ``WORKING_SIDE_PX`` are box-reduced by a whole factor first."""
    image = _working_size(_canonical_mode(image))
    if image.mode in ("I", "F"):
        return _unit_range(np.asarray(image, dtype=np.float32))
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255
    if image.mode in ("LA", "RGBA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255
        gray = gray * alpha + (1.0 - alpha)
    return gray


def _canonical_mode(image: Image.Image) -> Image.Image:
    """The same picture in one of L, LA, RGB, RGBA, I or F."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA", "I", "F"):
        return image
    if mode.startswith("I;16"):
        pixels = np.asarray(image, dtype=np.float32) / 65535  # any byte order
        return Image.fromarray(pixels)
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return image.convert(mode[:-1] + "A")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def _working_size(image: Image.Image) -> Image.Image:
    factor = max(image.size) // WORKING_SIDE_PX
    return image.reduce(factor) if factor >= 2 else image


def _unit_range(pixels: np.ndarray) -> np.ndarray:
    finite = np.isfinite(pixels)
    if not finite.all():  # NaN or infinity in a float TIFF: count it as the typical pixel
        pixels = np.where(finite, pixels, np.median(pixels[finite]) if finite.any() else 0.0)
    low, high = float(pixels.min()), float(pixels.max())
    if low >= 0.0 and high <= 1.0:
        return pixels
    if high == low:
        return np.zeros_like(pixels)
    return (pixels - low) / (high - low)
