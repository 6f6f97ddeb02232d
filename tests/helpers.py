"""Small synthetic data the tests share: tiny models, drawn digits, folders of them."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from digitflow.network.digit_likeness import DigitLikeness
from digitflow.network.mlp import init_network
from digitflow.network.model_io import load_network, save_network
from digitflow.synthetic.photos import draw_digit


def save_model(path: Path, seed: int) -> Path:
    save_network(path, init_network((784, 8, 10), np.random.default_rng(seed)), {})
    return path


def save_model_with_likeness(path: Path, min_score: float) -> Path:
    """The test model with a digit-likeness of 0 for every picture: its score is the log-odds
    of the network's confidence, far above -100 and below 100."""
    network, _ = load_network(save_model(path, seed=0))
    network.likeness = DigitLikeness(np.zeros(8, np.float32), 0.0, min_score)
    save_network(path, network, {})
    return path


def digit_image(side_px: int = 48) -> Image.Image:
    """A dark '7' on light paper."""
    image = Image.new("L", (side_px, side_px), 225)
    s = side_px
    ImageDraw.Draw(image).line(
        [(s * 0.3, s * 0.25), (s * 0.7, s * 0.25), (s * 0.45, s * 0.8)], fill=30, width=s // 8
    )
    return image


def save_digit(path: Path, image_format: str = "PNG", side_px: int = 48) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    digit_image(side_px).save(path, format=image_format)
    return path


def save_number(path: Path, labels: list[int], size_px: int = 56) -> Path:
    """Dark pen-drawn digits side by side, well apart, on light paper."""
    glyphs = [draw_digit(label, np.random.default_rng(label), size_px) for label in labels]
    ink = np.pad(np.hstack(glyphs), size_px // 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(225 - 195 * ink).astype(np.uint8)).save(path)
    return path


def make_folder(root: Path, names: list[str]) -> Path:
    for name in names:
        save_digit(root / name)
    return root


def synthetic_digits(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(784, m) float32 in [0, 1] and uint8 labels: one random stroke pattern per class plus
    noise, so a small network separates them within a few epochs."""
    prototypes = np.random.default_rng(1234).random((10, 784)) < 0.15
    rng = np.random.default_rng(seed)
    y = (np.arange(m) % 10).astype(np.uint8)
    noise = rng.random((m, 784)) < 0.05
    X = (prototypes[y] ^ noise).astype(np.float32) * rng.uniform(0.6, 1.0, (m, 1))
    return np.ascontiguousarray(X.T, dtype=np.float32), y


def drawn_digits(count: int) -> np.ndarray:
    """(784, count) float32 in [0, 1]: digits 0-9 in turn drawn as pen strokes 28 px tall, ink
    high, each with its own seed."""
    digits = [draw_digit(k % 10, np.random.default_rng(k), 28) for k in range(count)]
    return np.stack([d.reshape(784) for d in digits], axis=1).astype(np.float32)
