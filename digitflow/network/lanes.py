"""The trainer's work on every core: each lane runs the same passes over its own part, or the
lanes' threads share a list of independent tasks (:meth:`Lanes.run_all`).

The trainer holds BLAS to one thread and cuts its matrix products by rows; the optimiser's
passes and the augmentation's resampling are numpy ufuncs or kernels, which run on one core.
All of them release the GIL, so a second thread working on the other part of the same arrays
runs at the same time. Elementwise results do not depend on where an array is cut, and the
products are cut the same whatever the number of lanes, so any number of lanes gives
bit-identical results.
"""

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

MAX_LANES = 2
"""More lanes than this gain nothing on the 2-core machines digitflow trains on, and each
costs a thread round trip per call."""


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Lanes:
    """``count`` lanes: parts of the work that the calling thread and a pool made once share."""

    def __init__(self, count: int | None = None):
        self.count = count if count is not None else min(MAX_LANES, available_cores())
        self._pool = ThreadPoolExecutor(self.count - 1) if self.count > 1 else None

    def run(self, work: Callable[[int], None]) -> None:
        """Call ``work(lane)`` once for every lane, in parallel; return when all are done."""
        self.run_all([functools.partial(work, lane) for lane in range(self.count)])

    def run_all(self, tasks: list[Callable[[], None]]) -> None:
        """Call every task once, the lanes' threads sharing them; return when all are done.

        Each thread takes the next task not yet taken until none is left, so on a busy
        machine, where a pool thread may not get a core in time, the caller does its tasks
        too instead of waiting for it.
        """
        if self._pool is None:
            for task in tasks:
                task()
            return
        pending = iter(tasks)  # next() on it is atomic: each task is taken once

        def take_tasks() -> None:
            for task in pending:
                task()

        helpers = [self._pool.submit(take_tasks) for _ in range(self.count - 1)]
        try:
            take_tasks()
        finally:  # even when a task fails, none may still be running once this returns
            for helper in helpers:
                if not helper.cancel():  # it started: wait for the task it took
                    helper.result()  # re-raises that task's exception here

    def part(self, n: int, lane: int) -> slice:
        """Lane ``lane``'s share of ``n`` items: contiguous, in lane order, sizes differing by
        at most one."""
        return slice(n * lane // self.count, n * (lane + 1) // self.count)
