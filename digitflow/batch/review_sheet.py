"""The review sheet: one self-contained HTML page of the rows a person should look at.

Every ``uncertain``, ``rejected`` and ``error`` row of a predictions CSV, worst first (errors,
then rejections, then uncertain answers, each by rising confidence), with a thumbnail of the
original picture, the 28x28 the network saw, the top two digits with their probabilities and
the reason. Pictures are embedded as PNG data URIs and the styles are inline: the page opens
from a mail attachment or a USB stick with no network and no other file.
"""

import base64
import heapq
import html
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from digitflow.batch.predictions_file import (
    COLUMNS,
    CONFIDENCE,
    ERROR,
    PATH,
    PROBABILITY_COLUMNS,
    STATUS,
    Row,
    previous_rows,
)
from digitflow.reading import images
from digitflow.reading.images import Polarity

REVIEW_LIMIT = 500
"""Rows shown at most: a night's doubtful files, not a page too heavy to open."""
THUMBNAIL_PX = 128
DIGIT_PX = 112
"""The 28x28 drawn at 4x, pixels kept square."""
_ORDER = {"error": 0, "rejected": 1, "uncertain": 2}
_FIRST_PROBABILITY = COLUMNS.index(PROBABILITY_COLUMNS[0])


@dataclass(frozen=True)
class ReviewEntry:
    """One card of the sheet."""

    path: str
    status: str
    reason: str
    top_two: tuple[tuple[int, float], ...]
    """(digit, probability) of the two most probable digits; empty for an error row."""
    original_png: bytes | None
    digit_png: bytes | None
    """What the network saw; None when the picture could not be read."""


def doubtful_rows(rows: Iterable[Row], limit: int = REVIEW_LIMIT) -> tuple[list[Row], int]:
    """The ``limit`` worst rows that are not ``ok``, worst first, and how many there were."""
    doubtful = [row for row in rows if row[STATUS] in _ORDER]
    return heapq.nsmallest(limit, doubtful, key=_badness), len(doubtful)


def _badness(row: Row) -> tuple[int, float, str]:
    confidence = float(row[CONFIDENCE]) if row[CONFIDENCE] else 0.0
    return _ORDER[row[STATUS]], confidence, row[PATH]


def review_entry(
    row: Row,
    input_dir: Path | str,
    polarity: Polarity,
    read: str = "digit",
    open_file: Callable | None = None,
) -> ReviewEntry:
    """The card of ``row``: its picture read again from ``input_dir`` (a path, or a URL that
    ``open_file`` opens). A number row (``read`` "number") has no single 28x28 to show."""
    first = _FIRST_PROBABILITY
    probabilities = [float(p) for p in row[first : first + len(PROBABILITY_COLUMNS)] if p]
    top_two = tuple((int(d), probabilities[d]) for d in np.argsort(probabilities)[::-1][:2])
    original = digit = None
    try:
        picture = images.open_image(f"{str(input_dir).rstrip('/')}/{row[PATH]}", open_file)
        original = _png(_thumbnail(picture))
        if read == "digit":
            pixels = images.read_image(picture, polarity, refuse_several=False).digit
            digit = _png(Image.fromarray(np.rint(pixels * 255).astype(np.uint8)))
    except (images.ImageError, OSError, ValueError):
        pass  # the row's reason says why; the card shows what could be read
    return ReviewEntry(row[PATH], row[STATUS], row[ERROR], top_two, original, digit)


def review_sheet(
    csv_path: Path,
    input_dir: Path | str,
    polarity: Polarity,
    read: str = "digit",
    open_file: Callable | None = None,
) -> str:
    """The HTML page for the predictions in ``csv_path`` of the files under ``input_dir``."""
    rows, total = doubtful_rows(previous_rows(csv_path, read))
    entries = [review_entry(row, input_dir, polarity, read, open_file) for row in rows]
    return render(entries, total, input_dir)


def render(entries: list[ReviewEntry], total: int, input_dir: Path | str) -> str:
    """The page: a heading with the counts, then one card per entry."""
    counts = {status: sum(e.status == status for e in entries) for status in _ORDER}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "nothing"
    hidden = total - len(entries)
    more = (
        f"<p class=more>{hidden} more not shown (worst {len(entries)} only).</p>" if hidden else ""
    )
    cards = "\n".join(_card(entry) for entry in entries)
    return _PAGE.format(
        title=html.escape(f"digitflow review: {_text(str(input_dir))}"),
        folder=html.escape(_text(str(input_dir))),
        summary=html.escape(f"{total} to review: {summary}"),
        more=more,
        cards=cards or "<p class=empty>Every file was read with confidence: nothing to review.</p>",
    )


def _card(entry: ReviewEntry) -> str:
    top = " ".join(
        f"<span class=digit><b>{digit}</b> {100 * p:.1f}%</span>" for digit, p in entry.top_two
    )
    return (
        f'<article class="card {entry.status}">'
        f"<div class=pictures>{_img(entry.original_png, 'original', 'thumb')}"
        f"{_img(entry.digit_png, 'what the network saw', 'seen')}</div>"
        f"<div class=facts><h2>{html.escape(_text(entry.path))}</h2>"
        f"<p><span class=status>{entry.status}</span> {top}</p>"
        f"<p class=reason>{html.escape(entry.reason)}</p></div></article>"
    )


def _img(png: bytes | None, alt: str, kind: str) -> str:
    if png is None:
        return f"<div class='{kind} missing'>no picture</div>"
    data = base64.b64encode(png).decode("ascii")
    return f'<img class={kind} alt="{alt}" title="{alt}" src="data:image/png;base64,{data}">'


def _thumbnail(picture: Image.Image) -> Image.Image:
    small = picture.convert("RGB")
    small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    return small


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _text(name: str) -> str:
    """A file name as readable text, even when it is not valid UTF-8 (kept as escapes)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }}
h1 {{ font-size: 1.3em; margin: 0 0 .2em; }}
.summary {{ margin: 0 0 1em; color: #555; }}
main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 12px; }}
.card {{ display: flex; gap: 12px; background: #fff; border: 1px solid #ddd;
        border-left: 6px solid #999; border-radius: 6px; padding: 10px; }}
.card.error {{ border-left-color: #c62828; }}
.card.rejected {{ border-left-color: #ef6c00; }}
.card.uncertain {{ border-left-color: #f9a825; }}
.pictures {{ display: flex; gap: 8px; align-items: center; }}
.thumb {{ width: 128px; height: 128px; object-fit: contain; background: #eee; }}
.seen {{ width: 112px; height: 112px; image-rendering: pixelated; background: #000; }}
.missing {{ display: flex; align-items: center; justify-content: center; color: #999;
           font-size: .85em; background: #f0f0f0; }}
.facts h2 {{ font-size: 1em; margin: 0 0 .4em; word-break: break-all; }}
.facts p {{ margin: .2em 0; }}
.status {{ font-weight: 600; text-transform: uppercase; font-size: .8em; letter-spacing: .05em; }}
.error .status {{ color: #c62828; }} .rejected .status {{ color: #ef6c00; }}
.uncertain .status {{ color: #a07800; }}
.digit {{ margin-left: .8em; }} .digit b {{ font-size: 1.3em; }}
.reason {{ color: #444; }}
</style></head>
<body><h1>Files to review</h1>
<p class=summary>{summary} &middot; folder {folder}</p>{more}
<main>
{cards}
</main></body></html>
"""
