"""Splitting the ink of one written number into its digits, ordered left to right.

1. Marks: the ink's 8-connected components (``ink_components``), specks dropped.
2. Digit-like marks are nearly as tall as the number's typical mark, or are a stack of marks
   that is (a digit broken across: ``_stacked``). Each other mark heavier than SPECK_FRACTION
   or, by digit mode's rule (``ink_components.strokes_of``), lighter but near a digit-like
   mark (a 5's flag, the short stroke of a 4 written in two strokes, a piece of a broken
   stroke) joins the digit it overlaps horizontally, else the nearest one; when two digits
   are about as near, the one the network reads better with it. The other marks are dirt.
3. One row only: a digit-like mark wholly below another means a second line of writing,
   unless it lies just below it, when the two are one broken digit.
4. A mark wider than ``SPLIT_WIDTH`` row heights may be touching neighbours. Candidate cuts
   (``cut_paths``: projection minima, contour valleys, drop-fall from the top and the bottom,
   slanted lines) are tried, and a small dynamic programme keeps the sequence of cuts whose
   pieces the network reads best, each piece's score its log-confidence plus a shape prior
   (MNIST's range of aspects per label, the row's height), each cut costing per stroke it
   severs ("segmentation by recognition"); keeping the mark whole is always one choice, and
   one that reads well whole is not searched (no split could beat it), nor is one that the
   network reads confidently and that is no wider than a single digit of the row; a wider one
   read confidently is cut only when the pieces read clearly better (WHOLE_MARGIN), and one
   the whole-digit score doubts (any width when it is the picture's only mark) only when they
   do or are all read surely (WHOLE_DOUBTED); a narrow one beside others read at
   WHOLE_CONFIDENCE but doubted more, by less (DOUBTED_MARGIN); one about as wide as the
   number's other confidently read digits only for ALIKE_MARGIN. A piece of a mark that was
   cut, still wider than a digit (RECUT_WIDTH), is tried for cuts in turn.

Everything is found on the analysis copy of ``recipe.analyse`` (its ink, ``recipe.ink_mask``);
each digit is then read exactly as a single digit is, by ``recipe.digit_from_group``.
"""

import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from digitflow.errors import DigitflowError
from digitflow.mnist_form.masks import bounds
from digitflow.reading import scan
from digitflow.reading.cut_paths import CutPath, cut_paths, left_of, strokes_severed
from digitflow.reading.ink_components import Components, components, strokes_of
from digitflow.reading.recipe import MASK_FRACTION, Picture, digit_from_group, is_speck

Classify = Callable[[np.ndarray], np.ndarray]
"""(k, 28, 28) float32 digits -> (k, 10) float32 probabilities."""
Likeness = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray | None]]
"""(k, 28, 28) float32 digits -> the (k, 10) float32 probabilities ``Classify`` gives,
(k,) float32 log-odds that each looks like a digit the network learned
(``network.digit_likeness``) and (k,) float32 log-odds that each is one whole digit, not two
joined or a fragment (``network.whole_digit``; None for a model without it), from one pass of
the network."""

