"""Running the same work in several threads released together, for race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_at_once(work: Callable[[Callable[[], None]], T], threads: int = 2) -> list[T]:
    """Run ``work`` in ``threads`` threads; each calls the release it is given when ready.

    The threads wait for each other at that call, so their next statements race. Returns what
    each returned; an exception in any thread is raised here, from the test's own thread.
    """
    barrier = threading.Barrier(threads)
    results: list[T] = []
    failures: list[BaseException] = []

    def release() -> None:
        barrier.wait(timeout=10)

    def run() -> None:
        try:
            results.append(work(release))
        except BaseException as error:  # reported below, from the test's own thread
            failures.append(error)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=30)
    if failures:
        raise failures[0]
    assert len(results) == threads, "a thread did not finish within 30 s"
    return results
