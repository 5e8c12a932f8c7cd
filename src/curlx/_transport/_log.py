"""What the clients tell the `curlx` logger: one DEBUG record per transfer, and libcurl's trace.

The library never configures logging (no handler, no level): an application turns the records
on as it does for httpx, with ``logging.getLogger("curlx").setLevel(logging.DEBUG)`` and a
handler. Off, the cost is one `Logger.isEnabledFor` call per transfer; nothing else is read from
the handle.

- ``curlx``: each transfer that ended, at DEBUG: method, URL (credentials removed), status and
  HTTP version, elapsed seconds and whether the connection was new, reused or never made; a
  failure with its class and libcurl's message. The facts are also on the record as
  attributes (`method`, `url`, `status_code`, `http_version`, `elapsed`, `reused`: True, False
  or None, and `error`, the typed error, on a failure) for structured handlers.
- ``curlx.trace``: with ``debug=True``, libcurl's own trace (CURLOPT_VERBOSE and
  CURLOPT_DEBUGFUNCTION) in curl -v's form: ``*`` for libcurl's notes, ``>`` for headers sent,
  ``<`` for headers received, ``{``/``}`` for the size of the data moved (never the bytes).
  Authorization, Proxy-Authorization, Cookie and Set-Cookie values and the userinfo of URLs are
  replaced by ``[redacted]`` before anything reaches a handler.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Final

import pycurl

from .._urls import redact_text, redact_url

if TYPE_CHECKING:
    from .._exceptions import CurlError
    from ._slot import Answer

__all__ = [
    "LOGGER",
    "TRACE",
    "enabled",
    "log_failure",
    "log_response",
    "redact_headers",
    "redact_note",
    "trace",
]

LOGGER: Final = logging.getLogger("curlx")
"""The records of every transfer a curlx client (Session, curlx.get, fetch_many) makes."""
TRACE: Final = logging.getLogger("curlx.trace")
"""libcurl's trace of the transfers of clients with ``debug=True``."""

_DEBUG: Final = logging.DEBUG
enabled = LOGGER.isEnabledFor
"""``enabled(logging.DEBUG)``: whether a transfer's record would go anywhere (cached by logging)."""

_VERSIONS: Final = {
    pycurl.CURL_HTTP_VERSION_1_0: "HTTP/1.0",
    pycurl.CURL_HTTP_VERSION_1_1: "HTTP/1.1",
    pycurl.CURL_HTTP_VERSION_2_0: "HTTP/2",
    pycurl.CURL_HTTP_VERSION_3: "HTTP/3",
}


def _connection(handle: pycurl.Curl) -> tuple[float, bool | None]:
    """The transfer's total time, and whether its connection was reused: True, False (a new
    one), or None when it ended before any connection was used (nothing was sent)."""
    if handle.getinfo(pycurl.NUM_CONNECTS):
        reused: bool | None = False
    else:
        reused = True if handle.getinfo(pycurl.REQUEST_SIZE) else None
    return handle.getinfo(pycurl.TOTAL_TIME), reused


def _said(reused: bool | None) -> str:
    if reused is None:
        return "no connection"
    return "reused connection" if reused else "new connection"


def _reason(header_lines: list[bytes]) -> str:
    """The reason phrase of the last status line ("" if none, as in HTTP/2)."""
    for line in reversed(header_lines):
        if line.startswith(b"HTTP/"):
            parts = line.decode("latin-1").strip().split(" ", 2)
            return parts[2] if len(parts) > 2 else ""
    return ""


def log_response(handle: pycurl.Curl, method: str, url: str, response: Answer) -> None:
    """One DEBUG record for a transfer that got a response (call only when `enabled`)."""
    elapsed, reused = _connection(handle)
    status = response.status_code
    reason = _reason(response._header_lines)
    version = _VERSIONS.get(handle.getinfo(pycurl.INFO_HTTP_VERSION), "")
    status_line = " ".join(part for part in (version, str(status), reason) if part)
    LOGGER.debug(
        'HTTP Request: %s %s "%s" in %.3f s (%s)',
        method,
        url,
        status_line,
        elapsed,
        _said(reused),
        extra={
            "method": method,
            "url": url,
            "status_code": status,
            "http_version": version,
            "elapsed": elapsed,
            "reused": reused,
        },
    )


def log_failure(handle: pycurl.Curl, method: str, url: str, error: CurlError) -> None:
    """One DEBUG record for a transfer that failed (call only when `enabled`)."""
    elapsed, reused = _connection(handle)
    LOGGER.debug(
        "HTTP Request: %s %s failed in %.3f s (%s): %s: %s",
        method,
        url,
        elapsed,
        _said(reused),
        type(error).__name__,
        error.message,
        extra={
            "method": method,
            "url": url,
            "status_code": None,
            "http_version": "",
            "elapsed": elapsed,
            "reused": reused,
            "error": error,
        },
    )


