"""Graded ink made into the 28x28 MNIST digit: reading's steps 7-9 in order."""

import numpy as np

from digitflow.mnist_form.masks import bounds
from digitflow.mnist_form.mnist_frame import centred_in_frame, fit_box
from digitflow.mnist_form.stroke import BILEVEL_CUT, mnist_stroke_width


def mnist_digit(ink: np.ndarray) -> np.ndarray:
    """Steps 7-9 on graded ink (h, w) in [0, 1] holding some pixel above ``BILEVEL_CUT``:
    the (28, 28) float32 MNIST digit it makes."""
    ink = mnist_stroke_width(ink)  # 7
    top, bottom, left, right = bounds(ink > BILEVEL_CUT)
    return centred_in_frame(fit_box(ink[top:bottom, left:right]))  # 8, 9
