"""Reading a number: its ink split into digits, left to right (digitflow.reading.segment).

The network here is a template matcher over the very drawings the numbers are made of, so a
digit cut out right reads with near certainty and a wrong cut does not.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageDraw

from digitflow.reading.images import EmptyImage, normalise_digit, normalise_number
from digitflow.reading.segment import (
    CUT_COST,
    Rejected,
    SeveralDigits,
    SeveralLines,
    TooManyMarks,
    _best_sequence,
)
from digitflow.synthetic.numbers import number_ink
from digitflow.synthetic.photos import draw_digit
from digitflow.synthetic.printed import printed_lines

PAPER, INK = 0.9, 0.1
SIZE_PX = 112


def drawn(label: int) -> np.ndarray:
    return draw_digit(label, np.random.default_rng(label), SIZE_PX)


def wide(label: int) -> np.ndarray:
    """A drawn digit half as wide again: touching pairs of narrow digits are no wider than
    one wide digit, and nothing but the network could tell them apart."""
    glyph = Image.fromarray(drawn(label))
    return np.asarray(glyph.resize((SIZE_PX * 3 // 2, SIZE_PX), Image.Resampling.BILINEAR))


def strokes(lines: list[list[tuple[float, float]]]) -> np.ndarray:
    """Ink (SIZE_PX, SIZE_PX) of pen strokes given in a 0..1 box."""
    canvas = Image.new("L", (SIZE_PX, SIZE_PX), 0)
    pen = ImageDraw.Draw(canvas)
    for line in lines:
        pen.line([(x * SIZE_PX, y * SIZE_PX) for x, y in line], fill=255, width=9, joint="curve")
    return np.asarray(canvas, dtype=np.float32) / 255


def bowl(steps: int = 24) -> list[tuple[float, float]]:
    t = np.radians(np.linspace(-140, 150, steps))
    return list(zip(0.5 + 0.29 * np.cos(t), 0.66 + 0.28 * np.sin(t), strict=True))


TWO_STROKE_FOUR = strokes([[(0.3, 0.1), (0.18, 0.55), (0.56, 0.55)], [(0.68, 0.08), (0.66, 0.95)]])
"""A 4 whose strokes do not meet: a short ∟ beside a tall bar."""
FIVE_DETACHED_FLAG = strokes([[(0.38, 0.06), (0.82, 0.06)], [(0.3, 0.16), (0.27, 0.45), *bowl()]])
"""A 5 whose flag was written apart from its body."""


def page(ink: np.ndarray, margin: int = 30) -> Image.Image:
    """Dark ink on light paper, ``margin`` px of paper around it."""
    coverage = np.pad(ink, margin)
    return Image.fromarray(np.round((PAPER + (INK - PAPER) * coverage) * 255).astype(np.uint8))


def number(glyphs: list[np.ndarray], spacing: str = "separated", jitter: float = 0.0):
    rng = np.random.default_rng(0)
    return page(number_ink(glyphs, rng, spacing, baseline_jitter=jitter, size_range=(1, 1)))


class Templates:
    """Probabilities from the distance to each label's own drawing, normalised alone."""

    def __init__(self, glyphs: dict[int, np.ndarray]):
        self.labels = sorted(glyphs)
        self.templates = np.stack([normalise_digit(number([glyphs[k]])) for k in self.labels])

    def distances(self, digits_kx28x28: np.ndarray) -> np.ndarray:
        return ((digits_kx28x28[:, None] - self.templates[None]) ** 2).sum(axis=(2, 3))

    def log_odds(self, digits_kx28x28: np.ndarray) -> np.ndarray:
        """Log-odds that each digit is one of the drawings: high near one, low far from all."""
        return 4.0 - self.distances(digits_kx28x28).min(axis=1) / 10.0

    def likeness(self, digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        """The probabilities and the log-odds as a digit likeness, no whole-digit score."""
        return self(digits_kx28x28), self.log_odds(digits_kx28x28), None

    def whole_digit(self, digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The probabilities, a likeness that finds every picture digit-like, and the log-odds
        as the whole-digit score."""
        sure = np.full(len(digits_kx28x28), 20.0, np.float32)
        return self(digits_kx28x28), sure, self.log_odds(digits_kx28x28)

    def __call__(self, digits_kx28x28: np.ndarray) -> np.ndarray:
        logits = -self.distances(digits_kx28x28) / 2.0
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        out = np.full((len(digits_kx28x28), 10), 1e-6, dtype=np.float32)
        out[:, self.labels] = probs
        return out


DRAWN = Templates({label: drawn(label) for label in range(10)})
WIDE = Templates({label: wide(label) for label in range(10)})


def read(picture: Image.Image, classify=DRAWN, max_digits: int = 12, likeness=None) -> str:
    number_read = normalise_number(picture, classify, max_digits=max_digits, likeness=likeness)
    return "".join(str(d) for d in number_read.probs_kx10.argmax(axis=1))


@pytest.mark.parametrize("digits", ["2026", "0420", "7", "31415"])
def test_separated_digits_are_read_left_to_right_leading_zeros_kept(digits):
    assert read(number([drawn(int(d)) for d in digits])) == digits


def test_a_two_stroke_four_and_a_five_with_a_detached_flag_are_each_kept_whole():
    classify = Templates({4: TWO_STROKE_FOUR, 5: FIVE_DETACHED_FLAG, 1: drawn(1)})
    picture = number([TWO_STROKE_FOUR, drawn(1), FIVE_DETACHED_FLAG])
    assert len(normalise_number(picture, classify).masks) == 3
    assert read(picture, classify) == "415"


TALL_HOOK = [(0.3, 0.1), (0.18, 0.7), (0.56, 0.7)]
BAR = [(0.68, 0.08), (0.66, 0.95)]


def fragments_doubted(templates: Templates, label: int):
    """A likeness that trusts only the drawing ``templates`` read as ``label`` (log-odds 5)
    and finds every other shape unlike a digit (-3)."""

    def likeness(digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        like = np.where(that_drawing(templates, digits_kx28x28, label), 5.0, -3.0)
        return templates(digits_kx28x28), like.astype(np.float32), None

    return likeness


def test_a_four_of_two_tall_strokes_each_read_as_a_digit_is_one_when_they_look_like_none():
    # On the number bench each stroke of such a 4 read as a confident 1: "44" became "411".
    four = strokes([TALL_HOOK, BAR])
    classify = Templates({4: four, 7: strokes([TALL_HOOK]), 1: strokes([BAR])})
    assert read(number([four]), classify) == "71", "each stroke alone reads as a digit"
    assert read(number([four]), classify, likeness=fragments_doubted(classify, 4)) == "4"


def test_a_short_digit_standing_apart_is_a_digit_not_a_flag_of_its_neighbour():
    short_five = np.asarray(Image.fromarray(drawn(5)).resize((SIZE_PX, SIZE_PX // 2)))
    classify = Templates({1: drawn(1), 5: short_five})
    picture = number([drawn(1), short_five], spacing="generous")
    assert read(picture, classify) == "15"


@pytest.mark.parametrize("digits", ["65", "20", "507"])
def test_touching_neighbours_are_cut_between_the_digits(digits):
    picture = number([wide(int(d)) for d in digits], spacing="touching")
    number_read = normalise_number(picture, WIDE)
    assert number_read.cuts, "the digits were not touching"
    assert read(picture, WIDE) == digits


@pytest.mark.parametrize(("digits", "whole_digit_score"), [("871", False), ("5180", True)])
def test_touching_digits_are_cut_into_as_many_digits_as_their_width_holds(
    digits, whole_digit_score
):
    # Without the count prior a two-digit piece wins: "83" and "520".
    picture = number([wide(int(d)) for d in digits], spacing="touching")
    likeness = WIDE.whole_digit if whole_digit_score else None
    assert read(picture, WIDE, likeness=likeness) == digits


@pytest.mark.parametrize("digits", ["314", "438", "48062"])
def test_a_wide_piece_of_touching_digits_is_cut_again_on_its_own_paths(digits):
    # Cut on the whole mark's paths alone: "34", "47" and "4804".
    picture = number([wide(int(d)) for d in digits], spacing="touching")
    assert read(picture, WIDE, likeness=WIDE.whole_digit) == digits


def curl_before(glyph: np.ndarray, row: float) -> tuple[np.ndarray, np.ndarray]:
    """``glyph`` with a small loop, a fifth of its height, joined to its left edge at ``row``
    (a share of its height), as a pen's flourish starts a stroke; and the loop alone."""
    side = SIZE_PX // 5
    ink = np.pad(glyph, ((0, 0), (side + 8, 0)))
    left = int(np.flatnonzero(ink.max(axis=0) > 0.5)[0])
    canvas = Image.new("F", ink.shape[::-1], 0.0)
    pen = ImageDraw.Draw(canvas)
    y, x = row * SIZE_PX, left - side / 2 - 4
    pen.ellipse([x - side / 2, y - side / 2, x + side / 2, y + side / 2], outline=1.0, width=9)
    pen.line([(x + side / 2 - 4, y), (left + 4, y)], fill=1.0, width=9)
    curl = np.asarray(canvas)
    return np.maximum(ink, curl), curl


def test_a_curl_at_a_digits_foot_is_not_cut_off_as_a_digit():
    two, curl = curl_before(wide(2), row=0.8)
    classify = Templates({2: wide(2), 8: curl, 1: drawn(1)})  # the curl alone reads as an 8
    assert read(number([two]), classify) == "2"


@pytest.mark.parametrize("digits", ["00", "65", "14", "88"])
def test_touching_digits_read_as_one_are_cut_when_the_whole_looks_like_no_digit(digits):
    picture = number([drawn(int(d)) for d in digits], spacing="touching")
    assert len(read(picture)) == 1, "the pair no longer reads as one confident digit"
    assert read(picture, likeness=DRAWN.likeness) == digits


@pytest.mark.parametrize("digits", ["00", "65", "14", "88", "10"])
def test_touching_digits_read_as_one_are_cut_when_the_whole_is_not_one_whole_digit(digits):
    picture = number([drawn(int(d)) for d in digits], spacing="touching")
    without_score = lambda d: DRAWN.whole_digit(d)[:2] + (None,)  # noqa: E731
    assert len(read(picture, likeness=without_score)) == 1, "digit-like alone, it is one digit"
    assert read(picture, likeness=DRAWN.whole_digit) == digits


def that_drawing(templates: Templates, digits_kx28x28: np.ndarray, label: int) -> np.ndarray:
    """(k,) bool: which of the digits are the drawing ``templates`` read as ``label``."""
    distances = templates.distances(digits_kx28x28)
    nearest = distances.argmin(axis=1) == templates.labels.index(label)
    return nearest & (distances.min(axis=1) < 30)


def doubting(templates: Templates, label: int):
    """A likeness that doubts the drawing ``templates`` read as ``label`` (log-odds -3, as
    the photo bench's likeness doubted some clearly read digits) and trusts any other shape."""

    def likeness(digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        doubt = np.where(that_drawing(templates, digits_kx28x28, label), -3.0, 5.0)
        doubt = doubt.astype(np.float32)
        return templates(digits_kx28x28), doubt, None

    return likeness


@pytest.mark.parametrize("label", [0, 2, 8])
def test_a_confident_digit_the_likeness_doubts_is_not_cut_into_pieces(label):
    # What a cut shaves off a 0, a 2 or an 8 reads as a confident 1 that looks like a digit.
    picture = number([wide(label)])
    assert read(picture, WIDE, likeness=doubting(WIDE, label)) == str(label)


def doubted_whole(
    templates: Templates, label: int, others: float = -0.5, unsure_others: bool = False
):
    """A likeness that finds every shape clearly digit-like and whose whole-digit score
    doubts the drawing ``templates`` read as ``label`` (log-odds -2.5, as the number bench's
    score doubted some lone digits read at 0.9998) and gives any other shape ``others``;
    with ``unsure_others``, any other shape is read at 0.91 at most."""

    def likeness(digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mine = that_drawing(templates, digits_kx28x28, label)
        whole = np.where(mine, -2.5, others).astype(np.float32)
        sure = np.full(len(digits_kx28x28), 5.0, np.float32)
        probs = templates(digits_kx28x28)
        if unsure_others:
            probs[~mine] = 0.9 * probs[~mine] + 0.01
        return probs, sure, whole

    return likeness


@pytest.mark.parametrize("label", [0, 6, 9])
def test_a_clearly_digit_like_digit_the_whole_digit_score_doubts_a_little_is_not_cut(label):
    # Cut, a 0, a 6 or a 9 gives a confident 1 and a piece, neither taken for a whole digit.
    picture = number([wide(label)])
    assert read(picture, WIDE, likeness=doubted_whole(WIDE, label)) == str(label)


@pytest.mark.parametrize("label", [0, 6, 9])
def test_a_digit_the_whole_digit_score_doubts_is_not_cut_into_pieces_not_read_surely(label):
    # On the number bench a lone 8 doubted at -3.9 was cut into "18", read at 0.89 and 0.997.
    likeness = doubted_whole(WIDE, label, others=5.0, unsure_others=True)
    assert read(number([wide(label)]), WIDE, likeness=likeness) == str(label)


@pytest.mark.parametrize("digits", ["31", "21", "61"])
def test_a_pair_read_as_one_doubted_digit_is_cut_into_two_surely_whole_digits(digits):
    # On the number bench a touching "31" read as a 3 at 1.000 that the whole-digit score
    # doubted (-0.24), and a "21" as a 2 (-2.1); each piece read at 1.000, taken for whole.
    pair = number_ink([drawn(int(d)) for d in digits], np.random.default_rng(0), "touching")
    classify = Templates({8: pair} | {int(d): drawn(int(d)) for d in digits})
    picture = number([pair])
    assert read(picture, classify) == "8", "the pair reads as one confident digit"
    assert read(picture, classify, likeness=doubted_whole(classify, 8, others=5.0)) == digits


@pytest.mark.parametrize("digits", ["31", "21", "61"])
def test_a_digit_beside_others_the_whole_digit_score_doubts_is_not_cut_when_narrow(digits):
    # Beside other marks a separated 5 in "547", doubted by the score, lost a 1 cut off it;
    # the same pair read alone is cut (above), as touching digits are one mark.
    pair = number_ink([drawn(int(d)) for d in digits], np.random.default_rng(0), "touching")
    classify = Templates({8: pair, 7: drawn(7)} | {int(d): drawn(int(d)) for d in digits})
    picture = number([drawn(7), pair])
    assert read(picture, classify, likeness=doubted_whole(classify, 8, others=5.0)) == "78"


def doubted_a_little(templates: Templates, label: int):
    """A likeness that neither finds the drawing ``templates`` read as ``label`` digit-like
    nor unlike (log-odds 0) and whose whole-digit score doubts it (-1.5), as the number
    bench's likeness and score doubted a 4 and a 0 of separated numbers read at 0.999; any
    other shape it trusts."""

    def likeness(digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mine = that_drawing(templates, digits_kx28x28, label)
        sure = np.where(mine, 0.0, 5.0).astype(np.float32)
        whole = np.where(mine, -1.5, 5.0).astype(np.float32)
        return templates(digits_kx28x28), sure, whole

    return likeness


@pytest.mark.parametrize("label", [2, 3, 5])
def test_a_narrow_confident_digit_the_likeness_doubts_is_cut_only_for_a_margin(label):
    # Without the margin a 1 is shaved off each side, as off a 4 in "24" or a 0 in "2420".
    picture = number([wide(label), wide(label)])
    assert read(picture, WIDE, likeness=doubted_a_little(WIDE, label)) == 2 * str(label)


def unsure_of(templates: Templates, label: int):
    """``doubted_a_little``, and the drawing read as ``label`` read at 0.95 only, as the
    number bench's network read a separated 6 and a 4 it then cut into "60" and "51"."""
    doubted = doubted_a_little(templates, label)

    def likeness(digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        probs, sure, whole = doubted(digits_kx28x28)
        mine = that_drawing(templates, digits_kx28x28, label)
        probs[mine] *= 0.95 / probs[mine].max(axis=1, keepdims=True)
        return probs, sure, whole

    return likeness


@pytest.mark.parametrize("label", [2, 3])
def test_a_digit_as_wide_as_the_others_is_cut_only_for_a_margin(label):
    # One writer's digits are about as wide as each other: an unsure digit as wide as its
    # confidently read neighbour is one digit unless its pieces read clearly better.
    picture = number([wide(7), wide(label)])
    assert read(picture, WIDE, likeness=unsure_of(WIDE, label)) == f"7{label}"


def wider(label: int) -> np.ndarray:
    """A drawn digit 1.8 times as wide: wider than 1.2 row heights, as some lone 2s and 5s of
    the number bench are."""
    glyph = Image.fromarray(drawn(label))
    return np.asarray(glyph.resize((SIZE_PX * 9 // 5, SIZE_PX), Image.Resampling.BILINEAR))


WIDER = Templates({label: wider(label) for label in range(10)})


@pytest.mark.parametrize("label", [4, 7])
def test_a_confident_wide_digit_is_cut_only_when_its_pieces_read_clearly_better(label):
    # Without the margin a 4 and a 7 lose a confident 1 off their side: "14" and "71".
    assert read(number([wider(label)]), WIDER, likeness=WIDER.whole_digit) == str(label)


def test_a_lone_confident_wide_digit_needs_a_larger_margin_to_be_cut():
    # Alone, its row is its own height: a 4 twice as wide as tall lost its sides as 1s, "11".
    glyph = Image.fromarray(drawn(4)).resize((SIZE_PX * 2, SIZE_PX), Image.Resampling.BILINEAR)
    four = np.asarray(glyph)
    classify = Templates({4: four, 1: drawn(1)})
    assert read(number([four]), classify, likeness=classify.whole_digit) == "4"


@pytest.mark.parametrize("sure", [(True, True), (True, False), (False, True)])
def test_a_cut_between_two_surely_read_digits_costs_less(sure):
    # Node 0 and 2 are the mark's edges, node 1 a cut through one stroke. Whole, the mark
    # reads 0.7 worse than its pieces together (a 7 with a 1 leaning on it, read at 0.7), less
    # than the cut costs: it is cut only when both pieces are read surely.
    edges = [(0, 2), (0, 1), (1, 2)]
    scores = np.array([-0.8, -0.05, -0.05])
    chosen = _best_sequence(edges, scores, [0.0, CUT_COST, 0.0], 1.7, np.array([False, *sure]))
    assert chosen == ([(0, 1), (1, 2)] if all(sure) else [(0, 2)])


@pytest.mark.parametrize("kind", ["box", "ruled"])
def test_a_number_on_printed_lines_is_read_without_them(kind):
    ink = np.pad(number_ink([drawn(int(d)) for d in "307"], np.random.default_rng(0)), 30)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = (rows[0], rows[-1] + 1, columns[0], columns[-1] + 1)
    lines, _ = printed_lines(kind, ink.shape, box, np.random.default_rng(1), (0.03, 0.04))
    assert read(page(np.maximum(ink, lines), margin=0)) == "307"


def test_left_to_right_order_holds_with_a_wobbly_baseline():
    assert read(number([drawn(d) for d in (9, 1, 8, 2, 7)], jitter=0.2)) == "91827"


def test_more_marks_than_max_digits_are_rejected():
    with pytest.raises(TooManyMarks, match="4 marks, more than predict_folder.max_digits=3"):
        read(number([drawn(d) for d in (1, 2, 3, 4)]), max_digits=3)


def test_two_lines_of_writing_are_rejected():
    line = number_ink([drawn(1), drawn(2)], np.random.default_rng(0), size_range=(1, 1))
    gap = np.zeros((SIZE_PX // 3, line.shape[1]), np.float32)
    with pytest.raises(SeveralLines, match="several rows"):
        read(page(np.vstack([line, gap, line])))


def broken_across(label: int, gap_px: int = 6) -> np.ndarray:
    """A drawn digit with a band of rows blanked a little below its middle: a light pen's
    stroke broken into a piece above and a piece below."""
    glyph = drawn(label).copy()
    rows = np.flatnonzero(glyph.max(axis=1) > 0.05)
    cut = rows[0] + int(0.45 * (rows[-1] - rows[0]))
    glyph[cut : cut + gap_px] = 0
    return glyph


@pytest.mark.parametrize("label", [2, 3, 8])
def test_a_digit_broken_into_a_piece_above_another_is_one_digit_not_two_lines(label):
    glyph = broken_across(label)
    assert read(page(glyph)) == str(label)
    assert read(number([drawn(7), glyph, drawn(1)])) == f"7{label}1"


def faded_seven() -> np.ndarray:
    """A 7 in a lighter pen (0.6 of the ink), its bar fading to 0.55 of the stem's."""
    glyph = drawn(7) * 0.6
    rows = np.flatnonzero(glyph.max(axis=1) > 0.05)
    glyph[: rows[0] + (rows[-1] - rows[0]) // 4] *= 0.55
    return glyph


def test_a_light_digit_beside_a_dark_one_keeps_its_faint_strokes():
    # At the dark 2's level the 7's bar is not ink, and what is left is a 1.
    seven = faded_seven()
    assert read(page(seven)) == "7", "alone, the 7 is ink at its own level"
    assert read(number([drawn(2), seven])) == "27"


def test_a_blank_page_has_no_number():
    with pytest.raises(EmptyImage, match="no digit-like marks"):
        read(page(np.zeros((SIZE_PX, SIZE_PX * 3), np.float32)))


def test_digit_mode_rejects_digits_side_by_side():
    with pytest.raises(SeveralDigits, match="2 digits side by side: use --read number"):
        normalise_digit(number([drawn(6), drawn(9)], spacing="generous"))


def test_digit_mode_keeps_a_two_stroke_four_and_a_detached_flag_as_one_digit():
    for glyph in (TWO_STROKE_FOUR, FIVE_DETACHED_FLAG):
        assert normalise_digit(number([glyph])).shape == (28, 28)


def tall_one() -> Image.Image:
    """A 1 on a strip of paper more than twice as tall as wide."""
    glyph = drawn(1)
    columns = np.flatnonzero(glyph.max(axis=0) > 0.05)
    ink = np.pad(glyph[:, columns[0] : columns[-1] + 1], ((60, 60), (8, 8)))
    return Image.fromarray(np.round((PAPER + (INK - PAPER) * ink) * 255).astype(np.uint8))


def with_blots(label: int, blots: list[tuple[int, int]], side_px: int) -> Image.Image:
    """A drawn digit with square blots of ink of ``side_px`` at (row, column) of its page."""
    ink = np.pad(drawn(label), ((90, 20), (20, 20)))
    for row, column in blots:
        ink[row : row + side_px, column : column + side_px] = 1.0
    return page(ink)


ONE_DIGIT_PICTURES = {
    "plain": lambda: number([drawn(3)]),
    "tall": tall_one,
    "a light speck below it": lambda: with_blots(9, [(200, 60)], 9),
}
"""Pictures of one digit (digit mode keeps a light speck near the digit: ink_components)."""


@pytest.mark.parametrize("name", ONE_DIGIT_PICTURES)
def test_one_digit_reads_the_same_in_number_mode_as_in_digit_mode(name):
    picture = ONE_DIGIT_PICTURES[name]()
    alone = normalise_number(picture, DRAWN).digits_kx28x28
    assert alone.shape == (1, 28, 28)
    np.testing.assert_array_equal(alone[0], normalise_digit(picture))


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 120))))
def test_any_picture_gives_a_number_or_a_reason(pixels_u8):
    try:
        number_read = normalise_number(Image.fromarray(pixels_u8), DRAWN, max_digits=12)
    except (EmptyImage, Rejected):
        return
    k = len(number_read.masks)
    assert 1 <= k <= 12 and number_read.digits_kx28x28.shape == (k, 28, 28)
    assert number_read.probs_kx10.shape == (k, 10)
