"""The summary JSON of one predict-folder run: what it read, with which model and version,
when, what became of the files, and the first failures.

It is a run record, not a DVC output: its times and speed change on every run.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from digitflow import __version__
from digitflow.batch.predictions_file import PredictionsWriter


def utc_now() -> str:
    """The time now, UTC, ISO 8601 to the second: ``2026-12-01T02:30:00Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RunTimes:
    started_at: str
    finished_at: str
    elapsed_s: float
    """Measured on the monotonic clock, not from the two wall-clock times."""


@dataclass(frozen=True)
class RunCounts:
    decoded: int
    """Files read this run, ok or not."""
    kept: int
    """Unchanged rows of the previous output (``--incremental``), ok or error rows."""
    failed_now: int
    """Files that failed in this run: what exit code 3 reports."""
    skipped_symlinks: int
    """Symlinks the walk did not follow (no ``--follow-symlinks``)."""


def run_summary(
    writer: PredictionsWriter,
    input_dir: str,
    model: str,
    counts: RunCounts,
    times: RunTimes,
    min_confidence: float,
) -> dict:
    """The run's summary. Every file is counted once: ``predicted`` (read now, not an
    error), ``failed_now`` (read now, an error row) or ``kept`` (an unchanged row of the
    previous output, ``--incremental``, error rows included); ``failed`` counts every error
    row of the CSV, kept ones included. ``decoded`` files were read this run and set the
    speed. ``by_status`` counts every status (uncertain and rejected rows are read files,
    not failures)."""
    failed = writer.by_status["error"]
    decoded, kept = counts.decoded, counts.kept
    return {
        "started_at": times.started_at,
        "finished_at": times.finished_at,
        "input_dir": input_dir,
        "model": model,
        "digitflow_version": __version__,
        "files_total": writer.files_total,
        "predicted": writer.files_total - kept - counts.failed_now,
        "kept": kept,
        "failed": failed,
        "failed_now": counts.failed_now,
        "skipped_symlinks": counts.skipped_symlinks,
        "by_status": writer.by_status,
        "min_confidence": min_confidence,
        "by_digit": writer.by_digit,
        "failed_files": writer.failed_files,
        "failed_files_not_listed": failed - len(writer.failed_files),
        "decoded": decoded,
        "elapsed_s": round(times.elapsed_s, 3),
        "images_per_s": round(decoded / times.elapsed_s, 1) if times.elapsed_s > 0 else 0.0,
    }
