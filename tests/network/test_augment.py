"""Shifts, rotations, slants, aspects, pens and elastic distortions of (batch, 784) digit
batches."""

import numpy as np
import pytest

from digitflow.network.augment import (
    Augmenter,
    Resampler,
    change_pen,
    gaussian_smoother,
    sample_bilinear,
    shift_images,
    slant_and_widen,
    turn_and_shift,
)
from digitflow.network.lanes import Lanes


def one_pixel_batch(row: int, col: int, batch: int = 1) -> np.ndarray:
    images = np.zeros((batch, 28, 28), dtype=np.float32)
    images[:, row, col] = 1.0
    return images.reshape(batch, 784)


def random_batch(batch: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((batch, 784), dtype=np.float32)


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (2, 0), (0, -3), (-1, 2)])
def test_shift_moves_a_pixel_down_and_right_by_the_offsets(dy, dx):
    shifted = shift_images(one_pixel_batch(10, 12), np.array([dy]), np.array([dx]))
    assert shifted.reshape(28, 28)[10 + dy, 12 + dx] == 1.0
    assert shifted.sum() == 1.0


def test_shift_drops_pixels_pushed_off_the_image_and_fills_zeros():
    images = np.ones((1, 784), dtype=np.float32)
    shifted = shift_images(images, np.array([2]), np.array([-1])).reshape(28, 28)
    assert not shifted[:2].any() and not shifted[:, -1:].any()
    assert shifted[2:, :-1].all()


def test_each_image_gets_its_own_shift():
    batch = one_pixel_batch(14, 14, batch=2)
    shifted = shift_images(batch, np.array([1, -2]), np.array([0, 3])).reshape(2, 28, 28)
    assert shifted[0, 15, 14] == 1.0 and shifted[1, 12, 17] == 1.0


def test_bilinear_sampling_at_pixel_centres_is_the_identity():
    X = random_batch(3)
    rows, cols = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    src_y = np.repeat(rows[None].astype(np.float32), 3, axis=0)
    src_x = np.repeat(cols[None].astype(np.float32), 3, axis=0)
    np.testing.assert_allclose(sample_bilinear(X, src_y, src_x), X, atol=1e-6)


def test_bilinear_sampling_halfway_averages_neighbours_and_is_zero_outside():
    X = one_pixel_batch(5, 5)
    src_y = np.full((1, 28, 28), 5.0, dtype=np.float32)
    src_x = np.full((1, 28, 28), 4.5, dtype=np.float32)
    src_x[0, 0, 0] = 40.0
    sampled = sample_bilinear(X, src_y, src_x).reshape(28, 28)
    assert sampled[1, 1] == pytest.approx(0.5)
    assert sampled[0, 0] == 0.0


def test_gaussian_smoother_rows_sum_to_one_away_from_the_border():
    smoother = gaussian_smoother(2.0)
    assert smoother.shape == (28, 28)
    assert smoother[14].sum() == pytest.approx(1.0, rel=1e-4)
    assert smoother[0].sum() < 0.6  # zeros beyond the border


@pytest.mark.parametrize(
    "options",
    [
        {"shift_px": 2},
        {"elastic_alpha": 34.0, "elastic_sigma": 4.0},
        {"shift_px": 1, "elastic_alpha": 8.0},
        {"rotate_deg": 15.0},
        {"shift_px": 1, "rotate_deg": 10.0, "elastic_alpha": 8.0},
        {"slant": 0.3},
        {"aspect": 0.2},
        {"pen": 0.5},
        {"shift_px": 1, "rotate_deg": 10.0, "slant": 0.3, "aspect": 0.2, "pen": 0.5},
    ],
)
def test_augmentation_keeps_shape_dtype_and_range_and_changes_images(options):
    X = random_batch()
    augmented = X.copy()
    Augmenter(**options)(augmented, np.random.default_rng(1))
    assert augmented.shape == X.shape and augmented.dtype == np.float32
    assert augmented.min() >= 0.0 and augmented.max() <= 1.0
    assert not np.array_equal(augmented, X)


def test_augmentation_is_determined_by_the_generator():
    first, second, other = random_batch(), random_batch(), random_batch()
    augmenter = Augmenter(shift_px=2, rotate_deg=10.0, elastic_alpha=34.0, elastic_sigma=4.0)
    augmenter(first, np.random.default_rng(7))
    augmenter(second, np.random.default_rng(7))
    augmenter(other, np.random.default_rng(8))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("batch", [1, 7, 128])
