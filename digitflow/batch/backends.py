"""Where a batch's chunks are read: the seam between the batch and the processes doing the work.

A backend takes a chunk of files, reads it somewhere, and gives back its probabilities, error
messages and rejections (``chunk_reading.ChunkResult``). The batch sees only :class:`Backend`:
the chunking, the rows, their order and what to do with a chunk that kills its worker are the
same whichever backend runs: :func:`read_isolating` reads such a chunk again through
:meth:`Backend.read_alone`, then in halves, until only the files that kill a worker alone are
left. Here: :class:`LocalPool`, the default (a process pool on this machine, or no worker
process at all for ``--jobs 1``), whose workers die with the run (``kill -9`` included) and
are killed at once when the run is interrupted; ``dask_backend.DaskCluster`` when a
scheduler is given.
"""

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from threadpoolctl import threadpool_limits

from digitflow.batch.chunk_reading import (
    ChunkFiles,
    ChunkResult,
    Decoding,
    decode_files,
    predict_decoded,
    read_chunk,
)
from digitflow.extras import import_extra
from digitflow.network.mlp import Network

WORKER_KILLED = "decoding ran out of memory or was killed (its worker process died)"
"""The error cell of a file that a worker died reading, alone."""

LOCAL = "local"
"""The scheduler name that means no cluster: this machine's process pool."""


class ChunkKilledWorker(Exception):
    """The worker process reading a chunk died (killed, out of memory?) and the backend
    gave up on that chunk. The batch decides what becomes of its files."""


def read_isolating(
    files: ChunkFiles, read_alone: Callable[[ChunkFiles], ChunkResult]
) -> ChunkResult:
    """Read the files of a chunk that killed a worker: all of them again on their own, and a
    part that kills its worker again in halves, down to the single files that still do.
    Those get :data:`WORKER_KILLED`; every other file is read as usual."""
    try:
        return read_alone(files)
    except ChunkKilledWorker:
        if len(files) == 1:
            return np.zeros((10, 0), np.float32), [WORKER_KILLED], []
    half = len(files) // 2
    first_probs, first_errors, first_rejections = read_isolating(files[:half], read_alone)
    second_probs, second_errors, second_rejections = read_isolating(files[half:], read_alone)
    errors, rejections = first_errors + second_errors, first_rejections + second_rejections
    if isinstance(first_probs, list) or isinstance(second_probs, list):  # number mode
        listed = [p if isinstance(p, list) else [] for p in (first_probs, second_probs)]
        return listed[0] + listed[1], errors, rejections
    return np.concatenate([first_probs, second_probs], axis=1), errors, rejections


