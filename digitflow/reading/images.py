"""Turning a picture of one handwritten digit (or of one number) into the 28×28 arrays MNIST
would have made of it.

``open_image`` is the decoding step: it reads the raster formats of
:data:`SUPPORTED_FORMATS` (by content, not by name), one picture per file, of a shape that
can hold a digit. ``normalise_digit`` is the pure picture -> (28, 28) float32 step (the
recipe's steps are in ``digitflow.reading.recipe``), and ``read_digit`` chains the two;
``normalise_number`` and ``read_number`` do the same for a row of digits (split by
``digitflow.reading.segment``). Every failure a user can act on is an ``ImageError`` (or a
``segment.Rejected``, for a picture that is not what the read mode expects) whose one-line
message names the file.
"""

import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitflow.errors import DigitflowError, one_line
from digitflow.reading import one_digit
from digitflow.reading.paper import Polarity
from digitflow.reading.recipe import (
    Reading,
    analyse,
    ink_mask,
    read_picture,
    without_printed_lines,
)
from digitflow.reading.segment import (
    Classify,
    Ink,
    Likeness,
    Segmentation,
    SeveralDigits,
    segment_number,
)

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
"""What Pillow's decoders raise on damaged data (it has no common base class for them)."""

SUPPORTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
"""Pillow's names for the formats scans and phone photos come in (JPEG includes the MPO of
some phones; PPM covers PBM, PGM and PPM). No other plugin ever reads a file: PostScript,
for one, would run Ghostscript."""
MIN_SIDE_PX = 8
MAX_ASPECT = 20
"""A picture narrower than MIN_SIDE_PX, or MAX_ASPECT times longer than wide, is a ruled line
or a sliver, never a digit (a tall thin '1' is about 5:1)."""


class ImageError(DigitflowError):
    """A file could not be turned into a digit; the message names the file."""


class UnreadableFile(ImageError):
    """The file could not be read at all (missing, a folder, no permission)."""


class NotAnImage(ImageError):
    """The file's content is not an image format Pillow knows (or the file is empty)."""


class UnsupportedFormat(ImageError):
    """The file is an image, but not in one of :data:`SUPPORTED_FORMATS`."""


class SeveralPictures(ImageError):
    """A multi-page TIFF or an animated GIF/WebP/PNG: reading one page would drop the rest."""


class NoDigitShape(ImageError):
    """The picture's shape cannot hold a digit (a 1×5000 ruled line)."""


class BrokenImage(ImageError):
    """The file looks like an image but is truncated or cannot be decoded."""


class ImageTooLarge(ImageError):
    """The image has more pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (decompression bomb guard)."""


class EmptyImage(ImageError):
    """The picture holds no ink: a blank page would give a random prediction."""


def open_image(path: Path | str, open_file: Callable | None = None) -> Image.Image:
    """Open, fully decode and upright (EXIF orientation) the image in ``path``.

    The format is recognised from the content, so misnamed files work. Pillow's decompression
    bomb guard is kept, and its warning (more than ``MAX_IMAGE_PIXELS``) counts as an error.
    ``open_file(path, "rb")`` opens it (e.g. ``fsspec.open`` for a URL); None: ``open``.
    """
    try:
        with (open_file or open)(path, "rb") as stream:
            if not stream.read(1):
                raise NotAnImage(f"{path}: empty file (0 bytes)")
            stream.seek(0)
            return _decode(stream, path)
    except ImageError:
        raise
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot read ({_one_line(error)})") from None


def normalise_digit(image: Image.Image, polarity: Polarity = "auto") -> np.ndarray:
    """The (28, 28) float32 array in [0, 1], ink high, that MNIST would have made of a picture
    of one digit: background and printed lines removed, ink fitted to 20×20 keeping its aspect
    ratio, centre of mass at the centre. ``polarity`` "auto" decides from the picture whether
    the ink is dark on light (inverted) or light on dark. Raises EmptyImage when no ink is
    found."""
    return read_image(image, polarity).digit


def read_image(
    image: Image.Image, polarity: Polarity = "auto", refuse_several: bool = True
) -> Reading:
    """``recipe.read_picture`` with the polarity checked; raises EmptyImage when no ink is
    found, so the record's digit is always there, and SeveralDigits for digits side by side
    unless ``refuse_several`` is False (the batch makes such a picture a ``rejected`` row)."""
    if polarity not in ("auto", "dark-on-light", "light-on-dark"):
        raise ValueError(f"polarity must be auto, dark-on-light or light-on-dark, got {polarity}")
    reading = read_picture(image, polarity)
    if reading.digit is None:
        raise EmptyImage("no ink found: the picture looks blank")
    if refuse_several and (several := one_digit.several_digits(reading)):
        raise SeveralDigits(several)
    return reading


