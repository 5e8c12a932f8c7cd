"""Properties, with hypothesis, against real loopback peers.

- Redaction: credentials (any user name and password, with ``:@/?#%``, unicode and text that is
  already percent-encoded, each percent-encoded into the URL) in the request URL, in the proxy
  URL and in a redirect target never show in ``str(e)``, ``repr(e)``, ``e.explain()``, the
  traceback, ``pickle.dumps(e)``, ``e.url``, ``e.info``, the crawl's Result, or the JSON of a
  `curlx.Report` that counted it.
- Header validation: every legal header (a token name; a value of visible ASCII, spaces and
  tabs) is accepted and arrives at the server as sent; every name or value with CR, LF or NUL
  is refused with `curlx.InvalidRequest` before anything is sent, however it is given.

Each generated credential is wrapped in marker strings (``uSr7...7rSu``, ``pWd9...9dWp``) that
appear nowhere else, so a leak of any end of it is caught, also in JSON or a pickle.
"""

from __future__ import annotations

import json
import pickle
import secrets
import traceback
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import quote

import pycurl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support.http import Exchange, HTTPApp, Reply, Request
from support.raw import closed_port

import curlx

T = curlx.Timeout(connect=2, read=2, total=5)
MARKERS = ("uSr7", "7rSu", "pWd9", "9dWp")
SETTINGS = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# --- servers ----------------------------------------------------------------------------------

REDIRECTS: dict[str, str] = {}
"""Where ``/redirect/<token>`` sends its client (filled per example)."""


def handler(request: Request, exchange: Exchange) -> Reply:
    if request.path.startswith("/redirect/"):
        return Reply(302, headers=[("Location", REDIRECTS[request.path.rsplit("/", 1)[1]])])
    return Reply(200, b"ok")


@pytest.fixture(scope="module")
def app() -> Iterator[HTTPApp]:
    with HTTPApp(handler) as server:
        yield server


@pytest.fixture(scope="module")
def refused() -> int:
    return closed_port()


@pytest.fixture(scope="module")
def session() -> Iterator[curlx.Session]:
    with curlx.Session(timeout=T) as s:
        yield s


# --- redaction ----------------------------------------------------------------------------------

special = st.sampled_from(list(":@/?#%[]&=+ ;,\\'\"<>!$*()~\t\r\n\x00"))
free_text = st.text(
    alphabet=st.one_of(special, st.characters(codec="utf-8"), st.sampled_from("0123456789ABCDEF")),
    max_size=12,
)
pre_encoded = st.text(max_size=6).map(lambda t: quote(t, safe=""))  # "%C3%A9%40"...
credential_text = st.one_of(
    free_text,
    pre_encoded,
    st.lists(st.sampled_from(["%", "%40", "%3A", "%25", "@", ":"]), max_size=6).map("".join),
)
users = credential_text.map(lambda t: f"uSr7{t}7rSu")
passwords = credential_text.map(lambda t: f"pWd9{t}9dWp")


def userinfo(user: str, password: str) -> str:
    return f"{quote(user, safe='')}:{quote(password, safe='')}"


