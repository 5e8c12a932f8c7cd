"""fetch_many(): many transfers at once on one CurlMulti, one Result per URL, never aborting.

Input is read lazily, so a generator of millions of URLs costs memory in proportion to the
concurrency, not to its length. Failed transfers are typed by the same translator as
everywhere else, so a crawl's error for a URL is the one `curlx.get` would raise for it.
Retries wait in a queue with their due time: a waiting retry never blocks other transfers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, Protocol

from ._exceptions import (
    CurlError,
    InvalidOperation,
    InvalidRequest,
    InvalidSetting,
)
from ._models import Request, Response
from ._prepare import DEFAULT_TIMEOUT, TimeoutTypes, _located
from ._retry import Retry
from ._scheduler import Scheduler
from ._session import Session
from ._transport import MultiTransport
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

    __slots__ = ("attempts", "delay", "host", "policy", "request", "started", "target", "url")

    def __init__(self, target: str, request: Request | None, host: str, policy: Retry | None):
        self.target = target  # the URL as given (credentials and all), for libcurl
        self.request = request  # None for a plain URL: a GET
        self.host = host  # "" unless per_host limits are in force
        self.url = redact_url(target)  # for results
        self.policy = policy
        self.started = 0.0
        self.attempts = 0
        self.delay = 0.0  # seconds before the retry its policy decided

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
    session: Session | None = None,
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

    With `session=`, the crawl uses that Session's settings and keeps its connections open
    on the Session for the next crawl (a program that fetches in batches does not reconnect
    for each); they close with the Session. One crawl at a time per Session.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidSetting(f"concurrency={concurrency!r} must be a whole number >= 1.")
    if per_host is not None and (
        isinstance(per_host, bool) or not isinstance(per_host, int) or per_host < 1
    ):
        raise InvalidSetting(f"per_host={per_host!r} must be a whole number >= 1, or None.")
    if session is not None:
        if options or retry is not None or timeout is not DEFAULT_TIMEOUT:
            given = sorted([*options, *(["retry"] if retry is not None else [])])
            given += [] if timeout is DEFAULT_TIMEOUT else ["timeout"]
            raise InvalidRequest(
                f"fetch_many(session=...) crawls with the Session's settings, so it takes no "
                f"{', '.join(given)}=: set them on the Session (Session({given[0]}=...))."
            )
        transport = session._crawl_transport(concurrency)
        return _crawl(session, iter(requests), concurrency, per_host, transport)
    config = Session(timeout=timeout, retry=retry, _cookie_engine=False, **options)
    return _crawl(config, iter(requests), concurrency, per_host, None)


def _crawl(
    config: Session,
    source: Iterator[str | Request],
    concurrency: int,
    per_host: int | None,
    kept: MultiTransport[Any] | None,
) -> Generator[Result, None, None]:
    """The crawl loop. With `kept` (a Session's own crawl transport) the connections stay
    open for the Session's next crawl; without, the crawl's handles close when it ends."""
    transport: MultiTransport[_Job]
    transport = MultiTransport(concurrency, Response._pending) if kept is None else kept
    scheduler: Scheduler[_Job] = Scheduler(
        source, _job_maker(config.retry, per_host is not None), concurrency, per_host
    )
    try:
        while True:
            took = False
            for job in scheduler.ready(transport.free, time.monotonic()):
                took = True
                result = _start(config, transport, job)
                if result is not None:
                    scheduler.ended(job)
                    yield result
            if not transport.running:
                if scheduler.done:
                    return
                if not took:  # nothing to start until a retry falls due
                    time.sleep(scheduler.wait(time.monotonic(), 1.0))
                continue
            for job, outcome in transport.poll(scheduler.wait(time.monotonic(), 1.0)):
                scheduler.ended(job)
                result = _finish(job, outcome)
                if result is None:  # a retry, once its delay passed
                    scheduler.retry(job, time.monotonic() + job.delay)
                else:
                    yield result
    finally:
        if kept is None:
            transport.close()
            config.close()
        else:
            transport.cancel()  # what still runs (the loop was left early): stopped
            config._crawl_ended()


def _job_maker(policy: Retry | None, by_host: bool) -> Callable[[str | Request], _Job]:
    """What turns one input item (a URL or a `Request`) into a job of this crawl."""

    def job(item: str | Request) -> _Job:
        if type(item) is str:
            url = item.strip()
            return _Job(url, None, host_of(url) if by_host else "", policy)
        if isinstance(item, Request):
            url = str(item.url)
            return _Job(url, item, host_of(url) if by_host else "", policy)
        url = str(item).strip()
        return _Job(url, None, host_of(url) if by_host else "", policy)

    return job


class _Starter(Protocol):
    """What a crawl starts transfers on: `MultiTransport`, or the multi engine of an async crawl."""

    def start(
        self,
        token: _Job,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> CurlError | None: ...


def _start(config: Session, transport: _Starter, job: _Job) -> Result | None:
    """Start the job's next attempt; a final Result if it cannot start."""
    request = job.request
    if not job.attempts:
        job.started = time.monotonic()  # elapsed counts from the first attempt, not the queue
    job.attempts += 1
    failure: CurlError | None
    try:
        plain = config.__dict__.get("_plain_get") if request is None else None
        if plain is not None:
            # A plain GET needs the same options for every URL: only the URL is checked.
            target = config._target(job.target)
            safe_url = job.url if target is job.target else redact_url(target)
            failure = transport.start(
                job, "GET", target, plain.base, plain.extra, plain.watchdog, safe_url
            )
        else:
            if request is None:
                prepared = config.__dict__["_plain_get"] = config._prepare("GET", job.target)
            else:
                prepared = config._prepare(
                    request.method, job.target, request.headers, request.data, request.json
                )
            failure = transport.start(job, *prepared)
    except CurlError as error:
        failure = error
    if failure is None:
        return None
    if isinstance(failure, InvalidOperation | InvalidRequest):
        _located(failure, job.method, job.target)  # say which request it refused
    return Result(job.url, None, failure, job.attempts, time.monotonic() - job.started)


def _finish(job: _Job, attempt: Response | CurlError) -> Result | None:
    """The Result for a finished attempt, or None when its policy retries it (after
    `job.delay` seconds)."""
    policy = job.policy
    if policy is not None:
        step = policy.step(attempt, job.method, job.url)
        if step.retry is not None:
            job.policy, job.delay = step.retry, step.delay
            return None
        if step.result is not None:
            attempt = step.result  # type: ignore[assignment]
    if isinstance(attempt, Response):
        return Result(job.url, attempt, None, job.attempts, _since(job))
    return Result(job.url, None, attempt, job.attempts, _since(job))


def _since(job: _Job) -> float:
    return time.monotonic() - job.started