def read_file(
    path: Path | str,
    polarity: Polarity = "auto",
    open_file: Callable | None = None,
    refuse_several: bool = True,
) -> tuple[Image.Image, Reading]:
    """The decoded image in ``path`` (opened as ``open_image`` does) and ``read_image`` of it
    (EmptyImage names the file)."""
    image = open_image(path, open_file)
    try:
        return image, read_image(image, polarity, refuse_several)
    except EmptyImage as error:
        raise EmptyImage(f"{path}: {error}") from None


def normalise_number(
    image: Image.Image,
    classify: Classify,
    polarity: Polarity = "auto",
    max_digits: int = 12,
    likeness: Likeness | None = None,
) -> Segmentation:
    """The digits of the one number written in a picture, left to right, each normalised as
    ``normalise_digit`` does and read by ``classify``; printed lines (boxes, rules, grids)
    are taken out first, as for one digit. Raises EmptyImage when there is no
    digit-like mark, TooManyMarks or SeveralLines when it is not one number. ``likeness``
    (the network's digit likeness, if it has one) helps decide where touching digits part."""
    picture = without_printed_lines(analyse(image, polarity, by_height=True))
    mask = ink_mask(picture)
    number = (
        segment_number(Ink(picture, mask), classify, max_digits, likeness)
        if mask is not None
        else None
    )
    if number is None:
        raise EmptyImage("no digit-like marks found: the picture looks blank")
    return number


def read_number(
    path: Path | str,
    classify: Classify,
    polarity: Polarity = "auto",
    max_digits: int = 12,
    open_file: Callable | None = None,
    likeness: Likeness | None = None,
) -> Segmentation:
    """``normalise_number(open_image(path, open_file), ...)``; messages name the file."""
    image = open_image(path, open_file)
    try:
        return normalise_number(image, classify, polarity, max_digits, likeness)
    except EmptyImage as error:
        raise EmptyImage(f"{path}: {error}") from None


def read_digit(path: Path, polarity: Polarity = "auto") -> np.ndarray:
    """``normalise_digit(open_image(path))``: one file to one (28, 28) float32 array."""
    return read_file(path, polarity)[1].digit


def _decode(stream, path: Path | str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(stream, formats=SUPPORTED_FORMATS) as image:
                _check_one_picture(image, path)
                _check_shape(image, path)
                image.load()
                ImageOps.exif_transpose(image, in_place=True)  # a copy costs more than reading
                return image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLarge(
                f"{path}: too large, refused as a possible decompression bomb ({error})"
            ) from None
        except UnidentifiedImageError:
            found = _sniffed_format(stream)
            if found:
                raise UnsupportedFormat(
                    f"{path}: not a supported image format (found: {found})"
                ) from None
            raise NotAnImage(f"{path}: not an image (no known image format)") from None
        except _DECODE_ERRORS as error:
            raise BrokenImage(f"{path}: truncated or broken image ({_one_line(error)})") from None


def _check_one_picture(image: Image.Image, path: Path) -> None:
    # An MPO's further frames are the phone's previews of the same photo, not more pictures.
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format != "MPO":
        raise SeveralPictures(
            f"{path}: a {image.format} of {frames} pages or frames; only single pictures are "
            "read: save each page as its own file"
        )


def _check_shape(image: Image.Image, path: Path) -> None:
    width, height = image.size
    short, long = sorted((width, height))
    if short < MIN_SIDE_PX or long > MAX_ASPECT * short:
        raise NoDigitShape(
            f"{path}: a {width}x{height} px picture cannot hold a digit (each side at least "
            f"{MIN_SIDE_PX} px and at most {MAX_ASPECT} times the other)"
        )


def _sniffed_format(stream) -> str | None:
    """Which format Pillow would take the file for, from the first bytes alone: each
    plugin's signature check runs, never its decoder."""
    stream.seek(0)
    prefix = stream.read(16)  # what Image.open hands the signature checks
    Image.init()
    for name in Image.ID:
        accept = Image.OPEN[name][1]
        if accept is not None and accept(prefix):
            return name
    return None


def _one_line(error: Exception) -> str:
    return one_line(str(error)) or type(error).__name__
