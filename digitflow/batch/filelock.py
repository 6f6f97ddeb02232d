"""An exclusive lock file, so that two overlapping runs never write the same output.

The `filelock` package does the locking: on Unix an ``flock`` on the open file, which the
kernel releases however the holder ends, ``kill -9`` included, so a crashed run never leaves
a stale lock. The lock file itself stays on disk (``preserve_lock_file``): deleting it would
let a waiting run and a new run lock two different files. A file system without ``flock``
is refused rather than served by filelock's "soft" marker file, which a ``kill -9`` would
leave behind for good.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from digitflow.errors import DigitflowError


class LockBusy(DigitflowError):
    """Another run still held the lock file when the wait ran out."""


def lock_path_for(output: Path) -> Path:
    """The lock file guarding ``output``: beside it, so any run writing there shares it."""
    return output.with_name(output.name + ".lock")


@contextmanager
def hold_lock(
    lock_path: Path,
    timeout_s: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for the block.

    If another process holds it, wait up to ``timeout_s`` seconds (0: do not wait), calling
    ``on_wait(message)`` once when the wait starts, then raise :class:`LockBusy`.
    """
    lock_path = Path(lock_path)
    lock = filelock.FileLock(
        lock_path,
        thread_local=False,
        preserve_lock_file=True,
        fallback_to_soft=False,
        on_acquired=_record_holder,
    )
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if timeout_s <= 0:
            raise _busy(lock_path, timeout_s) from None
        if on_wait is not None:
            holder = _holder(lock_path)
            on_wait(f"{holder} holds the lock {lock_path}; waiting up to {timeout_s:g} s")
        try:
            lock.acquire(timeout=timeout_s)
        except filelock.Timeout:
            raise _busy(lock_path, timeout_s) from None
    try:
        yield
    finally:
        lock.release()


def _busy(lock_path: Path, timeout_s: float) -> LockBusy:
    return LockBusy(
        f"another run is in progress: {_holder(lock_path)} holds the lock {lock_path} "
        f"(gave up after waiting {timeout_s:g} s)"
    )


def _record_holder(fd: int) -> None:
    """Write our pid into the lock file, so that a blocked run can name who it waits for."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _holder(lock_path: Path) -> str:
    try:
        pid = lock_path.read_bytes()[:32].decode(errors="replace").strip()
    except OSError:
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"
