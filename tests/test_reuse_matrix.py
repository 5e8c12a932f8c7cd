"""The phase matrix: every refinement curlx makes, on fresh, reused and previously failed handles.

Each situation is a real fault on loopback. Each runs three ways: on a fresh handle (`fresh`);
after a successful keep-alive request on the same handle, so an HTTP fault happens on the
reused connection (`reused`); and after that, a failure of another kind on the same handle,
then the fault, still on the kept connection where there is one (`after-failure`). Each goes
through every entry point: `curlx.Curl`, a raw `pycurl.Curl` under `curlx.translating`, a
`Session`, `curlx.get`/`curlx.post` and `fetch_many`.

Checked in every cell: the class, the category and the retry hint; the facts in `.info` belong
to the failing transfer (request bytes sent or not, reused connection, no errno of an earlier
failure); and, with a `Retry` policy, a POST is never sent twice when it may have reached the
server (the fault server counts the requests it received).
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pycurl
import pytest
from support.h2 import H2Responder
from support.http import Exchange, ForwardProxy, HTTPApp, Reply, Request, serialize
from support.raw import (
    ConnectStall,
    RawServer,
    closed_port,
    reset,
    reset_after_request,
)

import curlx
from curlx import RetryKind

SAFE, IDEMPOTENT, NEVER = RetryKind.SAFE, RetryKind.IDEMPOTENT, RetryKind.NEVER
CONNECT_S = 0.3  # connect and TLS phase limit
TOTAL_S = 0.6  # whole-transfer limit: ends every stall after the request was sent
TIMEOUT = curlx.Timeout(connect=CONNECT_S, read=5.0, total=TOTAL_S)
OK_BODY = b"ok"
POST_BODY = b"pay=1"

# --- the servers ------------------------------------------------------------------------------

Fault = Callable[[socket.socket, RawServer], None]


class KeepAliveFaults:
    """An HTTP/1.1 `HTTPApp` that keeps connections alive: `/ok` gets a 200, `/fault` the fault
    (run on the raw socket once the request was read).

    It counts the `/fault` requests it received (the request arrived in full), so a test can
    tell whether a POST was sent again.
    """

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.server = HTTPApp(self._answer)

    @property
    def faults_received(self) -> int:
        return sum(1 for request in self.server.requests if request.path == "/fault")

    def _answer(self, request: Request, exchange: Exchange) -> Reply | None:
        if request.path == "/fault":
            self.fault(exchange.sock, exchange.server)
            return None
        reply = Reply(200, OK_BODY)
        if (request.header("connection") or "").lower() == "close":  # as a forwarding proxy asks
            exchange.sock.sendall(serialize(reply))
            return None
        return reply

    def url(self, path: str) -> str:
        return self.server.url(path)


def stall(sock: socket.socket, server: RawServer) -> None:
    server.stopping.wait(10)


def stall_mid_body(sock: socket.socket, server: RawServer) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
    server.stopping.wait(10)


def slow_drip(sock: socket.socket, server: RawServer) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nx")
    while not server.stopping.wait(0.05):
        sock.sendall(b"x")


def reset_mid_body(sock: socket.socket, server: RawServer) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
    reset(sock)


def garbage(sock: socket.socket, server: RawServer) -> None:
    sock.sendall(b"GARBAGE STATUS LINE\r\n\r\n")
    sock.shutdown(socket.SHUT_WR)


def status_503(sock: socket.socket, server: RawServer) -> None:
    sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
    server.stopping.wait(10)


# --- the situations ---------------------------------------------------------------------------


@dataclass
class Target:
    """Where one cell sends its requests, and what it sends them through."""

    ok_url: str  # answers 200 on a connection kept alive (the `reused` preparation)
    fault_url: str
    options: dict[str, Any] = field(default_factory=dict)  # Session keywords
    curl_options: list[tuple[int, Any]] = field(default_factory=list)
    received: Callable[[], int] = lambda: 0  # requests the faulty peer received
    reuses: bool = True  # the fault happens on the connection `ok_url` kept alive


@dataclass(frozen=True)
class Expect:
    cls: type[curlx.CurlError]
    retry: RetryKind
    sent: bool  # the request reached the server (so a POST must not be sent again)
    errno: int | None = None  # the OS error of this very failure


@dataclass(frozen=True)
class Situation:
    name: str
    start: Callable[[contextlib.ExitStack, str], Target]  # (servers, mode)
    fresh: Expect
    reused: Expect | None = None  # when it differs from `fresh`


def _faults(fault: Fault) -> Callable[[contextlib.ExitStack, str], Target]:
    def start(stack: contextlib.ExitStack, mode: str) -> Target:
        peer = KeepAliveFaults(fault)
        stack.enter_context(peer.server)
        return Target(peer.url("/ok"), peer.url("/fault"), received=lambda: peer.faults_received)

    return start


def _good(stack: contextlib.ExitStack) -> KeepAliveFaults:
    peer = KeepAliveFaults(stall)
    stack.enter_context(peer.server)
    return peer


def _refused(stack: contextlib.ExitStack, mode: str) -> Target:
    return Target(_good(stack).url("/ok"), f"http://127.0.0.1:{closed_port()}/fault", reuses=False)


def _connect_stall(stack: contextlib.ExitStack, mode: str) -> Target:
    stall_port = stack.enter_context(ConnectStall())
    return Target(_good(stack).url("/ok"), stall_port.url("/fault"), reuses=False)


def _tls_stall(stack: contextlib.ExitStack, mode: str) -> Target:
    peer = stack.enter_context(RawServer(stall))  # accepts, reads the ClientHello, says nothing
    return Target(
        _good(stack).url("/ok"),
        peer.url("/fault", scheme="https"),
        reuses=False,
        received=lambda: 0,
    )


def _proxy_refused(stack: contextlib.ExitStack, mode: str) -> Target:
    proxy = stack.enter_context(ForwardProxy(refuse_connect=True))
    good = _good(stack)
    return Target(
        good.url("/ok"),  # plain HTTP through the proxy: it forwards, keep-alive
        f"https://127.0.0.1:{closed_port()}/fault",  # a tunnel the proxy refuses (403)
        options={"proxy": proxy.proxy_url()},
        curl_options=[(pycurl.PROXY, proxy.proxy_url())],
        received=lambda: sum(1 for r in proxy.records if r.method == "CONNECT"),
        reuses=False,
    )


def _h2_stall(stack: contextlib.ExitStack, mode: str) -> Target:
    """The stream of the faulty request is never answered; the one before it (if any) is."""
    answered = 0 if mode == "fresh" else 1
    peer = H2Responder(OK_BODY, silent=answered + 1)
    server = stack.enter_context(RawServer(peer))
    return Target(
        server.url("/ok"),
        server.url("/fault"),
        options={"http_version": "2-prior-knowledge"},
        curl_options=[(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)],
        received=lambda: peer.requests - answered,
    )


READ_TIMEOUT = Expect(curlx.ReadTimeout, IDEMPOTENT, sent=True)
SITUATIONS = [
    Situation("refused", _refused, Expect(curlx.CouldntConnect, SAFE, False, errno.ECONNREFUSED)),
    Situation("connect-timeout", _connect_stall, Expect(curlx.ConnectTimeout, SAFE, sent=False)),
    Situation("tls-handshake-stall", _tls_stall, Expect(curlx.ConnectTimeout, SAFE, sent=False)),
    Situation("stall-before-headers", _faults(stall), READ_TIMEOUT),
    Situation("stall-mid-body", _faults(stall_mid_body), READ_TIMEOUT),
    Situation("slow-drip", _faults(slow_drip), READ_TIMEOUT),
    Situation(
        "reset-mid-body",
        _faults(reset_mid_body),
        Expect(curlx.RecvError, IDEMPOTENT, True, errno.ECONNRESET),
    ),
    Situation(
        "garbage-status-line",
        _faults(garbage),
        Expect(curlx.NotHTTPResponse, NEVER, sent=True),
        # On a connection that already spoke HTTP/1.1 libcurl reports a weird reply (8).
        reused=Expect(curlx.WeirdServerReply, IDEMPOTENT, sent=True),
    ),
    Situation(
        "proxy-connect-refused",
        _proxy_refused,
        Expect(curlx.ProxyTunnelRefused, NEVER, sent=False),
    ),
    Situation("h2-stream-stall", _h2_stall, READ_TIMEOUT),
]
MODES = ["fresh", "reused", "after-failure"]


def _expect(situation: Situation, mode: str) -> Expect:
    if mode != "fresh" and situation.reused is not None:
        return situation.reused
    return situation.fresh


def _check(error: BaseException, expect: Expect, mode: str, target: Target) -> curlx.CurlError:
    """The invariants of every cell."""
    assert isinstance(error, curlx.CurlError), repr(error)
    assert type(error) is expect.cls, f"{type(error).__name__}: {error!r}"
    assert error.code is not None
    assert isinstance(error, curlx.error_class(error.code)), "the per-code class catches it"
    assert error.retry.kind is expect.retry, (error.retry, error)
    info = error.info
    assert info is not None
    assert info.request_sent is expect.sent, info
    if expect.sent and mode != "fresh" and target.reuses:
        assert info.connection_reused, info
    assert error.errno == expect.errno, "the OS errno is this failure's, never an earlier one's"
    assert "/fault" in (error.url or ""), error.url
    return error


# --- the entry points -----------------------------------------------------------------------


def _curl_transfer(handle: pycurl.Curl, url: str, target: Target, post: bool = False) -> bytes:
    chunks: list[bytes] = []
    handle.reset()
    handle.setopt(pycurl.URL, url)
    handle.setopt(pycurl.CONNECTTIMEOUT_MS, int(CONNECT_S * 1000))
    handle.setopt(pycurl.TIMEOUT_MS, int(TOTAL_S * 1000))
    handle.setopt(pycurl.WRITEFUNCTION, chunks.append)
    if post:
        handle.setopt(pycurl.POSTFIELDS, POST_BODY)
    for option, value in target.curl_options:
        handle.setopt(option, value)
    handle.perform()
    return b"".join(chunks)


def _other_failure(stack: contextlib.ExitStack, expect: Expect) -> str:
    """A URL that fails in another way than the situation: a refused connection (it leaves an
    OS errno behind) before a fault after sending, and a request sent then reset (it leaves
    request bytes counted) before a fault where nothing is sent."""
    if expect.sent:
        return f"http://127.0.0.1:{closed_port()}/other"
    return stack.enter_context(RawServer(reset_after_request)).url("/other")


def _prepare(
    stack: contextlib.ExitStack,
    situation: Situation,
    mode: str,
    target: Target,
    run: Callable[[str], object],
) -> None:
    """Bring the handle (or session, or pool) to `mode` before the faulty request."""
    if mode == "fresh":
        return
    assert run(target.ok_url) == OK_BODY
    if mode == "after-failure":
        with pytest.raises(curlx.CurlError):
            run(_other_failure(stack, situation.fresh))


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as servers:
        yield servers


CELLS = [
    pytest.param(situation, mode, id=f"{situation.name}-{mode}")
    for situation in SITUATIONS
    for mode in MODES
]


@pytest.mark.parametrize(("situation", "mode"), CELLS)
def test_curlx_curl(situation: Situation, mode: str, stack: contextlib.ExitStack) -> None:
    target = situation.start(stack, mode)
    handle = curlx.Curl()
    stack.callback(handle.close)
    _prepare(stack, situation, mode, target, lambda url: _curl_transfer(handle, url, target))
    with pytest.raises(curlx.CurlError) as caught:
        _curl_transfer(handle, target.fault_url, target, post=True)
    error = _check(caught.value, _expect(situation, mode), mode, target)
    assert error.method == "POST"
    assert curlx.is_retryable(error) is (error.retry.kind is SAFE)
    # The handle moves on: the error keeps its own transfer's facts.
    kept = error.info
    with contextlib.suppress(curlx.CurlError):
        _curl_transfer(handle, target.ok_url, target)
    assert error.info == kept


@pytest.mark.parametrize(("situation", "mode"), CELLS)
def test_translating_a_raw_handle(
    situation: Situation, mode: str, stack: contextlib.ExitStack
) -> None:
    target = situation.start(stack, mode)
    handle = pycurl.Curl()
    stack.callback(handle.close)

    def run(url: str, post: bool = False) -> bytes:
        with curlx.translating(handle):
            return _curl_transfer(handle, url, target, post)

    _prepare(stack, situation, mode, target, run)
    with pytest.raises(curlx.CurlError) as caught:
        run(target.fault_url, post=True)
    _check(caught.value, _expect(situation, mode), mode, target)


RETRY = curlx.Retry(total=2, backoff_factor=0)


def _posted_once_at_most(target: Target, expect: Expect) -> None:
    """A POST that may have reached the server was not sent again."""
    if expect.sent or expect.retry is NEVER:
        assert target.received() <= 1, target.received()


@pytest.mark.parametrize(("situation", "mode"), CELLS)
def test_session(situation: Situation, mode: str, stack: contextlib.ExitStack) -> None:
    target = situation.start(stack, mode)
    session = stack.enter_context(curlx.Session(timeout=TIMEOUT, **target.options))
    _prepare(stack, situation, mode, target, lambda url: session.get(url).content)
    expect = _expect(situation, mode)
    with pytest.raises(curlx.CurlError) as caught:
        session.post(target.fault_url, data=POST_BODY, retry=RETRY)
    error = _check(caught.value, expect, mode, target)
    _posted_once_at_most(target, expect)
    assert len(error.history) == (3 if expect.retry is SAFE else 1)
    assert error.history[0].kind == ("connect" if expect.retry is SAFE else "read")
    # The session goes on, and the error keeps its own facts.
    kept = error.info
    assert session.get(target.ok_url).content == OK_BODY
    assert error.info == kept


@pytest.mark.parametrize(("situation", "mode"), CELLS)
def test_module_level_functions(
    situation: Situation, mode: str, stack: contextlib.ExitStack
) -> None:
    target = situation.start(stack, mode)
    options = {"timeout": TIMEOUT, **target.options}
    _prepare(stack, situation, mode, target, lambda url: curlx.get(url, **options).content)
    expect = _expect(situation, mode)
    with pytest.raises(curlx.CurlError) as caught:
        curlx.post(target.fault_url, data=POST_BODY, retry=RETRY, **options)
    _check(caught.value, expect, mode, target)
    _posted_once_at_most(target, expect)


@pytest.mark.parametrize(("situation", "mode"), CELLS)
def test_fetch_many(situation: Situation, mode: str, stack: contextlib.ExitStack) -> None:
    target = situation.start(stack, mode)
    requests: list[str | curlx.Request] = []
    if mode != "fresh":
        requests.append(target.ok_url)
    if mode == "after-failure":
        requests.append(_other_failure(stack, situation.fresh))
    requests.append(curlx.Request(target.fault_url, method="POST", data=POST_BODY))
    results = list(
        curlx.fetch_many(requests, concurrency=1, timeout=TIMEOUT, retry=RETRY, **target.options)
    )
    assert len(results) == len(requests)
    by_url = {result.url: result for result in results}
    if mode != "fresh":
        ok = by_url[target.ok_url]
        assert ok.response is not None and ok.response.content == OK_BODY
    fault = next(result for result in results if "/fault" in result.url)
    assert fault.error is not None
    expect = _expect(situation, mode)
    _check(fault.error, expect, mode, target)
    _posted_once_at_most(target, expect)
