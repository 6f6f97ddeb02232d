"""The debug picture of a number read: how its ink was split, and each digit's 28x28.

Top: the picture's ink on the analysis copy, each digit in its own colour, every cut through
touching ink as a red line. Below: the digits as the network saw them, left to right, white
on black like MNIST.
"""

import numpy as np

from digitflow.reading.segment import Segmentation

PALETTE_U8 = np.array(
    [[80, 160, 255], [255, 190, 60], [110, 220, 110], [220, 120, 255], [90, 220, 220]],
    dtype=np.uint8,
)
"""Digit colours, in turn (red is for cuts)."""
CUT_U8 = np.array([255, 40, 40], dtype=np.uint8)
DIGIT_ZOOM = 2
"""Each 28x28 digit is drawn this many times larger."""
GAP_PX = 4


def number_picture(number: Segmentation) -> np.ndarray:
    """(h, w, 3) uint8 RGB: the split ink above the digits the network read."""
    height, width = number.masks[0].shape
    zoom = max(1, -(-2 * 28 // height))  # ink panel at least two digits tall
    ink = np.zeros((height, width, 3), dtype=np.uint8)
    for i, mask in enumerate(number.masks):
        ink[mask] = PALETTE_U8[i % len(PALETTE_U8)]
    for cut in number.cuts:
        ink[cut[:, 0], np.minimum(cut[:, 1], width - 1)] = CUT_U8
    ink = ink.repeat(zoom, axis=0).repeat(zoom, axis=1)
    side = 28 * DIGIT_ZOOM
    digits = np.zeros((side, len(number.masks) * (side + GAP_PX), 3), dtype=np.uint8)
    for i, digit in enumerate(number.digits_kx28x28):
        big = np.rint(digit * 255).astype(np.uint8).repeat(DIGIT_ZOOM, 0).repeat(DIGIT_ZOOM, 1)
        left = i * (side + GAP_PX)
        digits[:, left : left + side] = big[..., None]
    canvas = np.zeros(
        (ink.shape[0] + GAP_PX + side, max(ink.shape[1], digits.shape[1]), 3), dtype=np.uint8
    )
    canvas[: ink.shape[0], : ink.shape[1]] = ink
    canvas[ink.shape[0] + GAP_PX :, : digits.shape[1]] = digits
    return canvas
