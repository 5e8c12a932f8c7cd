"""Running test code in several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

JOIN_TIMEOUT = 30.0
"""Seconds the threads may take to start together, and each to finish."""


def run_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads started together; each one's result or exception."""
    start = threading.Barrier(count, timeout=JOIN_TIMEOUT)
    outcomes: list[object] = [None] * count

    def body(index: int) -> None:
        try:
            start.wait()
            outcomes[index] = work(index)
        except BaseException as exc:  # noqa: B036 - reported by the caller's assertions
            outcomes[index] = exc

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
