"""Faults × ways of asking: every broken peer ends in its exact typed error, in time.

Each fault is a real loopback peer that misbehaves on purpose (see `support.raw` and `support.h2`).
Every fault is tried through `curlx.get`, a `curlx.Session` and `curlx.fetch_many`, and each
time the test checks four things: the exact class and code, that the error arrived within the
limit that governs that fault plus `MARGIN` (measured with time.monotonic), that nothing hung,
and that the same Session (the pooled one for `curlx.get`, the same crawl for `fetch_many`)
then gets a healthy answer.

Observed class, code and time to error of every case are printed as a Markdown table when
the module ends (``pytest -s tests/test_faults.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.h2 import H2Responder, h2_garbage_after_preface
from support.http import HTTPApp
from support.lab import Lab
from support.raw import (
    ConnectStall,
    close_after_request,
    drip,
    endless_body,
    reset_after_request,
    respond,
    respond_and_reset,
    respond_then_stall,
    stall_after_request,
    tls_cut_after_hello,
)

import curlx

LIMITS = curlx.Timeout(connect=1, read=1, total=3)
"""The timeout of every fault request: no progress for 1 s, or 3 s in all, ends it."""
MARGIN = 1.5
"""Seconds an error may arrive after the limit that governs its fault: libcurl checks the
no-progress limit once a second (it re-arms a 1 s timer when the limit is a millisecond short),
so a read timeout can come up to a second late, plus scheduling slack."""
IMMEDIATE = 0.0
"""The limit of faults that need no timer: the peer's own behaviour ends the transfer."""

HEAD_1000 = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n"
HEAD_BIG = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nContent-Type: text/plain\r\n\r\n"


@dataclass(frozen=True)
class Fault:
    """One broken peer and what it must give."""

    name: str
    serve: Callable[[Lab], str]
    """Starts the peer in the lab; returns the URL to ask."""
    expected: type[curlx.CurlError]
    code: int
    limit: float
    """The configured limit (seconds) that must end this fault; IMMEDIATE if none is needed."""
    timeout: curlx.Timeout = LIMITS
    options: dict[str, Any] = field(default_factory=dict)


def raw(handler: Any, scheme: str = "http") -> Callable[[Lab], str]:
    return lambda lab: lab.raw(handler).url("/fault", scheme=scheme)


