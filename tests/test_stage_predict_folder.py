"""The predict-folder command through Typer's runner: settings precedence and exit codes."""

import json
from contextlib import ExitStack
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import make_folder, save_model
from typer.testing import CliRunner

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
    assert "1 files could not be read" in result.stderr


def test_allow_file_errors_exits_0_but_still_reports_them(project):
    (project / "photos" / "c.png").write_bytes(b"")
    result = invoke("photos", "--jobs", "1", "--allow-file-errors")
    assert result.exit_code == 0, result.output
    assert counts(Path("summary.json")) == (2, 0, 1)
    assert "1 files could not be read" in result.stderr


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
    assert "Exit codes: 0 = every file predicted; 3 = some files could not be read" in text
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
    assert "3 files -> out.csv: 0 predicted, 2 kept, 1 failed" in result.output
