"""The `digitflow` command: every pipeline stage as a subcommand, for people and cron.

DVC runs the same commands as `python stages/<stage>.py` so that it can track each script
as a dependency; both routes share one function per stage.
"""

import typer

from digitflow.stages import download, evaluate, normalise, predict_folder, train

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Learn handwritten digits with a numpy network and read folders of digit images. "
    "Each subcommand is one stage of the DVC pipeline (`dvc repro` runs them in order).",
)

app.command("download")(download.main)
app.command("normalise")(normalise.main)
app.command("train")(train.main)
app.command("evaluate")(evaluate.main)
app.command("predict-folder")(predict_folder.main)