FAULTS = [
    Fault("reset before any byte", raw(reset_after_request), curlx.RecvError, 56, IMMEDIATE),
    Fault(
        "reset mid-headers",
        raw(respond_and_reset(b"HTTP/1.1 200 OK\r\nContent-Type: te")),
        curlx.RecvError,
        56,
        IMMEDIATE,
    ),
    Fault(
        "reset mid-body",
        raw(respond_and_reset(HEAD_1000 + b"y" * 10)),
        curlx.RecvError,
        56,
        IMMEDIATE,
    ),
    Fault("close before any byte", raw(close_after_request), curlx.GotNothing, 52, IMMEDIATE),
    Fault("stall before headers", raw(stall_after_request), curlx.ReadTimeout, 28, 1.0),
    Fault(
        "stall mid-body",
        raw(respond_then_stall(HEAD_BIG + b"y" * 100_000)),
        curlx.ReadTimeout,
        28,
        1.0,
    ),
    Fault("slow drip: 1 byte every 2 s", raw(drip(2.0)), curlx.ReadTimeout, 28, 1.0),
    Fault(
        "drip faster than read: 1 byte every 0.25 s",
        raw(drip(0.25)),
        curlx.ReadTimeout,
        28,
        2.0,
        timeout=curlx.Timeout(connect=1, read=1, total=2),
    ),
    Fault(
        "truncated chunked body",
        raw(respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")),
        curlx.PartialFile,
        18,
        IMMEDIATE,
    ),
    # libcurl reports a reply that is no HTTP/1.x status line as HTTP/0.9, refused: code 1.
    Fault(
        "garbage status line",
        raw(respond(b"GARBAGE STATUS LINE\r\n\r\n")),
        curlx.NotHTTPResponse,
        1,
        IMMEDIATE,
    ),
    Fault(
        "oversized header (200 KiB)",
        raw(respond(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200 * 1024 + b"\r\n\r\n")),
        curlx.TooLarge,
        100,
        IMMEDIATE,
    ),
    Fault(
        "endless body, max_size=100000",
        raw(endless_body()),
        curlx.FilesizeExceeded,
        63,
        IMMEDIATE,
        options={"max_size": 100_000},
    ),
    Fault(
        "invalid gzip",
        raw(
            respond(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n"
                b"\x1f\x8bnot gzip at all!!"
            )
        ),
        curlx.BadContentEncoding,
        61,
        IMMEDIATE,
    ),
    Fault(
        "TLS cut after ClientHello",
        raw(tls_cut_after_hello, scheme="https"),
        curlx.SSLConnectError,
        35,
        IMMEDIATE,
    ),
    Fault(
        "h2 garbage after preface",
        raw(h2_garbage_after_preface),
        curlx.HTTP2,
        16,
        IMMEDIATE,
        options={"http_version": "2-prior-knowledge"},
    ),
]
MODES = ["get", "session", "fetch_many"]


@dataclass
class Observed:
    fault: Fault
    mode: str
    observed: str
    seconds: float


OBSERVED: list[Observed] = []


def describe(error: BaseException | None) -> str:
    if isinstance(error, curlx.CurlError):
        return f"{type(error).__name__} ({int(error.code) if error.code is not None else '-'})"
    return "no error" if error is None else type(error).__name__


@pytest.fixture(scope="module", autouse=True)
def fault_table() -> Iterator[None]:
    """Print what every case gave, as a Markdown table, when the module is done."""
    yield
    if not OBSERVED:
        return
    order = {(f.name, m): i for i, (f, m) in enumerate((f, m) for f in FAULTS for m in MODES)}
    lines = [
        "",
        "| case | via | expected | observed | time to error |",
        "|---|---|---|---|---|",
    ]
    for row in sorted(OBSERVED, key=lambda r: order.get((r.fault.name, r.mode), 0)):
        expected = f"{row.fault.expected.__name__} ({row.fault.code})"
        limit = row.fault.limit + MARGIN
        note = "" if row.seconds < limit else f" (over {limit:g} s)"
        lines.append(
            f"| {row.fault.name} | {row.mode} | {expected} | {row.observed} | "
            f"{row.seconds:.3f} s{note} |"
        )
    print("\n".join(lines))


def healthy_url(fault: Fault, lab: Lab, plain: HTTPApp) -> str:
    """A server that answers the fault's own options: HTTP/2 prior knowledge needs h2c."""
    if fault.options.get("http_version") == "2-prior-knowledge":
        return lab.raw(H2Responder()).url("/healthy")
    return plain.url("/healthy")


def fault_params() -> list[Any]:
    params = []
    for fault in FAULTS:
        params.append(pytest.param(fault, id=fault.name))
    return params


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", fault_params())
def test_fault_ends_in_its_typed_error_in_time(fault: Fault, mode: str, lab: Lab) -> None:
    url = fault.serve(lab)
    plain = lab.app()
    healthy = healthy_url(fault, lab, plain)
    error: BaseException | None = None
    if mode == "get":
        started = time.monotonic()
        try:
            curlx.get(url, timeout=fault.timeout, **fault.options)
        except curlx.CurlError as exc:
            error = exc
        elapsed = time.monotonic() - started
        after = curlx.get(plain.url("/after"), timeout=LIMITS)
        assert (after.status_code, after.text) == (200, "ok")
    elif mode == "session":
        with curlx.Session(timeout=fault.timeout) as session:
            started = time.monotonic()
            try:
                session.get(url, **fault.options)
            except curlx.CurlError as exc:
                error = exc
            elapsed = time.monotonic() - started
            after = session.get(plain.url("/after"))
            assert (after.status_code, after.text) == (200, "ok")
            assert after.http_version == "1.1" and after.history == []
        assert plain.requests[-1].header("content-length") is None
    else:
        started = time.monotonic()
        crawl = curlx.fetch_many(
            [url, healthy], concurrency=1, timeout=fault.timeout, **fault.options
        )
        with contextlib.closing(crawl):
            first = next(crawl)
            elapsed = time.monotonic() - started
            rest = list(crawl)
        assert first.url == url and first.response is None
        error = first.error
        assert first.elapsed <= elapsed
        assert [(r.url, r.status_code, r.error) for r in rest] == [(healthy, 200, None)]
        assert rest[0].response is not None and rest[0].response.content == b"ok"
    OBSERVED.append(Observed(fault, mode, describe(error), elapsed))
    assert type(error) is fault.expected, describe(error)
    assert isinstance(error, curlx.CurlError) and error.code == fault.code
    assert error.url == url
    assert elapsed < fault.limit + MARGIN, f"{elapsed:.2f} s"


def test_a_crawl_of_every_fault_at_once_ends_with_one_result_each(lab: Lab) -> None:
    """All the HTTP/1 faults side by side in one crawl: no fault holds up or aborts the rest."""
    faults = [f for f in FAULTS if not f.options]
    urls = {f.serve(lab): f for f in faults}
    healthy = [lab.app().url(f"/healthy/{i}") for i in range(5)]
    started = time.monotonic()
    results = list(curlx.fetch_many([*urls, *healthy], concurrency=8, timeout=LIMITS))
    elapsed = time.monotonic() - started
    assert sorted(r.url for r in results) == sorted([*urls, *healthy])
    for result in results:
        if result.url in healthy:
            assert result.ok and result.response is not None and result.response.text == "ok"
        else:
            fault = urls[result.url]
            assert type(result.error) is fault.expected, (fault.name, describe(result.error))
    assert elapsed < (LIMITS.total or 0) + MARGIN


def test_a_garbage_status_line_is_the_peers_fault_not_a_usage_error(lab: Lab) -> None:
    url = lab.raw(respond(b"GARBAGE STATUS LINE\r\n\r\n")).url()
    with curlx.Session(timeout=LIMITS) as session, pytest.raises(curlx.CurlError) as caught:
        session.get(url)
    error = caught.value
    assert error.code == 1 and error.info is not None and error.info.request_size > 0
    assert isinstance(error, curlx.ProtocolError)
    # Its own category and hint, below the class that catches every code-1 error.
    assert isinstance(error, curlx.error_class(1))
    assert error.category is curlx.Category.PROTOCOL
    assert error.retry.kind is curlx.RetryKind.NEVER


# --- input the crawl cannot send must not stop it -------------------------------------------

# (path, session.get options, the target the server saw, a header name, its value as seen).
# The test server decodes request heads as Latin-1, so UTF-8 bytes show as "caf\u00c3\u00a9".
NON_ASCII: list[Any] = [
    pytest.param("/caf\u00e9", {}, "/caf%C3%A9", None, None, id="url-path"),
    pytest.param(
        "/",
        {"headers": {"X-Name": "caf\u00e9"}},
        "/",
        "X-Name",
        "caf\u00e9",
        id="header-latin1-str",
    ),
    pytest.param(
        "/",
        {"headers": {"X-Name": b"caf\xe9"}},
        "/",
        "X-Name",
        "caf\u00e9",
        id="header-latin1-bytes",
    ),
    pytest.param(
        "/", {"cookies": {"name": "caf\u00e9"}}, "/", "Cookie", "name=caf\u00c3\u00a9", id="cookie"
    ),
]


@pytest.mark.parametrize(("path", "options", "target", "header", "value"), NON_ASCII)
def test_non_ascii_request_text_is_sent(
    path: str,
    options: dict[str, Any],
    target: str,
    header: str | None,
    value: str | None,
    lab: Lab,
) -> None:
    """Paths are percent-encoded, header values sent as Latin-1, cookies as UTF-8."""
    app = lab.app()
    with curlx.Session(timeout=LIMITS) as session:
        assert session.get(app.url(path), **options).status_code == 200
        assert session.get(app.url("/after")).status_code == 200
    assert [r.target for r in app.requests] == [target, "/after"]
    if header is not None:
        assert app.requests[0].header(header) == value
        assert app.requests[1].header(header) is None


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param("/caf\u00e9", id="url-path"),
        pytest.param(("/", {"X-Name": "caf\u00e9"}), id="header-latin1"),
    ],
)
def test_non_ascii_input_does_not_abort_the_crawl(request_: Any, lab: Lab) -> None:
    app = lab.app()
    if isinstance(request_, str):
        first: str | curlx.Request = app.url(request_)
    else:
        first = curlx.Request(app.url(request_[0]), headers=request_[1])
    after = app.url("/after")
    results = list(curlx.fetch_many([first, after], concurrency=1, timeout=LIMITS))
    assert len(results) == 2
    assert [r.status_code for r in results if r.url == after] == [200]


@pytest.mark.parametrize("way", ["session", "fetch_many"])
def test_a_slow_connect_is_governed_by_the_connect_limit_not_the_read_limit(way: str) -> None:
    """The no-progress (read) limit starts once bytes move: connecting has its own limit."""
    stall = ConnectStall()
    limits = curlx.Timeout(connect=1.5, read=0.5, total=5)
    started = time.monotonic()
    try:
        if way == "session":
            with curlx.Session(timeout=limits) as session, pytest.raises(curlx.CurlError) as caught:
                session.get(stall.url())
            error: curlx.CurlError | None = caught.value
        else:
            (result,) = list(curlx.fetch_many([stall.url()], timeout=limits))
            error = result.error
    finally:
        stall.close()
    elapsed = time.monotonic() - started
    assert isinstance(error, curlx.ConnectTimeout)
    assert 1.4 < elapsed < 3.0
