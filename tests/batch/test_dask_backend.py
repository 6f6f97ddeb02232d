"""predict-folder on a Dask cluster: a LocalCluster of 2 worker processes on 127.0.0.1."""

import json
import os
import socket
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

import dask  # noqa: E402
import psutil  # noqa: E402
from distributed import LocalCluster  # noqa: E402
from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402
from helpers import make_folder, save_model  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from digitflow.batch import predict  # noqa: E402
from digitflow.batch.dask_backend import SchedulerLost  # noqa: E402
from digitflow.batch.predict import PredictFolderConfig, predict_folder  # noqa: E402
from digitflow.reading import images  # noqa: E402
from digitflow.stages.predict_folder import app  # noqa: E402

NAMES = ["a.png", "b.png", "c/d.png", "c/e.png", "f.png", "g.png", "h.png"]


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; a task is given up after killing two workers.
    On teardown, every worker process the cluster started, restarted ones too, must be gone."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    # One task per worker thread at a time: a worker's death then blames only the task it ran.
    # A worker that fails to restart fails the test instead of hanging it. LocalCluster gives
    # up on a killed worker that has not come back within lost-worker-timeout (15 s by
    # default), which a restart on a loaded machine can take.
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.scheduler.no-workers-timeout": "60s",
        "distributed.deploy.lost-worker-timeout": "120s",
    }
    with dask.config.set(settings):  # read while the cluster runs, not only as it starts
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
        )
        yield cluster
        cluster.close()
    started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    # multiprocessing's resource tracker and the local pool's forkserver stay for the session
    session = ("resource_tracker", "forkserver")
    workers = [p for p in started if not any(s in " ".join(p.cmdline()) for s in session)]
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return save_model(tmp_path / "weights.npz", seed=0)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    """Seven digits and a bad file, in chunks of two, so that several tasks are in flight."""
    monkeypatch.setattr(predict, "CHUNK_FILES", 2)
    root = make_folder(tmp_path / "in", NAMES)
    (root / "c" / "bad.png").write_bytes(b"not an image")
    return root


def run(folder: Path, model: Path, out_dir: Path, incremental=False, **config) -> dict:
    return predict_folder(
        PredictFolderConfig(input_dir=folder, **config),
        model,
        out_dir / "predictions.csv",
        out_dir / "summary.json",
        incremental=incremental,
    )


class KillWhenReading(WorkerPlugin):
    """Makes a worker process die like the OOM killer would when it reads the file ``name``;
    only the first time if ``once_marker`` is given (the file then marks that it happened)."""

    def __init__(self, name: str, once_marker: Path | None = None):
        self.name = name
        self.once_marker = once_marker

    def setup(self, worker):
        self.real_read_file = images.read_file

        def read_or_die(path, *options, **keywords):
            if Path(path).name == self.name and not (
                self.once_marker and self.once_marker.exists()
            ):
                if self.once_marker:
                    self.once_marker.touch()
                os._exit(9)
            return self.real_read_file(path, *options, **keywords)

        images.read_file = read_or_die

    def teardown(self, worker):
        images.read_file = self.real_read_file


@pytest.fixture
def killer(cluster):
    """Installs a KillWhenReading on every worker, present and restarted, for one test."""
    with cluster.get_client() as client:
        names = []

        def install(plugin: KillWhenReading) -> None:
            names.append(f"kill-{len(names)}")
            client.register_plugin(plugin, name=names[-1])

        yield install
        for name in names:
            client.unregister_worker_plugin(name)


def test_csv_on_dask_is_byte_identical_to_the_local_pool(cluster, folder, model, tmp_path):
    local = run(folder, model, tmp_path / "local", jobs=2)
    on_dask = run(folder, model, tmp_path / "dask", scheduler=cluster.scheduler_address)
    csv = "predictions.csv"
    assert (tmp_path / "dask" / csv).read_bytes() == (tmp_path / "local" / csv).read_bytes()
    timings = ("started_at", "finished_at", "elapsed_s", "images_per_s")
    assert {k: v for k, v in on_dask.items() if k not in timings} == {
        k: v for k, v in local.items() if k not in timings
    }
    assert (on_dask["predicted"], on_dask["failed"]) == (7, 1)


