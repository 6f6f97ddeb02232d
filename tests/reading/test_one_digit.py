"""The reasons a picture is not one handwritten digit, each on a drawn example."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitflow.mnist_form.stroke import BILEVEL_CUT
from digitflow.reading.one_digit import (
    in_a_printed_box,
    ink_taken_with_lines,
    rejection,
    runs_off_edge,
    with_lines_put_back,
)
from digitflow.reading.recipe import read_picture


def sheet(width: int, height: int = 120) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (width, height), 225)
    return image, ImageDraw.Draw(image)


def seven(draw: ImageDraw.ImageDraw, left: float, top: float = 20, size: float = 80) -> None:
    corners = [(left + size * 0.1, top), (left + size * 0.6, top), (left + size * 0.25, top + size)]
    draw.line(corners, fill=30, width=10)


def one_seven() -> Image.Image:
    image, draw = sheet(120)
    seven(draw, 30)
    return image


def sevens_side_by_side(count: int) -> Image.Image:
    image, draw = sheet(40 + 100 * count)
    for i in range(count):
        seven(draw, 20 + 100 * i)
    return image


def ruled_line() -> Image.Image:
    image, draw = sheet(300)
    draw.line([(10, 60), (290, 62)], fill=30, width=6)
    return image


def blot() -> Image.Image:
    image, draw = sheet(120)
    draw.ellipse([30, 30, 90, 85], fill=40)
    return image


def seven_cut_by_the_edge() -> Image.Image:
    image, draw = sheet(120)
    seven(draw, 90)  # its bar's end and the top of its stem lie past the right edge
    return image


def bold_seven(stem_end: float) -> Image.Image:
    """A marker's 7 filling the picture, its stem ending at ``stem_end`` (the picture is 120
    px tall), blurred as a photo blurs."""
    image, draw = sheet(100)
    draw.line([(15, 14), (80, 14), (45, stem_end)], fill=30, width=18)
    return image.filter(ImageFilter.GaussianBlur(2))


def one_in_a_box_it_touches() -> Image.Image:
    """A form box the line search keeps: the 1 in it touches its top and bottom, and half
    of the box's left side is missing (so the box is not found as a whole)."""
    image, draw = sheet(120)
    draw.rectangle([42, 18, 78, 102], outline=60, width=7)
    draw.rectangle([35, 40, 49, 80], fill=225)  # the paper
    draw.line([(58, 22), (62, 98)], fill=30, width=8)
    return image


def seven_on_ruled_paper(bar_y: int, line_fill: int = 170) -> Image.Image:
    """A 7 on ruled lines (every 24 px from y = 10, light unless ``line_fill`` says), its bar
    at ``bar_y``."""
    image, draw = sheet(200, 160)
    for y in range(10, 160, 24):
        draw.line([(0, y), (200, y)], fill=line_fill, width=2)
    draw.line([(70, bar_y), (130, bar_y), (95, bar_y + 90)], fill=30, width=7)
    return image


def three_on_ruled_paper() -> Image.Image:
    """A 3 on ruled lines nearly as dark as its ink (a lighter line would keep the ink over
    it), its three bars each lying along a line's lower side: the line takes the top of each
    bar, and what shows below it is as wide as the 3's strokes, so nothing of the line's band
    is given back (``lines.strokes_along``)."""
    image, draw = sheet(200, 160)
    for y in range(7, 160, 24):
        draw.line([(0, y), (200, y)], fill=60, width=4)
    draw.line([(70, 34), (130, 34), (130, 82), (70, 82)], fill=30, width=7)
    draw.line([(85, 58), (130, 58)], fill=30, width=7)
    return image


def zero_with_a_gap() -> Image.Image:
    """A 0 drawn in two strokes: two groups, one above the other's columns."""
    image, draw = sheet(120)
    draw.arc([35, 20, 85, 100], 100, 260, fill=30, width=10)
    draw.arc([35, 20, 85, 100], 280, 80, fill=30, width=10)
    return image


def five_with_its_bar_apart() -> Image.Image:
    image, draw = sheet(120)
    draw.line([(45, 20), (85, 20)], fill=30, width=10)  # the bar, lifted off the body
    draw.line([(45, 32), (42, 55)], fill=30, width=10)
    draw.arc([35, 45, 85, 100], 200, 160, fill=30, width=10)
    return image


def straight_one() -> Image.Image:
    """A 1 as one straight stroke: its ink fills its own thin box."""
    image, draw = sheet(120)
    draw.rectangle([56, 20, 64, 100], fill=30)
    return image


@pytest.mark.parametrize(
    "picture",
    [
        one_seven,
        zero_with_a_gap,
        five_with_its_bar_apart,
        straight_one,
        lambda: seven_on_ruled_paper(46),  # its stem crosses lines: the crossings are kept
        # its bar lies on a line nearly as dark as the ink, and a third of its ink goes with
        # it: too little to turn it away here (the batch's put-back reading judges it)
        lambda: seven_on_ruled_paper(34, line_fill=90),
    ],
)
def test_one_digit_is_not_rejected(picture):
    assert rejection(read_picture(picture())) == ""


@pytest.mark.parametrize("count", [2, 3])
def test_digits_side_by_side_are_a_number(count):
    reason = rejection(read_picture(sevens_side_by_side(count)))
    assert reason == f"{count} digits side by side: use --read number"


