"""The Dask distributed backend: each chunk a task on a cluster, the model sent once per worker.

Only file paths travel to the workers (they read the files themselves, so the input must be
visible to them at the same path or URL) and only probabilities travel back. The weights go
to each worker once, in a worker plugin that the scheduler also hands to workers joining
later, and every task finds them there. Needs the ``dask`` extra; imported only when a
scheduler is given.
"""

from concurrent.futures import CancelledError, Future

from distributed import Client, KilledWorker, get_worker
from distributed.comm import CommClosedError
from distributed.diagnostics.plugin import WorkerPlugin

from digitflow.batch.backends import Backend, ChunkKilledWorker
from digitflow.batch.chunk_reading import ChunkFiles, ChunkResult, Decoding, read_chunk
from digitflow.errors import DigitflowError, one_line
from digitflow.network.mlp import Network

TASK_RETRIES = 2
"""A chunk whose task raised is run again this many times: a worker's passing fault. Bad
files never raise (they become error rows), and a worker that dies mid-task is a different
matter: the scheduler reruns its tasks elsewhere until ``distributed.scheduler.allowed-
failures`` (default 3) deaths, then gives up with KilledWorker."""


class SchedulerUnreachable(DigitflowError):
    """No Dask scheduler answered at the address given."""


class SchedulerLost(DigitflowError):
    """The connection to the Dask scheduler broke during the run."""


class WorkersCannotRun(DigitflowError):
    """The workers cannot take the model or a chunk's task raised on every try: most often a
    worker without (this version of) digitflow installed."""


class DaskCluster(Backend):
    """Chunks as tasks on the Dask cluster whose scheduler is at ``address``."""

    def __init__(self, address: str, network: Network, decoding: Decoding, model_id: str):
        self.address = address
        self.decoding = decoding
        try:
            # The wait for an answer is Dask's own distributed.comm.timeouts.connect (30 s).
            self._client = Client(address, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}); start "
                "it, or fix --scheduler / predict_folder.scheduler / DASK_SCHEDULER_ADDRESS"
            ) from None
        self._plugin = f"digitflow-model-{model_id}"
        try:
            self._client.register_plugin(_ModelOnWorker(network), name=self._plugin)
        except Exception as exc:
            self._client.close()
            raise WorkersCannotRun(
                f"the Dask workers at {address} cannot take the model ({_what(exc)}); "
                "every worker needs this digitflow version installed"
            ) from exc
        # Sized on the workers there are at the start; workers joining later share the work.
        self.max_in_flight = 2 * max(1, sum(self._client.nthreads().values()))

    def submit(self, files: ChunkFiles) -> Future:
        return self._client.submit(
            _read_on_worker, files, self.decoding, self._plugin, retries=TASK_RETRIES, pure=False
        )

    def result(self, future: Future) -> ChunkResult:
        try:
            return future.result()
        except KilledWorker:
            raise ChunkKilledWorker() from None
        except (CancelledError, CommClosedError):  # as the client notices, or mid-gather
            raise SchedulerLost(
                f"lost the Dask scheduler at {self.address} during the run; no output was "
                "written (the previous outputs are as they were)"
            ) from None
        except Exception as exc:
            raise WorkersCannotRun(
                f"a Dask task failed {TASK_RETRIES + 1} times ({_what(exc)}); every worker "
                "needs this digitflow version installed and the input visible"
            ) from exc

    def read_alone(self, files: ChunkFiles) -> ChunkResult:
        # A task of its own; the scheduler already keeps a dying task from sharing a worker.
        return self.result(self.submit(files))

    def close(self) -> None:
        if self._client.status == "running":
            self._client.unregister_worker_plugin(self._plugin)
        self._client.close()


class _ModelOnWorker(WorkerPlugin):
    """Carries the network to a worker once; the worker keeps it for every task."""

    def __init__(self, network: Network):
        self.network = network


def _what(exc: Exception) -> str:
    return f"{type(exc).__name__}: {one_line(str(exc))}"


def _read_on_worker(files: ChunkFiles, decoding: Decoding, plugin: str) -> ChunkResult:
    return read_chunk(files, decoding, get_worker().plugins[plugin].network)
