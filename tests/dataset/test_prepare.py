import numpy as np
import pytest

from digitflow.dataset.idx import (
    MNIST_FILE_NAMES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    IdxFormatError,
    encode_idx,
)
from digitflow.dataset.md5sums import RawFileChanged, file_md5, write_md5sums
from digitflow.dataset.prepare import (
    NormaliseConfig,
    PreparedDataError,
    features_by_samples,
    load_prepared,
    normalise,
    split_indices,
)
from digitflow.errors import ParamsError


@pytest.fixture
def arrays():
    """Train: 20 images filled with their index, labelled index mod 10; test: 8 random."""
    rng = np.random.default_rng(1)
    return {
        TRAIN_IMAGES: np.broadcast_to(np.arange(20, dtype=np.uint8)[:, None, None], (20, 28, 28)),
        TRAIN_LABELS: (np.arange(20) % 10).astype(np.uint8),
        TEST_IMAGES: rng.integers(0, 256, size=(8, 28, 28), dtype=np.uint8),
        TEST_LABELS: rng.integers(0, 10, size=8, dtype=np.uint8),
    }


@pytest.fixture
def raw_dir(tmp_path, arrays):
    folder = tmp_path / "raw"
    folder.mkdir()
    for name, array in arrays.items():
        (folder / name).write_bytes(encode_idx(array))
    record_md5sums(folder)
    return folder


def record_md5sums(raw_dir):
    write_md5sums(raw_dir, {name: file_md5(raw_dir / name) for name in MNIST_FILE_NAMES})


def test_arrays_are_float32_features_by_samples_scaled_to_unit_range(tmp_path, raw_dir, arrays):
    normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=0))
    X_784xm, y = load_prepared(tmp_path / "out", "test")
    assert X_784xm.dtype == np.float32 and X_784xm.flags.c_contiguous
    assert X_784xm.shape == (784, 8)
    expected = arrays[TEST_IMAGES].reshape(8, 784).T.astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(X_784xm, expected)
    assert X_784xm.min() >= 0.0 and X_784xm.max() <= 1.0
    np.testing.assert_array_equal(y, arrays[TEST_LABELS])


def test_pixel_255_becomes_exactly_one_and_0_becomes_zero():
    images = np.array([[[0] * 28] * 27 + [[255] * 28]], dtype=np.uint8)
    column = features_by_samples(images)[:, 0]
    assert column[0] == 0.0 and column[-1] == 1.0


def original_index(X_784xm):
    """Each synthetic training image is filled with its own index (see the fixture)."""
    return list(np.rint(X_784xm[0] * 255).astype(int))


def test_validation_split_is_carved_off_training_in_original_order(tmp_path, raw_dir):
    counts = normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5, seed=3))
    assert counts == {"train": 15, "val": 5, "test": 8}
    X_train, y_train = load_prepared(tmp_path / "out", "train")
    X_val, y_val = load_prepared(tmp_path / "out", "val")
    train_index, val_index = original_index(X_train), original_index(X_val)
    assert len(val_index) == 5 and val_index == sorted(val_index)
    assert train_index == sorted(set(range(20)) - set(val_index))
    np.testing.assert_array_equal(y_train, np.array(train_index) % 10)
    np.testing.assert_array_equal(y_val, np.array(val_index) % 10)


def test_val_size_zero_keeps_every_training_image(tmp_path, raw_dir, arrays):
    normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=0))
    X_val, y_val = load_prepared(tmp_path / "out", "val")
    assert X_val.shape == (784, 0) and y_val.shape == (0,) and y_val.dtype == np.uint8
    np.testing.assert_array_equal(load_prepared(tmp_path / "out", "train")[1], arrays[TRAIN_LABELS])


def test_same_seed_gives_identical_files_and_another_seed_another_split(tmp_path, raw_dir):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        normalise(raw_dir, tmp_path / name, NormaliseConfig(val_size=5, seed=seed))
    for file_name in ("X_train.npy", "y_val.npy"):
        same = (tmp_path / "a" / file_name).read_bytes() == (
            tmp_path / "b" / file_name
        ).read_bytes()
        assert same
    assert not np.array_equal(
        load_prepared(tmp_path / "a", "val")[0], load_prepared(tmp_path / "c", "val")[0]
    )


def test_split_indices_are_disjoint_sorted_and_cover_everything():
    train_index, val_index = split_indices(50, 12, np.random.default_rng(0))
    assert len(val_index) == 12 and len(train_index) == 38
    assert list(val_index) == sorted(val_index) and list(train_index) == sorted(train_index)
    assert sorted([*train_index, *val_index]) == list(range(50))