def test_two_lanes_augment_bit_identically_to_one(batch):
    options = {"shift_px": 2, "rotate_deg": 10.0, "elastic_alpha": 34.0, "slant": 0.3}
    options |= {"aspect": 0.2, "pen": 0.5}
    one, two = random_batch(batch), random_batch(batch)
    Augmenter(**options, lanes=Lanes(1))(one, np.random.default_rng(3))
    Augmenter(**options, lanes=Lanes(2))(two, np.random.default_rng(3))
    np.testing.assert_array_equal(one, two)


def test_shift_only_augmentation_moves_whole_pixels_within_range():
    X = one_pixel_batch(14, 14, batch=200)
    Augmenter(shift_px=2)(X, np.random.default_rng(3))
    images = X.reshape(200, 28, 28)
    assert (images.sum(axis=(1, 2)) == 1.0).all()
    rows, cols = np.nonzero(images)[1:]
    assert set(rows - 14) == {-2, -1, 0, 1, 2} and set(cols - 14) == {-2, -1, 0, 1, 2}


def bar_angles_deg(images: np.ndarray) -> np.ndarray:
    """Each image's ink direction from vertical in degrees, from its second moments
    (positive: the top leans right, i.e. the bar turned clockwise as displayed)."""
    rows, cols = np.indices((28, 28), dtype=np.float64)
    mass = images.sum(axis=(1, 2))
    y = (images * rows).sum(axis=(1, 2)) / mass
    x = (images * cols).sum(axis=(1, 2)) / mass
    dy, dx = rows - y[:, None, None], cols - x[:, None, None]
    syy, sxx = (images * dy**2).sum(axis=(1, 2)), (images * dx**2).sum(axis=(1, 2))
    sxy = (images * dx * dy).sum(axis=(1, 2))
    return -np.degrees(0.5 * np.arctan2(2 * sxy, syy - sxx))


def test_rotation_turns_each_image_by_up_to_the_limit_about_the_centre():
    bars = np.zeros((400, 28, 28), dtype=np.float32)
    bars[:, 6:22, 13:15] = 1.0  # a vertical bar through the frame's centre
    X = bars.reshape(400, 784)
    Augmenter(rotate_deg=15.0)(X, np.random.default_rng(5))
    images = X.reshape(400, 28, 28)
    angles = bar_angles_deg(images)
    assert np.abs(angles).max() <= 15.5
    assert angles.min() < -12 and angles.max() > 12  # both ways, out to the limit
    centre = np.array([(images[i] * np.indices((28, 28))).sum(axis=(1, 2)) for i in range(400)])
    np.testing.assert_allclose(centre / images.sum(axis=(1, 2))[:, None], 13.5, atol=0.1)
    np.testing.assert_allclose(images.sum(axis=(1, 2)), 32.0, rtol=0.02)  # ink is kept


def vertical_bars(batch: int, width: int = 2) -> np.ndarray:
    """(batch, 784): a bar ``width`` px wide and 16 tall through the frame's centre."""
    bars = np.zeros((batch, 28, 28), dtype=np.float32)
    left = 14 - width // 2
    bars[:, 6:22, left : left + width] = 1.0
    return bars.reshape(batch, 784)


def test_slant_leans_each_image_by_up_to_the_shear_keeping_its_rows():
    X = vertical_bars(400)
    Augmenter(slant=0.3)(X, np.random.default_rng(5))
    images = X.reshape(400, 28, 28)
    angles = bar_angles_deg(images)
    limit = np.degrees(np.arctan(0.3))
    assert np.abs(angles).max() <= limit + 0.5
    assert angles.min() < -limit + 3 and angles.max() > limit - 3  # both ways, to the limit
    np.testing.assert_allclose(images.sum(axis=2)[:, 6:22], 2.0, atol=0.02)  # rows keep ink
    assert not images[:, :6].any() and not images[:, 22:].any()


def test_a_positive_slant_leans_the_top_to_the_right():
    resampler = Resampler(1)
    maps = turn_and_shift(np.zeros(1), np.zeros(1), np.zeros(1))
    slant_and_widen(maps, np.array([0.3]), np.ones(1))
    leaned = resampler.sample(
        vertical_bars(1), resampler.affine_sources(maps), np.empty((1, 784), np.float32)
    )
    assert bar_angles_deg(leaned.reshape(1, 28, 28))[0] == pytest.approx(
        np.degrees(np.arctan(0.3)), abs=1.0
    )


