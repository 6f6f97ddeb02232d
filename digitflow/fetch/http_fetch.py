"""HTTP GET into memory with short timeouts, bounded retries for transient faults, and a
byte progress bar on a terminal. Standard library only (urllib)."""

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from digitflow.console import note
from digitflow.errors import DigitflowError
from digitflow.progress import byte_progress

FIRST_BACKOFF_S = 0.5
CHUNK_BYTES = 1 << 16
USER_AGENT = "digitflow (python urllib)"


class FetchFailed(DigitflowError):
    """A URL could not be fetched; the message gives the URL and the last reason."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class _Transient(Exception):
    """A fault worth retrying: timeouts, dropped connections, truncated bodies, HTTP 5xx/429."""


def http_get(
    url: str,
    *,
    timeout_s: float,
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
    label: str = "",
) -> bytes:
    """The body at ``url``. Transient faults are retried ``retries`` times, waiting
    0.5 s, 1 s, 2 s... in between; anything else (404, unknown host) fails at once."""
    delay_s = FIRST_BACKOFF_S
    attempt = 1
    while True:
        try:
            return _get_once(url, timeout_s, label or url)
        except _Transient as exc:
            if attempt > retries:
                raise FetchFailed(url, f"{exc} (tried {attempt} times)") from exc
            note(f"{url}: {exc}; retrying in {delay_s:g} s")
            sleep(delay_s)
            delay_s *= 2
            attempt += 1


def _get_once(url: str, timeout_s: float, label: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return _read_body(response, label)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from exc
        raise FetchFailed(url, f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _classify_os_error(url, exc.reason, timeout_s) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _classify_os_error(url, exc, timeout_s) from exc


def _read_body(response: http.client.HTTPResponse, label: str) -> bytes:
    """Read the whole body, showing progress; a body shorter than its Content-Length is
    a dropped connection (urllib does not notice when reading in chunks)."""
    length_header = response.headers.get("Content-Length")
    expected = int(length_header) if length_header and length_header.isdigit() else None
    body = bytearray()
    with byte_progress() as progress:
        task = progress.add_task(label, total=expected)
        while chunk := response.read(CHUNK_BYTES):
            body += chunk
            progress.update(task, advance=len(chunk))
    if expected is not None and len(body) != expected:
        raise _Transient(f"truncated body: got {len(body)} of {expected} bytes")
    return bytes(body)


def _classify_os_error(url: str, reason: object, timeout_s: float) -> Exception:
    """Map a socket-level fault to ``_Transient`` (retry) or ``FetchFailed`` (give up)."""
    if isinstance(reason, TimeoutError):
        return _Transient(f"no answer within {timeout_s:g} s")
    if isinstance(reason, socket.gaierror):
        if reason.errno == socket.EAI_AGAIN:
            return _Transient(f"temporary DNS failure ({reason.strerror})")
        return FetchFailed(url, f"host not found ({reason.strerror})")
    if isinstance(
        reason, ConnectionResetError | ConnectionAbortedError | http.client.HTTPException
    ):
        return _Transient(f"connection dropped ({type(reason).__name__}: {reason})")
    detail = getattr(reason, "strerror", None) or str(reason)
    return FetchFailed(url, detail)
