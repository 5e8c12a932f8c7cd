"""Session against real local servers: methods, bodies, redirects, cookies, auth, decoding,
HTTP/2, proxies, the safe defaults, reuse after every kind of error, lifecycle and threads.

Every server is on 127.0.0.1 (see `support.http`): pytest-httpserver for canned plain-HTTP
answers, `HTTPApp` where the raw request (repeated headers, the connection it came on) matters,
`ForwardProxy`, `H2Server` and TLS servers with a throw-away CA.
"""

from __future__ import annotations

import base64
import builtins
import gzip
import importlib
import json
import os
import pickle
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from support.http import Exchange, Reply, Request, stall
from support.lab import Lab
from support.pki import PKI
from support.raw import closed_port, passwd_fragments, reset
from werkzeug.wrappers import Request as WRequest
from werkzeug.wrappers import Response as WResponse

import curlx
from curlx import RetryKind, Session

T = 5.0
"""The timeout of every request that is not about timeouts."""


def echo_json(request: WRequest) -> WResponse:
    """A pytest-httpserver handler describing the request it got, as JSON."""
    info: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode(),
        "headers": [[k, v] for k, v in request.headers.items()],
        "content_type": request.headers.get("Content-Type"),
    }
    if request.mimetype == "multipart/form-data":
        info["form"] = request.form.to_dict(flat=False)
        info["files"] = {
            name: [f.filename, f.read().decode("latin-1"), f.content_type]
            for name, f in request.files.items()
        }
    else:
        info["body"] = request.get_data().decode("latin-1")
    return WResponse(json.dumps(info), content_type="application/json")


def routes(table: dict[str, Reply]) -> Callable[[Request, Exchange], Reply]:
    """An `HTTPApp` handler answering each path from `table` (404 for others)."""

    def handler(request: Request, exchange: Exchange) -> Reply:
        return table.get(request.path, Reply(404, b"no such path"))

    return handler


def redirect(status: int, location: str) -> Reply:
    return Reply(status, headers=[("Location", location)])


