"""Atomic outputs: write beside the destination, then rename, so no half file is ever seen."""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


@contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """Yield a temporary path in the destination's folder; rename it onto ``destination``
    only if the block finishes, delete it otherwise."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp"
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates owner-only files; outputs get the permissions any new file would.
        tmp.chmod(0o666 & ~_umask())
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(destination: Path, data: bytes) -> None:
    with atomic_path(destination) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(destination: Path, text: str) -> None:
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(destination: Path, value: object) -> None:
    write_text_atomic(destination, json.dumps(value, indent=2, sort_keys=False) + "\n")


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
