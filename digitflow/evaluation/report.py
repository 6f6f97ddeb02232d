"""Pictures of predictions, drawn with Pillow: a grid of test digits titled ``pred/true`` in
green (right) or red (wrong), and a grid of the most confident mistakes.

Images come as ``X_784xm`` (float32 pixels in [0, 1], one column per sample, rows in reading
order of a 28x28 digit); probabilities as ``proba_10xm``. Same inputs give the same PNG bytes.
"""

import functools
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitflow.dataset.idx import IMAGE_SIDE
from digitflow.evaluation.metrics import predicted_classes
from digitflow.params import require

RGB = tuple[int, int, int]
RIGHT_RGB: RGB = (0, 140, 0)
WRONG_RGB: RGB = (210, 0, 0)
PAPER_RGB: RGB = (255, 255, 255)
TEXT_RGB: RGB = (0, 0, 0)

SCALE = 3
"""Nearest-neighbour upscaling, so each MNIST pixel stays a visible square."""
TITLE_SIZE_PX = 14
PAD_PX = 4
GAP_PX = 16
"""Space between neighbouring cells, so long titles do not run into each other."""
COLUMNS = 10
MAX_TILES = 1000
"""Upper bound for either picture: past it the PNG grows to megabytes nobody looks at."""


@dataclass(frozen=True)
class EvaluateConfig:
    """The ``evaluate`` section of params.yaml: how many digits each picture shows."""

    grid_count: int = 50
    worst_count: int = 25

    def __post_init__(self) -> None:
        for name in ("grid_count", "worst_count"):
            value = getattr(self, name)
            require(
                1 <= value <= MAX_TILES,
                f"evaluate.{name}",
                f"must be between 1 and {MAX_TILES}, got {value}",
            )


@dataclass(frozen=True)
class Tile:
    """One digit of a grid with the title drawn above it."""

    pixels_28x28_u8: np.ndarray
    title: str
    colour: RGB


def digit_pixels(X_784xm: np.ndarray, index: int) -> np.ndarray:
    """Sample ``index`` as a (28, 28) uint8 picture, dark ink on white paper."""
    ink = X_784xm[:, index].reshape(IMAGE_SIDE, IMAGE_SIDE)
    return (255 - np.rint(np.clip(ink, 0.0, 1.0) * 255)).astype(np.uint8)


def prediction_grid(
    X_784xm: np.ndarray, y_pred: np.ndarray, y_true: np.ndarray, count: int
) -> Image.Image:
    """The first ``count`` samples (or all, if fewer), each titled ``pred/true``."""
    tiles = [
        Tile(
            digit_pixels(X_784xm, i),
            f"{y_pred[i]}/{y_true[i]}",
            RIGHT_RGB if y_pred[i] == y_true[i] else WRONG_RGB,
        )
        for i in range(min(count, y_true.size))
    ]
    return draw_grid(tiles, empty_message="no test digits")


def worst_mistakes(proba_10xm: np.ndarray, y_true: np.ndarray, count: int) -> np.ndarray:
    """Indices of at most ``count`` wrongly predicted samples, most confident first.

    Confidence is the probability given to the (wrong) predicted class; ties keep sample order.
    """
    y_pred = predicted_classes(proba_10xm)
    wrong = np.flatnonzero(y_pred != y_true)
    confidence = proba_10xm[y_pred[wrong], wrong]
    return wrong[np.argsort(-confidence, kind="stable")[:count]]


def worst_grid(
    X_784xm: np.ndarray, proba_10xm: np.ndarray, y_true: np.ndarray, count: int
) -> Image.Image:
    """The :func:`worst_mistakes`, each titled ``pred (conf%) / true`` in red."""
    y_pred = predicted_classes(proba_10xm)
    tiles = []
    for i in worst_mistakes(proba_10xm, y_true, count):
        percent = 100 * float(proba_10xm[y_pred[i], i])
        title = f"{y_pred[i]} ({percent:.1f}%) / {y_true[i]}"
        tiles.append(Tile(digit_pixels(X_784xm, i), title, WRONG_RGB))
    return draw_grid(tiles, empty_message="no misclassified test digits")


def draw_grid(tiles: list[Tile], empty_message: str, columns: int = COLUMNS) -> Image.Image:
    """Tiles in rows of ``columns``, every cell as wide as the widest title needs."""
    font = _title_font()
    if not tiles:
        return _message_picture(empty_message, font)
    digit_px = IMAGE_SIDE * SCALE
    widest_title = max(font.getlength(tile.title) for tile in tiles)
    cell_w = max(digit_px, int(np.ceil(widest_title))) + GAP_PX
    title_h = TITLE_SIZE_PX + PAD_PX
    cell_h = title_h + digit_px + 2 * PAD_PX
    rows = -(-len(tiles) // columns)
    picture = Image.new("RGB", (min(columns, len(tiles)) * cell_w, rows * cell_h), PAPER_RGB)
    draw = ImageDraw.Draw(picture)
    for n, tile in enumerate(tiles):
        left, top = (n % columns) * cell_w, (n // columns) * cell_h
        draw.text(
            (left + cell_w // 2, top + PAD_PX), tile.title, fill=tile.colour, font=font, anchor="ma"
        )
        digit = Image.fromarray(tile.pixels_28x28_u8).resize(
            (digit_px, digit_px), Image.Resampling.NEAREST
        )
        picture.paste(
            digit.convert("RGB"), (left + (cell_w - digit_px) // 2, top + title_h + PAD_PX)
        )
    return picture


def _message_picture(message: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    width = int(np.ceil(font.getlength(message))) + 4 * PAD_PX
    picture = Image.new("RGB", (width, TITLE_SIZE_PX + 4 * PAD_PX), PAPER_RGB)
    ImageDraw.Draw(picture).text((2 * PAD_PX, 2 * PAD_PX), message, fill=TEXT_RGB, font=font)
    return picture


@functools.cache
def _title_font() -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=TITLE_SIZE_PX)


def png_bytes(picture: Image.Image) -> bytes:
    """Encode as PNG; Pillow writes no timestamp, so equal pictures give equal bytes."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