SIDE_BY_SIDE_GAP = 0.1
"""Digit mode: digit-like marks this share of the row's height apart are separate digits
(a digit's own broken strokes leave smaller gaps)."""
SPECK_FRACTION = 0.04
"""Marks lighter than this share of the heaviest one are no digit, do not set the row's
height and join a digit only when near it."""
DIGIT_HEIGHT = 0.65
"""A mark at least this share of the row's height is a digit (or most of one) ..."""
ROW_HEIGHT_SHARE = 0.75
"""... where the row's height is the median height of the marks at least this share of the
tallest one (a lone flag or dot does not lower it)."""
LIGHT_DIGIT = 0.7
"""Number mode: a digit whose ink level is below this share of the picture's is ink down to
MASK_FRACTION of its own level (``_light_digits_at_own_level``): at the picture's, a fine
pen's 2 beside a bold 6 (0.56 of its level) lost its top and read 0, a 7 (0.49) kept only its
stem; the lone digits broken into pieces of the number bench vary by 0.8 to 0.95 between
pieces, and are read as in digit mode."""
LINE_GAP = 0.25
STACKED_OVERLAP = 0.5
"""A digit-like mark less than LINE_GAP row heights wholly below another, across at least
STACKED_OVERLAP of the narrower one's width, is a piece of the same broken digit (a fine pen's
light 2 on the number bench lay 0.13 row heights below its top); farther, it is on a second
line of writing."""
NEAR_TIE = 2.0
"""A mark between two digits, no more than this many times nearer one than the other, joins
the one the network reads better with it."""
SPLIT_WIDTH = 0.65
"""Marks wider than this share of the row's height are tried for cuts (a touching "18" and the
"17" of a touching "179", each read as one digit, were 0.73 row heights wide; at 0.6 a
separated 5, 0.63 wide, lost a 1 off its side: "50" read "150"). bench/number_accuracy.py
--count 100, 0.75 -> 0.65: touching 2-4 digits, seeds 0/1/2, 60.3/60.3/63.0 -> 60.3/61.0/63.0
%; separated seeds 0/1 and one digit the same ..."""
WHOLE_CONFIDENCE = 0.99
WHOLE_WIDTH = 1.2
WHOLE_MIN_LIKENESS = -5.0
"""A mark the network reads at this confidence or more, at most this many row heights wide,
not unlike every digit (digit-likeness log-odds at least this) and, with a whole-digit
score, more likely one whole digit than not, is one digit and is not tried for cuts: 99 % of
the single MNIST test digits of the number bench's separated numbers are at most 1.18 row
heights wide, and the cuts that beat such a mark shaved a confident "1" off a 2, an 8 or a 0
whose likeness was doubtful (log-odds -1.3 to -4.2); two touching digits read as one
confident digit look like none (-7 to -10 for the drawn pairs of the tests).
bench/number_accuracy.py --count 100, 2-4 digits: without a whole-digit score, separated
92.3 -> 94.0 %, generous 93.7 -> 94.7 %, one digit 96.5 -> 97.0 %, touching unchanged at
42.3 %, overlapping 24.3 -> 23.3 %; with it, separated and generous 93.3 -> 93.7 %, the rest
unchanged."""
SURE_LIKENESS = 1.0
WHOLE_DOUBT = -4.0
"""... but a mark the likeness finds clearly digit-like (log-odds at least SURE_LIKENESS) needs
only a whole-digit score of WHOLE_DOUBT or more: the score doubted lone digits (a 2, a 9 and an
8 read at 0.9998 or more, log-odds -2.1 to -3.3, likeness 1.5 to 10) that were then cut into
"76", "01" and "55"; the drawn pairs of the tests score -7.5 to -10.4. bench/number_accuracy.py
--count 100 (seed 0): one digit 96.8 -> 97.5 %, separated 2-4 digits 93.0 -> 94.0 %, touching
54.3 -> 54.0 % (a touching "01" at -3.7, likeness 2.3, is no longer cut); -3.5 keeps that one
but gains only 93.3 % separated."""
WHOLE_MARGIN = 3.0
"""... and a wider one the network reads so is cut only when its pieces read this much
log-probability better than it whole (a lone 5 at 1.47 row heights, read at 1.000 and
clearly digit-like, was cut into "35"). Number bench photos (bench/number_accuracy.py, lengths
1-4), seed 0 --count 100 and seed 1 --count 50: one digit 391 -> 392 of 400 and 194 -> 195 of
200, separated 2-4 digits 94.0 -> 94.0 % and 94.7 -> 95.3 %, touching and overlapping the same;
7 also kept a wide lone 2 whole but lost touching 62.0 -> 61.3 % on seed 1."""
LONE_MARGIN = 6.5
"""... or this much when the mark is the picture's only one: its row is its own height, so
its width says nothing a digit's own aspect does not, and digit mode reads it as one digit
(lone 2s with a long foot, a 5, a 0 and a 4 were cut at 3.7 to 22.6 better; two touching
digits read confidently as one won by 6.8 and 8.3)."""
MAX_PIECE_WIDTH = 1.6
"""... into pieces at most this wide (the whole mark is always a candidate too)."""
NARROWEST = (0.6, 0.15, 0.6, 0.5, 0.5, 0.5, 0.48, 0.45, 0.5, 0.4)
"""Width over height that 99 % of MNIST's test digits of each label are at least: a piece
read as a 4 but half as wide as a 4 ever is, is half a digit ..."""
NARROW_PENALTY = 20.0
"""... and costs this much log-probability per unit of aspect it lacks."""
WIDEST = (1.25, 0.8, 1.33, 1.11, 1.05, 1.43, 1.0, 1.03, 1.0, 0.9)
"""Width over height that 95 % of MNIST's test digits of each label are at most: a reading
wider than that is penalised ..."""
WIDE_PENALTY = 8.0
"""... by this much log-probability per height of extra width (two touching digits nearly
always are wider than one)."""
ROW_WIDE = 1.2
"""A reading wider than this share of the row's height is penalised ..."""
ROW_WIDE_PENALTY = 15.0
"""... by this much log-probability per row height of extra width."""
CUT_COST = 1.5
"""Log-probability a cut costs per stroke it crosses: the pieces must read this much better
than the whole (the network reads half a digit confidently more often than not), and cutting
through a digit crosses more strokes than cutting where two digits touch."""
SURE_CONFIDENCE = 0.999
SURE_CUT = 1.0
"""A cut between two pieces each read at SURE_CONFIDENCE or more and more likely one whole
digit than not costs this much log-probability less: a touching pair whose whole reads as
one digit at 0.7-0.97 (a 7 with a 1 leaning on it, a 9 and a 1) lost only to the cut's cost,
its two pieces read at 1.000 and taken for whole digits. bench/number_accuracy.py --count 100,
touching 2-4 digits, seeds 0/1/2: 58.0/55.7/60.3 -> 60.3/59.0/63.7 %; separated the same on
seeds 0 and 1; 1.5 makes the cut free and adds a 1 cut off a 0 ("90" read "910"): touching
59.0 on seed 0, 2 digits 74 -> 70."""
WHOLE_DOUBTED = 0.0
"""A mark read confidently as one digit whose whole-digit log-odds are below this keeps its
margin (WHOLE_MARGIN, LONE_MARGIN) only against readings with a piece not read surely
(``_sure``), and when it is the picture's only mark it is tried for cuts however narrow it is:
touching pairs read as one digit at 0.995 to 1.000 that the score doubted (-0.2 to -2.6: "31"
read 3, "10" and "63" read 0, "21" read 2) cut into two surely read whole digits, while the
lone digits it doubted as much (-1.6 to -3.9: an 8, a 5, a 9) cut into pieces not all sure.
bench/number_accuracy.py --count 100, touching 2-4 digits, seeds 0/1/2: 60.0/59.3/62.3 ->
60.3/60.3/63.0 %; one-digit pictures 490 -> 491 of 500. Beside other marks, one no wider
than WHOLE_WIDTH is one digit as if undoubted: there it lost a 1 cut off ("547" read "5417",
"345" "3415", "5684" "56814"), and touching digits are mostly one mark: seeds 0/1/2, touching
the same (60.3/61.0/63.0 %), separated 94.7/95.7/94.3 -> 94.7/95.7/94.7 %, generous
96.0/94.3/94.7 -> 96.3/94.7/94.7 %, one digit the same."""
DOUBTED_MARGIN = 1.0
"""A mark no wider than WHOLE_WIDTH that the network reads at WHOLE_CONFIDENCE or more but that
the likeness or the whole-digit score doubt too much to call it one confident digit, beside
other marks, is cut only for this margin: its row's height comes from the other digits, so it
is as narrow as one of them, and separated numbers lost a 1 shaved off a 4, a 0 and a 6 (read
at 0.9989 to 0.9999) for 0.2 to 0.7 better, where touching marks so read and cut right won by
2.0 or more. A lone mark's row is its own height, so a touching pair looks as narrow as one
digit (a lone touching "74", 4 at 0.998, was cut right for 0.7 better): it has no such
margin. bench/number_accuracy.py --count 100 readings (cached photos), separated 2-4 digits,
seeds 0/1/2: 94.3/95.3/94.0 -> 94.7/95.7/94.3 %; generous 96.0/94.3/94.3 -> 96.0/94.3/94.7 %;
touching and one digit the same."""
SAME_WIDTH = 1.3
ALIKE_MARGIN = 4.0
"""A mark beside others no wider than SAME_WIDTH times the median width of the others read as
one confident digit (other than 1s, narrower than any) is cut only when its pieces read
ALIKE_MARGIN better: one writer's digits are about as wide as each other, and two touching
ones are wider. On the number bench's separated numbers a 6, a 4, a 3 and a 9 (read at 0.75
to 0.99) were cut into "60", "51", "75" and "01", a doubted 2 lost a 1 off its side, at 1.11
to 1.23 times the others' width, for 0.6 to 3.1 better; the touching pairs cut right at up to
1.3 times won by 5.5 or more but one (1.0: a "64" now kept whole). bench/number_accuracy.py
--count 100 readings (cached photos), 2-4 digits, seeds 0/1/2: separated 94.7/95.7/94.7 ->
95.3/95.7/95.7 % (cut searches 140 -> 74); touching 60.3/61.0/63.0 -> 60.3/60.7/62.7 % ("644"
read "64", "7163" "763"); generous and one-digit pictures the same."""
DIGIT_WIDTH = 0.55
"""A touching digit's width over the row's height, about (the height of a mark of touching
digits spans the tallest of them and the baseline's wobble, so its digits are narrower than
MNIST's median 0.75): a mark holds about its width over this many row heights of digits ..."""
COUNT_COST = 1.5
"""... and a reading of it in two or more pieces costs this much log-probability per piece
more or fewer than that ..."""
COUNT_SLACK = 0.5
"""... beyond this many (a 1 is half as wide as most digits, a 0 wider). Keeping the mark whole
costs nothing: it only decides how many pieces a mark cut at all is cut into (three touching
digits, not a two-digit piece and one), not whether it is cut (a wide 2 with a curl at its
foot is as wide as two digits)."""
MERGE_MARGIN = 2.0
"""Two close marks become one digit when that reads this much log-probability better: read
each as two fragments (likeness, whole-digit score), the two strokes of a 4 win by 3.0 and
3.6 on the number bench, where a touching 4 and 1 won by 1.8."""
MIN_PIECE = 0.12
"""A cut leaves at least this share of the row's height on each side (a 1 is this thin) ..."""
PIECE_HEIGHT = 0.5
"""... and pieces at least this share of it tall: what a cut shaves off a digit's end (the
tip of a 2's tail, the curl of a 0) is no digit, however confidently the network reads it
once it is blown up to 28 x 28."""
RECUT_WIDTH = 1.2
"""A piece of a cut mark wider than this many row heights is tried for cuts again, on its own
paths: with four touching digits the whole mark's few paths (MAX_PATHS, its deepest valleys)
often miss one of the cuts between them; a narrower piece is one digit's width (99 % of the
single digits of the number bench are at most 1.18 row heights wide) and cut again would
lose a 1 shaved off its side."""
WHOLE_DIGIT_WEIGHT = 1.0
"""With a whole-digit score, each piece's log-probability of being one whole digit counts this
much (tuned on the number bench's seed 1: 0.5 and 2 split touching digits less or cut
separated ones more)."""


