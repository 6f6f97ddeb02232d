"""Reading a picture of a digit the way MNIST was made (digitflow.reading.images)."""

import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pictures import INK, PAPER, as_image, assert_same_digit, digit_ink, picture, reference
from PIL import Image, ImageFilter

from digitflow.reading.colour import grayscale_array
from digitflow.reading.images import (
    BrokenImage,
    EmptyImage,
    ImageTooLarge,
    NotAnImage,
    UnreadableFile,
    normalise_digit,
    open_image,
    read_digit,
)
from digitflow.reading.recipe import read_picture
from digitflow.reading.segment import SeveralDigits
from digitflow.synthetic.photos import ORIENTATION_TAG, draw_digit


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(digit.shape)
    return float((rows * digit).sum() / digit.sum()), float((cols * digit).sum() / digit.sum())


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def stroke_width(digit: np.ndarray) -> float:
    """Twice the area over the perimeter of the pixels above 0.5 (MNIST: 1.1 to 3.6 for 98%)."""
    mask = digit > 0.5
    return 2 * mask.sum() / (np.diff(mask, axis=0).sum() + np.diff(mask, axis=1).sum())


def save(image: Image.Image, path, fmt: str = "PNG", **options):
    image.save(path, fmt, **options)
    return path


# --- the MNIST geometry -----------------------------------------------------------------


@pytest.mark.parametrize("at", [(0, 0), (40, 60), (80, 120), (5, 115)])
def test_same_digit_anywhere_in_the_frame_gives_the_same_array(at):
    assert_same_digit(normalise_digit(as_image(picture(digit_ink(), at=at))), reference())


@pytest.mark.parametrize("size_px", [24, 48, 140])
def test_same_digit_at_any_size_gives_the_same_array(size_px):
    ink = digit_ink(size_px=size_px)
    canvas = (size_px * 2, size_px * 2 + 30)
    result = normalise_digit(as_image(picture(ink, canvas=canvas, at=(10, 20))))
    assert_same_digit(result, reference(), tolerance=0.05)


def test_light_ink_on_dark_gives_the_same_array_as_dark_on_light():
    light_on_dark = as_image(picture(digit_ink(), light_on_dark=True))
    assert_same_digit(normalise_digit(light_on_dark), reference())


def test_polarity_override_is_obeyed():
    image = as_image(picture(digit_ink()))
    assert np.array_equal(normalise_digit(image, "dark-on-light"), reference())
    assert np.abs(normalise_digit(image, "light-on-dark") - reference()).mean() > 0.05


@pytest.mark.parametrize("label", range(10))
def test_centre_of_mass_is_within_half_a_pixel_of_the_centre(label):
    digit = normalise_digit(as_image(picture(digit_ink(label), at=(10, 100))))
    row, col = centre_of_mass(digit)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


@pytest.mark.parametrize("label", [1, 4, 7])
def test_ink_fills_a_20_pixel_box_on_its_long_side(label):
    height, width = ink_box(normalise_digit(as_image(picture(digit_ink(label)))))
    assert max(height, width) == 20


@pytest.mark.parametrize("pen_fraction", [0.01, 0.1, 0.25], ids=["fine pen", "pen", "marker"])
def test_strokes_come_out_as_thick_as_mnist_pens(pen_fraction):
    ink = draw_digit(7, np.random.default_rng(0), 200, (pen_fraction, pen_fraction))
    digit = normalise_digit(as_image(picture(ink, canvas=(260, 300), at=(30, 50))))
    assert 1.1 <= stroke_width(digit) <= 3.6


def test_strongest_ink_maps_to_one_and_paper_to_zero():
    digit = reference()
    assert digit.max() == pytest.approx(1.0)
    assert digit.min() == 0.0
    assert (digit == 0).mean() > 0.5  # like MNIST: most of the frame is empty


def test_uneven_lighting_does_not_move_the_digit():
    rows, cols = np.mgrid[0:160, 0:200] / 200
    lighting = 1.0 - 0.7 * cols - 0.3 * (rows - 0.4) ** 2  # lamp on the left, vignetting
    assert_same_digit(
        normalise_digit(as_image(picture(digit_ink(), lighting=lighting))), reference()
    )


def test_paper_tint_and_noise_are_removed():
    rng = np.random.default_rng(0)
    gray = picture(digit_ink()) * 0.85 + rng.normal(0, 0.03, (160, 200))
    rgb = np.stack([gray, gray * 0.95, gray * 0.8], axis=2)  # yellowish paper
    image = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    assert_same_digit(normalise_digit(image), reference(), tolerance=0.04)


def test_specks_of_dirt_do_not_stretch_the_bounding_box():
    pixels = picture(digit_ink())
    for top, left in [(5, 5), (150, 8), (10, 190), (140, 185)]:
        pixels[top : top + 3, left : left + 3] = INK
    assert_same_digit(normalise_digit(as_image(pixels)), reference())


