"""Throughput and memory of predict-folder on 1,000 / 10,000 / 100,000 small photos.

Generates photo-like PNG and JPEG digits (40-120 px canvases, ``digitflow.synthetic.photos``
applied to MNIST test digits) once into ``--images-dir``, 1,000 per folder (d000, d001, ...), and
reuses them on later runs. For each count it runs the real command, ``python
stages/predict_folder.py --jobs 2``, on the first count/1,000 folders (a ``--pattern``), then
an incremental run that finds nothing new (the nightly case). While a run lasts, the RSS of
its whole process tree (main process, forkserver, workers) is sampled, with the CPU time it
used: on a shared machine, images per CPU-second times the cores is what an idle machine
would reach. Memory is flat in the number of files when the peaks do not grow with the count.

    .venv/bin/python bench/predict_throughput.py --counts 1000 10000
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from digitflow.network.mlp import init_network
from digitflow.network.model_io import save_network
from digitflow.synthetic.photos import encode_photo, make_photo

PROJECT = Path(__file__).resolve().parents[1]
FILES_PER_FOLDER = 1000
SAMPLE_INTERVAL_S = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--digits", type=Path, default=PROJECT / "data/prepared/X_test.npy")
    parser.add_argument("--model", type=Path, default=PROJECT / "data/model/weights.npz")
    parser.add_argument("--images-dir", type=Path, default=Path("/tmp/digitflow-bench-photos"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    folders = max(args.counts) // FILES_PER_FOLDER
    generate_photos(args.images_dir, folders, args.digits, args.seed, args.jobs)
    model = args.model if args.model.is_file() else random_model(args.images_dir, args.seed)
    print(f"model {model}, photos in {args.images_dir}, --jobs {args.jobs}\n")
    print(
        f"{'files':>8} {'run':>12} {'images/s':>9} {'wall s':>7} {'CPU s':>7} "
        f"{'img/CPU-s':>9} {'peak MB':>8} {'main MB':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="digitflow-bench-out-") as out_dir:
        for count in args.counts:
            out = Path(out_dir) / f"{count}.csv"
            for incremental in (False, True):
                run = run_predict_folder(args.images_dir, count, model, out, args.jobs, incremental)
                label = "incremental" if incremental else "full"
                summary = run["summary"]
                per_cpu_s = summary["decoded"] / run["cpu_s"]
                print(
                    f"{count:>8} {label:>12} {summary['images_per_s']:>9.0f} "
                    f"{run['wall_s']:>7.1f} {run['cpu_s']:>7.1f} {per_cpu_s:>9.0f} "
                    f"{run['peak_tree_mb']:>8.0f} {run['peak_main_mb']:>8.0f}"
                )


def generate_photos(root: Path, folders: int, digits_path: Path, seed: int, jobs: int) -> None:
    """Fill root/d000 .. with FILES_PER_FOLDER photos each; folders already done are kept."""
    todo = [k for k in range(folders) if not (root / f"d{k:03d}" / ".complete").exists()]
    if not todo:
        return
    if not digits_path.is_file():
        sys.exit(f"{digits_path} not found: run `dvc repro normalise` or pass --digits")
    print(f"generating {len(todo) * FILES_PER_FOLDER} photos in {root} ...", flush=True)
    with ProcessPoolExecutor(jobs) as pool:
        list(
            pool.map(
                _generate_folder,
                [root] * len(todo),
                todo,
                [digits_path] * len(todo),
                [seed] * len(todo),
            )
        )


def _generate_folder(root: Path, k: int, digits_path: Path, seed: int) -> None:
    rng = np.random.default_rng([seed, k])
    X_784xm = np.load(digits_path, mmap_mode="r")
    folder = root / f"d{k:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(FILES_PER_FOLDER):
        ink = np.asarray(X_784xm[:, rng.integers(X_784xm.shape[1])]).reshape(28, 28)
        photo = make_photo(ink, rng, canvas_px=(40, 120))
        fmt, suffix = ("png", ".png") if i % 2 else ("jpeg", ".jpg")
        (folder / f"{i:04d}{suffix}").write_bytes(encode_photo(photo, fmt, rng))
    (folder / ".complete").touch()


def random_model(root: Path, seed: int) -> Path:
    """Untrained weights of a usual size: speed does not depend on what the network learnt."""
    path = root / "random_weights.npz"
    save_network(path, init_network((784, 128, 10), np.random.default_rng(seed)), {})
    return path


def run_predict_folder(
    images: Path, count: int, model: Path, out: Path, jobs: int, incremental: bool
) -> dict:
    summary = out.with_suffix(".json")
    command = [
        sys.executable,
        str(PROJECT / "stages/predict_folder.py"),
        str(images),
        *("--pattern", folder_pattern(count)),
        *("--model", str(model), "--out", str(out), "--summary", str(summary)),
        *("--jobs", str(jobs), "--incremental" if incremental else "--no-incremental"),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    peaks = {"tree": 0, "main": 0}
    cpu_ticks: dict[int, int] = {}
    sampler = threading.Thread(target=_sample, args=(process, peaks, cpu_ticks), daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall_s = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"predict-folder exited {process.returncode}:\n{stderr}")
    return {
        "summary": json.loads(summary.read_text()),
        "wall_s": wall_s,
        "peak_tree_mb": peaks["tree"] / 2**20,
        "peak_main_mb": peaks["main"] / 2**20,
        "cpu_s": sum(cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"),
    }


def folder_pattern(count: int) -> str:
    """d000/* for 1,000 files, d00?/* for 10,000, d0??/* for 100,000."""
    folders = count // FILES_PER_FOLDER
    wildcards = len(str(folders - 1)) if folders > 1 else 0
    if folders * FILES_PER_FOLDER != count or folders != 10**wildcards or wildcards > 3:
        sys.exit(f"--counts must be 1,000 times a power of ten up to 1,000,000, got {count}")
    return f"d{'0' * (3 - wildcards)}{'?' * wildcards}/*"


def _sample(process: subprocess.Popen, peaks: dict[str, int], cpu_ticks: dict[int, int]) -> None:
    """Peak RSS of the tree and of the main process, and the CPU time each process of the
    tree had used when last seen (the machine may be shared: CPU time does not care)."""
    while process.poll() is None:
        tree = _process_tree(process.pid)
        rss = {pid: _rss_bytes(pid) for pid in tree}
        peaks["tree"] = max(peaks["tree"], sum(rss.values()))
        peaks["main"] = max(peaks["main"], rss.get(process.pid, 0))
        for pid in tree:
            cpu_ticks[pid] = max(cpu_ticks.get(pid, 0), _cpu_ticks(pid))
        time.sleep(SAMPLE_INTERVAL_S)


def _stat_fields(pid: int | str) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name: [state, ppid, ...]; [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _cpu_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0  # utime + stime


def _process_tree(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat_fields(name)):
            children.setdefault(int(fields[1]), []).append(int(name))
    tree, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    main()
