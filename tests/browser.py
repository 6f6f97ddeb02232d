"""Headless Chromium for tests: load a page with every request it makes seen by the test.

The page's folder is served as http://page.test/ by a loopback HTTP proxy that Chromium is
told to use for everything, so a request to any other host (a CDN, say) reaches the proxy
too, is refused and recorded: a page that works offline makes no such request. Tests skip
when Chromium is absent, except under CI (env CI set), where they fail instead.
"""

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

PAGE_HOST = "page.test"
# Chromium's own background calls (updates, clock, sign-in) reach the proxy too; not the page's.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}


HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
"""How every test starts Chromium: no window, no sandbox (root in CI), no calls home."""


def chromium() -> str:
    """The Chromium executable, or skip (fail under CI) when there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed, and CI must run the browser tests")
    pytest.skip("chromium is not installed")


@dataclass
class PageLoad:
    dom: str
    """The document after its scripts ran, as Chromium serialises it."""
    requests: list[tuple[str, int]] = field(default_factory=list)
    """Every request the browser made, as (URL or host:port, HTTP status the proxy answered)."""

    def page_requests(self) -> list[tuple[str, int]]:
        """The requests the page made: not Chromium's background calls or its favicon probe."""
        return [(url, status) for url, status in self.requests if not _browser_own(url)]

    def failed_requests(self) -> list[tuple[str, int]]:
        return [(url, status) for url, status in self.page_requests() if status != 200]


def _browser_own(url: str) -> bool:
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.endswith(BROWSER_HOSTS) or urlsplit(url).path == "/favicon.ico"


def proxy_handler(folder: Path, log: list[tuple[str, int]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            file = folder / unquote(url.path).lstrip("/")
            if url.hostname != PAGE_HOST or not file.is_file():
                self.refuse()
                return
            log.append((self.path, 200))
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_CONNECT(self) -> None:  # https to any host
            self.refuse()

        do_POST = do_HEAD = do_GET

        def refuse(self) -> None:
            log.append((self.path, 502))
            self.send_error(502)

        def log_message(self, format, *args) -> None:  # keep the test output quiet
            pass

    return Handler


@contextmanager
def recording_proxy(folder: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    log: list[tuple[str, int]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy_handler(folder, log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def load_page(page: Path, tmp_path: Path, budget_ms: int = 30_000) -> PageLoad:
    """Open `page` in headless Chromium and return its rendered DOM and requests.

    Virtual time lets the page's scripts run to completion without the test waiting on a
    clock: Chromium fast-forwards timers and returns when the page is idle or the budget
    is spent.
    """
    executable = chromium()
    with recording_proxy(page.parent) as (proxy, log):
        done = subprocess.run(
            [
                executable,
                *HEADLESS_FLAGS,
                f"--user-data-dir={tmp_path / 'chromium-profile'}",
                f"--proxy-server={proxy}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                f"http://{PAGE_HOST}/{page.name}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    return PageLoad(dom=done.stdout, requests=log)


class _DrawnIds(HTMLParser):
    """Collects the ids of elements that contain a <canvas> or an <svg>."""

    def __init__(self) -> None:
        super().__init__()
        self.open_ids: list[str | None] = []
        self.drawn: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("canvas", "svg"):
            self.drawn.update(i for i in self.open_ids if i)
        if tag not in VOID_ELEMENTS:
            self.open_ids.append(dict(attrs).get("id"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS and self.open_ids:
            self.open_ids.pop()


def ids_with_drawing(dom: str) -> set[str]:
    """Ids of the elements in `dom` that hold a drawn chart (a canvas or an SVG)."""
    parser = _DrawnIds()
    parser.feed(dom)
    return parser.drawn


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 900) -> Path:
    """A PNG of `page` (a self-contained file) as a `width` x `height` window shows it."""
    done = subprocess.run(
        [
            chromium(),
            *HEADLESS_FLAGS,
            "--hide-scrollbars",
            f"--user-data-dir={png.parent / 'chromium-screenshot-profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and png.is_file(), done.stderr
    return png