@pytest.mark.parametrize("light_on_dark", [False, True], ids=["ink on paper", "chalk on board"])
@pytest.mark.parametrize("label", [0, 8])
def test_a_bold_digit_filling_the_frame_is_read(label, light_on_dark):
    """Most grid cells hold ink then, and thick strokes cover whole cells: the polarity and
    the paper must still be found from what shows between and around them."""
    ink = draw_digit(label, np.random.default_rng(0), 90, (0.22, 0.22))
    noise = np.random.default_rng(1).normal(0, 0.02, (92, 100))
    filled = picture(ink, canvas=(92, 100), at=(1, 5), light_on_dark=light_on_dark) + noise
    roomy = picture(ink, canvas=(300, 320), at=(100, 120))
    assert_same_digit(normalise_digit(as_image(filled)), normalise_digit(as_image(roomy)), 0.04)


def test_a_soft_shadow_over_half_the_paper_is_not_ink():
    cols = np.arange(200) / 200
    shadow = 1 - 0.5 / (1 + np.exp(-(cols - 0.5) / 0.03))  # half as bright right of the middle
    pixels = picture(digit_ink(), lighting=np.broadcast_to(shadow, (160, 200)))
    assert_same_digit(normalise_digit(as_image(pixels)), reference())


def shadowed(label: int, edge_px: float, depth: float, tilt: float = 0.0) -> np.ndarray:
    """``picture(digit_ink(label))`` under a shadow, ``depth`` deep, beyond a soft edge
    ``edge_px`` from the left (its normal ``tilt`` radians from the rows)."""
    rows, cols = np.mgrid[0:160, 0:200].astype(np.float32)
    across = np.cos(tilt) * cols + np.sin(tilt) * rows
    return picture(digit_ink(label), lighting=1 - depth / (1 + np.exp(-(across - edge_px) / 3)))


@pytest.mark.parametrize("label", [1, 7])
@pytest.mark.parametrize(("edge_px", "tilt"), [(60, 0.0), (100, 0.6)])
def test_a_shadow_over_the_digit_does_not_turn_the_polarity(label, edge_px, tilt):
    """The lit strip beside a deep shadow strays further from a plane fitted to the
    shadowed edges than the ink does, but it does not stand out from its neighbourhood."""
    pixels = shadowed(label, edge_px, 0.5, tilt)
    assert read_picture(as_image(pixels)).polarity == "dark-on-light"


@pytest.mark.parametrize("label", [4, 7])
@pytest.mark.parametrize("edge_px", [120, 150])
def test_a_deep_shadow_beside_the_digit_is_paper(label, edge_px):
    """A shadow as dark as half the ink's contrast strays from the plane like ink, but it
    is no darker than the paper near it: its cells' paper is the shadow's."""
    expected = normalise_digit(as_image(picture(digit_ink(label))))
    assert_same_digit(normalise_digit(as_image(shadowed(label, edge_px, 0.5))), expected)


@pytest.mark.parametrize("desk", [0.15, 0.45], ids=["dark desk", "grey desk"])
def test_a_sheet_photographed_on_a_desk_is_read_like_the_sheet_alone(desk):
    sheet = picture(digit_ink())  # 160 x 200
    on_desk = np.full((300, 280), desk, dtype=np.float32)
    on_desk[90:250, 30:230] = sheet  # the desk shows on every side, more than the sheet's area
    assert_same_digit(normalise_digit(as_image(on_desk)), reference())


@pytest.mark.parametrize("tilt_deg", [-7.0, 4.0])
def test_a_turned_sheet_on_a_desk_is_read_like_the_sheet_alone(tilt_deg):
    """The desk shows in the corners of the sheet's box: it must become paper, not ink."""
    sheet = picture(digit_ink())  # 160 x 200
    on_desk = np.full((300, 280), 0.2, dtype=np.float32)
    on_desk[70:230, 40:240] = sheet

    def turned(pixels: np.ndarray, fill: float) -> Image.Image:
        return as_image(pixels).rotate(
            tilt_deg, Image.Resampling.BICUBIC, fillcolor=round(fill * 255)
        )

    alone = normalise_digit(turned(sheet, PAPER))
    assert_same_digit(normalise_digit(turned(on_desk, 0.2)), alone)


