"""Typer option types and app settings that the stage scripts and the `digitflow` command share."""

from pathlib import Path
from typing import Annotated

import typer

PARAMS_FILE = Path("params.yaml")
ParamsFile = Annotated[
    Path, typer.Option(help="Params file; the stage reads only its own section of it.")
]
"""The ``--params`` option of the download, normalise, train and evaluate stages."""


def command_app(**settings) -> typer.Typer:
    """A Typer app whose help is plain Click text: it wraps to the terminal, so at 80 columns
    every default is shown whole (Rich's option table cuts them), and flags read as flags."""
    return typer.Typer(add_completion=False, rich_markup_mode=None, **settings)
