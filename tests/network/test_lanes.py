"""Lanes: every lane runs, the parts tile the items in order, a lane's error reaches the caller."""

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


@pytest.mark.parametrize("count", [1, 2])
def test_run_calls_the_work_once_per_lane_with_lane_zero_on_the_caller(count):
    seen: dict[int, threading.Thread] = {}
    Lanes(count).run(lambda lane: seen.__setitem__(lane, threading.current_thread()))
    assert sorted(seen) == list(range(count))
    assert seen[0] is threading.current_thread()
    assert all(thread is not threading.current_thread() for lane, thread in seen.items() if lane)


def test_an_error_in_another_lane_is_raised_to_the_caller():
    def work(lane: int) -> None:
        if lane == 1:
            raise ValueError("lane 1 failed")

    with pytest.raises(ValueError, match="lane 1 failed"):
        Lanes(2).run(work)


def test_default_lanes_are_at_most_two():
    assert 1 <= Lanes().count <= 2


def test_a_failing_caller_lane_still_waits_for_the_others():
    finished = []
    lane_zero_failing = threading.Event()

    def work(lane: int) -> None:
        if lane == 0:
            lane_zero_failing.set()
            raise ValueError("lane 0 failed")
        lane_zero_failing.wait()  # lane 1 is still at work when lane 0 raises
        finished.append(lane)

    with pytest.raises(ValueError, match="lane 0 failed"):
        Lanes(2).run(work)
    assert finished == [1]
