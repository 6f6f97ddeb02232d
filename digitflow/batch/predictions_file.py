"""The predictions CSV: its columns, its rows, tallying them, reading the previous file back.

One row per file, sorted by ``path``. Every value is written as text formatted here (floats
with :data:`DECIMALS` places), so an unchanged file gives byte-identical output and rows
reused by an incremental run are copied exactly as they were read. The ``path`` and ``error``
cells are escaped by :mod:`digitflow.batch.csv_text`; a :data:`Row` holds them unescaped.
"""

import contextlib
import csv
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from digitflow.atomic import writing
from digitflow.batch.csv_text import escape_cell, unescape_cell
from digitflow.batch.folder_walk import FoundFile
from digitflow.errors import DigitflowError, one_line

DECIMALS = 6
NUM_DIGITS = 10
PROBABILITY_COLUMNS = tuple(f"p{d}" for d in range(NUM_DIGITS))
COLUMNS = (
    "path",
    "predicted",
    "confidence",
    *PROBABILITY_COLUMNS,
    "model",
    "size_bytes",
    "mtime_ns",
    "status",
    "error",
)
NUMBER_COLUMNS = (*COLUMNS, "digits", "digit_confidences")
"""Number mode (``--read number``): ``predicted`` holds the digits as a string, leading zeros
kept; ``confidence`` is the number's (the product of its digits', what ``--min-confidence``
is held against); p0..p9 are empty; then the count of digits and each digit's confidence,
``;``-separated."""
PATH, PREDICTED, CONFIDENCE, MODEL, SIZE, MTIME, STATUS, ERROR = (
    COLUMNS.index(c) for c in COLUMNS if c not in PROBABILITY_COLUMNS
)
TEXT_COLUMNS = (PATH, ERROR)
"""The cells that hold a file name or a message, escaped in the file."""
STATUSES = ("ok", "uncertain", "rejected", "error")
"""``ok``: a digit (or number), read with at least the minimum confidence. ``uncertain``:
read with less (the row keeps the prediction and the probabilities). ``rejected``: the
picture does not hold one handwritten digit (the row keeps what the network said; ``error``
says why). ``error``: the file could not be read. Only ``error`` is a failure."""
PREDICTED_STATUSES = STATUSES[:3]
DIGIT_LABELS = tuple(str(d) for d in range(NUM_DIGITS))
CSV_ENCODING = {"encoding": "utf-8"}
"""Strict: the escape leaves nothing in a cell that is not valid UTF-8."""

Row = tuple[str, ...]
"""One CSV row as text, in :data:`COLUMNS` (or :data:`NUMBER_COLUMNS`) order."""


def columns_for(read: str) -> tuple[str, ...]:
    """The CSV's columns for a read mode, "digit" or "number"."""
    return NUMBER_COLUMNS if read == "number" else COLUMNS


class PredictionsFileError(DigitflowError):
    """The previous predictions file cannot be updated incrementally."""


def predicted_rows(
    files: list[FoundFile],
    probs_10xm: np.ndarray,
    model: str,
    min_confidence: float,
    rejections: list[str],
) -> list[Row]:
    """Rows for decoded files; column j of ``probs_10xm`` belongs to ``files[j]``, and
    ``rejections[j]`` is why it is not one handwritten digit ("" when it is)."""
    predicted = probs_10xm.argmax(axis=0)
    confidence = probs_10xm.max(axis=0)
    probabilities = np.char.mod(f"%.{DECIMALS}f", probs_10xm.T.astype(np.float64))  # (m, 10)
    rows = []
    for j, found in enumerate(files):
        confidence_text = f"{float(confidence[j]):.{DECIMALS}f}"
        status, reason = decide(confidence_text, rejections[j], min_confidence)
        rows.append(
            (
                found.rel_path,
                str(int(predicted[j])),
                confidence_text,
                *probabilities[j].tolist(),
                *_file_cells(found, model, status, reason),
            )
        )
    return rows


def _file_cells(found: FoundFile, model: str, status: str, reason: str) -> tuple[str, ...]:
    """The cells after the probabilities: what read the file, the file's size and mtime (what
    ``--incremental`` compares), its status and the reason for it."""
    return model, str(found.size_bytes), str(found.mtime_ns), status, reason


def decide(confidence_text: str, rejection: str, min_confidence: float) -> tuple[str, str]:
    """Status and reason of a read picture. Decided on the confidence as the CSV holds it,
    so a row re-decided from the file (:func:`redecided`) gets the same answer."""
    if rejection:
        return "rejected", rejection
    if float(confidence_text) < min_confidence:
        return "uncertain", f"confidence {confidence_text} is below {min_confidence:g}"
    return "ok", ""


