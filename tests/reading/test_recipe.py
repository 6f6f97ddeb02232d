"""The reading recipe's record: what it found besides the 28×28 (digitflow.reading.recipe)."""

import numpy as np
from pictures import INK, PAPER, as_image, digit_ink, picture

from digitflow.reading.recipe import analyse, digit_from_group, read_picture


def test_reading_records_the_polarity_auto_decided():
    dark = read_picture(as_image(picture(digit_ink())))
    light = read_picture(as_image(picture(digit_ink(), light_on_dark=True)))
    assert (dark.polarity, light.polarity) == ("dark-on-light", "light-on-dark")


def test_reading_records_every_ink_group_and_which_form_the_digit():
    pixels = picture(digit_ink(label=1))
    pixels[5:8, 5:8] = INK  # a speck far from the digit
    reading = read_picture(as_image(pixels))
    assert len(reading.groups.masses) == len(reading.groups.boxes) == 2
    assert reading.groups.kept.tolist().count(True) == 1
    top, bottom, left, right = reading.digit_box
    assert top > 8 and left > 8  # the speck is not in the digit's box
    assert 0 < reading.coverage < 1


def test_a_blank_picture_reads_as_no_digit_and_no_groups():
    reading = read_picture(as_image(np.full((60, 60), PAPER)))
    assert reading.digit is None and reading.groups is None and reading.coverage == 0.0


def test_a_group_of_ink_is_read_as_a_single_digit_is():
    image = as_image(picture(digit_ink(label=3)))
    reading = read_picture(image)
    again = digit_from_group(analyse(image), reading.groups.digit)
    np.testing.assert_array_equal(again, reading.digit)
