"""Cut candidates through touching ink (digitflow.reading.cut_paths): each kind finds the
cut between two drawn strokes that touch."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitflow.reading.cut_paths import cut_paths, left_of

SIZE_PX = 60
PEN_PX = 5


def drawn(*lines: list[tuple[float, float]]) -> np.ndarray:
    """(SIZE_PX, 2 * SIZE_PX) bool: pen strokes given in a 0..1 (height) box."""
    canvas = Image.new("1", (2 * SIZE_PX, SIZE_PX), 0)
    pen = ImageDraw.Draw(canvas)
    for line in lines:
        pen.line([(x * SIZE_PX, y * SIZE_PX) for x, y in line], fill=1, width=PEN_PX)
    return np.asarray(canvas, dtype=bool)


def ring(x: float, y: float, radius: float) -> list[tuple[float, float]]:
    t = np.radians(np.linspace(0, 360, 40))
    return list(zip(x + radius * np.cos(t), y + radius * np.sin(t), strict=True))


PAIRS = {
    # Two bars joined by a thin bridge: the columns of least ink are the bridge's.
    "projection": (
        [[(0.3, 0.1), (0.3, 0.9)], [(0.3, 0.5), (0.5, 0.5)]],
        [[(0.7, 0.1), (0.7, 0.9)], [(0.5, 0.5), (0.7, 0.5)]],
    ),
    # Two rings touching at their middles: the top contour dips lowest between them.
    "upper valley": ([ring(0.45, 0.5, 0.35)], [ring(1.15, 0.5, 0.35)]),
    # An L whose foot meets a bar's lower end: from below, the gap opens beside the foot.
    "lower valley": ([[(0.2, 0.1), (0.2, 0.9), (0.8, 0.9)]], [[(0.85, 0.1), (0.85, 0.8)]]),
    # The same: a drop rising from the gap beside the foot slides round it.
    "rising drop": ([[(0.2, 0.1), (0.2, 0.9), (0.8, 0.9)]], [[(0.85, 0.1), (0.85, 0.8)]]),
    # A stroke leaning right whose top hooks over its neighbour's: a falling drop winds
    # down between them.
    "drop-fall": (
        [[(0.2, 0.9), (0.6, 0.1), (0.75, 0.1)]],
        [[(0.75, 0.9), (0.68, 0.5), (1.1, 0.1)]],
    ),
    # Two parallel strokes leaning right, bridged near the top: a slanted line parts them.
    "slanted": (
        [[(0.2, 0.9), (0.6, 0.1)]],
        [[(0.35, 0.9), (0.75, 0.1)], [(0.5, 0.3), (0.65, 0.3)]],
    ),
}
"""For each kind, a touching pair it parts: (left strokes, right strokes)."""
BRIDGE_HALF_PX = 6 * PEN_PX
"""A cut through a bridge gives half of it to the wrong side."""


def misplaced(path, left_ink: np.ndarray, right_ink: np.ndarray) -> int:
    """Pixels the path gives the wrong side (where the strokes touch, either side is right)."""
    left = left_of(path, left_ink.shape[1])
    wrong = ((left_ink & ~left) | (right_ink & left)) & ~(left_ink & right_ink)
    return int(wrong.sum())


@pytest.mark.parametrize("kind", PAIRS)
def test_each_kind_of_cut_parts_a_drawn_touching_pair(kind):
    left_lines, right_lines = PAIRS[kind]
    left_ink, right_ink = drawn(*left_lines), drawn(*right_lines)
    ink = left_ink | right_ink
    columns = np.flatnonzero(ink.any(axis=0))
    rows = np.flatnonzero(ink.any(axis=1))
    box = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    paths = cut_paths(ink[box], row_height=SIZE_PX * 0.8, margin_px=4)
    parting = [p for p in paths if misplaced(p, left_ink[box], right_ink[box]) <= BRIDGE_HALF_PX]
    assert kind in {p.kind for p in parting}


def test_paths_are_distinct_and_ordered_left_to_right():
    ink = drawn(ring(0.45, 0.5, 0.35), ring(1.15, 0.5, 0.35))
    paths = cut_paths(ink[:, 6:114], SIZE_PX * 0.8, 4)
    middles = [float(np.mean(p.ends)) for p in paths]
    assert middles == sorted(middles)
    assert len({p.ends.tobytes() for p in paths}) == len(paths)
