"""Printed structure is not ink: the long straight lines a printer or a ruler drew (form
boxes, comb boxes, ruled and squared paper, a margin line), found and taken out of the ink
signal before the digit's groups are.

Handwriting is short and curved; a printed line is long, straight and thin for its length.
On the analysis copy, the ink pixels are projected along each direction within
``MAX_TILT_DEG`` of the rows (then of the columns): a line piles its pixels into one or two
neighbouring bins. The fullest bin is grown across while the neighbouring bins hold most of
its count, and kept as a line if the band is covered, with gaps of at most ``MAX_GAP_PX``,
over at least ``MIN_LENGTH`` of the picture and is ``MIN_ASPECT`` times longer than thick;
its pixels leave the projection and the next fullest bin is tried. Most bins tried in a
picture without lines are a thick stroke's: a band too thick for any line is given up before
its pixels are looked at, and one whose ink spans too few columns before its run is measured
(a picture whose ink covers too few columns is not projected at all). The shorter lines whose
ends meet lines across them (a box's short sides) are looked for only along the tilts square
to the longest line, and not at all on squared paper (lines running from edge to edge both
ways), where the search is made again keeping each line's band to its core, so that a
stroke lying along a line neither thickens it nor goes with it. A stroke that crosses a
line (ink just beyond both sides of the band that is not itself a line, straight across or
slantwise) keeps its pixels in the band, so the gap the line leaves in the stroke is filled;
so does ink over a line printed lighter than it, wherever it lies on the line.
"""

import statistics
from dataclasses import dataclass

import numpy as np

from digitflow.mnist_form.masks import nonzero_pixels
from digitflow.mnist_form.stroke import stroke_width_px
from digitflow.reading.paper import median

LINE_FRACTION = 0.25
"""Pixels above this share of the ink's level may belong to a printed line (they are often
lighter than the ink)."""
MAX_TILT_DEG = 10.0
"""Lines are looked for up to this far from horizontal and vertical (a tilted or
perspective photo) ..."""
TILT_STEP_DEG = 1.0
"""... in steps of this (a 128 px line drifts about one bin between steps)."""
MIN_LENGTH = 0.35
"""A line spans at least this share of the picture's side along it (or ``ANCHORED_LENGTH``
when both its ends meet lines across it: a box's short sides) ..."""
ANCHORED_LENGTH = 0.12
ANCHORED_ASPECT = 4.0
"""A line with both ends on lines across it need only be this many times longer than thick
(the top of a narrow box around a 1)."""
SAME_WIDTH = 1.5
"""Printed lines in one picture are at most this many times as thick as their median (or a
px thicker, for thin ones)."""
EDGE_TO_EDGE = 0.9
"""A line alone (ruled, squared, a margin) runs across this share of the picture; a line that
does not has an end on another line across it (a box's corner)."""
PARALLEL_DEG = 6.0
"""The shorter lines (a box's sides between its long ones) run parallel or at right angles to
the picture's longest line, give or take this much (a phone photo's perspective): a digit's
slanted stroke reaching across a box is not one of its sides."""
BESIDE_PX = 4
"""A line at most this far beside a longer parallel one, paper between them, is a stroke
drawn along it."""
ANCHOR_PX = 3
"""A line's end meets a line across it when one of that line's pixels is this close."""
MIN_ASPECT = 12.0
"""... and is this many times longer than thick: MNIST's pens draw a 1 about 8 times as long
as wide; a form's box line is 25 to 100 times."""
MAX_GAP_PX = 2
"""Breaks of up to this many analysis px along a line (noise, a faint print) are bridged."""
GROW_SHARE = 0.4
"""A bin next to a line's band joins it while it holds this share of the fullest bin ..."""
CORE_SHARE = 0.8
"""... or this share, for a squared paper's line (a stroke may lie along it)."""
MAX_LINES = 48
"""No more lines than this are taken out of one picture (squared paper has a few dozen) ..."""
LIGHTER_LINE = 0.7
"""A line whose core's signal is below this share of the ink's level is printed lighter than
the ink: a stroke over it stands out from it ..."""
OVER_LINE = 0.6
"""... where its signal is this share of the way from the line's core up to the ink's level."""
MAX_MISSES = 16
"""... and the search stops after this many full bins that are not lines (the thick strokes of
a bold digit fill many bins)."""


