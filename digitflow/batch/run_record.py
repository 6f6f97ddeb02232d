"""The summary JSON of one predict-folder run: what it read, with which model and version,
when, what became of the files, and the first failures.

It is a run record, not a DVC output: its times and speed change on every run.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


def run_summary(
    writer: PredictionsWriter,
    input_dir: Path,
    model: str,
    decoded: int,
    kept: int,
    times: RunTimes,
) -> dict:
    """The run's summary. Every file is counted once: ``predicted`` (read now), ``kept``
    (an unchanged row of the previous output, ``--incremental``) or ``failed`` (an error
    row); ``decoded`` files were read this run, ok or not, and set the speed."""
    failed = writer.by_status["error"]
    return {
        "started_at": times.started_at,
        "finished_at": times.finished_at,
        "input_dir": str(input_dir.resolve()),
        "model": model,
        "digitflow_version": __version__,
        "files_total": writer.files_total,
        "predicted": writer.by_status["ok"] - kept,  # kept rows are ok rows (never errors)
        "kept": kept,
        "failed": failed,
        "by_digit": writer.by_digit,
        "failed_files": writer.failed_files,
        "failed_files_not_listed": failed - len(writer.failed_files),
        "decoded": decoded,
        "elapsed_s": round(times.elapsed_s, 3),
        "images_per_s": round(decoded / times.elapsed_s, 1) if times.elapsed_s > 0 else 0.0,
    }
