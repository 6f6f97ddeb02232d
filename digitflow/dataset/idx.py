"""The IDX file format MNIST is stored in: encode, decode and read the four canonical files.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order. MNIST uses type 0x08
(unsigned byte) only: images are (n, 28, 28), labels (n,).
"""

import struct
from pathlib import Path

import numpy as np

from digitflow.atomic import write_bytes_atomic
from digitflow.errors import DigitflowError

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
MNIST_FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

UNSIGNED_BYTE = 0x08
IMAGE_SIDE = 28
NUM_CLASSES = 10


class IdxFormatError(DigitflowError):
    """A file is not a valid MNIST IDX file; the message names the file and the fault."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source


def encode_idx(array_u8: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array of any number of dimensions (1 for labels, 3 for images)."""
    if array_u8.dtype != np.uint8:
        raise ValueError(f"IDX encoding here is for uint8 arrays, got {array_u8.dtype}")
    header = bytes([0, 0, UNSIGNED_BYTE, array_u8.ndim])
    dims = struct.pack(f">{array_u8.ndim}I", *array_u8.shape)
    return header + dims + np.ascontiguousarray(array_u8).tobytes()


def decode_idx(data: bytes, source: str) -> np.ndarray:
    """Decode IDX bytes into a read-only uint8 array; ``source`` names the data in errors."""
    if len(data) < 4:
        raise IdxFormatError(source, f"too short for an IDX header ({len(data)} bytes)")
    zero1, zero2, type_code, ndim = data[:4]
    if zero1 or zero2 or ndim == 0:
        raise IdxFormatError(source, f"bad magic number 0x{data[:4].hex()}, not an IDX file")
    if type_code != UNSIGNED_BYTE:
        raise IdxFormatError(
            source, f"type code 0x{type_code:02x}; MNIST files hold unsigned bytes (0x08)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxFormatError(
            source, f"truncated header: {ndim} dimensions need {header_size} bytes"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = header_size + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise IdxFormatError(
            source, f"{problem}: header shape {shape} needs {expected} bytes, file has {len(data)}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def check_images(images: np.ndarray, source: str) -> np.ndarray:
    """Check a decoded array is a stack of 28x28 images, shape (n, 28, 28)."""
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise IdxFormatError(
            source, f"images must have shape (n, 28, 28), the header says {images.shape}"
        )
    return images


def check_labels(labels: np.ndarray, source: str) -> np.ndarray:
    """Check a decoded array is a vector of digit labels 0-9, shape (n,)."""
    if labels.ndim != 1:
        raise IdxFormatError(source, f"labels must have shape (n,), the header says {labels.shape}")
    if labels.size and labels.max() >= NUM_CLASSES:
        first_bad = int(np.argmax(labels >= NUM_CLASSES))
        raise IdxFormatError(
            source, f"label {labels[first_bad]} at index {first_bad} is not a digit 0-9"
        )
    return labels


def read_images(path: Path) -> np.ndarray:
    """Read an MNIST image file: uint8 (n, 28, 28)."""
    return check_images(decode_idx(_read(path), str(path)), str(path))


def read_labels(path: Path) -> np.ndarray:
    """Read an MNIST label file: uint8 (n,), every value 0-9."""
    return check_labels(decode_idx(_read(path), str(path)), str(path))


def write_idx_atomic(path: Path, array_u8: np.ndarray) -> None:
    write_bytes_atomic(path, encode_idx(array_u8))


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise IdxFormatError(str(path), f"cannot be read: {exc.strerror}") from exc
