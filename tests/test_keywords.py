"""The keywords a requests or httpx user types, against real loopback servers: each works, or
fails before sending with a typed error naming what curlx takes instead. Also the Response
attributes such users reach for (cookies, request, encoding, links, is_redirect)."""

from __future__ import annotations

from typing import Any

import pytest
from support.http import Exchange, Reply, Request
from support.lab import Lab
from support.raw import respond

import curlx
from curlx import Session

T = 5.0


def describe(request: Request, exchange: Exchange) -> Reply:
    """Answers with the request line, so a test sees the URL the server got."""
    return Reply(200, f"{request.method} {request.target}".encode())


def test_timeout_takes_requests_connect_read_pair(lab: Lab) -> None:
    app = lab.app(describe)
    with Session(timeout=(2, 3)) as s:
        assert s.timeout == curlx.Timeout(connect=2, read=3, total=None)
        assert s.get(app.url("/"), timeout=(1, 1)).status_code == 200
    with pytest.raises(curlx.InvalidSetting, match=r"\(connect, read\)"):
        curlx.get(app.url("/"), timeout=(1, 2, 3))


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ("a=1&b=x%20y", "a=1&b=x%20y"),
        ("?a=1", "a=1"),
        ([("a", "1"), ("a", "2")], "a=1&a=2"),
        ({"a": ["1", "2"], "b": None}, "a=1&a=2&b="),
        ({"q": "é"}, "q=%C3%A9"),
    ],
)
def test_params_in_every_form(lab: Lab, params: object, query: str) -> None:
    app = lab.app(describe)
    r = curlx.get(app.url("/p?z=0"), params=params, timeout=T)
    assert r.text == f"GET /p?z=0&{query}"


def test_bad_params_are_refused_with_the_forms_accepted(lab: Lab) -> None:
    app = lab.app(describe)
    with pytest.raises(curlx.InvalidRequest, match="list of \\(name, value\\) pairs"):
        curlx.get(app.url("/"), params=[1, 2], timeout=T)
    assert app.requests == []


def test_allow_redirects_is_requests_name_for_follow_redirects(lab: Lab) -> None:
    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path == "/old":
            return Reply(302, b"", [("Location", "/new")])
        return describe(request, exchange)

    app = lab.app(handler)
    r = curlx.get(app.url("/old"), allow_redirects=False, timeout=T)
    assert r.status_code == 302 and r.is_redirect
    r = curlx.get(app.url("/old"), allow_redirects=True, timeout=T)
    assert r.text == "GET /new" and not r.is_redirect
    with pytest.raises(curlx.InvalidRequest, match="not both"):
        curlx.get(app.url("/old"), allow_redirects=True, follow_redirects=False, timeout=T)


def test_proxies_route_by_scheme(lab: Lab) -> None:
    app = lab.app(describe)
    proxy = lab.proxy()
    r = curlx.get(app.url("/via"), proxies={"http": proxy.proxy_url()}, timeout=T)
    assert r.text.endswith("/via") and len(proxy.records) == 1
    with Session(proxies={"all://": proxy.proxy_url()}, timeout=T) as s:
        assert s.get(app.url("/again")).status_code == 200
    assert len(proxy.records) == 2
    curlx.get(app.url("/direct"), proxies={"https": proxy.proxy_url()}, timeout=T)
    assert len(proxy.records) == 2  # an http URL does not use the https proxy
    with pytest.raises(curlx.InvalidRequest, match="'http', 'https' or 'all'"):
        curlx.get(app.url("/"), proxies={"http://example.org": proxy.proxy_url()}, timeout=T)
    with pytest.raises(curlx.InvalidRequest, match="not both"):
        Session(proxy=proxy.proxy_url(), proxies={"all": proxy.proxy_url()})


