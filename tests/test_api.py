"""The module-level functions (`curlx.get` & co): one-shot requests on pooled Sessions.

They must behave as a Session does for one request, keep no cookies between calls, reuse
connections through the pool, and keep working after errors and from many threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from support.http import Exchange, Reply, Request, stall
from support.lab import Lab
from support.pki import PKI
from support.raw import closed_port

import curlx

T = 5.0

FUNCTIONS: list[tuple[str, Callable[..., curlx.Response]]] = [
    ("GET", curlx.get),
    ("HEAD", curlx.head),
    ("POST", curlx.post),
    ("PUT", curlx.put),
    ("PATCH", curlx.patch),
    ("DELETE", curlx.delete),
    ("OPTIONS", curlx.options),
]


@pytest.mark.parametrize(("method", "function"), FUNCTIONS, ids=[m for m, _ in FUNCTIONS])
def test_each_function_sends_its_method(
    method: str, function: Callable[..., curlx.Response], lab: Lab
) -> None:
    app = lab.app()
    response = function(app.url("/m"), timeout=T)
    assert app.requests[-1].method == method
    assert response.status_code == 200 and response.method == method
    assert response.content == (b"" if method == "HEAD" else b"ok")


def test_request_with_any_method(lab: Lab) -> None:
    app = lab.app()
    assert curlx.request("PROPFIND", app.url("/dav"), timeout=T).status_code == 200
    assert app.requests[-1].method == "PROPFIND"


def test_bodies_and_params(lab: Lab) -> None:
    app = lab.app()
    curlx.post(app.url("/form"), data={"a": "1", "b": "x y"}, timeout=T)
    curlx.put(app.url("/json"), json={"k": [1, 2]}, timeout=T)
    curlx.patch(app.url("/raw"), data=b"raw\xffbytes", timeout=T)
    curlx.get(app.url("/q?x=0#frag"), params=[("k", "1"), ("k", "2")], timeout=T)
    form, as_json, raw, query = app.requests
    assert (form.method, form.body) == ("POST", b"a=1&b=x+y")
    assert form.header("content-type") == "application/x-www-form-urlencoded"
    assert (as_json.method, as_json.body) == ("PUT", b'{"k":[1,2]}')
    assert as_json.header("content-type") == "application/json"
    assert (raw.method, raw.body) == ("PATCH", b"raw\xffbytes")
    assert query.target == "/q?x=0&k=1&k=2"


@pytest.mark.filterwarnings("ignore:HTTPPOST is deprecated:DeprecationWarning")
def test_files(lab: Lab) -> None:
    app = lab.app()
    curlx.post(
        app.url("/upload"),
        data={"field": "value"},
        files={"doc": ("doc.txt", b"file body", "text/plain")},
        timeout=T,
    )
    got = app.requests[-1]
    assert (got.header("content-type") or "").startswith("multipart/form-data; boundary=")
    assert b'name="field"\r\n\r\nvalue\r\n' in got.body
    assert b'name="doc"; filename="doc.txt"\r\nContent-Type: text/plain\r\n\r\nfile body' in (
        got.body
    )


def test_head_does_not_follow_redirects(lab: Lab) -> None:
    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path == "/from":
            return Reply(302, headers=[("Location", "/to")])
        return Reply(200, b"arrived")

    app = lab.app(handler)
    head = curlx.head(app.url("/from"), timeout=T)
    got = curlx.get(app.url("/from"), timeout=T)
    assert (head.status_code, head.is_redirect, head.content) == (302, True, b"")
    assert (got.status_code, got.text, got.redirect_count) == (200, "arrived", 1)
    assert [(r.method, r.path) for r in app.requests] == [
        ("HEAD", "/from"),
        ("GET", "/from"),
        ("GET", "/to"),
    ]


def test_cookies_are_not_carried_between_calls(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/login").respond_with_data(
        "in", headers={"Set-Cookie": "sid=abc123; Path=/"}
    )
    httpserver.expect_request("/me").respond_with_data("me")
    first = curlx.get(httpserver.url_for("/login"), timeout=T)
    curlx.get(httpserver.url_for("/me"), timeout=T)
    curlx.get(httpserver.url_for("/me"), cookies={"given": "1"}, timeout=T)
    curlx.get(httpserver.url_for("/me"), timeout=T)
    assert first.headers["set-cookie"].startswith("sid=abc123")
    cookies = [request.headers.get("Cookie") for request, _ in httpserver.log[1:]]
    assert cookies == [None, "given=1", None]


def test_consecutive_calls_reuse_a_connection(lab: Lab) -> None:
    app = lab.app()
    for i in range(20):
        assert curlx.get(app.url(f"/n{i}"), timeout=T).status_code == 200
    assert len(app.requests) == 20
    assert app.connections == 1


def test_options_of_one_call_do_not_leak_into_the_next(lab: Lab, pki: PKI) -> None:
    app = lab.app()
    proxy = lab.proxy()
    curlx.get(app.url("/proxied"), proxy=proxy.proxy_url(), timeout=T)
    curlx.put(app.url("/loaded"), data=b"body", headers={"X-Once": "1"}, timeout=T)
    curlx.get(app.url("/authed"), auth=("user", "pw"), cookies={"c": "1"}, timeout=T)
    curlx.get(app.url("/plain"), timeout=T)
    plain = app.requests[-1]
    assert len(proxy.records) == 1
    assert (plain.method, plain.target, plain.body) == ("GET", "/plain", b"")
    for name in ("x-once", "authorization", "cookie", "content-type"):
        assert plain.header(name) is None, name
    secure = lab.app(tls=True)
    assert curlx.get(secure.url("/"), verify=False, timeout=T).status_code == 200
    with pytest.raises(curlx.PeerFailedVerification):  # verify=False did not stick to the pool
        curlx.get(secure.url("/"), timeout=T)


def test_https_and_verification(lab: Lab, pki: PKI) -> None:
    app = lab.app(tls=True)
    with pytest.raises(curlx.PeerFailedVerification):
        curlx.get(app.url("/"), timeout=T)
    assert curlx.get(app.url("/"), verify=str(pki.ca_file), timeout=T).text == "ok"
    assert curlx.get(app.url("/"), verify=False, timeout=T).text == "ok"


def test_file_urls_need_allowed_protocols(tmp_path: Path) -> None:
    local = tmp_path / "local.txt"
    local.write_bytes(b"local\n")
    with pytest.raises(curlx.UnsupportedProtocol) as caught:
        curlx.get(local.as_uri(), timeout=T)
    assert caught.value.code == 1
    response = curlx.get(local.as_uri(), allowed_protocols={"file"}, timeout=T)
    assert response.content == b"local\n"
    with pytest.raises(curlx.UnsupportedProtocol):  # the widened Session was not pooled
        curlx.get(local.as_uri(), timeout=T)


ERRORS: list[Any] = [
    pytest.param(
        lambda lab: curlx.get(f"http://127.0.0.1:{closed_port()}/", timeout=T),
        curlx.CouldntConnect,
        id="refused",
    ),
    pytest.param(
        lambda lab: curlx.get("http://curlx-tests.invalid/", timeout=T),
        curlx.CouldntResolveHost,
        id="dns",
    ),
    pytest.param(
        lambda lab: curlx.get(lab.app(stall).url("/"), timeout=1), curlx.ReadTimeout, id="stall"
    ),
    pytest.param(
        lambda lab: curlx.get(lab.app().url(), headers={"X": "a\nb"}, timeout=T),
        curlx.InvalidRequest,
        id="invalid-header",
    ),
    pytest.param(
        lambda lab: curlx.put(lab.app().url(), http_version="9", timeout=T),
        curlx.InvalidRequest,
        id="http-version",
    ),
]


@pytest.mark.parametrize(("fail", "expected"), ERRORS)
def test_errors_are_typed_and_the_pool_recovers(
    fail: Callable[[Lab], object], expected: type[Exception], lab: Lab
) -> None:
    healthy = lab.app()
    with pytest.raises(expected):
        fail(lab)
    response = curlx.get(healthy.url("/after"), timeout=T)
    assert response.status_code == 200
    got = healthy.requests[-1]
    assert (got.method, got.path, got.body, got.header("x")) == ("GET", "/after", b"", None)


def test_status_errors_are_raised_on_request(lab: Lab) -> None:
    app = lab.app(lambda request, exchange: Reply(404, b"missing"))
    response = curlx.get(app.url("/nope"), timeout=T)
    assert response.status_code == 404
    with pytest.raises(curlx.HTTPClientError) as caught:
        response.raise_for_status()
    assert caught.value.response is response and caught.value.code == 22


def test_concurrent_calls_from_threads(lab: Lab) -> None:
    entered = threading.Barrier(9, timeout=T)

    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path.startswith("/together"):
            entered.wait()  # the 8 requests are in flight at the same time
        return Reply(200, request.path.encode())

    app = lab.app(handler)
    results: dict[int, object] = {}
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            text = curlx.get(app.url(f"/together/{i}"), timeout=T).text
        except BaseException as exc:  # noqa: B036 - reported by the assertion below
            text = repr(exc)
        with lock:
            results[i] = text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    entered.wait()
    for thread in threads:
        thread.join(T)
    assert results == {i: f"/together/{i}" for i in range(8)}
    assert app.connections == 8
    # and afterwards, one more call still works (on one of the pooled Sessions)
    assert curlx.get(app.url("/after"), timeout=T).text == "/after"
