"""What a request gives back: Headers, Response, and the Timeout and auth settings it takes."""

from __future__ import annotations

import codecs
import dataclasses
import json as _json
import math
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from email.message import Message
from http.cookies import CookieError, SimpleCookie
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from ._exceptions import InvalidOperation, InvalidSetting
from ._http import REDIRECT_STATUSES, SECRET_HEADERS
from ._info import TransferInfo
from ._translate import status_error

__all__ = [
    "BodyStream",
    "DigestAuth",
    "Headers",
    "RedirectHop",
    "Request",
    "Response",
    "AsyncBodyStream",
    "AsyncStreamedResponse",
    "StreamedResponse",
    "Timeout",
    "sent_request",
]

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
    def of(cls, value: Timeout | float | tuple[float | None, float | None] | None) -> Timeout:
        """A Timeout from what users pass: a Timeout, one number for every phase, requests'
        ``(connect, read)`` pair, or None (no limits)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None, total=None)
        if isinstance(value, tuple | list):
            if len(value) != 2:
                raise InvalidSetting(
                    f"timeout={value!r}: a tuple must be (connect, read) in seconds, as in "
                    "requests; for a limit on the whole request use "
                    "curlx.Timeout(connect=..., read=..., total=...)."
                )
            return cls(connect=value[0], read=value[1], total=None)
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
        "_encoding",
        "_header_lines",
        "_headers",
        "_info",
        "_sent",
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
        self._sent: _SentHeaders | None = None
        self._encoding: str | None = None
        self.method = method
        self.request_url = request_url

    @classmethod
    def _pending(cls, method: str, url: str) -> Response:
        """An empty Response its transport fills in; its info is read on first use."""
        self = cls.__new__(cls)
        self._headers = None
        self._info = None
        self._encoding = None
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
        """The charset from Content-Type if Python knows it, else utf-8; assign another
        (``r.encoding = "latin-1"``) to decode `text` and `iter_text()` with it."""
        if self._encoding is not None:
            return self._encoding
        message = Message()
        message["content-type"] = self.headers.get("content-type", "")
        charset = message.get_param("charset")
        if isinstance(charset, str):
            try:
                return codecs.lookup(charset.strip("\"' ")).name
            except LookupError:
                pass
        return "utf-8"

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        if value is not None:
            try:
                value = codecs.lookup(value).name
            except (LookupError, TypeError):
                raise InvalidSetting(
                    f"encoding={value!r} is not a codec Python knows; use a name such as "
                    "'utf-8', 'latin-1' or 'cp1252' (or None for the Content-Type's charset)."
                ) from None
        self._encoding = value

    @property
    def text(self) -> str:
        """The body decoded with `encoding` (undecodable bytes replaced)."""
        return self.content.decode(self.encoding, "replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (raises json.JSONDecodeError, a ValueError, if it is not)."""
        return _json.loads(self.content, **kwargs)

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies this response set (its Set-Cookie headers), by name."""
        jar: dict[str, str] = {}
        for value in self.headers.get_list("set-cookie"):
            cookie = SimpleCookie()
            try:
                cookie.load(value)
            except CookieError:
                name, sep, rest = value.partition("=")
                if sep and name.strip():
                    jar[name.strip()] = rest.split(";", 1)[0].strip()
                continue
            jar.update((name, morsel.value) for name, morsel in cookie.items())
        return jar

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The Link header parsed (RFC 8288), keyed by `rel` (or by URL without one), as in
        requests: ``r.links["next"]["url"]``."""
        links: dict[str, dict[str, str]] = {}
        for header in self.headers.get_list("link"):
            for link in _parse_links(header):
                links[link.get("rel") or link["url"]] = link
        return links

    @property
    def request(self) -> Request:
        """The request as it was sent: method, URL and the headers curlx gave libcurl, with
        credentials and cookies shown as ``[redacted]`` (libcurl adds Host, Accept,
        Accept-Encoding and Content-Length itself)."""
        return sent_request(self.method, self.request_url, self._sent)

    # --- the body in pieces: requests' and httpx's names, one implementation -----------------

    def _chunks(self) -> Iterator[bytes]:
        """The body as it arrives (here: already read, so in one piece)."""
        if self.content:
            yield self.content

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in pieces: as they arrive (`chunk_size` None), or of `chunk_size` bytes
        (the last may be shorter). A streamed response reads them from the network."""
        return _shaped(self._chunks(), _Shaper(chunk_size))

    def iter_content(
        self, chunk_size: int | None = None, decode_unicode: bool = False
    ) -> Iterator[Any]:
        """requests' name for `iter_bytes()` (`iter_text()` with ``decode_unicode=True``).

        Unlike requests, `chunk_size` defaults to None (pieces as they arrive), not 1 byte.
        """
        if decode_unicode:
            return self.iter_text(chunk_size)
        return self.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body decoded with `encoding`, piece by piece (a character split between two
        pieces is decoded whole; undecodable bytes are replaced)."""
        return _shaped(self._chunks(), _Shaper(chunk_size, self.encoding))

    def iter_lines(
        self, chunk_size: int | None = None, decode_unicode: bool | None = None
    ) -> Iterator[Any]:
        """The body line by line, without line endings: str, as httpx gives them (requests
        gives bytes: pass ``decode_unicode=False`` for those)."""
        encoding = None if decode_unicode is False else self.encoding
        return _shaped(self._chunks(), _Shaper(chunk_size, encoding, lines=True))

    def read(self) -> bytes:
        """The whole body (httpx's name; for a streamed response, the rest is read now)."""
        return self.content

    def close(self) -> None:
        """Release the transfer (a streamed response's; nothing to do for one fully read)."""

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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


