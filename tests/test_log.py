"""The `curlx` logger: one DEBUG record per transfer (Session, curlx.get, fetch_many), failures
with their class, and ``debug=True`` / ``curlx get -v`` sending libcurl's trace, redacted, to
``curlx.trace``. Real loopback servers; pytest's ``caplog`` collects the records.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.http import Exchange, HTTPApp, Reply, Request, echo
from support.lab import Lab
from support.raw import closed_port

import curlx
from curlx._cli import main
from curlx._transport._log import redact_headers, redact_note

T = 5.0
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def cookie_jar(request: Request, exchange: Exchange) -> Reply:
    """200 ``ok``, setting a cookie whose value must never reach a log; /secret redirects to
    /landed with credentials in the Location."""
    if request.path == "/secret":
        location = f"http://dave:location-password@{request.header('Host')}/landed"
        return Reply(302, b"", [("Location", location)])
    headers = [("Set-Cookie", "token=set-cookie-secret; Path=/; HttpOnly")]
    return Reply(200, b"ok", headers)


def records(caplog: pytest.LogCaptureFixture, name: str = "curlx") -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def trace_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in records(caplog, "curlx.trace")]


# --- one record per transfer ---------------------------------------------------------------------


def test_a_request_is_one_debug_record_and_the_second_reuses(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    app = lab.app()
    caplog.set_level(logging.DEBUG, logger="curlx")
    url = app.url("/path?q=1", userinfo="bob:pass-word")
    with curlx.Session(timeout=T) as s:
        s.get(url)
        s.get(url)
    first, second = records(caplog)
    for record in (first, second):
        assert record.levelno == logging.DEBUG
        assert record.method == "GET"  # type: ignore[attr-defined]
        assert record.url == app.url("/path?q=1")  # type: ignore[attr-defined]
        assert record.status_code == 200  # type: ignore[attr-defined]
        assert record.http_version == "HTTP/1.1"  # type: ignore[attr-defined]
        assert 0 <= record.elapsed < T  # type: ignore[attr-defined]
        message = record.getMessage()
        assert f'GET {app.url("/path?q=1")} "HTTP/1.1 200 OK"' in message
        assert "pass-word" not in message and "bob" not in message
    assert (first.reused, second.reused) == (False, True)  # type: ignore[attr-defined]
    assert "(new connection)" in first.getMessage()
    assert "(reused connection)" in second.getMessage()
    assert app.connections == 1


def test_a_failure_is_logged_with_its_class(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="curlx")
    url = f"http://127.0.0.1:{closed_port()}/x"
    with curlx.Session(timeout=T) as s, pytest.raises(curlx.ConnectError) as caught:
        s.get(url)
    (record,) = records(caplog)
    assert record.levelno == logging.DEBUG
    assert record.error is caught.value  # type: ignore[attr-defined]
    assert record.reused is None  # type: ignore[attr-defined]  # never connected
    message = record.getMessage()
    assert message.startswith(f"HTTP Request: GET {url} failed in ")
    assert "(no connection): CouldntConnect: Failed to connect" in message


def test_curlx_get_and_fetch_many_log_each_transfer(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    app = lab.app()
    caplog.set_level(logging.DEBUG, logger="curlx")
    curlx.get(app.url("/one"), timeout=T)
    urls = [app.url(f"/crawl/{i}") for i in range(3)] + [f"http://127.0.0.1:{closed_port()}/"]
    results = list(curlx.fetch_many(urls, concurrency=2, timeout=T))
    assert len(results) == 4
    logged = {r.url: r for r in records(caplog)}  # type: ignore[attr-defined]
    assert set(logged) == {app.url("/one"), *urls}
    (error,) = [r.error for r in results if r.error is not None]
    assert logged[urls[-1]].error is error  # type: ignore[attr-defined]
    assert all(logged[u].status_code == 200 for u in urls[:3])  # type: ignore[attr-defined]


def test_each_attempt_of_a_retry_is_one_record(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([503, 503, 200])
    app = lab.app(lambda request, exchange: Reply(next(answers), b"x"))
    caplog.set_level(logging.DEBUG, logger="curlx")
    policy = curlx.Retry(total=2, backoff_factor=0)
    assert curlx.get(app.url(), timeout=T, retry=policy).status_code == 200
    assert [r.status_code for r in records(caplog)] == [503, 503, 200]  # type: ignore[attr-defined]
    assert '"HTTP/1.1 503 Service Unavailable"' in records(caplog)[0].getMessage()


def test_nothing_is_logged_unless_debug_is_enabled(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    app = lab.app()
    caplog.set_level(logging.INFO, logger="curlx")
    with curlx.Session(timeout=T, debug=True) as s:
        assert s.get(app.url()).status_code == 200
    assert records(caplog) == [] and records(caplog, "curlx.trace") == []


# --- the trace --------------------------------------------------------------------------------


def test_debug_trace_has_the_exchange_with_secrets_redacted(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    app = lab.app(cookie_jar)
    caplog.set_level(logging.DEBUG, logger="curlx")
    url = app.url("/secret", userinfo="carol:url-password")
    with curlx.Session(timeout=T, debug=True, cookies={"sid": "cookie-secret"}) as s:
        s.get(url)
        s.get(app.url("/again"), auth=("bob", "basic-password"))
    lines = trace_lines(caplog)
    text = "\n".join(lines)
    assert "> GET /secret HTTP/1.1" in lines
    assert "< HTTP/1.1 200 OK" in lines
    assert "> Cookie: sid=[redacted]" in lines
    assert "< Set-Cookie: token=[redacted]; Path=/; HttpOnly" in lines
    assert "> Authorization: Basic [redacted]" in lines
    assert "{ [2 bytes of data received]" in lines
    assert any(line.startswith("* ") for line in lines)
    assert "> GET /landed HTTP/1.1" in lines  # the redirect was followed, and logged
    assert any(line.startswith("< Location: http://127.0.0.1:") for line in lines)
    secrets = ["url-password", "carol", "cookie-secret", "set-cookie-secret", "basic-pass"]
    for secret in [*secrets, "dave", "location-password"]:
        assert secret not in text
    assert base64.b64encode(b"bob:basic-password").decode() not in text
    assert "ok" not in [line.strip("{} ") for line in lines]  # no body bytes


class Collect(logging.Handler):
    """Keeps every record of the `curlx` loggers, formatted, as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def echo_app() -> Iterator[HTTPApp]:
    with HTTPApp(echo) as server:
        yield server


