"""fetch_many(): many transfers at once on one CurlMulti, one Result per URL, never aborting.

Input is read lazily, so a generator of millions of URLs costs memory in proportion to the
concurrency, not to its length. Failed transfers are typed by the same translator as
everywhere else, so a crawl's error for a URL is the one `curlx.get` would raise for it.
Retries wait in a queue with their due time: a waiting retry never blocks other transfers.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from ._exceptions import (
    CurlError,
    HTTPStatusError,
    InvalidOperation,
    InvalidRequest,
    InvalidSetting,
)
from ._models import Request, Response
from ._retry import Retry
from ._session import DEFAULT_TIMEOUT, Session, TimeoutTypes, _located
from ._transport import MultiTransport, Outcome
from ._urls import host_of, redact_url

__all__ = ["Result", "fetch_many"]


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """The outcome for one URL of a crawl: a response or a typed error, never both.

    `attempts` counts transfers made (retries included); `elapsed` is the seconds from the
    first attempt's start to the end of the last, waits included.
    """

    url: str
    response: Response | None
    error: CurlError | None
    attempts: int
    elapsed: float

    @property
    def ok(self) -> bool:
        """True for a response with a status below 400."""
        return self.response is not None and self.response.status_code < 400

    @property
    def status_code(self) -> int | None:
        """The response's status, None if the transfer failed."""
        return self.response.status_code if self.response is not None else None


class _Job:
    """One input item on its way: the request, where it goes, how it fared so far."""

    __slots__ = ("attempts", "host", "policy", "request", "started", "target", "url")

    def __init__(self, target: str, request: Request | None, host: str, policy: Retry | None):
        self.target = target  # the URL as given (credentials and all), for libcurl
        self.request = request  # None for a plain URL: a GET
        self.host = host  # "" unless per_host limits are in force
        self.url = redact_url(target)  # for results
        self.policy = policy
        self.started = 0.0
        self.attempts = 0

    @property
    def method(self) -> str:
        return self.request.method.upper() if self.request is not None else "GET"


CONCURRENCY = 50
"""fetch_many's default number of transfers at once."""