def redecided(row: Row, min_confidence: float) -> Row:
    """A kept row with its ``ok``/``uncertain`` status decided again for ``min_confidence``:
    a new threshold needs no decoding. Rejected rows stay rejected (that is not about
    confidence)."""
    if row[STATUS] not in ("ok", "uncertain"):
        return row
    status, reason = decide(row[CONFIDENCE], "", min_confidence)
    return (*row[:STATUS], status, reason, *row[ERROR + 1 :])  # number rows go on


def number_rows(
    files: list[FoundFile],
    probs: list[np.ndarray],
    model: str,
    min_confidence: float,
    rejections: list[str] | None = None,
) -> list[Row]:
    """Number-mode rows for decoded files; ``probs[j]`` (k, 10) holds the probabilities of
    the k digits of ``files[j]``, left to right. A number read with a confidence below
    ``min_confidence`` is ``uncertain``; a file with a reason in ``rejections`` is ``rejected``
    with it (and no confidence; its digits, if any were read, kept)."""
    rows = []
    rejections = rejections or [""] * len(files)
    for found, probs_kx10, rejection in zip(files, probs, rejections, strict=True):
        confidences = probs_kx10.max(axis=1).astype(np.float64)
        confidence_text = f"{float(np.prod(confidences)):.{DECIMALS}f}" if not rejection else ""
        status, reason = decide(confidence_text, rejection, min_confidence)
        rows.append(
            (
                found.rel_path,
                "".join(str(int(d)) for d in probs_kx10.argmax(axis=1)),
                confidence_text,
                *("",) * NUM_DIGITS,
                *_file_cells(found, model, status, reason),
                str(len(confidences)),
                ";".join(f"{c:.{DECIMALS}f}" for c in confidences),
            )
        )
    return rows


def error_row(found: FoundFile, message: str, model: str, read: str = "digit") -> Row:
    blanks = ("",) * (2 + NUM_DIGITS)  # predicted, confidence, p0..p9
    row = (
        found.rel_path,
        *blanks,
        model,
        str(found.size_bytes),
        str(found.mtime_ns),
        "error",
        one_line(message),
    )
    return row + ("",) * (len(columns_for(read)) - len(COLUMNS))


@contextlib.contextmanager
def csv_output(
    tmp: Path, destination: Path, failed_listed: int = 0, columns: tuple[str, ...] = COLUMNS
) -> Iterator["PredictionsWriter"]:
    """A :class:`PredictionsWriter` on ``tmp``; failing to open, write or close it (a full
    disk) is an ``OutputError`` naming ``destination``."""
    with writing(destination):
        # closed by hand below, so that a flush failing at close is reported too
        handle = open(tmp, "w", newline="", **CSV_ENCODING)  # noqa: SIM115
    try:
        yield PredictionsWriter(handle, destination, failed_listed, columns)
    except BaseException:
        with contextlib.suppress(OSError):
            handle.close()
        raise
    with writing(destination):
        handle.close()


class PredictionsWriter:
    """Append rows to an open CSV in chunks and tally them for the summary, keeping the
    first ``failed_listed`` error rows as ``{"path", "error"}``."""

    def __init__(
        self,
        handle: TextIO,
        destination: Path,
        failed_listed: int = 0,
        columns: tuple[str, ...] = COLUMNS,
    ):
        self.csv = csv.writer(handle, lineterminator="\n")
        self.destination = destination
        self.by_status = dict.fromkeys(STATUSES, 0)
        self.by_digit = dict.fromkeys(DIGIT_LABELS, 0)
        """Digits read, every digit of a number counted."""
        self.failed_listed = failed_listed
        self.failed_files: list[dict[str, str]] = []
        with writing(destination):
            self.csv.writerow(columns)

    def write(self, rows: list[Row]) -> None:
        with writing(self.destination):
            self.csv.writerows(_escaped(row) for row in rows)
        for row in rows:
            self.by_status[row[STATUS]] += 1
            if row[STATUS] == "ok":
                for digit in row[PREDICTED]:
                    self.by_digit[digit] += 1
            elif row[STATUS] == "error" and len(self.failed_files) < self.failed_listed:
                self.failed_files.append({"path": row[PATH], "error": row[ERROR]})

    @property
    def files_total(self) -> int:
        return sum(self.by_status.values())