# --- libcurl's trace ---------------------------------------------------------------------------

REDACTED: Final = "[redacted]"
_SECRET_HEADERS: Final = re.compile(
    rb"^(authorization|proxy-authorization):[ \t]*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+)?.*$",
    re.IGNORECASE | re.MULTILINE,
)
_COOKIE_HEADER: Final = re.compile(rb"^(cookie|set-cookie):(.*)$", re.IGNORECASE | re.MULTILINE)
# libcurl's notes that name a secret: "Server auth using Basic with user 'bob'", "Added cookie
# sid="v" for domain ..." (and Replaced, Skipped...).
# Over HTTP/2 and HTTP/3 libcurl also lists the request headers in its notes:
# "[HTTP/2] [1] [authorization: Basic ...]".
_NOTED_HEADER: Final = re.compile(
    r"\[((?:proxy-)?authorization|(?:set-)?cookie): ([^\]]*)\]", re.IGNORECASE
)
_NOTED: Final = re.compile(
    # greedy to the note's last quote: a user name or value may hold quotes, even newlines
    r"(with user )'.*'|(\bcookie [^\s=]+=)\".*\"(?= for domain)|"
    r"(proxy env variable \S+ == ')(.*)'",
    re.IGNORECASE | re.DOTALL,
)

_TEXT: Final = pycurl.INFOTYPE_TEXT
_HEADER_IN: Final = pycurl.INFOTYPE_HEADER_IN
_HEADER_OUT: Final = pycurl.INFOTYPE_HEADER_OUT
_DATA_IN: Final = pycurl.INFOTYPE_DATA_IN
_DATA_OUT: Final = pycurl.INFOTYPE_DATA_OUT


def _secret(match: re.Match[bytes]) -> bytes:
    scheme = match.group(2)
    return match.group(1) + b": " + (scheme + b" " if scheme else b"") + REDACTED.encode()


def _cookies(match: re.Match[bytes]) -> bytes:
    """A Cookie line with every value redacted, a Set-Cookie line with the cookie's value
    redacted (its attributes kept: they say where and how long it applies). A part without
    "=" is a value without a name: redacted whole."""
    name, value = match.group(1), match.group(2).decode("latin-1")
    parts = value.split(";")
    secret = 1 if name.lower() == b"set-cookie" else len(parts)
    for i in range(secret):
        cookie, equals, _ = parts[i].partition("=")
        parts[i] = f"{cookie.rstrip()}={REDACTED}" if equals else f" {REDACTED}"
    return name + b":" + ";".join(parts).encode("latin-1")


def _noted(match: re.Match[str]) -> str:
    user, cookie, variable, proxy = match.groups()
    if user:
        return f"{user}{REDACTED}"
    if cookie:
        return f'{cookie}"{REDACTED}"'
    return f"{variable}{redact_url(proxy)}'"  # a proxy URL may come without a scheme


def _noted_header(match: re.Match[str]) -> str:
    line = f"{match.group(1)}: {match.group(2)}".encode()
    return f"[{redact_headers(line).decode()}]"


def redact_note(text: str) -> str:
    """One of libcurl's notes with the credentials, cookies and URL userinfo in it redacted."""
    text = _NOTED.sub(_noted, redact_text(text))
    return _NOTED_HEADER.sub(_noted_header, text) if "[" in text else text


def redact_headers(block: bytes) -> bytes:
    """Header lines with credentials and cookie values replaced by ``[redacted]``."""
    if b":" not in block:
        return block
    block = _SECRET_HEADERS.sub(_secret, block)
    return _COOKIE_HEADER.sub(_cookies, block)


def _lines(prefix: str, text: str) -> None:
    for line in text.splitlines():
        if line:
            TRACE.debug("%s %s", prefix, line)


def trace(kind: int, data: bytes) -> None:
    """libcurl's DEBUGFUNCTION for clients with ``debug=True``: the trace, redacted, to
    ``curlx.trace`` at DEBUG. Bodies are summarised by their size, TLS records left out."""
    if not TRACE.isEnabledFor(_DEBUG):
        return
    if kind == _TEXT:
        _lines("*", redact_note(data.decode("utf-8", "replace")))
    elif kind == _HEADER_OUT:
        _lines(">", redact_text(redact_headers(data).decode("latin-1")))
    elif kind == _HEADER_IN:
        _lines("<", redact_text(redact_headers(data).decode("latin-1")))  # Location: too
    elif kind == _DATA_IN:
        TRACE.debug("{ [%d bytes of data received]", len(data))
    elif kind == _DATA_OUT:
        TRACE.debug("} [%d bytes of data sent]", len(data))
