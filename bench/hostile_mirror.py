"""What a hostile mirror costs the download: peak memory of a gzip bomb, time of a drip feed.

    python bench/hostile_mirror.py [--bomb-gib 2] [--deadline-s 2]

1. A gzip bomb posing as train-images-idx3-ubyte.gz (zeros expanding to --bomb-gib GiB) is
   decompressed the way the download does it, capped at the real file's 47 MB; the peak
   resident memory of the process is printed before and after.
2. A loopback server declares the real file's length and sends it at 1 KB/s; the time until
   the download gives up is printed against --deadline-s.
Run it on a quiet machine for the time; the memory figure does not depend on load.
"""

import argparse
import resource
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from digitflow.dataset.idx import TRAIN_IMAGES
from digitflow.fetch.download import MNIST_BYTES
from digitflow.fetch.http_fetch import FetchFailed, HttpPolicy, http_get
from digitflow.fetch.sources import SourceFailed, gunzip, gzip_bound


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gzip_of_zeros(n_bytes: int) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros, parts = bytes(1 << 20), []
    for _ in range(n_bytes >> 20):
        parts.append(deflate.compress(zeros))
    parts.append(deflate.flush())
    return b"".join(parts)


def bomb(gib: float) -> None:
    data = gzip_of_zeros(int(gib * 2**30))
    before = peak_rss_mib()
    started = time.perf_counter()
    try:
        gunzip(data, "bomb.gz", MNIST_BYTES[TRAIN_IMAGES])
        outcome = "accepted (unexpected)"
    except SourceFailed as exc:
        outcome = f"refused: {exc}"
    print(f"gzip bomb: {len(data) / 2**20:.1f} MiB expanding to {gib:g} GiB")
    print(f"  {outcome}")
    print(f"  peak RSS {before:.0f} MiB before, {peak_rss_mib():.0f} MiB after", end="")
    print(f", {time.perf_counter() - started:.2f} s")


def drip(deadline_s: float) -> None:
    size = MNIST_BYTES[TRAIN_IMAGES]
    stop = threading.Event()

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            while not stop.wait(0.1):  # 100 bytes every 0.1 s: 1 KB/s
                self.wfile.write(bytes(100))
                self.wfile.flush()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{TRAIN_IMAGES}.gz"
    started = time.perf_counter()
    try:
        http_get(url, HttpPolicy(10.0, deadline_s, 2), max_bytes=gzip_bound(size))
        outcome = "served (unexpected)"
    except FetchFailed as exc:
        outcome = f"gave up: {exc.reason}"
    elapsed = time.perf_counter() - started
    stop.set()
    server.shutdown()
    print(f"drip feed of {size} bytes at 1 KB/s, deadline {deadline_s:g} s, timeout 10 s")
    print(f"  {outcome}")
    hours = size / 1000 / 3600
    print(f"  after {elapsed:.2f} s (at 1 KB/s the whole file would take {hours:.0f} h)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-gib", type=float, default=2.0)
    parser.add_argument("--deadline-s", type=float, default=2.0)
    args = parser.parse_args()
    bomb(args.bomb_gib)
    drip(args.deadline_s)


if __name__ == "__main__":
    main()
