import pytest
import typer

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