def test_aspect_scales_each_image_s_width_by_up_to_the_share_keeping_its_height():
    X = vertical_bars(400, width=10)
    Augmenter(aspect=0.2)(X, np.random.default_rng(6))
    images = X.reshape(400, 28, 28)
    widths = images[:, 14].sum(axis=1)  # the ink across the middle row
    assert widths.min() == pytest.approx(8.0, abs=0.3) and widths.max() == pytest.approx(
        12.0, abs=0.3
    )
    assert (images.sum(axis=2)[:, 6:22] > 7.5).all() and not images[:, :6].any()


@pytest.mark.parametrize(("amount", "width"), [(1.0, 4.0), (0.5, 3.0), (0.0, 2.0)])
def test_a_bolder_pen_widens_a_bar_by_up_to_a_pixel_each_side(amount, width):
    X = vertical_bars(1, width=2)
    change_pen(X, np.array([amount], dtype=np.float32))
    image = X.reshape(28, 28)
    np.testing.assert_allclose(image[10].sum(), width)
    assert image[10, 13:15].min() == 1.0  # the stroke itself stays solid


@pytest.mark.parametrize(("amount", "width"), [(-1.0, 2.0), (-0.5, 3.0)])
def test_a_thinner_pen_narrows_a_bar_by_up_to_a_pixel_each_side(amount, width):
    X = vertical_bars(1, width=4)
    change_pen(X, np.array([amount], dtype=np.float32))
    np.testing.assert_allclose(X.reshape(28, 28)[10].sum(), width)


def test_pen_changes_are_per_image_and_only_the_pen_means_no_resampling():
    X = vertical_bars(300, width=4)
    augmenter = Augmenter(pen=1.0)
    assert augmenter.active and not augmenter.resamples
    augmenter(X, np.random.default_rng(2))
    widths = X.reshape(300, 28, 28)[:, 10].sum(axis=1)
    assert widths.min() < 2.2 and widths.max() > 5.8 and len(np.unique(widths)) > 100


def test_turned_sources_turn_clockwise_for_positive_angles():
    bar = np.zeros((1, 28, 28), dtype=np.float32)
    bar[0, 6:22, 13:15] = 1.0
    resampler = Resampler(1)
    src = resampler.affine_sources(turn_and_shift(np.radians([20.0]), np.zeros(1), np.zeros(1)))
    turned = resampler.sample(bar.reshape(1, 784), src, out=np.empty((1, 784), np.float32))
    assert bar_angles_deg(turned.reshape(1, 28, 28))[0] == pytest.approx(20.0, abs=1.0)


def test_shifted_sources_move_the_content_by_the_offsets():
    resampler = Resampler(2)
    src = resampler.affine_sources(turn_and_shift(np.zeros(2), np.array([2, 0]), np.array([0, -3])))
    moved = resampler.sample(
        one_pixel_batch(10, 12, batch=2), src, out=np.empty((2, 784), np.float32)
    )
    images = moved.reshape(2, 28, 28)
    assert images[0, 12, 12] == 1.0 and images[1, 10, 9] == 1.0
    assert images.sum() == 2.0


def test_resampler_reused_for_a_smaller_batch_reads_only_its_images():
    augmenter = Augmenter(rotate_deg=10.0)
    augmenter(random_batch(8), np.random.default_rng(0))
    small = one_pixel_batch(14, 14, batch=2)
    augmenter(small, np.random.default_rng(1))
    np.testing.assert_allclose(small.sum(axis=1), 1.0, rtol=0.05)


def test_elastic_fields_have_the_spread_and_smoothness_of_blurred_uniform_noise():
    rng = np.random.default_rng(4)
    field_y, field_x = Augmenter(elastic_alpha=34.0, elastic_sigma=4.0).displacement_fields(
        4000, rng
    )
    G = gaussian_smoother(4.0)
    uniform = rng.uniform(-1.0, 1.0, size=(4000, 28, 28))
    reference = 34.0 * (G @ uniform @ G.T)  # Simard et al.'s recipe, done in full
    for field in (field_y, field_x):
        np.testing.assert_allclose(field.std(axis=0), reference.std(axis=0), rtol=0.1)
        neighbours = np.corrcoef(field[:, 14, 14], field[:, 14, 16])[0, 1]
        assert neighbours == pytest.approx(
            np.corrcoef(reference[:, 14, 14], reference[:, 14, 16])[0, 1], abs=0.03
        )


def test_no_options_means_inactive():
    assert not Augmenter().active
    assert Augmenter(shift_px=1).active and Augmenter(elastic_alpha=1.0).active
    assert Augmenter(rotate_deg=5.0).active and Augmenter(slant=0.1).active
    assert Augmenter(aspect=0.1).active and Augmenter(pen=0.1).active
