"""The value types: Headers, Timeout, DigestAuth and Response built from raw header lines.

These need no server: Response is built from the raw lines libcurl's header callback would have
collected. `test_session.py` checks the same properties on real transfers.
"""

from __future__ import annotations

import dataclasses
import pickle
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

import curlx
from curlx import DigestAuth, Headers, RedirectHop, Response, Timeout, TransferInfo

TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
token = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12)
header_pairs = st.lists(st.tuples(token, st.text(max_size=20)), max_size=20)
# Values that survive the wire: printable ASCII with no whitespace at either end.
wire_value = st.text(alphabet=string.ascii_letters + string.digits + " ;=,/-", max_size=20).map(
    str.strip
)


# --- Headers -----------------------------------------------------------------------------------


@given(header_pairs)
def test_headers_keep_every_pair_in_order(pairs: list[tuple[str, str]]) -> None:
    headers = Headers(pairs)
    assert headers.multi_items() == pairs
    first_seen: dict[str, str] = {}
    for name, _ in pairs:
        first_seen.setdefault(name.lower(), name)
    assert list(headers) == list(first_seen.values())
    assert len(headers) == len(first_seen)


@given(header_pairs)
def test_header_lookups_ignore_case(pairs: list[tuple[str, str]]) -> None:
    headers = Headers(pairs)
    for name, _ in pairs:
        values = [v for k, v in pairs if k.lower() == name.lower()]
        for spelling in (name, name.lower(), name.upper(), name.swapcase()):
            assert spelling in headers
            assert headers[spelling] == values[0]
            assert headers.get(spelling) == values[0]
            assert headers.get_list(spelling) == values
    assert headers == Headers([(k.swapcase(), v) for k, v in pairs])


@given(st.lists(st.tuples(token, wire_value), max_size=15))
def test_headers_parse_what_was_sent(pairs: list[tuple[str, str]]) -> None:
    lines = [f"{name}: {value}\r\n".encode("latin-1") for name, value in pairs]
    assert Headers.parse([*lines, b"\r\n"]).multi_items() == pairs


def test_absent_header() -> None:
    headers = Headers([("A", "1")])
    with pytest.raises(KeyError):
        headers["b"]
    assert headers.get("b") is None
    assert headers.get_list("b") == []
    assert 1 not in headers  # type: ignore[comparison-overlap]
    assert len(Headers()) == 0 and list(Headers()) == []


def test_headers_from_a_mapping_and_equality_with_one() -> None:
    headers = Headers({"Content-Type": "text/plain", "X-A": "1"})
    assert headers.multi_items() == [("Content-Type", "text/plain"), ("X-A", "1")]
    assert headers == {"content-type": "text/plain", "x-a": "1"}
    assert headers != {"content-type": "text/html", "x-a": "1"}
    assert headers != Headers([("X-A", "1"), ("Content-Type", "text/plain")])  # order matters
    with pytest.raises(TypeError):
        hash(headers)


def test_headers_parse_folds_continuation_lines_and_skips_junk() -> None:
    lines = [b"X-Long: first\r\n", b"  second\r\n", b"\tthird\r\n", b"no colon\r\n", b"\r\n"]
    assert Headers.parse(lines).multi_items() == [("X-Long", "first second third")]


