"""Printed structure under a digit (synthetic.printed) and phone photos of it (make_photo)."""

import numpy as np
import pytest

from digitflow.synthetic.photos import draw_digit, make_photo
from digitflow.synthetic.printed import PRINTED_KINDS, printed_lines

SHAPE = (120, 160)
INK_BOX = (40, 80, 60, 90)


def seven() -> np.ndarray:
    return draw_digit(7, np.random.default_rng(7), size_px=56)


def test_a_box_surrounds_the_ink_with_paper_inside():
    coverage, _ = printed_lines(
        "box", SHAPE, INK_BOX, np.random.default_rng(0), box_margin=(0.1, 0.2)
    )
    top, bottom, left, right = INK_BOX
    assert coverage[top:bottom, left:right].max() == 0  # the ink's own box is clear
    assert coverage[:top, left:right].max(axis=0).min() > 0.5  # a side above it
    assert coverage[bottom:, left:right].max(axis=0).min() > 0.5  # and below


@pytest.mark.parametrize("kind", ["comb", "ruled", "squared"])
def test_sheet_wide_lines_cross_the_whole_picture(kind):
    coverage, _ = printed_lines(kind, SHAPE, INK_BOX, np.random.default_rng(1))
    assert (coverage > 0.5).all(axis=1).any() or (coverage > 0.5).all(axis=0).any()


def test_unknown_kind_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match=", ".join(PRINTED_KINDS)):
        printed_lines("hexagons", SHAPE, INK_BOX, np.random.default_rng(0))


@pytest.mark.parametrize(
    "options",
    [
        {"printed": "box"},
        {"printed": "ruled", "red_margin": True},
        {"perspective": 0.08, "shadow": 0.5, "colour_cast": 0.2},
        {"desk_margin": 0.2, "max_tilt_deg": 8},
    ],
    ids=["box", "ruled with margin", "phone photo", "tilted on a desk"],
)
def test_document_photos_are_reproducible_and_differ_from_a_plain_one(options):
    photo = make_photo(seven(), np.random.default_rng(3), **options)
    again = make_photo(seven(), np.random.default_rng(3), **options)
    plain = make_photo(seven(), np.random.default_rng(3))
    assert photo.tobytes() == again.tobytes()
    assert photo.size != plain.size or photo.tobytes() != plain.tobytes()
