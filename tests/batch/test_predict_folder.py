"""predict-folder's batch machinery: walking, rows, bad files, incremental runs, atomic output."""

import io
import json
import multiprocessing
import os
import re
import struct
import zlib
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import digit_image, make_folder, save_digit, save_model, save_model_with_likeness
from PIL import Image, ImageDraw
from threadpoolctl import threadpool_info

from digitflow.batch import backends, folder_walk, predict
from digitflow.batch.chunk_reading import (
    LINE_CHANGES_THE_DIGIT,
    LINE_TOOK_THE_DIGIT,
    UNLIKE_A_DIGIT,
    predict_decoded,
)
from digitflow.batch.filelock import LockBusy, hold_lock, lock_path_for
from digitflow.batch.folder_walk import walk_files
from digitflow.batch.inputs import InputFolderError
from digitflow.batch.predict import (
    PredictFolderConfig,
    predict_folder,
    predictor_id,
)
from digitflow.batch.predictions_file import COLUMNS, PROBABILITY_COLUMNS, PredictionsFileError
from digitflow.errors import ParamsError
from digitflow.network.mlp import Network
from digitflow.network.model_io import ModelFormatError, load_network, save_network
from digitflow.reading import images
from digitflow.reading.debug import PANEL_PX
from digitflow.reading.one_digit import LinesPutBack

# ---------------------------------------------------------------- helpers


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return save_model(tmp_path / "weights.npz", seed=0)


def run(folder: Path, model: Path, tmp_path: Path, **options) -> dict:
    keys = ("patterns", "follow_symlinks", "jobs", "min_confidence")
    settings = {k: options.pop(k) for k in keys if k in options}
    config = PredictFolderConfig(input_dir=folder, **{"jobs": 1, **settings})
    out = options.pop("out", tmp_path / "out" / "predictions.csv")
    summary = options.pop("summary", tmp_path / "out" / "summary.json")
    return predict_folder(config, model, out, summary, **options)


def rows(tmp_path: Path) -> pd.DataFrame:
    csv = tmp_path / "out" / "predictions.csv"
    return pd.read_csv(csv, dtype=str, keep_default_na=False).set_index("path")