def test_verify_takes_a_ca_file_and_cert_a_cert_key_pair(lab: Lab) -> None:
    server = lab.https(respond(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    r = curlx.get(server.url("/", "https"), verify=str(lab.pki.ca_file), timeout=T)
    assert r.text == "ok"
    with pytest.raises(curlx.CertificateError):
        curlx.get(server.url("/", "https"), verify=str(lab.pki.other_ca_file), timeout=T)
    strict = lab.https(
        respond(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), require_client_cert=True
    )
    pair = (str(lab.pki.client_cert_file), str(lab.pki.client_key_file))
    assert curlx.get(strict.url("/", "https"), verify=str(lab.pki.ca_file), cert=pair, timeout=T).ok


@pytest.mark.parametrize("auth", ["user:secret", b"user:secret", ("user",), ("u", 1)])
def test_auth_in_a_form_curlx_does_not_take_is_refused_without_echoing_it(
    lab: Lab, auth: object
) -> None:
    app = lab.app(describe)
    with pytest.raises(curlx.InvalidRequest, match=r"\(user, password\)") as caught:
        curlx.get(app.url("/"), auth=auth, timeout=T)
    assert "secret" not in str(caught.value) and app.requests == []
    with pytest.raises(curlx.InvalidRequest, match="DigestAuth"):
        Session(auth=auth)  # type: ignore[arg-type]


def test_response_hooks_and_request_hooks(lab: Lab) -> None:
    app = lab.app(describe)
    seen: list[Any] = []

    def on_request(request: curlx.Request) -> None:
        seen.append(("request", request.method, request.url, dict(request.headers or {})))

    def on_response(response: curlx.Response) -> None:
        seen.append(("response", response.status_code))

    with Session(event_hooks={"request": [on_request], "response": [on_response]}) as s:
        s.get(app.url("/h"), auth=("user", "secret"), timeout=T)
    assert seen[0][:3] == ("request", "GET", app.url("/h"))
    assert seen[0][3]["Authorization"] == "[redacted]"
    assert seen[1] == ("response", 200)

    def replace(response: curlx.Response, *args: object, **kwargs: object) -> curlx.Response:
        response.encoding = "latin-1"
        return response

    r = curlx.get(app.url("/r"), hooks={"response": replace}, timeout=T)
    assert r.encoding == "iso8859-1"
    with pytest.raises(curlx.InvalidRequest, match="'request'"):
        Session(hooks={"pre_request": print})


def test_base_url_joins_relative_urls_as_httpx_does(lab: Lab) -> None:
    app = lab.app(describe)
    with Session(base_url=app.url("/api/v1"), timeout=T) as s:
        assert s.get("/users").text == "GET /api/v1/users"
        assert s.get("items?page=2").text == "GET /api/v1/items?page=2"
        assert s.get(app.url("/elsewhere")).text == "GET /elsewhere"
        assert s.get("/users").url == app.url("/api/v1/users")


def test_response_cookies_request_links_and_encoding(lab: Lab) -> None:
    def handler(request: Request, exchange: Exchange) -> Reply:
        return Reply(
            200,
            "café".encode("latin-1"),
            [
                ("Set-Cookie", "session=abc123; Path=/; HttpOnly"),
                ("Set-Cookie", "theme=dark"),
                ("Link", '<https://api.test/p2>; rel="next", <https://api.test/p9>; rel=last'),
                ("Content-Type", "text/plain"),
            ],
        )

    app = lab.app(handler)
    r = curlx.get(
        app.url("/c"),
        headers={"X-Trace": "t1"},
        cookies={"token": "hunter2"},
        auth=("user", "pw"),
        timeout=T,
    )
    assert r.cookies == {"session": "abc123", "theme": "dark"}
    assert r.links["next"]["url"] == "https://api.test/p2" and r.links["last"]["rel"] == "last"
    assert r.request.method == "GET" and r.request.url == app.url("/c")
    sent = r.request.headers
    assert isinstance(sent, curlx.Headers)
    assert sent["X-Trace"] == "t1" and sent["User-Agent"].startswith("curlx/")
    assert sent["Cookie"] == "[redacted]" and sent["Authorization"] == "[redacted]"
    assert "hunter2" not in repr(r.request)
    assert r.text == "café".encode("latin-1").decode("utf-8", "replace")
    r.encoding = "latin-1"
    assert r.text == "café"
    with pytest.raises(curlx.InvalidSetting, match="codec"):
        r.encoding = "no-such-codec"


@pytest.mark.parametrize(
    ("keyword", "says"),
    [
        ("http2", 'http_version="2"'),
        ("trust_env", 'proxy=""'),
        ("max_retries", "retry="),
        ("ssl_context", "verify="),
        ("no_such_option", "It takes:"),
    ],
)
def test_unknown_keywords_name_the_curlx_equivalent(lab: Lab, keyword: str, says: str) -> None:
    app = lab.app(describe)
    with pytest.raises(curlx.InvalidRequest, match=says):
        curlx.get(app.url("/"), **{keyword: True})
    given: dict[str, Any] = {keyword: True}
    with pytest.raises(curlx.InvalidRequest, match=says):
        Session(**given)
    with pytest.raises(curlx.InvalidRequest, match=says):
        list(curlx.fetch_many([app.url("/")], **given))
    assert app.requests == []
