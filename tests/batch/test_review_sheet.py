"""The review sheet: which rows it lists and in what order, and that it reads in a browser."""

import re
from pathlib import Path

import numpy as np
import pytest
from browser import load_page, screenshot
from helpers import make_folder, save_model
from PIL import Image

from digitflow.batch.predict import PredictFolderConfig, predict_folder
from digitflow.batch.predictions_file import COLUMNS
from digitflow.batch.review_sheet import ReviewEntry, doubtful_rows, render


def row(path: str, status: str, confidence: str = "", error: str = "") -> tuple[str, ...]:
    values = dict.fromkeys(COLUMNS, "")
    values |= {"path": path, "status": status, "confidence": confidence, "error": error}
    return tuple(values[c] for c in COLUMNS)


def test_doubtful_rows_are_listed_worst_first_and_ok_rows_left_out():
    table = [
        row("a", "ok", "0.99"),
        row("b", "uncertain", "0.61"),
        row("c", "error", error="not an image"),
        row("d", "uncertain", "0.42"),
        row("e", "rejected", "0.97", "2 digits side by side: use --read number"),
    ]
    listed, total = doubtful_rows(table)
    assert [r[0] for r in listed] == ["c", "e", "d", "b"] and total == 4


def test_only_the_worst_are_listed_past_the_limit_and_the_page_says_so():
    table = [row(f"{i:03d}", "uncertain", f"0.{i:03d}") for i in range(10)]
    listed, total = doubtful_rows(table, limit=3)
    assert [r[0] for r in listed] == ["000", "001", "002"] and total == 10
    entries = [ReviewEntry(r[0], "uncertain", "", (), None, None) for r in listed]
    assert "7 more not shown" in render(entries, total, Path("scans"))


def test_names_are_escaped_and_nothing_is_fetched_from_the_network():
    entry = ReviewEntry("<b>bold</b>.png", "error", "not an image & <odd>", (), None, None)
    page = render([entry], 1, Path("scans"))
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;.png" in page
    assert "not an image &amp; &lt;odd&gt;" in page
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)


@pytest.fixture
def night(tmp_path: Path) -> Path:
    """A predict-folder run with --review: 3 uncertain pictures and 1 unreadable file."""
    folder = make_folder(tmp_path / "scans", ["a.png", "b.jpg", "sub/c.png"])
    (folder / "broken.png").write_bytes(b"not an image")
    review = tmp_path / "review.html"
    config = PredictFolderConfig(input_dir=folder, jobs=1, min_confidence=1.0)
    model = save_model(tmp_path / "weights.npz", seed=0)
    out = tmp_path / "out"
    predict_folder(config, model, out / "p.csv", out / "s.json", review_html=review)
    return review


def test_run_writes_one_card_per_doubtful_row_with_its_pictures(night):
    page = night.read_text()
    assert page.count("<article") == 4
    assert page.count("data:image/png;base64,") == 6  # original and 28x28 of each picture
    assert page.index("broken.png") < page.index("a.png")  # the error row first


def test_review_sheet_reads_in_headless_chromium(night, tmp_path):
    load = load_page(night, tmp_path)
    assert [url for url, _ in load.page_requests()] == [f"http://page.test/{night.name}"]
    dom = load.dom
    cards = re.findall(r'<article class="card (\w+)"', dom)
    assert cards == ["error", "uncertain", "uncertain", "uncertain"]
    assert "4 to review: 1 error, 3 uncertain" in dom
    shot = screenshot(night, tmp_path / "review.png")
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert pixels.shape[:2] == (900, 1280)
    # The pictures were drawn: the screenshot holds the 28x28 panels' black and the sheet's
    # dark ink, not only the page's light background and text.
    assert (pixels.max(axis=2) < 10).mean() > 0.005
    assert (np.abs(pixels - pixels.mean(axis=(0, 1))).sum(axis=2) > 60).mean() > 0.02