@dataclass(frozen=True)
class Line:
    """One printed line found, in analysis px."""

    horizontal: bool
    """Along the rows (else along the columns)."""
    slope: float
    """Across-coordinate change per px along it (the tangent of its tilt)."""
    offset: tuple[float, float]
    """Its band's two edges across it, where the along-coordinate is 0."""
    span: tuple[int, int]
    """First and last-plus-one px along it."""

    @property
    def length_px(self) -> int:
        return self.span[1] - self.span[0]

    @property
    def thickness_px(self) -> float:
        return self.offset[1] - self.offset[0]


def find_lines(mask: np.ndarray) -> list[Line]:
    """The printed lines among the ink pixels of ``mask`` (h, w): first the long ones, then
    the shorter ones whose ends meet lines across them (a box's short sides); of those, the
    ones that are printed structure (``_structure``). On squared paper (lines span the
    picture both ways) the search is made again with its lines' bands kept to their cores
    (``_band``), and there are no short sides to look for: what is found between its lines
    is a digit's straight stroke."""
    lines = _lines_along(mask, True) + _lines_along(mask.T, False)
    if not lines:
        return lines
    if len(_ruled_ways(lines, mask.shape, 1)) == 2:  # squared paper, or ruled with a margin
        lines = _lines_along(mask, True, grid=True) + _lines_along(mask.T, False, grid=True)
    else:
        lines += _short_sides(mask, lines)
    return _structure(lines, mask.shape)


def _short_sides(mask: np.ndarray, lines: list[Line]) -> list[Line]:
    """The shorter lines of ``mask`` (h, w), off the long ``lines``, whose ends meet lines
    across them, square to the longest line."""
    square = max(lines, key=lambda line: line.length_px)
    rest = mask & ~line_pixels(mask.shape, lines, grow_px=1.0)
    sides: list[Line] = []
    for horizontal, area in ((True, rest), (False, rest.T)):
        anchors = _near(mask.shape, lines + sides, horizontal=not horizontal)
        sides += _lines_along(area, horizontal, anchors=anchors, square=square)
    return sides


def _ruled_ways(lines: list[Line], shape: tuple[int, int], least: int) -> set[bool]:
    """The ways (horizontal or not) in which at least ``least`` of ``lines`` run from edge
    to edge of the picture (within MAX_GAP_PX of both), as ruled and squared paper's lines
    and a margin do. A box's sides end at its corners, inside the picture."""
    ways = [line.horizontal for line in lines if edge_to_edge(line, shape)]
    return {way for way in ways if ways.count(way) >= least}


def edge_to_edge(line: Line, shape: tuple[int, int]) -> bool:
    side_px = shape[1 if line.horizontal else 0]
    return line.span[0] <= MAX_GAP_PX and line.span[1] >= side_px - MAX_GAP_PX


def _square_slope(other: Line, horizontal: bool) -> float:
    """The slope of a line running ``horizontal`` parallel or at right angles to ``other`` (a
    vertical line's slope is dx/dy: at right angles to a horizontal one of slope s, it is -s)."""
    return other.slope if other.horizontal == horizontal else -other.slope


def _structure(lines: list[Line], shape: tuple[int, int]) -> list[Line]:
    """The lines that are printed structure: as thin as the others (one printer drew them
    all; a stroke lying along a line thickens it), and spanning EDGE_TO_EDGE of the picture
    or with an end on another such line across them (box sides, comb teeth). A long straight
    stroke of a digit (the stem of a 6 in a fine pen) ends in ink or paper. On ruled or
    squared paper (``_ruled_ways``), a shorter one needs both ends on lines across it (comb
    teeth): a digit's stem often starts on a ruled line, seldom ends on one."""
    usual = float(statistics.median([line.thickness_px for line in lines]))
    widest = usual + max(1.0, (SAME_WIDTH - 1) * usual)
    kept = [
        line for line in lines if line.thickness_px <= widest and not _along_a_longer(line, lines)
    ]
    ends = all if _ruled_ways(lines, shape, 2) else any
    while True:
        held = [
            line
            for line in kept
            if _spans(line, shape)
            or ends(_ends_on(line, _near(shape, kept, horizontal=not line.horizontal)))
        ]
        if len(held) == len(kept):
            return kept
        kept = held


