"""predict-folder --read number: the number mode's rows, rejections and debug pictures."""

import numpy as np
import pandas as pd
import pytest
from helpers import save_digit, save_model, save_model_with_likeness, save_number
from PIL import Image

from digitflow.batch.chunk_reading import UNLIKE_A_NUMBER_DIGIT
from digitflow.batch.folder_walk import FoundFile
from digitflow.batch.predict import PredictFolderConfig, predict_folder
from digitflow.batch.predictions_file import (
    COLUMNS,
    NUMBER_COLUMNS,
    PredictionsFileError,
    number_rows,
    redecided,
)
from digitflow.errors import ParamsError


@pytest.fixture
def model(tmp_path):
    return save_model(tmp_path / "weights.npz", seed=0)


def run(tmp_path, model, read="number", debug_dir=None, incremental=False, **settings):
    settings = {"jobs": 1, **settings}
    config = PredictFolderConfig(input_dir=tmp_path / "in", read=read, **settings)
    out, summary = tmp_path / "out" / "predictions.csv", tmp_path / "out" / "summary.json"
    predict_folder(config, model, out, summary, incremental=incremental, debug_dir=debug_dir)
    return pd.read_csv(out, dtype=str, keep_default_na=False).set_index("path")


def test_number_rows_keep_leading_zeros_and_multiply_the_digit_confidences():
    probs_kx10 = np.full((3, 10), 0.01, np.float32)
    probs_kx10[[0, 1, 2], [0, 4, 2]] = [0.5, 0.9, 0.8]
    found = FoundFile(path=None, rel_path="a.png", size_bytes=1, mtime_ns=2, problem="")
    (row,) = number_rows([found], [probs_kx10], "m", min_confidence=0.0)
    cells = dict(zip(NUMBER_COLUMNS, row, strict=True))
    assert cells["predicted"] == "042"
    assert (cells["digits"], cells["digit_confidences"]) == ("3", "0.500000;0.900000;0.800000")
    assert cells["confidence"] == "0.360000"
    assert all(cells[f"p{d}"] == "" for d in range(10))


def test_a_number_below_min_confidence_is_uncertain_and_redecided_keeps_its_digits():
    probs_kx10 = np.full((2, 10), 0.01, np.float32)
    probs_kx10[[0, 1], [4, 2]] = [0.6, 0.6]
    found = FoundFile(path=None, rel_path="a.png", size_bytes=1, mtime_ns=2, problem="")
    (row,) = number_rows([found], [probs_kx10], "m", min_confidence=0.5)
    cells = dict(zip(NUMBER_COLUMNS, row, strict=True))
    assert (cells["status"], cells["error"]) == ("uncertain", "confidence 0.360000 is below 0.5")
    again = dict(zip(NUMBER_COLUMNS, redecided(row, 0.3), strict=True))
    assert (again["status"], again["error"], again["digits"]) == ("ok", "", "2")


def test_number_mode_csv_has_the_number_columns_and_digit_mode_keeps_its_own(tmp_path, model):
    save_number(tmp_path / "in" / "three.png", [2, 0, 7])
    numbers = run(tmp_path, model)
    assert (numbers.index.name, *numbers.columns) == NUMBER_COLUMNS
    row = numbers.loc["three.png"]
    assert (row["status"], row["digits"], len(row["predicted"])) == ("ok", "3", 3)
    confidences = [float(c) for c in row["digit_confidences"].split(";")]
    assert float(row["confidence"]) == pytest.approx(np.prod(confidences), abs=2e-6)
    save_digit(tmp_path / "in2" / "seven.png")
    (tmp_path / "in").rename(tmp_path / "numbers")
    (tmp_path / "in2").rename(tmp_path / "in")
    digits = run(tmp_path, model, read="digit")
    assert (digits.index.name, *digits.columns) == COLUMNS


def test_digit_mode_rejects_a_picture_of_several_digits(tmp_path, model):
    save_number(tmp_path / "in" / "69.png", [6, 9])
    row = run(tmp_path, model, read="digit").loc["69.png"]
    assert row["status"] == "rejected" and row["predicted"] != ""  # an answer, not a failure
    assert row["error"] == "2 digits side by side: use --read number"


def test_more_marks_than_max_digits_are_refused_with_the_reason(tmp_path, model):
    save_number(tmp_path / "in" / "long.png", [1, 2, 3, 4])
    row = run(tmp_path, model, max_digits=3).loc["long.png"]
    assert (row["status"], row["predicted"], row["digits"]) == ("rejected", "", "0")
    assert row["error"] == "4 marks, more than predict_folder.max_digits=3"


def test_changing_max_digits_reads_the_kept_numbers_again(tmp_path, model):
    save_number(tmp_path / "in" / "long.png", [1, 2, 3, 4])
    assert run(tmp_path, model, incremental=True).loc["long.png", "status"] != "rejected"
    row = run(tmp_path, model, incremental=True, max_digits=3).loc["long.png"]
    assert row["status"] == "rejected"


def test_debug_dir_shows_the_cuts_and_each_digits_28x28(tmp_path, model):
    save_number(tmp_path / "in" / "n.png", [4, 1])
    run(tmp_path, model, debug_dir=tmp_path / "debug")
    picture = np.asarray(Image.open(tmp_path / "debug" / "n.png.png"))
    assert picture.ndim == 3 and picture.shape[1] >= 2 * 2 * 28
    digits_strip = picture[-56:, :, 0]
    assert digits_strip[:, :56].max() == 255 and digits_strip[:, 60:116].max() == 255


def test_incremental_refuses_a_file_written_in_the_other_mode(tmp_path, model):
    save_number(tmp_path / "in" / "n.png", [4, 1])
    run(tmp_path, model, read="digit")
    with pytest.raises(PredictionsFileError, match="written with --read digit"):
        run(tmp_path, model, incremental=True)


def test_config_rejects_max_digits_below_one():
    with pytest.raises(ParamsError, match="predict_folder.max_digits must be >= 1, got 0"):
        PredictFolderConfig(max_digits=0)


def test_worker_processes_read_numbers_as_one_process_does(tmp_path, model):
    save_number(tmp_path / "in" / "a.png", [5, 0])
    save_number(tmp_path / "in" / "b.png", [1, 2, 3])
    one = run(tmp_path, model)
    two = run(tmp_path, model, jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_a_number_with_a_digit_unlike_those_learned_is_rejected_keeping_its_digits(tmp_path):
    save_number(tmp_path / "in" / "n.png", [1, 2])
    row = run(tmp_path, save_model_with_likeness(tmp_path / "strict.npz", 100.0)).loc["n.png"]
    assert (row["status"], row["error"]) == (
        "rejected",
        UNLIKE_A_NUMBER_DIGIT.format(1, int(row["digits"])),
    )
    assert len(row["predicted"]) == int(row["digits"]) > 0
    lenient = run(tmp_path, save_model_with_likeness(tmp_path / "lenient.npz", -100.0))
    assert lenient.loc["n.png", "status"] != "rejected"
