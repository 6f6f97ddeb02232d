"""What a cut through a number's ink leaves: whole digits, two digits joined, or a fragment of
one, made of MNIST digits for fitting the network's whole-digit score.

Joined pairs are two digits written touching or overlapping exactly as ``numbers`` writes
them; a fragment is what lies left or right of a straight cut through a digit somewhere in
its middle half. Each piece is made into a 28x28 by the ``normalise`` it is given (reading's,
so the score sees pieces as reading will), and its long side is drawn at ``numbers``'
HEIGHT_PX first, as a photo's digit would be. Everything random comes from the generator.
"""

from collections.abc import Callable

import numpy as np

from digitflow.synthetic.numbers import number_ink

Normalise = Callable[[np.ndarray], np.ndarray]
"""(h, w) float32 ink in [0, 1], strongest pixel 1 -> the (28, 28) float32 digit reading
makes of it."""
JOINED = ("touching", "overlapping")
CUT_SPAN = (0.25, 0.75)
"""A fragment's cut lies this share of the way across the digit's box."""


def piece_examples(
    X_784xm: np.ndarray, count: int, rng: np.random.Generator, normalise: Normalise
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` whole digits and ``count`` pieces that are not one digit (half joined pairs,
    half fragments), each (784, count) float32, from digits drawn from the columns of
    ``X_784xm`` (MNIST's 28x28s, row-major)."""

    def digit(i: int) -> np.ndarray:
        return X_784xm[:, i].reshape(28, 28)

    drawn = X_784xm.shape[1]
    whole = [number_ink([digit(i)], rng) for i in rng.integers(drawn, size=count)]
    pairs = rng.integers(drawn, size=(count // 2, 2))
    joined = [number_ink([digit(i), digit(j)], rng, str(rng.choice(JOINED))) for i, j in pairs]
    cut = rng.integers(drawn, size=count - len(joined))
    broken = [fragment(number_ink([digit(i)], rng), rng) for i in cut]
    return _normalised(whole, normalise), _normalised(joined + broken, normalise)


def fragment(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The ink (h, w) left or right (at even odds) of a straight cut down its middle half,
    cropped to its box (``number_ink``'s ink fills its box, so some is left either side)."""
    column = round(rng.uniform(*CUT_SPAN) * ink.shape[1])
    part = ink[:, :column] if rng.random() < 0.5 else ink[:, column:]
    rows, columns = np.flatnonzero(part.max(axis=1) > 0), np.flatnonzero(part.max(axis=0) > 0)
    return part[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _normalised(inks: list[np.ndarray], normalise: Normalise) -> np.ndarray:
    """(784, k) of the inks normalised, each first graded as reading grades a scan (its
    strongest pixel 1: a fragment of faint strokes is still ink)."""
    return np.stack([normalise(ink / ink.max()).reshape(784) for ink in inks], axis=1)
