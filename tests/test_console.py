import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from helpers import make_folder, save_model

from digitflow.console import reports_errors
from digitflow.errors import DigitflowError, ParamsError


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [(DigitflowError("data/raw/x: bad\n  magic [2051]"), 1), (ParamsError("train.lr", "bad"), 2)],
)
def test_errors_become_one_stderr_line_and_their_exit_code(capsys, error, exit_code):
    @reports_errors
    def stage() -> None:
        raise error

    with pytest.raises(typer.Exit) as exit_info:
        stage()
    assert exit_info.value.exit_code == exit_code
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert " ".join(str(error).split()) in lines[0]


STAGES = ["download", "normalise", "train", "evaluate", "predict-folder"]
DIGITFLOW = [sys.executable, "-c", "from digitflow.cli import app; app()"]


def run_with_stderr(args: list[str], stderr: str, cwd: Path) -> int:
    """Exit code of ``digitflow ARGS`` with its stderr closed (``2>&-``) or a pipe whose
    reader has gone (``| head`` after head exits)."""
    if stderr == "closed":
        shell = 'exec "$0" "$@" 2>&-'
        return subprocess.run(
            ["sh", "-c", shell, *DIGITFLOW, *args], cwd=cwd, timeout=120
        ).returncode
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([*DIGITFLOW, *args], cwd=cwd, stderr=writer, timeout=120).returncode
    finally:
        os.close(writer)


@pytest.mark.parametrize("stderr", ["closed", "broken-pipe"])
@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_keeps_its_exit_code_when_stderr_is_closed_or_broken(tmp_path, stage, stderr):
    required = ["--out", "out.csv"] if stage == "predict-folder" else []
    assert run_with_stderr([stage, "--params", "missing.yaml", *required], stderr, tmp_path) == 2


@pytest.mark.parametrize("stderr", ["closed", "broken-pipe"])
def test_predict_folder_writes_its_outputs_when_stderr_is_closed_or_broken(tmp_path, stderr):
    save_model(tmp_path / "weights.npz", seed=0)
    make_folder(tmp_path / "photos", ["a.png"])
    (tmp_path / "photos" / "bad.png").write_bytes(b"")
    args = ["predict-folder", "photos", "--model", "weights.npz", "--jobs", "1"]
    outputs = ["--out", "out.csv", "--summary", "summary.json"]
    assert run_with_stderr([*args, *outputs], stderr, tmp_path) == 3
    assert (tmp_path / "out.csv").read_text().count("\n") == 3
    assert (tmp_path / "summary.json").exists()
