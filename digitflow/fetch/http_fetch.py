"""HTTP GET into memory with urllib3: timeouts, a deadline and a size cap for the whole file,
retries with backoff for transient faults (urllib3's ``Retry``), a byte progress bar.

urllib3 retries what goes wrong before the body starts (connect faults, HTTP 5xx/429) by
itself. The body is read here, chunk by chunk, to keep the deadline and the cap and to show
progress; a body that breaks off (dropped connection, stalled read, short of its
Content-Length) is counted on the same ``Retry`` and waits the same backoff.
"""

import logging
import re
from dataclasses import dataclass
from time import monotonic

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    IncompleteRead,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import Retry, Timeout

from digitflow.console import note
from digitflow.errors import DigitflowError
from digitflow.progress import byte_progress

BACKOFF_S = 0.5
"""Wait before the second retry of a fault, doubling after it; the first retry is at once."""
CHUNK_BYTES = 1 << 16
USER_AGENT = "digitflow (python urllib3)"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5

# urllib3 logs each retry as a warning of its internals; _NotingRetry says it in one line.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
_POOL = urllib3.PoolManager(headers={"User-Agent": USER_AGENT})


class FetchFailed(DigitflowError):
    """A URL could not be fetched; the message gives the URL and the last reason."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class HttpPolicy:
    """How patient to be with one file."""

    timeout_s: float
    """Connect timeout, and the longest wait for any one read."""
    deadline_s: float
    """The whole file, retries included, within this many seconds, or it fails."""
    retries: int
    """Further attempts after each kind of transient fault (connection, body, HTTP status)."""
    backoff_s: float = BACKOFF_S

    def retry(self, label: str) -> Retry:
        """A fresh ``Retry``; its notes name ``label`` (urllib3 gives it the path alone)."""
        return _NotingRetry(
            label=label,
            total=None,
            connect=self.retries,  # refused or timed out (urllib3 counts both as connect)
            read=self.retries,  # a stalled or broken-off body
            status=self.retries,  # HTTP 5xx/429
            other=0,  # e.g. a bad certificate: trying again would not help
            redirect=MAX_REDIRECTS,
            status_forcelist=RETRIED_STATUSES,
            backoff_factor=self.backoff_s / 2,
            # A mirror's Retry-After could ask for hours, and no deadline interrupts a sleep.
            respect_retry_after_header=False,
            raise_on_status=False,
        )


class _NotingRetry(Retry):
    """urllib3's Retry, saying on stderr which fault it retries."""

    def __init__(self, *args, label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.label = label

    def new(self, **kwargs) -> "_NotingRetry":
        retry = super().new(**kwargs)
        retry.label = self.label
        return retry

    def increment(self, method=None, url=None, response=None, error=None, *args, **kwargs):
        retry = super().increment(method, url, response, error, *args, **kwargs)
        if error is not None or (response is not None and response.status >= 400):
            fault = _describe(error) if error is not None else f"HTTP {response.status}"
            note(f"{self.label}: {fault}; retrying in {retry.get_backoff_time():g} s")
        return retry


def http_get(url: str, policy: HttpPolicy, *, max_bytes: int, label: str = "") -> bytes:
    """The body at ``url``. Transient faults are retried as ``policy`` allows; anything else
    (HTTP 4xx, a body over ``max_bytes``, the deadline passed) fails at once."""
    deadline = monotonic() + policy.deadline_s
    timeout = Timeout(connect=policy.timeout_s, read=policy.timeout_s)
    retry = policy.retry(label=url)
    gave_up = f" (retried {policy.retries} times)" if policy.retries else ""
    while True:
        try:
            response = _POOL.request(
                "GET", url, retries=retry, timeout=timeout, preload_content=False
            )
        except MaxRetryError as exc:
            raise FetchFailed(url, f"{_describe(exc.reason)}{gave_up}") from exc
        except HTTPError as exc:
            raise FetchFailed(url, _describe(exc)) from exc
        with response:
            if response.status >= 400:
                again = gave_up if response.status in RETRIED_STATUSES else ""
                raise FetchFailed(url, f"HTTP {response.status} {response.reason}{again}")
            try:
                return _read_body(response, url, policy, deadline, max_bytes, label or url)
            except (ProtocolError, ReadTimeoutError) as exc:
                try:
                    retry = response.retries.increment("GET", url, error=exc)
                except MaxRetryError:
                    raise FetchFailed(url, f"{_describe(exc)}{gave_up}") from exc
        if monotonic() + retry.get_backoff_time() > deadline:
            raise FetchFailed(url, f"not served within the {policy.deadline_s:g} s deadline")
        retry.sleep()


def _read_body(
    response: urllib3.BaseHTTPResponse,
    url: str,
    policy: HttpPolicy,
    deadline: float,
    max_bytes: int,
    label: str,
) -> bytes:
    """The whole body, with progress. Each read returns whatever has arrived, so a drip-fed
    body meets the deadline instead of keeping every single read inside the timeout."""
    length_header = response.headers.get("Content-Length", "")
    expected = int(length_header) if length_header.isdigit() else None
    if expected is not None and expected > max_bytes:
        raise FetchFailed(url, f"declares {expected} bytes, more than the {max_bytes} expected")
    body = bytearray()
    with byte_progress() as progress:
        task = progress.add_task(label, total=expected)
        while chunk := response.read1(CHUNK_BYTES, decode_content=False):
            body += chunk
            progress.update(task, advance=len(chunk))
            if len(body) > max_bytes:
                raise FetchFailed(url, f"sent more than the {max_bytes} bytes expected")
            if monotonic() > deadline:
                got = f"{len(body)} of {expected}" if expected is not None else len(body)
                raise FetchFailed(
                    url, f"took longer than the {policy.deadline_s:g} s deadline (got {got} bytes)"
                )
    return bytes(body)


def _describe(fault: object) -> str:
    """A urllib3 fault in a few words, without its connection-pool internals."""
    if isinstance(fault, NewConnectionError):
        return f"cannot connect ({str(fault).split(': ', 1)[-1]})"
    if isinstance(fault, ConnectTimeoutError | ReadTimeoutError):
        limit = re.search(r"timeout=([0-9.]+)\)$", str(fault))
        return f"no answer within {limit[1]} s" if limit else "no answer in time"
    if isinstance(fault, ProtocolError) and fault.args:
        if isinstance(fault.args[-1], IncompleteRead):
            cut = fault.args[-1]
            return f"body cut short ({cut.partial} bytes, {cut.expected} more expected)"
        return f"connection dropped ({fault.args[0]})"
    return str(fault)