def _along_a_longer(line: Line, lines: list[Line]) -> bool:
    """Does ``line`` run beside a parallel one that is longer (or as long and thinner), paper
    between them but at most BESIDE_PX away? Printed lines are further apart: it is a digit's
    straight stroke drawn along a box's side (the foot of a 2 on the box's bottom)."""
    middle = sum(line.span) / 2
    low, high = (edge + line.slope * middle for edge in line.offset)
    for other in lines:
        if other.horizontal != line.horizontal or _shorter_or_thicker(other, line):
            continue
        if abs(np.degrees(np.arctan(other.slope) - np.arctan(line.slope))) > 2 * TILT_STEP_DEG:
            continue
        other_low, other_high = (edge + other.slope * middle for edge in other.offset)
        gap = max(other_low - high, low - other_high)
        if 1 <= gap <= BESIDE_PX:
            return True
    return False


def _shorter_or_thicker(line: Line, other: Line) -> bool:
    """Is ``line`` shorter than ``other``, or as long and at least as thick? (A pen's stroke
    along a box's side is thicker than the printed line.)"""
    if line.length_px != other.length_px:
        return line.length_px < other.length_px
    return line.thickness_px >= other.thickness_px


def _spans(line: Line, shape: tuple[int, int]) -> bool:
    return line.length_px >= EDGE_TO_EDGE * shape[1 if line.horizontal else 0]


def _near(shape: tuple[int, int], lines: list[Line], horizontal: bool) -> np.ndarray:
    """Mask (h, w) of the pixels within ANCHOR_PX of the ``lines`` running ``horizontal``."""
    chosen = [line for line in lines if line.horizontal == horizontal]
    return line_pixels(shape, chosen, grow_px=ANCHOR_PX)


def _ends_on(line: Line, area: np.ndarray) -> tuple[bool, bool]:
    """Whether the first and the last px of ``line`` lie in ``area`` (h, w), anywhere across
    its band: a thick line's end is as wide as the line, and the line across it may meet only
    the near side of it."""
    target = area if line.horizontal else area.T
    band = np.arange(int(np.floor(line.offset[0])), int(np.ceil(line.offset[1])))
    ends = (line.span[0], line.span[1] - 1)
    return tuple(
        bool(target[np.clip((band + line.slope * x).astype(int), 0, len(target) - 1), x].any())
        for x in ends
    )


def line_pixels(shape: tuple[int, int], lines: list[Line], grow_px: float = 0.0) -> np.ndarray:
    """Mask (h, w) of the lines' bands, each widened by ``grow_px`` on both sides."""
    drawn = np.zeros(shape, dtype=bool)
    for line in lines:
        target = drawn if line.horizontal else drawn.T
        start, end = line.span
        along = np.arange(max(0, start - int(grow_px)), min(target.shape[1], end + int(grow_px)))
        for across, at in _band_steps(line, along, grow_px, target.shape[0]):
            target[across, at] = True
    return drawn


def _band_steps(line: Line, along: np.ndarray, grow_px: float, size: int):
    """``line``'s band at the columns ``along`` (in its own direction), widened by ``grow_px``
    on both sides, one px across at a time: for each step, the (across, along) indices of its
    pixels within ``size`` across."""
    low = np.floor(line.offset[0] - grow_px + line.slope * along).astype(int)
    high = np.ceil(line.offset[1] + grow_px + line.slope * along).astype(int)
    for step in range(int((high - low).max())):
        across = low + step
        inside = (across < high) & (across >= 0) & (across < size)
        yield across[inside], along[inside]


