"""The photo-like digit generator (synthetic.photos) and the committed examples it makes."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from digitflow.reading.images import normalise_digit, open_image, read_digit
from digitflow.synthetic.photos import (
    ORIENTATION_TAG,
    PHOTO_FORMATS,
    draw_digit,
    encode_photo,
    make_photo,
    write_photo,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO / "examples" / "digits"


def load_make_examples():
    spec = importlib.util.spec_from_file_location(
        "make_examples", REPO / "examples/make_examples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seven() -> np.ndarray:
    return draw_digit(7, np.random.default_rng(7), size_px=56)


def test_same_seed_gives_the_same_photo():
    first = make_photo(seven(), np.random.default_rng(3))
    second = make_photo(seven(), np.random.default_rng(3))
    assert first.tobytes() == second.tobytes()
    assert make_photo(seven(), np.random.default_rng(4)).tobytes() != first.tobytes()


@pytest.mark.parametrize("seed", range(5))
def test_canvas_size_stays_within_the_range(seed):
    photo = make_photo(seven(), np.random.default_rng(seed), canvas_px=(40, 90))
    assert photo.mode == "RGB"
    assert all(40 <= side <= 90 for side in photo.size)


def test_photo_is_dark_ink_on_lighter_paper():
    pixels = np.asarray(make_photo(seven(), np.random.default_rng(0)).convert("L"))
    assert np.median(pixels) > 150 and pixels.min() < 100


def test_light_on_dark_photo_is_chalk_on_a_board():
    photo = make_photo(seven(), np.random.default_rng(0), light_on_dark=True)
    pixels = np.asarray(photo.convert("L"))
    assert np.median(pixels) < 100 and pixels.max() > 150


def test_transparent_photo_has_clear_paper_and_opaque_ink():
    photo = make_photo(seven(), np.random.default_rng(0), transparent=True, max_blur_strokes=0)
    alpha = np.asarray(photo.getchannel("A"))
    assert photo.mode == "RGBA"
    assert alpha[0, 0] == 0 and alpha.max() == 255


def test_mnist_digit_as_uint8_is_accepted():
    digit_u8 = np.zeros((28, 28), np.uint8)
    digit_u8[4:24, 12:16] = 255  # a "1"
    photo = make_photo(digit_u8, np.random.default_rng(0))
    assert normalise_digit(photo)[4:24].sum() > 0


def test_photo_reads_back_as_its_digit():
    ink = seven()
    expected = normalise_digit(Image.fromarray(np.round(ink * 255).astype(np.uint8)))
    photo = make_photo(ink, np.random.default_rng(1), max_rotation_deg=0, max_blur_strokes=0)
    assert np.corrcoef(normalise_digit(photo).ravel(), expected.ravel())[0, 1] > 0.9


def test_desk_margin_shows_a_dark_desk_around_the_sheet_on_every_side():
    options = {"max_rotation_deg": 0, "max_blur_strokes": 0, "max_lighting": 0, "max_noise": 0}
    photo = make_photo(seven(), np.random.default_rng(1), desk_margin=0.2, **options)
    pixels = np.asarray(photo.convert("L"))
    assert all(edge.max() < 110 for edge in (pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]))
    assert pixels.max() > 180  # the sheet
    plain = make_photo(seven(), np.random.default_rng(1), **options)
    assert np.corrcoef(normalise_digit(photo).ravel(), normalise_digit(plain).ravel())[0, 1] > 0.9


@pytest.mark.parametrize(
    ("fmt", "pillow_format", "mode"),
    [
        ("jpeg", "JPEG", "RGB"),
        ("png", "PNG", "RGB"),
        ("webp", "WEBP", "RGB"),
        ("bmp", "BMP", "RGB"),
        ("tiff16", "TIFF", "I;16"),
        ("rgba_png", "PNG", "RGBA"),
        ("palette_gif", "GIF", "P"),
        ("exif_jpeg", "JPEG", "RGB"),
    ],
)
def test_each_format_is_stored_as_promised(fmt, pillow_format, mode):
    rng = np.random.default_rng(0)
    photo = make_photo(seven(), rng, transparent=fmt == "rgba_png")
    with Image.open(io.BytesIO(encode_photo(photo, fmt, rng))) as stored:
        assert (stored.format, stored.mode) == (pillow_format, mode)


def test_exif_photo_is_stored_turned_and_viewed_upright():
    rng = np.random.default_rng(0)
    photo = make_photo(seven(), rng, canvas_px=(60, 60))
    photo = photo.crop((0, 0, 60, 40))  # not square, so a quarter turn shows in the size
    with Image.open(io.BytesIO(encode_photo(photo, "exif_jpeg", rng))) as stored:
        orientation = stored.getexif()[ORIENTATION_TAG]
        upright = ImageOps.exif_transpose(stored)
    assert orientation in (3, 6, 8)
    assert upright.size == photo.size
    difference = np.abs(np.asarray(upright, np.int16) - np.asarray(photo, np.int16))
    assert difference.mean() < 8  # JPEG's loss only


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="tga"):
        encode_photo(Image.new("RGB", (8, 8)), "tga", np.random.default_rng(0))


@pytest.mark.parametrize("fmt", list(PHOTO_FORMATS))
def test_written_photo_of_every_format_reads_back_as_the_digit(tmp_path, fmt):
    rng = np.random.default_rng(2)
    path = write_photo(seven(), rng, tmp_path, "seven", fmt, max_rotation_deg=0)
    assert path == tmp_path / f"seven{PHOTO_FORMATS[fmt]}"
    upright_ink = normalise_digit(Image.fromarray(np.round(seven() * 255).astype(np.uint8)))
    assert np.corrcoef(read_digit(path).ravel(), upright_ink.ravel())[0, 1] > 0.85


def test_drawn_digit_is_ink_high_in_the_unit_range():
    ink = draw_digit(3, np.random.default_rng(0), size_px=64)
    assert ink.shape == (64, 64) and ink.dtype == np.float32
    assert ink.min() == 0.0 and ink.max() == 1.0
    assert 0.05 < ink.mean() < 0.4


def test_drawn_digits_differ_by_label_and_by_hand():
    rng = np.random.default_rng
    assert not np.array_equal(draw_digit(1, rng(0)), draw_digit(7, rng(0)))
    assert not np.array_equal(draw_digit(1, rng(0)), draw_digit(1, rng(1)))
    assert np.array_equal(draw_digit(1, rng(0)), draw_digit(1, rng(0)))


def test_make_examples_is_deterministic(tmp_path):
    make_examples = load_make_examples().make_examples
    first = make_examples(tmp_path / "first")
    second = make_examples(tmp_path / "second")
    assert [path.name for path in first] == [path.name for path in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))


def test_make_examples_covers_every_format_and_digit(tmp_path):
    module = load_make_examples()
    paths = module.make_examples(tmp_path)
    assert {fmt for _, fmt in module.EXAMPLES} == set(PHOTO_FORMATS)
    assert {module.label_of(path) for path in paths} == set(range(10))
    assert {open_image(path).format for path in paths} >= {"JPEG", "PNG", "WEBP", "BMP", "GIF"}


def test_committed_examples_are_small_readable_labelled_images():
    module = load_make_examples()
    paths = sorted(EXAMPLES_DIR.iterdir())
    assert len(paths) == len(module.EXAMPLES)
    assert sum(path.stat().st_size for path in paths) < 300_000
    for path in paths:
        assert 0 <= module.label_of(path) <= 9
        assert read_digit(path).max() == pytest.approx(1.0)
