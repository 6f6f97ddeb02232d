"""An exclusive lock file, so that two overlapping runs never write the same output.

``flock`` belongs to the open file, so the kernel releases it however the holder ends,
``kill -9`` included: a crashed run never leaves a stale lock. The lock file itself stays
on disk; deleting it would let a waiting run and a new run lock two different files.
"""

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from digitflow.errors import DigitflowError

POLL_INTERVAL_S = 0.1
"""flock has no timeout of its own: a waiting run retries this often."""


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
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, lock_path, timeout_s, on_wait)
        _record_holder(fd)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def _acquire(
    fd: int, lock_path: Path, timeout_s: float, on_wait: Callable[[str], None] | None
) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            raise LockBusy(
                f"another run is in progress: {_holder(fd)} holds the lock {lock_path} "
                f"(gave up after waiting {timeout_s:g} s)"
            )
        if not waiting and on_wait is not None:
            on_wait(f"{_holder(fd)} holds the lock {lock_path}; waiting up to {timeout_s:g} s")
        waiting = True
        time.sleep(min(POLL_INTERVAL_S, remaining_s))


def _record_holder(fd: int) -> None:
    """Write our pid into the lock file, so that a blocked run can name who it waits for."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _holder(fd: int) -> str:
    pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return f"process {pid}" if pid.isdigit() else "another process"
