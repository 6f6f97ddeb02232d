"""The `digitflow` command: every pipeline stage as a subcommand, for people and cron.

DVC runs the same commands as `python stages/<stage>.py` so that it can track each script
as a dependency; both routes share one function per stage.
"""

import inspect
from typing import Annotated

import typer

from digitflow import __version__
from digitflow.options import command_app
from digitflow.stages import download, evaluate, normalise, predict_folder, train

app = command_app(no_args_is_help=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"digitflow {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Learn handwritten digits with a numpy network and read folders of digit images.

    Each subcommand is one stage of the DVC pipeline (`dvc repro` runs them in order).
    """


for name, stage in [
    ("download", download),
    ("normalise", normalise),
    ("train", train),
    ("evaluate", evaluate),
    ("predict-folder", predict_folder),
]:
    # The listing shows each docstring's first paragraph whole; Click would cut it at the
    # width left beside the names, mid-sentence.
    summary = inspect.getdoc(stage.main).split("\n\n")[0]
    app.command(name, short_help=summary)(stage.main)