class Rejected(DigitflowError):
    """The picture is not what the read mode expects (the message says why)."""


class TooManyMarks(Rejected):
    """More separate marks than ``predict_folder.max_digits``."""


class SeveralLines(Rejected):
    """Marks in more than one row of writing."""


class SeveralDigits(Rejected):
    """Digit mode, and the picture holds several digits side by side."""


@dataclass(frozen=True)
class Segmentation:
    """A number read digit by digit, left to right."""

    digits_kx28x28: np.ndarray
    """(k, 28, 28) float32: each digit as the network saw it."""
    probs_kx10: np.ndarray
    """(k, 10) float32: the network's probabilities for each digit."""
    likeness: np.ndarray | None
    """(k,) float32: each digit's log-odds that it looks like a digit the network learned, from
    the same pass (``Likeness``); None when read without a likeness."""
    masks: list[np.ndarray]
    """Each digit's ink on the analysis copy, (h, w) bool."""
    cuts: list[np.ndarray]
    """Each cut through touching ink: (n, 2) int (row, column) in analysis px of the pixels
    just right of it."""


@dataclass(frozen=True)
class Ink:
    """A picture analysed (``recipe.analyse``) and its ink (``recipe.ink_mask``)."""

    picture: Picture
    mask: np.ndarray
    """(h, w) bool on ``picture.small``."""