def sent_request(method: str, url: str, sent: _SentHeaders | None) -> Request:
    """A request as sent, for `Response.request` and request hooks: its headers from the
    options given to libcurl, credentials and cookies shown as ``[redacted]``."""
    items = sent.items() if sent is not None else []
    return Request(
        url=url,
        method=method,
        headers=Headers(
            (name, "[redacted]" if name.lower() in SECRET_HEADERS else value)
            for name, value in items
        ),
    )


class _InfoSource(Protocol):
    def info_of(self, response: Response, /) -> TransferInfo: ...


class _SentHeaders(Protocol):
    def items(self) -> list[tuple[str, str]]: ...


class BodyStream(Protocol):
    """A streamed body's transfer, as a transport runs it."""

    def read(self) -> list[bytes]:
        """The next pieces of the body ([] at its end); raises the typed error of a failure."""
        ...

    def close(self) -> None:
        """Stop the transfer if it still runs, and give its handle back."""
        ...


_CONTENT: Final = Response.__dict__["content"]  # the slot: a streamed body is kept there once read


_R = TypeVar("_R", bound="_Streaming")


class _Streaming(Response):
    """What the sync and the async streamed responses share: made when the headers are in,
    the transfer they read from, and the pieces read but not yet handed to an iterator."""

    __slots__ = ("_consumed", "_held", "_stream")
    _consumed: bool
    _held: deque[bytes]
    _stream: Any  # BodyStream, or AsyncBodyStream; None once closed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a streamed response is made by a request with stream=True")

    @classmethod
    def _open(
        cls: type[_R],
        stream: Any,
        status_code: int,
        header_lines: list[bytes],
        method: str,
        url: str,
        sent: _SentHeaders | None,
    ) -> _R:
        self = cls.__new__(cls)
        self._headers = None
        self._info = None
        self._encoding = None
        self._sent = sent
        self._source = lambda: stream
        self._stream = stream
        self._held = deque()
        self._consumed = False
        self.status_code = status_code
        self._header_lines = header_lines
        self.method = method
        self.request_url = url
        return self

    def _read_already(self) -> bytes | None:
        """The whole body if it was read into `content`, else None."""
        try:
            return _CONTENT.__get__(self)  # type: ignore[no-any-return]
        except AttributeError:
            return None

    def _here(self, error: InvalidOperation) -> InvalidOperation:
        """`error` with this response's request (method, URL without credentials)."""
        if error.url is None:
            error.url, error.method = self.request_url, self.method
        return error

    def _open_stream(self) -> Any:
        """The transfer to read from (iteration begins), or InvalidOperation if it is gone."""
        stream = self._stream
        if stream is None:
            raise self._here(
                InvalidOperation(
                    "The body of this streamed response was already read to its end, or the "
                    "response was closed before that: a stream can be read once. Keep the pieces "
                    "as you read them, or read the whole body instead of iterating."
                    if self._consumed
                    else "This streamed response was closed before its body was read: read it "
                    "before closing it (or inside its `with` block)."
                )
            )
        self._consumed = True
        return stream

    def _not_partly_read(self) -> None:
        if self._consumed:
            raise self._here(
                InvalidOperation(
                    "The body of this streamed response is being or was read piece by piece, so "
                    "the whole of it cannot be given: keep the pieces as you iterate, or read the "
                    "whole body without iterating."
                )
            )

    @property
    def is_closed(self) -> bool:
        """True once the transfer ended or was closed."""
        return self._stream is None

    @property
    def is_stream_consumed(self) -> bool:
        """True once the body has been (or is being) read."""
        return self._consumed

    def close(self) -> None:
        """Stop the transfer if the body was not read to the end; the Session stays usable."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self.method} {self.request_url}>"


class StreamedResponse(_Streaming):
    """A Response whose body is read as it arrives (`stream=True`, `Session.stream()`).

    Status and headers are there at once; the body comes from `iter_bytes()` and friends, or
    all of it from `content`/`read()`. Close it (or use ``with``) when not reading to the end:
    its transfer holds a handle until then.
    """

    __slots__ = ()

    @property
    def content(self) -> bytes:
        """The whole body, read now if it was not (InvalidOperation once iterating began)."""
        body = self._read_already()
        if body is None:
            self._not_partly_read()
            body = b"".join(self._chunks())
            _CONTENT.__set__(self, body)
        return body

    @content.setter
    def content(self, value: bytes) -> None:
        _CONTENT.__set__(self, value)

    def _chunks(self) -> Iterator[bytes]:
        """The body's pieces as they arrive. Another iterator, after one was left early,
        goes on where that one stopped; the transfer closes at the end of the body, or with
        `close()` (or the ``with`` block)."""
        body = self._read_already()
        if body is not None:
            yield body
            return
        stream: BodyStream = self._open_stream()
        held = self._held
        while True:
            while held:
                yield held.popleft()
            try:
                pieces = stream.read()
            except InvalidOperation as error:  # its Session was closed, or is busy elsewhere
                self.close()
                raise self._here(error) from None
            except BaseException:
                self.close()
                raise
            if not pieces:
                self.close()
                return
            held.extend(pieces)

    def __reduce__(self) -> tuple[Any, ...]:
        self.content  # noqa: B018 - the body is read whole before pickling
        return super().__reduce__()


class AsyncBodyStream(Protocol):
    """A streamed body's transfer, as the asyncio transport runs it."""

    async def read(self) -> list[bytes]:
        """The next pieces of the body ([] at its end); raises the typed error of a failure."""
        ...

    def close(self) -> None:
        """Stop the transfer if it still runs, and give its slot back."""
        ...


