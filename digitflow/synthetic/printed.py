"""What a printer or a ruler drew on the sheet under a digit: form boxes, comb boxes, ruled
and squared paper, a red margin line.

``printed_lines`` returns the coverage (h, w) of those lines, anti-aliased analytically (each
line is a straight band; its coverage of a pixel is the overlap of the band with the pixel),
and the colour they are printed in. Lines are axis-aligned on the sheet: tilt and perspective
come from photographing it (``photos``). Everything random comes from the generator passed in.
"""

import numpy as np

PRINTED_KINDS = ("box", "comb", "ruled", "squared")
LINE_TONES = {
    "light": lambda rng: np.full(3, rng.uniform(0.6, 0.8)),  # light grey
    "dark": lambda rng: np.full(3, rng.uniform(0.05, 0.35)),  # black to dark grey
    "blue": lambda rng: np.array([0.45, 0.6, 0.9]) * rng.uniform(0.85, 1.05),
    "green": lambda rng: np.array([0.5, 0.8, 0.55]) * rng.uniform(0.85, 1.05),
}
BOX_INSET = 0.04
"""Share of the picture's side left as paper around a box."""
MARGIN_RED = np.array([0.9, 0.35, 0.35])


def printed_lines(
    kind: str,
    shape: tuple[int, int],
    ink_box: tuple[int, int, int, int],
    rng: np.random.Generator,
    line_width: tuple[float, float] = (0.01, 0.08),
    box_margin: tuple[float, float] = (0.0, 0.5),
    tone: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Coverage (h, w) float32 in [0, 1] of the ``kind`` of printed lines (a key of
    PRINTED_KINDS) around or under a digit whose ink spans ``ink_box`` (top, bottom, left,
    right), and their RGB in [0, 1]. Widths and box margins are shares of the digit's height;
    ``tone`` (a key of LINE_TONES, random when "") picks the colour."""
    top, bottom, left, right = ink_box
    digit_px = bottom - top
    width = max(0.8, rng.uniform(*line_width) * digit_px)
    tone = tone or str(rng.choice(list(LINE_TONES)))
    rgb = LINE_TONES[tone](rng)
    height, canvas_w = shape
    bands: list[tuple[str, float, float, float]] = []  # (axis, position, start, end)
    if kind in ("box", "comb"):
        margins = rng.uniform(*box_margin, size=4) * digit_px
        # Paper shows around the box; a digit near the edge leaves it no room and comes closer.
        inset_y, inset_x = (width / 2 + 0.5 + BOX_INSET * side for side in shape)
        y0, y1 = max(top - margins[0], inset_y), min(bottom + margins[1], height - inset_y)
        x0, x1 = max(left - margins[2], inset_x), min(right + margins[3], canvas_w - inset_x)
        if kind == "box":
            bands += [("h", y0, x0, x1), ("h", y1, x0, x1), ("v", x0, y0, y1), ("v", x1, y0, y1)]
        else:  # boxes of the same width side by side, sharing their sides, across the sheet
            pitch = x1 - x0
            bands += [("h", y0, 0, canvas_w), ("h", y1, 0, canvas_w)]
            first = x0 - pitch * np.ceil(x0 / pitch)
            bands += [("v", x, y0, y1) for x in np.arange(first, canvas_w + pitch, pitch)]
    elif kind == "ruled":  # the digit sits on a line, the next one above it
        spacing = digit_px * rng.uniform(1.05, 1.6)
        baseline = bottom + rng.uniform(-0.1, 0.1) * digit_px
        first = baseline - spacing * np.floor(baseline / spacing)
        bands += [("h", y, 0, canvas_w) for y in np.arange(first, height, spacing)]
    elif kind == "squared":  # 5 mm squares; a digit is 1.5 to 2.5 squares tall
        spacing = digit_px / rng.uniform(1.5, 2.5)
        start_y, start_x = rng.uniform(0, spacing, size=2)
        bands += [("h", y, 0, canvas_w) for y in np.arange(start_y, height, spacing)]
        bands += [("v", x, 0, height) for x in np.arange(start_x, canvas_w, spacing)]
    else:
        raise ValueError(f"unknown printed kind {kind!r}; known: {', '.join(PRINTED_KINDS)}")
    coverage = np.zeros(shape, np.float32)
    for axis, position, start, end in bands:
        _draw_band(coverage, axis, position, width, start - width / 2, end + width / 2)
    return coverage, rgb


def margin_line(
    shape: tuple[int, int], ink_box: tuple[int, int, int, int], rng: np.random.Generator
) -> np.ndarray:
    """Coverage (h, w) of a red margin line down the sheet, left of the digit or through it."""
    top, bottom, left, right = ink_box
    x = left + rng.uniform(-0.5, 0.3) * (right - left)
    coverage = np.zeros(shape, np.float32)
    width = max(0.8, rng.uniform(0.01, 0.03) * (bottom - top))
    _draw_band(coverage, "v", x, width, 0, shape[0])
    return coverage


def _draw_band(
    coverage: np.ndarray, axis: str, position: float, width: float, start: float, end: float
) -> None:
    """Add (by maximum) a straight band ``width`` px wide centred on ``position`` across its
    axis ("h": a row position; "v": a column), from ``start`` to ``end`` along it."""
    target = coverage if axis == "h" else coverage.T
    across = _overlap(np.arange(target.shape[0]), position - width / 2, position + width / 2)
    along = _overlap(np.arange(target.shape[1]), start, end)
    np.maximum(target, np.outer(across, along), out=target)


def _overlap(pixels: np.ndarray, low: float, high: float) -> np.ndarray:
    """Share of each pixel [i, i + 1) covered by the interval [low, high)."""
    return np.clip(np.minimum(pixels + 1, high) - np.maximum(pixels, low), 0, 1).astype(np.float32)
