"""The weights file: round trip, reproducible bytes, and refusal of anything else."""

import io
import json
import re
import zipfile

import numpy as np
import pytest

from digitflow.errors import DigitflowError
from digitflow.network.digit_likeness import DigitLikeness
from digitflow.network.mlp import init_network
from digitflow.network.model_io import (
    FORMAT_VERSION,
    ModelFormatError,
    load_network,
    network_fingerprint,
    save_network,
    stored_min_confidence,
)
from digitflow.network.whole_digit import WholeDigit

META = {"train": {"hidden": [8, 6], "lr": 0.1}, "best_epoch": 3}


@pytest.fixture
def network():
    return init_network((784, 8, 6, 10), np.random.default_rng(0))


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def rewrite(source, destination, replace: dict[str, bytes | None]):
    """Copy an npz, replacing (bytes) or dropping (None) members named without .npy."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(destination, "w") as copy:
        for name in original.namelist():
            key = name.removesuffix(".npy")
            if key not in replace:
                copy.writestr(name, original.read(name))
        for key, data in replace.items():
            if data is not None:
                copy.writestr(f"{key}.npy", data)


def test_round_trip_keeps_weights_biases_and_meta(tmp_path, network):
    path = tmp_path / "weights.npz"
    save_network(path, network, META)
    loaded, meta = load_network(path)
    assert loaded.layer_sizes == (784, 8, 6, 10)
    for original, copy in zip(
        network.weights + network.biases, loaded.weights + loaded.biases, strict=True
    ):
        np.testing.assert_array_equal(original, copy)
        assert copy.dtype == np.float32
    assert meta == META


def test_same_network_gives_identical_bytes(tmp_path, network):
    save_network(tmp_path / "a.npz", network, META)
    save_network(tmp_path / "b.npz", network, META)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert network_fingerprint(tmp_path / "a.npz") == network_fingerprint(tmp_path / "b.npz")


def test_fingerprint_changes_with_the_weights(tmp_path, network):
    save_network(tmp_path / "a.npz", network, META)
    network.weights[0][0, 0] += 1
    save_network(tmp_path / "b.npz", network, META)
    fingerprint = network_fingerprint(tmp_path / "a.npz")
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    assert fingerprint != network_fingerprint(tmp_path / "b.npz")


def test_file_has_no_pickle_or_object_arrays(tmp_path, network):
    save_network(tmp_path / "w.npz", network, META)
    with np.load(tmp_path / "w.npz", allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)
        assert int(archive["format_version"]) == FORMAT_VERSION
        assert json.loads(archive["meta_json"].tobytes()) == META


@pytest.mark.parametrize(
    ("replace", "problem"),
    [
        ({"format_version": npy_bytes(np.array(FORMAT_VERSION + 1))}, "format version 2"),
        ({"W1": npy_bytes(np.zeros((6, 9), np.float32))}, "W1 of shape (6, 9)"),
        ({"b0": npy_bytes(np.zeros((8,), np.float32))}, "b0 of shape (8,)"),
        ({"W0": npy_bytes(np.zeros((8, 784), np.float16))}, "dtype float16"),
        ({"W0": npy_bytes(np.zeros((8, 784), np.float64))}, "more than a float32 (8, 784) array"),
        ({"layer_sizes": npy_bytes(np.array([784, 8, 6, 7]))}, "10 classes"),
        ({"W2": None}, "no array 'W2'"),
        ({"meta_json": None}, "no 'meta_json'"),
        ({"extra": npy_bytes(np.zeros(3))}, "unexpected arrays ['extra']"),
        ({"W0": npy_bytes(np.array([{"a": 1}], dtype=object), True)}, "needs pickle"),
    ],
)
def test_load_rejects_damaged_files_with_one_line_naming_the_file(
    tmp_path, network, replace, problem
):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    save_network(good, network, META)
    rewrite(good, bad, replace)
    with pytest.raises(ModelFormatError) as caught:
        load_network(bad)
    message = str(caught.value)
    assert str(bad) in message and problem in message and "\n" not in message
    assert isinstance(caught.value, DigitflowError)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        (b"not a zip at all", "not a readable .npz"),
        (npy_bytes(np.array([{"a": 1}], dtype=object), True), "single .npy array"),
        (npy_bytes(np.zeros(3)), "single .npy array"),
    ],
)
def test_load_rejects_files_that_are_not_weight_archives(tmp_path, content, problem):
    path = tmp_path / "weights.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelFormatError, match=problem):
        load_network(path)


def test_unexpected_member_is_refused_before_any_array_is_read(tmp_path, network, monkeypatch):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    save_network(good, network, META)
    rewrite(good, bad, {"huge": npy_bytes(np.zeros(3))})
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: opened.append(name) or real_open(self, name, *a, **k),
    )
    with pytest.raises(ModelFormatError, match=r"unexpected arrays \['huge'\]"):
        load_network(bad)
    assert opened == []


@pytest.mark.parametrize(
    ("compression", "problem"),
    [
        (zipfile.ZIP_STORED, "declares 1025216 bytes for 'W0', more than a float32 (8, 784)"),
        (zipfile.ZIP_DEFLATED, "has a compressed array 'W0'"),
    ],
    ids=["oversized", "compressed"],
)
def test_member_that_could_be_larger_than_its_array_is_refused(
    tmp_path, network, compression, problem
):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    save_network(good, network, META)
    with zipfile.ZipFile(good) as original, zipfile.ZipFile(bad, "w") as copy:
        for name in original.namelist():
            data = original.read(name) + (b"\0" * 1_000_000 if name == "W0.npy" else b"")
            copy.writestr(name, data, compress_type=compression if name == "W0.npy" else None)
    with pytest.raises(ModelFormatError, match=re.escape(problem)):
        load_network(bad)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_weights_holding_nan_or_inf_are_refused(tmp_path, network, value):
    network.weights[1][2, 3] = value
    save_network(tmp_path / "w.npz", network, META)
    with pytest.raises(ModelFormatError, match="has 1 NaN or infinite values in W1; retrain"):
        load_network(tmp_path / "w.npz")


def test_failed_save_leaves_the_previous_file(tmp_path, network):
    path = tmp_path / "weights.npz"
    save_network(path, network, META)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save_network(path, network, {"not json": object()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["weights.npz"]


def test_temperature_round_trips_and_scales_the_probabilities(tmp_path, network):
    path = tmp_path / "weights.npz"
    network.temperature = 2.0
    save_network(path, network, META)
    loaded, _ = load_network(path)
    assert loaded.temperature == 2.0
    X = np.random.default_rng(1).random((784, 5), dtype=np.float32)
    logits = loaded.predict_logits(X) / 2.0
    expected = np.exp(logits - logits.max(axis=0))
    np.testing.assert_allclose(loaded.predict_proba(X), expected / expected.sum(axis=0), 1e-5)


def test_file_made_before_calibration_loads_with_temperature_one(tmp_path, network):
    good, old = tmp_path / "good.npz", tmp_path / "old.npz"
    save_network(good, network, META)
    rewrite(good, old, {"temperature": None})
    assert load_network(old)[0].temperature == 1.0


@pytest.mark.parametrize(
    "value", [np.float32(0.0), np.float32(np.nan), np.float64(1.5), np.ones(2, np.float32)]
)
def test_invalid_temperature_is_refused(tmp_path, network, value):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    save_network(good, network, META)
    rewrite(good, bad, {"temperature": npy_bytes(np.asarray(value))})
    with pytest.raises(ModelFormatError, match="invalid temperature"):
        load_network(bad)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, None),
        ({"calibration": {"min_confidence": None}}, None),
        ({"calibration": {"min_confidence": 0.93}}, 0.93),
    ],
)
def test_stored_threshold_is_read_from_the_calibration_meta(tmp_path, meta, expected):
    assert stored_min_confidence(tmp_path / "w.npz", meta) == expected


@pytest.mark.parametrize("value", [1.5, -0.1, "0.9", True])
def test_invalid_stored_threshold_is_refused(tmp_path, value):
    with pytest.raises(ModelFormatError, match="min_confidence"):
        stored_min_confidence(tmp_path / "w.npz", {"calibration": {"min_confidence": value}})


def with_likeness(network):
    weights = np.linspace(-1, 1, network.layer_sizes[-2], dtype=np.float32)
    network.likeness = DigitLikeness(weights, bias=0.25, min_score=-1.5)
    network.whole_digit = WholeDigit(weights[::-1].copy(), bias=-0.75)
    return network


def test_likeness_scores_round_trip_and_a_file_without_them_has_none(tmp_path, network):
    plain, scored = tmp_path / "plain.npz", tmp_path / "scored.npz"
    save_network(plain, network, META)
    save_network(scored, with_likeness(network), META)
    assert load_network(plain)[0].likeness is None
    assert load_network(plain)[0].whole_digit is None
    likeness, whole = load_network(scored)[0].likeness, load_network(scored)[0].whole_digit
    np.testing.assert_array_equal(likeness.weights, network.likeness.weights)
    assert (likeness.bias, likeness.min_score) == (0.25, -1.5)
    np.testing.assert_array_equal(whole.weights, network.whole_digit.weights)
    assert whole.bias == -0.75


@pytest.mark.parametrize(
    ("replace", "problem"),
    [
        ({"likeness_bias": None}, "but not \\['likeness_bias'\\]"),
        ({"likeness_weights": npy_bytes(np.ones(5, np.float32))}, "invalid likeness_weights"),
        ({"likeness_min_score": npy_bytes(np.float32(np.nan))}, "invalid likeness_min_score"),
        ({"whole_digit_bias": None}, "but not \\['whole_digit_bias'\\]"),
        ({"whole_digit_weights": npy_bytes(np.ones(5, np.float32))}, "invalid whole_digit_weights"),
        ({"whole_digit_bias": npy_bytes(np.float32(np.inf))}, "invalid whole_digit_bias"),
    ],
)
def test_damaged_likeness_score_is_refused(tmp_path, network, replace, problem):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    save_network(good, with_likeness(network), META)
    rewrite(good, bad, replace)
    with pytest.raises(ModelFormatError, match=problem):
        load_network(bad)