def expected_error(user: str, password: str, otherwise: type[curlx.CurlError]) -> tuple[type, ...]:
    """`otherwise`; or, for credentials that decode to control characters, also URLMalformat
    (libcurl refuses some of them, such as NUL, with code 3, depending on where they are)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in user + password):
        return (otherwise, curlx.URLMalformat)
    return (otherwise,)


def secrets_of(user: str, password: str) -> list[str]:
    return [*MARKERS, user, password, quote(user, safe=""), quote(password, safe="")]


def assert_nothing_shows(error: BaseException, result: curlx.Result, words: list[str]) -> None:
    """No word in any text or pickle of the error, the Result or a Report of it."""
    assert isinstance(error, curlx.CurlError)
    report = curlx.Report()
    report.add(result)
    texts = [
        str(error),
        repr(error),
        error.explain(),
        "".join(traceback.format_exception(error)),
        error.url or "",
        repr(error.info),
        repr(result),
        json.dumps(report.to_dict()),
        report.render(),
    ]
    blobs = [pickle.dumps(error), pickle.dumps(result), pickle.dumps(report)]
    for word in words:
        for text in texts:
            assert word not in text
        for blob in blobs:
            assert word.encode() not in blob


def session_error(session: curlx.Session, url: str, **options: object) -> curlx.CurlError:
    with pytest.raises(curlx.CurlError) as caught:
        session.get(url, **options)
    return caught.value


@settings(SETTINGS, max_examples=300)
@given(user=users, password=passwords)
def test_credentials_in_the_request_url_never_show(
    user: str, password: str, refused: int, session: curlx.Session
) -> None:
    url = f"http://{userinfo(user, password)}@127.0.0.1:{refused}/path"
    error = session_error(session, url)
    assert isinstance(error, expected_error(user, password, curlx.CouldntConnect)), error
    assert error.url == f"http://127.0.0.1:{refused}/path"
    [result] = curlx.fetch_many([url], concurrency=1, timeout=T)
    assert type(result.error) is type(error) and result.url == error.url
    assert_nothing_shows(error, result, secrets_of(user, password))
    assert result.error is not None
    assert_nothing_shows(result.error, result, secrets_of(user, password))


def check_proxy(
    proxy: str, words: list[str], expected: tuple[type, ...], app: HTTPApp, session: curlx.Session
) -> None:
    before = len(app.requests)
    error = session_error(session, app.url("/through-proxy"), proxy=proxy)
    assert isinstance(error, expected), error
    [result] = curlx.fetch_many([app.url("/through-proxy")], concurrency=1, timeout=T, proxy=proxy)
    assert result.error is not None and isinstance(result.error, expected), result.error
    assert len(app.requests) == before  # nothing went around the proxy
    assert_nothing_shows(error, result, words)
    assert_nothing_shows(result.error, result, words)


@settings(SETTINGS, max_examples=300)
@given(
    user=users,
    password=passwords,
    scheme=st.sampled_from(["http", "https", "socks4", "socks5", "socks5h"]),
)
def test_credentials_in_the_proxy_url_never_show(
    user: str, password: str, scheme: str, refused: int, app: HTTPApp, session: curlx.Session
) -> None:
    proxy = f"{scheme}://{userinfo(user, password)}@127.0.0.1:{refused}"
    expected = expected_error(user, password, curlx.CouldntConnect)
    check_proxy(proxy, secrets_of(user, password), expected, app, session)


@pytest.mark.parametrize(
    ("user", "password"),
    [("uSr7 a:b@c/d?e#f%g7rSu", "pWd9%41%40:/?#@\u00e9\u20ac9dWp"), ("uSr77rSu", "pWd9%9dWp")],
)
def test_credentials_of_an_unresolvable_proxy_never_show(
    user: str, password: str, app: HTTPApp, session: curlx.Session
) -> None:
    """Few examples: every name lookup may wait on this machine's resolver (seconds)."""
    proxy = f"http://{userinfo(user, password)}@proxy.curlx-tests.invalid:3128"
    # A lost DNS answer makes the lookup outlast the connect timeout: a ResolveTimeout.
    expected = (curlx.CouldntResolveProxy, curlx.ResolveTimeout)
    check_proxy(proxy, secrets_of(user, password), expected, app, session)


@settings(SETTINGS, max_examples=300)
@given(user=users, password=passwords)
def test_credentials_in_a_redirect_target_never_show(
    user: str, password: str, refused: int, app: HTTPApp, session: curlx.Session
) -> None:
    token = secrets.token_hex(8)
    REDIRECTS[token] = f"http://{userinfo(user, password)}@127.0.0.1:{refused}/landed"
    url = app.url(f"/redirect/{token}")
    error = session_error(session, url)
    assert isinstance(error, expected_error(user, password, curlx.CouldntConnect)), error
    assert error.url == f"http://127.0.0.1:{refused}/landed"  # where it failed, redacted
    assert error.info is not None and error.info.redirect_count == 1
    [result] = curlx.fetch_many([url], concurrency=1, timeout=T)
    assert type(result.error) is type(error)
    assert_nothing_shows(error, result, secrets_of(user, password))
    assert result.error is not None
    assert_nothing_shows(result.error, result, secrets_of(user, password))


@settings(SETTINGS, max_examples=300)
@given(
    user=users,
    password=passwords,
    scheme=st.sampled_from(["http", "https", "socks5h", "ftp"]),
    code=st.sampled_from([5, 6, 7, 28, 35, 56, 97]),
)
def test_translate_removes_credentials_libcurl_quotes(
    user: str, password: str, scheme: str, code: int
) -> None:
    """Cross-check: a libcurl message quoting a URL with credentials is redacted by translate."""
    message = f"Failed to reach {scheme}://{userinfo(user, password)}@host.test:81/p: boom"
    error = curlx.translate(pycurl.error(code, message))
    assert error.args == (code, f"Failed to reach {scheme}://host.test:81/p: boom")
    for word in secrets_of(user, password):
        assert word not in str(error) and word.encode() not in pickle.dumps(error)


