"""Preparing a request, purely: checking what a user gave and turning it into what a
transport runs (the URL, the method, the body, multipart, headers, cookies, the allowed
schemes). No handle is touched here; the Session combines these with its settings, and the
crawl and (next) the async client build on the same pieces.
"""

from __future__ import annotations

import enum
import functools
import io
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any, Final, NamedTuple, TypeAlias
from urllib.parse import urlencode

import certifi

from ._exceptions import InvalidOperation, InvalidRequest
from ._http import SECRET_HEADERS
from ._models import DigestAuth, HeaderItems, Timeout
from ._transport import UploadBody, supported_protocols
from ._urls import redact_url

__all__ = [
    "DEFAULT_TIMEOUT",
    "UNSET",
    "AuthTypes",
    "FileTypes",
    "ParamItems",
    "Prepared",
    "TimeoutTypes",
]

ParamItems: TypeAlias = Mapping[str, Any] | Iterable[tuple[str, Any]] | str
AuthTypes: TypeAlias = tuple[str, str] | DigestAuth | None
TimeoutTypes: TypeAlias = Timeout | float | tuple[float | None, float | None] | None
FileContent: TypeAlias = bytes | str | IO[bytes]
FileTypes: TypeAlias = (
    FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str]
)


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
DEFAULT_TIMEOUT: Final = Timeout()  # connect 10 s, no progress for 30 s

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN: Final = re.compile(r"[\r\n\x00]")
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_DEFAULT_PROTOCOLS: Final = frozenset({"http", "https"})

_PLAIN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NO_EXTRAS: Final[list[tuple[int, Any]]] = []


class Prepared(NamedTuple):
    """A checked request, as options for a transport (`Transport` or `MultiTransport`)."""

    method: str
    url: str
    base: list[tuple[int, Any]]  # the Session's settings: the same list while they hold
    extra: list[tuple[int, Any]]  # what this request adds (method, body, headers)
    watchdog: float | None  # the read timeout: abandon the transfer when no byte moved this long
    safe_url: str  # `url` without credentials, for messages and Response.request_url


def _located(
    error: InvalidOperation | InvalidRequest, method: object, url: object
) -> InvalidOperation | InvalidRequest:
    """`error` with the request it refused (credentials removed), for its message."""
    if error.url is None and isinstance(url, str) and not _FORBIDDEN.search(url):
        error.url = redact_url(url)
        error.method = (
            method.upper() if isinstance(method, str) and _TOKEN.fullmatch(method) else None
        )
    return error


def _secret(value: object) -> str:
    return "'***'"


def _url_shown(value: object) -> str:
    return repr(redact_url(value)) if isinstance(value, str) else _secret(value)


def _check_text(field: str, value: object, shown: Callable[[object], str] = repr) -> str:
    """`value` if it is a str without CR, LF or NUL; else InvalidRequest naming `field`.

    `shown` renders the value in the message: credentials are never echoed (URLs are
    redacted, passwords and secret headers masked).
    """
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a str, got {shown(value)} ({type(value).__name__})")
    if not value.isprintable() and _FORBIDDEN.search(value):
        raise InvalidRequest(
            f"{field}={shown(value)} contains CR, LF or NUL, which would let it inject extra "
            "header lines or requests; remove those characters."
        )
    return value


def _header_lines(items: HeaderItems) -> list[str]:
    pairs = items.items() if isinstance(items, Mapping) else items
    lines = []
    for name, value in pairs:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidRequest(
                f"header name {name!r} is not a valid HTTP token (letters, digits and "
                "!#$%&'*+-.^_`|~ only: no spaces, colons, CR, LF or NUL)."
            )
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        shown = _secret if name.lower() in SECRET_HEADERS else repr
        text = _check_text(f"header {name!r} value", str(value) if value is not None else "", shown)
        if not _latin1(text):
            raise InvalidRequest(
                f"header {name!r} value={shown(text)} has characters outside Latin-1, which "
                "HTTP/1.1 cannot carry as they are; encode the value first (for example "
                "percent-encoding, or RFC 8187 for parameters) or pass bytes."
            )
        # "Name;" tells libcurl to send the header with an empty value: "Name:" (or a value
        # of only blanks) would make it remove the header instead.
        lines.append(f"{name}: {text}" if text.strip(" \t") else f"{name};")
    return lines


