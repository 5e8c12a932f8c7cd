"""The handle options of an HTTP request: a Session's settings as options, and what one
request adds to them; which protocols and HTTP versions this libcurl can use."""

from __future__ import annotations

from typing import Any, Final

import pycurl

from .._curl import text
from .._version import __version__
from ._log import trace
from ._upload import UploadBody

__all__ = [
    "HTTP_VERSIONS",
    "USER_AGENT",
    "SentHeaders",
    "base_options",
    "http_version_supported",
    "protocol_mask",
    "request_extras",
    "supported_protocols",
    "upload_in",
]

# CURLPROTO_* bits by scheme (curl.h): pycurl names all but the two newest. Schemes with no bit
# (ws, wss, mqtts) cannot be allowed through CURLOPT_PROTOCOLS, and pycurl refuses the _STR form.
_PROTOCOL_BITS: Final[dict[str, int]] = {
    name.removeprefix("PROTO_").lower(): getattr(pycurl, name)
    for name in dir(pycurl)
    if name.startswith("PROTO_") and name != "PROTO_ALL"
} | {"mqtt": 1 << 28, "gophers": 1 << 29}
_HTTP_VERSION_OPTIONS: Final[dict[str, int]] = {
    "1.0": pycurl.CURL_HTTP_VERSION_1_0,
    "1.1": pycurl.CURL_HTTP_VERSION_1_1,
    "2": pycurl.CURL_HTTP_VERSION_2TLS,
    "2-prior-knowledge": pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
    "3": pycurl.CURL_HTTP_VERSION_3,
    "3-only": pycurl.CURL_HTTP_VERSION_3ONLY,
}
_FEATURES: Final[int] = pycurl.version_info()[4]
_LIBCURL_VERSION: Final[int] = pycurl.version_info()[2]
# FOLLOWLOCATION=2 (CURLFOLLOW_OBEYCODE, libcurl 8.13): a custom method (PUT, PATCH,
# DELETE...) is not kept where the status says to switch: it becomes GET on 301, 302 and 303.
_FOLLOW_CUSTOM: Final[int] = 2 if _LIBCURL_VERSION >= 0x080D00 else 1


# Schemes a redirect may lead to, at most (libcurl's own default): never file, scp or sftp, so
# no server can make a client read local files or start SSH sessions by answering a redirect.
_REDIRECT_SAFE: Final = frozenset({"http", "https", "ftp", "ftps"})
# CURLOPT_SUPPRESS_CONNECT_HEADERS (libcurl 7.54): pycurl has no name for it, but passes it on.
_SUPPRESS_CONNECT_HEADERS: Final = 265
# CURLOPT_QUICK_EXIT (libcurl 7.87): closing does not wait for a hung system resolver thread.
_QUICK_EXIT: Final = 322


USER_AGENT: Final = f"curlx/{__version__} libcurl/{pycurl.version_info()[1]}"
"""What a curlx client says it is, unless told otherwise: short, with libcurl's version (not
pycurl's 200-character list of every library it was built with)."""


def supported_protocols() -> frozenset[str]:
    """The URL schemes a Session can allow: built into this libcurl, and with a CURLPROTO bit."""
    return frozenset(text(p) for p in pycurl.version_info()[8]) & _PROTOCOL_BITS.keys()


HTTP_VERSIONS: Final = tuple(_HTTP_VERSION_OPTIONS)


def http_version_supported(version: str) -> bool:
    """True if this libcurl can speak that HTTP version (one of `HTTP_VERSIONS`)."""
    if version not in _HTTP_VERSION_OPTIONS:
        return False
    if version.startswith("3"):
        return bool(_FEATURES & pycurl.VERSION_HTTP3)
    if version.startswith("2"):
        return bool(_FEATURES & pycurl.VERSION_HTTP2)
    return True


