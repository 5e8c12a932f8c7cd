"""afetch_many(): fetch_many's crawl on an event loop: `async for result in afetch_many(...)`.

The same decisions as the sync crawl, by the same code: the Scheduler (lazy input, per-host
limits, the retry heap), `_start` and `_finish` (preparation, Retry.step, Results). Only the
waiting differs: the multi engine is driven by the asyncio waiter, and each transfer that
ends starts the next one from the waiter's callback; no task per URL. A sync iterable is read
in those callbacks (keep it cheap, as a file or a list); an async iterable is read by one
task into a small buffer.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator
from typing import Any

from ._exceptions import InvalidSetting
from ._fetch import CONCURRENCY, Result, _finish, _Job, _job_maker, _start
from ._models import Request, Response
from ._prepare import DEFAULT_TIMEOUT, TimeoutTypes
from ._retry import Retry
from ._scheduler import NOT_YET, Scheduler
from ._session import Session
from ._transport import Slot
from ._transport._async import AsyncWaiter, closing_multi
from ._transport._engine import Finished, MultiEngine

__all__ = ["afetch_many"]


def afetch_many(
    requests: Iterable[str | Request] | AsyncIterable[str | Request],
    *,
    concurrency: int = CONCURRENCY,
    per_host: int | None = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    retry: Retry | int | None = None,
    **options: Any,
) -> AsyncGenerator[Result, None]:
    """Fetch every URL (or `Request`), up to `concurrency` at once; yield Results as they end.

    ```python
    report = curlx.Report()
    async with contextlib.aclosing(curlx.afetch_many(urls, per_host=4)) as results:
        async for result in results:
            report.add(result)
    ```

    `fetch_many`'s keywords and Results: one Result per URL, never aborting on a failure;
    `per_host` caps transfers per host name; `retry` waits without blocking anything (the
    loop or other transfers); other keywords are Session options. `requests` may be a sync
    iterable (read lazily, from the event loop: keep it cheap) or an async one. Leaving the
    loop early stops the crawl and closes every handle when the generator closes: at once
    with `contextlib.aclosing` (as above) or `await results.aclose()`, else when it is
    garbage-collected. Cancelling the task that iterates closes it at once.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidSetting(f"concurrency={concurrency!r} must be a whole number >= 1.")
    if per_host is not None and (
        isinstance(per_host, bool) or not isinstance(per_host, int) or per_host < 1
    ):
        raise InvalidSetting(f"per_host={per_host!r} must be a whole number >= 1, or None.")
    config = Session(timeout=timeout, retry=retry, _cookie_engine=False, **options)
    return _crawl(config, requests, concurrency, per_host)


class _Buffer(Iterator[Any]):
    """An async iterable, read by one task into a buffer the Scheduler takes items from
    (`NOT_YET` while it is empty and the source not done)."""

    def __init__(self, source: AsyncIterable[Any], size: int, arrived: Any) -> None:
        self._source = source
        self._items: deque[Any] = deque()
        self._size = size
        self._room: asyncio.Future[None] | None = None
        self._arrived = arrived  # called when items arrive or the source ends
        self.done = False
        self.error: BaseException | None = None

    def __next__(self) -> Any:
        items = self._items
        if items:
            item = items.popleft()
            room = self._room
            if room is not None and not room.done():
                room.set_result(None)
            return item
        if self.done:
            raise StopIteration
        return NOT_YET

    async def read(self) -> None:
        """The feeding task: read the source, waiting while the buffer is full."""
        loop = asyncio.get_running_loop()
        try:
            async for item in self._source:
                self._items.append(item)
                self._arrived()
                if len(self._items) >= self._size:
                    self._room = loop.create_future()
                    await self._room
        except Exception as exc:  # the source's own failure ends the crawl with it
            self.error = exc
        finally:
            self.done = True
            self._arrived()


