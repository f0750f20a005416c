"""An ordered map over forked worker processes, for CPU-bound work on a stream.

The workers are forked from the caller, so they inherit what it has built (a redactor's compiled
patterns and automaton) instead of rebuilding it: starting one costs a fork, not an import.
Only where fork is the platform's own start method (Linux); elsewhere the map runs in-process.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

# The function the forked workers run: set before the pool forks, so it needs no pickling.
_task: Callable[[object], object] | None = None


def _run(item: object) -> object:
    assert _task is not None
    return _task(item)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`map(fn, items)` with `workers` processes, results in input order.

    Items are read as results are taken: at most two per worker are in flight, so a long stream
    is never held in memory whole. The pool starts only once there is a second item, so a
    small input never pays for the forks.
    """
    iterator = iter(items)
    head = list(islice(iterator, 2))
    if len(head) < 2 or workers < 2 or not can_fork():
        yield from map(fn, chain(head, iterator))
        return
    # Imported here: ~12 ms of start-up that a small input, which never forks, need not pay.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _task
    _task = cast(Callable[[object], object], fn)
    pending: deque[Future[object]] = deque()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        try:
            for item in chain(head, iterator):
                pending.append(pool.submit(_run, item))
                if len(pending) >= 2 * workers:
                    yield cast(R, pending.popleft().result())
            while pending:
                yield cast(R, pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
            _task = None
