"""The weights file: an ``.npz`` of plain arrays that loads without pickle, byte-for-byte
reproducible.

Members: ``format_version`` (int64 scalar), ``layer_sizes`` (int64), ``W0, b0, W1, b1, ...``
(float32, W (out, in), b (out, 1)), ``temperature`` (float32 scalar > 0, the calibration
fitted after training; a file without it loads with 1), ``likeness_weights`` (float32, one per
unit of the last hidden layer), ``likeness_bias`` and ``likeness_min_score`` (float32 scalars:
the ``digit_likeness`` score fitted after training; a file without them has none),
``whole_digit_weights`` and ``whole_digit_bias`` (the same for the ``whole_digit`` score) and
``meta_json`` (uint8: UTF-8 JSON
of the params, training history and calibration). ``np.savez`` stamps each member with the
current time, so the archive is written here with fixed zip dates instead: the same network
and meta give the same bytes.
"""

import hashlib
import io
import json
import math
import re
import zipfile
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from digitflow.atomic import atomic_path
from digitflow.errors import DigitflowError
from digitflow.network.digit_likeness import DigitLikeness
from digitflow.network.mlp import INPUT_SIZE, NUM_CLASSES, Network
from digitflow.network.whole_digit import WholeDigit

FORMAT_VERSION = 1
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class ModelFormatError(DigitflowError):
    """A weights file is missing, damaged, of another format version or inconsistent."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")


def save_network(path: Path, network: Network, meta: dict[str, Any]) -> None:
    """Write ``network`` and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "layer_sizes": np.array(network.layer_sizes, dtype=np.int64),
    }
    for i, (W, b) in enumerate(zip(network.weights, network.biases, strict=True)):
        arrays[f"W{i}"] = np.ascontiguousarray(W, dtype=np.float32)
        arrays[f"b{i}"] = np.ascontiguousarray(b, dtype=np.float32)
    arrays["temperature"] = np.array(network.temperature, dtype=np.float32)
    if network.likeness is not None:
        arrays["likeness_weights"] = np.ascontiguousarray(network.likeness.weights, np.float32)
        arrays["likeness_bias"] = np.array(network.likeness.bias, dtype=np.float32)
        arrays["likeness_min_score"] = np.array(network.likeness.min_score, dtype=np.float32)
    if network.whole_digit is not None:
        arrays["whole_digit_weights"] = np.ascontiguousarray(
            network.whole_digit.weights, np.float32
        )
        arrays["whole_digit_bias"] = np.array(network.whole_digit.bias, dtype=np.float32)
    meta_bytes = json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8")
    arrays["meta_json"] = np.frombuffer(meta_bytes, dtype=np.uint8)
    with (
        atomic_path(Path(path)) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            member.external_attr = 0o644 << 16
            archive.writestr(member, _npy_bytes(array))


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def load_network(path: Path) -> tuple[Network, dict[str, Any]]:
    """Read a weights file written by :func:`save_network`; raise :class:`ModelFormatError`
    naming the file and the problem if it is not one.

    The zip directory is checked before any array is read: only the members of the format,
    each stored (not compressed) and no larger than its array needs. So a hostile file can
    make this read no more than its own size, and nothing in it is unpickled.
    """
    path = Path(path)
    with _open_archive(path) as archive:
        members = _check_directory(path, archive)
        version = _read_member(path, archive, members, "format_version")
        if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
            raise ModelFormatError(
                path, f"has format version {version.tolist()}, expected {FORMAT_VERSION}"
            )
        sizes = tuple(int(n) for n in _read_member(path, archive, members, "layer_sizes").ravel())
        _check_layer_sizes(path, sizes)
        shapes = {}
        for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            shapes[f"W{i}"], shapes[f"b{i}"] = (fan_out, fan_in), (fan_out, 1)
        unexpected = sorted(set(members) - set(shapes) - set(_FIXED_MEMBERS) - _OPTIONAL_MEMBERS)
        if unexpected:
            raise ModelFormatError(path, f"holds unexpected arrays {unexpected} for layers {sizes}")
        for name, shape in shapes.items():
            if name not in members:
                raise ModelFormatError(path, f"has no array '{name}' although layer_sizes lists it")
            _check_declared_size(
                path, members[name], name, _NPY_HEADER_MAX + 4 * math.prod(shape), shape
            )
        arrays = {name: _read_member(path, archive, members, name) for name in shapes}
        meta_json = _read_member(path, archive, members, "meta_json")
        temperature = _temperature(path, archive, members)
        likeness = _linear_score(path, archive, members, sizes[-2], _LIKENESS)
        whole_digit = _linear_score(path, archive, members, sizes[-2], _WHOLE_DIGIT)
    for name, shape in shapes.items():
        _check_float32(path, arrays[name], name, shape)
    if meta_json.dtype != np.uint8 or meta_json.ndim != 1:
        raise ModelFormatError(path, "has a 'meta_json' that is not a uint8 vector")
    try:
        meta = json.loads(meta_json.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(path, f"has unreadable meta_json: {exc}") from exc
    weights = [arrays[f"W{i}"] for i in range(len(sizes) - 1)]
    biases = [arrays[f"b{i}"] for i in range(len(sizes) - 1)]
    return Network(
        weights,
        biases,
        temperature,
        None if likeness is None else DigitLikeness(*likeness),
        None if whole_digit is None else WholeDigit(*whole_digit),
    ), meta


def _temperature(
    path: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]
) -> float:
    """The stored temperature; 1 (the network as trained) for files made before calibration."""
    if "temperature" not in members:
        return 1.0
    _check_declared_size(path, members["temperature"], "temperature", 1 << 12)
    value = _read_member(path, archive, members, "temperature")
    if value.shape != () or value.dtype != np.float32 or not (np.isfinite(value) and value > 0):
        raise ModelFormatError(path, f"has an invalid temperature {value.tolist()!r}")
    return float(value)


_LIKENESS = ("likeness_weights", "likeness_bias", "likeness_min_score")
_WHOLE_DIGIT = ("whole_digit_weights", "whole_digit_bias")


def _linear_score(
    path: Path,
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    units: int,
    names: tuple[str, ...],
) -> tuple[np.ndarray, *tuple[float, ...]] | None:
    """A stored score on the last hidden layer: its weights (units,) float32 (``names[0]``)
    and float scalars (the other names), or None for a file made without it."""
    present = [name for name in names if name in members]
    if not present:
        return None
    if len(present) < len(names):
        missing = sorted(set(names) - set(present))
        raise ModelFormatError(path, f"has {present} but not {missing}")
    weights, *scalars = names
    _check_declared_size(path, members[weights], weights, _NPY_HEADER_MAX + 4 * units)
    values = {}
    for name in names:
        if name != weights:
            _check_declared_size(path, members[name], name, 1 << 12)
        values[name] = _read_member(path, archive, members, name)
    for name, value in values.items():
        shape = (units,) if name == weights else ()
        if value.shape != shape or value.dtype != np.float32 or not np.isfinite(value).all():
            raise ModelFormatError(path, f"has an invalid {name} (expected float32 {shape})")
    return values[weights], *(float(values[name]) for name in scalars)


_OPTIONAL_MEMBERS = {"temperature", *_LIKENESS, *_WHOLE_DIGIT}
"""Members a file made before calibration (or without a likeness or whole-digit score) lacks."""
_NPY_HEADER_MAX = 4096
"""Bytes an .npy header may take (numpy pads it to 64; a few hundred at most)."""
_FIXED_MEMBERS = {"format_version": 1 << 12, "layer_sizes": 1 << 16, "meta_json": 1 << 24}
"""The members every weights file has, with the most bytes each may declare: a scalar, a
vector of layer widths, and the params and per-epoch history as JSON."""


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise ModelFormatError(path, "does not exist; run the train stage first") from exc
    except OSError as exc:
        raise ModelFormatError(path, f"cannot be read ({exc.strerror})") from exc
    except zipfile.BadZipFile as exc:
        if _starts_with(path, b"\x93NUMPY"):
            raise ModelFormatError(path, "is a single .npy array, not an .npz archive") from exc
        raise ModelFormatError(path, f"is not a readable .npz archive ({exc})") from exc


def _starts_with(path: Path, prefix: bytes) -> bool:
    with open(path, "rb") as f:
        return f.read(len(prefix)) == prefix


def _check_directory(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members by array name, each checked to be stored uncompressed (a compressed member
    could declare any size and expand to it) and the fixed ones to be of a plausible size."""
    members = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if not _ARRAY_NAME.fullmatch(name) or name in members:
            raise ModelFormatError(path, f"holds unexpected arrays ['{name}']")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ModelFormatError(
                path, f"has a compressed array '{name}'; weights files are stored uncompressed"
            )
        members[name] = info
    # A stored member's bytes are in the file: a directory claiming more cannot be true.
    declared = sum(info.file_size for info in members.values())
    if declared > path.stat().st_size or any(
        info.file_size != info.compress_size for info in members.values()
    ):
        raise ModelFormatError(path, "has a zip directory that does not match its contents")
    for name, limit in _FIXED_MEMBERS.items():
        if name not in members:
            raise ModelFormatError(path, f"has no '{name}' array; not a digitflow weights file")
        _check_declared_size(path, members[name], name, limit)
    return members


_ARRAY_NAME = re.compile(
    r"format_version|layer_sizes|meta_json|temperature|likeness_(?:weights|bias|min_score)"
    r"|whole_digit_(?:weights|bias)"
    r"|[Wb](?:0|[1-9][0-9]{0,3})"
)


def _check_declared_size(
    path: Path, info: zipfile.ZipInfo, name: str, limit: int, shape: tuple[int, int] | None = None
) -> None:
    if info.file_size > limit:
        what = f"a float32 {shape} array takes" if shape else f"the {limit} it may take"
        raise ModelFormatError(
            path, f"declares {info.file_size} bytes for '{name}', more than {what}"
        )


def _read_member(
    path: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str
) -> np.ndarray:
    """One member as an array, its .npy header checked against its length before anything
    is allocated (``np.load`` allocates whatever shape the header claims)."""
    info = members[name]
    data = bytearray(info.file_size)  # writable, so the arrays are too, without a copy
    try:
        with archive.open(info) as member:
            if member.readinto(data) != info.file_size or member.read(1):
                raise EOFError("shorter or longer than the zip directory says")
        stream = io.BytesIO(data)
        version = np.lib.format.read_magic(stream)
        read_header = _NPY_HEADER_READERS.get(version)
        if read_header is None:
            raise ValueError(f"npy format version {version} is not supported")
        shape, fortran_order, dtype = read_header(stream)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelFormatError(path, f"has a damaged array '{name}' ({exc})") from exc
    if dtype.hasobject:
        raise ModelFormatError(path, f"holds array '{name}' that needs pickle; refusing to load")
    if len(data) - stream.tell() != math.prod(shape) * dtype.itemsize:
        raise ModelFormatError(path, f"has a damaged array '{name}' (its length fits no {shape})")
    array = np.frombuffer(data, dtype=dtype, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C")


_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _check_layer_sizes(path: Path, sizes: tuple[int, ...]) -> None:
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise ModelFormatError(path, f"has invalid layer_sizes {list(sizes)}")
    if sizes[0] != INPUT_SIZE or sizes[-1] != NUM_CLASSES:
        raise ModelFormatError(
            path,
            f"has layer_sizes {list(sizes)}; a digit network maps {INPUT_SIZE} inputs "
            f"to {NUM_CLASSES} classes",
        )


def _check_float32(path: Path, array: np.ndarray, name: str, shape: tuple[int, int]) -> None:
    if array.shape != shape:
        raise ModelFormatError(path, f"has {name} of shape {array.shape}, expected {shape}")
    if array.dtype != np.float32:
        raise ModelFormatError(path, f"has {name} of dtype {array.dtype}, expected float32")
    non_finite = array.size - np.count_nonzero(np.isfinite(array))
    if non_finite:
        raise ModelFormatError(
            path, f"has {non_finite} NaN or infinite values in {name}; retrain the model"
        )


def network_fingerprint(path: Path) -> str:
    """First 16 hex digits of the file's sha256: the model's identity in predictions."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelFormatError(path, f"cannot be read ({exc.strerror})") from exc
    return hashlib.sha256(data).hexdigest()[:16]


def stored_min_confidence(path: Path, meta: dict[str, Any]) -> float | None:
    """The confidence threshold train chose on the validation split (``meta["calibration"]``),
    or None for a file that has none (made before calibration, or without a val split)."""
    value = meta.get("calibration", {}).get("min_confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ModelFormatError(path, f"has an invalid calibration.min_confidence {value!r}")
    return float(value)