def test_incremental_over_dask_reads_only_new_files(cluster, folder, model, tmp_path):
    run(folder, model, tmp_path / "out", scheduler=cluster.scheduler_address)
    make_folder(folder, ["new.png"])
    again = run(folder, model, tmp_path / "out", True, scheduler=cluster.scheduler_address)
    assert (again["decoded"], again["kept"]) == (1, 8)  # new.png; the unchanged error is kept


def test_a_worker_killed_mid_run_has_its_chunk_rerun_elsewhere(
    cluster, folder, model, tmp_path, killer
):
    killer(KillWhenReading("d.png", once_marker=tmp_path / "killed-once"))
    result = run(folder, model, tmp_path / "out", scheduler=cluster.scheduler_address)
    assert (tmp_path / "killed-once").exists()
    table = (tmp_path / "out" / "predictions.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in table] == sorted(NAMES + ["c/bad.png"])
    assert (result["predicted"], result["failed"]) == (7, 1)


def test_a_chunk_that_always_kills_its_worker_gets_error_rows(
    cluster, folder, model, tmp_path, killer
):
    killer(KillWhenReading("d.png"))
    result = run(folder, model, tmp_path / "out", scheduler=cluster.scheduler_address)
    rows = {
        row.split(",")[0]: row
        for row in (tmp_path / "out" / "predictions.csv").read_text().splitlines()
    }
    # the chunk is read again file by file: only the file that kills a worker alone fails so
    assert "decoding ran out of memory or was killed" in rows["c/d.png"]
    assert "not an image" in rows["c/bad.png"]
    assert (result["predicted"], result["failed"]) == (6, 2)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, model, monkeypatch):
    make_folder(tmp_path / "in", ["a.png"])
    monkeypatch.chdir(tmp_path)
    address = f"tcp://127.0.0.1:{closed_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(
            app,
            [
                "in",
                "--model",
                str(model),
                "--out",
                "out/p.csv",
                "--summary",
                "out/s.json",
                "--scheduler",
                address,
            ],
        )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"error: cannot reach the Dask scheduler at {address} (OSError); start it, or fix "
        "--scheduler / predict_folder.scheduler / DASK_SCHEDULER_ADDRESS"
    ]
    assert not (tmp_path / "out" / "p.csv").exists() and not (tmp_path / "out" / "s.json").exists()


@pytest.mark.parametrize(("args", "runs_on_dask"), [([], True), (["--scheduler", "local"], False)])
def test_dask_scheduler_address_is_used_unless_the_command_line_says_local(
    cluster, folder, model, tmp_path, monkeypatch, args, runs_on_dask
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    transitions = cluster.scheduler.transition_counter
    result = CliRunner().invoke(
        app, [str(folder), "--model", str(model), "--out", "p.csv", "--summary", "s.json", *args]
    )
    assert result.exit_code == 3, result.output  # c/bad.png
    written = json.loads(Path("s.json").read_text())
    assert (written["predicted"], written["failed"]) == (7, 1)
    assert (cluster.scheduler.transition_counter > transitions) == runs_on_dask


def test_losing_the_scheduler_mid_run_is_fatal_and_keeps_the_previous_outputs(
    folder, model, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    run(folder, model, out, jobs=1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # Workers as threads of this process, so that reading f.png can close the scheduler; the
    # client gives up reconnecting after the connect timeout.
    monkeypatch.setitem(dask.config.config["distributed"]["comm"]["timeouts"], "connect", "2s")
    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as threads:
        real_read_file = images.read_file

        def read_and_close_the_scheduler(path, *options, **keywords):
            if Path(path).name == "f.png":
                threads.loop.add_callback(threads.scheduler.close)
            return real_read_file(path, *options, **keywords)

        monkeypatch.setattr(images, "read_file", read_and_close_the_scheduler)
        with pytest.raises(SchedulerLost, match="lost the Dask scheduler at tcp://127.0.0.1"):
            run(folder, model, out, scheduler=threads.scheduler_address)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
