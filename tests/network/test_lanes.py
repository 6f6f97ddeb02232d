"""Lanes: every lane runs, the parts tile the items in order, a lane's error reaches the caller."""

import functools
import threading

import pytest

from digitflow.network.lanes import Lanes


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("n", [0, 1, 5, 128, 627200])
def test_parts_cover_every_item_once_in_lane_order(count, n):
    lanes = Lanes(count)
    parts = [lanes.part(n, lane) for lane in range(count)]
    assert [i for part in parts for i in range(n)[part]] == list(range(n))
    sizes = [part.stop - part.start for part in parts]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("count", [1, 2, 3])
def test_run_calls_the_work_once_per_lane(count):
    seen: list[int] = []
    Lanes(count).run(seen.append)
    assert sorted(seen) == list(range(count))


def test_lanes_run_on_two_threads_when_both_are_free():
    both_started = threading.Barrier(2, timeout=10)
    threads: dict[int, threading.Thread] = {}

    def work(lane: int) -> None:
        threads[lane] = threading.current_thread()
        both_started.wait()  # fails unless another thread takes the other lane

    Lanes(2).run(work)
    assert threads[0] is not threads[1]


def test_an_error_in_another_lane_is_raised_to_the_caller():
    def work(lane: int) -> None:
        if lane == 1:
            raise ValueError("lane 1 failed")

    with pytest.raises(ValueError, match="lane 1 failed"):
        Lanes(2).run(work)


def test_default_lanes_are_at_most_two():
    assert 1 <= Lanes().count <= 2


def test_a_failing_lane_still_waits_for_a_lane_at_work():
    running: set[int] = set()
    one_failing = threading.Event()

    def work(lane: int) -> None:
        running.add(lane)
        if lane == 0:
            one_failing.set()
            raise ValueError("lane 0 failed")
        one_failing.wait(timeout=10)  # lane 1, if taken, is still at work when lane 0 raises
        running.discard(lane)

    with pytest.raises(ValueError, match="lane 0 failed"):
        Lanes(2).run(work)
    assert running == {0}


@pytest.mark.parametrize("count", [1, 2])
def test_run_all_calls_every_task_once(count):
    seen: list[int] = []
    Lanes(count).run_all([functools.partial(seen.append, task) for task in range(5)])
    assert sorted(seen) == list(range(5))


def test_run_all_shares_tasks_between_two_threads():
    both_started = threading.Barrier(2, timeout=10)
    threads: list[threading.Thread] = []

    def task() -> None:
        threads.append(threading.current_thread())
        both_started.wait()  # fails unless another thread takes the other task

    Lanes(2).run_all([task, task])
    assert threads[0] is not threads[1]