def previous_rows(csv_path: Path, read: str = "digit") -> Generator[Row, None, None]:
    """Stream the rows of a predictions file written by :class:`PredictionsWriter`,
    checking columns, field counts, numbers, statuses and path order as they come.

    Read with :mod:`csv` rather than pandas: pandas quietly drops surplus fields of a first
    row, and a damaged file must be refused, not half-read.
    Raises :class:`PredictionsFileError` naming the file and the first problem found.
    """
    try:
        with open(csv_path, newline="", **CSV_ENCODING) as handle:
            yield from _checked_rows(csv.reader(handle), read)
    except (ValueError, csv.Error, OSError) as exc:  # UnicodeError is a ValueError
        raise PredictionsFileError(
            f"{csv_path} cannot be updated incrementally ({one_line(str(exc))}); "
            "delete it or run without incremental mode to rebuild it"
        ) from exc


def _escaped(row: Row) -> list[str]:
    cells = list(row)
    for column in TEXT_COLUMNS:
        cells[column] = escape_cell(cells[column])
    return cells


def _unescaped(fields: list[str]) -> Row:
    for column in TEXT_COLUMNS:
        if column < len(fields):
            fields[column] = unescape_cell(fields[column])
    return tuple(fields)


def _checked_rows(lines: Iterator[list[str]], read: str) -> Iterator[Row]:
    header = tuple(next(lines, ()))
    if header != columns_for(read):
        other = "number" if read == "digit" else "digit"
        made_by = f" (written with --read {other})" if header == columns_for(other) else ""
        raise ValueError(f"its columns are {', '.join(header) or 'missing'}{made_by}")
    last_path = None
    for line_number, fields in enumerate(lines, start=2):
        row = _unescaped(fields)
        _check_row(row, line_number, last_path, header)
        last_path = row[PATH]
        yield row


def _check_row(row: Row, line_number: int, last_path: str | None, header: Row) -> None:
    if len(row) != len(header):
        raise ValueError(f"line {line_number} has {len(row)} fields, not {len(header)}")
    path = row[PATH]
    if last_path is not None and path <= last_path:
        raise ValueError(f"line {line_number}: rows are not in path order at {path!r}")
    if not (row[SIZE].isdigit() and row[MTIME].isdigit()):
        raise ValueError(f"line {line_number}: size_bytes/mtime_ns are not whole numbers")
    if row[STATUS] not in STATUSES:
        raise ValueError(f"line {line_number}: status is {row[STATUS]!r}")
    number = header == NUMBER_COLUMNS
    predicted = row[PREDICTED]
    readable = predicted.isascii() and predicted.isdigit() if number else predicted in DIGIT_LABELS
    if row[STATUS] in PREDICTED_STATUSES and not readable:
        raise ValueError(f"line {line_number}: predicted is {predicted!r}")


def open_previous(
    csv_path: Path, retry_errors: bool = False, read: str = "digit"
) -> "PreviousRows":
    """Check the whole previous file first, so a damaged one fails the run before any
    work is done, then stream it again for the merge."""
    for _ in previous_rows(csv_path, read):
        pass
    return PreviousRows(previous_rows(csv_path, read), retry_errors)


class PreviousRows:
    """Merge-join the previous file's rows with the walk: both are sorted by path, so each
    previous row is read once and memory stays flat in the number of files."""

    def __init__(self, rows: Generator[Row, None, None], retry_errors: bool = False):
        self._rows = rows
        self._next = next(self._rows, None)
        self.retry_errors = retry_errors

    def reusable(self, found: FoundFile, model: str) -> Row | None:
        """The previous row of ``found`` if it came from the same bytes (size, mtime) and the
        same model; rows of files that are gone are skipped. An error row is kept too, so a
        known-bad file does not fail every night, unless ``retry_errors`` (its cause may be
        fixed without touching the file, e.g. permissions). A file the walk could not read
        keeps its row only while the walk finds the same problem."""
        while self._next is not None and self._next[PATH] < found.rel_path:
            self._next = next(self._rows, None)
        row = self._next
        if row is None or row[PATH] != found.rel_path:
            return None
        same = (
            row[MODEL] == model
            and row[SIZE] == str(found.size_bytes)
            and row[MTIME] == str(found.mtime_ns)
        )
        if not same:
            return None
        if row[STATUS] in PREDICTED_STATUSES:
            return None if found.problem else row
        if self.retry_errors:
            return None
        return row if row[ERROR] == (found.problem or row[ERROR]) else None

    def close(self) -> None:
        self._rows.close()