def fetch_many(
    requests: Iterable[str | Request],
    *,
    concurrency: int = CONCURRENCY,
    per_host: int | None = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    retry: Retry | int | None = None,
    **options: Any,
) -> Generator[Result, None, None]:
    """Fetch every URL (or `Request`), up to `concurrency` at once; yield Results as they end.

    ```python
    report = curlx.Report()
    for result in curlx.fetch_many(open("urls.txt"), concurrency=50, per_host=4):
        report.add(result)
    print(report.render())
    ```

    `per_host` caps simultaneous transfers per host name; `retry` is a `Retry` policy (or a
    number of retries); other keywords are Session options (`headers`, `verify`, `proxy`,
    `max_size`, `follow_redirects`, `allowed_protocols`...). One URL's failure never stops the
    crawl. Breaking out of the loop (or Ctrl-C) closes every handle and connection.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidSetting(f"concurrency={concurrency!r} must be a whole number >= 1.")
    if per_host is not None and (
        isinstance(per_host, bool) or not isinstance(per_host, int) or per_host < 1
    ):
        raise InvalidSetting(f"per_host={per_host!r} must be a whole number >= 1, or None.")
    config = Session(timeout=timeout, retry=retry, _cookie_engine=False, **options)
    return _crawl(config, iter(requests), concurrency, per_host)


def _crawl(
    config: Session, source: Iterator[str | Request], concurrency: int, per_host: int | None
) -> Generator[Result, None, None]:
    transport: MultiTransport[_Job] = MultiTransport(concurrency)
    waiting: deque[_Job] = deque()  # held back by per_host, or retries now due
    retries: list[tuple[float, int, _Job]] = []  # (due, tie-breaker, job), a heap
    sequence = itertools.count()
    per_host_running: Counter[str] = Counter()
    max_waiting = concurrency * 4  # stop reading input while this many are held back
    exhausted = False

    def launch(job: _Job) -> Result | None:
        """Start `job` now, or hold it back while its host is at its limit."""
        if job.host and per_host is not None and per_host_running[job.host] >= per_host:
            waiting.append(job)
            return None
        return _start(config, transport, job, per_host_running)

    try:
        while True:
            now = time.monotonic()
            while retries and retries[0][0] <= now:
                waiting.append(heapq.heappop(retries)[2])
            # Start what may start: held-back jobs first (oldest first), then new input.
            for _ in range(len(waiting)):
                if not transport.free:
                    break
                result = launch(waiting.popleft())
                if result is not None:
                    yield result
            while transport.free and not exhausted and len(waiting) < max_waiting:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                result = launch(_job(config, item, per_host))
                if result is not None:
                    yield result
            if not transport.running:
                if exhausted and not waiting and not retries:
                    return
                if retries and not waiting:
                    time.sleep(max(0.0, retries[0][0] - time.monotonic()))
                continue
            wait = 1.0
            if retries:
                wait = min(wait, max(0.0, retries[0][0] - time.monotonic()))
            for job, outcome in transport.poll(wait):
                if job.host:
                    per_host_running[job.host] -= 1
                result = _finish(config, job, outcome, retries, sequence)
                if result is not None:
                    yield result
    finally:
        transport.close()
        config.close()


def _job(config: Session, item: str | Request, per_host: int | None) -> _Job:
    if isinstance(item, Request):
        request: Request | None = item
        url = str(item.url)
    else:
        request = None
        url = (item if isinstance(item, str) else str(item)).strip()
    return _Job(url, request, host_of(url) if per_host is not None else "", config.retry)


def _start(
    config: Session, transport: MultiTransport[_Job], job: _Job, running: Counter[str]
) -> Result | None:
    """Start the job's next attempt; a final Result if it cannot start."""
    request = job.request
    if not job.attempts:
        job.started = time.monotonic()  # elapsed counts from the first attempt, not the queue
    job.attempts += 1
    try:
        if request is None:
            plain = config.__dict__.get("_plain_get")
            if plain is None:
                prepared = config._prepare("GET", job.target)
                # A plain GET needs the same options for every URL: only the URL is checked.
                config.__dict__["_plain_get"] = prepared
            else:
                target = config._target(job.target)
                prepared = plain._replace(url=target, safe_url=redact_url(target))
        else:
            prepared = config._prepare(
                request.method, job.target, request.headers, request.data, request.json
            )
    except CurlError as error:
        failure: CurlError | None = error
    else:
        failure = transport.start(
            job,
            prepared.url,
            prepared.method,
            prepared.base,
            prepared.extra,
            prepared.watchdog,
            prepared.safe_url,
        )
    if failure is not None:
        if isinstance(failure, InvalidOperation | InvalidRequest):
            _located(failure, job.method, job.target)  # say which request it refused
        return Result(job.url, None, failure, job.attempts, time.monotonic() - job.started)
    if job.host:
        running[job.host] += 1
    return None


def _finish(
    config: Session,
    job: _Job,
    outcome: Outcome | CurlError,
    retries: list[tuple[float, int, _Job]],
    sequence: Iterator[int],
) -> Result | None:
    """The Result for a finished attempt, or None when a retry was scheduled instead."""
    method = job.method
    policy = job.policy
    if isinstance(outcome, CurlError):
        if policy is not None:
            try:
                job.policy = policy.increment(outcome, method, job.url)
            except CurlError as final:
                return Result(job.url, None, final, job.attempts, _since(job))
            _schedule(job, retries, sequence)
            return None
        return Result(job.url, None, outcome, job.attempts, _since(job))
    content, header_lines, info = outcome
    response = Response(
        status_code=info.response_code,
        content=content,
        header_lines=header_lines,
        info=info,
        method=method,
        request_url=job.url,
    )
    if policy is not None and policy.retries_status(response.status_code, method):
        try:
            job.policy = policy.increment(response, method, job.url)
        except HTTPStatusError as final:
            if policy.raise_on_status:
                return Result(job.url, None, final, job.attempts, _since(job))
            return Result(job.url, response, None, job.attempts, _since(job))
        _schedule(job, retries, sequence)
        return None
    return Result(job.url, response, None, job.attempts, _since(job))


def _schedule(job: _Job, retries: list[tuple[float, int, _Job]], sequence: Iterator[int]) -> None:
    assert job.policy is not None and job.policy.history
    due = time.monotonic() + job.policy.history[-1].delay
    heapq.heappush(retries, (due, next(sequence), job))


def _since(job: _Job) -> float:
    return time.monotonic() - job.started