def open_backend(
    scheduler: str | None, workers: int, network: Network, decoding: Decoding, model_id: str
) -> "Backend":
    """The Dask cluster whose scheduler is at ``scheduler``, else (None or ``local``) the
    local pool of ``workers`` processes."""
    if scheduler in (None, LOCAL):
        return LocalPool(workers, network, decoding)
    import_extra("distributed", "dask", "--scheduler")
    from digitflow.batch.dask_backend import DaskCluster  # needs the extra: imported on use

    return DaskCluster(scheduler, network, decoding, model_id)


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

    def read_alone(self, files: ChunkFiles) -> ChunkResult:
        """Read ``files`` where nothing else can kill their worker (for :func:`read_isolating`);
        raise :class:`ChunkKilledWorker` if it dies."""
        return self.result(self.submit(files))

    def close(self) -> None:  # noqa: B027 - a backend without workers has nothing to stop
        """Stop the workers."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LocalPool(Backend):
    """Worker processes on this machine decode; this process predicts, so the model never
    travels (except in number mode, where the worker needs it to split a number). With one
    worker, everything happens here at submit time and no process starts.

    A worker that dies breaks the whole pool and fails every chunk in flight, not only the
    one that killed it. So a new pool takes over, and each failed chunk is run again alone,
    in a one-process pool of its own: only a chunk that kills that one too is reported.
    """

    def __init__(self, workers: int, network: Network, decoding: Decoding):
        self.network = network
        self.decoding = decoding
        self.workers = workers
        self.max_in_flight = 2 * workers
        self._pool = process_pool(workers) if workers > 1 else None
        self._pool_of: dict[Future, ProcessPoolExecutor] = {}
        # One BLAS thread predicts: the workers keep the cores busy decoding, where more would
        # spin waiting for a core (OpenBLAS's do), and the sums then do not depend on --jobs.
        self._one_blas_thread = threadpool_limits(1, "blas")

    def submit(self, files: ChunkFiles) -> Future:
        if self._pool is None:
            return _done(lambda: read_chunk(files, self.decoding, self.network))
        if self.decoding.read == "number":  # cuts are chosen by the network: it travels
            future = self._pool.submit(read_chunk, files, self.decoding, self.network)
        else:
            future = self._pool.submit(decode_files, files, self.decoding)
        self._pool_of[future] = self._pool
        return future

    def result(self, future: Future) -> ChunkResult:
        if self._pool is None:
            return future.result()
        pool = self._pool_of.pop(future)
        try:
            outcome = future.result()
        except BrokenProcessPool:
            if pool is self._pool:  # the first of its chunks to report: later ones get a new pool
                stop_now(pool)
                self._pool = process_pool(self.workers)
            raise ChunkKilledWorker() from None
        if self.decoding.read == "number":
            return outcome
        return predict_decoded(self.network, *outcome)

    def read_alone(self, files: ChunkFiles) -> ChunkResult:
        if self._pool is None:
            return read_chunk(files, self.decoding, self.network)
        alone = process_pool(1)
        try:
            if self.decoding.read == "number":
                return alone.submit(read_chunk, files, self.decoding, self.network).result()
            decoded = alone.submit(decode_files, files, self.decoding).result()
        except BrokenProcessPool:
            raise ChunkKilledWorker() from None
        finally:
            stop_now(alone)
        return predict_decoded(self.network, *decoded)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self._one_blas_thread.restore_original_limits()

    def __exit__(self, exc_type, *exc_info) -> None:
        # Interrupted (Ctrl-C, SIGTERM, an error): kill the workers rather than wait for
        # the chunks they hold.
        if exc_type is not None and self._pool is not None:
            stop_now(self._pool)
        self.close()


def process_pool(workers: int) -> ProcessPoolExecutor:
    # forkserver, not fork: workers must not inherit the lock's file descriptor (a stray
    # worker would keep the lock alive) nor the progress bar's thread. Preloading the
    # chunk-reading module lets every worker start with numpy and Pillow already imported.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([decode_files.__module__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker)


def stop_now(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and kill the workers, rather than wait for their chunks."""
    # Python 3.14 has pool.kill_workers(); before it, the processes are only in _processes.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()


def _start_worker() -> None:
    """Worker initializer: one BLAS thread per worker (the workers share the cores, and a
    number's pieces then read as they do with --jobs 1), and :func:`_die_with_the_run`."""
    threadpool_limits(1, "blas")
    _die_with_the_run()


def _die_with_the_run() -> None:
    """Ctrl-C reaches the whole process group, but stopping is the run's job: a worker ignores
    SIGINT, is killed by the run, or exits by itself as soon as the run's process is gone
    (``kill -9``: its sentinel pipe closes), mid-chunk or idle. The forkserver and resource
    tracker exit once the workers have (they hold their pipes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    run = multiprocessing.parent_process()
    if run is not None:
        threading.Thread(target=_exit_when_closed, args=(run.sentinel,), daemon=True).start()


def _exit_when_closed(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _done(work) -> Future:
    """A future already holding ``work()``'s result or exception."""
    future: Future = Future()
    try:
        future.set_result(work())
    except Exception as exc:
        future.set_exception(exc)
    return future
