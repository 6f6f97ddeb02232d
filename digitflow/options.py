"""Typer option types that the stage scripts share."""

from pathlib import Path
from typing import Annotated

import typer

PARAMS_FILE = Path("params.yaml")
ParamsFile = Annotated[
    Path, typer.Option(help="Params file; the stage reads only its own section of it.")
]
"""The ``--params`` option of the download, normalise, train and evaluate stages."""
