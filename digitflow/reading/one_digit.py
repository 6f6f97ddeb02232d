"""Does a picture hold one handwritten digit? The reasons it does not, from what reading found.

Each check looks at the ink groups found (``Reading.groups``, on the analysis copy): several
digits side by side (``segment.digits_side_by_side``, the check digit mode refuses with), ink
running off the picture's edge (the groups' mask and the ink signal under it), a long thin
line, a solid blot, the digit's own ink taken out with a printed line (the pixels step 4
took, against the ink signal before it); and, in the 28x28 itself, a printed box left around
the digit. The first
that applies is the row's reason, in a few words a person can act on; "" means the picture
passed every check. The thresholds were measured on the photo bench (bench/trust.py): each
lets through at least 99.5 % of single MNIST digits. Also here: the 28x28 made with the
printed lines near the digit put back, which the batch reads as a second opinion."""

from dataclasses import dataclass, replace

import numpy as np

from digitflow.mnist_form.masks import dilated
from digitflow.mnist_form.stroke import BILEVEL_CUT, stroke_width_px
from digitflow.reading.recipe import Reading, digit_from_group
from digitflow.reading.segment import digits_side_by_side

EDGE_MIN_SIDE_SHARE = 0.25
"""Only a digit whose box spans this share of the picture along an edge can be cut there (a
small digit near the edge is just placed there) ..."""
EDGE_INNER_PX = 2
"""... and only if its strokes run into that edge undiminished: at least as much ink on the
border line as on the line this many analysis px inside. A stroke merely touching the edge
(a round digit filling the picture) narrows towards it; a cut stroke does not ..."""
EDGE_FADE_PX = 3
EDGE_FADE = 0.98
"""... nor fades: on the border's ink pixels, the ink signal is at least this share of the
signal this many analysis px inside, in the same pixels across. A bold stroke that ends at
the edge (a 4's or a 7's stem in a marker filling the picture) reaches it with only its
blurred rim, fainter than its core; a stroke the edge cut through is as dark there as inside
(bench/trust.py: bold digits taken for cut 4.0 -> 1.0 % of 400, cut digits caught 49.4 ->
47.4 %) ..."""
EDGE_MIN_RUN_SHARE = 0.5
"""... Only ink in runs along the edge at least this share of the digit's mean stroke width
counts, on the border line and the line inside alike: a printed line the search left in is
thin beside the digit's strokes, and running off the edge it cuts nothing (on ruled and
squared paper most digits taken for cut were joined to such a line and read right;
bench/trust.py --documents, three samples of 400: edge rejections on ruled paper 21 -> 3, on
squared 22 -> 3, in comb boxes 9 -> 2, `ok` rows right the same but one in comb boxes, cut
digits caught 624 -> 629 of 1,200)."""
LINE_ASPECT = 4.0
"""A box this many times wider than tall is a line, not a digit (MNIST's widest are ~2)."""
BLOT_COVERAGE = 0.75
"""Ink covering this share of its box is a blot: MNIST's boldest digits cover about half ..."""
BLOT_MIN_WIDTH_SHARE = 1 / 3
"""... unless the box is narrower than this share of its height: a straight 1 fills its own
thin box whatever the pen (on the photo bench, most blots found were 1s)."""
TAKEN_NEAR_PX = 2
"""Pixels taken out as printed lines within this many analysis px of the digit's ink ..."""
TAKEN_INK_SHARE = 0.8
TAKEN_OVER_LINE = 1.3
"""... whose ink signal was at least this share of the digit's median ink and this many
times the printed lines' median (away from the digit) were the digit's ink over a line, not
the line: a stroke lying along a line, or crossing it where the crossing was not kept, left
with it ..."""
TAKEN_AWAY_PX = 4
"""(the lines' own ink is measured this many analysis px or more from the digit)"""
TAKEN_MAX_SHARE = 0.5
"""... and when they number this share of the digit's own pixels, what is left is not the
digit that was written. (At 0.25 it took ok rows right on squared paper from 97.0 to 98.2 %
before boxes were found whole and lines put back; now the put-back reading judges a digit
that lost less, and 0.5 turns away no wrong ok row that 0.25 did: bench/trust.py
--documents, three samples of 400 on the seven styles with lines, ok rows 7,765 -> 7,824,
47 wrong either way; squared paper 91.0, 90.5, 88.2 -> 92.2, 92.2, 89.5 % ok.)"""
BOXED_SIDES = 3
"""A 28x28 whose ink (above ``BILEVEL_CUT``) fills this many sides of its own box end to end
holds a printed box that the line search left in (one touching the digit is its ink): a
handwritten outline meets its box at a few points (no MNIST test digit fills even two sides),
and a boxed digit comes out a confident 8 or 0 ..."""
BOXED_MIN_SIDE_PX = 7
"""... when its box is this many px across both ways (a 1 fills its own thin box); a box
narrower than that (a 1's, in a thick box) only when its ink fills all four sides and less
than ``BOXED_HOLLOW_SHARE`` of what lies between them: a 1 fills its own thin box solid ..."""
BOXED_HOLLOW_SHARE = 0.5
BOXED_SIDE_LINES = 2
BOXED_FILL_SHARE = 0.9
"""... A side counts as filled when one of its this many outermost lines is ink over this
share of its length: a stroke poking a px or two out of a narrow box moves the 28x28's
bounds off the box's sides and breaks them by a px (a 1 read as a confident 8 in a thick
dark box). No MNIST test digit fills 3 sides even so (12 fill 2)."""
PUT_BACK_PX = 2
"""The printed lines' pixels within this many analysis px of the digit's ink are put back
for :func:`with_lines_put_back`: where a line touched the digit, a stroke lying along it
goes back with it (and a crossing line comes back as a short stub)."""


