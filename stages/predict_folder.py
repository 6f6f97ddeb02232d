"""predict-folder stage: predict the digit in every image file under a folder.

Writes one CSV row per file and a JSON summary. DVC runs it on ``predict_folder.input_dir``
from params.yaml; people and cron run ``digitflow predict-folder`` on any folder.
"""

import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer

from digitflow.batch.predict import Polarity, PredictFolderConfig, ReadMode, predict_folder
from digitflow.console import note, reports_errors, warn
from digitflow.errors import EXIT_SOME_FILES_FAILED
from digitflow.options import command_app
from digitflow.params import load_section

DEFAULT_PARAMS = Path("params.yaml")

app = command_app()


@app.command()
@reports_errors
def main(
    out: Annotated[
        Path,
        typer.Option(
            help="Predictions CSV to write, one row per file. Required, so that a run by hand "
            "never overwrites the pipeline's own (data/predictions/predictions.csv, which DVC "
            "tracks).",
            show_default=False,
        ),
    ],
    input_dir: Annotated[
        str | None,
        typer.Argument(
            help="Folder to predict, walked recursively: a path, or a URL such as "
            "s3://bucket/prefix/ (needs the matching extra, e.g. digitflow[s3]; credentials "
            "from the storage library's usual settings) (default: predict_folder.input_dir).",
            show_default=False,
        ),
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            help="Params file whose `predict_folder` section gives INPUT_DIR, --pattern, "
            "--follow-symlinks, --polarity, --jobs, --read, --max-digits and --scheduler when "
            "they are not on the command line. "
            "(default: params.yaml if it exists, else built-in defaults)",
            show_default=False,
        ),
    ] = None,
    model: Annotated[Path, typer.Option(help="Trained weights.")] = Path("data/model/weights.npz"),
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Summary JSON of the run: counts, first failures, times, model, version "
            "(default: beside OUT, as NAME.summary.json).",
            show_default=False,
        ),
    ] = None,
    pattern: Annotated[
        list[str] | None,
        typer.Option(
            help="Glob on the path relative to INPUT_DIR; repeat for several. `*` stays within "
            "a folder, `**` spans folders: `*.png` is top level only, `**/*.png` any depth. "
            "Case-sensitive (default: predict_folder.patterns, built-in **/*).",
            show_default=False,
        ),
    ] = None,
    follow_symlinks: Annotated[
        bool | None,
        typer.Option(
            "--follow-symlinks/--no-follow-symlinks",
            help="Follow symlinked files and folders (loops are detected and skipped); "
            "without it symlinks are ignored (default: predict_folder.follow_symlinks).",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Decoding processes: 0 = all cores, 1 = no worker processes "
            "(default: predict_folder.jobs).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run the chunks on the Dask cluster whose scheduler is at this address "
            "(tcp://HOST:8786; needs digitflow[dask]); `local` for the local process pool "
            "(default: predict_folder.scheduler, else DASK_SCHEDULER_ADDRESS, else local).",
            show_default=False,
        ),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental/--no-incremental",
            help="Keep the rows of OUT whose file has the same size, mtime and model, error rows "
            "included; decode only new or changed files. Rows of deleted files are dropped.",
        ),
    ] = False,
    retry_errors: Annotated[
        bool,
        typer.Option(
            help="With --incremental, decode the files of earlier error rows again even if "
            "they are unchanged (say after fixing their permissions).",
        ),
    ] = False,
    polarity: Annotated[
        Polarity | None,
        typer.Option(
            help="Ink polarity; auto decides per image (default: predict_folder.polarity).",
            show_default=False,
        ),
    ] = None,
    read: Annotated[
        ReadMode | None,
        typer.Option(
            help="What each picture holds: one digit, or one number (a row of digits, read "
            "left to right; predicted holds the string) (default: predict_folder.read).",
            show_default=False,
        ),
    ] = None,
    max_digits: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Number mode: reject pictures with more marks than this "
            "(default: predict_folder.max_digits, built-in 12).",
            show_default=False,
        ),
    ] = None,
    debug_dir: Annotated[
        Path | None,
        typer.Option(
            help="Also save what the network saw as DEBUG_DIR/<relative path>.png (number "
            "mode: the cuts between the digits and each digit's 28x28)."
        ),
    ] = None,
    allow_file_errors: Annotated[
        bool,
        typer.Option(
            help="Exit 0 even when some files failed in this run (they still get error rows "
            "and are counted in the summary). dvc.yaml passes it: DVC fails a stage on any "
            "non-zero exit.",
        ),
    ] = False,
    min_confidence: Annotated[
        str | None,
        typer.Option(
            metavar="FLOAT|auto",
            help="Rows read with a lower calibrated confidence get status=uncertain (they keep "
            "the prediction); auto = the threshold stored with the model "
            "(default: predict_folder.min_confidence).",
            show_default=False,
        ),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(
            help="Also write a self-contained HTML page of the uncertain, rejected and error "
            "rows, worst first, with their pictures.",
        ),
    ] = None,
    lock_timeout: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds to wait for another run writing OUT (lock file OUT.lock); 0 = fail "
            "at once.",
        ),
    ] = 0.0,
) -> None:
    """Predict the digit (or, with --read number, the number) in every image file under
    INPUT_DIR into a CSV and a JSON summary.

    Files are recognised by content, not extension; hidden files and folders (names
    starting with a dot) and the run's own outputs are skipped. A file that cannot be read
    becomes a row with status=error and the batch goes on. A digit read with less than
    --min-confidence is status=uncertain; a picture that is not of one digit (several side
    by side, a line, a blot, ink cut by the edge) is status=rejected, its error cell says why.

    An option given on the command line wins over the params file, which wins over the
    built-in defaults.

    Exit codes: 0 = every file read or kept (uncertain and rejected rows are answers, not
    failures); 3 = some files could not be read in this run (their rows say why; both
    outputs written; 0 with --allow-file-errors; error rows kept unchanged by --incremental
    do not count); 1 = fatal, nothing written
    (input folder missing or unreadable, model missing or invalid, previous OUT damaged in
    incremental mode, an output that cannot be written, another run holding the lock past
    --lock-timeout, the Dask scheduler unreachable or lost, a storage or Dask extra
    not installed); 4 = OUT written but the summary could not be (it is stale); 2 = bad
    command line or params.
    """
    overrides = {
        "input_dir": input_dir,
        "patterns": tuple(pattern) if pattern else None,
        "follow_symlinks": follow_symlinks,
        "jobs": jobs,
        "polarity": polarity,
        "read": read,
        "max_digits": max_digits,
        "scheduler": scheduler,
        "min_confidence": _min_confidence(min_confidence),
    }
    config = _config(params, overrides)
    result = predict_folder(
        config,
        model,
        out,
        summary or summary_beside(out),
        incremental=incremental,
        retry_errors=retry_errors,
        debug_dir=debug_dir,
        lock_timeout_s=lock_timeout,
        review_html=review,
    )
    if result["files_total"] == 0:
        warn(f"no files under {config.input_dir} match {', '.join(config.patterns)}")
    failed, failed_now = result["failed"], result["failed_now"]
    read = ", ".join(f"{result['by_status'][s]} {s}" for s in ("ok", "uncertain", "rejected"))
    note(
        f"{result['files_total']} files -> {out}: {result['predicted']} predicted, "
        f"{result['kept']} kept, {failed} failed of which {failed_now} in this run; {read} "
        f"({result['images_per_s']:.0f} images/s)"
    )
    if result["skipped_symlinks"]:
        note(f"{result['skipped_symlinks']} symlinks not followed (--follow-symlinks reads them)")
    if review is not None:
        note(f"review sheet of the rows to check: {review}")
    if failed_now:
        warn(f"{failed_now} files failed in this run; see the rows with status=error in {out}")
        if not allow_file_errors:
            raise typer.Exit(EXIT_SOME_FILES_FAILED)


def summary_beside(out: Path) -> Path:
    """``predictions.csv`` -> ``predictions.summary.json`` in the same folder."""
    return out.with_name(f"{out.stem}.summary.json")


def _config(params: Path | None, overrides: dict) -> PredictFolderConfig:
    """The params file's settings, overridden by whatever the command line gave (None:
    not given); Dask's own DASK_SCHEDULER_ADDRESS comes last, before the local pool."""
    if params is None and not DEFAULT_PARAMS.exists():
        config = PredictFolderConfig()
    else:
        config = load_section(params or DEFAULT_PARAMS, "predict_folder", PredictFolderConfig)
    scheduler = (
        overrides["scheduler"] or config.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    )
    overrides = {**overrides, "scheduler": scheduler or None}
    return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})


def _min_confidence(text: str | None) -> float | str | None:
    """--min-confidence as given: "auto", a number in [0, 1], or None when absent."""
    if text is None or text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise typer.BadParameter(
            f"must be auto or a number in [0, 1], got {text!r}", param_hint="--min-confidence"
        )
    return value


if __name__ == "__main__":
    app()