@dataclass(frozen=True)
class _Marks:
    found: Components
    digits: list[list[int]]
    """Component labels of each digit-like mark with the marks that joined it, left to right."""
    minor: list[int]
    """The other marks that are strokes of a digit, heaviest first."""
    row_height: float


def digits_side_by_side(masses: np.ndarray, boxes_nx4: np.ndarray) -> int:
    """How many digit-like marks stand side by side, from the ink's components (their masses
    and boxes, as ``ink_components.ink_groups`` finds them), by shape alone: touching digits
    count as one, and so do marks closer than SIDE_BY_SIDE_GAP."""
    if masses.size == 1:  # the usual photo: one component is one mark
        return 1
    marks = _marks(masses, boxes_nx4)
    if marks is None:
        return 0
    digits, row_height = marks
    boxes = boxes_nx4[digits]  # left to right
    gaps = boxes[1:, 2] - np.maximum.accumulate(boxes[:-1, 3])
    return 1 + int((gaps >= SIDE_BY_SIDE_GAP * row_height).sum())


def segment_number(
    ink: Ink, classify: Classify, max_digits: int, likeness: Likeness | None = None
) -> Segmentation | None:
    """The digits of the number written in ``ink``; None when it holds no digit-like mark.
    Raises TooManyMarks or SeveralLines. ``likeness``, when given, also weighs how a cut's
    pieces (and the whole mark) look like digits at all."""
    marks = _digit_marks(ink)
    if marks is None:
        return None
    if (lighter := _light_digits_at_own_level(ink, marks)) is not None:
        ink, marks = lighter, _digit_marks(lighter)
    if len(marks.digits) > max_digits:
        raise TooManyMarks(
            f"{len(marks.digits)} marks, more than predict_folder.max_digits={max_digits}"
        )
    _check_one_row(marks.found.boxes, marks.digits)
    groups = [list(group) for group in marks.digits]
    for minor in marks.minor:
        _join(ink, classify, groups, minor, marks.found)
    groups = _merge_close(ink, classify, likeness, groups, marks)
    marks_read = _read_wide(ink, classify, likeness, groups, marks)
    masks, cuts = [], []
    for mark in marks_read:
        if mark.probs_10 is None:
            masks.append(mark.mask)
            continue
        lone = len(marks_read) == 1
        alike = _as_wide_as_the_others(mark, marks_read)
        pieces, mark_cuts = _cut(ink, classify, likeness, mark, marks.row_height, lone, alike)
        masks += pieces
        cuts += mark_cuts
    if len(masks) > max_digits:
        raise TooManyMarks(f"{len(masks)} digits, more than predict_folder.max_digits={max_digits}")
    digits, probs, log_odds = _read(ink, classify, masks, likeness)
    kept = [i for i, digit in enumerate(digits) if digit is not None]
    if not kept:
        return None
    return Segmentation(
        np.stack([digits[i] for i in kept]),
        probs[kept],
        None if likeness is None else log_odds[0, kept],
        [masks[i] for i in kept],
        cuts,
    )


def _digit_marks(ink: Ink) -> _Marks | None:
    """The marks (steps 1 and 2 without recognition), or None when there are none."""
    found = components(ink.picture.signal, ink.mask)
    marks = _marks(found.mass, found.boxes)
    if marks is None or is_speck(found.labels >= 0):
        return None
    tall, row_height = marks
    strokes = strokes_of(found.mass, found.boxes, tall)
    strokes |= found.mass >= SPECK_FRACTION * found.mass.max()
    strokes[tall] = False
    minor = [
        int(i) for i in np.flatnonzero(strokes)[np.argsort(-found.mass[strokes], kind="stable")]
    ]
    stacks = _stacked(found.boxes, tall + minor, row_height)
    digits = [group for group in stacks if _height(found.boxes[group]) >= DIGIT_HEIGHT * row_height]
    digits.sort(key=lambda group: sum(_span(found.boxes[group])))
    row_height = _row_height(np.array([_height(found.boxes[group]) for group in digits]))
    minor = [i for i in minor if not any(i in group for group in digits)]
    return _Marks(found, digits, minor, row_height)


