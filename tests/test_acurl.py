"""curlx.AsyncCurlMulti on real loopback servers, on asyncio's loop and on uvloop's: typed,
refined, redacted failures (as `translate` gives them), callback exceptions as themselves,
and pycurl's rough edges mended (each checked against pycurl's own class first)."""

from __future__ import annotations

import asyncio
import contextlib
import errno

import pycurl
import pytest
from support.lab import Lab
from support.polling import until
from support.raw import RawServer, closed_port, drain
from test_reuse_matrix import (
    SITUATIONS,
    TIMEOUT,
    Situation,
    Target,
    _check,
    _expect,
)

import curlx

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def handle(url: str, kind: type[pycurl.Curl] = curlx.Curl) -> pycurl.Curl:
    curl = kind()
    curl.setopt(pycurl.URL, url)
    curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(TIMEOUT.connect * 1000))  # type: ignore[operator]
    curl.setopt(pycurl.TIMEOUT_MS, int(TIMEOUT.total * 1000))  # type: ignore[operator]
    curl.setopt(pycurl.WRITEFUNCTION, lambda chunk: None)
    return curl


async def test_a_failure_is_the_error_translate_gives() -> None:
    url = f"http://user:s3cret@127.0.0.1:{closed_port()}/x"
    async with curlx.AsyncCurlMulti() as multi:
        assert isinstance(multi, pycurl.AsyncCurlMulti)
        with pytest.raises(curlx.CouldntConnect) as caught:
            await multi.perform(handle(url))
    error = caught.value
    sync = handle(url)
    with pytest.raises(pycurl.error) as raw:
        pycurl.Curl.perform(sync)
    expected = curlx.translate(raw.value, sync)
    assert type(error) is type(expected) and str(error) == str(expected)
    assert "s3cret" not in str(error) and "s3cret" not in repr(error)
    assert error.errno == errno.ECONNREFUSED and error.retry.kind is curlx.RetryKind.SAFE
    assert error.info is not None and error.info.request_sent is False


async def test_each_failure_is_its_own_instance_and_pycurl_handles_work_too() -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    async with curlx.AsyncCurlMulti() as multi:
        handles = [handle(url), handle(url, pycurl.Curl), handle(url)]
        futures = [multi.add_handle(curl) for curl in handles]
        errors = await asyncio.gather(*futures, return_exceptions=True)
    assert all(type(e) is curlx.CouldntConnect for e in errors)
    assert len({id(e) for e in errors}) == 3


async def test_a_callback_exception_comes_out_as_itself(lab: Lab) -> None:
    server = lab.app()
    curl = handle(server.url("/x"))

    def write(chunk: bytes) -> None:
        raise ValueError("my callback broke")

    curl.setopt(pycurl.WRITEFUNCTION, write)
    async with curlx.AsyncCurlMulti() as multi:
        with pytest.raises(ValueError, match="my callback broke") as caught:
            await multi.perform(curl)
        assert isinstance(caught.value.__context__, curlx.CurlError)
        curl.setopt(pycurl.WRITEFUNCTION, lambda chunk: None)
        assert await multi.perform(curl) is curl  # the handle goes on
        assert curl.getinfo(pycurl.RESPONSE_CODE) == 200


async def test_a_certificate_nobody_trusts(lab: Lab) -> None:
    server = lab.https(drain)
    async with curlx.AsyncCurlMulti() as multi:
        with pytest.raises(curlx.PeerFailedVerification) as caught:
            await multi.perform(handle(server.url("/x", scheme="https")))
    assert caught.value.info is not None and caught.value.info.request_sent is False


MATRIX = {"refused", "stall-before-headers", "reset-mid-body", "tls-handshake-stall"}
CELLS = [
    pytest.param(situation, mode, id=f"{situation.name}-{mode}")
    for situation in SITUATIONS
    if situation.name in MATRIX
    for mode in ("fresh", "reused")
]


@pytest.mark.parametrize(("situation", "mode"), CELLS)
async def test_matrix(situation: Situation, mode: str) -> None:
    """One reused handle on one multi handle: the fault on a fresh, or a kept-alive, connection."""
    with contextlib.ExitStack() as stack:
        target: Target = situation.start(stack, mode)
        async with curlx.AsyncCurlMulti() as multi:
            curl = handle(target.ok_url)
            if mode == "reused":
                await multi.perform(curl)
                assert curl.getinfo(pycurl.RESPONSE_CODE) == 200
            curl.setopt(pycurl.URL, target.fault_url)
            curl.setopt(pycurl.POSTFIELDS, b"pay=1")
            with pytest.raises(curlx.CurlError) as caught:
                await multi.perform(curl)
            _check(caught.value, _expect(situation, mode), mode, target)
            assert caught.value.method == "POST"
            curl.close()


# --- pycurl's rough edges -----------------------------------------------------------------


async def test_closing_a_curl_in_flight_fails_its_future() -> None:
    with RawServer(drain) as silent:
        async with curlx.AsyncCurlMulti() as multi:
            curl = handle(silent.url("/x"))
            future = multi.add_handle(curl)
            await until(lambda: silent.open_connections == 1, "the transfer reached the server")
            curl.close()  # pycurl's future would stay pending forever
            with pytest.raises(curlx.InvalidOperation, match="closed while its transfer ran"):
                await asyncio.wait_for(future, 2)


async def test_aclose_with_transfers_in_flight_fails_them_and_cancels_nobody() -> None:
    with RawServer(drain) as silent:
        multi = curlx.AsyncCurlMulti(close_handles=True)
        curls = [handle(silent.url(f"/{i}")) for i in range(3)]
        tasks = [asyncio.ensure_future(multi.perform(curl)) for curl in curls]
        await until(lambda: silent.open_connections == 3, "all three reached the server")
        await multi.aclose()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(e, curlx.InvalidOperation) for e in outcomes), outcomes
        assert not any(task.cancelled() for task in tasks)  # pycurl's cancels them
        assert len({id(e) for e in outcomes}) == 3
        for curl in curls:  # close_handles=True closed them (pycurl's leaves them open)
            with pytest.raises(pycurl.error, match="no curl handle"):
                curl.getinfo(pycurl.RESPONSE_CODE)
        await multi.aclose()  # again: nothing


async def test_a_multi_handle_failure_gives_each_future_its_own_error() -> None:
    """libcurl's socket_action fails only on a broken multi handle, which no loopback server
    can cause: the waiter's failure path is given pycurl's error directly."""
    with RawServer(drain) as silent:
        async with curlx.AsyncCurlMulti() as multi:
            futures = [multi.add_handle(handle(silent.url(f"/{i}"))) for i in range(3)]
            await until(lambda: silent.open_connections == 3, "all three reached the server")
            multi._fail_all_pending(pycurl.error(pycurl.E_MULTI_INTERNAL_ERROR, "broken"))
            errors = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(e, curlx.MultiError) for e in errors), errors
    assert len({id(e) for e in errors}) == 3


async def test_misuse_is_an_invalid_operation() -> None:
    multi = curlx.AsyncCurlMulti()
    curl = handle(f"http://127.0.0.1:{closed_port()}/x")
    with pytest.raises(curlx.InvalidOperation, match="not registered"):
        multi.remove_handle(curl)
    future = multi.add_handle(curl)
    with pytest.raises(curlx.InvalidOperation, match="already registered"):
        multi.add_handle(curl)
    with pytest.raises(curlx.CouldntConnect):
        await future
    await multi.aclose()
    with pytest.raises(curlx.InvalidOperation, match="closed"):
        multi.add_handle(curl)
