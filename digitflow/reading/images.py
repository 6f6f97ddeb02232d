"""Turning a picture of one handwritten digit into the 28×28 array MNIST would have made of it.

``open_image`` reads any file Pillow knows (by content, not by name), ``normalise_digit`` is the
pure picture -> (28, 28) float32 step (the geometry lives in ``digitflow.reading.digit_norm``), and
``read_digit`` chains the two. Every failure a user can act on is an ``ImageError`` whose
one-line message names the file.
"""

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitflow.errors import DigitflowError, one_line
from digitflow.reading.digit_norm import mnist_digit
from digitflow.reading.paper import Polarity

WORKING_SIDE_PX = 1024
"""Larger pictures are box-reduced to about this long side first: a digit needs no more, and
the work stays proportional to a small picture."""

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
"""What Pillow's decoders raise on damaged data (it has no common base class for them)."""


class ImageError(DigitflowError):
    """A file could not be turned into a digit; the message names the file."""


class UnreadableFile(ImageError):
    """The file could not be read at all (missing, a folder, no permission)."""


class NotAnImage(ImageError):
    """The file's content is not an image format Pillow knows (or the file is empty)."""


class BrokenImage(ImageError):
    """The file looks like an image but is truncated or cannot be decoded."""


class ImageTooLarge(ImageError):
    """The image has more pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (decompression bomb guard)."""


class EmptyImage(ImageError):
    """The picture holds no ink: a blank page would give a random prediction."""


def open_image(path: Path) -> Image.Image:
    """Open, fully decode and upright (EXIF orientation) the image in ``path``.

    The format is recognised from the content, so misnamed files work. Pillow's decompression
    bomb guard is kept, and its warning (more than ``MAX_IMAGE_PIXELS``) counts as an error.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            if path.stat().st_size == 0:
                raise NotAnImage(f"{path}: empty file (0 bytes)")
            return _decode(stream, path)
    except ImageError:
        raise
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot read ({_one_line(error)})") from None


def normalise_digit(image: Image.Image, polarity: Polarity = "auto") -> np.ndarray:
    """The (28, 28) float32 array in [0, 1], ink high, that MNIST would have made of a picture
    of one digit: background removed, ink fitted to 20×20 keeping its aspect ratio, centre of
    mass at the centre. ``polarity`` "auto" decides from the picture whether the ink is dark
    on light (inverted) or light on dark. Raises EmptyImage when no ink is found."""
    if polarity not in ("auto", "dark-on-light", "light-on-dark"):
        raise ValueError(f"polarity must be auto, dark-on-light or light-on-dark, got {polarity}")
    digit = mnist_digit(grayscale_array(image), polarity)
    if digit is None:
        raise EmptyImage("no ink found: the picture looks blank")
    return digit


def read_digit(path: Path, polarity: Polarity = "auto") -> np.ndarray:
    """``normalise_digit(open_image(path))``: one file to one (28, 28) float32 array."""
    image = open_image(path)
    try:
        return normalise_digit(image, polarity)
    except EmptyImage as error:
        raise EmptyImage(f"{path}: {error}") from None


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


def _decode(stream, path: Path) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(stream) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                upright.format = image.format  # the copy forgets what the file was
                return upright
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLarge(
                f"{path}: too large, refused as a possible decompression bomb ({error})"
            ) from None
        except UnidentifiedImageError:
            raise NotAnImage(f"{path}: not an image (no known image format)") from None
        except _DECODE_ERRORS as error:
            raise BrokenImage(f"{path}: truncated or broken image ({_one_line(error)})") from None


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


def _one_line(error: Exception) -> str:
    return one_line(str(error)) or type(error).__name__
