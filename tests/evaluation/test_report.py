"""Pictures of predictions: sizes, title colours, worst-first ordering, identical bytes."""

import io

import numpy as np
import pytest
from PIL import Image

from digitflow.errors import ParamsError
from digitflow.evaluation.report import (
    COLUMNS,
    RIGHT_RGB,
    SCALE,
    WRONG_RGB,
    EvaluateConfig,
    Tile,
    digit_pixels,
    draw_grid,
    png_bytes,
    prediction_grid,
    worst_grid,
    worst_mistakes,
)
from digitflow.params import config_from_dict


def random_digits(m: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((784, m), dtype=np.float32)


def proba_from_confidences(predicted: list[int], confidences: list[float]) -> np.ndarray:
    """(10, m): ``confidences[i]`` on ``predicted[i]``, the rest spread evenly."""
    m = len(predicted)
    proba = np.repeat(((1 - np.array(confidences)) / 9)[None, :], 10, axis=0)
    proba[predicted, np.arange(m)] = confidences
    return proba.astype(np.float32)


def title_band(picture: Image.Image, column: int, n_columns: int) -> np.ndarray:
    """(h, w, 3) pixels of the title strip of the cell in ``column`` of the first row."""
    cell_w = picture.width // n_columns
    pixels = np.asarray(picture)
    return pixels[:20, column * cell_w : (column + 1) * cell_w].astype(int)


def has_colour(pixels: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    """True when some pixel is close to ``rgb`` (titles are anti-aliased against white)."""
    return bool((np.abs(pixels - np.array(rgb)).sum(axis=-1) < 60).any())


def test_digit_pixels_are_dark_ink_on_white_in_reading_order():
    X = np.zeros((784, 1), dtype=np.float32)
    X[1, 0] = 1.0  # row 0, column 1
    pixels = digit_pixels(X, 0)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert pixels[0, 1] == 0 and pixels[1, 0] == 255


def test_prediction_grid_is_five_rows_of_ten_upscaled_digits():
    y_true = np.arange(60) % 10
    picture = prediction_grid(random_digits(60), y_true, y_true, count=50)
    cell_w, cell_h = picture.width // COLUMNS, picture.height // 5
    assert picture.width == COLUMNS * cell_w and picture.height == 5 * cell_h
    assert cell_w >= 28 * SCALE and cell_h > 28 * SCALE


def test_prediction_grid_shows_all_samples_when_fewer_than_count():
    y = np.array([1, 2, 3])
    one = prediction_grid(random_digits(1), y[:1], y[:1], count=50)
    three = prediction_grid(random_digits(3), y, y, count=50)
    assert three.size == (3 * one.width, one.height)


def test_right_prediction_is_titled_green_and_wrong_one_red():
    picture = prediction_grid(random_digits(2), np.array([7, 3]), np.array([7, 5]), count=2)
    right, wrong = title_band(picture, 0, 2), title_band(picture, 1, 2)
    assert has_colour(right, RIGHT_RGB) and not has_colour(right, WRONG_RGB)
    assert has_colour(wrong, WRONG_RGB) and not has_colour(wrong, RIGHT_RGB)


def test_worst_mistakes_are_wrong_predictions_most_confident_first():
    y_true = np.array([0, 1, 2, 3, 4, 5])
    proba = proba_from_confidences([0, 2, 2, 9, 4, 6], [0.99, 0.5, 0.7, 0.95, 0.3, 0.7])
    assert worst_mistakes(proba, y_true, count=10).tolist() == [3, 5, 1]
    assert worst_mistakes(proba, y_true, count=2).tolist() == [3, 5]


def test_worst_mistakes_break_confidence_ties_by_sample_order():
    proba = proba_from_confidences([1, 1, 1], [0.8, 0.8, 0.8])
    assert worst_mistakes(proba, np.array([0, 0, 0]), count=3).tolist() == [0, 1, 2]


def test_worst_grid_has_one_red_titled_cell_per_mistake():
    y_true = np.array([0, 1, 2, 3])
    proba = proba_from_confidences([5, 1, 6, 3], [0.9, 0.9, 0.6, 0.9])
    picture = worst_grid(random_digits(4), proba, y_true, count=25)
    assert picture.width // 2 >= 28 * SCALE
    for column in (0, 1):
        band = title_band(picture, column, 2)
        assert has_colour(band, WRONG_RGB) and not has_colour(band, RIGHT_RGB)


def test_worst_grid_without_mistakes_is_a_small_note():
    y = np.array([4, 2])
    picture = worst_grid(random_digits(2), proba_from_confidences([4, 2], [0.9, 0.9]), y, 25)
    assert picture.height < 28 * SCALE


def test_titles_widen_cells_instead_of_overlapping():
    tiles = [Tile(np.zeros((28, 28), np.uint8), "0 (100.0%) / 8 and more words", WRONG_RGB)]
    assert draw_grid(tiles, empty_message="").width > 28 * SCALE + 100


def test_same_inputs_give_identical_png_bytes():
    y_true = np.arange(50) % 10
    proba = proba_from_confidences(((y_true + 1) % 10).tolist(), np.linspace(0.5, 0.9, 50).tolist())
    X = random_digits(50)
    first = png_bytes(worst_grid(X, proba, y_true, 25)) + png_bytes(
        prediction_grid(X, proba.argmax(0), y_true, 50)
    )
    second = png_bytes(worst_grid(X.copy(), proba.copy(), y_true.copy(), 25)) + png_bytes(
        prediction_grid(X.copy(), proba.argmax(0), y_true.copy(), 50)
    )
    assert first == second


def test_png_bytes_decode_to_the_same_picture():
    picture = prediction_grid(random_digits(3), np.array([1, 2, 3]), np.array([1, 2, 4]), 3)
    decoded = Image.open(io.BytesIO(png_bytes(picture)))
    assert decoded.format == "PNG" and decoded.size == picture.size
    assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(picture))


def test_evaluate_config_defaults():
    assert EvaluateConfig() == EvaluateConfig(grid_count=50, worst_count=25)


@pytest.mark.parametrize("key", ["grid_count", "worst_count"])
@pytest.mark.parametrize("value", [0, 1001])
def test_out_of_range_counts_name_the_key(key, value):
    with pytest.raises(ParamsError, match=f"evaluate.{key} must be between 1 and 1000"):
        config_from_dict("evaluate", {key: value}, EvaluateConfig)
