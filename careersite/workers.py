"""A small pool of forked worker processes for the build's parallel stages.

:func:`forked_map` runs ``fn`` on each of a list of chunks in forked processes and yields the
results as they come. The workers inherit ``fn`` and the chunks through ``fork()``, so a task
sent to a worker is the chunk's index (a few bytes) and only results travel back, pickled.

Why not ``multiprocessing.Pool``: it pickles every task in the parent, and its three threads
(feeding tasks, collecting results, watching the workers) cost the parent ~0.28 s of CPU in a
template edit at 10,000 articles, on a machine whose two cores the workers keep busy; here the
parent sleeps in one ``poll()`` until a worker answers. A worker that dies (killed, out of
memory) ends the map with an error instead of leaving it waiting forever.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

#: Tasks a worker holds at once. One: a worker that finishes a task waits for the parent to
#: send the next (~0.05 ms; 10,000 pages are ~160 tasks), but no task waits behind a slow one
#: while another worker is idle (with two, the last tasks of a build could leave one core idle
#: for a task's time: 40 ms of rendering, 130 ms of reading).
_AHEAD = 1


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, or out of memory)."""


def forked_map(fn: Callable[[Any], Any], chunks: Sequence, workers: int,
               initializer: Callable[[], None] | None = None) -> Iterator[Any]:
    """``fn(chunk)`` for each chunk, in ``workers`` forked processes; results in any order.

    An exception raised by ``fn`` in a worker is raised here (the same type, pickled), and the
    other workers are stopped. So they are when the caller stops iterating early.
    """
    pids: list[int] = []
    conns: list[Connection] = []
    done = False
    try:
        for _ in range(workers):
            ours, theirs = Pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the caller's code
                code = 1
                try:
                    ours.close()
                    for other in conns:  # the pipes of the workers forked before this one
                        other.close()
                    # signals are this process's own: not written into a wakeup fd of the
                    # parent's event loop (the live preview's), and SIGTERM simply ends it
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    if initializer is not None:
                        initializer()
                    _serve(fn, chunks, theirs)
                    code = 0
                finally:
                    os._exit(code)
            theirs.close()
            pids.append(pid)
            conns.append(ours)
        yield from _dispatch(chunks, conns)
        done = True
    finally:
        for conn in conns:
            conn.close()  # an idle worker reads the end of its pipe and exits
        for pid in pids:
            if not done:  # an error, or the caller stopped: what the workers still do is not wanted
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _dispatch(chunks: Sequence, conns: list[Connection]) -> Iterator[Any]:
    todo = deque(range(len(chunks)))
    held = {conn: 0 for conn in conns}  # tasks sent to the worker and not answered yet
    for conn in conns:
        while todo and held[conn] < _AHEAD:
            conn.send(todo.popleft())
            held[conn] += 1
    remaining = len(chunks)
    while remaining:
        for conn in wait([c for c, n in held.items() if n]):
            try:
                ok, value = conn.recv()
            except (EOFError, OSError):
                raise WorkerDied("a worker process of the build ended unexpectedly (killed, or out of "
                                 "memory?); build again, with fewer --jobs if memory is short") from None
            held[conn] -= 1  # type: ignore[index]
            remaining -= 1
            if not ok:
                exc, text = value
                raise exc from RemoteTraceback(text)
            if todo:
                conn.send(todo.popleft())  # type: ignore[union-attr]
                held[conn] += 1  # type: ignore[index]
            yield value


def _serve(fn: Callable[[Any], Any], chunks: Sequence, conn: Connection) -> None:
    """A worker's loop: a chunk's index in, ``(True, result)`` or ``(False, exception)`` out."""
    while True:
        try:
            index = conn.recv()
        except EOFError:  # the parent is done (or gone)
            return
        try:
            answer: tuple[bool, Any] = (True, fn(chunks[index]))
        except BaseException as exc:  # noqa: BLE001 - raised again in the parent
            answer = (False, (exc, "".join(traceback.format_exception(exc))))
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text
            exc, text = answer[1]
            data = pickle.dumps((False, (RuntimeError(f"{type(exc).__name__}: {exc}"), text)))
        conn.send_bytes(data)


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (the ``__cause__`` of the one raised here)."""

    def __str__(self) -> str:
        return f"in a worker process:\n{self.args[0]}"
