"""Where a batch's chunks are read: the seam between the batch and the processes doing the work.

A backend takes a chunk of files, reads it somewhere, and gives back its probabilities and
error messages (``chunk_reading.ChunkResult``). The batch sees only :class:`Backend`: the
chunking, the rows, their order and what to do with a chunk that kills its worker are the
same whichever backend runs. Here: :class:`LocalPool`, the default (a process pool on this
machine, or no worker process at all for ``--jobs 1``).
"""

import multiprocessing
from abc import ABC, abstractmethod
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from digitflow.batch.chunk_reading import (
    ChunkFiles,
    ChunkResult,
    Decoding,
    decode_files,
    predict_decoded,
    read_chunk,
)
from digitflow.network.mlp import Network


class ChunkKilledWorker(Exception):
    """The worker process reading a chunk died (killed, out of memory?) and the backend
    gave up on that chunk. The batch decides what becomes of its files."""


class Backend(ABC):
    """Reads chunks of files somewhere; a context manager that stops its workers on exit."""

    max_in_flight: int
    """How many chunks the batch may have submitted and not yet taken the result of: enough
    to keep every worker busy, few enough that the driver's memory stays flat."""

    @abstractmethod
    def submit(self, files: ChunkFiles) -> Future:
        """Start reading ``files`` (never empty); the future is for :meth:`result`."""

    @abstractmethod
    def result(self, future: Future) -> ChunkResult:
        """Wait for a submitted chunk; raise :class:`ChunkKilledWorker` if its worker died."""

    def close(self) -> None:  # noqa: B027 - a backend without workers has nothing to stop
        """Stop the workers."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LocalPool(Backend):
    """Worker processes on this machine decode; this process predicts, so the model never
    travels. With one worker, everything happens here at submit time and no process starts."""

    def __init__(self, workers: int, network: Network, decoding: Decoding):
        self.network = network
        self.decoding = decoding
        self.max_in_flight = 2 * workers
        self._pool = process_pool(workers) if workers > 1 else None

    def submit(self, files: ChunkFiles) -> Future:
        if self._pool is None:
            return _done(lambda: read_chunk(files, self.decoding, self.network))
        return self._pool.submit(decode_files, files, self.decoding)

    def result(self, future: Future) -> ChunkResult:
        if self._pool is None:
            return future.result()
        try:
            digits_kx28x28, errors = future.result()
        except BrokenProcessPool:
            raise ChunkKilledWorker() from None
        return predict_decoded(self.network, digits_kx28x28, errors), errors

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def process_pool(workers: int) -> ProcessPoolExecutor:
    # forkserver, not fork: workers must not inherit the lock's file descriptor (a stray
    # worker would keep the lock alive) nor the progress bar's thread. Preloading the
    # chunk-reading module lets every worker start with numpy and Pillow already imported.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([decode_files.__module__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _done(work) -> Future:
    """A future already holding ``work()``'s result or exception."""
    future: Future = Future()
    try:
        future.set_result(work())
    except Exception as exc:
        future.set_exception(exc)
    return future