def rejection(reading: Reading, ink_taken: float | None = None) -> str:
    """Why ``reading`` is not of one handwritten digit, or "" when nothing says so.
    ``ink_taken``: :func:`ink_taken_with_lines` of ``reading`` when already measured."""
    groups = reading.groups
    if groups is None:
        return ""
    several = several_digits(reading)
    if several:
        return several
    top, bottom, left, right = reading.digit_box
    height, width = bottom - top, right - left
    if width >= LINE_ASPECT * height:
        return "a long thin line, not a digit"
    if reading.coverage >= BLOT_COVERAGE and width >= BLOT_MIN_WIDTH_SHARE * height:
        return "a solid blot of ink, not a digit"
    if runs_off_edge(groups.digit, reading.picture.signal):
        return "the ink runs off the picture's edge: the digit may be cut"
    if (ink_taken_with_lines(reading) if ink_taken is None else ink_taken) >= TAKEN_MAX_SHARE:
        return "a printed line took some of the digit's ink with it: a stroke may be cut"
    if in_a_printed_box(reading.digit):
        return "a printed box is left around the digit"
    return ""


def several_digits(reading: Reading) -> str:
    """The refusal of a picture holding several digits side by side, or "" (the count is
    ``segment.digits_side_by_side``'s, the one check digit mode makes)."""
    if reading.groups is None:
        return ""
    count = digits_side_by_side(reading.groups.masses, reading.groups.boxes)
    return f"{count} digits side by side: use --read number" if count > 1 else ""


def runs_off_edge(digit: np.ndarray, signal: np.ndarray) -> bool:
    """Whether the digit's ink (an (h, w) mask of the whole analysis picture, and the ink
    signal (h, w) under it) runs off one of the picture's edges: it spans a good share along
    that edge, and its strokes (not thinner ink) reach the border as wide and as dark as they
    are just inside."""
    reaching = [turn for turn in _QUARTER_TURNS if _spans_top(turn(digit))]
    if not reaching:  # the usual case: the stroke width is measured only when needed
        return False
    min_run_px = EDGE_MIN_RUN_SHARE * stroke_width_px(digit)
    return any(_cut_at_top(turn(digit), turn(signal), min_run_px) for turn in reaching)


_QUARTER_TURNS = (
    lambda array: array,
    lambda array: array[:, ::-1].T,
    lambda array: array[::-1, ::-1],
    lambda array: array.T[:, ::-1],
)
"""``np.rot90(array, k)`` for k = 0 to 3, the same views made directly (np.rot90's checks
cost more than the edge test they feed)."""


def _spans_top(digit: np.ndarray) -> bool:
    """Whether the digit's ink reaches the top border and spans
    :data:`EDGE_MIN_SIDE_SHARE` of the picture's width."""
    if not digit[0].any():  # the usual case: the border row alone tells
        return False
    along = digit.any(axis=0)
    return bool(along.sum() >= EDGE_MIN_SIDE_SHARE * along.size)