def test_a_bold_digit_along_the_sheet_s_edge_leaves_the_sheet_found():
    """A 7's bar touching the sheet's top over most of its width moves where the sheet seems
    to begin in most columns: the side is still straight once the ink is bridged, so the
    sheet is found (else the light sheet is taken for chalk on a dark board)."""
    ink = draw_digit(7, np.random.default_rng(0), 60, (0.22, 0.22))
    ink = ink[np.flatnonzero(ink.max(axis=1) > 0.5)[0] :]
    sheet = picture(ink, canvas=(100, 90), at=(0, 15))
    on_desk = np.full((140, 130), 0.25, dtype=np.float32)
    on_desk[20:120, 20:110] = sheet
    reading = read_picture(as_image(on_desk))
    assert reading.picture.sheet == (20, 120, 20, 110)
    assert reading.polarity == "dark-on-light"
    assert_same_digit(reading.digit, normalise_digit(as_image(sheet)), tolerance=0.05)


@pytest.mark.parametrize("gap_px", [1, 2])
def test_a_digit_at_the_sheet_s_edge_is_not_drawn_out_across_the_desk(gap_px):
    """Painting the desk over must not carry the ink near the sheet's edge out with it (a
    second mark, or a digit running off the picture)."""
    ink = digit_ink(4, 24)
    ink = ink[: np.flatnonzero(ink.max(axis=1) > 0.5)[-1] + 1]
    mid_sheet = normalise_digit(as_image(picture(ink, canvas=(46, 47), at=(8, 10))))
    sheet = picture(ink, canvas=(46, 47), at=(46 - gap_px - ink.shape[0], 10))
    on_desk = np.full((63, 63), 0.3, dtype=np.float32)
    on_desk[8:54, 6:53] = sheet
    photo = as_image(on_desk).filter(ImageFilter.GaussianBlur(0.8))  # the lens blurs the edge
    assert_same_digit(normalise_digit(photo), mid_sheet, tolerance=0.08)


def test_a_stroke_lifted_off_the_digit_is_kept():
    ink = digit_ink(5)
    rows = np.arange(ink.shape[0])[:, None]
    lifted = np.where((rows >= 18) & (rows < 22), 0.0, ink)  # the bar no longer touches the body
    whole = normalise_digit(as_image(picture(ink)))
    assert_same_digit(normalise_digit(as_image(picture(lifted))), whole, tolerance=0.05)


def test_large_photo_is_read_like_a_small_one():
    ink = np.asarray(Image.fromarray(digit_ink()).resize((1000, 1000)), dtype=np.float32)
    pixels = picture(ink, canvas=(2400, 3000), at=(700, 900))
    assert_same_digit(normalise_digit(as_image(pixels)), reference(), tolerance=0.05)


@pytest.mark.parametrize(
    "pixels",
    [
        np.full((64, 64), PAPER),
        np.random.default_rng(1).normal(PAPER, 0.03, (120, 90)),
        np.linspace(0.6, 0.95, 100)[None, :] * np.ones((80, 1)),
        np.zeros((30, 30)),
    ],
    ids=["white", "noisy paper", "lighting gradient", "black"],
)
def test_blank_picture_raises_empty_image(pixels):
    with pytest.raises(EmptyImage):
        normalise_digit(as_image(pixels))


def test_an_mnist_digit_is_its_own_normal_form():
    mnist_like = Image.fromarray(np.round(reference() * 255).astype(np.uint8))
    assert_same_digit(normalise_digit(mnist_like), reference(), tolerance=0.02)


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40))))
def test_any_picture_gives_a_digit_or_empty_image(pixels_u8):
    try:
        digit = normalise_digit(Image.fromarray(pixels_u8))
    except (EmptyImage, SeveralDigits):  # noise may look like several marks side by side
        return
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0


def test_normalise_digit_leaves_the_image_untouched():
    image = as_image(picture(digit_ink()))
    before = image.tobytes()
    normalise_digit(image)
    assert image.tobytes() == before and image.mode == "L"


# --- every image mode -------------------------------------------------------------------


def _in_mode(mode: str) -> Image.Image:
    gray = as_image(picture(digit_ink()))
    pixels_u8 = np.asarray(gray)
    if mode == "1":
        return gray.convert("1", dither=Image.Dither.NONE)
    if mode in ("P", "RGB", "CMYK", "YCbCr"):
        rgb = Image.merge("RGB", [gray, gray, gray.point(lambda v: v * 0.9)])
        return rgb.quantize(64) if mode == "P" else rgb.convert(mode)
    if mode == "P with transparency":  # paper is the transparent palette entry
        indices = np.where(pixels_u8 > 128, 0, 1).astype(np.uint8)
        image = Image.fromarray(indices, "P")
        image.putpalette([255, 0, 0, 20, 20, 20])  # a red paper that must not show
        image.info["transparency"] = 0
        return image
    if mode == "I;16":
        return Image.fromarray(pixels_u8.astype(np.uint16) * 257)
    if mode == "I;16B":
        pixels_u16 = (pixels_u8.astype(np.uint16) * 257).astype(">u2")
        return Image.frombytes("I;16B", gray.size, pixels_u16.tobytes())
    if mode == "I":
        return Image.fromarray(pixels_u8.astype(np.int32) * 1000 - 40_000)
    if mode == "F":
        return Image.fromarray(pixels_u8.astype(np.float32) / 255)
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return gray.convert(mode.replace("a", "A")).convert(mode)
    return gray.convert(mode)  # L, LA, RGBA, PA


