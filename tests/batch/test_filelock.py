"""The lock file that keeps two overlapping runs from writing the same output."""

import os
import signal
import subprocess
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path

import pytest

from digitflow.batch.filelock import LockBusy, hold_lock, lock_path_for

HOLDER_SCRIPT = textwrap.dedent(
    """
    import sys
    from digitflow.batch.filelock import hold_lock

    with hold_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # hold until the test closes our stdin or kills us
    """
)


@pytest.fixture
def lock(tmp_path: Path) -> Path:
    return tmp_path / "predictions.csv.lock"


def test_lock_file_sits_beside_the_output():
    assert lock_path_for(Path("data/predictions/out.csv")) == Path("data/predictions/out.csv.lock")


def test_second_run_is_refused_at_once_naming_the_lock_and_the_holder(lock):
    with hold_lock(lock), pytest.raises(LockBusy) as refused, hold_lock(lock, timeout_s=0):
        pytest.fail("two runs held the lock at once")
    message = str(refused.value)
    assert "another run is in progress" in message
    assert str(lock) in message
    assert f"process {os.getpid()}" in message


def test_waiting_run_gets_the_lock_once_the_holder_releases_it(lock):
    waits = []
    with ExitStack() as first_run:
        first_run.enter_context(hold_lock(lock))

        def first_run_finishes(message: str) -> None:
            waits.append(message)
            first_run.close()

        with hold_lock(lock, timeout_s=60, on_wait=first_run_finishes):
            pass
    assert len(waits) == 1
    assert "waiting up to 60 s" in waits[0]


def test_lock_is_free_again_after_the_holder_fails(lock):
    with pytest.raises(RuntimeError), hold_lock(lock):
        raise RuntimeError("the run crashed")
    with hold_lock(lock, timeout_s=0):
        pass


def test_lock_held_by_another_process_is_released_when_it_is_killed(lock):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockBusy, match=f"process {holder.pid} holds"), hold_lock(lock):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdin.close()
        holder.stdout.close()
    with hold_lock(lock, timeout_s=0):
        assert lock.read_text().strip() == str(os.getpid())
