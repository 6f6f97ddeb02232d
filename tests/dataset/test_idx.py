import struct

import numpy as np
import pytest

from digitflow.dataset.idx import (
    IdxFormatError,
    decode_idx,
    encode_idx,
    read_images,
    read_labels,
    write_idx_atomic,
)


@pytest.fixture
def images_u8():
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.fixture
def labels_u8():
    return np.array([0, 9, 3, 3, 7], dtype=np.uint8)


def test_images_round_trip_through_a_file(tmp_path, images_u8):
    write_idx_atomic(tmp_path / "images", images_u8)
    np.testing.assert_array_equal(read_images(tmp_path / "images"), images_u8)


def test_labels_round_trip_through_a_file(tmp_path, labels_u8):
    write_idx_atomic(tmp_path / "labels", labels_u8)
    np.testing.assert_array_equal(read_labels(tmp_path / "labels"), labels_u8)


def test_header_is_the_published_magic_number_and_big_endian_dims(images_u8, labels_u8):
    assert encode_idx(images_u8)[:16] == struct.pack(">IIII", 2051, 5, 28, 28)
    assert encode_idx(labels_u8)[:8] == struct.pack(">II", 2049, 5)


def test_empty_label_file_round_trips():
    empty = np.zeros(0, dtype=np.uint8)
    assert decode_idx(encode_idx(empty), "empty").shape == (0,)


def test_encoding_refuses_other_dtypes():
    with pytest.raises(ValueError, match="uint8"):
        encode_idx(np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda data: b"\x01" + data[1:], "bad magic number"),
        (lambda data: data[:2] + b"\x0d" + data[3:], "type code 0x0d"),
        (lambda data: data[:3] + b"\x00" + data[4:], "bad magic number"),
        (lambda data: data[:3], "too short"),
        (lambda data: data[:10], "truncated header"),
        (lambda data: data[:-1], "truncated: header shape"),
        (lambda data: data + b"\x00", "has trailing bytes"),
        (lambda data: data[:4] + struct.pack(">I", 6) + data[8:], "truncated: header shape"),
        (lambda data: data[:4] + struct.pack(">I", 4) + data[8:], "has trailing bytes"),
    ],
    ids=[
        "nonzero-first-byte",
        "float-type-code",
        "zero-dimensions",
        "shorter-than-magic",
        "header-cut",
        "data-cut",
        "extra-byte",
        "count-too-high",
        "count-too-low",
    ],
)
def test_malformed_image_files_are_rejected_naming_the_file(tmp_path, images_u8, mangle, message):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(mangle(encode_idx(images_u8)))
    with pytest.raises(IdxFormatError, match=message) as caught:
        read_images(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "shape", [(5, 28), (5, 28, 27), (5, 1, 28, 28)], ids=["2d", "not-28-wide", "4d"]
)
def test_images_with_wrong_dimensions_are_rejected(tmp_path, shape):
    path = tmp_path / "images"
    path.write_bytes(encode_idx(np.zeros(shape, dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match=r"must have shape \(n, 28, 28\)"):
        read_images(path)


def test_labels_with_two_dimensions_are_rejected(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(encode_idx(np.zeros((2, 2), dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match=r"must have shape \(n,\)"):
        read_labels(path)


def test_label_out_of_range_is_rejected_naming_its_index(tmp_path, labels_u8):
    labels_u8[3] = 10
    path = tmp_path / "labels"
    path.write_bytes(encode_idx(labels_u8))
    with pytest.raises(IdxFormatError, match="label 10 at index 3 is not a digit"):
        read_labels(path)


def test_missing_file_is_a_format_error_naming_it(tmp_path):
    with pytest.raises(IdxFormatError, match="absent.*cannot be read"):
        read_labels(tmp_path / "absent")
