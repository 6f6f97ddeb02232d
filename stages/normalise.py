"""normalise stage: validate data/raw and write float32 (784, m) arrays to data/prepared."""

from pathlib import Path
from typing import Annotated

import typer

from digitflow.console import note, reports_errors
from digitflow.dataset.prepare import NormaliseConfig, normalise
from digitflow.options import PARAMS_FILE, ParamsFile, command_app
from digitflow.params import load_section

app = command_app()


@app.command()
@reports_errors
def main(
    params: ParamsFile = PARAMS_FILE,
    raw_dir: Annotated[Path, typer.Option(help="Folder holding the four IDX files.")] = Path(
        "data/raw"
    ),
    out_dir: Annotated[Path, typer.Option(help="Folder for the six .npy arrays.")] = Path(
        "data/prepared"
    ),
) -> None:
    """Validate the raw IDX files, scale to [0, 1], transpose and split off validation."""
    config = load_section(params, "normalise", NormaliseConfig)
    counts = normalise(raw_dir, out_dir, config)
    note(", ".join(f"{split}: {count} samples" for split, count in counts.items()))


if __name__ == "__main__":
    app()
