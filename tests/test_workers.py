"""The forked worker pool of the build's parallel stages (careersite.workers)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from careersite.workers import RemoteTraceback, WorkerDied, forked_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")


@pytest.fixture
def forked(monkeypatch):
    """The pids of the workers forked during the test."""
    pids: list[int] = []
    real = os.fork

    def spy():
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", spy)
    return pids


def _gone(pid: int) -> bool:
    """Whether the process has ended and been waited for (no zombie left)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_every_chunk_is_mapped_once_in_the_workers(forked, count):
    chunks = [list(range(n, n + 5)) for n in range(0, 100, 5)]
    results = list(forked_map(lambda chunk: (os.getpid(), sum(chunk)), chunks, count))
    assert sorted(total for _, total in results) == sorted(sum(c) for c in chunks)
    assert {pid for pid, _ in results} <= set(forked) and os.getpid() not in {pid for pid, _ in results}
    assert len(forked) == count
    assert all(_gone(pid) for pid in forked)


def test_chunks_are_inherited_not_pickled(forked):
    """A task is the chunk's index: chunks holding what pickle refuses (a lambda) still work."""
    chunks = [[lambda: 1], [lambda: 2], [lambda: 3]]
    assert sorted(forked_map(lambda chunk: chunk[0](), chunks, 2)) == [1, 2, 3]


def test_the_initializer_runs_in_each_worker(forked):
    state = {"ready": False}

    def initializer():
        state["ready"] = True

    assert list(forked_map(lambda chunk: state["ready"], [[1]] * 6, 2, initializer=initializer)) == [True] * 6
    assert state == {"ready": False}  # (in the workers only)


def test_an_exception_in_a_worker_is_raised_here_with_its_traceback(forked):
    def fn(chunk):
        if chunk == [3]:
            raise KeyError("kaputt")
        return chunk[0]

    with pytest.raises(KeyError, match="kaputt") as info:
        list(forked_map(fn, [[n] for n in range(10)], 2))
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "in fn" in str(cause) and "KeyError: 'kaputt'" in str(cause)
    assert all(_gone(pid) for pid in forked)


def test_an_exception_that_cannot_be_pickled_arrives_as_its_text(forked):
    class Local(Exception):  # a class pickle cannot find by name
        pass

    def fn(chunk):
        raise Local("nicht übertragbar")

    with pytest.raises(RuntimeError, match="Local: nicht übertragbar"):
        list(forked_map(fn, [[1], [2]], 2))


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_a_worker_that_dies_ends_the_map_with_an_error(forked, how):
    def fn(chunk):
        if chunk == [5]:
            if how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return chunk[0]

    started = time.monotonic()
    with pytest.raises(WorkerDied, match="ended unexpectedly"):
        list(forked_map(fn, [[n] for n in range(10)], 2))
    assert time.monotonic() - started < 30  # (multiprocessing.Pool waits forever here)
    assert all(_gone(pid) for pid in forked)


def test_stopping_early_stops_the_workers(forked):
    def slow(chunk):
        time.sleep(30 if chunk[0] else 0)
        return chunk[0]

    results = forked_map(slow, [[n] for n in range(20)], 2)
    assert next(results) == 0
    started = time.monotonic()
    results.close()  # the caller stops (an error of its own): the workers must not go on
    assert time.monotonic() - started < 10
    assert len(forked) == 2
    assert all(_gone(pid) for pid in forked)


def test_results_arrive_as_they_are_done_not_in_order(forked):
    """A slow chunk holds back no other: none waits behind it while a worker is free."""
    def fn(chunk):
        if chunk[0] == 0:
            time.sleep(1)
        return chunk[0]

    results = list(forked_map(fn, [[n] for n in range(6)], 2))
    assert sorted(results) == list(range(6)) and results[-1] == 0

