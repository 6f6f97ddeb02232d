"""Which blobs of ink make up the digit: 8-connected components, labelled by row runs.

Labelling runs of ink (not pixels) keeps the Python loop short: a digit on a 128 px analysis
image has a few hundred runs. The digit is the heaviest component plus every component heavy
enough, or near enough, to be one of its strokes (the bar of a 5, a pen lift, a fine pen's
dashes); specks of dirt and noise far from it are dropped so they cannot stretch the bounding
box, and so is a shadow's edge in a phone photo (the paper model cannot follow a sharp one):
ink that runs along the picture's border and is fainter than the digit.
"""

from dataclasses import dataclass

import numpy as np

from digitflow.mnist_form.masks import nonzero_pixels

KEEP_FRACTION = 0.1
"""A component at least this share of the heaviest one's mass is part of the digit ..."""
NEAR_FRACTION = 0.02
"""... and so is a lighter one above this share whose box overlaps the heaviest one's box
grown by ``NEAR_MARGIN`` of its size."""
NEAR_MARGIN = 0.25
CHAIN_GAP = 0.25
"""A component above ``NEAR_FRACTION`` within this share of the digit's height of a kept one
is kept too, and so on along the chain: a fine pen's stroke broken into dashes."""
SHADOW_CONTACT = 0.15
"""A component touching the picture's border along this share of its long side (a digit cut
by the edge touches it across a stroke or two) ..."""
SHADOW_SHARE = 0.85
"""... whose mean signal is below this share of the heaviest component's off the border is
a shadow's edge, not ink (the shadows of the bench's phone photos read 0.73 of the digit)."""


@dataclass(frozen=True)
class InkGroups:
    """The 8-connected groups of ink on the analysis copy, and which of them form the digit."""

    masses: np.ndarray
    """(n,) float: each group's summed ink signal (0 for a shadow's edge: neither digit nor
    mark)."""
    boxes: np.ndarray
    """(n, 4) int: each group's top, bottom, left, right (ends exclusive), in analysis px."""
    kept: np.ndarray
    """(n,) bool: the group is part of the digit."""
    digit: np.ndarray
    """(h, w) bool: the kept groups' pixels."""


def ink_groups(signal: np.ndarray, mask: np.ndarray) -> InkGroups | None:
    """The components of ``mask`` (h, w), each weighed by the sum of ``signal`` over its
    pixels, and those that form the digit; None when ``mask`` is empty."""
    rows, starts, ends = _runs(mask)
    if rows.size == 0:
        return None
    labels = _label_runs(rows.tolist(), starts.tolist(), ends.tolist())
    mass = _component_mass(signal, labels, rows, starts, ends)
    boxes = _boxes(labels, rows, starts, ends)
    mass[_shadow_edges(labels, rows, starts, ends, mass, mask.shape)] = 0.0
    kept = _digit_labels(mass, boxes)
    if kept.all():  # the usual case: the runs cover the mask exactly
        return InkGroups(mass, boxes, kept, mask.copy())
    runs_kept = kept[labels]
    digit = _paint(mask.shape, rows[runs_kept], starts[runs_kept], ends[runs_kept])
    return InkGroups(mass, boxes, kept, digit)


@dataclass(frozen=True)
class Components:
    """Every 8-connected component of an ink mask (a number's marks)."""

    labels: np.ndarray
    """(h, w) int32: each pixel's component, -1 off the ink."""
    mass: np.ndarray
    """(n,) float: the ink signal summed over each component."""
    boxes: np.ndarray
    """(n, 4) int: top, bottom, left, right of each component (ends exclusive)."""


def components(signal: np.ndarray, mask: np.ndarray) -> Components:
    """Every component of ``mask``, weighed by the sum of ``signal`` over its pixels."""
    rows, starts, ends = _runs(mask)
    labels_image = np.full(mask.shape, -1, dtype=np.int32)
    if rows.size == 0:
        return Components(labels_image, np.zeros(0), np.zeros((0, 4), dtype=int))
    labels = _label_runs(rows.tolist(), starts.tolist(), ends.tolist())
    for row, start, end, label in zip(rows, starts, ends, labels, strict=True):
        labels_image[row, start:end] = label
    mass = _component_mass(signal, labels, rows, starts, ends)
    return Components(labels_image, mass, _boxes(labels, rows, starts, ends))


def _component_mass(signal, labels, rows, starts, ends) -> np.ndarray:
    width = signal.shape[1]
    bounds = np.stack([rows * width + starts, rows * width + ends], axis=1).ravel()
    run_mass = np.add.reduceat(np.append(signal.ravel(), 0), bounds)[::2]  # sum of each run
    return np.bincount(labels, weights=run_mass)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, first column and end column (exclusive) of every horizontal run of True."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    # Each row's changes alternate: a run's start (0 -> 1), then its end (1 -> 0).
    rows, columns = nonzero_pixels(np.diff(padded, axis=1))
    return rows[::2], columns[::2], columns[1::2]