def protocol_mask(schemes: frozenset[str]) -> int:
    """libcurl's PROTOCOLS bitmask for a set of scheme names."""
    mask = 0
    for scheme in schemes:
        mask |= _PROTOCOL_BITS[scheme]  # Session allows only supported_protocols()
    return mask


# Options a request may add that are undone by setting them back, without a reset.


def base_options(
    *,
    headers: list[str],
    auth: tuple[str, str, str] | None,
    cookie: str | None,
    cookie_engine: bool,
    connect_timeout: float | None,
    read_timeout: float | None,
    total_timeout: float | None,
    follow_redirects: bool,
    max_redirects: int,
    verify: bool | str,
    ca_is_dir: bool,
    cert: tuple[str, str | None] | None,
    proxy: str | None,
    max_size: int | None,
    http_version: str | None,
    protocols: frozenset[str],
    debug: bool = False,
) -> list[tuple[int, Any]]:
    """The pycurl options for a Session's settings (values already validated by Session).

    `debug`: libcurl's trace, redacted, to the ``curlx.trace`` logger (see `_log`).
    """
    options: list[tuple[int, Any]] = [
        (pycurl.USERAGENT, USER_AGENT),  # a User-Agent header given by the user wins
        (pycurl.NOSIGNAL, 1),
        (pycurl.PROTOCOLS, protocol_mask(protocols)),
        (pycurl.REDIR_PROTOCOLS, protocol_mask(protocols & _REDIRECT_SAFE)),
        (pycurl.ACCEPT_ENCODING, ""),
        (_SUPPRESS_CONNECT_HEADERS, 1),
        (_QUICK_EXIT, 1),
    ]
    add = options.append
    if headers:
        add((pycurl.HTTPHEADER, _header_bytes(headers)))
    if follow_redirects:
        add((pycurl.FOLLOWLOCATION, 1))
        add((pycurl.MAXREDIRS, max_redirects))
    if connect_timeout is not None:
        add((pycurl.CONNECTTIMEOUT_MS, max(1, int(connect_timeout * 1000))))
    if read_timeout is not None:
        add((pycurl.LOW_SPEED_LIMIT, 1))
        add((pycurl.LOW_SPEED_TIME, max(1, -int(-read_timeout // 1))))
    if total_timeout is not None:
        add((pycurl.TIMEOUT_MS, max(1, int(total_timeout * 1000))))
    if verify is False:
        options += [
            (pycurl.SSL_VERIFYPEER, 0),
            (pycurl.SSL_VERIFYHOST, 0),
            (pycurl.PROXY_SSL_VERIFYPEER, 0),
            (pycurl.PROXY_SSL_VERIFYHOST, 0),
        ]
    elif isinstance(verify, str):
        if ca_is_dir:
            options += [(pycurl.CAPATH, verify), (pycurl.PROXY_CAPATH, verify)]
        else:
            options += [(pycurl.CAINFO, verify), (pycurl.PROXY_CAINFO, verify)]
    if cert is not None:
        add((pycurl.SSLCERT, cert[0]))
        if cert[1] is not None:
            add((pycurl.SSLKEY, cert[1]))
    if auth is not None:
        kind, user, password = auth
        scheme = pycurl.HTTPAUTH_DIGEST if kind == "digest" else pycurl.HTTPAUTH_BASIC
        add((pycurl.HTTPAUTH, scheme))
        add((pycurl.USERNAME, user.encode()))
        add((pycurl.PASSWORD, password.encode()))
    if cookie_engine:
        add((pycurl.COOKIEFILE, ""))
    if cookie:
        add((pycurl.COOKIE, cookie.encode()))
    if proxy is not None:
        add((pycurl.PROXY, proxy))
    if max_size is not None:
        add((pycurl.MAXFILESIZE_LARGE, max_size))
    if http_version is not None:
        add((pycurl.HTTP_VERSION, _HTTP_VERSION_OPTIONS[http_version]))
    if debug:
        add((pycurl.VERBOSE, 1))
        add((pycurl.DEBUGFUNCTION, trace))
    return options


def request_extras(
    *,
    method: str,
    body: bytes | UploadBody | None,
    headers: list[str] | None,
    cookie: str | None,
    follow_redirects: bool,
) -> list[tuple[int, Any]]:
    """The options one request adds to its Session's base: method, body, headers, cookies."""
    extra: list[tuple[int, Any]] = []
    add = extra.append
    custom = method not in ("GET", "HEAD", "POST")
    if method == "HEAD":
        add((pycurl.NOBODY, 1))
    elif custom:
        add((pycurl.CUSTOMREQUEST, method))
        if follow_redirects:
            add((pycurl.FOLLOWLOCATION, _FOLLOW_CUSTOM))
    if isinstance(body, UploadBody):
        # Read as it is sent: Content-Length when the size is known, chunked otherwise.
        size = -1 if body.size is None else body.size
        if method == "POST":
            add((pycurl.POST, 1))
            add((pycurl.POSTFIELDSIZE_LARGE, size))
        else:
            add((pycurl.UPLOAD, 1))
            if size >= 0:
                add((pycurl.INFILESIZE_LARGE, size))
            if method != "PUT" and not custom:
                add((pycurl.CUSTOMREQUEST, method))
        add((pycurl.READFUNCTION, body.read))
        add((pycurl.SEEKFUNCTION, body.seek))
    elif body is not None:
        # POSTFIELDS, not COPYPOSTFIELDS: pycurl keeps a reference, and NUL bytes survive.
        add((pycurl.POSTFIELDSIZE_LARGE, len(body)))
        add((pycurl.POSTFIELDS, body))
        if method == "GET":
            add((pycurl.CUSTOMREQUEST, "GET"))
    elif method == "POST":
        add((pycurl.POST, 1))
        add((pycurl.POSTFIELDSIZE, 0))
    if headers is not None:
        add((pycurl.HTTPHEADER, _header_bytes(headers)))
    if cookie is not None:
        add((pycurl.COOKIE, cookie.encode()))
    return extra


def _header_bytes(lines: list[str]) -> list[bytes]:
    """Header lines as HTTP/1.1 carries them: Latin-1 octets (Session checked they fit)."""
    return [line.encode("latin-1") for line in lines]


class SentHeaders:
    """The header lines a request's options make libcurl send, read back only when asked
    (`Response.request`); libcurl adds Host, Accept, Accept-Encoding, Content-Length."""

    __slots__ = ("base", "extra")

    def __init__(self, base: list[tuple[int, Any]], extra: list[tuple[int, Any]]) -> None:
        self.base = base
        self.extra = extra

    def items(self) -> list[tuple[str, str]]:
        values = dict(self.base)
        values.update(self.extra)  # a request's own headers and cookies replace the base's
        items: list[tuple[str, str]] = []
        for raw in values.get(pycurl.HTTPHEADER) or ():
            line = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
            name, sep, value = line.partition(":")
            if sep and value.strip():
                items.append((name.strip(), value.strip()))
            elif not sep and line.endswith(";"):  # "Name;": sent with an empty value
                items.append((line[:-1].strip(), ""))
        named = {name.lower() for name, _ in items}
        if "user-agent" not in named and pycurl.USERAGENT in values:
            items.insert(0, ("User-Agent", text(values[pycurl.USERAGENT])))
        if "authorization" not in named and pycurl.HTTPAUTH in values:
            items.append(("Authorization", "[redacted]"))
        if "cookie" not in named and values.get(pycurl.COOKIE):
            items.append(("Cookie", "[redacted]"))
        return items


def upload_in(extra: list[tuple[int, Any]]) -> UploadBody | None:
    """The streamed body among a request's options, if it has one."""
    for option, value in extra:
        if option == pycurl.READFUNCTION:
            body: UploadBody = value.__self__
            return body
    return None
