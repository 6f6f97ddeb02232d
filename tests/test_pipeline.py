"""End-to-end: the real `dvc repro` in a temporary git repo holding a copy of this project."""

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PROJECT_FILES = ["dvc.yaml", "params.yaml", ".dvcignore", "stages", "digitflow", "examples"]
SHARED_MNIST = PROJECT.parent / "shared" / "mnist"
ALL_STAGES = ["download", "normalise", "train", "evaluate", "predict-folder"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    env["DVC_NO_ANALYTICS"] = "1"  # tests never reach the internet, telemetry included
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run([str(VENV_BIN / "dvc"), *args], cwd)


def write_kaggle_csv(path: Path, count: int, rng: np.random.Generator) -> None:
    """A Kaggle-style MNIST CSV of random digits: columns label,1x1,...,28x28."""
    labels = np.arange(count) % 10
    pixels = rng.integers(0, 256, size=(count, 784))
    columns = ["label"] + [f"{row}x{col}" for row in range(1, 29) for col in range(1, 29)]
    pd.DataFrame(np.column_stack([labels, pixels]), columns=columns).to_csv(path, index=False)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A git+DVC repo with this project's pipeline, reading a tiny synthetic CSV pair."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    rng = np.random.default_rng(0)
    write_kaggle_csv(csv_dir / "mnist_train.csv", 120, rng)
    write_kaggle_csv(csv_dir / "mnist_test.csv", 40, rng)
    edit_params(
        repo,
        download={"csv_dir": str(csv_dir)},
        normalise={"val_size": 20},
        train={"hidden": [8], "epochs": 2},
    )
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@example.com"], repo)
    run(["git", "config", "user.name", "test"], repo)
    dvc(repo, "init", "-q")
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "project"], repo)
    return repo


def edit_params(repo: Path, **sections: dict) -> None:
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in sections.items():
        params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def stages_run(repro_output: str) -> list[str]:
    return [s for s in ALL_STAGES if f"Running stage '{s}'" in repro_output]


def test_repro_runs_every_stage_once_then_nothing(project_copy):
    first = dvc(project_copy, "repro")
    assert stages_run(first.stdout) == ALL_STAGES
    metrics = json.loads((project_copy / "reports" / "metrics.json").read_text())
    assert metrics["test"]["samples"] == 40
    assert (project_copy / "data" / "predictions" / "predictions.csv").is_file()

    assert "up to date" in dvc(project_copy, "status").stdout
    second = dvc(project_copy, "repro")
    assert stages_run(second.stdout) == []


def test_changing_a_train_param_reruns_only_train_and_what_follows(project_copy):
    dvc(project_copy, "repro")
    edit_params(project_copy, train={"lr": 0.01})
    rerun = dvc(project_copy, "repro")
    assert stages_run(rerun.stdout) == ["train", "evaluate", "predict-folder"]


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("digitflow/evaluation/metrics.py", ["evaluate"]),
        ("digitflow/batch/review_sheet.py", ["predict-folder"]),
        ("digitflow/reading/paper.py", ["predict-folder"]),
        # train fits the whole-digit score on pieces put in MNIST's form by mnist_form, so it
        # runs again; an edit that leaves the weights the same does not re-run evaluate
        ("digitflow/mnist_form/stroke.py", ["train", "predict-folder"]),
        ("digitflow/network/training.py", ["train", "evaluate", "predict-folder"]),
    ],
)
def test_editing_a_module_reruns_exactly_the_stages_it_feeds(project_copy, module, expected):
    dvc(project_copy, "repro")
    with open(project_copy / module, "a") as f:
        f.write("\n# an edit\n")
    rerun = dvc(project_copy, "repro")
    assert stages_run(rerun.stdout) == expected


def test_bytecode_caches_in_a_subpackage_rerun_nothing(project_copy):
    dvc(project_copy, "repro")
    cache = project_copy / "digitflow" / "reading" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "paper.cpython-311.pyc").write_bytes(b"compiled")
    assert stages_run(dvc(project_copy, "repro").stdout) == []


def test_outputs_round_trip_through_a_local_remote(project_copy, tmp_path):
    dvc(project_copy, "repro")
    dvc(project_copy, "remote", "add", "-d", "local", str(tmp_path / "remote"))
    dvc(project_copy, "push")
    weights = project_copy / "data" / "model" / "weights.npz"
    original = weights.read_bytes()
    shutil.rmtree(project_copy / "data")
    shutil.rmtree(project_copy / ".dvc" / "cache")
    dvc(project_copy, "pull")
    assert weights.read_bytes() == original
    assert "up to date" in dvc(project_copy, "status").stdout


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on loopback; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no local MNIST mirror beside the repo")
def test_repro_downloads_genuine_mnist_past_a_dead_mirror(project_copy):
    with serve_folder(SHARED_MNIST) as url:
        sources = [f"{url}no-such-folder/", url]
        edit_params(project_copy, download={"csv_dir": None, "sources": sources})
        dvc(project_copy, "repro", "normalise")
    prepared = project_copy / "data" / "prepared"
    assert np.load(prepared / "X_train.npy", mmap_mode="r").shape == (784, 60000 - 20)
    assert np.load(prepared / "X_test.npy", mmap_mode="r").shape == (784, 10000)
    assert np.bincount(np.load(prepared / "y_test.npy"), minlength=10).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