def png_with_size(width: int, height: int) -> bytes:
    """A PNG header claiming width x height pixels: a decompression bomb's first bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)


@pytest.fixture
def decode_count(monkeypatch) -> list[Path]:
    """Every path decoded in this process (runs use --jobs 1)."""
    decoded = []
    real_read_file = images.read_file

    def counting_read_file(path, *options, **keywords):
        decoded.append(Path(path))
        return real_read_file(path, *options, **keywords)

    monkeypatch.setattr(images, "read_file", counting_read_file)
    return decoded


# ---------------------------------------------------------------- walking


def walked(root: Path, **options) -> list[str]:
    return [f.rel_path for f in walk_files(root, **options)]


def test_walk_is_sorted_by_relative_posix_path(tmp_path):
    names = ["b.png", "a/z.png", "a.png", "a/b/c.png", "A.png", "a-b.png"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert walked(tmp_path) == sorted(names)
    assert walked(tmp_path) == ["A.png", "a-b.png", "a.png", "a/b/c.png", "a/z.png", "b.png"]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (("**/*",), ["a/b/deep.png", "a/x.JPG", "top.png", "top.txt"]),
        (("*.png",), ["top.png"]),
        (("**/*.png",), ["a/b/deep.png", "top.png"]),
        (("a/**",), ["a/b/deep.png", "a/x.JPG"]),
        (("*/*.[jJ][pP][gG]",), ["a/x.JPG"]),
        (("top.???", "a/?/*"), ["a/b/deep.png", "top.png", "top.txt"]),
        (("[!t]*/**/*.png",), ["a/b/deep.png"]),
    ],
)
def test_patterns_are_globs_on_the_relative_path(tmp_path, patterns, expected):
    for name in ["top.png", "top.txt", "a/x.JPG", "a/b/deep.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert walked(tmp_path, patterns=patterns) == expected


def test_files_a_pattern_excludes_are_never_stated(tmp_path, monkeypatch):
    for name in ["keep.png", "a.txt", "b.txt", "sub/c.txt", "sub/keep.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    stated = []
    real_stat = folder_walk._stat_or_reason
    monkeypatch.setattr(
        folder_walk, "_stat_or_reason", lambda entry: stated.append(entry.name) or real_stat(entry)
    )
    assert walked(tmp_path, patterns=("**/*.png",)) == ["keep.png", "sub/keep.png"]
    assert sorted(stated) == ["keep.png", "keep.png", "sub"]


def test_hidden_files_and_folders_are_skipped(tmp_path):
    for name in ["seen.png", ".DS_Store", ".git/objects/x.png", "sub/.hidden.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert walked(tmp_path) == ["seen.png"]


@pytest.fixture
def linked_tree(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "dir" / "in_linked_dir.png").write_bytes(b"x")
    (outside / "target.png").write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "real.png").write_bytes(b"x")
    (root / "link_file.png").symlink_to(outside / "target.png")
    (root / "link_dir").symlink_to(outside / "dir")
    return root


@pytest.mark.parametrize(
    ("follow", "expected"),
    [
        (False, ["real.png"]),
        (True, ["link_dir/in_linked_dir.png", "link_file.png", "real.png"]),
    ],
)
def test_symlinks_are_ignored_unless_followed(linked_tree, follow, expected):
    assert walked(linked_tree, follow_symlinks=follow) == expected


def test_followed_symlink_loop_is_reported_and_not_entered(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"x")
    (tmp_path / "a" / "again").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "root").symlink_to(tmp_path)
    skipped = []
    assert walked(tmp_path, follow_symlinks=True, on_skip=skipped.append) == ["a/x.png"]
    assert len(skipped) == 2
    assert all("symlink loop" in message for message in skipped)


def test_followed_link_to_any_folder_above_is_a_loop_and_nothing_above_is_read(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"x")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "x.png").write_bytes(b"x")
    (root / "sub" / "loop").symlink_to("../..")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "scans").mkdir(parents=True)
    (elsewhere / "scans" / "kept.png").write_bytes(b"x")
    (elsewhere / "scans" / "up").symlink_to("..")
    (elsewhere / "other.png").write_bytes(b"x")
    (root / "scans").symlink_to(elsewhere / "scans")
    skipped = []
    assert walked(root, follow_symlinks=True, on_skip=skipped.append) == [
        "scans/kept.png",
        "sub/x.png",
    ]
    assert skipped == [
        "skipped scans/up/: a symlink loop back to one of its parents",
        "skipped sub/loop/: a symlink loop back to one of its parents",
    ]


def test_dangling_symlink_and_fifo_come_out_with_a_problem_instead_of_hanging(tmp_path):
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    os.mkfifo(tmp_path / "pipe.png")
    found = {f.rel_path: f.problem for f in walk_files(tmp_path, follow_symlinks=True)}
    assert found == {
        "dangling.png": "dangling symlink: its target does not exist",
        "pipe.png": "not a regular file",
    }


def test_folder_that_cannot_be_listed_comes_out_with_a_problem(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "z.png").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == tmp_path / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = [(f.rel_path, f.problem) for f in walk_files(tmp_path)]
    assert found == [("locked/", "cannot list folder: Permission denied"), ("z.png", "")]


def test_walk_skips_the_runs_own_files_found_by_identity(tmp_path):
    for name in ["a.png", "out.csv", "debug/a.png.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    skip = [tmp_path / "." / "out.csv", tmp_path / "debug", tmp_path / "not-yet-written.json"]
    assert walked(tmp_path, skip=skip) == ["a.png"]


# ---------------------------------------------------------------- rows and summary


def test_rows_hold_path_probabilities_model_and_file_identity(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["b.png", "a/c.png"])
    run(folder, model, tmp_path)
    csv = tmp_path / "out" / "predictions.csv"
    table = rows(tmp_path)
    assert tuple(pd.read_csv(csv, nrows=0).columns) == COLUMNS
    assert list(table.index) == ["a/c.png", "b.png"]
    for path, row in table.iterrows():
        probabilities = np.array([float(row[c]) for c in PROBABILITY_COLUMNS])
        assert all(len(row[c].split(".")[1]) == 6 for c in [*PROBABILITY_COLUMNS, "confidence"])
        assert abs(probabilities.sum() - 1) < 1e-4
        assert int(row["predicted"]) == probabilities.argmax()
        assert float(row["confidence"]) == probabilities.max()
        stat = (folder / path).stat()
        assert (int(row["size_bytes"]), int(row["mtime_ns"])) == (stat.st_size, stat.st_mtime_ns)
        assert (row["model"], row["status"], row["error"]) == (predictor_id(model), "ok", "")


def test_summary_counts_files_as_predicted_kept_failed_and_by_digit(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png", "c.png"])
    (folder / "notes.txt").write_text("not a digit")
    result = run(folder, model, tmp_path)
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == result
    assert result["files_total"] == 4
    assert (result["predicted"], result["kept"], result["failed"]) == (3, 0, 1)
    assert list(result["by_digit"]) == [str(d) for d in range(10)]
    assert sum(result["by_digit"].values()) == 3
    predicted = rows(tmp_path)["predicted"].value_counts()
    assert all(result["by_digit"][digit] == count for digit, count in predicted.items() if digit)
    assert result["decoded"] == 4
    assert result["model"] == predictor_id(model)
    assert result["elapsed_s"] >= 0 and result["images_per_s"] >= 0


def test_summary_says_when_what_and_which_version(tmp_path, model):
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(make_folder(tmp_path / "in", ["a.png"]), model, tmp_path)
    after = datetime.now(UTC)
    started = datetime.strptime(result["started_at"], "%Y-%m-%dT%H:%M:%S%z")
    finished = datetime.strptime(result["finished_at"], "%Y-%m-%dT%H:%M:%S%z")
    assert result["started_at"].endswith("Z") and before <= started <= finished <= after
    assert result["input_dir"] == str((tmp_path / "in").resolve())
    assert result["model"] == predictor_id(model)
    assert result["digitflow_version"] == metadata.version("digitflow")


def test_summary_names_the_first_failed_files_with_their_errors(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png"])
    for name in ["b.txt", "c.txt", "d.txt"]:
        (folder / name).write_text("not a digit")
    config = PredictFolderConfig(input_dir=folder, jobs=1, failed_files_listed=2)
    out = tmp_path / "out" / "predictions.csv"
    result = predict_folder(config, model, out, tmp_path / "out" / "summary.json")
    errors = rows(tmp_path)["error"]
    assert result["failed_files"] == [
        {"path": "b.txt", "error": errors["b.txt"]},
        {"path": "c.txt", "error": errors["c.txt"]},
    ]
    assert result["failed"] == 3 and result["failed_files_not_listed"] == 1
    assert errors["b.txt"]


def test_images_are_recognised_by_content_not_by_name(tmp_path, model):
    folder = tmp_path / "in"
    save_digit(folder / "png_named.txt")
    save_digit(folder / "jpeg_named.PNG", image_format="JPEG")
    save_digit(folder / "no_extension", image_format="BMP")
    (folder / "text_named.png").write_text("hello")
    run(folder, model, tmp_path)
    assert rows(tmp_path)["status"].to_dict() == {
        "jpeg_named.PNG": "ok",
        "no_extension": "ok",
        "png_named.txt": "ok",
        "text_named.png": "error",
    }


def make_empty(path: Path) -> None:
    path.write_bytes(b"")


def make_truncated(path: Path) -> None:
    buffer = io.BytesIO()
    digit_image(96).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def make_text(path: Path) -> None:
    path.write_text("a shopping list, not a digit\n")


def make_bomb(path: Path) -> None:
    path.write_bytes(png_with_size(40_000, 40_000))


def make_blank_page(path: Path) -> None:
    Image.new("L", (48, 48), 230).save(path, format="PNG")


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


POSTSCRIPT = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"


def make_postscript(path: Path) -> None:
    path.write_bytes(POSTSCRIPT)


def make_multipage_tiff(path: Path) -> None:
    first, *rest = [digit_image(48) for _ in range(3)]
    first.save(path, format="TIFF", save_all=True, append_images=rest)


def make_animated_gif(path: Path) -> None:
    first, *rest = [digit_image(side) for side in (48, 48)]
    first.save(path, format="GIF", save_all=True, append_images=[rest[0].rotate(90)])


def make_ruled_line(path: Path) -> None:
    Image.new("L", (5000, 1), 0).save(path, format="PNG")


def make_unreadable(path: Path, monkeypatch) -> None:
    """Tests run as root, who can read any file: deny this one where images opens it."""
    save_digit(path)

    def open_denying(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(images, "open", open_denying, raising=False)


@pytest.mark.parametrize(
    ("make_bad_file", "error"),
    [
        (make_empty, "empty file"),
        (make_truncated, "truncated or broken image"),
        (make_text, "not an image"),
        (make_bomb, "decompression bomb"),
        (make_blank_page, "no ink found"),
        (make_fifo, "not a regular file"),
        (make_unreadable, "Permission denied"),
        (make_postscript, "not a supported image format (found: EPS)"),
        (make_multipage_tiff, "a TIFF of 3 pages or frames; only single pictures are read"),
        (make_animated_gif, "a GIF of 2 pages or frames; only single pictures are read"),
        (make_ruled_line, "a 5000x1 px picture cannot hold a digit"),
    ],
)
def test_bad_file_becomes_an_error_row_and_the_batch_goes_on(
    tmp_path, model, monkeypatch, make_bad_file, error
):
    folder = make_folder(tmp_path / "in", ["a_good.png", "c_good.png"])
    if make_bad_file is make_unreadable:
        make_unreadable(folder / "b_bad.png", monkeypatch)
    else:
        make_bad_file(folder / "b_bad.png")
    result = run(folder, model, tmp_path)
    table = rows(tmp_path)
    assert table["status"].to_dict() == {
        "a_good.png": "ok",
        "b_bad.png": "error",
        "c_good.png": "ok",
    }
    bad = table.loc["b_bad.png"]
    assert error in bad["error"]
    assert "\n" not in bad["error"] and str(folder) not in bad["error"]
    assert bad["predicted"] == bad["confidence"] == bad["p0"] == ""
    assert (result["predicted"], result["failed"]) == (2, 1)


def test_worker_processes_write_the_same_rows_as_one_process(tmp_path, model):
    folder = make_folder(tmp_path / "in", [f"{i:02d}.png" for i in range(12)])
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pooled, single = tmp_path / "pooled.csv", tmp_path / "single.csv"
    run(folder, model, tmp_path, jobs=2, out=pooled)
    run(folder, model, tmp_path, jobs=1, out=single)
    assert pooled.read_bytes() == single.read_bytes()


def test_a_run_gives_the_calling_process_its_blas_threads_back(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png"])
    before = [(pool["prefix"], pool["num_threads"]) for pool in threadpool_info()]
    run(folder, model, tmp_path, jobs=2)
    assert [(pool["prefix"], pool["num_threads"]) for pool in threadpool_info()] == before


def test_debug_dir_shows_what_the_network_saw(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["sub/seven.jpg"])
    run(folder, model, tmp_path, debug_dir=tmp_path / "debug")
    side_by_side = np.asarray(Image.open(tmp_path / "debug" / "sub" / "seven.jpg.png"))
    assert side_by_side.shape[0] == PANEL_PX  # original | what was found | the 28x28
    saw = side_by_side[::4, -PANEL_PX::4, 0]  # the 28x28, enlarged 4x
    expected = np.rint(images.read_digit(folder / "sub" / "seven.jpg") * 255)
    assert saw.shape == (28, 28)
    np.testing.assert_array_equal(saw, expected)
    assert saw[0, 0] == 0 and saw.max() == 255  # white ink on black, like MNIST


def test_debug_pictures_inside_the_input_folder_are_skipped_on_every_later_run(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["good.png"])
    for debug_dir in (folder / "debug", None, folder / "debug", folder / "other-debug", None):
        run(folder, model, tmp_path, debug_dir=debug_dir)
        assert list(rows(tmp_path).index) == ["good.png"]
    assert sorted(p.name for p in (folder / "debug").iterdir()) == [
        ".digitflow-debug",
        "good.png.png",
    ]


def test_outputs_inside_the_input_folder_are_never_predicted(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png"])
    outputs = {
        "out": folder / "predictions.csv",
        "summary": folder / "summary.json",
        "debug_dir": folder / "debug",
    }
    run(folder, model, tmp_path, **outputs)
    run(folder, model, tmp_path, **outputs)
    written = pd.read_csv(folder / "predictions.csv", dtype=str)
    assert list(written["path"]) == ["a.png"]


# ---------------------------------------------------------------- incremental runs


def test_incremental_run_decodes_only_new_files(tmp_path, model, decode_count):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png"])
    run(folder, model, tmp_path, incremental=True)
    before = rows(tmp_path)
    save_digit(folder / "c.png")
    decode_count.clear()
    result = run(folder, model, tmp_path, incremental=True)
    assert decode_count == [folder / "c.png"]
    assert (result["predicted"], result["kept"], result["files_total"]) == (1, 2, 3)
    after = rows(tmp_path)
    pd.testing.assert_frame_equal(after.loc[["a.png", "b.png"]], before)


def touch_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def change_size_keep_mtime(path: Path) -> None:
    stat = path.stat()
    save_digit(path, side_px=64)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size != stat.st_size


@pytest.mark.parametrize("change", [touch_mtime, change_size_keep_mtime])
def test_incremental_run_redecodes_a_changed_file(tmp_path, model, decode_count, change):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png"])
    run(folder, model, tmp_path, incremental=True)
    change(folder / "b.png")
    decode_count.clear()
    run(folder, model, tmp_path, incremental=True)
    assert decode_count == [folder / "b.png"]
    assert int(rows(tmp_path).loc["b.png", "mtime_ns"]) == (folder / "b.png").stat().st_mtime_ns


def test_incremental_run_redecodes_everything_for_a_new_model(tmp_path, model, decode_count):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png"])
    run(folder, model, tmp_path, incremental=True)
    new_model = save_model(tmp_path / "retrained.npz", seed=1)
    decode_count.clear()
    run(folder, new_model, tmp_path, incremental=True)
    assert len(decode_count) == 2
    assert set(rows(tmp_path)["model"]) == {predictor_id(new_model)}


def test_incremental_run_redecodes_everything_when_the_reading_code_changes(
    tmp_path, model, decode_count, monkeypatch
):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png"])
    run(folder, model, tmp_path, incremental=True)
    before = predictor_id(model)
    changed_module = tmp_path / "paper.py"  # stands for an upgraded reading module
    changed_module.write_text(predict.READING_CODE[0].read_text() + "\n# changed\n")
    monkeypatch.setattr(predict, "READING_CODE", (changed_module, *predict.READING_CODE[1:]))
    decode_count.clear()
    result = run(folder, model, tmp_path, incremental=True)
    assert len(decode_count) == 2 and result["kept"] == 0
    assert set(rows(tmp_path)["model"]) == {predictor_id(model)} != {before}


def test_incremental_run_drops_rows_of_deleted_files(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png", "c.png"])
    run(folder, model, tmp_path, incremental=True)
    (folder / "b.png").unlink()
    result = run(folder, model, tmp_path, incremental=True)
    assert list(rows(tmp_path).index) == ["a.png", "c.png"]
    assert result["files_total"] == 2


def test_incremental_run_keeps_unchanged_error_rows_unless_told_to_retry(
    tmp_path, model, decode_count
):
    folder = make_folder(tmp_path / "in", ["a.png"])
    (folder / "b.png").write_text("not yet an image")
    (folder / "dangling.png").symlink_to(folder / "gone.png")
    first = run(folder, model, tmp_path, incremental=True, follow_symlinks=True)
    decode_count.clear()
    kept = run(folder, model, tmp_path, incremental=True, follow_symlinks=True)
    assert decode_count == []
    assert (first["failed_now"], kept["failed_now"], kept["failed"]) == (2, 0, 2)
    retried = run(
        folder, model, tmp_path, incremental=True, follow_symlinks=True, retry_errors=True
    )
    assert decode_count == [folder / "b.png"]
    assert retried["failed_now"] == 2


def swap_two_rows(text: str) -> str:
    header, first, second, *rest = text.splitlines(keepends=True)
    return "".join([header, second, first, *rest])


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text.replace("mtime_ns", "modified", 1), id="renamed-column"),
        pytest.param(lambda text: text.replace(",ok,", ",ok,more,", 1), id="surplus-field"),
        pytest.param(lambda text: text.rsplit(",", 3)[0] + "\n", id="cut-short"),
        pytest.param(lambda text: text.replace(",ok,", ',"ok,', 1), id="open-quote"),
        pytest.param(lambda text: text.replace(",ok,", ",fine,", 1), id="unknown-status"),
        pytest.param(lambda text: re.sub(r"(?m)^a\.png,\d,", "a.png,12,", text), id="bad-digit"),
        pytest.param(swap_two_rows, id="unsorted"),
        pytest.param(lambda text: "\0\xff garbage", id="garbage"),
        pytest.param(lambda text: "", id="empty"),
    ],
)
def test_damaged_previous_output_is_fatal_and_left_untouched(tmp_path, model, damage):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png"])
    run(folder, model, tmp_path)
    csv = tmp_path / "out" / "predictions.csv"
    csv.write_text(damage(csv.read_text()))
    damaged = csv.read_bytes()
    with pytest.raises(PredictionsFileError, match="cannot be updated incrementally"):
        run(folder, model, tmp_path, incremental=True)
    assert csv.read_bytes() == damaged


def test_full_run_replaces_a_damaged_previous_output(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png"])
    csv = tmp_path / "out" / "predictions.csv"
    csv.parent.mkdir()
    csv.write_text("not, a, predictions, file\n")
    run(folder, model, tmp_path, incremental=False)
    assert list(rows(tmp_path).index) == ["a.png"]


# ---------------------------------------------------------------- atomic output, lock, fatal errors


def test_crash_mid_run_leaves_previous_outputs_untouched(tmp_path, model, monkeypatch):
    folder = make_folder(tmp_path / "in", [f"{i}.png" for i in range(5)])
    run(folder, model, tmp_path)
    out_dir = tmp_path / "out"
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    monkeypatch.setattr(predict, "CHUNK_FILES", 2)
    real_predict_proba = Network.predict_proba
    calls = []

    def predict_then_crash(self, X_784xm):
        calls.append(X_784xm.shape[1])
        if len(calls) > 1:
            raise MemoryError("simulated crash after the first chunk")
        return real_predict_proba(self, X_784xm)

    monkeypatch.setattr(Network, "predict_proba", predict_then_crash)
    with pytest.raises(MemoryError):
        run(folder, model, tmp_path)
    assert calls == [2, 2]
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before


def test_file_that_kills_its_decoding_worker_gets_an_error_row_and_the_batch_goes_on(
    tmp_path, model, monkeypatch
):
    names = [f"{i:02d}.png" for i in range(9)]
    folder = make_folder(tmp_path / "in", names)
    real_read_file = images.read_file

    def out_of_memory_on_05(path, *options, **keywords):
        if Path(path).name == "05.png":
            os._exit(9)  # what the kernel's out-of-memory killer does to a worker
        return real_read_file(path, *options, **keywords)

    # fork, so the workers inherit the patched reader
    fork = multiprocessing.get_context("fork")
    monkeypatch.setattr(
        backends, "process_pool", lambda workers: ProcessPoolExecutor(workers, fork)
    )
    monkeypatch.setattr(predict, "CHUNK_FILES", 4)
    monkeypatch.setattr(images, "read_file", out_of_memory_on_05)
    result = run(folder, model, tmp_path, jobs=2)
    table = rows(tmp_path)
    assert list(table.index) == names
    assert table["error"].to_dict() == {
        **dict.fromkeys(names, ""),
        "05.png": "decoding ran out of memory or was killed (its worker process died)",
    }
    assert (result["predicted"], result["failed"], result["failed_now"]) == (8, 1, 1)


def test_run_refuses_to_start_while_another_holds_the_lock(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png"])
    out = tmp_path / "out" / "predictions.csv"
    with hold_lock(lock_path_for(out)), pytest.raises(LockBusy, match="another run is in progress"):
        run(folder, model, tmp_path)
    assert not out.exists() and not (tmp_path / "out" / "summary.json").exists()


def test_missing_model_is_fatal(tmp_path):
    folder = make_folder(tmp_path / "in", ["a.png"])
    with pytest.raises(ModelFormatError, match="missing.npz: does not exist"):
        run(folder, tmp_path / "missing.npz", tmp_path)


@pytest.mark.parametrize(
    ("make_input", "problem"),
    [(lambda p: None, "does not exist"), (lambda p: p.write_text("x"), "is not a folder")],
)
def test_missing_or_unusable_input_folder_is_fatal(tmp_path, model, make_input, problem):
    make_input(tmp_path / "in")
    with pytest.raises(InputFolderError, match=problem):
        run(tmp_path / "in", model, tmp_path)


def test_config_rejects_negative_jobs():
    with pytest.raises(ParamsError, match="predict_folder.jobs must be >= 0"):
        PredictFolderConfig(jobs=-1)


def test_a_format_outside_the_allow_list_is_never_handed_to_its_plugin(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin

    def ghostscript_would_run(self, *args):
        pytest.fail("the PostScript plugin read the file")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", ghostscript_would_run)
    (tmp_path / "scan.png").write_bytes(POSTSCRIPT)
    with pytest.raises(images.UnsupportedFormat, match=r"scan.png: .*\(found: EPS\)"):
        images.open_image(tmp_path / "scan.png")


# ---------------------------------------------------------------- statuses: uncertain, rejected


def save_calibrated_model(path: Path, min_confidence: float) -> Path:
    network, _ = load_network(save_model(path, seed=0))
    save_network(path, network, {"calibration": {"min_confidence": min_confidence}})
    return path


def confidences(tmp_path: Path) -> dict[str, float]:
    return {path: float(c) for path, c in rows(tmp_path)["confidence"].items()}


def test_rows_below_the_threshold_are_uncertain_and_keep_their_prediction(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png", "b.png"])
    run(folder, model, tmp_path, min_confidence=0.0)
    threshold = max(confidences(tmp_path).values())  # a.png and b.png are the same picture
    result = run(folder, model, tmp_path, min_confidence=min(1.0, threshold + 1e-6))
    table = rows(tmp_path)
    assert set(table["status"]) == {"uncertain"}
    assert all(table["predicted"] != "") and all(table["p0"] != "")
    assert table.loc["a.png", "error"].startswith("confidence ")
    assert result["by_status"] == {"ok": 0, "uncertain": 2, "rejected": 0, "error": 0}
    assert result["by_digit"] == dict.fromkeys(result["by_digit"], 0)  # digits of ok rows only


def test_auto_uses_the_threshold_stored_with_the_model(tmp_path):
    folder = make_folder(tmp_path / "in", ["a.png"])
    high = save_calibrated_model(tmp_path / "high.npz", 1.0)
    assert run(folder, high, tmp_path)["by_status"]["uncertain"] == 1
    low = save_calibrated_model(tmp_path / "low.npz", 0.0)
    assert run(folder, low, tmp_path)["by_status"]["ok"] == 1


def test_a_model_without_a_threshold_marks_nothing_uncertain(tmp_path, model):
    result = run(make_folder(tmp_path / "in", ["a.png"]), model, tmp_path)
    assert result["by_status"]["ok"] == 1 and result["min_confidence"] == 0.0


def test_a_picture_of_several_digits_is_rejected_with_its_reason(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    image = Image.new("L", (240, 120), 225)
    for left in (20, 120):
        ImageDraw.Draw(image).line([(left + 8, 20), (left + 48, 20), (left + 20, 100)], 30, 10)
    image.save(folder / "number.png")
    run(folder, model, tmp_path)
    row = rows(tmp_path).loc["number.png"]
    assert row["status"] == "rejected" and row["predicted"] != ""
    assert row["error"] == "2 digits side by side: use --read number"


def test_a_picture_unlike_the_digits_learned_is_rejected_keeping_its_answer(tmp_path, model):
    folder = make_folder(tmp_path / "in", ["a.png"])
    run(folder, model, tmp_path)
    plain = rows(tmp_path).loc["a.png"]
    run(folder, save_model_with_likeness(tmp_path / "strict.npz", 100.0), tmp_path)
    row = rows(tmp_path).loc["a.png"]
    assert (row["status"], row["error"]) == ("rejected", UNLIKE_A_DIGIT)
    assert row[["predicted", "confidence", *PROBABILITY_COLUMNS]].equals(
        plain[["predicted", "confidence", *PROBABILITY_COLUMNS]]
    )
    run(folder, save_model_with_likeness(tmp_path / "lenient.npz", -100.0), tmp_path)
    assert rows(tmp_path).loc["a.png", "status"] == "ok"


def test_a_digit_read_confidently_otherwise_with_the_lines_put_back_is_rejected_naming_it(
    model,
):
    network, _ = load_network(model)

    def read(digit_28x28: np.ndarray) -> int:
        return int(network.predict_proba(digit_28x28.reshape(1, 784).T).argmax())

    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1
    rng = np.random.default_rng(0)
    others = (rng.random((28, 28), dtype=np.float32) for _ in range(100))
    other = next(pattern for pattern in others if read(pattern) != read(digit))
    digits = np.stack([digit] * 4)
    line = "a long thin line, not a digit"
    network.temperature = 1e-3  # every reading is certain
    put_back = [LinesPutBack(d, 0.0) for d in (other, digit)]
    reasons = predict_decoded(
        network, digits, [""] * 4, ["", "", "", line], [*put_back, None, put_back[0]]
    )[2]
    assert reasons == [LINE_CHANGES_THE_DIGIT.format(read(other)), "", "", line]
    network.temperature = 1e3  # every reading is a guess
    assert predict_decoded(network, digits[:1], [""], [""], put_back[:1])[2] == [""]


def test_a_digit_that_lost_ink_to_a_line_and_is_doubtful_with_it_put_back_is_rejected(model):
    network, _ = load_network(model)
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1
    read = int(network.predict_proba(digit.reshape(1, 784).T).argmax())
    digits = np.stack([digit] * 2)

    def reasons(ink_taken: float) -> list[str]:
        put_back = [LinesPutBack(digit, ink_taken), None]
        return predict_decoded(network, digits, [""] * 2, [""] * 2, put_back)[2]

    network.temperature = 1e3  # with the lines put back, no digit reads above a guess
    assert reasons(0.2) == [LINE_TOOK_THE_DIGIT.format(read), ""]
    assert reasons(0.05) == ["", ""]  # the lines took too little to doubt
    network.temperature = 1e-3  # put back, it reads as before: the ink taken changed nothing
    assert reasons(0.2) == ["", ""]


def test_reading_s_reason_comes_before_the_likeness_score(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    image = Image.new("L", (300, 120), 225)
    ImageDraw.Draw(image).line([(10, 60), (290, 62)], fill=30, width=6)
    image.save(folder / "ruled.png")
    run(folder, save_model_with_likeness(tmp_path / "strict.npz", 100.0), tmp_path)
    assert rows(tmp_path).loc["ruled.png", "error"] == "a long thin line, not a digit"


def test_incremental_keeps_an_uncertain_row_uncertain_without_decoding(
    tmp_path, model, decode_count
):
    folder = make_folder(tmp_path / "in", ["a.png"])
    run(folder, model, tmp_path, min_confidence=1.0)
    decode_count.clear()
    result = run(folder, model, tmp_path, min_confidence=1.0, incremental=True)
    assert decode_count == [] and result["kept"] == 1
    assert rows(tmp_path).loc["a.png", "status"] == "uncertain"


def test_incremental_redecides_statuses_for_a_new_threshold_without_decoding(
    tmp_path, model, decode_count
):
    folder = make_folder(tmp_path / "in", ["a.png"])
    run(folder, model, tmp_path, min_confidence=1.0)
    before = rows(tmp_path).loc["a.png"]
    decode_count.clear()
    run(folder, model, tmp_path, min_confidence=0.0, incremental=True)
    after = rows(tmp_path).loc["a.png"]
    assert decode_count == []
    assert (before["status"], after["status"], after["error"]) == ("uncertain", "ok", "")
    assert after.drop(["status", "error"]).equals(before.drop(["status", "error"]))


def test_incremental_keeps_rejected_rows_whatever_the_threshold(tmp_path, model, decode_count):
    folder = tmp_path / "in"
    folder.mkdir()
    image = Image.new("L", (300, 120), 225)
    ImageDraw.Draw(image).line([(10, 60), (290, 62)], fill=30, width=6)
    image.save(folder / "ruled.png")
    run(folder, model, tmp_path)
    decode_count.clear()
    run(folder, model, tmp_path, min_confidence=0.0, incremental=True)
    assert decode_count == [] and rows(tmp_path).loc["ruled.png", "status"] == "rejected"


def test_min_confidence_out_of_range_is_refused_naming_the_key():
    with pytest.raises(ParamsError, match="predict_folder.min_confidence"):
        PredictFolderConfig(min_confidence=1.5)
