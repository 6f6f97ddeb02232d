"""Which blobs of ink make up the digit (digitflow.reading.ink_components)."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitflow.reading.ink_components import ink_groups
from digitflow.reading.recipe import read_picture


def seven_on_paper(shadow: int | None = None) -> Image.Image:
    """A 7 on light paper; ``shadow``: the grey of a sharp-edged shadow over a corner."""
    image = Image.new("L", (120, 120), 225)
    if shadow is not None:
        ImageDraw.Draw(image).polygon([(120, 50), (120, 120), (60, 120)], fill=shadow)
    image = image.filter(ImageFilter.GaussianBlur(1.5))
    ImageDraw.Draw(image).line([(32, 15), (67, 15), (42, 85)], fill=30, width=8)
    return image


def ring_and_border_band(band_signal: float) -> tuple[np.ndarray, np.ndarray]:
    """(signal, mask), 64x64: a ring of signal 1 in the middle, a band along the bottom."""
    signal = np.zeros((64, 64), np.float32)
    signal[16:40, 20:44] = 1.0
    signal[20:36, 24:40] = 0.0
    signal[52:, 10:54] = band_signal
    return signal, signal > 0.1


def test_a_shadow_edge_over_a_corner_is_not_read_as_ink():
    shadowed = read_picture(seven_on_paper(shadow=110))
    assert np.allclose(shadowed.digit, read_picture(seven_on_paper()).digit)
    assert (shadowed.groups.masses == 0).sum() == 1  # weighs nothing: not a mark either


@pytest.mark.parametrize(("band_signal", "kept"), [(0.6, False), (1.0, True)])
def test_ink_along_the_border_is_dropped_only_when_fainter_than_the_digit(band_signal, kept):
    groups = ink_groups(*ring_and_border_band(band_signal))
    assert groups.digit[60, 30] == kept
    assert groups.digit[16, 30]


def test_a_lone_mark_along_the_border_is_kept():
    signal = np.zeros((64, 64), np.float32)
    signal[52:, 10:54] = 0.5
    assert ink_groups(signal, signal > 0.1).digit[60, 30]


def test_a_fine_pens_stroke_broken_into_dashes_is_kept_along_its_chain():
    """A 0 whose left side is a solid stroke and whose right side came out as light dashes,
    each too far from the stroke's box to count as near it, but close to the one before."""
    signal = np.zeros((100, 100), np.float32)
    signal[20:80, 20:28] = 1.0
    dashes = [(16, 33), (22, 44), (32, 48), (44, 48), (56, 48), (68, 44), (78, 33)]
    for top, left in dashes:
        signal[top : top + 4, left : left + 4] = 1.0
    signal[50:54, 80:84] = 1.0  # a speck as heavy as a dash, far from the chain
    digit = ink_groups(signal, signal > 0.1).digit
    assert all(digit[top + 1, left + 1] for top, left in dashes)
    assert not digit[51, 81]
