"""The normalise stage's core: raw MNIST IDX files -> validated float32 arrays, features x
samples (784, m), scaled to [0, 1], with a validation split carved off the training set.

Layout of ``prepared_dir``: ``X_<split>.npy`` float32 (784, m) C-contiguous and ``y_<split>.npy``
uint8 (m,) for the splits train, val and test (val may have m = 0). Never pickled.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from digitflow.atomic import save_npy_atomic
from digitflow.dataset.idx import (
    IMAGE_SIDE,
    MNIST_FILE_NAMES,
    NUM_CLASSES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    IdxFormatError,
    read_images,
    read_labels,
)
from digitflow.dataset.md5sums import verify_md5sums
from digitflow.errors import DigitflowError, ParamsError
from digitflow.params import require

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")
NUM_FEATURES = IMAGE_SIDE * IMAGE_SIDE


@dataclass(frozen=True)
class NormaliseConfig:
    """The ``normalise`` section of params.yaml."""

    val_size: int = 5000
    """Training images held out for validation (0 allowed); must be below the training count."""
    seed: int = 0
    """Seed of the generator that picks the validation images."""

    def __post_init__(self) -> None:
        require(self.val_size >= 0, "normalise.val_size", f"must be >= 0, got {self.val_size}")
        require(self.seed >= 0, "normalise.seed", f"must be >= 0, got {self.seed}")


class PreparedDataError(DigitflowError):
    """A prepared array is missing or has the wrong shape/dtype; the message names the file."""


def normalise(raw_dir: Path, prepared_dir: Path, config: NormaliseConfig) -> dict[Split, int]:
    """Read the four IDX files in ``raw_dir``, write the six arrays to ``prepared_dir``, and
    return the number of samples in each split. Everything is validated before anything is
    written, starting with the md5s the download stage recorded."""
    raw_dir = Path(raw_dir)
    verify_md5sums(raw_dir, MNIST_FILE_NAMES)
    train_images, train_labels = read_pair(raw_dir / TRAIN_IMAGES, raw_dir / TRAIN_LABELS)
    test_images, test_labels = read_pair(raw_dir / TEST_IMAGES, raw_dir / TEST_LABELS)
    if config.val_size >= len(train_labels):
        raise ParamsError(
            "normalise.val_size",
            f"must be smaller than the {len(train_labels)} training images, got {config.val_size}",
        )
    train_index, val_index = split_indices(
        len(train_labels), config.val_size, np.random.default_rng(config.seed)
    )
    splits = {
        "train": (train_images[train_index], train_labels[train_index]),
        "val": (train_images[val_index], train_labels[val_index]),
        "test": (test_images, test_labels),
    }
    for split, (images_u8, labels_u8) in splits.items():
        save_npy_atomic(Path(prepared_dir) / f"X_{split}.npy", features_by_samples(images_u8))
        save_npy_atomic(Path(prepared_dir) / f"y_{split}.npy", labels_u8)
    return {split: len(labels) for split, (_, labels) in splits.items()}


def read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Validated uint8 images (n, 28, 28) and labels (n,) from an IDX file pair."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise IdxFormatError(
            str(labels_path),
            f"holds {len(labels)} labels but {images_path} has {len(images)} images",
        )
    return images, labels


def split_indices(
    count: int, val_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) indices into ``range(count)``: ``val_size`` picked at random, both sorted
    so each split keeps the original order."""
    order = rng.permutation(count)
    return np.sort(order[val_size:]), np.sort(order[:val_size])


def features_by_samples(images_u8: np.ndarray) -> np.ndarray:
    """uint8 (m, 28, 28) -> float32 (784, m) C-contiguous, pixel / 255 in [0, 1]."""
    X_784xm = images_u8.reshape(len(images_u8), NUM_FEATURES).T.astype(np.float32, order="C")
    np.divide(X_784xm, np.float32(255), out=X_784xm)
    return X_784xm


def load_prepared(prepared_dir: Path, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """``(X_784xm, y)`` of one split written by :func:`normalise`, shapes and dtypes checked."""
    X_784xm = _load_npy(Path(prepared_dir) / f"X_{split}.npy")
    y = _load_npy(Path(prepared_dir) / f"y_{split}.npy")
    if X_784xm.dtype != np.float32 or X_784xm.ndim != 2 or X_784xm.shape[0] != NUM_FEATURES:
        raise PreparedDataError(
            f"{prepared_dir}/X_{split}.npy: expected float32 (784, m), "
            f"got {X_784xm.dtype} {X_784xm.shape}"
        )
    if y.dtype != np.uint8 or y.shape != (X_784xm.shape[1],):
        raise PreparedDataError(
            f"{prepared_dir}/y_{split}.npy: expected uint8 ({X_784xm.shape[1]},) to match "
            f"X_{split}.npy, got {y.dtype} {y.shape}"
        )
    if y.size and y.max() >= NUM_CLASSES:
        raise PreparedDataError(f"{prepared_dir}/y_{split}.npy: label {y.max()} is not 0-9")
    return X_784xm, y


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise PreparedDataError(f"{path}: not found; run the normalise stage first") from exc
    except (OSError, ValueError) as exc:
        raise PreparedDataError(f"{path}: not a readable .npy array ({exc})") from exc
