"""Write the example digit photos in examples/digits/ (committed; predict-folder's default input).

Each digit is drawn as pen strokes (digitflow.synthetic.photos.draw_digit, no MNIST data),
photographed on tinted paper with uneven light and noise (make_photo), and stored in one of the
formats users' folders hold. The true label is the file name's first word: ``seven_01.jpg`` is a 7.
Only images go in the folder, so every file there is a prediction.

    python examples/make_examples.py            # rewrites examples/digits/
"""

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from digitflow.synthetic.photos import draw_digit, write_photo

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
EXAMPLES: tuple[tuple[int, str], ...] = (  # (label, format): every format at least once
    (0, "png"),
    (1, "jpeg"),
    (2, "webp"),
    (3, "bmp"),
    (4, "tiff16"),
    (5, "rgba_png"),
    (6, "palette_gif"),
    (7, "exif_jpeg"),
    (8, "jpeg"),
    (9, "webp"),
    (7, "jpeg"),
    (3, "png"),
)
STYLE = {"canvas_px": (90, 180), "height_fraction": (0.45, 0.8), "max_noise": 0.015}
"""Small canvases and light grain keep the committed folder small (lossless formats and
noise make big files)."""

app = typer.Typer(add_completion=False)


def make_examples(out_dir: Path, seed: int = 2024) -> list[Path]:
    """Draw and write every entry of EXAMPLES into ``out_dir``; returns the paths written.
    The same seed gives the same bytes."""
    rng = np.random.default_rng(seed)
    written, counts = [], {}
    for label, fmt in EXAMPLES:
        counts[label] = counts.get(label, 0) + 1
        stem = f"{DIGIT_NAMES[label]}_{counts[label]:02d}"
        ink = draw_digit(label, rng)
        written.append(write_photo(ink, rng, out_dir, stem, fmt, **STYLE))
    return written


def label_of(path: Path) -> int:
    """The true label an example's file name states (``seven_01.jpg`` -> 7)."""
    return DIGIT_NAMES.index(path.name.split("_")[0])


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="Folder to write the examples to.")] = Path(
        "examples/digits"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the drawing and photographing.")] = 2024,
) -> None:
    """Draw the example digit photos into OUT."""
    for path in make_examples(out, seed):
        typer.echo(f"{path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    app()
