"""Elementwise numpy work on every core: each lane runs the same passes over its own part.

BLAS keeps both cores busy in the matrix products, but the rest of a training step (the
optimiser's passes, the augmentation's resampling, the batch gather) is numpy ufuncs, which
run on one core. They release the GIL, so a second thread working on the other part of the
same arrays runs at the same time. Elementwise results do not depend on where an array is
cut, so any number of lanes gives bit-identical results.
"""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

MAX_LANES = 2
"""More lanes than this gain nothing on the 2-core machines digitflow trains on, and each
costs a thread round trip per call."""


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Lanes:
    """``count`` lanes: lane 0 is the calling thread, the others a pool made once."""

    def __init__(self, count: int | None = None):
        self.count = count if count is not None else min(MAX_LANES, available_cores())
        self._pool = ThreadPoolExecutor(self.count - 1) if self.count > 1 else None

    def run(self, work: Callable[[int], None]) -> None:
        """Call ``work(lane)`` for every lane at once; return when all are done."""
        if self._pool is None:
            work(0)
            return
        others = [self._pool.submit(work, lane) for lane in range(1, self.count)]
        try:
            work(0)
        finally:  # even when lane 0 fails, no lane may still be writing once run returns
            for future in others:
                future.result()  # re-raises a lane's exception here

    def part(self, n: int, lane: int) -> slice:
        """Lane ``lane``'s share of ``n`` items: contiguous, in lane order, sizes differing by
        at most one."""
        return slice(n * lane // self.count, n * (lane + 1) // self.count)
