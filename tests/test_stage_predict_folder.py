"""The predict-folder command through Typer's runner: settings precedence and exit codes."""

import csv
import errno
import json
import os
from contextlib import ExitStack
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import make_folder, save_digit, save_model, save_number
from typer.testing import CliRunner

from digitflow import atomic
from digitflow.batch import backends, predict, predictions_file
from digitflow.batch.csv_text import unescape_cell
from digitflow.batch.filelock import hold_lock, lock_path_for
from digitflow.network.model_io import load_network, save_network
from digitflow.stages.predict_folder import app


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A working directory laid out like the repo: weights and an input folder."""
    monkeypatch.chdir(tmp_path)
    save_model(Path("weights.npz"), seed=0)
    make_folder(tmp_path / "photos", ["a.png", "b.png"])
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(
        app, ["--model", "weights.npz", "--out", "out.csv", "--summary", "summary.json", *args]
    )


def predicted_paths() -> list[str]:
    return list(pd.read_csv("out.csv", dtype=str)["path"])


def counts(summary: Path) -> tuple[int, int, int]:
    result = json.loads(summary.read_text())
    return result["predicted"], result["kept"], result["failed"]


def write_params(**section) -> None:
    Path("params.yaml").write_text(yaml.safe_dump({"predict_folder": section}))


def test_exit_code_0_when_every_file_is_predicted(project):
    result = invoke("photos", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert predicted_paths() == ["a.png", "b.png"]
    assert counts(Path("summary.json")) == (2, 0, 0)
    assert "2 files -> out.csv" in result.stderr


def test_exit_code_3_when_some_files_fail_with_both_outputs_written(project):
    (project / "photos" / "c.png").write_bytes(b"")
    result = invoke("photos", "--jobs", "1")
    assert result.exit_code == 3, result.output
    assert predicted_paths() == ["a.png", "b.png", "c.png"]
    assert counts(Path("summary.json")) == (2, 0, 1)
    assert "1 files failed in this run" in result.stderr


def test_allow_file_errors_exits_0_but_still_reports_them(project):
    (project / "photos" / "c.png").write_bytes(b"")
    result = invoke("photos", "--jobs", "1", "--allow-file-errors")
    assert result.exit_code == 0, result.output
    assert counts(Path("summary.json")) == (2, 0, 1)
    assert "1 files failed in this run" in result.stderr


def test_a_folder_without_matching_files_is_predicted_with_a_warning(project):
    result = invoke("photos", "--jobs", "1", "--pattern", "*.tif")
    assert result.exit_code == 0, result.output
    assert predicted_paths() == []
    assert "no files under photos match *.tif" in result.stderr


def hold_the_lock(other_run: ExitStack) -> None:
    other_run.enter_context(hold_lock(lock_path_for(Path("out.csv"))))


@pytest.mark.parametrize(
    ("arrange", "args", "message"),
    [
        (lambda _: Path("weights.npz").unlink(), ["photos"], "weights.npz: does not exist"),
        (lambda _: None, ["no-such-folder"], "input folder no-such-folder does not exist"),
        (hold_the_lock, ["photos"], "another run is in progress"),
        (
            lambda _: Path("out.csv").write_text("path\n"),
            ["photos", "--incremental"],
            "out.csv cannot be updated incrementally",
        ),
    ],
    ids=["missing-model", "missing-folder", "lock-held", "damaged-previous-output"],
)
def test_fatal_error_exits_1_with_one_line_and_writes_nothing(project, arrange, args, message):
    with ExitStack() as other_run:
        arrange(other_run)
        result = invoke(*args, "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not Path("summary.json").exists()


@pytest.mark.parametrize(
    ("params", "args"),
    [
        ({"jobs": -1}, []),
        ({"polarity": "sideways"}, []),
        ({"colour": "blue"}, []),
        ({}, ["--jobs", "-1"]),
        ({}, ["--polarity", "sideways"]),
    ],
)
def test_bad_params_or_command_line_exit_2(project, params, args):
    write_params(input_dir="photos", **params)
    result = invoke(*args)
    assert result.exit_code == 2, result.output


def test_settings_come_from_params_and_the_command_line_wins(project):
    make_folder(project / "other", ["x.png", "y.jpg"])
    write_params(input_dir="photos", patterns=["**/*"], jobs=1)
    assert invoke().exit_code == 0
    assert predicted_paths() == ["a.png", "b.png"]
    assert invoke("other").exit_code == 0
    assert predicted_paths() == ["x.png", "y.jpg"]
    assert invoke("other", "--pattern", "*.jpg").exit_code == 0
    assert predicted_paths() == ["y.jpg"]


def test_without_a_params_file_built_in_defaults_apply(project):
    make_folder(project / "examples" / "digits", ["seven.png"])
    result = invoke("--jobs", "1")
    assert result.exit_code == 0, result.output
    assert predicted_paths() == ["seven.png"]


def test_explicit_params_file_must_exist(project):
    result = invoke("--params", "missing.yaml")
    assert result.exit_code == 2
    assert "missing.yaml cannot be read" in result.stderr


def test_help_documents_exit_codes_and_precedence():
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert (
        "Exit codes: 0 = every file read or kept (uncertain and rejected rows are answers, "
        "not failures); 3 = some files could not be read in this run" in text
    )
    assert "1 = fatal" in text and "2 = bad command line or params" in text
    assert "An option given on the command line wins over the params file" in text


def test_model_holding_nan_is_refused_with_one_line_naming_the_array(project):
    network, meta = load_network(Path("weights.npz"))
    network.weights[0][0, 0] = float("nan")
    save_network(Path("weights.npz"), network, meta)
    result = invoke("photos", "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert "weights.npz: has 1 NaN or infinite values in W0; retrain" in result.stderr
    assert not Path("out.csv").exists()


def test_a_run_by_hand_must_name_its_output(project):
    result = CliRunner().invoke(app, ["photos", "--model", "weights.npz"])
    assert result.exit_code == 2
    assert "Missing option '--out'" in result.output
    assert sorted(p.name for p in project.iterdir()) == ["photos", "weights.npz"]


def test_summary_lands_beside_the_csv_unless_named(project):
    result = CliRunner().invoke(app, ["photos", "--model", "weights.npz", "--out", "o/p.csv"])
    assert result.exit_code == 0, result.output
    assert counts(project / "o" / "p.summary.json") == (2, 0, 0)


def test_summary_line_says_predicted_kept_failed(project):
    (project / "photos" / "bad.png").write_text("not a picture")
    invoke("photos", "--jobs", "1", "--incremental")
    result = invoke("photos", "--jobs", "1", "--incremental")
    assert "3 files -> out.csv: 0 predicted, 3 kept, 1 failed of which 0 in this run" in (
        result.output
    )


def rows_by_csv_module(path: str = "out.csv") -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:  # strict: the file is valid UTF-8
        return list(csv.reader(handle))


POSIX_NAMES = [
    "x\ry.png",
    "new\nline.png",
    "tab\there.png",
    'quo"te.png',
    "com,ma.png",
    "back\\slash.png",
    "caf\u00e9.png",
    os.fsdecode(b"latin1-\xe9\xff.png"),
]


def test_any_posix_file_name_round_trips_through_the_csv_and_incremental_runs(project):
    for name in POSIX_NAMES:
        save_digit(project / "photos" / name)
    assert invoke("photos", "--jobs", "1", "--incremental").exit_code == 0
    again = invoke("photos", "--jobs", "1", "--incremental")
    assert again.exit_code == 0, again.output
    assert json.loads(Path("summary.json").read_text())["kept"] == len(POSIX_NAMES) + 2
    lines = Path("out.csv").read_bytes().decode("utf-8").split("\n")
    assert len(lines) == len(POSIX_NAMES) + 2 + 2  # header, rows, and the final newline
    cells = [row[0] for row in rows_by_csv_module()[1:]]
    assert sorted(unescape_cell(c) for c in cells) == sorted([*POSIX_NAMES, "a.png", "b.png"])
    assert os.fsencode(unescape_cell(cells[-1])) == b"x\ry.png"
    assert "latin1-\\xe9\\xff.png" in cells and "back\\\\slash.png" in cells
    assert len(pd.read_csv("out.csv", dtype=str)) == len(POSIX_NAMES) + 2


FORMULA_NAMES = ["=1+2.png", "+sum.png", "-minus.png", "@at.png", "\tTAB.png", "\rCR.png", "'q.png"]


def test_no_csv_cell_starts_like_a_spreadsheet_formula(project):
    for name in FORMULA_NAMES:
        save_digit(project / "photos" / name)
    (project / "photos" / "=bad.png").write_text("=HYPERLINK(evil)")
    assert invoke("photos", "--jobs", "1").exit_code == 3
    table = rows_by_csv_module()
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row
    )
    paths = {unescape_cell(row[0]) for row in table[1:]}
    assert paths == {*FORMULA_NAMES, "=bad.png", "a.png", "b.png"}
    assert "'=1+2.png" in {row[0] for row in table}  # the one quote a program drops


def test_known_bad_file_fails_its_first_run_only_until_retry_errors(project):
    (project / "photos" / "c.png").write_bytes(b"")
    assert invoke("photos", "--jobs", "1", "--incremental").exit_code == 3
    kept = invoke("photos", "--jobs", "1", "--incremental")
    assert kept.exit_code == 0, kept.output
    summary = json.loads(Path("summary.json").read_text())
    assert (summary["failed_now"], summary["failed"]) == (0, 1)
    assert "1 failed of which 0 in this run" in kept.stderr
    retried = invoke("photos", "--jobs", "1", "--incremental", "--retry-errors")
    assert retried.exit_code == 3
    assert json.loads(Path("summary.json").read_text())["failed_now"] == 1


def test_missing_model_creates_no_output_folder_or_lock(project):
    result = invoke("photos", "--jobs", "1", "--model", "missing.npz", "--out", "new/out.csv")
    assert result.exit_code == 1
    assert "missing.npz: does not exist" in result.stderr
    assert not Path("new").exists()


def no_space_left(monkeypatch) -> None:
    def full_disk(row):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(predictions_file, "_escaped", full_disk)


def read_only_folder(monkeypatch) -> None:
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)


@pytest.mark.parametrize(
    ("arrange", "out", "message"),
    [
        (lambda _: Path("out.csv").mkdir(), "out.csv", "cannot write out.csv: it is a folder"),
        (lambda _: Path("blocker").write_text("x"), "blocker/out.csv", "cannot write blocker"),
        (read_only_folder, "out.csv", "cannot write out.csv: Permission denied"),
        (no_space_left, "out.csv", "cannot write out.csv: No space left on device"),
    ],
    ids=["out-is-a-folder", "file-instead-of-folder", "read-only-folder", "full-disk"],
)
def test_output_that_cannot_be_written_is_one_line_and_leaves_nothing(
    project, monkeypatch, arrange, out, message
):
    arrange(monkeypatch)
    result = invoke("photos", "--jobs", "1", "--out", out)
    assert result.exit_code == 1, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert not Path("summary.json").exists()
    assert not [p for p in project.rglob(".*.tmp")]


def test_summary_that_cannot_replace_its_file_after_the_csv_says_so_with_exit_4(
    project, monkeypatch
):
    real_replace = os.replace

    def summary_refused(source, destination):
        if Path(destination).name == "summary.json":
            raise PermissionError(errno.EACCES, "Permission denied")
        real_replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", summary_refused)
    result = invoke("photos", "--jobs", "1")
    assert result.exit_code == 4, result.output
    assert "out.csv written, but summary.json could not be (Permission denied)" in result.stderr
    assert "stale" in result.stderr
    assert predicted_paths() == ["a.png", "b.png"]


def test_out_that_is_a_symlink_is_written_through(project):
    Path("kept").mkdir()
    Path("link.csv").symlink_to("kept/predictions.csv")
    result = invoke("photos", "--jobs", "1", "--out", "link.csv")
    assert result.exit_code == 0, result.output
    assert Path("link.csv").is_symlink()
    assert list(pd.read_csv("kept/predictions.csv")["path"]) == ["a.png", "b.png"]


def test_jobs_beyond_the_cores_available_are_capped_with_one_warning(project, monkeypatch):
    started = []
    real_local_pool = backends.LocalPool

    def record_pool(workers, network, decoding):
        started.append(workers)
        return real_local_pool(1, network, decoding)

    monkeypatch.setattr(predict, "available_cores", lambda: 2)
    monkeypatch.setattr(backends, "LocalPool", record_pool)
    result = invoke("photos", "--jobs", "64")
    assert result.exit_code == 0, result.output
    assert started == [2]
    assert result.stderr.count("jobs 64 is more than the 2 cores available: using 2") == 1


def test_symlinks_not_followed_are_counted_in_the_summary(project):
    (project / "photos" / "linked.png").symlink_to(project / "photos" / "a.png")
    result = invoke("photos", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert json.loads(Path("summary.json").read_text())["skipped_symlinks"] == 1
    assert "1 symlinks not followed (--follow-symlinks reads them)" in result.stderr


def test_read_number_from_the_command_line_writes_number_rows(project):
    save_number(project / "photos" / "n.png", [3, 8])
    result = invoke("photos", "--jobs", "1", "--read", "number", "--max-digits", "4")
    assert result.exit_code == 0, result.output
    table = pd.read_csv("out.csv", dtype=str, keep_default_na=False).set_index("path")
    assert table.loc["n.png", "digits"] == "2"


def test_uncertain_rows_are_not_failures_and_the_summary_line_counts_them(project):
    result = invoke("photos", "--jobs", "1", "--min-confidence", "1")
    assert result.exit_code == 0, result.output
    counts = "2 predicted, 0 kept, 0 failed of which 0 in this run; 0 ok, 2 uncertain, 0 rejected"
    assert counts in result.stderr


@pytest.mark.parametrize("value", ["high", "1.5", "-0.1"])
def test_bad_min_confidence_is_a_usage_error_naming_the_option(project, value):
    result = invoke("photos", "--min-confidence", value)
    assert result.exit_code == 2 and "--min-confidence" in result.output


def test_min_confidence_comes_from_params_unless_given(project):
    write_params(min_confidence=1.0)
    assert invoke("photos", "--jobs", "1").exit_code == 0
    assert json.loads(Path("summary.json").read_text())["by_status"]["uncertain"] == 2
    assert invoke("photos", "--jobs", "1", "--min-confidence", "0").exit_code == 0
    assert json.loads(Path("summary.json").read_text())["by_status"]["ok"] == 2


def test_review_option_writes_the_sheet(project):
    result = invoke("photos", "--jobs", "1", "--min-confidence", "1", "--review", "r.html")
    assert result.exit_code == 0, result.output
    assert Path("r.html").read_text().count("<article") == 2
