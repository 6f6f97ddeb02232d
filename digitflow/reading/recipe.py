"""Reading a picture of one digit, step by step: the order of the recipe, in one place.

1. ink signal from colour  (``colour``)        the picture as grey, at a working size
2. the sheet               (``sheet``)         a sheet photographed on a desk: only the sheet
3. paper and polarity      (``paper``)         uneven paper subtracted, ink high
4. printed lines removed   (``boxes``, ``lines``, ``grid``) a box as a whole, rules, grids
                                               (missed ones predicted at the grid's pitch)
                                               taken out, crossings kept
5. ink groups kept         (``ink_components``) the blobs that form the digit, specks dropped;
                                               where its strokes ran along a line, the line's
                                               ink under them given back and 5 done again
6. graded like a scan      (``scan``)          the digit's region at full resolution, 0 to 1
7. stroke width            (``mnist_form.stroke``)      MNIST's range of pen widths
8. 20×20 box               (``mnist_form.mnist_frame``) long side fitted to 20 px
9. centre of mass in 28×28 (``mnist_form.mnist_frame``) MNIST's frame

Steps 2-5 look at a copy shrunk by a whole factor to about ``ANALYSIS_SIDE_PX`` (the paper,
the lines and the digit's groups need no more); step 6 cuts only the digit's own region from
the full-resolution picture, so the work barely grows with the picture. Steps 6-9 are
``digit_from_group``: they read any group of ink on the analysis copy as a single digit.
Steps 7-9 (``mnist_form.digit``) live outside reading because train shapes the pieces of its
whole-digit score with them too.
"""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from PIL import Image

from digitflow.float_images import float_image, float_pixels
from digitflow.mnist_form.digit import mnist_digit
from digitflow.mnist_form.masks import bounds, dilated
from digitflow.mnist_form.stroke import BILEVEL_CUT
from digitflow.reading import scan
from digitflow.reading.boxes import find_printed
from digitflow.reading.colour import grayscale_array
from digitflow.reading.grid import completed_grid
from digitflow.reading.ink_components import InkGroups, ink_groups
from digitflow.reading.lines import (
    LINE_FRACTION,
    Line,
    line_pixels,
    strokes_along,
    without_lines,
)
from digitflow.reading.paper import Paper, Polarity, read_paper
from digitflow.reading.sheet import SHEET_RIM_PX, find_sheet, only_the_sheet

ANALYSIS_SIDE_PX = 128
"""Paper and groups are analysed on a copy shrunk by a whole factor to about this ..."""
MAX_ANALYSIS_FACTOR = 4
"""... but by no more than this: a small digit in a big photo must keep a few pixels per
stroke (a big picture's decoding dwarfs the extra work anyway)."""
MIN_CONTRAST = 0.04
"""Ink must stand out from the paper by this much of the full grey scale ..."""
MIN_CONTRAST_SIGMAS = 6.0
"""... and by this many standard deviations of the paper's grain."""
MASK_FRACTION = 0.35
"""Pixels above this share of the ink level are ink when looking for the digit's groups."""
MIN_DIGIT_FRACTION = 0.02
"""Ink smaller than this share of the picture's long side is a speck, not a digit."""


@dataclass(frozen=True)
class Picture:
    """Steps 1-3 done: the grey picture (cut to its sheet), the copy its paper and ink groups
    are analysed on, and the paper model."""

    gray: np.ndarray
    """(h, w) float32 in [0, 1]."""
    small: np.ndarray
    """(h / scale, w / scale) float32: ``gray`` shrunk for analysis."""
    scale: int
    """px of ``gray`` per px of ``small``."""
    sheet: tuple[int, int, int, int] | None
    """(top, bottom, left, right) of the sheet ``gray`` was cut to, in px of the picture
    before the cut; None when no desk showed around it."""
    paper: Paper
    signal: np.ndarray
    """(h / scale, w / scale) float32: ``small``'s ink minus paper, ink high (printed lines
    taken out once step 4 has run)."""
    printed: np.ndarray | None = None
    """(h / scale, w / scale) bool: the pixels step 4 took out as printed lines."""
    lines: tuple[Line, ...] = ()
    """The printed lines step 4 found."""

    @cached_property
    def ink_levels(self) -> tuple[float, float] | None:
        """``scan.ink_levels`` of ``signal`` above the faintest ink that stands out from the
        paper's noise; None when nothing does. Kept: steps 4 and 5 both need it, and on a
        picture without printed lines they read the same signal."""
        return scan.ink_levels(self.signal, self.faintest_ink)

    @property
    def faintest_ink(self) -> float:
        """The least signal that stands out from the paper's noise as ink."""
        return max(MIN_CONTRAST, MIN_CONTRAST_SIGMAS * self.paper.noise)