class AsyncStreamedResponse(_Streaming):
    """An AsyncSession's streamed response (`stream=True`, `AsyncSession.stream()`): read the
    body with `aiter_bytes()`, `aiter_text()`, `aiter_lines()` or `await aread()`, as httpx's.

    `content`, `text` and `json()` work once `aread()` has read the body. `aclose()` it (or
    use ``async with``) when not reading to the end.
    """

    __slots__ = ()

    @property
    def content(self) -> bytes:
        """The whole body, once `await aread()` has read it."""
        body = self._read_already()
        if body is None:
            raise self._here(
                InvalidOperation(
                    "The body of this streamed response has not been read: `await r.aread()` "
                    "first, or read it with `async for chunk in r.aiter_bytes()`."
                )
            )
        return body

    @content.setter
    def content(self, value: bytes) -> None:
        _CONTENT.__set__(self, value)

    def _chunks(self) -> Iterator[bytes]:
        yield self.content  # read already, or InvalidOperation saying how to read it

    async def _achunks(self) -> AsyncIterator[bytes]:
        body = self._read_already()
        if body is not None:
            yield body
            return
        stream: AsyncBodyStream = self._open_stream()
        held = self._held
        while True:
            while held:
                yield held.popleft()
            try:
                pieces = await stream.read()
            except InvalidOperation as error:  # its session was closed under it
                self.close()
                raise self._here(error) from None
            except BaseException:
                self.close()
                raise
            if not pieces:
                self.close()
                return
            held.extend(pieces)

    async def aread(self) -> bytes:
        """The whole body (what is left of it is read now)."""
        body = self._read_already()
        if body is None:
            self._not_partly_read()
            body = b"".join([piece async for piece in self._achunks()])
            _CONTENT.__set__(self, body)
        return body

    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body in pieces as they arrive (`chunk_size` None) or of `chunk_size` bytes."""
        return _ashaped(self._achunks(), _Shaper(chunk_size))

    def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body decoded with `encoding`, piece by piece."""
        return _ashaped(self._achunks(), _Shaper(chunk_size, self.encoding))

    def aiter_lines(self) -> AsyncIterator[str]:
        """The body line by line (str, endings dropped)."""
        return _ashaped(self._achunks(), _Shaper(None, self.encoding, lines=True))

    async def aclose(self) -> None:
        """Stop the transfer if the body was not read to the end; the session stays usable."""
        self.close()

    async def __aenter__(self) -> AsyncStreamedResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _chunk_size(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidSetting(
            f"chunk_size={value!r} must be a whole number of bytes >= 1, or None for the "
            "pieces as they arrive."
        )
    return value


_EOL_TEXT: Final = re.compile(r"\r\n|\r|\n")
_EOL_BYTES: Final = re.compile(rb"\r\n|\r|\n")


class _Shaper:
    """The steps between a body's pieces and what an iterator gives: cut or joined into
    `size`-byte chunks (None: as they come), decoded with `encoding` (None: bytes), split
    into lines (CRLF, LF or CR, endings dropped). The same for sync and async iteration."""

    __slots__ = ("_buffer", "_decoder", "_eol", "_lines", "_pending", "_size")

    def __init__(self, size: int | None, encoding: str | None = None, lines: bool = False):
        self._size = _chunk_size(size)
        self._buffer = bytearray()
        self._decoder = (
            codecs.getincrementaldecoder(encoding)("replace") if encoding is not None else None
        )
        self._lines = lines
        self._eol = _EOL_TEXT if encoding is not None else _EOL_BYTES
        self._pending: Any = "" if encoding is not None else b""

    def feed(self, piece: bytes) -> list[Any]:
        size = self._size
        buffer = self._buffer
        if size is None:
            chunks = [piece]
        elif not buffer:  # cut straight from the piece; only its tail waits in the buffer
            whole = len(piece) - len(piece) % size
            chunks = (
                [piece]
                if whole == len(piece) == size
                else [piece[i : i + size] for i in range(0, whole, size)]
            )
            buffer += piece[whole:]
        else:
            buffer += piece
            chunks = []
            while len(buffer) >= size:
                chunks.append(bytes(buffer[:size]))
                del buffer[:size]
        return self._shape(chunks, final=False)

    def flush(self) -> list[Any]:
        chunks = [bytes(self._buffer)] if self._buffer else []
        self._buffer.clear()
        return self._shape(chunks, final=True)

    def _shape(self, chunks: list[bytes], final: bool) -> list[Any]:
        decoder = self._decoder
        out: list[Any] = chunks
        if decoder is not None:
            out = [text for text in (decoder.decode(c) for c in chunks) if text]
            if final:
                tail = decoder.decode(b"", final=True)
                if tail:
                    out.append(tail)
        if not self._lines:
            return out
        lines: list[Any] = []
        pending = self._pending
        cr = "\r" if decoder is not None else b"\r"
        for piece in out:
            pending += piece
            held = pending[:0]
            if pending.endswith(cr):  # maybe the first half of a CRLF split between pieces
                pending, held = pending[:-1], cr
            parts = self._eol.split(pending)
            pending = parts.pop() + held
            lines += parts
        if final and pending:
            parts = self._eol.split(pending)
            if not parts[-1]:
                parts.pop()
            lines += parts
            pending = pending[:0]
        self._pending = pending
        return lines


def _shaped(pieces: Iterator[bytes], shaper: _Shaper) -> Iterator[Any]:
    for piece in pieces:
        yield from shaper.feed(piece)
    yield from shaper.flush()


async def _ashaped(pieces: AsyncIterator[bytes], shaper: _Shaper) -> AsyncIterator[Any]:
    async for piece in pieces:
        for shaped in shaper.feed(piece):
            yield shaped
    for shaped in shaper.flush():
        yield shaped


def _parse_links(header: str) -> Iterator[dict[str, str]]:
    """The links of one Link header value: url plus each parameter (quotes removed)."""
    for part in re.split(r",\s*(?=<)", header.strip()):
        url, _, params = part.partition(";")
        link = {"url": url.strip().strip("<> '\"")}
        for param in params.split(";"):
            key, sep, value = param.partition("=")
            if sep:
                link[key.strip().lower()] = value.strip().strip("'\" ")
        yield link


def _restore(fields: dict[str, Any]) -> Response:
    """Unpickle a Response."""
    return Response(**fields)


# CURLINFO_HTTP_VERSION values: CURL_HTTP_VERSION_1_0 .. CURL_HTTP_VERSION_3.
_HTTP_VERSIONS: Final[Mapping[int, str]] = {1: "1.0", 2: "1.1", 3: "2", 30: "3"}