@pytest.mark.parametrize(
    ("picture", "reason"),
    [
        (ruled_line, "a long thin line, not a digit"),
        (blot, "a solid blot of ink, not a digit"),
        (seven_cut_by_the_edge, "the ink runs off the picture's edge: the digit may be cut"),
        (one_in_a_box_it_touches, "a printed box is left around the digit"),
        (
            three_on_ruled_paper,
            "a printed line took some of the digit's ink with it: a stroke may be cut",
        ),
    ],
)
def test_each_reason_on_a_drawn_example(picture, reason):
    assert rejection(read_picture(picture())) == reason


def test_a_picture_without_ink_has_no_reason_here():
    assert rejection(read_picture(Image.new("L", (60, 60), 225))) == ""


def test_a_stroke_cut_by_the_edge_runs_off_it_and_a_touching_curve_does_not():
    cut = np.zeros((100, 100), bool)
    cut[10:60, 0:8] = True  # a vertical stroke whose left half is beyond the picture
    assert runs_off_edge(cut, cut.astype(np.float32))
    touching = np.zeros((100, 100), bool)
    yy, xx = np.mgrid[0:100, 0:100]
    ring = np.abs(np.hypot(yy - 40, xx - 29) - 26) < 4
    touching[ring] = True  # a 0 whose round side just reaches the left edge
    assert touching[:, 0].any() and not runs_off_edge(touching, touching.astype(np.float32))


def test_a_small_digit_at_the_edge_is_not_cut():
    small = np.zeros((100, 100), bool)
    small[10:20, 0:6] = True
    assert not runs_off_edge(small, small.astype(np.float32))


def test_a_bold_stroke_ending_at_the_edge_is_not_cut_and_one_cut_by_it_is():
    ending = read_picture(bold_seven(121))
    assert ending.groups.digit[-1].sum() >= ending.groups.digit[-3].sum()  # as wide there
    assert rejection(ending) == ""  # but only its blurred rim reaches the edge
    cut = "the ink runs off the picture's edge: the digit may be cut"
    assert rejection(read_picture(bold_seven(140))) == cut


def test_a_box_left_in_the_28x28_is_found_and_a_digit_filling_its_own_box_is_not():
    seven = np.zeros((28, 28), np.float32)
    seven[4, 8:20] = 1  # the bar fills the top of its box, the stem its right side
    seven[4:24, 18:20] = 1
    one = np.zeros((28, 28), np.float32)
    one[4:24, 12:16] = 1  # a 1 fills every side of its own thin box
    boxed = seven.copy()
    boxed[4:24, 6] = boxed[23, 6:20] = 1  # the box's left and bottom sides join them
    assert not in_a_printed_box(seven)
    assert not in_a_printed_box(one)
    assert in_a_printed_box(boxed)


def seven_in_a_box(bar_y: int) -> Image.Image:
    """A 7 in a form box whose top side runs at y = 20-24, the 7's bar at ``bar_y``."""
    image, draw = sheet(140, 140)
    draw.rectangle([20, 20, 120, 125], outline=40, width=5)
    draw.line([(40, bar_y), (95, bar_y), (60, 100)], fill=30, width=7)
    return image


def test_the_lines_near_the_digit_are_put_back_and_none_when_no_line_came_near():
    assert with_lines_put_back(read_picture(one_seven())) is None
    assert with_lines_put_back(read_picture(seven_in_a_box(bar_y=45))) is None
    reading = read_picture(seven_in_a_box(bar_y=22))  # the bar went out with the box's top
    put_back = with_lines_put_back(reading)
    ink = put_back.digit > BILEVEL_CUT
    assert ink.any() and not np.array_equal(ink, reading.digit > BILEVEL_CUT)
    assert put_back.ink_taken == ink_taken_with_lines(reading) > 0


def test_a_thin_line_left_in_that_runs_off_the_edge_cuts_nothing_and_a_stroke_beside_it_does():
    seven = np.zeros((100, 100), bool)
    seven[20:28, 30:70] = True  # the bar
    seven[28:80, 55:63] = True  # the stem
    with_line = seven.copy()
    with_line[50, :55] = True  # a ruled line left in, 1 px thick, from the stem to the edge
    assert not runs_off_edge(with_line, with_line.astype(np.float32))
    cut = with_line.copy()
    cut[20:28, 0:30] = True  # the bar itself runs off the edge, above the line
    assert runs_off_edge(cut, cut.astype(np.float32))


def test_a_box_is_found_when_the_digit_pokes_a_pixel_out_of_it():
    boxed_one = np.zeros((28, 28), np.float32)
    boxed_one[4, 10:17] = boxed_one[22, 10:17] = 1  # a narrow box's top and bottom
    boxed_one[4:23, 10] = boxed_one[4:23, 16] = 1  # and its sides
    boxed_one[6:24, 13] = 1  # a 1 whose foot pokes out below the box
    assert in_a_printed_box(boxed_one)


def test_a_box_too_narrow_for_three_sides_is_found_round_a_hollow_and_a_solid_one_is_not():
    narrow_box = np.zeros((28, 28), np.float32)
    narrow_box[4:6, 11:17] = narrow_box[22:24, 11:17] = 1  # a thick box 6 px wide round a 1
    narrow_box[4:24, 11:13] = narrow_box[4:24, 15:17] = 1  # the 1 inside it is faint
    narrow_box[6:22, 13:15] = BILEVEL_CUT / 2
    solid_one = np.zeros((28, 28), np.float32)
    solid_one[4:24, 11:17] = 1  # a bold 1 fills its own box
    assert in_a_printed_box(narrow_box)
    assert not in_a_printed_box(solid_one)
