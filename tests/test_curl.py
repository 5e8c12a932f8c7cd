"""The pycurl boundary on real transfers: typed handles, translating(), multi and callbacks."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator

import pycurl
import pytest
from pytest_httpserver import HTTPServer
from support.raw import closed_port

import curlx
from curlx import CurlCode, MultiCode, RetryKind


@pytest.fixture
def closed_url() -> str:
    """A loopback URL whose port nothing listens on."""
    return f"http://127.0.0.1:{closed_port()}/path"


@pytest.fixture
def handle() -> Iterator[curlx.Curl]:
    c = curlx.Curl()
    c.setopt(pycurl.TIMEOUT_MS, 5000)
    c.setopt(pycurl.CONNECTTIMEOUT_MS, 2000)
    yield c
    c.close()


def test_refused_connection_is_typed_with_context(handle: curlx.Curl, closed_url: str) -> None:
    handle.setopt(pycurl.URL, closed_url.replace("http://", "http://bob:hunter2@"))
    with pytest.raises(curlx.ConnectError) as caught:
        handle.perform()
    error = caught.value
    assert type(error) is curlx.CouldntConnect
    assert error.code is CurlCode.COULDNT_CONNECT and error.args[0] == 7
    assert error.errno == 111  # ECONNREFUSED from the OS, not the curl code
    assert error.url == closed_url and error.method == "GET"
    assert error.retry.kind is RetryKind.SAFE and error.retryable
    assert error.info is not None and error.info.os_errno == 111
    assert "hunter2" not in str(error) + repr(error) + error.explain()
    assert isinstance(error.__cause__, pycurl.error)
    assert str(error).startswith(f"COULDNT_CONNECT (curl error 7) for GET {closed_url}: ")


def test_handle_keeps_working_after_an_error(
    handle: curlx.Curl, closed_url: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/ok").respond_with_data("fine")
    handle.setopt(pycurl.URL, closed_url)
    with pytest.raises(curlx.CouldntConnect):
        handle.perform()
    handle.setopt(pycurl.URL, httpserver.url_for("/ok"))
    assert handle.perform_rb() == b"fine"
    assert handle.getinfo(pycurl.RESPONSE_CODE) == 200


def test_error_keeps_the_context_of_its_own_transfer(
    handle: curlx.Curl, closed_url: str, httpserver: HTTPServer
) -> None:
    """The info is a snapshot: reusing the handle afterwards does not change the error."""
    handle.setopt(pycurl.URL, closed_url)
    with pytest.raises(curlx.CouldntConnect) as caught:
        handle.perform()
    httpserver.expect_request("/ok").respond_with_data("fine")
    handle.setopt(pycurl.URL, httpserver.url_for("/ok"))
    handle.perform_rb()
    assert caught.value.url == closed_url
    assert caught.value.info is not None and caught.value.info.response_code == 0


def test_translating_as_context_manager_on_a_raw_pycurl_handle(closed_url: str) -> None:
    raw = pycurl.Curl()
    raw.setopt(pycurl.URL, closed_url)
    raw.setopt(pycurl.TIMEOUT_MS, 2000)
    try:
        with pytest.raises(curlx.CouldntConnect) as caught, curlx.translating(raw):
            raw.perform()
        assert type(caught.value.__cause__) is pycurl.error
        assert caught.value.url == closed_url
    finally:
        raw.close()


def test_translating_as_decorator() -> None:
    @curlx.translating()
    def fetch() -> None:
        c = pycurl.Curl()
        try:
            c.setopt(pycurl.URL, "http://nonexistent.invalid/")
            c.setopt(pycurl.TIMEOUT_MS, 5000)
            c.perform()
        finally:
            c.close()

    with pytest.raises(curlx.DNSError) as caught:
        fetch()
    assert caught.value.code is CurlCode.COULDNT_RESOLVE_HOST


def test_translating_leaves_other_exceptions_alone() -> None:
    with pytest.raises(KeyError), curlx.translating():
        raise KeyError("x")


def test_closed_handle_gives_a_usage_error_not_a_network_error() -> None:
    c = curlx.Curl()
    c.close()
    with pytest.raises(curlx.InvalidOperation) as caught:
        c.perform()
    assert caught.value.args == ("cannot invoke perform() - no curl handle",)
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, pycurl.error)
    assert not isinstance(caught.value, curlx.NetworkError)
    assert "no curl handle" in str(caught.value)


def test_refused_option_value_is_typed(handle: curlx.Curl) -> None:
    with pytest.raises(curlx.BadFunctionArgument) as caught:
        handle.setopt(pycurl.SSLVERSION, 9999)
    assert caught.value.retry.kind is RetryKind.NEVER
    assert isinstance(caught.value, ValueError)


def test_exception_in_write_callback_propagates_as_itself(
    handle: curlx.Curl, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/body").respond_with_data("x" * 1000)

    def write(data: bytes) -> None:
        raise ZeroDivisionError("from the callback")

    handle.setopt(pycurl.URL, httpserver.url_for("/body"))
    handle.setopt(pycurl.WRITEFUNCTION, write)
    with pytest.raises(ZeroDivisionError, match="from the callback") as caught:
        handle.perform()
    context = caught.value.__context__
    assert isinstance(context, curlx.WriteError) and context.code == 23


def test_exception_in_a_file_like_writedata_propagates(
    handle: curlx.Curl, httpserver: HTTPServer
) -> None:
    class Sink(io.RawIOBase):
        def write(self, data: object) -> int:
            raise OSError("disk gone")

    httpserver.expect_request("/body").respond_with_data("x" * 10)
    handle.setopt(pycurl.URL, httpserver.url_for("/body"))
    handle.setopt(pycurl.WRITEDATA, Sink())
    with pytest.raises(OSError, match="disk gone"):
        handle.perform()


def test_exception_in_debug_callback_is_not_lost(
    handle: curlx.Curl, httpserver: HTTPServer
) -> None:
    """libcurl cannot stop on a debug callback; the exception is raised once perform ends."""
    httpserver.expect_request("/ok").respond_with_data("fine")

    def debug(kind: int, data: bytes) -> None:
        raise LookupError("debug failed")

    handle.setopt(pycurl.URL, httpserver.url_for("/ok"))
    handle.setopt(pycurl.VERBOSE, 1)
    handle.setopt(pycurl.DEBUGFUNCTION, debug)
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    with pytest.raises(LookupError, match="debug failed"):
        handle.perform()
    handle.setopt(pycurl.VERBOSE, 0)
    assert handle.perform_rb() == b"fine"  # nothing left over from the last transfer


def test_multi_reports_typed_failures_that_still_unpack(
    closed_url: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/ok").respond_with_data("fine")
    multi = curlx.CurlMulti()
    good, bad = curlx.Curl(), curlx.Curl()
    for c, url in ((good, httpserver.url_for("/ok")), (bad, closed_url)):
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.TIMEOUT_MS, 5000)
        c.setopt(pycurl.WRITEFUNCTION, lambda data: None)
        multi.add_handle(c)
    try:
        with pytest.raises(curlx.MultiAddedAlready, match="already on this multi-stack"):
            multi.add_handle(good)  # pycurl refuses this itself; typed as libcurl would
        with pytest.raises(curlx.MultiBadSocket) as caught:
            multi.assign(12345, None)
        assert caught.value.code is MultiCode.BAD_SOCKET and caught.value.args[0] == 5
        assert not isinstance(caught.value, curlx.CouldntResolveProxy)  # easy 5 differs
        assert str(caught.value).endswith("See: curlx explain CURLM_BAD_SOCKET")
        ok_all: list[pycurl.Curl] = []
        failed: list[curlx.TransferFailure] = []
        running = 2
        while running:
            multi.select(1.0)
            _, running = multi.perform()
            _, ok_list, err_list = multi.info_read()
            ok_all += ok_list
            failed += err_list
        assert ok_all == [good]
        assert len(failed) == 1
        handle, code, message = failed[0]
        assert handle is bad and code == 7 and "connect" in message.lower()
        error = failed[0].error
        assert isinstance(error, curlx.CouldntConnect) and error.url == closed_url
    finally:
        for c in (good, bad):
            multi.remove_handle(c)
            c.close()
        multi.close()


def test_handles_sharing_a_cache_both_work(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ok").respond_with_data("fine")
    share = curlx.CurlShare()
    share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_DNS)
    handles = [curlx.Curl(), curlx.Curl()]
    try:
        for c in handles:
            c.setopt(pycurl.SHARE, share)
            c.setopt(pycurl.URL, httpserver.url_for("/ok"))
            c.setopt(pycurl.TIMEOUT_MS, 5000)
        assert [c.perform_rb() for c in handles] == [b"fine", b"fine"]
    finally:
        for c in handles:
            c.close()
        share.close()


def test_an_errors_info_outlives_its_handle_dropped_unclosed(closed_url: str) -> None:
    handle = curlx.Curl()
    handle.setopt(pycurl.URL, closed_url)
    handle.setopt(pycurl.TIMEOUT_MS, 2000)
    with pytest.raises(curlx.CouldntConnect) as caught:
        handle.perform()
    error = caught.value
    del handle, caught  # never closed: its last error is frozen as it goes
    gc.collect()
    assert error.info is not None and error.info.os_errno == 111
    assert error.url == closed_url and error.method == "GET"
