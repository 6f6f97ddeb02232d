"""The front door: the `digitflow` command, its help, and the README's two commands."""

import re
from importlib import metadata
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


def rendered_help(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [[], *([name] for name in SUBCOMMANDS)])
def test_help_fits_80_columns_without_cutting_anything(command):
    text = rendered_help(command)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    assert "..." not in text.replace("[ARGS]...", "")


def test_flags_render_as_flags_not_as_values():
    text = rendered_help(["predict-folder"])
    assert "--incremental / --no-incremental\n" in text
    assert "--allow-file-errors / --no-allow-file-errors\n" in text
    assert "<bool>" not in text
    assert re.search(r"^  --help +Show this message", text, re.M)


def test_help_shows_defaults_whole():
    text = " ".join(rendered_help(["predict-folder"]).split())
    assert "[default: data/model/weights.npz]" in text


def test_version_prints_the_installed_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"digitflow {metadata.version('digitflow')}\n"