class _Crawl:
    """One async crawl's state: the engine and its waiter, the scheduler, the Results ready
    for the consumer, and the future the consumer waits on."""

    def __init__(
        self,
        config: Session,
        source: Iterator[Any],
        concurrency: int,
        per_host: int | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.config = config
        self.loop = loop
        self.engine: MultiEngine[_Job] = MultiEngine([Slot() for _ in range(concurrency)])
        self.waiter = AsyncWaiter(self.engine, loop, self.ended, self.multi_failed)
        self.scheduler: Scheduler[_Job] = Scheduler(
            source, _job_maker(config.retry, per_host is not None), concurrency, per_host
        )
        self.results: deque[Result] = deque()
        self.most = concurrency * 2  # Results held for a slow consumer before starts pause
        self.wake: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.error: BaseException | None = None

    def notify(self) -> None:
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def pump(self) -> None:
        """Start what may start now, and set the timer for the next retry due."""
        if self.error is not None or len(self.results) >= self.most:
            return
        engine, scheduler = self.engine, self.scheduler
        now = time.monotonic()
        try:
            for job in scheduler.ready(engine.free, now):
                result = _start(self.config, engine, job)
                if result is not None:
                    scheduler.ended(job)
                    self.results.append(result)
        except Exception as exc:  # the input's own failure: the consumer gets it
            self.error = exc
            return
        self.waiter.kick()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if scheduler.retrying:
            delay = scheduler.wait(now, math.inf)
            self.timer = self.loop.call_later(delay, self.retry_due)

    def retry_due(self) -> None:
        self.timer = None
        self.pump()
        self.notify()

    def ended(self, done: list[Finished[_Job]]) -> None:
        """The waiter's callback: Results (or retries) for the transfers that ended, and the
        next transfers started at once."""
        scheduler, results = self.scheduler, self.results
        try:
            for job, slot, code, message in done:
                scheduler.ended(job)
                outcome = (
                    slot.failed((code, message))
                    if code
                    else slot.respond(Response._pending(slot.method, slot.safe_url))
                )
                result = _finish(job, outcome)
                if result is None:
                    scheduler.retry(job, time.monotonic() + job.delay)
                else:
                    results.append(result)
        except Exception as exc:  # a fault of curlx's own: the consumer gets it, not the loop
            self.error = exc
            self.notify()
            return
        if self.wake is None:
            # The consumer is busy elsewhere: start the next transfers now. When it waits for
            # these Results instead, it starts them itself once it has taken them, so a slot
            # reused at once need not first freeze the info of a Result still held here.
            self.pump()
        self.notify()

    def multi_failed(self, stopped: list[_Job], error: BaseException) -> None:
        self.error = error
        self.notify()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.waiter.close()
        # Transfers stopped mid-way may leave a name lookup behind: no waiting for it.
        closing_multi(self.engine, abandoned=self.engine.running > 0)
        self.config.close()


async def _crawl(
    config: Session,
    requests: Iterable[Any] | AsyncIterable[Any],
    concurrency: int,
    per_host: int | None,
) -> AsyncGenerator[Result, None]:
    loop = asyncio.get_running_loop()
    buffer: _Buffer | None = None
    feeding: asyncio.Future[None] | None = None
    if isinstance(requests, AsyncIterable):
        buffer = _Buffer(requests, concurrency, lambda: None)
        source: Iterator[Any] = buffer
    else:
        source = iter(requests)
    crawl = _Crawl(config, source, concurrency, per_host, loop)
    if buffer is not None:

        def arrived() -> None:
            crawl.pump()
            crawl.notify()

        buffer._arrived = arrived
        feeding = asyncio.ensure_future(buffer.read())
    try:
        crawl.pump()
        results = crawl.results
        while True:
            while results:
                yield results.popleft()
            if buffer is not None and buffer.error is not None:
                raise buffer.error
            if crawl.error is not None:
                raise crawl.error
            crawl.pump()
            if results:
                continue
            if crawl.scheduler.done and not crawl.engine.running:
                return
            crawl.wake = loop.create_future()
            await crawl.wake
            crawl.wake = None
    finally:
        if feeding is not None and not feeding.done():
            feeding.cancel()
        crawl.close()
