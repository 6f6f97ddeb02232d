"""A printed box found as a whole (digitflow.reading.boxes, in step 4 of the recipe)."""

import numpy as np
import pytest
from pictures import as_image, assert_same_digit, digit_ink, picture
from PIL import Image, ImageDraw

from digitflow.reading.boxes import find_box
from digitflow.reading.images import normalise_digit
from digitflow.reading.recipe import read_picture

PAPER_GREY = 225


def quadrilateral_box(corners, width: int, size=(200, 200)) -> Image.Image:
    """Paper with a box drawn through ``corners`` (x, y), ``width`` px thick."""
    image = Image.new("L", size, PAPER_GREY)
    draw = ImageDraw.Draw(image)
    draw.line([*corners, corners[0], corners[1]], fill=40, width=width, joint="curve")
    return image


def with_digit(image: Image.Image, label: int, at: tuple[int, int], size_px: int = 80):
    """``image`` with a pen-drawn digit pasted at ``at`` (left, top), darker where it lies."""
    ink = digit_ink(label, size_px)
    pixels = np.asarray(image, dtype=np.float32) / 255
    left, top = at
    region = pixels[top : top + size_px, left : left + size_px]
    np.minimum(region, 0.9 - 0.8 * ink, out=region)
    return as_image(pixels)


def alone(label: int, at: tuple[int, int], size_px: int = 80) -> np.ndarray:
    return normalise_digit(with_digit(Image.new("L", (200, 200), PAPER_GREY), label, at, size_px))


@pytest.mark.parametrize("label", [1, 4, 7])
def test_a_small_thick_box_round_a_digit_is_taken_out(label):
    """A box a quarter of the picture across, its sides 5 px thick: shorter than the long
    lines' length and aspect, so only the box as a whole finds them."""
    box = quadrilateral_box([(75, 72), (125, 72), (125, 128), (75, 128)], width=5)
    in_box = with_digit(box, label, (80, 80), 40)
    assert_same_digit(normalise_digit(in_box), alone(label, (80, 80), 40))


@pytest.mark.parametrize("label", [0, 1, 5])
def test_a_phone_photo_s_quadrilateral_box_is_taken_out(label):
    """The box's corners moved by perspective: each side has its own tilt."""
    box = quadrilateral_box([(48, 32), (156, 38), (151, 168), (44, 160)], width=4)
    in_box = with_digit(box, label, (60, 55))
    reading = read_picture(in_box)
    assert find_box(reading.picture.printed) is not None
    assert_same_digit(reading.digit, alone(label, (60, 55)))


@pytest.mark.parametrize("label", [2, 4, 8])
def test_a_box_in_strong_perspective_is_found_whole(label):
    """The box's top leans up 5° and its bottom down 3°, 8° apart (a phone photo's
    perspective): its thin sides are easily taken for the digit's when it is not found
    whole."""
    box = quadrilateral_box([(45, 42), (155, 32), (158, 171), (42, 165)], width=2)
    assert find_box(np.asarray(box) < 128) is not None
    in_box = with_digit(box, label, (62, 62))
    assert_same_digit(normalise_digit(in_box), alone(label, (62, 62)))


def test_a_straight_one_touching_its_box_top_and_bottom_is_kept():
    """The 1's stroke is as long and straight as the box's sides and touches two of them:
    inside a box nothing is printed."""
    image = Image.new("L", (120, 120), PAPER_GREY)
    draw = ImageDraw.Draw(image)
    draw.rectangle([42, 18, 78, 102], outline=60, width=4)
    draw.line([(58, 22), (62, 98)], fill=30, width=7)
    plain = Image.new("L", (120, 120), PAPER_GREY)
    ImageDraw.Draw(plain).line([(58, 22), (62, 98)], fill=30, width=7)
    reading = read_picture(image)
    assert len(reading.lines) == 4
    assert_same_digit(reading.digit, normalise_digit(plain))


def test_a_faint_box_broken_into_dashes_is_found_whole():
    """A thin light box's sides come out of a phone photo's ink as dashes: each side's edge
    lies on its band along 70 % of its length."""
    mask = np.zeros((100, 100), bool)
    dashes = (np.arange(100) % 10) < 7
    for at in (10, 88):
        mask[at : at + 2, 15:85] = dashes[15:85]
    for at in (15, 83):
        mask[10:90, at : at + 2] = dashes[10:90, None]
    mask[30:70, 45:52] = True  # a 1 inside
    assert find_box(mask) is not None


@pytest.mark.parametrize("label", range(10))
def test_a_digit_alone_is_not_a_box(label):
    mask = picture(digit_ink(label)) < 0.6
    assert find_box(mask) is None


def test_a_row_of_boxes_running_off_the_picture_is_not_one_box():
    """Comb boxes: the two long lines run to the picture's edges, and an outer tooth near
    them would close a box round several cells."""
    mask = np.zeros((100, 100), bool)
    mask[20:22, :] = mask[60:62, :] = True
    for x in (1, 40, 79):
        mask[20:62, x : x + 2] = True
    assert find_box(mask) is None


def test_a_digit_poking_out_of_its_box_to_the_picture_s_edge_leaves_the_box_whole():
    """A 9's tail crosses the box's bottom and runs off the picture: no side runs on to the
    edge, so the box is a box (its thick sides are too short to be found as lines)."""
    image = Image.new("L", (120, 100), PAPER_GREY)
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 40, 70, 97], outline=40, width=6)
    draw.line([(45, 60), (42, 99)], fill=40, width=5)
    box = find_box(np.asarray(image) < 128)
    assert box is not None
    drawn = [40, 92, 10, 65]  # the first px of each side across it
    assert all(abs(side.offset[0] - at) <= 1 for side, at in zip(box, drawn, strict=True))


def test_a_box_with_a_corner_on_the_picture_s_edge_is_found_whole():
    """A phone photo's box leaning so that its bottom-left corner reaches the picture's edge."""
    box = quadrilateral_box([(48, 24), (156, 30), (152, 186), (44, 198)], width=4)
    assert find_box(np.asarray(box) < 128) is not None


def test_lines_running_on_past_a_box_s_corner_to_the_edge_are_not_a_box():
    """Squared paper seen from outside closes round like a box, but its lines run on."""
    mask = np.zeros((100, 100), bool)
    for at in (10, 50, 90):
        mask[at : at + 2, :] = mask[:, at : at + 2] = True
    assert find_box(mask) is None


def test_a_box_s_sides_are_found_where_they_are_drawn_and_as_thick():
    """Each side's band starts at its first px and is as thick as the printer drew it, also
    the right side that a 1's stroke runs along inside the box: a band a px outward or a px
    thicker leaves a sliver of the side as ink, or eats the stroke along it."""
    mask = np.zeros((100, 100), bool)
    mask[20:80, 20:80] = True
    mask[24:76, 24:76] = False
    mask[26:74, 70:76] = True  # the 1, touching the right side
    box = find_box(mask)
    assert box is not None
    drawn = [(20, 24), (76, 80), (20, 24), (76, 80)]  # top, bottom, left, right
    assert [side.offset for side in box] == drawn
