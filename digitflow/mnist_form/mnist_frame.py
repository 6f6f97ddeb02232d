"""MNIST's geometry: the ink's long side fitted to 20 px, its centre of mass put at the
centre of a 28×28 field.

LeCun et al. size-normalised each bilevel NIST digit to fit a 20×20 box keeping its aspect
ratio (the anti-aliasing of that resize made the grey levels), then translated it so its
centre of mass sits at the centre of a 28×28 field. In MNIST the ink's long side spans exactly
20 px and the centre of mass lies within ±0.5 px of pixel (14, 14): the translation is by
whole pixels.
"""

import numpy as np
from PIL import Image

from digitflow.float_images import float_image, float_pixels

FRAME_PX = 28
BOX_PX = 20


def fit_box(ink: np.ndarray) -> np.ndarray:
    """A tightly cropped ink array (h, w) scaled so its long side is ``BOX_PX`` (aspect kept,
    anti-aliased), strongest pixel 1."""
    height, width = ink.shape
    ratio = BOX_PX / max(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))  # PIL order: (w, h)
    # Area averaging when shrinking is how a bilevel scan becomes grey edges; growing a tiny
    # digit needs interpolation instead, or it comes out blocky.
    resample = Image.Resampling.BOX if ratio <= 1 else Image.Resampling.BILINEAR
    patch = float_pixels(float_image(ink).resize(size, resample))
    return np.clip(patch / max(float(patch.max()), 1e-6), 0.0, 1.0)


def centred_in_frame(patch: np.ndarray) -> np.ndarray:
    """The (28, 28) float32 frame holding ``patch`` (at most 20×20) with its centre of mass at
    pixel (14, 14), moved by whole pixels."""
    mass = patch.sum()
    centre_y = float(patch.sum(axis=1) @ np.arange(patch.shape[0])) / mass
    centre_x = float(patch.sum(axis=0) @ np.arange(patch.shape[1])) / mass
    top = min(max(round(FRAME_PX / 2 - centre_y), 0), FRAME_PX - patch.shape[0])
    left = min(max(round(FRAME_PX / 2 - centre_x), 0), FRAME_PX - patch.shape[1])
    frame = np.zeros((FRAME_PX, FRAME_PX), dtype=np.float32)
    frame[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return frame
