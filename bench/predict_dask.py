"""predict-folder on a Dask LocalCluster of 2 workers against the local pool, and the driver's
peak memory on a Dask cluster from 10,000 to 1,000,000 listed files.

Throughput: the same photos as ``predict_throughput.py`` (generated once into
``--images-dir``), read by the real command, ``python stages/predict_folder.py``, first with
``--jobs 2`` (the local pool), then with ``--scheduler`` pointing at a LocalCluster of 2
single-threaded worker processes started here beforehand (its start-up is not timed, as a
standing cluster's is not). Each is run ``--repeats`` times, alternating; the best images/s
of each is printed, with whether the two CSVs are byte-identical.

Driver memory: a listing of N entries is simulated by a filesystem registered with fsspec
as ``synthetic://`` (1,000 folders of N/1,000 names; nothing on disk). The workers open each
entry as 16 bytes that are not an image, so every file becomes an error row at once: the
driver walks, submits, receives and writes N rows exactly as for real pictures, and only the
decoding is skipped. Each N runs in a fresh driver process, whose peak RSS (ru_maxrss) is
printed.

    flock /tmp/digitflow-bench.lock .venv/bin/python bench/predict_dask.py
"""

import argparse
import importlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin
from fsspec import AbstractFileSystem, register_implementation
from predict_throughput import folder_pattern, generate_photos

PROJECT = Path(__file__).resolve().parents[1]
NOT_AN_IMAGE = b"0123456789abcdef"
SYNTHETIC_FOLDERS = 1000


class SyntheticListing(AbstractFileSystem):
    """``synthetic://N/``: 1,000 folders ``dNNN`` of N/1,000 files each, made up as listed."""

    protocol = "synthetic"

    def ls(self, path, detail=True, **kwargs):
        parts = self._strip_protocol(path).strip("/").split("/")
        count = int(parts[0])
        if len(parts) == 1:
            names = [(f"{parts[0]}/d{k:03d}", "directory") for k in range(SYNTHETIC_FOLDERS)]
        else:
            names = [(f"{path.rstrip('/')}/{i:06d}.png", "file") for i in range(count // 1000)]
        entries = [{"name": n, "type": t, "size": len(NOT_AN_IMAGE), "mtime": 0} for n, t in names]
        return entries if detail else [e["name"] for e in entries]

    def _open(self, path, mode="rb", **kwargs):
        return io.BytesIO(NOT_AN_IMAGE)


class RegisterSyntheticListing(WorkerPlugin):
    def setup(self, worker):
        # By module name, not from __main__: the class itself does not pickle.
        listing = importlib.import_module(Path(__file__).stem).SyntheticListing
        register_implementation("synthetic", listing, clobber=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="photos for the throughput")
    parser.add_argument("--listed", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--digits", type=Path, default=PROJECT / "data/prepared/X_test.npy")
    parser.add_argument("--model", type=Path, default=PROJECT / "data/model/weights.npz")
    parser.add_argument("--images-dir", type=Path, default=Path("/tmp/digitflow-bench-photos"))
    parser.add_argument("--driver", type=str, help=argparse.SUPPRESS)  # the child's own run
    args = parser.parse_args()
    if args.driver:
        return driver_memory_child(args.driver, args.listed[0], args.model)

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        if args.count:
            throughput(args, cluster.scheduler_address)
        if args.listed:
            cluster.get_client().register_plugin(RegisterSyntheticListing(), name="synthetic")
            print(f"\n{'listed files':>12} {'driver peak MB':>15} {'wall s':>7}")
            for count in args.listed:
                started = time.perf_counter()
                peak_mb = driver_memory(count, cluster.scheduler_address, args.model)
                print(f"{count:>12} {peak_mb:>15.0f} {time.perf_counter() - started:>7.1f}")


def throughput(args, scheduler: str) -> None:
    generate_photos(args.images_dir, max(1, args.count // 1000), args.digits, 0, 2)
    best = {"local pool (--jobs 2)": 0.0, "Dask LocalCluster (2 workers)": 0.0}
    with tempfile.TemporaryDirectory(prefix="digitflow-bench-dask-") as out_dir:
        outputs = {}
        for _ in range(args.repeats):
            for label, backend in zip(
                best, (["--jobs", "2"], ["--scheduler", scheduler]), strict=True
            ):
                out = Path(out_dir) / f"{len(outputs) % 2}.csv"
                summary = run_stage(args.images_dir, args.count, args.model, out, backend)
                best[label] = max(best[label], summary["images_per_s"])
                outputs[label] = out
        identical = [p.read_bytes() for p in outputs.values()]
        print(f"{args.count} photos in {args.images_dir}, model {args.model}")
        for label, rate in best.items():
            print(f"{label:>30}: {rate:7.0f} images/s")
        ratio = best["Dask LocalCluster (2 workers)"] / best["local pool (--jobs 2)"]
        print(
            f"{'Dask / local':>30}: {ratio:7.2f}x; CSVs identical: {identical[0] == identical[1]}"
        )


def run_stage(images: Path, count: int, model: Path, out: Path, backend: list[str]) -> dict:
    summary = out.with_suffix(".json")
    command = [
        sys.executable,
        str(PROJECT / "stages/predict_folder.py"),
        str(images),
        *("--pattern", folder_pattern(count)),
        *("--model", str(model), "--out", str(out), "--summary", str(summary), *backend),
    ]
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
    return json.loads(summary.read_text())


def driver_memory(count: int, scheduler: str, model: Path) -> float:
    command = [sys.executable, __file__, "--driver", scheduler, "--model", str(model)]
    result = subprocess.run([*command, "--listed", str(count)], check=True, capture_output=True)
    return float(result.stdout.decode().split()[-1])


def driver_memory_child(scheduler: str, count: int, model: Path) -> None:
    """One predict-folder run over ``synthetic://N/``, in this fresh process; prints peak MB."""
    from digitflow.batch.predict import PredictFolderConfig, predict_folder

    register_implementation("synthetic", SyntheticListing, clobber=True)
    with tempfile.TemporaryDirectory(prefix="digitflow-bench-driver-") as out_dir:
        result = predict_folder(
            PredictFolderConfig(input_dir=f"synthetic://{count}/", scheduler=scheduler),
            model,
            Path(out_dir) / "predictions.csv",
            Path(out_dir) / "summary.json",
        )
    assert result["files_total"] == count, result
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    main()