@dataclass(frozen=True)
class Reading:
    """What reading one picture found."""

    picture: Picture
    groups: InkGroups | None
    """The ink's groups on ``picture.small`` and which form the digit; None when no ink."""
    digit: np.ndarray | None
    """(28, 28) float32 in [0, 1], ink high, as MNIST; None when no ink was found."""

    @property
    def polarity(self) -> Polarity:
        """ "dark-on-light" or "light-on-dark" (what "auto" decided)."""
        return self.picture.paper.polarity

    @property
    def lines(self) -> tuple[Line, ...]:
        """The printed lines taken out before the ink's groups were."""
        return self.picture.lines

    @cached_property
    def digit_box(self) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) of the kept groups, in analysis px."""
        return None if self.groups is None else bounds(self.groups.digit)

    @property
    def coverage(self) -> float:
        """Share of the digit's box covered by its ink (0 with no ink)."""
        if self.groups is None:
            return 0.0
        top, bottom, left, right = self.digit_box
        return float(self.groups.digit[top:bottom, left:right].mean())


def read_picture(image: Image.Image, polarity: Polarity = "auto") -> Reading:
    """Read a Pillow image of one digit. Pure: the image is left untouched."""
    picture = analyse(image, polarity)  # 1-3
    levels = picture.ink_levels
    if levels is None:
        return Reading(picture, None, None)
    lines = _printed_lines(picture, levels[1])
    while True:
        cleaned = _without(picture, levels[1], lines)  # 4
        groups = _digit_groups(cleaned)  # 5
        if groups is not None or not lines:
            break
        # Nothing but lines: the least line-like of them was the digit (a 1 in a fine pen).
        lines.remove(min(lines, key=lambda line: line.length_px / line.thickness_px))
    if groups is None:
        return Reading(cleaned, None, None)
    cleaned, groups = _strokes_put_back(picture, cleaned, groups)
    return Reading(cleaned, groups, digit_from_group(cleaned, groups.digit))  # 6-9


def _without(picture: Picture, level: float, lines: list[Line]) -> Picture:
    """Step 4: the picture with ``lines`` taken out of its ink signal."""
    if not lines:
        return picture
    level = _level_off_lines(picture, level, lines)
    signal, printed, lines = without_lines(picture.signal, level, lines)
    return replace(picture, signal=signal, printed=printed, lines=tuple(lines))


def _level_off_lines(picture: Picture, level: float, lines: list[Line]) -> float:
    """The ink's level measured off the ``lines``' bands (``level`` when nothing is left
    there): on squared paper the grid's pixels outnumber the digit's, and the level would
    be the grid's, so a lighter grid would not look lighter than the ink over it."""
    off = np.where(line_pixels(picture.signal.shape, lines, grow_px=1.0), 0.0, picture.signal)
    levels = scan.ink_levels(off, picture.faintest_ink)
    return level if levels is None else levels[1]


def _strokes_put_back(
    picture: Picture, cleaned: Picture, groups: InkGroups
) -> tuple[Picture, InkGroups]:
    """Step 5, once more where the digit's strokes ran along printed lines: ``cleaned`` (step
    4 done on ``picture``) with the ink of the lines' bands under those strokes
    (``lines.strokes_along``) given back, and its groups found again."""
    if cleaned.printed is None:
        return cleaned, groups
    ink = picture.signal > MASK_FRACTION * cleaned.ink_levels[1]
    back = strokes_along(groups.digit, list(cleaned.lines)) & cleaned.printed & ink
    if not back.any():
        return cleaned, groups
    restored = replace(
        cleaned,
        signal=np.where(back, picture.signal, cleaned.signal),
        printed=cleaned.printed & ~back,
    )
    regrouped = _digit_groups(restored)
    return (cleaned, groups) if regrouped is None else (restored, regrouped)


def _digit_groups(picture: Picture) -> InkGroups | None:
    """Step 5: the ink's groups and those forming the digit; None when no ink is left."""
    levels = picture.ink_levels
    if levels is None:
        return None
    groups = ink_groups(picture.signal, picture.signal > MASK_FRACTION * levels[1])
    return None if groups is None or is_speck(groups.digit) else groups