@pytest.fixture
def collected() -> Iterator[Collect]:
    logger, handler = logging.getLogger("curlx"), Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# Marked credentials, as tests/test_properties.py makes them: if no marker shows, nothing did.
credential = st.text(
    alphabet=st.one_of(st.sampled_from(list(":@/?#%&=+ ;,'\"")), st.characters(codec="utf-8")),
    max_size=10,
)


@settings(
    deadline=None,
    database=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    user=credential.map(lambda t: f"uSr7{t}7rSu"), password=credential.map(lambda t: f"pWd9{t}9dWp")
)
@example(user="uSr7'7rSu", password="pWd99dWp")  # a quote inside libcurl's 'user' note
@example(user="uSr7\n7rSu", password="pWd99dWp")  # a newline inside it
def test_no_credential_reaches_the_log(
    user: str, password: str, echo_app: HTTPApp, collected: Collect
) -> None:
    """With the trace on, credentials in the URL and in auth= never show in any record."""
    collected.lines.clear()
    userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}"
    with curlx.Session(timeout=T, debug=True) as s:
        for url, options in [
            (echo_app.url("/u", userinfo=userinfo), {}),
            (echo_app.url("/a"), {"auth": (user, password)}),
        ]:
            try:
                s.get(url, **options)
            except (curlx.CurlError, ValueError):
                pass  # refused (control characters): its record must be clean too
    text = "\n".join(collected.lines)
    assert "HTTP Request: GET" in text
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    for word in ("uSr7", "7rSu", "pWd9", "9dWp", basic, quote(password, safe="")):
        assert word not in text