def _latin1(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _certifi_bundle() -> str:
    """certifi's CA bundle path (looked up once)."""
    return certifi.where()


def _cookie_header(jar: Mapping[str, str]) -> str | None:
    """A Cookie header value ("a=1; b=2"), each name and value checked; None if empty."""
    if not jar:
        return None
    for name, value in jar.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidRequest(
                f"cookie name {name!r} is not a valid HTTP token: use letters, digits and "
                "!#$%&'*+-.^_`|~ only."
            )
        if not isinstance(value, str) or _FORBIDDEN.search(value) or ";" in value:
            raise InvalidRequest(
                f"cookie {name!r} value must be a str without CR, LF, NUL or ';'; "
                "percent-encode it first (urllib.parse.quote)."
            )
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def _with_params(url: str, params: ParamItems | None) -> str:
    if not params:
        return url
    if isinstance(params, str | bytes):  # a query string, as given ("a=1&b=2")
        query = _check_text(
            "params", params.decode("ascii") if isinstance(params, bytes) else params
        ).lstrip("?")
    else:
        pairs = params.items() if isinstance(params, Mapping) else params
        flat: list[tuple[str, str]] = []
        try:
            for key, value in pairs:
                values = value if isinstance(value, list | tuple) else [value]
                flat.extend((str(key), "" if v is None else str(v)) for v in values)
        except (TypeError, ValueError):
            raise InvalidRequest(
                f"params={params!r} must be a dict (values may be lists), a list of "
                "(name, value) pairs, or a query string such as 'a=1&b=2'."
            ) from None
        query = urlencode(flat)
    base, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{query}{hash_}{fragment}"


def _join_base(base_url: str, url: str) -> str:
    """`url` under `base_url` unless it has a scheme of its own, as httpx merges them:
    ``"https://api/v1" + "/users"`` is ``"https://api/v1/users"``."""
    if _SCHEME.match(url):
        return url
    if not url:
        return base_url
    if url.startswith("?"):
        return base_url + url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def _proxy_for(proxies: object, url: str) -> str | None:
    """The proxy requests' or httpx's `proxies=` mapping gives for `url`'s scheme."""
    if proxies is None:
        return None
    if not isinstance(proxies, Mapping):
        raise InvalidRequest(
            f"proxies={_url_shown(proxies) if isinstance(proxies, str) else repr(proxies)} "
            "must be a dict such as {'http': URL, 'https': URL} (or {'all': URL}); for one "
            "proxy for everything pass proxy=URL."
        )
    chosen: dict[str, Any] = {}
    for key, value in proxies.items():
        scheme = str(key).lower().removesuffix("://")
        if scheme not in ("http", "https", "all"):
            raise InvalidRequest(
                f"proxies= key {key!r} is not one curlx routes by: use 'http', 'https' or "
                "'all' (httpx's 'http://', 'https://', 'all://' work too). Per-host proxies "
                "and no_proxy are not supported: use a Session per proxy."
            )
        chosen[scheme] = value
    scheme = "https" if url[:8].lower().startswith("https://") else "http"
    proxy = chosen.get(scheme, chosen.get("all"))
    return None if proxy is None else _check_text("proxies value", proxy, _url_shown)


def _check_auth(auth: object) -> None:
    """InvalidRequest for an auth= curlx cannot take, naming the forms it can."""
    if auth is None or isinstance(auth, DigestAuth):
        return
    if (
        isinstance(auth, tuple | list)
        and len(auth) == 2
        and all(isinstance(part, str) for part in auth)
    ):
        return
    shown = "'***'" if isinstance(auth, str | bytes | tuple | list) else type(auth).__name__
    raise InvalidRequest(
        f"auth={shown} is not a form curlx takes: pass (user, password) for Basic, "
        "curlx.DigestAuth(user, password) for Digest, or None. A 'user:password' string is "
        "refused so a password is never split at the wrong colon."
    )


_HOOK_EVENTS: Final = frozenset({"request", "response"})
Hooks: TypeAlias = "dict[str, list[Callable[..., Any]]]"


def _check_hooks(hooks: object, name: str) -> Hooks:
    """requests' `hooks=` or httpx's `event_hooks=`: {event: callable or list of them}."""
    if not hooks:
        return {}
    if not isinstance(hooks, Mapping):
        raise InvalidRequest(
            f"{name}= must be a dict such as {{'response': [fn]}} (events: request, response)."
        )
    checked: dict[str, list[Callable[..., Any]]] = {}
    for event, value in hooks.items():
        if event not in _HOOK_EVENTS:
            raise InvalidRequest(
                f"{name}= has the event {event!r}; curlx calls hooks for 'request' (before "
                "each request is sent) and 'response' (with each response)."
            )
        functions = list(value) if isinstance(value, list | tuple) else [value]
        for function in functions:
            if not callable(function):
                raise InvalidRequest(
                    f"{name}[{event!r}] holds {function!r}, which is not callable."
                )
        checked[event] = functions
    return checked


# What to use instead of requests' and httpx's keywords curlx does not take.
_INSTEAD: Final = {
    "http2": 'http_version="2"',
    "http1": 'http_version="1.1"',
    "max_retries": "retry=N or retry=curlx.Retry(...)",
    "retries": "retry=N or retry=curlx.Retry(...)",
    "backoff_factor": "retry=curlx.Retry(backoff_factor=...)",
    "trust_env": (
        'proxy="" to ignore the proxy environment variables (libcurl reads http_proxy, '
        "https_proxy, all_proxy and no_proxy, as requests does; never .netrc)"
    ),
    "limits": "curlx.fetch_many(urls, concurrency=..., per_host=...) for many at once",
    "mounts": "a Session per proxy or per set of settings",
    "transport": "a Session per set of settings",
    "app": "a real server (curlx always sends over the network)",
    "extensions": "the Session's keywords",
    "default_encoding": "response.encoding = '...' before reading response.text",
    "ssl_context": "verify= (CA file or directory) and cert= (client certificate)",
    "context": "verify= (CA file or directory) and cert= (client certificate)",
    "proxy_auth": "credentials in the proxy URL: proxy='http://user:password@host:port'",
    "follow_location": "follow_redirects=",
    "redirects": "follow_redirects= and max_redirects=",
    "max_body_size": "max_size=",
    "timeout_s": "timeout=",
}


def _refuse_unknown(unknown: Mapping[str, Any], where: str, accepted: Iterable[str]) -> None:
    """InvalidRequest naming keywords `where` does not take, with curlx's equivalent."""
    if not unknown:
        return
    name = sorted(unknown)[0]
    instead = _INSTEAD.get(name)
    if instead is not None:
        raise InvalidRequest(f"{where} does not take {name}=; use {instead} instead.")
    raise InvalidRequest(
        f"{where} got an unknown keyword {name}=. It takes: {', '.join(sorted(accepted))}."
    )


def _raw_body(content: object) -> bytes | UploadBody:
    """A body sent as it is: bytes, text (UTF-8), a binary file or an iterator of bytes
    (these two are read while sending, not held in memory)."""
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, io.TextIOBase):
        raise InvalidRequest(
            "a file opened in text mode cannot be sent as it is: open it in binary mode "
            "('rb'), so its bytes go out unchanged and its size is known."
        )
    if hasattr(content, "read"):
        return UploadBody([content])  # type: ignore[list-item]
    if isinstance(content, Iterable) and not isinstance(content, Mapping):
        return UploadBody([iter(content)])
    raise InvalidRequest(
        f"cannot send a {type(content).__name__} as a body: pass bytes, str, a binary file, "
        "or an iterator of bytes."
    )


