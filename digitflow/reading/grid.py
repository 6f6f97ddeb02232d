"""Squared paper's grid is regular: its lines come at one pitch each way, so once a few are
found the rest are predicted, and a faint, broken or dithered one the search missed (or one a
digit's stroke lying along it hid from the search) is taken out with them.

The pitch is read from the gaps between the lines found running from edge to edge: the
smallest gap either way (the squares are square: two lines found a few squares apart one way
still give the pitch the other way's neighbours show), refined by each way's gaps as whole
numbers of pitches. A gap that is not (within PITCH_SLACK_PX), or a way whose pitch is not the
smallest gap, leaves the grid as found: one of those lines is a digit's straight stroke, or
the paper is not squared. A predicted line is as thick as and parallel to the found ones
beside it, and is taken only where the ink covers MIN_COVERED of its length.
"""

import statistics

import numpy as np

from digitflow.reading.lines import Line, edge_to_edge, line_pixels

PITCH_SLACK_PX = 1.5
"""Every gap between found lines is a whole number of pitches, give or take this."""
MIN_PITCH_PX = 4
"""Lines closer than this are not a grid's (a line found twice, a thick one split)."""
MIN_COVERED = 0.5
"""A predicted line is printed there when ink lies along this share of its length."""


def completed_grid(lines: list[Line], mask: np.ndarray) -> list[Line]:
    """``lines`` with squared paper's lines the search missed in ``mask`` (h, w) added: when
    at least two found lines run from edge to edge each way, the lines at their pitch."""
    ruled = {
        way: [line for line in lines if line.horizontal == way and edge_to_edge(line, mask.shape)]
        for way in (True, False)
    }
    if min(len(found) for found in ruled.values()) < 2:
        return lines
    centres = {way: _centres(found, mask.shape) for way, found in ruled.items()}
    smallest = min(np.diff(across).min() for across in centres.values())
    if smallest < MIN_PITCH_PX:
        return lines
    predicted = [
        line
        for way, found in ruled.items()
        for line in _predicted(found, centres[way], smallest, mask.shape)
    ]
    return lines + [line for line in predicted if _covered(line, mask) >= MIN_COVERED]


def _centres(found: list[Line], shape: tuple[int, int]) -> list[float]:
    """Where the ``found`` lines (all running one way) cross the middle of the picture
    along them, in order."""
    middle = shape[1 if found[0].horizontal else 0] / 2
    return sorted(sum(line.offset) / 2 + line.slope * middle for line in found)


def _predicted(
    found: list[Line], centres: list[float], smallest: float, shape: tuple[int, int]
) -> list[Line]:
    """The lines at the pitch of the ``found`` ones (all running one way, edge to edge,
    crossing the middle at ``centres``) that are not among them, within the picture; none
    when the gaps are not multiples of one pitch near the ``smallest`` gap of the grid."""
    horizontal = found[0].horizontal
    across_px, along_px = shape if horizontal else shape[::-1]
    middle = along_px / 2
    gaps = np.diff(centres)
    steps = np.rint(gaps / smallest)
    pitch = float(gaps.sum() / steps.sum())
    if max(np.abs(gaps - steps * pitch).max(), abs(pitch - smallest)) > PITCH_SLACK_PX:
        return []
    slope = statistics.median(line.slope for line in found)
    half = statistics.median(line.thickness_px for line in found) / 2
    first = centres[0] - pitch * np.floor((centres[0] - half) / pitch)
    known = np.array(centres)
    predicted = []
    for centre in np.arange(first, across_px - half, pitch):
        if np.abs(known - centre).min() < pitch / 2:
            continue
        low = centre - half - slope * middle
        predicted.append(Line(horizontal, slope, (low, low + 2 * half), (0, along_px)))
    return predicted


def _covered(line: Line, mask: np.ndarray) -> float:
    """Share of ``line``'s length along which ``mask`` (h, w) holds ink in its band."""
    hit = line_pixels(mask.shape, [line]) & mask
    return float(hit.any(axis=0 if line.horizontal else 1).mean())