def test_debug_per_request_does_not_stick(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    app = lab.app()
    caplog.set_level(logging.DEBUG, logger="curlx")
    with curlx.Session(timeout=T) as s:
        s.get(app.url("/quiet"))
        assert trace_lines(caplog) == []
        s.get(app.url("/loud"), debug=True)
        assert "> GET /loud HTTP/1.1" in trace_lines(caplog)
        caplog.clear()
        s.get(app.url("/quiet-again"))
        assert trace_lines(caplog) == []
        assert len(records(caplog)) == 1
    curlx.get(app.url("/module"), timeout=T, debug=True)
    assert "> GET /module HTTP/1.1" in trace_lines(caplog)


def test_debug_is_a_setting_like_the_others(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    """Assigning it drops the cached handle options, as assigning verify= or proxy= does."""
    app = lab.app()
    caplog.set_level(logging.DEBUG, logger="curlx")
    with curlx.Session(timeout=T) as s:
        s.get(app.url("/before"))
        s.debug = True
        s.get(app.url("/on"))
        s.debug = False
        s.get(app.url("/off"))
    lines = trace_lines(caplog)
    assert "> GET /on HTTP/1.1" in lines
    assert not any("/before" in line or "/off" in line for line in lines)
    assert [r.reused for r in records(caplog)] == [False, True, True]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("sent", "logged"),
    [
        (b"Authorization: Bearer abc.def\r\n", b"Authorization: Bearer [redacted]\r\n"),
        (b"authorization:token\r\n", b"authorization: [redacted]\r\n"),
        (b"Proxy-Authorization: Basic eDp5\r\n", b"Proxy-Authorization: Basic [redacted]\r\n"),
        (b"Cookie: a=1; b=x=y\r\n", b"Cookie: a=[redacted]; b=[redacted]\r\n"),
        (b"Set-Cookie: k=v; Max-Age=5\r\n", b"Set-Cookie: k=[redacted]; Max-Age=5\r\n"),
        (b"Set-Cookie: nameless\r\n", b"Set-Cookie: [redacted]\r\n"),
        (b"Cookie: a=1; lone; b=\r\n", b"Cookie: a=[redacted]; [redacted]; b=[redacted]\r\n"),
        (b"X-Authorization-Mode: keep\r\n", b"X-Authorization-Mode: keep\r\n"),
    ],
)
def test_redacted_header_values(sent: bytes, logged: bytes) -> None:
    block = b"GET / HTTP/1.1\r\nHost: h\r\n" + sent + b"Accept: */*\r\n\r\n"
    expected = b"GET / HTTP/1.1\r\nHost: h\r\n" + logged + b"Accept: */*\r\n\r\n"
    assert redact_headers(block).replace(b"\r", b"") == expected.replace(b"\r", b"")


@pytest.mark.parametrize(
    ("note", "logged"),
    [
        (
            "[HTTP/2] [1] [authorization: Basic Ym9i]",
            "[HTTP/2] [1] [authorization: Basic [redacted]]",
        ),
        ("[HTTP/3] [0] [cookie: a=1; b=2]", "[HTTP/3] [0] [cookie: a=[redacted]; b=[redacted]]"),
        ("[HTTP/2] [1] [:path: /x?q=1]", "[HTTP/2] [1] [:path: /x?q=1]"),
        ("Server auth using Basic with user 'bob'", "Server auth using Basic with user [redacted]"),
        (
            "Server auth using Basic with user 'o'brien'",
            "Server auth using Basic with user [redacted]",
        ),
        ('Added cookie a="x" y" for domain h', 'Added cookie a="[redacted]" for domain h'),
        ('Added cookie sid="v" for domain h', 'Added cookie sid="[redacted]" for domain h'),
        (
            "Issue another request to this URL: 'http://u:p@h/x'",
            "Issue another request to this URL: 'http://h/x'",
        ),
        (
            "Uses proxy env variable http_proxy == 'u:p@proxy:3128'",
            "Uses proxy env variable http_proxy == 'proxy:3128'",
        ),
    ],
)
def test_redacted_notes(note: str, logged: str) -> None:
    assert redact_note(note) == logged


def test_cli_get_verbose_prints_the_trace_on_stderr(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    app = lab.app(cookie_jar)
    logger = logging.getLogger("curlx")
    handlers, level = list(logger.handlers), logger.level
    code = main(["get", "-v", "-H", "Cookie: c=cli-secret", app.url("/v"), "--timeout", "5"])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "ok")
    assert "> GET /v HTTP/1.1" in err.splitlines()
    assert "< HTTP/1.1 200 OK" in err.splitlines()
    assert "> Cookie: c=[redacted]" in err.splitlines()
    assert "secret" not in err
    assert f'HTTP Request: GET {app.url("/v")} "HTTP/1.1 200 OK"' in err
    assert (logger.handlers, logger.level) == (handlers, level)  # put back as it was


# --- the examples ---------------------------------------------------------------------------


def run_example(script: str) -> list[dict[str, Any]]:
    """Run an example on its own (its own loopback server); its JSON lines."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "secret" not in done.stdout  # the URLs had user:secret@ in them
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_example_log_json() -> None:
    first, second, failure, mine = run_example("log_json.py")
    assert (first["logger"], first["level"], first["status_code"]) == ("curlx", "DEBUG", 200)
    assert (first["reused"], second["reused"]) == (False, True)
    assert failure["logger"] == "curlx" and failure["error"]["class"] == "CouldntConnect"
    assert mine["logger"] == "example" and mine["level"] == "ERROR"
    error = curlx.CurlError.from_dict(mine["error"])  # the record makes the error back
    assert isinstance(error, curlx.ConnectError) and error.url == failure["url"]
    assert "proxy=" in error.hint  # it came from a Session: the client's words


def test_example_structlog_errors() -> None:
    pytest.importorskip("structlog")
    status, refused, other = run_example("structlog_errors.py")
    assert status["event"] == "fetch failed" and "exception" not in status
    assert status["error"]["class"] == "HTTPServerError"
    assert (status["error"]["retry"], status["error"]["retry_after"]) == ("idempotent", 30.0)
    assert refused["error"]["name"] == "CURLE_COULDNT_CONNECT"
    assert refused["error"]["url"].startswith("http://127.0.0.1:")
    assert "error" not in other and "ValueError: not a curlx error" in other["exception"]


def test_http2_trace_redacts_the_headers_libcurl_notes(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    """Over HTTP/2 libcurl also lists the request headers in its notes (``* [HTTP/2] [1]
    [authorization: Basic ...]``): those values are redacted too."""
    server = lab.h2()
    caplog.set_level(logging.DEBUG, logger="curlx")
    with curlx.Session(timeout=T, verify=str(lab.pki.ca_file), debug=True) as s:
        response = s.get(
            server.url("/h2", scheme="https"),
            auth=("bob", "h2-password"),
            cookies={"sid": "h2-cookie"},
            http_version="2",
        )
    assert response.http_version == "2"
    text = "\n".join(trace_lines(caplog))
    assert "[HTTP/2]" in text
    assert "h2-password" not in text and "h2-cookie" not in text
    assert base64.b64encode(b"bob:h2-password").decode() not in text