def _label_runs(rows: list[int], starts: list[int], ends: list[int]) -> np.ndarray:
    """Component label (0..count-1) of each run; runs touch across rows with 8-connectivity.
    Plain lists: the loop is Python, and numpy scalars would slow every comparison."""
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    above: list[int] = []  # runs of the row above, left to right
    current: list[int] = []
    current_row = -2
    for i, row in enumerate(rows):
        if row != current_row:
            above = current if row == current_row + 1 else []
            current, current_row = [], row
        for j in above:
            if starts[j] > ends[i]:  # this and later runs above start right of run i
                break
            if ends[j] >= starts[i]:  # overlap, or touch diagonally
                parent[root(j)] = root(i)
        current.append(i)
    roots = [root(i) for i in range(len(rows))]
    rank = {label: k for k, label in enumerate(sorted(set(roots)))}  # np.unique is slower here
    return np.array([rank[label] for label in roots])


def _boxes(labels, rows, starts, ends) -> np.ndarray:
    """Bounding box of each component, (count, 4): top, bottom, left, right (ends exclusive)."""
    if not labels.any():  # one component, the usual case (runs come row by row)
        return np.array([[rows[0], rows[-1] + 1, starts.min(), ends.max()]])
    order = np.argsort(labels, kind="stable")
    first = np.flatnonzero(np.diff(labels[order], prepend=-1))  # each label's first run
    return np.stack(
        [
            np.minimum.reduceat(rows[order], first),
            np.maximum.reduceat(rows[order], first) + 1,
            np.minimum.reduceat(starts[order], first),
            np.maximum.reduceat(ends[order], first),
        ],
        axis=1,
    )


def _shadow_edges(labels, rows, starts, ends, mass, shape) -> np.ndarray:
    """(n,) bool per component: is it a shadow's edge (``SHADOW_CONTACT``, ``SHADOW_SHARE``)?"""
    height, width = shape
    nothing = np.zeros(mass.shape, dtype=bool)
    if rows[0] > 0 and rows[-1] < height - 1 and starts.min() > 0 and ends.max() < width:
        return nothing  # the usual case: no ink on the border (runs come row by row)
    on_border = np.where((rows == 0) | (rows == height - 1), ends - starts, 0)
    on_border += (starts == 0) + (ends == width)
    touching = np.bincount(labels, weights=on_border) >= SHADOW_CONTACT * max(shape)
    if not touching.any() or touching.all():
        return nothing
    mean = mass / np.bincount(labels, weights=ends - starts)
    ink = int(np.argmax(np.where(touching, -np.inf, mass)))
    return touching & (mean < SHADOW_SHARE * mean[ink])


def _digit_labels(mass: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Boolean per component: is it part of the digit?"""
    if mass.size == 1:  # the usual photo: its one component is the digit
        return np.ones(1, dtype=bool)
    return strokes_of(mass, boxes, [int(np.argmax(mass))])


def strokes_of(mass: np.ndarray, boxes: np.ndarray, digits: list[int]) -> np.ndarray:
    """Boolean per component (masses and boxes as ``components`` gives them): is it heavy
    enough to be a digit's stroke, or near enough one of the components ``digits`` or, along a
    chain, one kept (and not too light)? The heaviest component is the digit of a lone digit's
    picture."""
    heaviest = mass.max()
    near = np.zeros(mass.shape, dtype=bool)
    for top, bottom, left, right in boxes[digits]:
        grow_y, grow_x = NEAR_MARGIN * (bottom - top), NEAR_MARGIN * (right - left)
        near |= (
            (boxes[:, 0] < bottom + grow_y)
            & (boxes[:, 1] > top - grow_y)
            & (boxes[:, 2] < right + grow_x)
            & (boxes[:, 3] > left - grow_x)
        )
    candidate = mass >= NEAR_FRACTION * heaviest
    kept = (mass >= KEEP_FRACTION * heaviest) | (near & candidate)
    reach = CHAIN_GAP * max(bottom - top for top, bottom, _, _ in boxes[digits])
    while (pending := candidate & ~kept).any():
        linked = pending & _within(boxes, kept, reach)
        if not linked.any():
            break
        kept |= linked
    return kept


def _within(boxes: np.ndarray, kept: np.ndarray, reach: float) -> np.ndarray:
    """Boolean per box: is it within ``reach`` px (rows or columns) of a kept box?"""
    box, other = boxes[:, None, :], boxes[kept][None, :, :]
    gap_y = np.maximum(other[..., 0] - box[..., 1], box[..., 0] - other[..., 1])
    gap_x = np.maximum(other[..., 2] - box[..., 3], box[..., 2] - other[..., 3])
    return (np.maximum(gap_y, gap_x) <= reach).any(axis=1)


def _paint(shape, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mask of the given runs."""
    steps = np.zeros((shape[0], shape[1] + 1), dtype=np.int8)
    steps[rows, starts] = 1  # runs never touch, so no cell is both a start and an end
    steps[rows, ends] = -1
    return np.cumsum(steps, axis=1, dtype=np.int8)[:, :-1] > 0
