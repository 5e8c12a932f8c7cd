"""Credentials never leave in a URL or a message."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curlx._urls import host_of, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:pw@host/path", "http://host/path"),
        ("https://user@host:8443/p?q=a@b", "https://host:8443/p?q=a@b"),
        ("http://u:p%40ss@host/", "http://host/"),
        ("http://u:p@ss@host/x", "http://host/x"),
        ("user:pw@host/path", "host/path"),
        ("socks5h://alice:secret@proxy:1080", "socks5h://proxy:1080"),
        ("http://host/path?next=http://a:b@c/", "http://host/path?next=http://a:b@c/"),
        ("http://host/", "http://host/"),
        ("", ""),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


userinfo_text = st.text(
    alphabet=st.characters(blacklist_characters="/?#@ \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0"),
    min_size=1,
)


@given(user=userinfo_text, password=st.text(alphabet="abcdefXYZ0123%:!$&'()*+,;=", min_size=4))
def test_redacted_url_keeps_neither_user_nor_password(user: str, password: str) -> None:
    url = f"https://{user}:{password}@example.test/path"
    redacted = redact_url(url)
    assert redacted == "https://example.test/path"
    message = f"Failed for {url} after 3 ms"
    assert redact_text(message) == "Failed for https://example.test/path after 3 ms"


hosts = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True)


@given(
    scheme=st.sampled_from(["http", "https", "ftp"]),
    user=st.sampled_from(["", "u@", "u:p@", "a:b:c@"]),
    host=hosts,
    port=st.sampled_from(["", ":80", ":8443"]),
    tail=st.sampled_from(["", "/", "/p?q=1", "?x=@y", "#f", "/a@b"]),
)
def test_host_of_agrees_with_urlsplit(
    scheme: str, user: str, host: str, port: str, tail: str
) -> None:
    url = f"{scheme}://{user}{host}{port}{tail}"
    assert host_of(url) == (urlsplit(url).hostname or "")


@pytest.mark.parametrize(
    ("url", "host"),
    [("http://[::1]:8080/x", "::1"), ("HTTP://Example.ORG/", "example.org"), ("host/p", "host")],
)
def test_host_of_special_forms(url: str, host: str) -> None:
    assert host_of(url) == host
