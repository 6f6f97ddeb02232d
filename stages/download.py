"""download stage: put the four MNIST IDX files, md5-verified, into data/raw."""

from pathlib import Path
from typing import Annotated

import typer

from digitflow.console import reports_errors
from digitflow.download import DownloadConfig, download_mnist
from digitflow.params import load_section

app = typer.Typer(add_completion=False)


@app.command()
@reports_errors
def main(
    params: Annotated[Path, typer.Option(help="Params file; reads its `download` section.")] = Path(
        "params.yaml"
    ),
    out_dir: Annotated[Path, typer.Option(help="Folder for the four IDX files.")] = Path(
        "data/raw"
    ),
) -> None:
    """Download MNIST from the first source that serves it (or convert a CSV pair)."""
    config = load_section(params, "download", DownloadConfig)
    download_mnist(out_dir, config)


if __name__ == "__main__":
    app()