def test_val_size_not_below_training_count_names_the_key(tmp_path, raw_dir):
    with pytest.raises(ParamsError, match="smaller than the 20 training images") as caught:
        normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=20))
    assert caught.value.key == "normalise.val_size"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("options", "key"), [({"val_size": -1}, "normalise.val_size"), ({"seed": -2}, "normalise.seed")]
)
def test_negative_config_values_name_the_key(options, key):
    with pytest.raises(ParamsError) as caught:
        NormaliseConfig(**options)
    assert caught.value.key == key


def bad_magic(name, arrays):
    return b"\x00\x00\x0d" + encode_idx(arrays[name])[3:]


@pytest.mark.parametrize(
    ("name", "make_bytes", "message"),
    [
        *[(name, bad_magic, "type code 0x0d") for name in MNIST_FILE_NAMES],
        (
            TRAIN_LABELS,
            lambda _, a: encode_idx(np.append(a[TRAIN_LABELS], 12).astype(np.uint8)),
            "label 12 at index 20 is not a digit",
        ),
        (
            TEST_LABELS,
            lambda _, a: encode_idx(a[TEST_LABELS][:7]),
            f"holds 7 labels but .*{TEST_IMAGES} has 8 images",
        ),
        (
            TRAIN_IMAGES,
            lambda _, a: encode_idx(a[TEST_IMAGES].reshape(8, 14, 56)),
            r"must have shape \(n, 28, 28\)",
        ),
        (TEST_IMAGES, lambda _, a: encode_idx(a[TEST_IMAGES])[:-5], "truncated"),
    ],
    ids=[
        *(f"bad-magic-{name}" for name in MNIST_FILE_NAMES),
        "label-12",
        "7-labels-8-images",
        "14x56-images",
        "truncated",
    ],
)
def test_invalid_raw_file_is_rejected_naming_it_and_nothing_is_written(
    tmp_path, raw_dir, arrays, name, make_bytes, message
):
    (raw_dir / name).write_bytes(make_bytes(name, arrays))
    record_md5sums(raw_dir)  # as if the download had served the bad file
    with pytest.raises(IdxFormatError, match=message) as caught:
        normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5))
    assert str(raw_dir / name) in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_missing_raw_file_is_rejected_naming_it(tmp_path, raw_dir):
    (raw_dir / TEST_LABELS).unlink()
    with pytest.raises(RawFileChanged, match=f"{TEST_LABELS}: not found"):
        normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5))


@pytest.mark.parametrize(
    ("file_name", "array", "message"),
    [
        ("X_test.npy", np.zeros((784, 8), dtype=np.float64), r"expected float32 \(784, m\)"),
        ("X_test.npy", np.zeros((8, 784), dtype=np.float32), r"expected float32 \(784, m\)"),
        ("y_test.npy", np.zeros(7, dtype=np.uint8), r"expected uint8 \(8,\)"),
        ("y_test.npy", np.zeros(8, dtype=np.int64), r"expected uint8 \(8,\)"),
        ("y_test.npy", np.full(8, 10, dtype=np.uint8), "label 10 is not 0-9"),
    ],
)
def test_load_prepared_rejects_wrong_shapes_and_dtypes(
    tmp_path, raw_dir, file_name, array, message
):
    normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5))
    np.save(tmp_path / "out" / file_name, array)
    with pytest.raises(PreparedDataError, match=message):
        load_prepared(tmp_path / "out", "test")


def test_load_prepared_never_unpickles(tmp_path, raw_dir):
    normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5))
    np.save(tmp_path / "out" / "y_val.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PreparedDataError, match="not a readable .npy"):
        load_prepared(tmp_path / "out", "val")


def test_load_prepared_names_a_missing_split(tmp_path):
    with pytest.raises(PreparedDataError, match="X_train.npy: not found; run the normalise stage"):
        load_prepared(tmp_path, "train")


def test_raw_file_changed_since_download_is_refused_before_anything_is_written(tmp_path, raw_dir):
    (raw_dir / TEST_LABELS).write_bytes(encode_idx(np.zeros(8, np.uint8)))
    with pytest.raises(RawFileChanged, match=f"{TEST_LABELS} has md5 .* recorded at download"):
        normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5))
    assert not (tmp_path / "out").exists()


def test_raw_folder_without_md5sums_is_refused(tmp_path, raw_dir):
    (raw_dir / "MD5SUMS").unlink()
    with pytest.raises(RawFileChanged, match="MD5SUMS: not found; the download stage writes it"):
        normalise(raw_dir, tmp_path / "out", NormaliseConfig(val_size=5))