def _cut_at_top(digit: np.ndarray, signal: np.ndarray, min_run_px: float) -> bool:
    """:func:`runs_off_edge` for the top edge alone, which the digit spans."""
    height = digit.shape[0]
    border = _wide_runs(digit[0], min_run_px)
    if not border.any():
        return False
    if border.sum() < _wide_runs(digit[min(EDGE_INNER_PX, height - 1)], min_run_px).sum():
        return False
    inside = signal[min(EDGE_FADE_PX, height - 1)][border]
    return bool(signal[0][border].mean() >= EDGE_FADE * inside.mean())


def _wide_runs(row: np.ndarray, min_px: float) -> np.ndarray:
    """The (w,) bool ``row`` with its runs of True shorter than ``min_px`` cleared."""
    padded = np.concatenate([[False], row, [False]])
    ends = np.flatnonzero(padded[1:] != padded[:-1])  # starts and ends of runs, in turn
    wide = np.zeros_like(row)
    for start, end in zip(ends[::2], ends[1::2], strict=True):
        if end - start >= min_px:
            wide[start:end] = True
    return wide


def ink_taken_with_lines(reading: Reading) -> float:
    """How many pixels of the digit's ink step 4 took out as printed lines, as a share of the
    pixels of ink the digit kept (0 when no line was taken out)."""
    picture, digit = reading.picture, reading.groups.digit
    printed = picture.printed
    if printed is None or not printed.any():
        return 0.0
    before = picture.paper.ink_signal(picture.small)  # the ink signal with the lines in it
    near = _grown(digit, TAKEN_NEAR_PX) & printed
    away = printed & ~_grown(digit, TAKEN_AWAY_PX)
    line_level = np.median(before[away] if away.any() else before[printed])
    ink_level = np.median(before[digit])
    taken = (
        near & (before >= TAKEN_INK_SHARE * ink_level) & (before >= TAKEN_OVER_LINE * line_level)
    )
    return float(taken.sum() / digit.sum())


def _grown(mask: np.ndarray, px: int) -> np.ndarray:
    for _ in range(px):
        mask = dilated(mask)
    return mask


def in_a_printed_box(digit_28x28: np.ndarray) -> bool:
    """Whether the 28x28's ink fills :data:`BOXED_SIDES` sides of its box end to end (nearly:
    :data:`BOXED_FILL_SHARE`), or a narrow box's four sides round a hollow."""
    ink = digit_28x28 > BILEVEL_CUT
    per_row, per_column = ink.sum(axis=1), ink.sum(axis=0)  # (28,) each: ink px in each line
    rows, columns = np.flatnonzero(per_row), np.flatnonzero(per_column)
    if not rows.size:
        return False
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    filled_rows = per_row[top:bottom] >= BOXED_FILL_SHARE * (right - left)
    filled_columns = per_column[left:right] >= BOXED_FILL_SHARE * (bottom - top)
    n = BOXED_SIDE_LINES
    sides = [filled_rows[:n], filled_rows[-n:], filled_columns[:n], filled_columns[-n:]]
    filled = sum(side.any() for side in sides)
    if min(bottom - top, right - left) >= BOXED_MIN_SIDE_PX:
        return filled >= BOXED_SIDES
    inside = ink[top + n : bottom - n, left + n : right - n]
    return filled == len(sides) and inside.size > 0 and inside.mean() < BOXED_HOLLOW_SHARE


@dataclass(frozen=True)
class LinesPutBack:
    """The digit as it reads with the printed lines near its ink put back."""

    digit: np.ndarray
    """(28, 28) float32, as ``Reading.digit``."""
    ink_taken: float
    """:func:`ink_taken_with_lines`: the share of the digit's ink the lines took."""


def with_lines_put_back(reading: Reading, ink_taken: float | None = None) -> LinesPutBack | None:
    """The 28x28 the digit makes with the printed lines' pixels near its ink
    (:data:`PUT_BACK_PX`) put back; None when no printed line came near it. When the network
    reads another digit in it, a line took a stroke or left one in: neither reading is sure
    (``batch.chunk_reading``'s check). ``ink_taken``: as for :func:`rejection`."""
    picture, digit = reading.picture, reading.groups.digit
    if picture.printed is None:
        return None
    near = _grown(digit, PUT_BACK_PX) & picture.printed
    if not near.any():
        return None
    put_back = digit_from_group(replace(picture, printed=None), digit | near)
    taken = ink_taken_with_lines(reading) if ink_taken is None else ink_taken
    return LinesPutBack(put_back, taken)
