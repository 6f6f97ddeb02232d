"""The front door: the `digitflow` command, its help, and the README's two commands."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitflow.cli import app

PROJECT = Path(__file__).resolve().parents[1]
README = (PROJECT / "README.md").read_text()
SUBCOMMANDS = ["download", "normalise", "train", "evaluate", "predict-folder"]


def readme_commands() -> list[str]:
    """The shell commands in the README's first screen: the code blocks before the first `##`."""
    first_screen = README.split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```(?:sh|bash)\n(.*?)```", first_screen, re.S)]


def test_every_stage_is_a_subcommand_with_help():
    for name in SUBCOMMANDS:
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "--params" in result.output


def test_top_level_help_lists_the_stages():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output


def test_readme_opens_with_exactly_two_commands_pipeline_then_tests():
    pipeline, tests = readme_commands()
    assert pipeline.endswith("dvc repro")
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    _, tests = readme_commands()
    ci_lines = (PROJECT / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines


@pytest.mark.parametrize("command", readme_commands())
def test_readme_commands_install_from_this_checkout(command):
    assert "pip install -e ." in command or "pip install -e '.[test]'" in command
