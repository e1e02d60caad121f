"""Run independent tasks in forked children, results back in the parent as they finish.

``doctor --all`` diagnoses each environment alone; the diagnoses share nothing but what was read
before the fork, so N processes finish in about 1/N of the time.  Children inherit everything
(no pickling of the work, no interpreter start-up); each sends length-prefixed pickles of its
results through a pipe, and the parent reads whichever pipe is ready, so a progress bar moves
as environments finish.  A child that dies takes only its own unfinished tasks with it: those
come back as errors.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
from typing import Callable, TypeVar

__all__ = ["available_cpus", "run_tasks"]

T = TypeVar("T")
_HEADER = 8


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_tasks(
    task: Callable[[int], T],
    count: int,
    workers: int,
    done: Callable[[int, T | None, str | None], None],
) -> None:
    """``task(i)`` for every ``i < count``; ``done(i, result, error)`` in the parent for each.

    ``error`` is a one-line description when the task raised (or its process died).  With one
    worker, or without ``os.fork``, everything runs here, in order.
    """
    workers = max(1, min(workers, count))
    if workers == 1 or not hasattr(os, "fork"):
        for index in range(count):
            try:
                result = task(index)
            except Exception as exc:  # noqa: BLE001  # reported per task, as a child would
                done(index, None, f"{type(exc).__name__}: {exc}")
                continue
            done(index, result, None)
        return
    children: dict[int, int] = {}  # read end → pid
    finished = False
    try:
        for worker in range(workers):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(read_end)
                _child(task, range(worker, count, workers), write_end)
            os.close(write_end)
            children[read_end] = pid
        reported = _collect(children, done)
        finished = True
    finally:
        for read_end, pid in children.items():
            os.close(read_end)
            _reap(pid, stop=not finished)
    for index in range(count):
        if index not in reported:
            done(index, None, "the worker process diagnosing it stopped")


def _child(task: Callable[[int], T], indexes: range, write_end: int) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C stops children quietly
        with os.fdopen(write_end, "wb") as out:
            for index in indexes:
                try:
                    message: tuple[int, object, str | None] = (index, task(index), None)
                except Exception as exc:  # noqa: BLE001  # sent to the parent, per task
                    message = (index, None, f"{type(exc).__name__}: {exc}")
                payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
                out.write(len(payload).to_bytes(_HEADER, "little") + payload)
                out.flush()
    except BaseException:  # noqa: BLE001  # a child must never return into the parent's code
        code = 1
    finally:
        os._exit(code)


def _collect(
    children: dict[int, int], done: Callable[[int, T | None, str | None], None]
) -> set[int]:
    reported: set[int] = set()
    buffers = {fd: bytearray() for fd in children}
    with selectors.DefaultSelector() as selector:
        for fd in children:
            selector.register(fd, selectors.EVENT_READ)
        open_count = len(children)
        while open_count:
            for key, _ in selector.select():
                fd = int(key.fd)
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    selector.unregister(fd)
                    open_count -= 1
                    continue
                buffer = buffers[fd]
                buffer += chunk
                while len(buffer) >= _HEADER:
                    size = int.from_bytes(buffer[:_HEADER], "little")
                    if len(buffer) < _HEADER + size:
                        break
                    index, result, error = pickle.loads(bytes(buffer[_HEADER : _HEADER + size]))  # noqa: S301  # our own child
                    del buffer[: _HEADER + size]
                    reported.add(index)
                    done(index, result, error)
    return reported


def _reap(pid: int, *, stop: bool) -> None:
    """Wait for a child (which has closed its pipe and is exiting), stopping it first when the
    parent gives up early (an interrupt, an error while reading)."""
    try:
        if stop:
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass
