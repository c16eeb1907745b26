"""Worker processes for the per-record work of ingestion, with results handed back in task order.

Ingestion is CPU-bound Python (parsing, redaction, language identification), so threads cannot share
it out; processes can. Results come back in the order the tasks were given, so whoever consumes them
(the run, which stores, deduplicates and counts) sees exactly the sequence one process would have
produced. At most ``ahead`` tasks are in flight, so memory stays bounded whatever the input size.

A task that raises in a worker, or whose worker dies, is handed back with its exception instead of a
result: the caller redoes it in its own process, where it either succeeds or fails as it would have
without workers. Nothing is lost to a worker.

Workers are forked where the process has one thread (they start in milliseconds and inherit the loaded
modules); otherwise, as in the API server, a fork could copy a lock another thread holds, so they are
started fresh ("forkserver"), paying the imports once per worker.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def will_fork() -> bool:
    """Whether workers started now are forked (and so share what this process has loaded)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _start_method() -> str:
    if will_fork():
        return "fork"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class OrderedPool:
    """``workers`` processes, each set up once by ``initializer(*initargs)``; started on first use."""

    def __init__(self, workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
        self.workers = workers
        self._initializer = initializer
        self._initargs = initargs
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the worker processes now, not at the first task, so that their set-up (the
        initializer) runs while the caller does other work."""
        for _ in range(self.workers):  # the executor starts processes as tasks arrive
            self._submit(_nothing, None)

    def _submit(self, fn: Callable[[T], R], task: T) -> Future[R]:
        if self._executor is None:
            context = multiprocessing.get_context(_start_method())
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=self._initializer, initargs=self._initargs
            )
        try:
            return self._executor.submit(fn, task)
        except BrokenProcessPool:  # a worker died: its tasks come back failed; start a new pool for the rest
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
            return self._submit(fn, task)

    def map(
        self, fn: Callable[[T], R], tasks: Iterable[T], ahead: int | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        """``(task, fn(task))`` in task order, or ``(task, exception)`` where the task failed in a worker."""
        limit = ahead or 2 * self.workers
        pending: deque[tuple[T, Future[R]]] = deque()
        for task in tasks:
            pending.append((task, self._submit(fn, task)))
            if len(pending) >= limit:
                task_done, future = pending.popleft()
                result = _result(future)
                yield task_done, result
        while pending:
            task_done, future = pending.popleft()
            result = _result(future)
            yield task_done, result

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _nothing(_: None) -> None:
    """A task that starts a worker."""


def _result(future: Future[R]) -> R | BaseException:
    try:
        return future.result()
    except Exception as exc:  # the worker's exception (or BrokenProcessPool): the caller redoes the task
        return exc