@pytest.mark.parametrize(
    "mode",
    ["1", "L", "LA", "RGB", "RGBA", "P", "P with transparency", "PA", "La", "RGBa",
     "I;16", "I;16B", "I", "F", "CMYK", "YCbCr"],
)  # fmt: skip
def test_every_image_mode_gives_the_same_digit(mode):
    image = _in_mode(mode)
    assert image.mode == mode.split()[0]
    assert_same_digit(normalise_digit(image), reference(), tolerance=0.04)


def test_transparent_pixels_are_composited_on_white():
    coverage = digit_ink()
    rgba = np.zeros((*coverage.shape, 4), np.uint8)  # black everywhere...
    rgba[..., 3] = np.round(coverage * 255)  # ...but only the ink is opaque
    image = Image.fromarray(rgba)
    gray = grayscale_array(image)
    assert gray[0, 0] == 1.0 and gray.min() == 0.0
    assert_same_digit(normalise_digit(image), reference(), tolerance=0.04)


def test_float_image_outside_unit_range_is_stretched():
    pixels = picture(digit_ink()) * 4000 - 1000
    gray = grayscale_array(Image.fromarray(pixels.astype(np.float32)))
    assert gray.min() == pytest.approx(0) and gray.max() == pytest.approx(1)


def test_non_finite_pixels_of_a_float_image_are_ignored():
    pixels = picture(digit_ink()).astype(np.float32)
    pixels[0, :20] = np.nan
    pixels[-1, -20:] = np.inf
    assert_same_digit(normalise_digit(Image.fromarray(pixels)), reference())


# --- opening files ----------------------------------------------------------------------


def test_exif_orientation_is_applied(tmp_path):
    upright = as_image(picture(digit_ink(7), canvas=(120, 200)))
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6  # "turn 90° clockwise to view"
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    path = save(stored, tmp_path / "turned.jpg", "JPEG", quality=95, exif=exif.tobytes())
    image = open_image(path)
    assert image.size == upright.size
    assert_same_digit(normalise_digit(image), normalise_digit(upright))


@pytest.mark.parametrize("name", ["really_a_png.jpg", "no_extension", "UPPER.JPEG"])
def test_files_are_recognised_by_content_not_name(tmp_path, name):
    path = save(as_image(picture(digit_ink())), tmp_path / name, "PNG")
    assert open_image(path).format == "PNG"
    assert_same_digit(read_digit(path), reference())


def test_read_digit_is_open_image_then_normalise_digit(tmp_path):
    path = save(as_image(picture(digit_ink())), tmp_path / "four.png")
    assert np.array_equal(read_digit(path), reference())


def _truncated_png(tmp_path):
    buffer = io.BytesIO()
    as_image(np.random.default_rng(0).random((200, 200))).save(buffer, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def _truncated_jpeg(tmp_path):
    buffer = io.BytesIO()
    as_image(np.random.default_rng(0).random((200, 200))).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def _text_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are not the pixels you are looking for\n")
    return path


def _empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.touch()
    return path


@pytest.mark.parametrize(
    ("make_file", "error"),
    [
        (_text_file, NotAnImage),
        (_empty_file, NotAnImage),
        (_truncated_png, BrokenImage),
        (_truncated_jpeg, BrokenImage),
        (lambda tmp_path: tmp_path / "missing.png", UnreadableFile),
        (lambda tmp_path: tmp_path, UnreadableFile),
    ],
    ids=["not an image", "empty", "truncated png", "truncated jpeg", "missing", "a folder"],
)
def test_bad_file_raises_its_error_naming_the_file(tmp_path, make_file, error):
    path = make_file(tmp_path)
    with pytest.raises(error) as caught:
        read_digit(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message


@pytest.mark.parametrize("side_px", [40, 100], ids=["over the limit", "over twice the limit"])
def test_decompression_bomb_is_refused(tmp_path, monkeypatch, side_px):
    path = save(as_image(np.full((side_px, side_px), PAPER)), tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning leaks out either
        with pytest.raises(ImageTooLarge, match="bomb.png"):
            open_image(path)


def test_blank_file_raises_empty_image_naming_the_file(tmp_path):
    path = save(as_image(np.full((50, 50), PAPER)), tmp_path / "blank.png")
    with pytest.raises(EmptyImage, match="blank.png"):
        read_digit(path)