def _light_digits_at_own_level(ink: Ink, marks: _Marks) -> Ink | None:
    """``ink`` with each light digit taken down to MASK_FRACTION of its own ink level: a
    component of the faint ink (above ``Picture.faintest_ink``), at least DIGIT_HEIGHT of the
    row tall, whose ink (``scan.ink_levels``) is below LIGHT_DIGIT of the picture's and
    whose strongest is a stroke core of the picture's (``scan.CORE_FRACTION`` of its
    strongest: a shadow's edge along the sheet has none). None when there is none, or when
    fewer than two such tall components hold ink (a lone digit is read as digit mode reads
    it)."""
    signal, (strongest_ink, level) = ink.picture.signal, ink.picture.ink_levels
    faint = components(signal, signal > ink.picture.faintest_ink)
    heights = faint.boxes[:, 1] - faint.boxes[:, 0]
    tall = np.flatnonzero(heights >= DIGIT_HEIGHT * marks.row_height)
    tall = [label for label in tall if (ink.mask & (faint.labels == label)).any()]
    if len(tall) < 2:
        return None
    tiny = np.finfo(np.float32).tiny
    grown = ink.mask.copy()
    for label in tall:
        mark = faint.labels == label
        strongest, own = scan.ink_levels(np.where(mark & ink.mask, signal, 0.0), tiny)
        if own < LIGHT_DIGIT * level and strongest >= scan.CORE_FRACTION * strongest_ink:
            grown |= mark & (signal > MASK_FRACTION * own)
    return None if (grown == ink.mask).all() else Ink(ink.picture, grown)


def _stacked(boxes_nx4: np.ndarray, marks: list[int], row_height: float) -> list[list[int]]:
    """The ``marks`` in groups, each mark with those wholly below it by less than LINE_GAP row
    heights that overlap it across at least STACKED_OVERLAP of the narrower's width: digits
    of one row stand side by side, so such a stack is one digit broken across (a fine pen's
    light 2 in two pieces, or in a number two pieces each too short to be a digit), not two
    lines."""
    groups = {i: [i] for i in marks}
    for upper, lower in itertools.permutations(marks, 2):
        top, bottom, left, right = boxes_nx4[[upper, lower]].T
        overlap = min(right) - max(left)
        if (
            0 <= top[1] - bottom[0] < LINE_GAP * row_height
            and overlap >= STACKED_OVERLAP * min(right - left)
            and upper in groups
            and lower in groups
        ):
            groups[upper] += groups.pop(lower)
    return list(groups.values())


def _height(boxes_nx4: np.ndarray) -> int:
    return int(boxes_nx4[:, 1].max() - boxes_nx4[:, 0].min())


def _row_height(heights: np.ndarray) -> float:
    """The median height of the marks at least ROW_HEIGHT_SHARE of the tallest one."""
    return float(statistics.median(heights[heights >= ROW_HEIGHT_SHARE * heights.max()].tolist()))


def _marks(masses: np.ndarray, boxes_nx4: np.ndarray) -> tuple[list[int], float] | None:
    """The digit-like marks left to right and the row's height; None when there is no ink."""
    if masses.size == 0:
        return None
    marks = np.flatnonzero(masses >= SPECK_FRACTION * masses.max())
    heights = boxes_nx4[marks, 1] - boxes_nx4[marks, 0]
    row_height = _row_height(heights)
    tall = heights >= DIGIT_HEIGHT * row_height
    digits = marks[tall][np.argsort(boxes_nx4[marks[tall], 2] + boxes_nx4[marks[tall], 3])]
    return [int(i) for i in digits], row_height


def _check_one_row(boxes_nx4: np.ndarray, digits: list[list[int]]) -> None:
    """SeveralLines when a digit-like mark (its components' ``boxes_nx4``) lies wholly below
    another: no row of pixels crosses both, which a baseline's wobble within one line never
    does."""
    tops = np.array([boxes_nx4[group, 0].min() for group in digits])
    bottoms = np.array([boxes_nx4[group, 1].max() for group in digits])
    below = tops[:, None] >= bottoms[None, :]  # [i, j]: mark i wholly below mark j
    if below.any():
        raise SeveralLines(
            "marks in several rows (one wholly below another): only one line is read"
        )


def _join(
    ink: Ink, classify: Classify, groups: list[list[int]], minor: int, found: Components
) -> None:
    """Add the mark ``minor`` to the group it belongs with (step 2)."""
    _, _, left, right = found.boxes[minor]
    spans = [_span(found.boxes[group]) for group in groups]
    overlap = np.array([min(right, end) - max(left, start) for start, end in spans], dtype=float)
    distance = np.maximum(-overlap, 0.0)
    if (overlap > 0).sum() == 1:
        groups[int(np.argmax(overlap))].append(minor)
        return
    if (overlap > 0).sum() > 1:  # a mark bridging two digits: the two it overlaps most
        candidates = np.argsort(-overlap, kind="stable")[:2]
    else:
        candidates = np.argsort(distance, kind="stable")[:2]
        if len(candidates) == 1 or distance[candidates[1]] > NEAR_TIE * distance[candidates[0]]:
            groups[int(candidates[0])].append(minor)
            return
    a, b = (int(i) for i in sorted(candidates))
    labels = found.labels
    masks = [np.isin(labels, group) for group in (groups[a], groups[b])]
    mark = labels == minor
    options = [masks[0] | mark, masks[1], masks[0], masks[1] | mark]
    _, probs, _ = _read(ink, classify, options)
    score = np.log(np.maximum(probs.max(axis=1), 1e-6))
    groups[a if score[0] + score[1] >= score[2] + score[3] else b].append(minor)


