"""AsyncSession on real loopback servers, on asyncio's loop and on uvloop's (see conftest).

The same keywords, Response and typed errors as Session; retries that never block the loop;
limits; cancellation that removes the transfer at once and leaks nothing; aclose() with
requests in flight; misuse (after close, from another loop) refused with a sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pycurl
import pytest
from support.http import Exchange, HTTPApp, Reply, Request
from support.lab import Lab
from support.measure import open_fds, rss_kib
from support.polling import until
from support.raw import (
    ConnectStall,
    RawServer,
    closed_port,
    drain,
    ok_response,
    respond,
    respond_then_stall,
)
from test_reuse_matrix import (
    MODES,
    POST_BODY,
    SAFE,
    SITUATIONS,
    TIMEOUT,
    Situation,
    Target,
    _check,
    _expect,
    _other_failure,
    _posted_once_at_most,
)

import curlx

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

FAST = curlx.Timeout(connect=2.0, read=5.0, total=10.0)


def _app(reply: Reply | None = None) -> HTTPApp:
    def answer(request: Request, exchange: Exchange) -> Reply:
        if reply is not None:
            return reply
        body = json.dumps(
            {
                "method": request.method,
                "path": request.path,
                "body": request.body.decode(),
                "headers": {name.lower(): value for name, value in request.headers},
            }
        ).encode()
        return Reply(200, body, [("Content-Type", "application/json"), ("Set-Cookie", "k=v")])

    return HTTPApp(answer)


@pytest.fixture
def app() -> Iterator[HTTPApp]:
    with _app() as server:
        yield server


async def test_get_post_and_the_response_as_session_gives_it(app: HTTPApp) -> None:
    async with curlx.AsyncSession(headers={"X-Team": "a"}, timeout=FAST) as s:
        r = await s.get(app.url("/one"), params={"q": "1"})
        assert r.status_code == 200 and r.ok
        seen = r.json()
        assert seen["method"] == "GET" and seen["path"] == "/one"
        assert seen["headers"]["x-team"] == "a"
        assert r.headers["content-type"] == "application/json"
        assert r.url == app.url("/one?q=1")
        assert r.info.primary_ip == "127.0.0.1"
        posted = (await s.post(app.url("/p"), json={"a": 1}, headers={"X-Team": "b"})).json()
        assert posted["method"] == "POST" and posted["body"] == '{"a":1}'
        assert posted["headers"]["x-team"] == "b"
        assert (await s.put(app.url("/p"), data=b"raw")).json()["body"] == "raw"
        assert (await s.delete(app.url("/d"))).json()["method"] == "DELETE"
        assert (await s.patch(app.url("/d"), data="t")).json()["method"] == "PATCH"
        assert (await s.options(app.url("/d"))).json()["method"] == "OPTIONS"
        assert (await s.head(app.url("/d"))).content == b""
        assert (await s.request("PROPFIND", app.url("/d"))).json()["method"] == "PROPFIND"
        assert s.cookies == {"k": "v"}
        # The cookie a server set goes back, from whichever slot sends the next request.
        sent = await asyncio.gather(*(s.get(app.url(f"/c{i}")) for i in range(5)))
        assert all(r.json()["headers"].get("cookie") == "k=v" for r in sent)
    with curlx.Session(headers={"X-Team": "a"}, timeout=FAST) as sync:
        same = sync.get(app.url("/one"), params={"q": "1"})
    assert (same.status_code, same.headers, same.content) == (r.status_code, r.headers, r.content)


async def test_many_at_once_reuse_connections(app: HTTPApp) -> None:
    async with curlx.AsyncSession(timeout=FAST, max_connections=4) as s:
        for _ in range(3):
            done = await asyncio.gather(*(s.get(app.url(f"/{i}")) for i in range(20)))
            assert [r.json()["path"] for r in done] == [f"/{i}" for i in range(20)]
    assert app.connections <= 4


async def test_settings_are_the_sessions_and_checked_alike(app: HTTPApp) -> None:
    s = curlx.AsyncSession()
    s.timeout = 3  # converted, as Session converts it
    assert s.timeout == curlx.Timeout.of(3)
    s.headers = {"X-A": "1"}
    assert isinstance(s.headers, curlx.Headers)
    with pytest.raises(curlx.InvalidSetting, match="max_connections=0"):
        curlx.AsyncSession(max_connections=0)
    with pytest.raises(curlx.InvalidRequest, match="CR"):
        await s.get(app.url("/x"), headers={"X-Bad": "a\r\nb"})
    with pytest.raises(curlx.UnsupportedProtocol):
        await s.get("file:///etc/passwd")
    assert (await s.get(app.url("/x"))).json()["headers"]["x-a"] == "1"
    await s.aclose()


async def test_failures_are_typed_and_each_its_own_instance() -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    async with curlx.AsyncSession(timeout=FAST) as s:
        errors = await asyncio.gather(*(s.get(url) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(e, curlx.CouldntConnect) for e in errors)
    assert len({id(e) for e in errors}) == 5
    first = errors[0]
    assert isinstance(first, curlx.CurlError)
    assert first.retry.kind is SAFE and first.url == url and first.method == "GET"
    assert first.info is not None and first.info.request_sent is False


async def test_a_certificate_the_session_does_not_trust(lab: Lab) -> None:
    server = lab.https(respond(ok_response()))
    async with curlx.AsyncSession(timeout=FAST) as s:
        with pytest.raises(curlx.CertificateError) as caught:
            await s.get(server.url("/x", scheme="https"))
        assert caught.value.info is not None and caught.value.info.request_sent is False
        r = await s.get(server.url("/x", scheme="https"), verify=str(lab.pki.ca_file))
        assert r.content == b"hello"


# --- the reused-connection matrix, through AsyncSession -----------------------------------

ASYNC_SITUATIONS = {"refused", "tls-handshake-stall", "stall-before-headers", "reset-mid-body"}
CELLS = [
    pytest.param(situation, mode, id=f"{situation.name}-{mode}")
    for situation in SITUATIONS
    if situation.name in ASYNC_SITUATIONS
    for mode in MODES
    if mode != "after-failure" or situation.name == "reset-mid-body"
]


@pytest.mark.parametrize(("situation", "mode"), CELLS)
async def test_matrix(situation: Situation, mode: str) -> None:
    with contextlib.ExitStack() as stack:
        target: Target = situation.start(stack, mode)
        async with curlx.AsyncSession(timeout=TIMEOUT, **target.options) as s:
            if mode != "fresh":
                assert (await s.get(target.ok_url)).content == b"ok"
            if mode == "after-failure":
                with pytest.raises(curlx.CurlError):
                    await s.get(_other_failure(stack, situation.fresh))
            expect = _expect(situation, mode)
            retry = curlx.Retry(total=2, backoff_factor=0)
            with pytest.raises(curlx.CurlError) as caught:
                await s.post(target.fault_url, data=POST_BODY, retry=retry)
            error = _check(caught.value, expect, mode, target)
            _posted_once_at_most(target, expect)
            assert len(error.history) == (3 if expect.retry is SAFE else 1)
            kept = error.info
            assert (await s.get(target.ok_url)).content == b"ok"  # the session goes on
            assert error.info == kept


async def test_a_body_that_stops_moving_ends_by_the_read_limit(lab: Lab) -> None:
    """The no-progress limit is the waiter's to watch (no progress callback): a body that
    stops half-way is a ReadTimeout about `read` seconds later, the others unaffected."""
    server = lab.raw(respond_then_stall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"))
    limits = curlx.Timeout(connect=2.0, read=0.3, total=10.0)
    async with curlx.AsyncSession(timeout=limits) as s:
        started = time.monotonic()
        stalled, fine = await asyncio.gather(
            s.get(server.url("/stall")), s.get(lab.app().url("/fine")), return_exceptions=True
        )
        took = time.monotonic() - started
    assert isinstance(fine, curlx.Response) and fine.status_code == 200
    assert isinstance(stalled, curlx.ReadTimeout), repr(stalled)
    assert "no data moved for 0.3 seconds" in str(stalled)
    assert 0.3 <= took < 2.0


# --- retries ----------------------------------------------------------------------------------


async def test_retries_wait_without_blocking_the_loop() -> None:
    calls: list[float] = []

    def flaky(request: Request, exchange: Exchange) -> Reply:
        calls.append(time.monotonic())
        if request.path == "/flaky" and len(calls) < 3:
            return Reply(503, b"busy", [("Retry-After", "0")])
        return Reply(200, b"fine")

    with HTTPApp(flaky) as server:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        policy = curlx.Retry(total=3, backoff_factor=0.15)
        async with curlx.AsyncSession(timeout=FAST, retry=policy) as s:
            tick = asyncio.ensure_future(ticker())
            started = time.monotonic()
            r = await s.get(server.url("/flaky"))
            waited = time.monotonic() - started
            tick.cancel()
        assert r.status_code == 200 and r.content == b"fine"
        assert waited >= 0.15 + 0.3 * 0.9
        assert ticks >= 10, "the loop ran other tasks while the retry waited"


# --- limits -----------------------------------------------------------------------------------


async def test_max_connections_and_per_host_limit_what_runs_at_once(lab: Lab) -> None:
    busy = 0
    most = 0
    lock = threading.Lock()

    def slow(request: Request, exchange: Exchange) -> Reply:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        time.sleep(0.05)
        with lock:
            busy -= 1
        return Reply(200, b"ok")

    server = lab.app(slow)
    async with curlx.AsyncSession(timeout=FAST, max_connections=3) as s:
        await asyncio.gather(*(s.get(server.url(f"/{i}")) for i in range(12)))
    assert most == 3 and server.connections == 3
    most = 0
    async with curlx.AsyncSession(timeout=FAST, max_connections_per_host=2) as s:
        await asyncio.gather(*(s.get(server.url(f"/{i}")) for i in range(12)))
    assert most == 2


async def test_a_waiting_request_keeps_its_turn(app: HTTPApp) -> None:
    """A task that sends its next request as soon as one returns does not take the slot
    promised to a request that was waiting for it."""
    async with curlx.AsyncSession(timeout=FAST, max_connections=1) as s:

        async def one_after_another(name: str) -> list[str]:
            return [(await s.get(app.url(f"/{name}{i}"))).json()["path"] for i in range(10)]

        paths = await asyncio.gather(*(one_after_another(n) for n in "abc"))
    assert paths == [[f"/{n}{i}" for i in range(10)] for n in "abc"]


# --- cancellation -------------------------------------------------------------------------


async def test_cancelling_removes_the_transfer_at_once_and_the_session_goes_on(
    app: HTTPApp,
) -> None:
    with RawServer(drain) as silent:  # reads the request, never answers
        async with curlx.AsyncSession(timeout=FAST, max_connections=1) as s:
            task = asyncio.ensure_future(s.get(silent.url("/never")))
            waiter = asyncio.ensure_future(s.get(app.url("/after")))  # waits for the one slot
            await until(lambda: silent.open_connections == 1, "the first request is in flight")
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await waiter).json()["path"] == "/after"  # the freed slot served it
            assert time.monotonic() - started < 1.0
            with pytest.raises(asyncio.TimeoutError):  # TimeoutError itself from 3.11 on
                await asyncio.wait_for(s.get(silent.url("/never")), 0.1)
            if sys.version_info >= (3, 11):
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await s.get(silent.url("/never"))
            assert (await s.get(app.url("/again"))).status_code == 200


def _easy_handles() -> int:
    gc.collect()
    return sum(isinstance(thing, pycurl.Curl) for thing in gc.get_objects())


async def _quiet(server: RawServer | None) -> None:
    """Until the server has closed every connection the cancelled requests left (each
    handler ends when it reads the client's close)."""
    if server is None:
        return
    for _ in range(500):
        if server.open_connections == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{server.open_connections} connections still open on the server")


@pytest.mark.parametrize("where", ["connecting", "awaiting-the-response"])
async def test_a_thousand_cancelled_requests_leak_nothing(app: HTTPApp, where: str) -> None:
    with contextlib.ExitStack() as stack:
        if where == "connecting":
            url = stack.enter_context(ConnectStall()).url("/x")
            server = None
        else:
            server = stack.enter_context(RawServer(drain))  # reads, never answers
            url = server.url("/x")
        async with curlx.AsyncSession(timeout=FAST, max_connections=10) as s:

            async def cancel_some(count: int) -> None:
                for _ in range(count // 10):
                    tasks = [asyncio.ensure_future(s.get(url)) for _ in range(10)]
                    await asyncio.sleep(0.001)
                    for _ in range(1000):  # the server has them all: each waits for its answer
                        if server is None or server.open_connections >= 10:
                            break
                        await asyncio.sleep(0.001)
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)

            await cancel_some(100)  # warm up: every slot made, allocator settled
            assert (await s.get(app.url("/ok"))).status_code == 200
            await _quiet(server)
            fds, handles, rss = open_fds(), _easy_handles(), rss_kib()
            await cancel_some(1000)
            assert (await s.get(app.url("/ok"))).status_code == 200
            await _quiet(server)
            assert open_fds() <= fds + 2
            assert _easy_handles() == handles
            assert rss_kib() - rss < 8 * 1024, "RSS roughly flat"


# --- closing, misuse ----------------------------------------------------------------------


async def test_aclose_with_requests_in_flight(app: HTTPApp) -> None:
    with RawServer(drain) as silent:
        s = curlx.AsyncSession(timeout=FAST, max_connections=2)
        running = [asyncio.ensure_future(s.get(silent.url(f"/{i}"))) for i in range(4)]
        await until(lambda: silent.open_connections == 2, "two run (two wait for a slot)")
        started = time.monotonic()
        await s.aclose()
        assert time.monotonic() - started < 0.5
        outcomes = await asyncio.gather(*running, return_exceptions=True)
        assert all(isinstance(e, curlx.InvalidOperation) for e in outcomes), outcomes
        assert "closed while this request ran" in str(outcomes[0])
        with pytest.raises(curlx.InvalidOperation, match="has been closed") as caught:
            await s.get(app.url("/late"))
        assert caught.value.url == app.url("/late")
        await s.aclose()  # again: nothing


async def test_a_second_event_loop_is_refused(app: HTTPApp) -> None:
    s = curlx.AsyncSession(timeout=FAST)
    assert (await s.get(app.url("/here"))).status_code == 200
    seen: list[BaseException] = []

    def elsewhere() -> None:
        try:
            asyncio.run(s.get(app.url("/there")))
        except BaseException as exc:
            seen.append(exc)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(10)
    assert isinstance(seen[0], curlx.InvalidOperation)
    assert "event loop of its first request" in str(seen[0])
    assert (await s.get(app.url("/here"))).status_code == 200
    await s.aclose()


async def test_the_async_clients_keywords_and_defaults_are_the_sync_ones() -> None:
    """One set of keywords, written twice (each client's signature): they must agree."""

    def keywords(function: Any, leave_out: set[str]) -> dict[str, Any]:
        return {
            name: parameter.default
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in leave_out
        }

    own = {"max_connections", "max_connections_per_host"}
    assert keywords(curlx.AsyncSession.__init__, own) == keywords(
        curlx.Session.__init__, {"_cookie_engine"}
    )
    assert keywords(curlx.AsyncSession.request, set()) == keywords(curlx.Session.request, set())