# --- 1. methods and bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["get", "head", "post", "put", "patch", "delete", "options"])
def test_each_method_sends_itself(name: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/method").respond_with_handler(echo_json)
    with Session(timeout=T) as s:
        response = getattr(s, name)(httpserver.url_for("/method"))
    assert httpserver.log[-1][0].method == name.upper()
    assert response.status_code == 200
    assert response.method == name.upper()
    if name == "head":
        assert response.content == b""
        assert int(response.headers["content-length"]) > 0
    else:
        assert response.json()["method"] == name.upper()
        assert response.json()["body"] == ""


def test_request_takes_any_method_token(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        assert s.request("purge", app.url("/cache")).status_code == 200
    assert app.requests[-1].method == "PURGE"


@pytest.mark.parametrize(
    ("data", "sent"),
    [
        (b"\x01raw\xff\r\n bytes", b"\x01raw\xff\r\n bytes"),
        ("h\u00e9llo w\u00f6rld", "h\u00e9llo w\u00f6rld".encode()),
        (b"", b""),
    ],
    ids=["bytes", "str", "empty"],
)
def test_raw_body(data: bytes | str, sent: bytes, lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        s.post(app.url("/raw"), data=data)
        s.put(app.url("/raw"), data=data)
    post, put = app.requests
    assert (post.method, post.body, post.header("content-length")) == ("POST", sent, str(len(sent)))
    assert (put.method, put.body) == ("PUT", sent)


def test_binary_body_with_nul_bytes(lab: Lab) -> None:
    app = lab.app()
    body = bytes(range(256))
    with Session(timeout=T) as s:
        s.post(app.url("/raw"), data=body)
    assert app.requests[-1].body == body


@pytest.mark.parametrize(
    ("data", "sent"),
    [
        ({"a": "1", "b": "x y&z=\u00e9"}, b"a=1&b=x+y%26z%3D%C3%A9"),
        ([("k", "1"), ("k", "2"), ("other", "3")], b"k=1&k=2&other=3"),
        ({"k": ["1", "2"], "n": 7}, b"k=1&k=2&n=7"),
    ],
    ids=["mapping", "pairs", "multi-valued"],
)
def test_form_body_is_urlencoded(data: Any, sent: bytes, lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        s.post(app.url("/form"), data=data)
    got = app.requests[-1]
    assert got.body == sent
    assert got.header_list("content-type") == ["application/x-www-form-urlencoded"]


def test_json_body_is_compact_with_its_content_type(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        s.post(app.url("/json"), json={"a": [1, 2], "b": None, "c": "\u00e9"})
        s.patch(app.url("/json"), json=[])
    post, patch = app.requests
    assert post.body == b'{"a":[1,2],"b":null,"c":"\\u00e9"}'
    assert post.header_list("content-type") == ["application/json"]
    assert (patch.method, patch.body) == ("PATCH", b"[]")


def test_json_and_data_together_are_refused_before_sending(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s, pytest.raises(curlx.InvalidRequest, match="data= or json="):
        s.post(app.url("/"), json={"a": 1}, data=b"x")
    assert app.connections == 0


def test_explicit_content_type_is_sent_once(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        s.post(app.url("/"), json={"a": 1}, headers={"Content-Type": "application/vnd.x+json"})
    assert app.requests[-1].header_list("content-type") == ["application/vnd.x+json"]


# The multipart test ignores pycurl's DeprecationWarning; the next test shows it as a bug.
@pytest.mark.filterwarnings("ignore:HTTPPOST is deprecated:DeprecationWarning")
def test_multipart_files_with_fields(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(echo_json)
    upload = tmp_path / "notes.txt"
    upload.write_bytes(b"from a file object\n")
    with Session(timeout=T) as s, upload.open("rb") as fileobj:
        response = s.post(
            httpserver.url_for("/upload"),
            data={"title": "hello", "n": 3},
            files={
                "raw": b"\x00raw bytes\xff",
                "fileobj": fileobj,
                "spec": ("report.csv", b"a,b\n1,2\n", "text/csv"),
                "pair": ("pair.bin", "text content"),
            },
        )
    got = response.json()
    assert got["content_type"].startswith("multipart/form-data; boundary=")
    assert got["form"] == {"title": ["hello"], "n": ["3"]}
    assert got["files"] == {
        "raw": ["raw", "\x00raw bytes\xff", "application/octet-stream"],
        "fileobj": ["notes.txt", "from a file object\n", "application/octet-stream"],
        "spec": ["report.csv", "a,b\n1,2\n", "text/csv"],
        "pair": ["pair.bin", "text content", "application/octet-stream"],
    }


@pytest.mark.filterwarnings("ignore:HTTPPOST is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("data", "filename"),
    [({"title": "caf\u00e9"}, "a.txt"), (None, "caf\u00e9.txt")],
    ids=["field", "filename"],
)
def test_multipart_non_ascii(
    data: dict[str, str] | None, filename: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(echo_json)
    with Session(timeout=T) as s:
        got = s.post(
            httpserver.url_for("/upload"), data=data, files={"f": (filename, b"abc", "text/plain")}
        ).json()
    assert got["files"]["f"][:2] == [filename, "abc"]
    assert got["form"] == {k: [v] for k, v in (data or {}).items()}


def test_multipart_emits_no_warning(lab: Lab) -> None:
    app = lab.app()
    with warnings.catch_warnings(record=True) as caught, Session(timeout=T) as s:
        warnings.simplefilter("always")
        s.post(app.url("/upload"), files={"f": ("a.txt", b"abc", "text/plain")})
    assert b'filename="a.txt"' in app.requests[-1].body
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(
    ("path", "params", "target"),
    [
        ("/p", {"q": "caf \u00e9", "n": 3}, "/p?q=caf+%C3%A9&n=3"),
        ("/p", [("k", "1"), ("k", "2")], "/p?k=1&k=2"),
        ("/p", {"multi": ["1", "2"], "none": None}, "/p?multi=1&multi=2&none="),
        ("/p?x=0#frag", [("k", "1"), ("k", "a b")], "/p?x=0&k=1&k=a+b"),
        ("/p?", {"q": "1"}, "/p?q=1"),
        ("/p?x=0&", {"q": "1"}, "/p?x=0&q=1"),
        ("/p#only?frag", {"q": "1"}, "/p?q=1"),
    ],
)
def test_params_merge_into_the_url(path: str, params: Any, target: str, lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        s.get(app.url(path), params=params)
    assert app.requests[-1].target == target


def test_session_params_are_used_when_the_request_has_none(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T, params={"api": "v1"}) as s:
        s.get(app.url("/a"))
        s.get(app.url("/b?x=1"))
    assert [r.target for r in app.requests] == ["/a?api=v1", "/b?x=1&api=v1"]


def test_head_has_no_body_and_does_not_follow_redirects(lab: Lab) -> None:
    app = lab.app(routes({"/moved": redirect(302, "/target"), "/target": Reply(200, b"x" * 50)}))
    with Session(timeout=T) as s:
        head = s.head(app.url("/moved"))
        followed = s.head(app.url("/moved"), follow_redirects=True)
    assert (head.status_code, head.content, head.is_redirect) == (302, b"", True)
    assert head.headers["location"] == "/target"
    assert (followed.status_code, followed.content) == (200, b"")
    assert followed.headers["content-length"] == "50"
    assert [r.path for r in app.requests] == ["/moved", "/moved", "/target"]
    assert {r.method for r in app.requests} == {"HEAD"}


def test_session_and_request_headers_are_sent(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T, headers={"X-Session": "s", "User-Agent": "curlx-tests/1"}) as s:
        s.get(app.url(), headers=[("X-Request", "r"), ("X-Empty", ""), ("X-Num", 7)])
    got = app.requests[-1]
    assert got.header("x-session") == "s"
    assert got.header("user-agent") == "curlx-tests/1"
    assert got.header("x-request") == "r"
    assert got.header("x-empty") == ""  # sent, with an empty value
    assert got.header("x-num") == "7"


def test_request_header_overrides_the_session_header(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T, headers={"User-Agent": "session/1", "X-A": "session"}) as s:
        s.get(app.url(), headers={"user-agent": "request/2", "X-A": "request"})
    got = app.requests[-1]
    assert got.header_list("user-agent") == ["request/2"]
    assert got.header_list("x-a") == ["request"]


# --- 2. redirects ------------------------------------------------------------------------------


def test_redirect_chain_history(httpserver: HTTPServer) -> None:
    chain = [("/r301", 301), ("/r302", 302), ("/r303", 303), ("/r307", 307), ("/r308", 308)]
    for (path, status), nxt in zip(chain, [p for p, _ in chain[1:]] + ["/final"], strict=True):
        httpserver.expect_request(path).respond_with_data(
            "", status=status, headers={"Location": nxt}
        )
    httpserver.expect_request("/final").respond_with_data("arrived")
    with Session(timeout=T) as s:
        response = s.get(httpserver.url_for("/r301"))
    assert response.status_code == 200 and response.text == "arrived"
    assert response.url == httpserver.url_for("/final")
    assert response.redirect_count == 5
    assert [(hop.status_code, hop.url) for hop in response.history] == [
        (status, httpserver.url_for(path)) for path, status in chain
    ]
    assert [hop.headers["location"] for hop in response.history] == [
        "/r302",
        "/r303",
        "/r307",
        "/r308",
        "/final",
    ]
    assert len(httpserver.log) == 6


@pytest.mark.parametrize(
    ("method", "status", "final_method", "final_body"),
    [
        ("POST", 301, "GET", b""),
        ("POST", 302, "GET", b""),
        ("POST", 303, "GET", b""),
        ("POST", 307, "POST", b"payload"),
        ("POST", 308, "POST", b"payload"),
        ("PUT", 303, "GET", b""),
        ("PUT", 307, "PUT", b"payload"),
    ],
)
def test_redirected_method_and_body(
    method: str, status: int, final_method: str, final_body: bytes, lab: Lab
) -> None:
    app = lab.app(routes({"/from": redirect(status, "/to"), "/to": Reply(200, b"done")}))
    with Session(timeout=T) as s:
        response = s.request(method, app.url("/from"), data=b"payload")
    first, last = app.requests
    assert (first.method, first.body) == (method, b"payload")
    assert (last.method, last.path, last.body) == (final_method, "/to", final_body)
    assert response.text == "done" and response.redirect_count == 1


def test_effective_method_after_303(lab: Lab) -> None:
    app = lab.app(routes({"/from": redirect(303, "/to"), "/to": Reply(200, b"done")}))
    with Session(timeout=T) as s:
        response = s.post(app.url("/from"), data=b"x")
    assert app.requests[-1].method == "GET"
    assert response.info.effective_method == "GET"


def test_redirect_loop_raises_too_many_redirects(lab: Lab) -> None:
    app = lab.app(routes({"/loop": redirect(302, "/loop")}))
    with Session(timeout=T) as s:
        with pytest.raises(curlx.TooManyRedirects) as caught:
            s.get(app.url("/loop"), max_redirects=3)
        error = caught.value
        assert isinstance(error, curlx.HTTPError)
        assert error.code == 47 and error.info is not None
        assert error.info.redirect_count == 3
        assert "Maximum (3)" in error.message
        assert len(app.requests) == 4
        with pytest.raises(curlx.TooManyRedirects):
            s.get(app.url("/loop"), max_redirects=0)
    assert len(app.requests) == 5


def test_session_max_redirects_applies(lab: Lab) -> None:
    app = lab.app(routes({"/loop": redirect(307, "/loop")}))
    with Session(timeout=T, max_redirects=1) as s, pytest.raises(curlx.TooManyRedirects):
        s.get(app.url("/loop"))
    assert len(app.requests) == 2


def test_redirect_not_followed_when_asked(lab: Lab) -> None:
    app = lab.app(routes({"/from": redirect(301, "/to"), "/to": Reply(200)}))
    with Session(timeout=T, follow_redirects=False) as s:
        kept = s.get(app.url("/from"))
        followed = s.get(app.url("/from"), follow_redirects=True)
    assert (kept.status_code, kept.is_redirect, kept.headers["location"]) == (301, True, "/to")
    assert kept.history == [] and kept.redirect_count == 0 and kept.url == app.url("/from")
    assert followed.status_code == 200 and followed.url == app.url("/to")
    assert [r.path for r in app.requests] == ["/from", "/from", "/to"]


# --- 3. cookies --------------------------------------------------------------------------------


def test_server_cookie_is_sent_back_by_the_session(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/login").respond_with_data(
        "in", headers={"Set-Cookie": "sid=abc123; Path=/; HttpOnly"}
    )
    httpserver.expect_request("/me").respond_with_handler(echo_json)
    with Session(timeout=T) as s, Session(timeout=T) as other:
        s.get(httpserver.url_for("/login"))
        mine = s.get(httpserver.url_for("/me")).json()
        theirs = other.get(httpserver.url_for("/me")).json()
        assert s.cookies == {"sid": "abc123"}
        assert other.cookies == {}
    assert ["Cookie", "sid=abc123"] in mine["headers"]
    assert not [h for h in theirs["headers"] if h[0] == "Cookie"]


def test_given_cookies_are_sent(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T, cookies={"a": "1"}) as s:
        s.get(app.url("/one"), cookies={"b": "2"})
        s.get(app.url("/two"))
        assert s.cookies == {"a": "1"}
    assert [r.header_list("cookie") for r in app.requests] == [["a=1; b=2"], ["a=1"]]


# --- 4. auth -------------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T, auth=("session", "pw")) as s:
        s.get(app.url("/a"), auth=("user", "pa:ss"))
        s.get(app.url("/b"))
        s.get(app.url("/c"), auth=None)
    assert [r.header("authorization") for r in app.requests] == [
        basic("user", "pa:ss"),
        basic("session", "pw"),
        None,
    ]


def digest_handler(request: Request, exchange: Exchange) -> Reply:
    """401 with a Digest challenge until a request carries ``Authorization: Digest``."""
    if (request.header("authorization") or "").startswith("Digest "):
        return Reply(200, b"welcome")
    challenge = 'Digest realm="curlx-tests", nonce="0123456789abcdef", qop="auth"'
    return Reply(401, b"who are you", [("WWW-Authenticate", challenge)])


def test_digest_auth(lab: Lab) -> None:
    app = lab.app(digest_handler)
    with Session(timeout=T) as s:
        response = s.get(app.url("/private"), auth=curlx.DigestAuth("alice", "wonder"))
    assert (response.status_code, response.text) == (200, "welcome")
    challenged, answered = app.requests
    assert challenged.header("authorization") is None
    header = answered.header("authorization") or ""
    assert header.startswith("Digest ")
    for part in ('username="alice"', 'realm="curlx-tests"', 'nonce="0123456789abcdef"'):
        assert part in header
    assert 'uri="/private"' in header and "qop=auth" in header and "response=" in header


def test_digest_round_trip_is_not_a_redirect(lab: Lab) -> None:
    app = lab.app(digest_handler)
    with Session(timeout=T) as s:
        response = s.get(app.url("/private"), auth=curlx.DigestAuth("alice", "wonder"))
    assert response.status_code == 200
    assert response.history == []
    assert response.redirect_count == 0


def test_digest_username_cannot_inject_headers(lab: Lab) -> None:
    app = lab.app(digest_handler)
    with Session(timeout=T) as s:
        s.get(app.url("/private"), auth=curlx.DigestAuth("alice\r\nX-Injected: 1", "pw"))
    assert all(r.header("x-injected") is None for r in app.requests)
    assert len(app.requests) == 2


CREDENTIALS = [
    pytest.param({"auth": ("user", "pw")}, "authorization", id="auth="),
    pytest.param({"headers": {"Authorization": "Bearer t0k"}}, "authorization", id="header"),
    pytest.param({"headers": {"Cookie": "sid=1"}}, "cookie", id="cookie-header"),
    pytest.param({"cookies": {"sid": "1"}}, "cookie", id="cookies="),
]


def hop_handler(request: Request, exchange: Exchange) -> Reply:
    port = exchange.server.port
    if request.path == "/to-other-host":
        return redirect(302, f"http://localhost:{port}/landed")
    if request.path == "/same-host":
        return redirect(302, f"http://127.0.0.1:{port}/landed")
    return Reply(200, b"landed")


@pytest.mark.parametrize(("options", "header"), CREDENTIALS)
def test_credentials_are_not_sent_to_another_host(
    options: dict[str, Any], header: str, lab: Lab
) -> None:
    app = lab.app(hop_handler)
    with Session(timeout=T) as s:
        response = s.get(app.url("/to-other-host"), **options)
        same = s.get(app.url("/same-host"), **options)
    assert response.status_code == 200 and response.url == app.url("/landed", host="localhost")
    assert same.status_code == 200
    first, other_host, second, same_host = app.requests
    assert first.header("host") == f"127.0.0.1:{app.port}" and first.header(header)
    assert other_host.header("host") == f"localhost:{app.port}"
    assert other_host.header(header) is None
    assert same_host.header("host") == f"127.0.0.1:{app.port}"
    assert same_host.header(header) == first.header(header) == second.header(header)


# --- 5. decoding and the response -----------------------------------------------------------------

TEXT = "caf\u00e9 na\u00efve \u20ac " * 50


def test_gzip_body_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(TEXT.encode()),
        headers={"Content-Encoding": "gzip"},
        content_type="text/plain; charset=utf-8",
    )
    with Session(timeout=T) as s:
        response = s.get(httpserver.url_for("/gz"))
    assert response.text == TEXT
    assert response.headers["content-encoding"] == "gzip"
    accept = httpserver.log[-1][0].headers.get("Accept-Encoding", "")
    assert "gzip" in accept and "br" in accept


# brotli.compress(b"brotli body: " + "café ".encode() * 4), made once with the brotli package.
BROTLI_BLOB = (
    b"\x1b$\x00\xf8\x8d\xd4a\xad\xb18s\x1b\xbb\xdf\xf7\xd4%\x08A\xf7uv\tbFW\xb2\xccS\x07"
    b"\xa8\xa0vn<0\xfb\x03"
)


def test_brotli_body_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/br").respond_with_data(
        BROTLI_BLOB, headers={"Content-Encoding": "br"}, content_type="text/plain; charset=utf-8"
    )
    with Session(timeout=T) as s:
        response = s.get(httpserver.url_for("/br"))
    assert response.text == "brotli body: " + "caf\u00e9 " * 4


def test_brotli_large_body_is_decoded(httpserver: HTTPServer) -> None:
    # brotli is in the [test] extra: a missing package is an error here, not a skip.
    # (Imported by name because it ships no type information.)
    brotli: Any = importlib.import_module("brotli")
    body = os.urandom(20_000) + TEXT.encode() * 100
    httpserver.expect_request("/br").respond_with_data(
        brotli.compress(body), headers={"Content-Encoding": "br"}
    )
    with Session(timeout=T) as s:
        assert s.get(httpserver.url_for("/br")).content == body


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("text/plain; charset=latin-1", "caf\u00e9".encode("latin-1"), "caf\u00e9"),
        ("text/plain; charset=ISO-8859-1", b"\xa3\xe9", "\u00a3\u00e9"),
        ("text/plain; charset=utf-8", "caf\u00e9 \u20ac".encode(), "caf\u00e9 \u20ac"),
        ("text/plain; charset=x-no-such-charset", "caf\u00e9".encode(), "caf\u00e9"),
        ("application/octet-stream", "caf\u00e9".encode(), "caf\u00e9"),
    ],
)
def test_text_uses_the_charset(
    content_type: str, body: bytes, text: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/t").respond_with_data(body, content_type=content_type)
    with Session(timeout=T) as s:
        assert s.get(httpserver.url_for("/t")).text == text


def test_json(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/j").respond_with_json({"a": [1, 2.5, None], "\u00e9": True})
    with Session(timeout=T) as s:
        response = s.get(httpserver.url_for("/j"))
    assert response.json() == {"a": [1, 2.5, None], "\u00e9": True}
    httpserver.expect_request("/not-json").respond_with_data("<html>")
    with Session(timeout=T) as s, pytest.raises(ValueError):
        s.get(httpserver.url_for("/not-json")).json()


def test_repeated_headers_keep_order_and_case_insensitive(lab: Lab) -> None:
    headers = [("X-Multi", "one"), ("Set-Cookie", "a=1"), ("x-multi", "two"), ("Set-Cookie", "b=2")]
    app = lab.app(routes({"/h": Reply(200, b"", headers)}))
    with Session(timeout=T) as s:
        response = s.get(app.url("/h"))
    assert response.headers.get_list("X-MULTI") == ["one", "two"]
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-multi"] == response.headers["X-Multi"] == "one"
    assert response.headers.multi_items()[:4] == headers
    assert list(response.headers) == ["X-Multi", "Set-Cookie", "Content-Length"]


def test_status_facts(lab: Lab) -> None:
    app = lab.app(routes({"/made": Reply(201, b"ok", reason="Made It Nicely")}))
    with Session(timeout=T) as s:
        response = s.get(app.url("/made"))
    assert response.status_code == 201 and response.reason == "Made It Nicely"
    assert response.ok and not response.is_redirect
    assert 0 < response.elapsed.total_seconds() < T
    assert response.http_version == "1.1"
    assert response.primary_ip == "127.0.0.1"
    assert response.info.effective_method == "GET"
    assert repr(response) == f"<Response [201] GET {app.url('/made')}>"


def test_http_1_0_server(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("ok")
    with Session(timeout=T) as s:
        response = s.get(httpserver.url_for("/old"))
    # werkzeug, single-threaded: HTTP/1.0 and one connection per request, which is why the
    # connection-reuse tests count connections at HTTPApp instead.
    assert response.http_version == "1.0"
    assert response.headers["connection"] == "close"


def test_404_raises_client_error(lab: Lab) -> None:
    app = lab.app(routes({}))
    url = app.url("/missing").replace("http://", "http://user:hunter2@")
    with Session(timeout=T) as s:
        response = s.get(url)
    assert response.status_code == 404 and not response.ok
    with pytest.raises(curlx.HTTPClientError) as caught:
        response.raise_for_status()
    error = caught.value
    assert error.response is response
    assert error.status_code == 404 and error.code == 22
    assert isinstance(error, curlx.HTTPStatusError)
    assert error.retry.kind is RetryKind.NEVER
    text = str(error)
    assert "404 Not Found" in text and app.url("/missing") in text
    assert "hunter2" not in text and "hunter2" not in repr(error)
    assert "hunter2" not in response.url and "hunter2" not in error.explain()
    assert app.requests[-1].header("authorization") == basic("user", "hunter2")


def test_503_raises_server_error_with_retry_after(lab: Lab) -> None:
    app = lab.app(routes({"/busy": Reply(503, b"later", [("Retry-After", "7")])}))
    with Session(timeout=T) as s:
        response = s.get(app.url("/busy"))
    with pytest.raises(curlx.HTTPServerError) as caught:
        response.raise_for_status()
    error = caught.value
    assert error.status_code == 503 and error.code == 22 and error.response is response
    assert error.retry.after == 7.0 and curlx.retry_after(error) == 7.0
    assert error.retry.kind is RetryKind.IDEMPOTENT
    assert "503 Service Unavailable" in str(error) and app.url("/busy") in str(error)


def test_real_response_pickles(lab: Lab) -> None:
    app = lab.app(routes({"/a": redirect(302, "/b"), "/b": Reply(200, b"body", [("X-A", "1")])}))
    with Session(timeout=T) as s:
        response = s.get(app.url("/a"))
    copy = pickle.loads(pickle.dumps(response))
    assert (copy.status_code, copy.content, copy.url, copy.reason) == (
        200,
        b"body",
        app.url("/b"),
        "OK",
    )
    assert copy.headers == response.headers and copy.headers["x-a"] == "1"
    assert copy.history == response.history and len(copy.history) == 1
    assert copy.info == response.info


# --- 6. HTTP versions ----------------------------------------------------------------------------


def test_http2_over_tls(lab: Lab, pki: PKI) -> None:
    server = lab.h2(b"hello over h2")
    with Session(timeout=T, verify=str(pki.ca_file)) as s:
        response = s.get(server.url("/"), http_version="2")
    assert response.http_version == "2"
    assert (response.status_code, response.reason, response.content) == (200, "", b"hello over h2")
    assert response.headers["x-served-by"] == "h2server"
    assert server.alpn == ["h2"]


def test_http_1_0_and_1_1_are_asked_for(lab: Lab, pki: PKI) -> None:
    app = lab.app(tls=True, alpn=["h2", "http/1.1"])  # offers h2, speaks only HTTP/1.1
    with Session(timeout=T, verify=str(pki.ca_file)) as s:
        eleven = s.get(app.url("/"), http_version="1.1")
        s.get(app.url("/"), http_version="1.0")
    assert eleven.http_version == "1.1"
    assert [r.version for r in app.requests] == ["HTTP/1.1", "HTTP/1.0"]


def test_unknown_http_version_is_refused_before_sending(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s, pytest.raises(curlx.InvalidRequest) as caught:
        s.get(app.url("/"), http_version="9")
    assert isinstance(caught.value, curlx.UsageError) and isinstance(caught.value, ValueError)
    assert caught.value.code is None and "http_version='9'" in str(caught.value)
    assert app.connections == 0


def test_http_version_2_0_spelling_is_a_curlx_error(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s, pytest.raises(curlx.InvalidRequest, match="http_version='2.0'"):
        s.get(app.url("/"), http_version="2.0")
    assert app.connections == 0


# --- 7. proxies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("userinfo", [None, "user:s3cret"])
def test_http_through_the_proxy(userinfo: str | None, lab: Lab) -> None:
    credentials = ("user", "s3cret") if userinfo else None
    proxy = lab.proxy(credentials=credentials)
    app = lab.app()
    with Session(timeout=T, proxy=proxy.proxy_url(userinfo)) as s:
        response = s.get(app.url("/via?x=1"))
    assert response.status_code == 200 and response.text == "ok"
    assert response.history == []
    record = proxy.records[-1]
    assert (record.method, record.target) == ("GET", app.url("/via?x=1"))
    assert record.proxy_authorization == (basic("user", "s3cret") if userinfo else None)
    assert app.requests[-1].target == "/via?x=1"


@pytest.mark.parametrize("userinfo", [None, "user:s3cret"])
def test_https_through_the_proxy(userinfo: str | None, lab: Lab, pki: PKI) -> None:
    credentials = ("user", "s3cret") if userinfo else None
    proxy = lab.proxy(credentials=credentials)
    app = lab.app(tls=True)
    with Session(timeout=T, verify=str(pki.ca_file)) as s:
        response = s.get(app.url("/secure"), proxy=proxy.proxy_url(userinfo))
    assert response.status_code == 200 and response.text == "ok"
    assert response.reason == "OK" and response.headers["content-type"] == "text/plain"
    record = proxy.records[-1]
    assert (record.method, record.target) == ("CONNECT", f"127.0.0.1:{app.port}")
    assert record.proxy_authorization == (basic("user", "s3cret") if userinfo else None)
    assert app.requests[-1].header("proxy-authorization") is None


def test_connect_response_is_not_in_history(lab: Lab, pki: PKI) -> None:
    proxy = lab.proxy()
    app = lab.app(tls=True)
    with Session(timeout=T, verify=str(pki.ca_file), proxy=proxy.proxy_url()) as s:
        response = s.get(app.url("/secure"))
    assert response.status_code == 200
    assert response.history == []


def test_proxy_refusing_connect(lab: Lab, pki: PKI) -> None:
    proxy = lab.proxy(refuse_connect=True)
    app = lab.app(tls=True)
    with Session(timeout=T, verify=str(pki.ca_file)) as s:
        with pytest.raises(curlx.ProxyTunnelRefused) as caught:
            s.get(app.url("/secure"), proxy=proxy.proxy_url("user:pr0xy-pass"))
    error = caught.value
    assert isinstance(error, curlx.ProxyError)
    assert error.code == 7 and error.info is not None
    assert error.info.http_connect_code == 403 and error.status_code == 403
    assert error.retry.kind is RetryKind.NEVER
    for text in (str(error), repr(error), error.explain(), error.message):
        assert "pr0xy-pass" not in text
    assert app.connections == 0


@pytest.mark.parametrize("userinfo", [None, "user:wrong"])
def test_proxy_407_for_missing_or_wrong_credentials(
    userinfo: str | None, lab: Lab, pki: PKI
) -> None:
    proxy = lab.proxy(credentials=("user", "right"))
    plain = lab.app()
    secure = lab.app(tls=True)
    with Session(timeout=T, verify=str(pki.ca_file), proxy=proxy.proxy_url(userinfo)) as s:
        response = s.get(plain.url("/"))  # no tunnel: the proxy's 407 is the response
        with pytest.raises(curlx.ProxyTunnelRefused) as caught:
            s.get(secure.url("/"))
    assert response.status_code == 407
    assert response.headers["proxy-authenticate"] == 'Basic realm="test proxy"'
    assert caught.value.info is not None and caught.value.info.http_connect_code == 407
    assert "wrong" not in str(caught.value) and "wrong" not in repr(caught.value)
    assert plain.connections == 0 and secure.connections == 0


def test_unreachable_proxy_keeps_its_credentials_secret(lab: Lab) -> None:
    app = lab.app()
    proxy = f"http://user:pr0xy-pass@127.0.0.1:{closed_port()}"
    with Session(timeout=T, proxy=proxy) as s, pytest.raises(curlx.ConnectError) as caught:
        s.get(app.url("/"))
    for text in (str(caught.value), repr(caught.value), caught.value.explain()):
        assert "pr0xy-pass" not in text
    assert app.connections == 0


# --- 8. safe defaults ----------------------------------------------------------------------------


def test_tls_is_verified_by_default(lab: Lab, pki: PKI) -> None:
    app = lab.app(tls=True)
    with Session(timeout=T) as s:
        with pytest.raises(curlx.PeerFailedVerification) as caught:
            s.get(app.url("/"))
        assert isinstance(caught.value, curlx.CertificateError) and caught.value.code == 60
        assert s.get(app.url("/"), verify=str(pki.ca_file)).status_code == 200
        assert s.get(app.url("/"), verify=False).status_code == 200
    with Session(timeout=T, verify=str(pki.ca_file)) as s:
        assert s.get(app.url("/")).text == "ok"
    assert len(app.requests) == 3  # the refused handshake sent no request


def test_unverified_connection_is_not_reused_for_a_verified_request(lab: Lab, pki: PKI) -> None:
    app = lab.app(tls=True)
    with Session(timeout=T) as s:
        assert s.get(app.url("/"), verify=False).status_code == 200
        with pytest.raises(curlx.PeerFailedVerification):
            s.get(app.url("/"))
        assert s.get(app.url("/"), verify=str(pki.ca_file)).status_code == 200
    assert len(app.requests) == 2


@pytest.mark.parametrize("url", ["file:///etc/passwd", "FILE:///etc/passwd", "file:/etc/passwd"])
def test_file_urls_are_refused(url: str) -> None:
    with Session(timeout=T) as s, pytest.raises(curlx.UnsupportedProtocol) as caught:
        s.get(url)
    error = caught.value
    assert error.code == 1
    for fragment in passwd_fragments():
        assert fragment not in str(error) and fragment not in error.explain()
    assert error.info is None or error.info.size_download == 0


def test_redirect_to_a_file_url_is_refused(lab: Lab) -> None:
    app = lab.app(routes({"/leak": redirect(302, "file:///etc/passwd")}))
    with Session(timeout=T) as s, pytest.raises(curlx.UnsupportedProtocol) as caught:
        s.get(app.url("/leak"))
    error = caught.value
    assert error.code == 1 and "disabled" in error.message
    assert error.info is not None and error.info.size_download == 0
    for fragment in passwd_fragments():
        assert fragment not in str(error) and fragment not in error.explain()
    assert len(app.requests) == 1


def test_allowed_protocols_widen_on_purpose(tmp_path: Path) -> None:
    local = tmp_path / "local.txt"
    local.write_bytes(b"local file content\n")
    with Session(timeout=T, allowed_protocols={"http", "https", "file"}) as s:
        assert s.get(local.as_uri()).content == b"local file content\n"
    with pytest.raises(curlx.InvalidRequest, match="no-such-scheme"):
        Session(allowed_protocols={"http", "no-such-scheme"})


def test_widened_session_still_refuses_redirects_to_file(lab: Lab, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"TOP SECRET\n")
    app = lab.app(routes({"/leak": redirect(302, secret.as_uri())}))
    with Session(timeout=T, allowed_protocols={"http", "https", "file"}) as s:
        with pytest.raises(curlx.UnsupportedProtocol):
            s.get(app.url("/leak"))


BAD_CHARS = [pytest.param(c, id=repr(c)) for c in ("\r", "\n", "\x00")]
INJECTIONS: list[Any] = [
    pytest.param(
        lambda s, url, c: s.get(url, headers={f"X-{c}Evil": "v"}), "header name", id="header-name"
    ),
    pytest.param(
        lambda s, url, c: s.get(url, headers={"X-Test": f"a{c}Evil: 1"}),
        "header 'X-Test' value",
        id="header-value",
    ),
    pytest.param(lambda s, url, c: s.request(f"GET{c}", url), "method=", id="method"),
    pytest.param(lambda s, url, c: s.get(f"{url}?a={c}b"), "url=", id="url"),
    pytest.param(
        lambda s, url, c: s.get(url, cookies={"sid": f"1{c}2"}), "cookie 'sid'", id="cookie"
    ),
    pytest.param(lambda s, url, c: s.get(url, auth=(f"u{c}", "pw")), "auth user", id="auth"),
]


@pytest.mark.parametrize("char", BAD_CHARS)
@pytest.mark.parametrize(("send", "field"), INJECTIONS)
def test_control_characters_are_refused_before_sending(
    send: Callable[[Session, str, str], object], field: str, char: str, lab: Lab
) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        with pytest.raises(curlx.InvalidRequest) as caught:
            send(s, app.url("/"), char)
        assert s.get(app.url("/after")).status_code == 200
    error = caught.value
    assert isinstance(error, curlx.UsageError) and isinstance(error, ValueError)
    assert error.code is None
    assert field in str(error)
    assert [r.path for r in app.requests] == ["/after"]
    assert app.connections == 1


def test_session_header_with_control_character_is_refused(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T, headers={"X-Session": "a\r\nX-Evil: 1"}) as s:
        with pytest.raises(curlx.InvalidRequest, match="header 'X-Session' value"):
            s.get(app.url("/"))
    assert app.connections == 0


def test_server_that_never_answers_times_out(lab: Lab) -> None:
    app = lab.app(stall)
    with Session() as s:
        started = time.monotonic()
        with pytest.raises(curlx.ReadTimeout) as caught:
            s.get(app.url("/stall"), timeout=1)
        elapsed = time.monotonic() - started
    assert elapsed < 1 + 2.5
    error = caught.value
    assert isinstance(error, curlx.TimeoutError) and isinstance(error, builtins.TimeoutError)
    assert error.code == 28 and error.retry.kind is RetryKind.IDEMPOTENT
    assert len(app.requests) == 1


def test_read_timeout_after_sending_a_body(lab: Lab) -> None:
    app = lab.app(stall)
    with Session() as s:
        started = time.monotonic()
        # total=4 only bounds how long the test can take if the watchdog ever regresses.
        with pytest.raises(curlx.ReadTimeout):
            s.post(app.url("/stall"), data=b"x" * 100, timeout=curlx.Timeout(T, read=1, total=4))
        elapsed = time.monotonic() - started
    assert elapsed < 1 + 2.5


MEGABYTE = b"x" * 1_000_000


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_max_size(chunked: bool, lab: Lab) -> None:
    app = lab.app(routes({"/big": Reply(200, MEGABYTE, chunked=chunked)}))
    with Session(timeout=T) as s:
        with pytest.raises(curlx.FilesizeExceeded) as caught:
            s.get(app.url("/big"), max_size=1000)
        assert s.get(app.url("/big"), max_size=len(MEGABYTE)).content == MEGABYTE
    error = caught.value
    assert isinstance(error, curlx.LimitExceeded) and error.code == 63
    assert error.info is not None
    # With Content-Length libcurl refuses before any body byte; chunked, it stops at the limit.
    assert error.info.size_download == (1000 if chunked else 0)


def test_bad_max_size_and_max_redirects_are_refused(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        with pytest.raises(curlx.InvalidRequest, match="max_size"):
            s.get(app.url("/"), max_size=-1)
        with pytest.raises(curlx.InvalidRequest, match="max_redirects"):
            s.get(app.url("/"), max_redirects=-1)
    assert app.connections == 0


def test_infinite_timeout_is_refused(lab: Lab) -> None:
    app = lab.app()
    with Session() as s, pytest.raises(curlx.InvalidRequest, match="finite"):
        s.get(app.url("/"), timeout=float("inf"))
    assert app.connections == 0


# --- 9. the Session keeps working after every kind of error ---------------------------------------


def reset_mid_body(request: Request, exchange: Exchange) -> Reply | None:
    exchange.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"y" * 10)
    reset(exchange.sock)
    return None


@dataclass(frozen=True)
class BadCase:
    expected: type[BaseException]
    setup: Callable[[Lab], tuple[str, dict[str, Any]]]
    raise_for_status: bool = False


BAD_CASES = {
    "refused-port": BadCase(
        curlx.CouldntConnect, lambda lab: (f"http://127.0.0.1:{closed_port()}/", {})
    ),
    "dns": BadCase(curlx.CouldntResolveHost, lambda lab: ("http://curlx-tests.invalid/", {})),
    "read-timeout": BadCase(
        curlx.ReadTimeout, lambda lab: (lab.app(stall).url(), {"timeout": 1, "data": None})
    ),
    "tls-verification": BadCase(
        curlx.PeerFailedVerification, lambda lab: (lab.app(tls=True).url(), {})
    ),
    "404": BadCase(curlx.HTTPClientError, lambda lab: (lab.app(routes({})).url("/x"), {}), True),
    "redirect-loop": BadCase(
        curlx.TooManyRedirects,
        lambda lab: (lab.app(routes({"/l": redirect(302, "/l")})).url("/l"), {"max_redirects": 2}),
    ),
    "max-size": BadCase(
        curlx.FilesizeExceeded,
        lambda lab: (lab.app(routes({"/b": Reply(200, MEGABYTE)})).url("/b"), {"max_size": 10}),
    ),
    "invalid-header": BadCase(
        curlx.InvalidRequest,
        lambda lab: (lab.app().url(), {"headers": {"X-Leftover": "1", "X-Bad": "a\r\nb: c"}}),
    ),
    "unsupported-protocol": BadCase(
        curlx.UnsupportedProtocol, lambda lab: ("file:///etc/passwd", {})
    ),
    "reset-mid-body": BadCase(curlx.RecvError, lambda lab: (lab.app(reset_mid_body).url(), {})),
    "proxy-refusal": BadCase(
        curlx.ProxyTunnelRefused,
        lambda lab: (
            lab.app(tls=True).url(),
            {"proxy": lab.proxy(refuse_connect=True).proxy_url("u:p"), "verify": False},
        ),
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES.values()), ids=list(BAD_CASES))
def test_session_works_after_error(case: BadCase, lab: Lab) -> None:
    healthy = lab.app()
    url, options = case.setup(lab)
    bad: dict[str, Any] = {
        "headers": {"X-Leftover": "1"},
        "data": b"leftover body",
        "auth": ("leftover", "pw"),
        "cookies": {"leftover": "1"},
        "params": {"leftover": "1"},
        "timeout": T,
        **options,
    }
    with Session(timeout=T) as s:
        with pytest.raises(case.expected):
            response = s.request("PATCH", url, **bad)
            if case.raise_for_status:
                response.raise_for_status()
        proxied = [len(p.records) for p in lab.proxies]
        response = s.get(healthy.url("/healthy"))
    assert response.status_code == 200 and response.text == "ok"
    assert response.url == healthy.url("/healthy") and response.history == []
    assert response.info.effective_method == "GET"
    got = healthy.requests[-1]
    assert (got.method, got.target, got.body) == ("GET", "/healthy", b"")
    for name in (
        "x-leftover",
        "x-bad",
        "content-type",
        "content-length",
        "authorization",
        "cookie",
    ):
        assert got.header(name) is None, name
    assert [len(p.records) for p in lab.proxies] == proxied  # not sent through the proxy
    assert len(healthy.requests) == 1


# --- 10. lifecycle and threads -------------------------------------------------------------------


def test_changed_session_settings_take_effect(lab: Lab) -> None:
    app = lab.app()
    proxy = lab.proxy()
    with Session(timeout=T) as s:
        s.get(app.url("/1"))
        s.proxy = proxy.proxy_url()
        s.headers = curlx.Headers({"X-Set": "later"})
        s.auth = ("user", "pw")
        s.params = {"p": "1"}
        s.get(app.url("/2"))
        s.proxy = None
        s.headers = curlx.Headers()
        s.auth = None
        s.params = None
        s.get(app.url("/3"))
    one, two, three = app.requests
    assert [r.target for r in app.requests] == ["/1", "/2?p=1", "/3"]
    assert len(proxy.records) == 1 and proxy.records[0].target == app.url("/2?p=1")
    assert (two.header("x-set"), two.header("authorization")) == ("later", basic("user", "pw"))
    for got in (one, three):
        assert (got.header("x-set"), got.header("authorization")) == (None, None)


def test_closed_session_refuses_requests(lab: Lab) -> None:
    app = lab.app()
    with Session(timeout=T) as s:
        assert s.get(app.url()).status_code == 200
        assert repr(s) == "<curlx.Session open>"
    assert repr(s) == "<curlx.Session closed>"
    s.close()  # closing twice is fine
    with pytest.raises(curlx.InvalidOperation) as caught:
        s.get(app.url())
    error = caught.value
    assert isinstance(error, RuntimeError) and error.code is None
    assert "closed" in str(error) and "Create a new Session" in str(error)
    assert s.cookies == {}
    assert len(app.requests) == 1


def test_session_used_by_two_threads_at_once(lab: Lab) -> None:
    entered = threading.Event()
    release = threading.Event()

    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path == "/slow":
            entered.set()
            release.wait(T)
        return Reply(200, request.path.encode())

    app = lab.app(handler)
    results: list[object] = []
    with Session(timeout=T) as s:

        def slow() -> None:
            try:
                results.append(s.get(app.url("/slow")).text)
            except BaseException as exc:  # noqa: B036 - reported by the assertion below
                results.append(exc)

        worker = threading.Thread(target=slow)
        worker.start()
        try:
            assert entered.wait(T)
            with pytest.raises(curlx.InvalidOperation, match="another thread"):
                s.get(app.url("/fast"))
        finally:
            release.set()
            worker.join(T)
        assert results == ["/slow"]
        assert s.get(app.url("/fast")).text == "/fast"
    assert [r.path for r in app.requests] == ["/slow", "/fast"]


def test_one_session_per_thread(lab: Lab) -> None:
    app = lab.app()
    start = threading.Barrier(8, timeout=T)
    outcomes: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            with Session(timeout=T) as s:
                start.wait()
                statuses = [s.get(app.url(f"/t{i}")).status_code for i in range(5)]
            with lock:
                outcomes.append(statuses)
        except BaseException as exc:  # noqa: B036 - reported by the assertion below
            with lock:
                outcomes.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(T * 2)
    assert outcomes == [[200] * 5] * 8
    assert len(app.requests) == 40
    assert app.connections == 8


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_session_reuses_one_connection(tls: bool, lab: Lab, pki: PKI) -> None:
    app = lab.app(tls=tls)
    with Session(timeout=T, verify=str(pki.ca_file)) as s:
        for i in range(20):
            assert s.get(app.url(f"/n{i}")).status_code == 200
    assert len(app.requests) == 20
    assert app.connections == 1
    assert {r.connection for r in app.requests} == {1}