def analyse(image: Image.Image, polarity: Polarity = "auto", by_height: bool = False) -> Picture:
    """Steps 1-3: the picture as grey, cut to its sheet if it lies on a desk (chalk has no
    light sheet), shrunk for analysis, its paper modelled. ``by_height``: a picture more than
    twice as wide as tall is shrunk as if its width were twice its height, so a number written
    across it keeps about as many pixels per digit as a lone digit does; other pictures, a tall
    one too, are analysed exactly as a lone digit's (a tall lone digit shrunk by its width read
    differently in number mode)."""
    gray = grayscale_array(image)  # 1
    scale = _analysis_factor(gray.shape, by_height)
    small = _reduced(gray, scale)
    found = find_sheet(small) if polarity != "light-on-dark" else None  # 2
    sheet = None
    if found is not None:
        top, bottom, left, right = sheet = tuple(edge * scale for edge in found.box)
        rim_px = SHEET_RIM_PX * scale
        gray = only_the_sheet(gray[top:bottom, left:right], found.least, found.paper, rim_px)
        scale = _analysis_factor(gray.shape, by_height)
        small = _reduced(gray, scale)
    paper = read_paper(small, polarity)  # 3
    return Picture(gray, small, scale, sheet, paper, paper.ink_signal(small))


def without_printed_lines(picture: Picture) -> Picture:
    """Step 4 alone, for a picture of several digits: ``picture`` with the printed lines
    found on it taken out (none found: ``picture`` itself)."""
    levels = picture.ink_levels
    if levels is None:
        return picture
    return _without(picture, levels[1], _printed_lines(picture, levels[1]))


def ink_mask(picture: Picture) -> np.ndarray | None:
    """(h, w) bool on ``picture.small``: the pixels that are ink; None when nothing stands
    out from the paper (a number's marks are found on it)."""
    levels = picture.ink_levels
    return None if levels is None else picture.signal > MASK_FRACTION * levels[1]


def _printed_lines(picture: Picture, ink_level: float) -> list[Line]:
    """Step 4's search: the printed lines among what is at least a fraction of the ink (on
    squared paper, with the grid's lines it missed)."""
    mask = picture.signal > LINE_FRACTION * ink_level
    return completed_grid(find_printed(mask), mask)


def digit_from_group(
    picture: Picture, group: np.ndarray, others: np.ndarray | None = None
) -> np.ndarray | None:
    """Steps 6-9 on one group of ink, a (h, w) mask on ``picture.small``: the (28, 28)
    float32 MNIST digit it makes, read as a single digit is; None when nothing is left.
    ``others`` (same shape) is ink that must stay out of it: the neighbours it was cut from."""
    # 6. The group's region, at most CROP_SIDE_PX long, graded like a scan: paper 0, cores 1.
    top, bottom, left, right = bounds(group, margin=1)
    height, width = picture.gray.shape
    scale = picture.scale
    region = (  # whole pixels, so a digit's rendering does not depend on its sub-pixel phase
        int(top * scale),
        min(int(np.ceil(bottom * scale)), height),
        int(left * scale),
        min(int(np.ceil(right * scale)), width),
    )
    crop = scan.crop(picture.gray, region, scan.CROP_SIDE_PX)
    signal = picture.paper.ink_signal(crop, region, scale)
    grown = dilated(group) if others is None else dilated(group) & ~others
    digit = scan.within(grown, region, scale, crop.shape)
    if picture.printed is not None:
        digit &= ~scan.within(picture.printed, region, scale, crop.shape)
    ink = scan.graded(signal, digit)
    if ink is None or not (ink > BILEVEL_CUT).any():
        return None
    return mnist_digit(ink)  # 7-9


def _analysis_factor(shape: tuple[int, int], by_height: bool = False) -> int:
    """Whole factor a picture is shrunk by for analysis (px of the picture per px)."""
    side = min(max(shape), 2 * shape[0]) if by_height else max(shape)
    return min(-(-side // ANALYSIS_SIDE_PX), MAX_ANALYSIS_FACTOR)


def _reduced(gray: np.ndarray, factor: int) -> np.ndarray:
    """Each ``factor``×``factor`` block averaged (a partial block at the far edges too)."""
    if factor == 1:
        return gray
    return float_pixels(float_image(gray).reduce(factor))


def is_speck(mask: np.ndarray) -> bool:
    """Is the ink under ``mask`` too small in the picture to be a digit?"""
    top, bottom, left, right = bounds(mask)
    return max(bottom - top, right - left) < MIN_DIGIT_FRACTION * max(mask.shape)
