"""The download and normalise stage commands, run through their Typer apps."""

import socket
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from digitflow.dataset.idx import MNIST_FILE_NAMES, TRAIN_LABELS
from digitflow.stages import download, normalise

REAL_MIRROR = Path("/work/shared/mnist")
PREPARED_FILES = sorted(f"{xy}_{split}.npy" for xy in "Xy" for split in ("train", "val", "test"))

runner = CliRunner()


def write_params(folder: Path, **sections: dict) -> Path:
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(sections))
    return path


def write_csv(path: Path, count: int, rng: np.random.Generator) -> None:
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    rows = np.column_stack([np.arange(count) % 10, rng.integers(0, 256, size=(count, 784))])
    path.write_text("\n".join([header, *(",".join(map(str, row)) for row in rows)]) + "\n")


@pytest.fixture
def csv_dir(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_csv(folder / "mnist_train.csv", 30, rng)
    write_csv(folder / "mnist_test.csv", 10, rng)
    return folder


def run_download(params: Path, out_dir: Path):
    return runner.invoke(download.app, ["--params", str(params), "--out-dir", str(out_dir)])


def run_normalise(params: Path, raw_dir: Path, out_dir: Path):
    args = ["--params", str(params), "--raw-dir", str(raw_dir), "--out-dir", str(out_dir)]
    return runner.invoke(normalise.app, args)


def test_csv_pair_goes_through_download_and_normalise(tmp_path, csv_dir):
    params = write_params(
        tmp_path, download={"csv_dir": str(csv_dir)}, normalise={"val_size": 5, "seed": 1}
    )
    downloaded = run_download(params, tmp_path / "raw")
    assert downloaded.exit_code == 0, downloaded.output
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(
        [*MNIST_FILE_NAMES, "MD5SUMS"]
    )
    normalised = run_normalise(params, tmp_path / "raw", tmp_path / "prepared")
    assert normalised.exit_code == 0, normalised.output
    assert sorted(p.name for p in (tmp_path / "prepared").iterdir()) == PREPARED_FILES
    assert "train: 25 samples, val: 5 samples, test: 10 samples" in normalised.stderr


def test_every_source_failing_exits_1_listing_each_and_leaves_nothing(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    missing = str(tmp_path / "no-mirror")
    params = write_params(tmp_path, download={"sources": [refused, missing], "retries": 0})
    result = run_download(params, tmp_path / "raw")
    assert result.exit_code == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert f"{refused}: train-images-idx3-ubyte.gz: cannot connect" in error_lines[0]
    assert "Connection refused" in error_lines[0]
    assert f"{missing}: no train-images-idx3-ubyte" in error_lines[0]
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"sources": ["https://fine/", "gopher://old/"]}, "download.sources[1] must be an http(s)"),
        ({"timeout_s": -1}, "download.timeout_s must be > 0"),
        ({"mirrors": []}, "download.mirrors is not a known key"),
    ],
)
def test_bad_download_params_exit_2_naming_the_key(tmp_path, section, message):
    result = run_download(write_params(tmp_path, download=section), tmp_path / "raw")
    assert result.exit_code == 2
    assert message in result.stderr


def test_raw_file_changed_after_download_exits_1_naming_it(tmp_path, csv_dir):
    params = write_params(tmp_path, download={"csv_dir": str(csv_dir)})
    assert run_download(params, tmp_path / "raw").exit_code == 0
    (tmp_path / "raw" / TRAIN_LABELS).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")
    result = run_normalise(params, tmp_path / "raw", tmp_path / "prepared")
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'raw' / TRAIN_LABELS} has md5 " in result.stderr
    assert "run the download stage again" in result.stderr
    assert not (tmp_path / "prepared").exists()


def test_val_size_not_below_training_count_exits_2(tmp_path, csv_dir):
    params = write_params(tmp_path, download={"csv_dir": str(csv_dir)}, normalise={"val_size": 30})
    assert run_download(params, tmp_path / "raw").exit_code == 0
    result = run_normalise(params, tmp_path / "raw", tmp_path / "prepared")
    assert result.exit_code == 2
    assert "normalise.val_size must be smaller than the 30 training images" in result.stderr


@pytest.mark.parametrize(
    ("app", "options"),
    [(download.app, ["--params", "--out-dir"]), (normalise.app, ["--raw-dir", "--out-dir"])],
)
def test_stage_help_describes_its_options(app, options):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert all(option in result.output for option in options)


@pytest.mark.skipif(not REAL_MIRROR.is_dir(), reason="no local MNIST mirror on this machine")
def test_real_mnist_from_a_local_mirror_gives_the_published_split_sizes(tmp_path):
    params = write_params(tmp_path, download={"sources": [REAL_MIRROR.as_uri() + "/"]})
    downloaded = run_download(params, tmp_path / "raw")
    assert downloaded.exit_code == 0, downloaded.output
    assert downloaded.stderr.count("md5 verified") == 4
    normalised = run_normalise(params, tmp_path / "raw", tmp_path / "prepared")
    assert normalised.exit_code == 0, normalised.output
    assert "train: 55000 samples, val: 5000 samples, test: 10000 samples" in normalised.stderr