def _merge_close(
    ink: Ink,
    classify: Classify,
    likeness: Likeness | None,
    groups: list[list[int]],
    marks: _Marks,
) -> list[list[int]]:
    """Neighbours closer than SIDE_BY_SIDE_GAP row heights become one digit when the network
    reads them clearly better together (a 4 written in two strokes that do not meet), each
    reading scored as a cut's pieces are (``_piece_scores``)."""
    labels, row_height = marks.found.labels, marks.row_height
    merged = [groups[0]]
    for group in groups[1:]:
        previous = merged[-1]
        gap = _span(marks.found.boxes[group])[0] - _span(marks.found.boxes[previous])[1]
        if gap >= SIDE_BY_SIDE_GAP * row_height:
            merged.append(group)
            continue
        options = [np.isin(labels, previous + group), np.isin(labels, previous)]
        options.append(np.isin(labels, group))
        _, probs, log_odds = _read(ink, classify, options, likeness)
        score = _piece_scores(options, probs, log_odds, row_height)
        if score[0] > score[1] + score[2] + MERGE_MARGIN:
            merged[-1] = previous + group
        else:
            merged.append(group)
    return merged


def _scores(masks: list[np.ndarray], probs_kx10: np.ndarray, row_height: float) -> np.ndarray:
    """Log-score of each mask as one digit: the network's confidence and the shape prior."""
    labels = probs_kx10.argmax(axis=1)
    priors = [
        _shape_prior(mask, row_height, label) for mask, label in zip(masks, labels, strict=True)
    ]
    return np.log(np.maximum(probs_kx10.max(axis=1), 1e-6)) + priors


def _span(boxes_nx4: np.ndarray) -> tuple[int, int]:
    return int(boxes_nx4[:, 2].min()), int(boxes_nx4[:, 3].max())


@dataclass(frozen=True)
class _Mark:
    """A digit's ink and, when it is wide enough to be tried for cuts, how the network reads
    it whole (``_read``)."""

    mask: np.ndarray
    probs_10: np.ndarray | None
    log_odds_2: np.ndarray | None


def _read_wide(
    ink: Ink, classify: Classify, likeness: Likeness | None, groups: list[list[int]], marks: _Marks
) -> list[_Mark]:
    """Each group's mask, those wider than SPLIT_WIDTH read whole in one pass."""
    masks = [np.isin(marks.found.labels, group) for group in groups]
    wide = [i for i, mask in enumerate(masks) if _width_of(mask) >= SPLIT_WIDTH * marks.row_height]
    _, probs, log_odds = _read(ink, classify, [masks[i] for i in wide], likeness)
    read = dict(zip(wide, range(len(wide)), strict=True))
    return [
        _Mark(mask, probs[read[i]], log_odds[:, read[i]]) if i in read else _Mark(mask, None, None)
        for i, mask in enumerate(masks)
    ]


def _as_wide_as_the_others(mark: _Mark, marks: list[_Mark]) -> bool:
    """Whether ``mark`` is at most SAME_WIDTH times the median width of the other marks
    read as one confident digit other than a 1 (``_one_confident_digit``)."""
    widths = [
        _width_of(other.mask)
        for other in marks
        if other is not mark
        and other.probs_10 is not None
        and other.probs_10.argmax() != 1
        and _one_confident_digit(other.probs_10, other.log_odds_2)
    ]
    return bool(widths) and _width_of(mark.mask) <= SAME_WIDTH * statistics.median(widths)


def _width_of(mask: np.ndarray) -> int:
    _, _, left, right = bounds(mask)
    return right - left