def crossings(ink: np.ndarray, lines: list[Line], printed: np.ndarray) -> np.ndarray:
    """Mask (h, w) of the pixels of the lines' bands where a stroke crosses: ink that is not
    printed lies just beyond both edges of the band, straight across or, away from those, at
    most the band's thickness apart along it (a stroke crossing at 45° or steeper): the band
    is kept between them."""
    strokes = ink & ~printed
    kept = np.zeros(ink.shape, dtype=bool)
    for line in lines:
        target, seen = (kept, strokes) if line.horizontal else (kept.T, strokes.T)
        along = np.arange(*line.span)
        low, high = _taken_rows(line, along)
        size = target.shape[0]
        before = np.zeros(along.size, dtype=bool)
        after = np.zeros(along.size, dtype=bool)
        for step in (0, 1):  # up to two px beyond each edge: the line's blurred rim is between
            for edge, found, sign in ((low, before, -1), (high, after, 1)):
                across = edge + sign * step
                valid = (across >= 0) & (across < size)
                found[valid] |= seen[across[valid], along[valid]]
        across_it = before & after
        reach = int((high - low).max())
        slantwise = (_found_within(before, -reach) & _found_within(after, reach)) | (
            _found_within(after, -reach) & _found_within(before, reach)
        )
        # Where a stroke leaves straight across, a stroke along the line (a 7's bar on it)
        # meets it: only the slantwise crossings away from it are filled.
        near_across = _found_within(across_it, -reach) | _found_within(across_it, reach)
        crossed = across_it | (slantwise & ~near_across)
        for across in range(0, reach + 1):
            rows = low[crossed] + across
            inside = (rows >= 0) & (rows < size) & (rows <= high[crossed])
            target[rows[inside], along[crossed][inside]] = True
    return kept


def strokes_along(digit: np.ndarray, lines: list[Line]) -> np.ndarray:
    """Mask (h, w) of the lines' bands (with the rim taken out with them) where the digit's
    stroke runs along a line: at each px along it where the ``digit``'s ink (h, w) lies just
    beyond the band, the band is kept from that edge inwards by as much as the stroke there
    falls short of the digit's mean stroke width. A stroke that lay partly on the line (a 7's
    bar on a box's top, a 0's side on its side: as dark as the line) comes back as wide as
    the digit's other strokes; one that only touches the line, or leaves it, keeps nothing."""
    width_px = stroke_width_px(digit)
    steps = int(np.ceil(width_px))
    kept = np.zeros(digit.shape, dtype=bool)
    for line in lines:
        target, seen = (kept, digit) if line.horizontal else (kept.T, digit.T)
        along = np.arange(*line.span)
        low, high = _taken_rows(line, along)
        size = target.shape[0]
        for first_beyond, inward in ((low - 1, 1), (high, -1)):
            run = _run_beyond(seen, first_beyond, -inward, along, steps)
            short = np.where(run > 0, np.ceil(width_px - run), 0).clip(0, high - low)
            start = first_beyond + inward  # the band's row next to the stroke
            for step in range(int(short.max(initial=0))):
                rows = start + inward * step
                inside = (short > step) & (rows >= 0) & (rows < size)
                target[rows[inside], along[inside]] = True
    return kept


