"""What a request gives back: Headers, Response, and the Timeout and auth settings it takes."""

from __future__ import annotations

import codecs
import dataclasses
import json as _json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from email.message import Message
from typing import Any, Final, NamedTuple, Protocol

from ._exceptions import InvalidSetting
from ._http import REDIRECT_STATUSES
from ._info import TransferInfo
from ._translate import status_error

__all__ = ["DigestAuth", "Headers", "RedirectHop", "Request", "Response", "Timeout"]

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]


def _text(value: object) -> str:
    """A header name or value as text: bytes are read as Latin-1, as HTTP/1.1 sends them."""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


class Headers(Mapping[str, str]):
    """Response or request headers: case-insensitive, multi-valued, in the order received.

    ``headers["content-type"]`` gives the first value; ``headers.get_list("set-cookie")`` all
    of them; iterating gives each distinct name once, as first seen.
    """

    __slots__ = ("_items",)

    def __init__(self, items: HeaderItems | None = None) -> None:
        if items is None:
            self._items: list[tuple[str, str]] = []
        else:
            pairs = items.items() if isinstance(items, Mapping) else items
            self._items = [(_text(k), _text(v)) for k, v in pairs]

    def __getitem__(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self._items:
            if key.lower() == lowered:
                return value
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lowered = name.lower()
        return any(key.lower() == lowered for key, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self._items:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._items})

    def get_list(self, name: str) -> list[str]:
        """Every value of `name`, in order (empty if absent)."""
        lowered = name.lower()
        return [value for key, value in self._items if key.lower() == lowered]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, repeats included, in order."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return [(k.lower(), v) for k, v in self._items] == [
                (k.lower(), v) for k, v in other._items
            ]
        if isinstance(other, Mapping):
            return dict((k.lower(), v) for k, v in self.items()) == {
                str(k).lower(): v for k, v in other.items()
            }
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    @classmethod
    def parse(cls, lines: list[bytes]) -> Headers:
        """Headers from raw header lines (status line excluded), folding continuation lines."""
        items: list[tuple[str, str]] = []
        for raw in lines:
            line = raw.decode("latin-1").rstrip("\r\n")
            if not line:
                continue
            if line[0] in " \t" and items:
                name, value = items[-1]
                items[-1] = (name, f"{value} {line.strip()}")
                continue
            name, sep, value = line.partition(":")
            if sep:
                items.append((name.strip(), value.strip()))
        return cls(items)


