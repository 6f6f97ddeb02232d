"""predict-folder stopped from outside (kill -9, SIGTERM), in real processes: no worker left
running, no temporary file left for good."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import make_folder, save_model

DIGITFLOW = [sys.executable, "-c", "from digitflow.cli import app; app()"]
DEADLINE_S = 60

BLOCKING_READER = textwrap.dedent(
    """
    import os
    import signal
    from pathlib import Path

    from digitflow.reading import images

    real_read_file = images.read_file

    def read_file(path, *options, **keywords):
        if Path(path).name.startswith("block"):  # a decode that never ends, until killed
            Path(os.environ["BLOCKED_DIR"], str(os.getpid())).write_text("")
            signal.pause()
        return real_read_file(path, *options, **keywords)

    images.read_file = read_file
    """
)


def poll(condition, what: str):
    deadline = time.monotonic() + DEADLINE_S
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {DEADLINE_S} s for {what}")
        time.sleep(0.05)
    return result


def _proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _proc_stat(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has stopped for good


@pytest.fixture
def blocked_run(tmp_path: Path):
    """A predict-folder run with two workers, one stuck decoding; yields (process, its
    helper processes, the output folder)."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(BLOCKING_READER)
    (tmp_path / "blocked").mkdir()
    save_model(tmp_path / "weights.npz", seed=0)
    make_folder(tmp_path / "photos", ["a.png", "block.png", "c.png"])
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "site"),
        "BLOCKED_DIR": str(tmp_path / "blocked"),
    }
    out = tmp_path / "out"
    args = ["predict-folder", "photos", "--model", "weights.npz", "--jobs", "2"]
    outputs = ["--out", str(out / "predictions.csv"), "--summary", str(out / "summary.json")]
    run = subprocess.Popen(
        [*DIGITFLOW, *args, *outputs], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        poll(lambda: list((tmp_path / "blocked").iterdir()), "a worker to start decoding")
        helpers = descendants(run.pid)
        assert len(helpers) >= 2  # the forkserver and its workers (and a resource tracker)
        yield run, helpers, out
    finally:
        run.kill()
        run.communicate()


def test_kill_9_leaves_no_worker_running_and_the_next_run_removes_its_temporary(
    blocked_run, tmp_path
):
    run, helpers, out = blocked_run
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=DEADLINE_S)
    poll(lambda: not any(running(pid) for pid in helpers), "the workers to die with the run")
    assert list(out.glob(".predictions.csv.*.tmp"))
    (tmp_path / "photos" / "block.png").unlink()
    args = ["predict-folder", "photos", "--model", "weights.npz", "--jobs", "1"]
    outputs = ["--out", "out/predictions.csv", "--summary", "out/summary.json"]
    subprocess.run([*DIGITFLOW, *args, *outputs], cwd=tmp_path, check=True, timeout=DEADLINE_S)
    assert sorted(p.name for p in out.iterdir()) == [
        "predictions.csv",
        "predictions.csv.lock",
        "summary.json",
    ]


def test_sigterm_stops_like_ctrl_c_leaving_no_worker_and_no_temporary(blocked_run):
    run, helpers, out = blocked_run
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=DEADLINE_S)
    assert run.returncode == 143, stderr
    assert "error: terminated; finished outputs are kept, partial files were removed" in stderr
    poll(lambda: not any(running(pid) for pid in helpers), "the workers to stop")
    assert sorted(p.name for p in out.iterdir()) == ["predictions.csv.lock"]