def _taken_rows(line: Line, along: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, end) rows across ``line`` at the px ``along`` it of what is taken out with it:
    its band and the blurred rim a px either side."""
    low = np.floor(line.offset[0] + line.slope * along).astype(int) - 1
    high = np.ceil(line.offset[1] + line.slope * along).astype(int) + 1
    return low, high


def _run_beyond(
    seen: np.ndarray, first: np.ndarray, step: int, along: np.ndarray, longest: int
) -> np.ndarray:
    """For each px ``along`` a line: how many px of ``seen`` (across, along) run from row
    ``first`` on in the direction ``step`` (+1 or -1), at most ``longest``."""
    run = np.zeros(along.size, dtype=int)
    running = np.ones(along.size, dtype=bool)
    for offset in range(longest):
        rows = first + step * offset
        inside = (rows >= 0) & (rows < seen.shape[0])
        running &= inside
        running[inside] &= seen[rows[inside], along[inside]]
        run += running
    return run


def _found_within(found: np.ndarray, reach: int) -> np.ndarray:
    """For each index of the (n,) bool ``found``: is one True within ``reach`` indices
    before it (``reach`` < 0) or after it (``reach`` > 0), itself included?"""
    seen = np.concatenate([[0], np.cumsum(found)])
    index = np.arange(found.size)
    if reach < 0:
        return seen[index + 1] > seen[np.maximum(index + reach, 0)]
    return seen[np.minimum(index + reach + 1, found.size)] > seen[index]


_TILTS = np.arange(-MAX_TILT_DEG, MAX_TILT_DEG + 1e-6, TILT_STEP_DEG)
SLOPES = np.tan(np.radians(_TILTS[np.argsort(np.abs(_TILTS), kind="stable")]))
"""The tangents of the tilts looked along, level first (ties in the search go to level)."""
_MINUS_SLOPES = -SLOPES[:, None]


def _lines_along(
    mask: np.ndarray,
    horizontal: bool,
    anchors: np.ndarray | None = None,
    square: Line | None = None,
    grid: bool = False,
) -> list[Line]:
    """Lines of ``mask`` (h, w) running along its rows, within MAX_TILT_DEG: long ones, or
    shorter ones with both ends on ``anchors`` when given (a mask of the picture, which is
    ``mask.T`` for vertical lines), only along tilts square to ``square`` if given; on
    squared paper if ``grid``."""
    height, width = mask.shape
    if anchors is not None and not anchors.any():
        return []
    min_length = (MIN_LENGTH if anchors is None else ANCHORED_LENGTH) * width
    min_aspect = MIN_ASPECT if anchors is None else ANCHORED_ASPECT
    start, end = _longest_run(mask.any(axis=0))
    if end - start < min_length:
        return []  # a line covers that many columns: nothing below could be one
    # No band thicker can be min_aspect times longer than thick: its pixels cover at most the
    # columns the whole mask covers. A band is at least two bins thick.
    thickest = int((end - start) // min_aspect)
    if thickest < 2:
        return []
    ys, xs = nonzero_pixels(mask)
    if ys.size < min_length:
        return []
    pad = int(np.ceil(width * np.abs(SLOPES).max())) + 1
    bins = height + 2 * pad
    # (angles, pixels): the bin across each angle's direction that each pixel falls in (the
    # pad keeps it positive, so truncating is flooring), ys - xs * slope + pad summed in place
    # in that order ...
    across = _MINUS_SLOPES * xs
    across += ys
    across += pad
    across_bin = across.astype(np.int64)
    # ... and its index among all angles' bins
    flat_bin = across_bin + bins * np.arange(SLOPES.size)[:, None]
    alive = np.ones(ys.size, dtype=bool)
    counts = _counts(flat_bin, bins)
    pairs = counts[:, :-1] + counts[:, 1:]  # a line may drift between two bins
    tried = np.zeros(pairs.shape, dtype=bool)
    if square is not None:  # look only along the tilts parallel or at right angles to it
        off_deg = np.degrees(np.arctan(SLOPES) - np.arctan(_square_slope(square, horizontal)))
        tried[np.abs(off_deg) > PARALLEL_DEG] = True
    tried_flat = tried.ravel()  # a view: marking ``tried`` marks it
    order, position = _fullest_first(pairs, min_length), 0
    # The angles tried: their counts as a plain list (the band grows one bin at a time) and
    # their floor. Most angles are never tried.
    seen: dict[int, tuple[list[int], float]] = {}
    lines: list[Line] = []
    misses = 0
    while len(lines) < MAX_LINES and misses < MAX_MISSES:
        while position < len(order) and tried_flat[order[position]]:
            position += 1
        if position == len(order):
            break
        angle, first = divmod(order[position], pairs.shape[1])
        if angle not in seen:
            row = counts[angle].tolist()
            seen[angle] = row, _median_of_nonempty(row)
        low, high = _band(*seen[angle], first, thickest, width if grid else 0)
        least = max(min_length, min_aspect * (high - low))
        start, end = 0, 0
        if high - low <= thickest:
            # bin in [low, high): one unsigned comparison (below low wraps round to huge)
            inside = (across_bin[angle] - low).view(np.uint64) < high - low
            if lines:  # the pixels of the lines found are taken
                inside &= alive
            start, end = _covered_run(xs[inside], least)
        line = None
        if end - start >= least:
            own_low, own_high = _own_bins(*seen[angle], low, high)
            offset = (float(own_low - pad), float(own_high - pad))
            line = Line(horizontal, float(SLOPES[angle]), offset, (start, end))
        if line is None or (anchors is not None and not all(_ends_on(line, anchors))):
            misses += 1  # nor is anything this band or its neighbours pile up
            tried[max(0, angle - 2) : angle + 3, max(0, first - 2) : first + 3] = True
            continue
        lines.append(line)
        taken = alive & (across_bin[angle] >= low) & (across_bin[angle] < high)
        taken &= (xs >= start) & (xs < end)
        alive &= ~taken
        counts = _counts(flat_bin[:, alive], bins)
        seen.clear()
        pairs = counts[:, :-1] + counts[:, 1:]
        order, position = _fullest_first(pairs, min_length), 0
    return lines


def _fullest_first(pairs: np.ndarray, least: float) -> list[int]:
    """The flat indices of the (angles, bins) ``pairs`` holding at least ``least`` pixels,
    fullest first, ties in flat order: the order in which ``np.argmax`` picks them, each
    cleared in turn (found in one sort: the search tries a dozen pairs or more, and a full
    argmax for each cost more than the rest of the try)."""
    flat = pairs.ravel()
    full = np.flatnonzero(flat >= least)
    return full[np.argsort(-flat[full], kind="stable")].tolist()


def _band(
    counts: list[int], floor: float, first: int, thickest: int, grid_side_px: int = 0
) -> tuple[int, int]:
    """(low, high) of the band started at bins ``first`` and ``first + 1`` of one angle's
    ``counts``, grown across while neighbours hold GROW_SHARE of its fuller bin above the
    ``floor`` (lines across this direction add a few pixels to every bin, as on squared
    paper: the band grows over bins that stand out from them). On squared paper, whose
    lines run EDGE_TO_EDGE of its ``grid_side_px`` along them, a line's band grows only over
    the bins holding CORE_SHARE as much: a digit's stroke lying along it must not thicken
    it (the band would then be dropped as too thick, or take the stroke with it)."""
    full = max(counts[first], counts[first + 1]) >= EDGE_TO_EDGE * grid_side_px > 0
    return _grown(counts, floor, first, thickest, CORE_SHARE if full else GROW_SHARE)


def _grown(
    counts: list[int], floor: float, first: int, thickest: int, share: float
) -> tuple[int, int]:
    """``_band`` grown over the neighbours holding ``share`` of its fuller bin above the
    ``floor``, stopping once more than ``thickest`` bins thick."""
    least = share * (max(counts[first], counts[first + 1]) - floor)
    low, high = first, first + 2
    while low > 0 and counts[low - 1] - floor >= least and high - low <= thickest:
        low -= 1
    while high < len(counts) and counts[high] - floor >= least and high - low <= thickest:
        high += 1
    return low, high


def _own_bins(counts: list[int], floor: float, low: int, high: int) -> tuple[int, int]:
    """(low, high) of a line's band [low, high) less the end bins holding under GROW_SHARE
    of its fullest bin above the ``floor``: a line one px thick (a small photo's grid) fills
    one of the two bins its search started from, and a band of both, with its rim, would
    take a stroke running a px beside it. (The search keeps both: a line drifting across
    them is covered.)"""
    least = GROW_SHARE * (max(counts[low:high]) - floor)
    while high - low > 1 and counts[low] - floor < least:
        low += 1
    while high - low > 1 and counts[high - 1] - floor < least:
        high -= 1
    return low, high


def _covered_run(along: np.ndarray, least: float) -> tuple[int, int]:
    """(start, end) of the longest stretch of columns covered, with gaps of at most
    MAX_GAP_PX, by pixels in the columns ``along``; (0, 0) when they span fewer than
    ``least`` columns."""
    if along.size == 0 or along.max() - along.min() + 1 < least:
        return 0, 0
    return _longest_run(np.bincount(along) > 0)


def _median_of_nonempty(counts: list[int]) -> float:
    """The median of the non-zero ``counts`` (the mean of the two middle ones for an even
    number; 0 when there are none)."""
    nonempty = sorted(filter(None, counts))
    if not nonempty:
        return 0.0
    middle = len(nonempty) // 2
    return (nonempty[(len(nonempty) - 1) // 2] + nonempty[middle]) / 2


def _longest_run(covered: np.ndarray, max_gap: int = MAX_GAP_PX) -> tuple[int, int]:
    """(start, end) of the longest stretch of ``covered`` whose gaps are at most ``max_gap``."""
    where = np.flatnonzero(covered)
    if where.size == 0:
        return 0, 0
    breaks = np.flatnonzero(np.diff(where) > max_gap + 1)
    if breaks.size == 0:  # one stretch
        return int(where[0]), int(where[-1]) + 1
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [where.size - 1]])
    best = int(np.argmax(where[ends] - where[starts]))
    return int(where[starts[best]]), int(where[ends[best]]) + 1


def _counts(flat_bin: np.ndarray, bins: int) -> np.ndarray:
    """(angles, bins): how many pixels fall in each bin of each angle, from each pixel's
    ``flat_bin`` (angles, pixels) among all the angles' bins."""
    return np.bincount(flat_bin.ravel(), minlength=SLOPES.size * bins).reshape(SLOPES.size, bins)


def without_lines(
    signal: np.ndarray, level: float, lines: list[Line] | None = None
) -> tuple[np.ndarray, np.ndarray, list[Line]]:
    """The ink ``signal`` (h, w) with its printed lines taken out (set to 0, strokes that
    cross them kept), the mask of what was taken out, and the lines. ``level`` is the ink's
    level; ``lines`` skips the search and takes out those."""
    ink = signal > LINE_FRACTION * level
    if lines is None:
        lines = find_lines(ink)
    if not lines:
        return signal, np.zeros(signal.shape, dtype=bool), []
    printed = line_pixels(signal.shape, lines, grow_px=1.0)  # and the line's blurred rim
    printed &= ~crossings(ink, lines, printed) & ~ink_over_lines(signal, level, lines)
    return np.where(printed, 0.0, signal).astype(np.float32), printed, lines


def ink_over_lines(signal: np.ndarray, level: float, lines: list[Line]) -> np.ndarray:
    """Mask (h, w) of the pixels of the lines' bands where ink lies over a line printed
    lighter than it (grey or blue squares, ruled lines): their signal is OVER_LINE of the way
    from the line's core up to the ink's ``level``, so a stroke is kept whichever way it
    crosses the line or runs along it. A pixel on the own band (not the rim) of a line
    running from edge to edge that does not stand out from that line is the line's, though
    it lies on a lighter line too: a grid line split across two px is lighter in each than
    one that is not, and where the two cross a dot would stay. (A "line" as dark as the
    ink is a digit's straight stroke.)"""
    over = np.zeros(signal.shape, dtype=bool)
    its_own = np.zeros(signal.shape, dtype=bool)
    for line in lines:
        core = _core_level(signal, line)
        lighter = core < LIGHTER_LINE * level
        stands_out = signal > core + OVER_LINE * (level - core)
        if lighter:
            over |= line_pixels(signal.shape, [line], grow_px=1.0) & stands_out
        if core < level and edge_to_edge(line, signal.shape):  # ruled or squared paper's
            its_own |= line_pixels(signal.shape, [line]) & ~(lighter & stands_out)
    return over & ~its_own


def _core_level(signal: np.ndarray, line: Line) -> float:
    """The signal of ``line``'s core: the strongest pixel across its band (grown by a px: the
    band may sit a px off) at each px along it, and the median of those, which strokes
    crossing the line at a few places do not move."""
    target = signal if line.horizontal else signal.T
    start, end = line.span
    strongest = np.full(end - start, -np.inf, dtype=np.float32)
    for across, at in _band_steps(line, np.arange(start, end), 1.0, target.shape[0]):
        strongest[at - start] = np.maximum(strongest[at - start], target[across, at])
    return median(strongest)