def _read_file(content: FileContent) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    data = content.read()
    return data if isinstance(data, bytes) else str(data).encode()


def _multipart(data: Any, files: Mapping[str, FileTypes]) -> tuple[bytes | UploadBody, str]:
    """A multipart/form-data body (RFC 7578) and its Content-Type: text fields, then files.

    Names and filenames are UTF-8, with quotes and line breaks percent-encoded as browsers do.
    Open binary files are read while the body is sent, not into memory first.
    """
    boundary = "curlx-" + secrets.token_hex(16)
    parts: list[Any] = []

    def quoted(text: str) -> str:
        return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")

    def part(name: str, content: Any, filename: str | None, content_type: str | None) -> None:
        disposition = f'form-data; name="{quoted(name)}"'
        if filename is not None:
            disposition += f'; filename="{quoted(filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {_check_text('file content type', content_type)}\r\n"
        if isinstance(content, bytes):
            parts.append(head.encode() + b"\r\n" + content + b"\r\n")
        else:  # an open binary file: streamed between its head and its line break
            parts.extend((head.encode() + b"\r\n", content, b"\r\n"))

    if data:
        pairs = data.items() if isinstance(data, Mapping) else data
        for key, value in pairs:
            text = value if isinstance(value, bytes) else str(value).encode()
            part(str(key), text, None, None)
    for name, spec in files.items():
        content_type = "application/octet-stream"
        if isinstance(spec, tuple):
            filename, content = spec[0], spec[1]
            if len(spec) > 2:
                content_type = spec[2]
        else:
            content = spec
            filename = os.path.basename(str(getattr(spec, "name", "") or name))
        streamed = hasattr(content, "read") and not isinstance(content, io.TextIOBase)
        part(name, content if streamed else _read_file(content), filename or name, content_type)
    parts.append(f"--{boundary}--\r\n".encode())
    content_type = f"multipart/form-data; boundary={boundary}"
    if all(isinstance(piece, bytes) for piece in parts):
        return b"".join(parts), content_type
    return UploadBody(parts), content_type


def _allowed_protocols(schemes: Iterable[str]) -> frozenset[str]:
    """`schemes` lower-cased; InvalidRequest naming any a Session cannot allow."""
    allowed = frozenset(str(scheme).lower() for scheme in schemes)
    unknown = allowed - supported_protocols()
    if unknown:
        raise InvalidRequest(
            f"allowed_protocols={sorted(allowed)!r} names {sorted(unknown)!r}, which a Session "
            "cannot allow with this libcurl (not built in, or no CURLPROTO bit to allow it by); "
            f"choose from {sorted(supported_protocols())!r}."
        )
    return allowed


def _name(line: str) -> str:
    """The lower-case name of a header line ("Name: value" or "Name;")."""
    return line.split(":", 1)[0].split(";", 1)[0].strip().lower()


def _names(lines: list[str]) -> set[str]:
    return {_name(line) for line in lines}
