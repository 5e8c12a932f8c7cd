"""The crawl scheduler, without I/O: what to start next, and when to look again.

It reads the input lazily, holds jobs back while their host is at its limit, keeps retries in
a heap by their due time, and stops reading input while too many jobs wait (backpressure). It
never performs a transfer and never waits: `fetch_many` drives it with a select() loop, and an
async crawl or a distributed worker can drive the same decisions their own way.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["NOT_YET", "Scheduler"]

NOT_YET: Any = object()
"""What a source may give instead of an item when it has none yet but is not exhausted (an
async crawl's buffer of an async iterable): the scheduler asks again on its next `ready()`."""


class _HasHost(Protocol):
    host: str  # "" when no per-host limit applies


_J = TypeVar("_J", bound=_HasHost)


class Scheduler(Generic[_J]):
    """Decides which jobs start, for a crawl with `concurrency` slots and a `per_host` limit.

    `ready(free, now)` gives the jobs to start now (due retries first, then jobs held back by
    their host's limit, oldest first, then new input); `ended(job)` frees the job's host;
    `retry(job, due)` queues it again; `wait(now, ceiling)` says how long the caller may wait
    for transfers before a retry falls due; `done` is true once nothing is left to do.
    """

    def __init__(
        self,
        source: Iterator[Any],
        make_job: Callable[[Any], _J],
        concurrency: int,
        per_host: int | None,
    ) -> None:
        self._source = source
        self._make_job = make_job
        self._per_host = per_host
        self._waiting: deque[_J] = deque()  # held back by per_host, or retries now due
        self._retries: list[tuple[float, int, _J]] = []  # (due, tie-breaker, job): a heap
        self._sequence = itertools.count()
        self._running: Counter[str] = Counter()
        self._max_waiting = concurrency * 4  # stop reading input while this many wait
        self._exhausted = False
        self.in_flight = 0

    def ready(self, free: int, now: float) -> Iterator[_J]:
        """The jobs to start now, at most `free` of them (started as they are taken)."""
        retries = self._retries
        while retries and retries[0][0] <= now:
            self._waiting.append(heapq.heappop(retries)[2])
        waiting = self._waiting
        for _ in range(len(waiting)):
            if not free:
                return
            job = waiting.popleft()
            if self._held(job):
                continue
            free -= 1
            yield job
        while free and not self._exhausted and len(waiting) < self._max_waiting:
            try:
                item = next(self._source)
            except StopIteration:
                self._exhausted = True
                return
            if item is NOT_YET:
                return
            job = self._make_job(item)
            if self._held(job):
                continue
            free -= 1
            yield job

    def _held(self, job: _J) -> bool:
        """Hold `job` back (True) while its host is at its limit; else count it as running."""
        host = job.host
        if host and self._per_host is not None:
            if self._running[host] >= self._per_host:
                self._waiting.append(job)
                return True
            self._running[host] += 1
        self.in_flight += 1
        return False

    def ended(self, job: _J) -> None:
        """`job`'s transfer ended (or could not start): its host has room again."""
        self.in_flight -= 1
        if job.host and self._per_host is not None:
            self._running[job.host] -= 1

    def retry(self, job: _J, due: float) -> None:
        """Start `job` again once the clock reads `due`."""
        heapq.heappush(self._retries, (due, next(self._sequence), job))

    @property
    def retrying(self) -> bool:
        """True while a job waits for its retry to fall due."""
        return bool(self._retries)

    def wait(self, now: float, ceiling: float) -> float:
        """Seconds the caller may wait before a retry falls due, at most `ceiling`."""
        if self._retries:
            return max(0.0, min(ceiling, self._retries[0][0] - now))
        return ceiling

    @property
    def done(self) -> bool:
        """True once the input is read and no job waits, is due for a retry or runs."""
        return self._exhausted and not self._waiting and not self._retries and not self.in_flight
