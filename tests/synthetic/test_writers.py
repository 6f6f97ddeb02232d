"""Digits by other writers (synthetic.writers): handwriting-font digits and UCI 8x8 digits."""

import numpy as np
import pytest
from PIL import ImageFont

from digitflow.synthetic.writers import (
    HANDWRITING_FONTS,
    font_digit,
    handwriting_fonts,
    jittered_font_digit,
    uci_digit,
)

FONT = ImageFont.load_default(size=48)  # Pillow's own FreeType face: no system font needed


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def test_fonts_are_found_under_the_root_and_missing_packages_named(tmp_path):
    (tmp_path / "truetype/kristi").mkdir(parents=True)
    (tmp_path / "truetype/kristi/Kristi.ttf").touch()
    (tmp_path / "opentype/bwht").mkdir(parents=True)
    for face in ("Build", "Learn"):
        (tmp_path / f"opentype/bwht/BecauseWe{face}-Regular.otf").touch()
    found, missing = handwriting_fonts(tmp_path)
    assert [path.name for path in found] == [
        "BecauseWeBuild-Regular.otf",
        "BecauseWeLearn-Regular.otf",
        "Kristi.ttf",
    ]
    assert missing == [p for p in HANDWRITING_FONTS if p not in ("fonts-kristi", "fonts-bwht")]


def test_fonts_can_be_looked_for_in_some_packages_only(tmp_path):
    (tmp_path / "truetype/kristi").mkdir(parents=True)
    (tmp_path / "truetype/kristi/Kristi.ttf").touch()
    (tmp_path / "truetype/breip").mkdir(parents=True)
    (tmp_path / "truetype/breip/Breip.ttf").touch()
    found, missing = handwriting_fonts(tmp_path, packages=["fonts-kristi", "fonts-sjfonts"])
    assert [path.name for path in found] == ["Kristi.ttf"]
    assert missing == ["fonts-sjfonts"]


def test_a_font_digit_is_ink_high_in_the_unit_range_centred_on_its_canvas():
    ink = font_digit(8, FONT)
    assert ink.shape == (96, 96) and ink.dtype == np.float32
    assert ink.min() == 0 and 0.9 < ink.max() <= 1
    top, bottom, left, right = ink_box(ink)
    assert abs((top + bottom) / 2 - 48) < 6 and abs((left + right) / 2 - 48) < 6


def test_a_wider_pen_draws_more_ink_and_a_negative_one_less():
    thin, plain, bold = (font_digit(4, FONT, pen_px=pen).sum() for pen in (-1, 0, 2))
    assert thin < 0.8 * plain and bold > 1.3 * plain


def test_a_negative_slant_leans_the_top_to_the_right():
    ink = font_digit(1, FONT, slant=-0.4)
    top, bottom, _, _ = ink_box(ink)
    cols = np.arange(ink.shape[1])
    top_x = (ink[top : top + 5] * cols).sum() / ink[top : top + 5].sum()
    bottom_x = (ink[bottom - 5 : bottom] * cols).sum() / ink[bottom - 5 : bottom].sum()
    assert top_x - bottom_x > 0.25 * (bottom - top)


def test_aspect_scales_the_width_only():
    plain, wide = ink_box(font_digit(0, FONT)), ink_box(font_digit(0, FONT, aspect=1.5))
    assert wide[1] - wide[0] == plain[1] - plain[0]
    assert (wide[3] - wide[2]) / (plain[3] - plain[2]) == pytest.approx(1.5, abs=0.1)


def test_jittered_font_digits_repeat_for_a_seed_and_vary_across_draws():
    first, again = (jittered_font_digit(3, FONT, np.random.default_rng(5)) for _ in range(2))
    np.testing.assert_array_equal(first, again)
    rng = np.random.default_rng(5)
    assert not np.array_equal(jittered_font_digit(3, FONT, rng), jittered_font_digit(3, FONT, rng))


def test_a_uci_digit_is_the_binary_bitmap_its_counts_come_from():
    counts = np.zeros((8, 8))
    counts[2:6, 3:5] = 16  # a full bar, 4 blocks tall and 2 wide
    bitmap = uci_digit(counts)
    assert bitmap.shape == (32, 32) and bitmap.dtype == np.float32
    assert (bitmap[10:22, 14:18] == 1).all()  # well inside the bar: solid ink
    assert (bitmap[:4] == 0).all() and (bitmap[:, :8] == 0).all()  # far outside: paper
    assert ((bitmap > 0.5).sum(axis=1)[12]) == pytest.approx(8, abs=1)  # 2 blocks wide