@dataclasses.dataclass(frozen=True, slots=True)
class Timeout:
    """Time limits in seconds; None means no limit for that phase.

    `connect`: to set up the connection (and TLS). `read`: the longest time with no data moving
    at all, after which the transfer is abandoned (libcurl counts it in whole seconds, so it is
    rounded up). `total`: the whole request, redirects included.
    """

    connect: float | None = 10.0
    read: float | None = 30.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"Timeout({name}={value!r}) must be a number of seconds or None")
            if not 0 < value < math.inf:
                raise InvalidSetting(
                    f"Timeout({name}={value!r}) must be more than 0 seconds and finite "
                    "(None means no limit)"
                )

    @classmethod
    def of(cls, value: Timeout | float | None) -> Timeout:
        """A Timeout from what users pass: a Timeout, one number for every phase, or None."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None, total=None)
        return cls(connect=value, read=value, total=None)


@dataclasses.dataclass(frozen=True, slots=True)
class DigestAuth:
    """HTTP Digest credentials: ``auth=curlx.DigestAuth("user", "password")``."""

    username: str
    password: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """One request for `fetch_many()`: a URL plus, optionally, a method, headers and a body."""

    url: str
    method: str = "GET"
    headers: HeaderItems | None = None
    data: bytes | str | None = None
    json: Any = None


class RedirectHop(NamedTuple):
    """One response that redirected: its status, the URL it answered for, and its headers."""

    status_code: int
    url: str
    headers: Headers


_STATUS_PREFIX: Final = b"HTTP/"


def _split_responses(lines: list[bytes]) -> list[tuple[bytes, list[bytes]]]:
    """Group raw header lines into (status line, header lines) per response received."""
    blocks: list[tuple[bytes, list[bytes]]] = []
    for line in lines:
        if line.startswith(_STATUS_PREFIX):
            blocks.append((line, []))
        elif blocks:
            blocks[-1][1].append(line)
    # Interim 1xx responses (100 Continue, 103 Early Hints) are not part of the answer.
    return [
        b for b in blocks if not b[0].split(b" ", 2)[1:2] or not b[0].split()[1].startswith(b"1")
    ]


class Response:
    """An HTTP response: status, headers, body and what the transfer measured.

    Built by a Session once the transfer finished; the body is fully read.
    """

    __slots__ = (
        "__weakref__",
        "_header_lines",
        "_headers",
        "_info",
        "_source",
        "content",
        "method",
        "request_url",
        "status_code",
    )

    def __init__(
        self,
        *,
        status_code: int,
        content: bytes,
        header_lines: list[bytes],
        info: TransferInfo,
        method: str,
        request_url: str,
    ) -> None:
        self.status_code = status_code
        self.content = content
        self._header_lines = header_lines
        self._headers: Headers | None = None
        self._info: TransferInfo | None = info
        self._source: Callable[[], Any] | None = None  # a weak reference to the transport
        self.method = method
        self.request_url = request_url

    @classmethod
    def _pending(cls, method: str, url: str) -> Response:
        """An empty Response its transport fills in; its info is read on first use."""
        self = cls.__new__(cls)
        self._headers = None
        self._info = None
        self.method = method
        self.request_url = url
        return self

    @property
    def info(self) -> TransferInfo:
        """What libcurl measured: effective URL, HTTP version, peer address, phase times."""
        info = self._info
        if info is None:
            source = self._source
            transport: _InfoSource | None = source() if source is not None else None
            if transport is None:  # unreachable: a transport settles its Response before it goes
                info = self._info = TransferInfo(self.request_url, self.method)
            else:
                info = transport.info_of(self)
        return info

    def __reduce__(self) -> tuple[Any, ...]:
        fields = {
            "status_code": self.status_code,
            "content": self.content,
            "header_lines": self._header_lines,
            "info": self.info,
            "method": self.method,
            "request_url": self.request_url,
        }
        return (_restore, (fields,))

    # --- status -----------------------------------------------------------------------------

    @property
    def reason(self) -> str:
        """The reason phrase of the final status line ("" for HTTP/2 and HTTP/3)."""
        blocks = _split_responses(self._header_lines)
        if not blocks:
            return ""
        parts = blocks[-1][0].decode("latin-1").rstrip("\r\n").split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status_code < 400

    @property
    def is_redirect(self) -> bool:
        """True if this (final) response is itself a redirect that was not followed."""
        return self.status_code in REDIRECT_STATUSES and "location" in self.headers

    # --- headers and body -------------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        """The final response's headers (not those of redirects or interim responses)."""
        if self._headers is None:
            blocks = _split_responses(self._header_lines)
            self._headers = Headers.parse(blocks[-1][1]) if blocks else Headers()
        return self._headers

    @property
    def encoding(self) -> str:
        """The charset from Content-Type if Python knows it, else utf-8."""
        message = Message()
        message["content-type"] = self.headers.get("content-type", "")
        charset = message.get_param("charset")
        if isinstance(charset, str):
            try:
                return codecs.lookup(charset.strip("\"' ")).name
            except LookupError:
                pass
        return "utf-8"

    @property
    def text(self) -> str:
        """The body decoded with `encoding` (undecodable bytes replaced)."""
        return self.content.decode(self.encoding, "replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (raises json.JSONDecodeError, a ValueError, if it is not)."""
        return _json.loads(self.content, **kwargs)

    # --- the transfer -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL that answered, after redirects (credentials removed)."""
        return self.info.effective_url or self.request_url

    @property
    def redirect_count(self) -> int:
        """How many redirects were followed (the length of `history`)."""
        return len(self.history)

    @property
    def history(self) -> list[RedirectHop]:
        """The redirect responses followed to get here, oldest first."""
        from urllib.parse import urljoin

        # Only 3xx answers with a Location are hops: an authentication challenge (401, 407)
        # that libcurl answered, or a proxy's reply to CONNECT, is not a redirect.
        blocks = _split_responses(self._header_lines)[:-1]
        hops: list[RedirectHop] = []
        url = self.request_url
        for status_line, lines in blocks:
            parts = status_line.split()
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            headers = Headers.parse(lines)
            if 300 <= status < 400 and "location" in headers:
                hops.append(RedirectHop(status, url, headers))
                url = urljoin(url, headers["location"])
        return hops

    @property
    def elapsed(self) -> timedelta:
        """The time the whole request took, redirects included."""
        return timedelta(seconds=self.info.total_time)

    @property
    def http_version(self) -> str:
        """ "1.0", "1.1", "2" or "3": the version the final response came in."""
        return _HTTP_VERSIONS.get(self.info.http_version, "")

    @property
    def primary_ip(self) -> str:
        """The IP address of the server (or proxy) that answered."""
        return self.info.primary_ip

    def raise_for_status(self) -> Response:
        """Raise `HTTPClientError` (4xx) or `HTTPServerError` (5xx); return self otherwise."""
        if self.status_code < 400:
            return self
        raise status_error(self)

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}] {self.method} {self.url}>"


class _InfoSource(Protocol):
    def info_of(self, response: Response, /) -> TransferInfo: ...


def _restore(fields: dict[str, Any]) -> Response:
    """Unpickle a Response."""
    return Response(**fields)


# CURLINFO_HTTP_VERSION values: CURL_HTTP_VERSION_1_0 .. CURL_HTTP_VERSION_3.
_HTTP_VERSIONS: Final[Mapping[int, str]] = {1: "1.0", 2: "1.1", 3: "2", 30: "3"}