# --- Timeout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["connect", "read", "total"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (-0.5, ValueError),
        (0, ValueError),
        (0.0, ValueError),
        (float("nan"), ValueError),
        (True, TypeError),
        (False, TypeError),
        ("5", TypeError),
        ([5], TypeError),
    ],
)
def test_timeout_refuses_bad_values_naming_the_field(
    field: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        Timeout(**{field: value})  # type: ignore[arg-type]
    assert f"Timeout({field}=" in str(caught.value)


def test_timeout_defaults_and_of() -> None:
    assert Timeout() == Timeout(connect=10.0, read=30.0, total=None)
    assert Timeout.of(5) == Timeout(connect=5, read=5, total=None)
    assert Timeout.of(0.25) == Timeout(connect=0.25, read=0.25, total=None)
    assert Timeout.of(None) == Timeout(connect=None, read=None, total=None)
    custom = Timeout(connect=1, read=None, total=3)
    assert Timeout.of(custom) is custom
    with pytest.raises(ValueError, match="connect"):
        Timeout.of(-2)
    with pytest.raises(TypeError, match="connect"):
        Timeout.of(True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        custom.read = 4  # type: ignore[misc]


# --- DigestAuth --------------------------------------------------------------------------------


def test_digest_auth_hides_its_password() -> None:
    auth = DigestAuth("alice", "hunter2-secret")
    assert "hunter2-secret" not in repr(auth)
    assert "alice" in repr(auth)
    assert auth == DigestAuth("alice", "hunter2-secret")
    assert pickle.loads(pickle.dumps(auth)) == auth


# --- Response built from raw header lines ---------------------------------------------------

REDIRECTED = [
    b"HTTP/1.1 301 Moved Permanently\r\n",
    b"Location: /second\r\n",
    b"\r\n",
    b"HTTP/1.1 302 Found\r\n",
    b"Location: http://other.test/third\r\n",
    b"\r\n",
    b"HTTP/1.1 100 Continue\r\n",
    b"\r\n",
    b"HTTP/1.1 200 Fine Thanks\r\n",
    b"Content-Type: application/json; charset=utf-8\r\n",
    b"Set-Cookie: a=1\r\n",
    b"set-cookie: b=2\r\n",
    b"\r\n",
]


def make_response(
    lines: list[bytes], content: bytes = b"", status: int = 200, **info: object
) -> Response:
    return Response(
        status_code=status,
        content=content,
        header_lines=lines,
        info=TransferInfo(**info),  # type: ignore[arg-type]
        method="GET",
        request_url="http://first.test/one",
    )


def test_response_from_a_redirect_chain() -> None:
    response = make_response(
        REDIRECTED,
        b'{"caf\xc3\xa9": [1, 2]}',
        effective_url="http://other.test/third",
        redirect_count=2,
        http_version=2,
        total_time=0.25,
        primary_ip="127.0.0.1",
    )
    assert response.reason == "Fine Thanks"  # the final response's, not the 100's
    assert response.headers.get_list("SET-COOKIE") == ["a=1", "b=2"]
    assert "location" not in response.headers
    assert response.history == [
        RedirectHop(301, "http://first.test/one", Headers([("Location", "/second")])),
        RedirectHop(
            302, "http://first.test/second", Headers([("Location", "http://other.test/third")])
        ),
    ]
    assert response.url == "http://other.test/third"
    assert response.redirect_count == 2
    assert response.json() == {"café": [1, 2]}
    assert response.ok and not response.is_redirect
    assert response.http_version == "1.1"
    assert response.elapsed.total_seconds() == pytest.approx(0.25)
    assert response.primary_ip == "127.0.0.1"
    assert response.raise_for_status() is response
    assert repr(response) == "<Response [200] GET http://other.test/third>"


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/plain; charset=ISO-8859-1", "iso8859-1"),
        ("text/plain; charset=latin-1", "iso8859-1"),
        ('text/plain; charset="UTF-8"', "utf-8"),
        ("text/plain; charset=no-such-charset", "utf-8"),
        ("text/plain", "utf-8"),
        ("", "utf-8"),
    ],
)
def test_encoding_from_content_type(content_type: str, encoding: str) -> None:
    lines = [b"HTTP/1.1 200 OK\r\n", f"Content-Type: {content_type}\r\n".encode(), b"\r\n"]
    assert make_response(lines).encoding == encoding


def test_text_replaces_undecodable_bytes() -> None:
    lines = [b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain; charset=utf-8\r\n", b"\r\n"]
    assert make_response(lines, b"ok \xff").text == "ok \ufffd"


@pytest.mark.parametrize(("number", "name"), [(1, "1.0"), (2, "1.1"), (3, "2"), (30, "3"), (0, "")])
def test_http_version_from_libcurl_numbers(number: int, name: str) -> None:
    assert (
        make_response([b"HTTP/1.1 200 OK\r\n", b"\r\n"], http_version=number).http_version == name
    )


def test_http2_status_line_has_no_reason() -> None:
    response = make_response([b"HTTP/2 204\r\n", b"\r\n"], status=204)
    assert response.reason == ""
    assert make_response([]).reason == ""
    assert make_response([]).headers == Headers()


def test_unfollowed_redirect_is_a_redirect() -> None:
    lines = [b"HTTP/1.1 302 Found\r\n", b"Location: /next\r\n", b"\r\n"]
    response = make_response(lines, status=302)
    assert response.is_redirect and response.ok
    assert response.history == []
    assert response.url == "http://first.test/one"  # no effective URL: the request's


def test_response_pickles() -> None:
    response = make_response(REDIRECTED, b"body", effective_url="http://other.test/third")
    copy = pickle.loads(pickle.dumps(response))
    assert isinstance(copy, Response)
    assert (copy.status_code, copy.content, copy.method, copy.url) == (
        200,
        b"body",
        "GET",
        "http://other.test/third",
    )
    assert copy.headers == response.headers
    assert copy.history == response.history
    assert copy.info == response.info


def test_error_status_raises_the_class_of_its_range() -> None:
    lines = [b"HTTP/1.1 418 I'm a teapot\r\n", b"\r\n"]
    with pytest.raises(curlx.HTTPClientError) as caught:
        make_response(lines, status=418).raise_for_status()
    assert caught.value.status_code == 418
    assert "418 I'm a teapot" in str(caught.value)