# --- header validation --------------------------------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
names = st.text(alphabet=TCHAR, min_size=1, max_size=20).map(lambda n: f"X-{n}")
"""Token names; "X-" keeps them clear of the headers libcurl itself manages (Host...)."""
visible_ascii = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
any_values = st.text(alphabet=st.one_of(visible_ascii, st.just("\t")), max_size=60)
values = any_values.filter(lambda v: v == "" or v.strip(" \t") != "")
"""Legal values; a value of only spaces and tabs is a known bug (see below)."""
header_sets = st.lists(
    st.tuples(names, values), min_size=1, max_size=4, unique_by=lambda h: h[0].lower()
)


@settings(SETTINGS, max_examples=300)
@given(headers=header_sets, as_bytes=st.booleans())
def test_every_legal_header_is_sent_as_given(
    headers: list[tuple[str, str]], as_bytes: bool, app: HTTPApp, session: curlx.Session
) -> None:
    given_headers: list[tuple[str, str | bytes]] = [
        (name, value.encode("latin-1") if as_bytes else value) for name, value in headers
    ]
    response = session.get(app.url("/headers"), headers=given_headers)
    assert response.status_code == 200
    got = app.requests[-1]
    for name, value in headers:
        assert got.header_list(name) == [value.strip(" \t")]


latin1_values = st.tuples(
    values, st.characters(min_codepoint=0xA0, max_codepoint=0xFF), values
).map("".join)


@settings(SETTINGS, max_examples=20, phases=[Phase.generate])
@given(name=names, value=latin1_values)
def test_every_legal_latin1_header_value_is_sent(
    name: str, value: str, app: HTTPApp, session: curlx.Session
) -> None:
    session.get(app.url("/latin1"), headers={name: value})
    assert app.requests[-1].header_list(name) == [value.strip(" \t")]


@pytest.mark.parametrize("value", [" ", "\t", " \t  "])
def test_a_whitespace_only_header_value_is_sent_as_empty(
    value: str, app: HTTPApp, session: curlx.Session
) -> None:
    session.get(app.url("/blank"), headers={"X-Blank": value})
    assert app.requests[-1].header_list("X-Blank") == [""]


@pytest.mark.parametrize("value", [b"abc", b"a\r\nX-Injected: 1"], ids=["plain", "crlf"])
def test_session_header_bytes_values_are_sent_or_refused_like_request_headers(
    value: bytes, app: HTTPApp
) -> None:
    before = len(app.requests)
    try:
        with curlx.Session(timeout=T, headers=cast(Any, {"X-Bytes": value})) as own:
            own.get(app.url("/session-bytes"))
    except curlx.InvalidRequest:
        assert b"\r" in value and len(app.requests) == before
    else:
        assert app.requests[-1].header_list("X-Bytes") == [value.decode("latin-1")]


def with_bad_char(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`text` with CR, LF or NUL inserted somewhere (start, middle or end)."""
    return st.tuples(text, st.sampled_from(["\r", "\n", "\x00", "\r\n"]), st.integers(0, 60)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    )


bad_headers = st.one_of(
    st.tuples(with_bad_char(names), any_values),
    st.tuples(names, with_bad_char(any_values)),
)


@settings(SETTINGS, max_examples=300)
@given(
    header=bad_headers,
    way=st.sampled_from(["session", "session-settings", "get", "fetch_many"]),
    as_bytes=st.booleans(),
)
def test_header_with_cr_lf_or_nul_is_refused_before_sending(
    header: tuple[str, str], way: str, as_bytes: bool, app: HTTPApp, session: curlx.Session
) -> None:
    name, value = header
    given_value: str | bytes = value.encode("latin-1") if as_bytes else value
    headers = {name: given_value}
    before = (len(app.requests), app.connections)
    error: BaseException | None = None
    try:
        if way == "session":
            session.get(app.url("/bad"), headers=headers)
        elif way == "session-settings":
            with curlx.Session(timeout=T, headers=cast(Any, headers)) as own:
                own.get(app.url("/bad"))
        elif way == "get":
            curlx.get(app.url("/bad"), headers=headers, timeout=T)
        else:
            request = curlx.Request(app.url("/bad"), headers=cast(Any, headers))
            [result] = curlx.fetch_many([request], concurrency=1, timeout=T)
            error = result.error
    except curlx.CurlError as exc:
        error = exc
    assert isinstance(error, curlx.InvalidRequest), error
    assert error.code is None and isinstance(error, ValueError)
    assert (len(app.requests), app.connections) == before  # nothing was sent
