"""download stage: put the four MNIST IDX files, md5-verified, into data/raw."""

from pathlib import Path
from typing import Annotated

import typer

from digitflow.console import reports_errors
from digitflow.fetch.download import DownloadConfig, download_mnist
from digitflow.options import PARAMS_FILE, ParamsFile, command_app
from digitflow.params import load_section

app = command_app()


@app.command()
@reports_errors
def main(
    params: ParamsFile = PARAMS_FILE,
    out_dir: Annotated[Path, typer.Option(help="Folder for the four IDX files.")] = Path(
        "data/raw"
    ),
) -> None:
    """Download MNIST from the first source that serves it (or convert a CSV pair)."""
    config = load_section(params, "download", DownloadConfig)
    download_mnist(out_dir, config)


if __name__ == "__main__":
    app()
