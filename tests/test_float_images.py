"""float32 arrays to and from Pillow "F" images: the same pixels Image.fromarray and
np.asarray give."""

import numpy as np
from PIL import Image

from digitflow.float_images import float_image, float_pixels


def test_round_trip_keeps_every_pixel_and_the_shape():
    pixels = np.random.default_rng(0).random((7, 5), dtype=np.float32)
    image = float_image(pixels)
    assert image.mode == "F" and image.size == (5, 7)
    back = float_pixels(image)
    assert back.dtype == np.float32 and back.tobytes() == pixels.tobytes()


def test_a_strided_float64_view_is_what_fromarray_makes_of_it():
    pixels = np.random.default_rng(1).random((9, 12))[1:8:2, ::3]
    assert float_image(pixels).tobytes() == Image.fromarray(pixels).tobytes()


def test_pixels_are_read_only_like_asarray():
    back = float_pixels(float_image(np.zeros((3, 4), dtype=np.float32)))
    assert not back.flags.writeable