def _cut(
    ink: Ink,
    classify: Classify,
    likeness: Likeness | None,
    mark: _Mark,
    row_height: float,
    lone: bool,
    alike: bool,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The digits in ``mark``, left to right, and the cuts made (step 4): the sequence of
    cut paths (``cut_paths``) whose pieces the network reads best, found by a small dynamic
    programme over the paths in left-to-right order; a wide mark read confidently is cut only
    when its pieces read WHOLE_MARGIN better (LONE_MARGIN when it is the picture's ``lone``
    mark; all read surely, when the whole-digit score doubts the whole: WHOLE_DOUBTED), a
    narrow one read at WHOLE_CONFIDENCE but doubted more, not lone, only when they read
    DOUBTED_MARGIN better, one ``alike`` in width to the number's other digits
    (``_as_wide_as_the_others``) only for ALIKE_MARGIN; each piece wider than RECUT_WIDTH is
    then tried for cuts the same way."""
    mask = mark.mask
    top, bottom, left, right = bounds(mask)
    probs, log_odds = mark.probs_10[None], mark.log_odds_2[:, None]
    confident = _one_confident_digit(probs[0], log_odds[:, 0])
    narrow = right - left <= WHOLE_WIDTH * row_height
    doubted = confident and log_odds[1, 0] < WHOLE_DOUBTED and (lone or not narrow)
    if narrow and confident and not doubted:
        return [mask], []
    if confident:
        margin = LONE_MARGIN if lone else WHOLE_MARGIN
    else:
        beside_others = narrow and not lone and probs[0].max() >= WHOLE_CONFIDENCE
        margin = DOUBTED_MARGIN * beside_others
    margin = max(margin, ALIKE_MARGIN * alike)
    whole_score = _piece_scores([mask], probs, log_odds, row_height) + margin * (not doubted)
    # No piece scores above 0, every cut costs CUT_COST - SURE_CUT or more and the count prior
    # costs splits only: a whole mark scoring at least that cannot be beaten, so its paths are
    # not even drawn.
    if whole_score[0] >= SURE_CUT - CUT_COST:
        return [mask], []
    box = mask[top:bottom, left:right]
    paths = cut_paths(box, row_height, max(1, int(np.ceil(MIN_PIECE * row_height))))
    if not paths:
        return [mask], []
    # Node 0 is the box's left edge, node n + 1 its right edge, the paths lie between; the
    # whole mark, already scored, is the piece from one to the other.
    lefts = [np.zeros(box.shape, bool)]
    lefts += [left_of(path, box.shape[1]) for path in paths]
    lefts.append(np.ones(box.shape, bool))
    edges, pieces = [(0, len(lefts) - 1)], [mask]
    for i, j in itertools.combinations(range(len(lefts)), 2):
        if (lefts[i] & ~lefts[j]).any():  # the paths cross: no piece between them
            continue
        piece = box & lefts[j] & ~lefts[i]
        if (i, j) == edges[0] or not _could_be_a_digit(piece, row_height):
            continue
        whole = np.zeros_like(mask)
        whole[top:bottom, left:right] = piece
        edges.append((i, j))
        pieces.append(whole)
    _, probs, log_odds = _read(ink, classify, pieces[1:], likeness)
    sure = _sure(probs, log_odds)
    scores = _piece_scores(pieces[1:], probs, log_odds, row_height) - doubted * margin * ~sure
    piece_scores = np.concatenate([whole_score, scores])
    costs = [0.0] + [CUT_COST * strokes_severed(box, path) for path in paths] + [0.0]
    expected = (right - left) / (DIGIT_WIDTH * row_height)
    # The whole read confidently already has its margin to beat: no cut costs it less, unless
    # the margin is only against pieces not sure.
    sure = np.concatenate([[False], sure & (doubted or not confident)])
    chosen = _best_sequence(edges, piece_scores, costs, expected, sure)
    by_edge = dict(zip(edges, pieces, strict=True))
    cuts = [_cut_pixels(paths[j - 1], top, left) for _, j in chosen[:-1]]
    if len(chosen) == 1:
        return [by_edge[edge] for edge in chosen], cuts
    digits = []
    for i, j in chosen:
        if _width_of(by_edge[i, j]) <= RECUT_WIDTH * row_height:
            digits.append(by_edge[i, j])
            continue
        k = edges.index((i, j)) - 1  # its reading among the pieces'
        piece = _Mark(by_edge[i, j], probs[k], log_odds[:, k])
        piece_digits, piece_cuts = _cut(
            ink, classify, likeness, piece, row_height, lone=False, alike=False
        )
        digits += piece_digits
        cuts += piece_cuts
    return digits, cuts


def _one_confident_digit(probs_10: np.ndarray, log_odds_2: np.ndarray) -> bool:
    """Whether a mark the network reads with ``probs_10`` and ``log_odds_2`` (``_read``) is
    one digit at WHOLE_CONFIDENCE or more, not unlike every digit (WHOLE_MIN_LIKENESS) and
    one whole digit enough (``_whole_enough``)."""
    return bool(
        probs_10.max() >= WHOLE_CONFIDENCE
        and log_odds_2[0] >= WHOLE_MIN_LIKENESS
        and _whole_enough(log_odds_2[0], log_odds_2[1])
    )


def _whole_enough(likeness_log_odds: float, whole_log_odds: float) -> bool:
    """Whether the whole-digit score (inf: no score) lets a confident mark stay whole: it
    takes the mark for one whole digit, or it doubts it by no more than WHOLE_DOUBT while
    the likeness finds it clearly digit-like (SURE_LIKENESS)."""
    if whole_log_odds >= 0.0:
        return True
    return likeness_log_odds >= SURE_LIKENESS and whole_log_odds >= WHOLE_DOUBT


def _sure(probs_kx10: np.ndarray, log_odds_2xk: np.ndarray) -> np.ndarray:
    """(k,) bool: whether each piece is read as one digit at SURE_CONFIDENCE or more and the
    whole-digit score takes it for one whole digit (never without a score: the network alone
    reads half a digit confidently more often than not)."""
    whole = log_odds_2xk[1]
    return (probs_kx10.max(axis=1) >= SURE_CONFIDENCE) & (whole >= 0.0) & np.isfinite(whole)


def _piece_scores(
    pieces: list[np.ndarray], probs_kx10: np.ndarray, log_odds_2xk: np.ndarray, row_height: float
) -> np.ndarray:
    """Log-score of each piece of a mark as one digit (``_scores``) from how the network reads
    it (``_read``) plus, with a likeness, the log-probability it gives that the piece looks
    like a digit at all: two touching digits, or half of one, are often read as some digit
    confidently, but look like none; and, with a whole-digit score, WHOLE_DIGIT_WEIGHT times
    its log-probability that the piece is one whole digit, not two joined or a fragment."""
    weights = np.array([1.0, WHOLE_DIGIT_WEIGHT])
    return _scores(pieces, probs_kx10, row_height) - weights @ np.logaddexp(0.0, -log_odds_2xk)


def _best_sequence(
    edges: list[tuple[int, int]],
    scores: np.ndarray,
    costs: list[float],
    expected: float,
    sure: np.ndarray,
) -> list[tuple[int, int]]:
    """The pieces (i, j), from node 0 to the last node, with the highest total score less the
    cost of each node cut at (SURE_CUT less where the pieces either side are both ``sure``),
    less the count prior (``_count_prior``) against ``expected`` digits. ``edges`` come in
    order of i, each with i < j."""
    nodes = len(costs)
    # [e, k]: best total of k pieces from node 0 ending with edge e, and the edge before it.
    best = np.full((len(edges), nodes), -np.inf)
    back = np.full((len(edges), nodes), -1)
    ending_at = [[] for _ in range(nodes)]
    for e, ((i, j), score) in enumerate(zip(edges, scores, strict=True)):
        ending_at[j].append(e)
        if i == 0:
            best[e, 1] = score
            continue
        for before in ending_at[i]:
            total = best[before, :-1] + score - costs[i] + SURE_CUT * (sure[before] & sure[e])
            better = total > best[e, 1:]
            best[e, 1:][better] = total[better]
            back[e, 1:][better] = before
    last = ending_at[nodes - 1]
    totals = best[last] - _count_prior(np.arange(nodes), expected)
    e, k = np.unravel_index(int(np.argmax(totals)), totals.shape)
    e, k = last[e], int(k)
    chosen = []
    while e >= 0:
        chosen.append(edges[e])
        e, k = int(back[e, k]), k - 1
    return chosen[::-1]


def _count_prior(pieces: int | np.ndarray, expected: float) -> float | np.ndarray:
    """Log-probability a reading of a mark in ``pieces`` digits costs, ``expected`` digits
    fitting its width: COUNT_COST per digit more or fewer beyond COUNT_SLACK, none whole."""
    cost = COUNT_COST * np.maximum(0.0, np.abs(pieces - expected) - COUNT_SLACK)
    return np.where(np.asarray(pieces) > 1, cost, 0.0)


def _could_be_a_digit(piece: np.ndarray, row_height: float) -> bool:
    """Whether a piece is worth reading: MIN_PIECE to MAX_PIECE_WIDTH row heights wide and
    at least PIECE_HEIGHT tall."""
    rows, columns = np.flatnonzero(piece.any(axis=1)), np.flatnonzero(piece.any(axis=0))
    if columns.size == 0:
        return False
    wide = columns[-1] + 1 - columns[0]
    tall = rows[-1] + 1 - rows[0]
    return (
        MIN_PIECE * row_height <= wide <= MAX_PIECE_WIDTH * row_height
        and tall >= PIECE_HEIGHT * row_height
    )


def _cut_pixels(path: CutPath, top: int, left: int) -> np.ndarray:
    """(h, 2) int: (row, column) in analysis px of the pixels just right of a cut."""
    rows = np.arange(path.ends.size)
    return np.stack([rows + top, path.ends + left], axis=1)


def _aspect(mask: np.ndarray) -> float:
    """Width over height of a mask's box (0 when empty)."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if columns.size == 0:
        return 0.0
    return (columns[-1] + 1 - columns[0]) / (rows[-1] + 1 - rows[0])


def _shape_prior(mask: np.ndarray, row_height: float, label: int) -> float:
    """Log-odds, from its shape alone, that ``mask`` is one digit read as ``label``: how far
    its aspect lies outside the range MNIST's test digits of that label keep to, and how much
    wider than a digit of the row it is."""
    columns = np.flatnonzero(mask.any(axis=0))
    if columns.size == 0:
        return -np.inf
    aspect = _aspect(mask)
    narrow = NARROW_PENALTY * max(0.0, NARROWEST[label] - aspect)
    wide = WIDE_PENALTY * max(0.0, aspect - WIDEST[label])
    width = (columns[-1] + 1 - columns[0]) / row_height
    return -narrow - wide - ROW_WIDE_PENALTY * max(0.0, width - ROW_WIDE)


def _read(
    ink: Ink, classify: Classify, masks: list[np.ndarray], likeness: Likeness | None = None
) -> tuple[list[np.ndarray | None], np.ndarray, np.ndarray]:
    """How the network reads each mask as one digit, in one pass: its digit (None when nothing
    is left of it; other ink kept out of it), its (k, 10) probabilities and, with ``likeness``,
    (2, k) log-odds that it looks like a digit at all and that it is one whole digit (inf
    where there is no such score; a None digit reads zeros)."""
    digits = _digits(ink, masks)
    present = [i for i, digit in enumerate(digits) if digit is not None]
    probs = np.zeros((len(masks), 10), dtype=np.float32)
    log_odds = np.zeros((2, len(masks)), dtype=np.float32)  # digit-like, whole digit
    if likeness is None:
        log_odds[:] = np.inf
    if not present:
        return digits, probs, log_odds
    batch = np.stack([digits[i] for i in present])
    if likeness is None:
        probs[present] = classify(batch)
        return digits, probs, log_odds
    probs[present], log_odds[0, present], whole = likeness(batch)
    if whole is None:
        log_odds[1] = np.inf
    else:
        log_odds[1, present] = whole
    return digits, probs, log_odds


def _digits(ink: Ink, masks: list[np.ndarray]) -> list[np.ndarray | None]:
    """Each mask's (28, 28) digit, None when nothing is left of it; other ink kept out."""
    return [
        digit_from_group(ink.picture, mask, ink.mask & ~mask) if mask.any() else None
        for mask in masks
    ]
