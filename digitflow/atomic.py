"""Atomic outputs: write beside the destination, then rename, so no half file is ever seen."""

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from digitflow.errors import EXIT_OUTPUT_INCOMPLETE, DigitflowError


class OutputError(DigitflowError):
    """An output cannot be written: its folder is read-only or full, the path names a
    folder, or a file stands where a folder of the path should be."""


class OutputIncomplete(DigitflowError):
    """Of outputs replaced together, the first ones were replaced and a later one was not."""

    exit_code = EXIT_OUTPUT_INCOMPLETE


@contextmanager
def writing(destination: Path) -> Iterator[None]:
    """Report an OSError in the block as a failure to write ``destination``, in one line."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write {destination}: {_reason(exc)}") from None


def make_folder(folder: Path) -> None:
    with writing(folder):
        Path(folder).mkdir(parents=True, exist_ok=True)


def check_destination(destination: Path) -> None:
    """Fail before any work when ``destination`` names a folder (``os.replace`` would only
    fail at the very end)."""
    if Path(destination).is_dir():
        raise OutputError(f"cannot write {destination}: it is a folder; name a file")


def through_symlink(destination: Path) -> Path:
    """Where writing ``destination`` should go: a symlink's target (the link is kept, not
    replaced by a regular file)."""
    destination = Path(destination)
    return Path(os.path.realpath(destination)) if destination.is_symlink() else destination


@contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """Yield a temporary path in the destination's folder; rename it onto ``destination``
    only if the block finishes, delete it otherwise."""
    with atomic_paths(destination) as (tmp,):
        yield tmp


@contextmanager
def atomic_paths(*destinations: Path) -> Iterator[list[Path]]:
    """:func:`atomic_path` for outputs that belong together: every one is written to its
    temporary first, and only when the block finishes are they renamed, in order. A rename
    failing after the first raises :class:`OutputIncomplete` naming what was replaced."""
    tmps: list[Path] = []
    try:
        for destination in destinations:
            tmps.append(_temporary_beside(Path(destination)))
        yield tmps
        for done, (tmp, destination) in enumerate(zip(tmps, destinations, strict=True)):
            try:
                # mkstemp creates owner-only files; outputs get the permissions any new file would.
                tmp.chmod(0o666 & ~_umask())
                os.replace(tmp, destination)
            except OSError as exc:
                if not done:
                    raise OutputError(f"cannot write {destination}: {_reason(exc)}") from None
                replaced = ", ".join(str(d) for d in destinations[:done])
                raise OutputIncomplete(
                    f"{replaced} written, but {destination} could not be ({_reason(exc)}): "
                    "it is stale; run again once it can be written"
                ) from None
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)


def _temporary_beside(destination: Path) -> Path:
    """``.<name>.<8 random characters>.tmp`` beside ``destination``: hidden from the folder
    walk, and a name :func:`remove_stale_temporaries` recognises."""
    make_folder(destination.parent)
    with writing(destination):
        fd, tmp_name = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp"
        )
    os.close(fd)
    return Path(tmp_name)


def remove_stale_temporaries(destination: Path, older_than_ns: int) -> list[Path]:
    """Delete the temporaries of ``destination`` that a killed run left behind: only names
    :func:`_temporary_beside` makes (``tempfile``'s 8 random characters), last written no
    later than ``older_than_ns``. Call it holding the lock that every writer of
    ``destination`` takes, with the lock's mtime."""
    destination = Path(destination)
    own = re.compile(re.escape(f".{destination.name}.") + r"[a-z0-9_]{8}\.tmp")
    removed = []
    try:
        entries = list(os.scandir(destination.parent))
    except OSError:
        return removed  # no folder yet, so nothing left behind in it
    for entry in entries:
        if not own.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_mtime_ns <= older_than_ns:
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(destination: Path, data: bytes) -> None:
    with atomic_path(destination) as tmp, writing(destination):
        tmp.write_bytes(data)


def write_text_atomic(destination: Path, text: str) -> None:
    with atomic_path(destination) as tmp, writing(destination):
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(destination: Path, value: object) -> None:
    write_text_atomic(destination, json_text(value))


def json_text(value: object) -> str:
    """How every JSON output is laid out."""
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


def save_npy_atomic(destination: Path, array: np.ndarray) -> None:
    """Save one array as ``.npy`` (never pickled)."""
    with atomic_path(destination) as tmp, open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)


@contextmanager
def restored_on_failure(folder: Path) -> Iterator[Path]:
    """Set ``folder`` aside while the block writes a new one in its place; if the block fails,
    delete what it wrote and put the old folder back. A folder a killed run set aside is put
    back first, so the last complete one is never lost."""
    folder = Path(folder)
    aside = folder.with_name(f".{folder.name}.previous.tmp")
    if aside.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(aside, folder)
    if folder.is_dir():
        os.replace(folder, aside)
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if aside.is_dir():
            os.replace(aside, folder)
        raise
    shutil.rmtree(aside, ignore_errors=True)
