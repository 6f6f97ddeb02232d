"""Batch prediction over a folder: walk it, have a backend read it in chunks, and stream one
CSV row per file, then a JSON summary.

Memory stays flat in the number of files: the walk is lazy, at most the backend's
``max_in_flight`` chunks of :data:`CHUNK_FILES` files are in flight, and each chunk's rows go
straight to a temporary file that replaces the output only when every row is written.
"""

import functools
import hashlib
import itertools
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from digitflow import atomic, errors, float_images, mnist_form
from digitflow.atomic import (
    atomic_paths,
    check_destination,
    json_text,
    make_folder,
    remove_stale_temporaries,
    through_symlink,
    write_bytes_atomic,
    writing,
)
from digitflow.batch import chunk_reading
from digitflow.batch.backends import Backend, ChunkKilledWorker, open_backend, read_isolating
from digitflow.batch.chunk_reading import Decoding
from digitflow.batch.filelock import hold_lock, lock_path_for
from digitflow.batch.folder_walk import DEBUG_MARKER, FoundFile, WalkStats
from digitflow.batch.inputs import open_input_folder
from digitflow.batch.predictions_file import (
    STATUS,
    PredictionsWriter,
    PreviousRows,
    Row,
    columns_for,
    csv_output,
    error_row,
    number_rows,
    open_previous,
    predicted_rows,
    redecided,
)
from digitflow.batch.review_sheet import review_sheet
from digitflow.batch.run_record import RunCounts, RunTimes, run_summary, utc_now
from digitflow.console import note, warn
from digitflow.network import digit_likeness, mlp, whole_digit
from digitflow.network.mlp import Network
from digitflow.network.model_io import load_network, network_fingerprint, stored_min_confidence
from digitflow.params import require
from digitflow.progress import count_progress, interactive
from digitflow.reading import images
from digitflow.reading.images import Polarity

ReadMode = Literal["digit", "number"]

CHUNK_FILES = 256
"""Files decoded per worker task and predicted per forward pass."""
READING_CODE: tuple[Path, ...] = (
    *sorted(Path(images.__file__).parent.glob("[!_]*.py")),
    *sorted(Path(mnist_form.__file__).parent.glob("[!_]*.py")),
    Path(errors.__file__),
    Path(atomic.__file__),
    Path(float_images.__file__),
    Path(mlp.__file__),
    Path(digit_likeness.__file__),
    Path(whole_digit.__file__),
    Path(chunk_reading.__file__),
)
"""The code that turns a file into probabilities and a status (every reading and mnist_form
module, mlp, the digit-likeness and whole-digit scores, the chunk reader that applies them,
and the errors, atomic writes and float images they import): rows made by another version of
it are stale, like rows made by other weights."""


