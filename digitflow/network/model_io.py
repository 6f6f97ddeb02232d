"""The weights file: an ``.npz`` of plain arrays that loads without pickle, byte-for-byte
reproducible.

Members: ``format_version`` (int64 scalar), ``layer_sizes`` (int64), ``W0, b0, W1, b1, ...``
(float32, W (out, in), b (out, 1)) and ``meta_json`` (uint8: UTF-8 JSON of the params and
training history). ``np.savez`` stamps each member with the current time, so the archive is
written here with fixed zip dates instead: the same network and meta give the same bytes.
"""

import hashlib
import io
import json
import zipfile
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from digitflow.atomic import atomic_path
from digitflow.errors import DigitflowError
from digitflow.network.mlp import INPUT_SIZE, NUM_CLASSES, Network

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
    naming the file and the problem if it is not one."""
    path = Path(path)
    arrays = _read_arrays(path)
    for name in ("format_version", "layer_sizes", "meta_json"):
        if name not in arrays:
            raise ModelFormatError(path, f"has no '{name}' array; not a digitflow weights file")
    version = arrays["format_version"]
    if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
        raise ModelFormatError(
            path, f"has format version {version.tolist()}, expected {FORMAT_VERSION}"
        )
    sizes = tuple(int(n) for n in arrays["layer_sizes"].ravel())
    _check_layer_sizes(path, sizes)
    expected = {"format_version", "layer_sizes", "meta_json"}
    weights, biases = [], []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        weights.append(_float32_array(path, arrays, f"W{i}", (fan_out, fan_in)))
        biases.append(_float32_array(path, arrays, f"b{i}", (fan_out, 1)))
        expected |= {f"W{i}", f"b{i}"}
    unexpected = sorted(set(arrays) - expected)
    if unexpected:
        raise ModelFormatError(path, f"holds unexpected arrays {unexpected} for layers {sizes}")
    meta_json = arrays["meta_json"]
    if meta_json.dtype != np.uint8 or meta_json.ndim != 1:
        raise ModelFormatError(path, "has a 'meta_json' that is not a uint8 vector")
    try:
        meta = json.loads(meta_json.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(path, f"has unreadable meta_json: {exc}") from exc
    return Network(weights, biases), meta


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every member of the archive, loaded without pickle."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise ModelFormatError(path, "does not exist; run the train stage first") from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFormatError(path, f"is not a readable .npz archive ({exc})") from exc
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ModelFormatError(path, "is a single .npy array, not an .npz archive")
    arrays = {}
    with loaded as archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as exc:
                raise ModelFormatError(
                    path, f"holds array '{name}' that needs pickle ({exc}); refusing to load"
                ) from exc
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise ModelFormatError(path, f"has a damaged array '{name}' ({exc})") from exc
    return arrays


def _check_layer_sizes(path: Path, sizes: tuple[int, ...]) -> None:
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise ModelFormatError(path, f"has invalid layer_sizes {list(sizes)}")
    if sizes[0] != INPUT_SIZE or sizes[-1] != NUM_CLASSES:
        raise ModelFormatError(
            path,
            f"has layer_sizes {list(sizes)}; a digit network maps {INPUT_SIZE} inputs "
            f"to {NUM_CLASSES} classes",
        )


def _float32_array(
    path: Path, arrays: dict[str, np.ndarray], name: str, shape: tuple[int, int]
) -> np.ndarray:
    if name not in arrays:
        raise ModelFormatError(path, f"has no array '{name}' although layer_sizes lists it")
    array = arrays[name]
    if array.shape != shape:
        raise ModelFormatError(path, f"has {name} of shape {array.shape}, expected {shape}")
    if array.dtype != np.float32:
        raise ModelFormatError(path, f"has {name} of dtype {array.dtype}, expected float32")
    return array


def network_fingerprint(path: Path) -> str:
    """First 16 hex digits of the file's sha256: the model's identity in predictions."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelFormatError(path, f"cannot be read ({exc.strerror})") from exc
    return hashlib.sha256(data).hexdigest()[:16]
