"""Kaggle-style MNIST CSV pairs (mnist_train.csv / mnist_test.csv, columns label,1x1,...,28x28)
converted into the four IDX files, validated row by row."""

from pathlib import Path

import numpy as np
import pandas as pd

from digitflow.console import note
from digitflow.dataset.idx import (
    IMAGE_SIDE,
    NUM_CLASSES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    write_idx_atomic,
)
from digitflow.errors import DigitflowError

CSV_FILES = {
    "mnist_train.csv": (TRAIN_IMAGES, TRAIN_LABELS),
    "mnist_test.csv": (TEST_IMAGES, TEST_LABELS),
}
CSV_COLUMNS = [
    "label",
    *(f"{row}x{col}" for row in range(1, IMAGE_SIDE + 1) for col in range(1, IMAGE_SIDE + 1)),
]
CSV_HIGHEST = np.array([NUM_CLASSES - 1] + [255] * IMAGE_SIDE**2)  # per column: label, pixels


class CsvFormatError(DigitflowError):
    """A Kaggle-style MNIST CSV is missing or malformed; the message names the file."""


def convert_csv_pair(csv_dir: Path, out_dir: Path) -> None:
    """Convert ``mnist_train.csv`` and ``mnist_test.csv`` (columns label,1x1,...,28x28) into
    the four IDX files. Both files are validated before either is written."""
    converted = {csv_name: _read_csv(Path(csv_dir) / csv_name) for csv_name in CSV_FILES}
    for csv_name, (images_u8, labels_u8) in converted.items():
        images_name, labels_name = CSV_FILES[csv_name]
        write_idx_atomic(Path(out_dir) / images_name, images_u8)
        write_idx_atomic(Path(out_dir) / labels_name, labels_u8)
    note(
        f"converted the CSV pair in {csv_dir} (validated; not md5-checked, since CSV data "
        "need not be the published MNIST)"
    )


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, 28, 28) and labels (n,) from one CSV; line numbers in errors count
    the header as line 1."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError as exc:
        raise CsvFormatError(f"{path}: not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CsvFormatError(f"{path}: not a readable CSV ({exc})") from exc
    columns = [str(column) for column in frame.columns]
    if columns != CSV_COLUMNS:
        raise CsvFormatError(
            f"{path}: needs the {len(CSV_COLUMNS)} columns label,1x1,...,28x28; "
            + _first_column_difference(columns)
        )
    if frame.empty:
        raise CsvFormatError(f"{path}: has no data rows")
    not_integer = [c for c in columns if not pd.api.types.is_integer_dtype(frame[c])]
    if not_integer:
        raise CsvFormatError(f"{path}: column {not_integer[0]} holds values that are not integers")
    values = frame.to_numpy(dtype=np.int64)  # (n, 785): the label, then pixels row by row
    bad_rows, bad_columns = np.nonzero((values < 0) | (values > CSV_HIGHEST))
    if bad_rows.size:
        row, column = bad_rows[0], bad_columns[0]
        raise CsvFormatError(
            f"{path}: line {row + 2}, column {CSV_COLUMNS[column]} holds {values[row, column]}, "
            f"outside 0..{CSV_HIGHEST[column]}"
        )
    images_u8 = values[:, 1:].astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    return images_u8, values[:, 0].astype(np.uint8)


def _first_column_difference(columns: list[str]) -> str:
    for position, (found, wanted) in enumerate(zip(columns, CSV_COLUMNS, strict=False)):
        if found != wanted:
            return f"column {position + 1} is {found!r}, expected {wanted!r}"
    return f"found {len(columns)} columns"