@dataclass(frozen=True)
class PredictFolderConfig:
    """The ``predict_folder`` section of params.yaml."""

    input_dir: str = "examples/digits"
    """A local folder, or a URL fsspec reaches (``s3://bucket/prefix/``)."""
    patterns: tuple[str, ...] = ("**/*",)
    follow_symlinks: bool = False
    polarity: Polarity = "auto"
    jobs: int = 0
    """Decoding worker processes; 0 = one per available core, 1 = no worker processes."""
    failed_files_listed: int = 20
    """How many failed files the summary names, with their errors (all are in the CSV)."""
    read: ReadMode = "digit"
    """What a picture holds: one digit, or one number (a row of digits)."""
    max_digits: int = 12
    """Number mode: a picture with more marks than this is refused."""
    scheduler: str | None = None
    """A Dask scheduler's address (``tcp://host:8786``) to run the chunks on; None or
    ``local``: the local process pool."""
    min_confidence: float | Literal["auto"] = "auto"
    """Rows read with a lower calibrated confidence are ``uncertain``; ``auto``: the threshold
    train chose on the validation split and stored with the weights."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_dir", str(self.input_dir))  # a Path is welcome too
        require(self.jobs >= 0, "predict_folder.jobs", f"must be >= 0, got {self.jobs}")
        require(
            self.failed_files_listed >= 0,
            "predict_folder.failed_files_listed",
            f"must be >= 0, got {self.failed_files_listed}",
        )
        require(
            self.max_digits >= 1,
            "predict_folder.max_digits",
            f"must be >= 1, got {self.max_digits}",
        )
        require(bool(self.patterns), "predict_folder.patterns", "must list at least one glob")
        require(
            self.scheduler != "", "predict_folder.scheduler", "must be an address, local or null"
        )
        require(
            self.min_confidence == "auto" or 0 <= self.min_confidence <= 1,
            "predict_folder.min_confidence",
            f"must be auto or in [0, 1], got {self.min_confidence!r}",
        )


def predict_folder(
    config: PredictFolderConfig,
    model_path: Path,
    out_csv: Path,
    summary_json: Path,
    *,
    incremental: bool = False,
    retry_errors: bool = False,
    debug_dir: Path | None = None,
    lock_timeout_s: float = 0.0,
    review_html: Path | None = None,
) -> dict:
    """Predict every file under ``config.input_dir``; write ``out_csv`` and ``summary_json``
    (through them if they are symlinks), and the review sheet of the doubtful rows to
    ``review_html``.

    Returns the summary. Unreadable files become error rows; only a fatal problem raises,
    leaving both outputs untouched. The problems found before the work starts (input folder,
    model, an output path naming a folder, the Dask scheduler) create nothing at all.
    """
    folder = open_input_folder(config.input_dir)
    network, model_id, min_confidence = _load_model(
        model_path, config.min_confidence, reading_settings(config)
    )
    out_csv, summary_json = through_symlink(out_csv), through_symlink(summary_json)
    for destination in (out_csv, summary_json):
        check_destination(destination)
    workers = pool_size(config.jobs)
    lock_path = lock_path_for(out_csv)
    make_folder(lock_path.parent)
    with hold_lock(lock_path, lock_timeout_s, on_wait=note):
        locked_ns = lock_path.stat().st_mtime_ns
        for destination in (out_csv, summary_json):
            remove_stale_temporaries(destination, locked_ns)
        previous = (
            open_previous(out_csv, retry_errors, config.read)
            if incremental and out_csv.exists()
            else None
        )
        if debug_dir is not None:
            _mark_debug_dir(debug_dir)
        own_files = [out_csv, summary_json, lock_path]
        own_files += [path for path in (debug_dir, review_html) if path is not None]
        files = functools.partial(
            folder.walk,
            config.patterns,
            follow_symlinks=config.follow_symlinks,
            skip=own_files,
        )
        total = sum(1 for _ in files()) if interactive() else None
        started_at, started = utc_now(), time.perf_counter()
        batch = _Batch(model_id, min_confidence, config.read)
        decoding = Decoding(
            config.polarity, debug_dir, config.read, config.max_digits, folder.open_file
        )
        walk_stats = WalkStats()
        try:
            with atomic_paths(out_csv, summary_json) as (csv_tmp, summary_tmp):
                with (
                    csv_output(
                        csv_tmp, out_csv, config.failed_files_listed, columns_for(config.read)
                    ) as writer,
                    open_backend(config.scheduler, workers, network, decoding, model_id) as backend,
                ):
                    walk = files(on_skip=warn, stats=walk_stats)
                    batch.run(walk, previous, backend, writer, total)
                times = RunTimes(started_at, utc_now(), time.perf_counter() - started)
                counts = RunCounts(
                    batch.processed, batch.reused, batch.failed_now, walk_stats.skipped_symlinks
                )
                result = run_summary(
                    writer, folder.location, model_id, counts, times, min_confidence
                )
                with writing(summary_json):
                    summary_tmp.write_text(json_text(result), encoding="utf-8")
        finally:
            if previous is not None:
                previous.close()
        if review_html is not None:  # read back from the CSV now in place
            sheet = review_sheet(
                out_csv, folder.location, config.polarity, config.read, folder.open_file
            )
            write_bytes_atomic(review_html, sheet.encode())
    return result


def _mark_debug_dir(debug_dir: Path) -> None:
    """Leave the marker that makes every later walk skip these pictures."""
    marker = debug_dir / DEBUG_MARKER
    if not marker.exists():
        make_folder(debug_dir)
        with writing(marker):
            marker.write_text("debug pictures of digitflow predict-folder: never predicted\n")


def pool_size(jobs: int) -> int:
    """Decoding processes for ``jobs`` (0 = one per core), never more than the cores this
    process may run on: more would only add memory and chunks in flight."""
    cores = available_cores()
    if jobs > cores:
        warn(f"jobs {jobs} is more than the {cores} cores available: using {cores}")
    return min(jobs, cores) if jobs else cores


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _load_model(
    model_path: Path, min_confidence: float | str, settings: str = ""
) -> tuple[Network, str, float]:
    """The network, its predictor id and the minimum confidence of an ``ok`` row."""
    network, meta = load_network(model_path)
    if min_confidence == "auto":  # a model made before calibration marks nothing uncertain
        min_confidence = stored_min_confidence(model_path, meta) or 0.0
    return network, predictor_id(model_path, settings), float(min_confidence)


def reading_settings(config: PredictFolderConfig) -> str:
    """The settings besides the weights and the code that change what a file reads as (part
    of the predictor id): "" in digit mode, the mode and ``max_digits`` in number mode."""
    return f"read=number max_digits={config.max_digits}" if config.read == "number" else ""


def predictor_id(model_path: Path, settings: str = "") -> str:
    """16 hex digits identifying the weights file, the reading code (``READING_CODE``) and
    the reading ``settings``: the predictions' ``model`` column, which ``--incremental``
    compares."""
    digest = hashlib.sha256((network_fingerprint(model_path) + settings).encode())
    for path in READING_CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class _Batch:
    """Runs the chunks through a backend and turns its results into rows, keeping a bounded
    window of chunks in flight so workers stay busy while this process writes."""

    def __init__(self, model_id: str, min_confidence: float, read: ReadMode = "digit"):
        self.model_id = model_id
        self.min_confidence = min_confidence
        self.read = read
        self.processed = 0
        self.reused = 0
        self.failed_now = 0

    def run(
        self,
        files: Iterable[FoundFile],
        previous: PreviousRows | None,
        backend: Backend,
        writer: PredictionsWriter,
        total: int | None,
    ) -> None:
        pending: deque[tuple[list[FoundFile], list[Row | None], Future | None]] = deque()
        started = time.perf_counter()
        with count_progress() as progress:
            task = progress.add_task("predicting", total=total, status="")

            def finish_oldest() -> None:
                self._finish(*pending.popleft(), backend, writer)
                rate = self.processed / max(time.perf_counter() - started, 1e-9)
                progress.update(task, completed=writer.files_total, status=f"{rate:.0f} img/s")

            for chunk in _chunks(files, CHUNK_FILES):
                reusable = [
                    previous.reusable(f, self.model_id) if previous else None for f in chunk
                ]
                to_decode = [(f.path, f.rel_path) for f in _to_decode(chunk, reusable)]
                # A chunk with nothing to decode is never submitted: a nightly run that finds
                # no new files starts no work anywhere.
                pending.append((chunk, reusable, backend.submit(to_decode) if to_decode else None))
                # Write finished chunks as soon as possible; block only when the window is full.
                while pending and (len(pending) > backend.max_in_flight or _is_done(pending[0][2])):
                    finish_oldest()
            while pending:
                finish_oldest()

    def _finish(
        self,
        chunk: list[FoundFile],
        reusable: list[Row | None],
        reading: Future | None,
        backend: Backend,
        writer: PredictionsWriter,
    ) -> None:
        to_decode = _to_decode(chunk, reusable)
        try:
            probs, errors, rejections = backend.result(reading) if reading else (None, [], [])
        except ChunkKilledWorker:
            # Every chunk in flight may fail with the one that killed a worker: each is read
            # again on its own, and only a file that kills its worker alone gets an error.
            files = [(f.path, f.rel_path) for f in to_decode]
            probs, errors, rejections = read_isolating(files, backend.read_alone)
        decoded = iter(self._decoded_rows(to_decode, probs, errors, rejections))
        rows = []
        for found, row in zip(chunk, reusable, strict=True):
            if row is not None:  # kept: only its ok/uncertain status may change
                row = redecided(row, self.min_confidence)
            elif found.problem:
                row = error_row(found, found.problem, self.model_id, self.read)
            rows.append(row or next(decoded))
        writer.write(rows)
        reused = sum(row is not None for row in reusable)
        self.reused += reused
        self.processed += len(chunk) - reused
        self.failed_now += sum(
            row[STATUS] == "error" for row, kept in zip(rows, reusable, strict=True) if not kept
        )

    def _decoded_rows(
        self,
        files: list[FoundFile],
        probs: np.ndarray | list[np.ndarray] | None,
        errors: list[str],
        rejections: list[str],
    ) -> list[Row]:
        """Rows of the files a chunk read; ``rejections`` has one reason per file read."""
        ok = [found for found, error in zip(files, errors, strict=True) if not error]
        if not ok:
            predicted = iter([])
        elif self.read == "number":
            predicted = iter(number_rows(ok, probs, self.model_id, self.min_confidence, rejections))
        else:
            predicted = iter(
                predicted_rows(ok, probs, self.model_id, self.min_confidence, rejections)
            )
        return [
            error_row(found, error, self.model_id, self.read) if error else next(predicted)
            for found, error in zip(files, errors, strict=True)
        ]


def _is_done(reading: Future | None) -> bool:
    return reading is None or reading.done()


def _to_decode(chunk: list[FoundFile], reusable: list[Row | None]) -> list[FoundFile]:
    return [f for f, row in zip(chunk, reusable, strict=True) if row is None and not f.problem]


def _chunks(items: Iterable[FoundFile], size: int) -> Iterator[list[FoundFile]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
