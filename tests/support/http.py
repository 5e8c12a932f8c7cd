"""HTTP peers on loopback: an HTTP/1.1 app server, a forward proxy and an HTTP/2 server.

Everything binds and listens in its constructor, so a fixture that hands a server out never
waits for it to be ready; a handler that must stall waits on the server's `release` event
(set at teardown), never on a sleep. Every connection a server accepted is shut down when it
stops, and its threads are joined.

- `HTTPApp`: a threaded HTTP/1.1 keep-alive server (plain, or TLS with a given context) that
  answers each request with what a handler function returns, records every request and counts
  the TCP connections it accepted.
- `ForwardProxy`: an HTTP forward proxy for absolute-URI requests and CONNECT tunnels, with an
  optional Basic Proxy-Authorization check (407) and a mode that refuses every CONNECT (403).
  Given a TLS context, it is an ``https://`` proxy.
- `H2Server`: a minimal HTTP/2-over-TLS server (ALPN "h2") written against the frame layer, so
  that no HTTP/2 library is needed.
- Handlers for `HTTPApp`: `echo` (200 ``ok``), `stall` (never answers) and `abort` (resets the
  connection).
"""

from __future__ import annotations

import base64
import contextlib
import selectors
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from .h2 import H2Responder
from .raw import IO_TIMEOUT, LOOPBACK, POLL_INTERVAL, Handler, RawServer, reset, tls

_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


# --------------------------------------------------------------------------------------------
# The threaded TCP base


class _TCPServer(RawServer):
    """A `RawServer`, started on construction, that runs `serve(sock)` on each connection: on
    the TLS socket after the server-side handshake (the `tls` handler) if given a context."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        backlog: int = 64,
        io_timeout: float = IO_TIMEOUT,
    ) -> None:
        self.ssl_context = ssl_context
        handler: Handler = self._handle
        if ssl_context is not None:
            handler = tls(ssl_context, handler)
        super().__init__(handler, host=host, port=port, backlog=backlog, io_timeout=io_timeout)
        self.release = self.stopping
        """Set on stop (or by a test): handlers that stall wait on it (``stopping`` by its
        other name)."""
        self.start()

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self.accepted

    @property
    def scheme(self) -> str:
        return "http" if self.ssl_context is None else "https"

    def url(
        self,
        path: str = "/",
        scheme: str | None = None,
        *,
        host: str | None = None,
        userinfo: str = "",
    ) -> str:
        """``http(s)://HOST:PORT/path`` for this server (`host` may be "localhost")."""
        return super().url(path, scheme or self.scheme, host=host, userinfo=userinfo)

    def serve(self, sock: socket.socket) -> None:
        raise NotImplementedError

    def _handle(self, sock: socket.socket, server: RawServer) -> None:
        # OSError (the client went away) ends the connection quietly, in RawServer.
        with contextlib.suppress(ValueError):  # I/O on a socket that stop() closed under it
            self.serve(sock)


class _Reader:
    """Buffered reads of an HTTP/1.1 stream."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def head(self) -> bytes | None:
        """The next request or response head (without the blank line); None at a clean EOF."""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                if self.buffer:
                    raise ConnectionError("peer closed in the middle of a head")
                return None
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed in the middle of a body")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed in the middle of a line")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip(" \t")))  # OWS is SP and HTAB only
    return method, target, version, headers


def _find(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    lowered = name.lower()
    return [v for k, v in headers if k.lower() == lowered]


# --------------------------------------------------------------------------------------------
# HTTPApp: a keep-alive HTTP/1.1 server answering through a handler


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int
    """Which accepted connection (1, 2...) carried it."""

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        found = _find(self.headers, name)
        return found[0] if found else None

    def header_list(self, name: str) -> list[str]:
        """Every value of header `name`, in order."""
        return _find(self.headers, name)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)


@dataclass
class Reply:
    """What `HTTPApp` sends back: a status, headers and a body (Content-Length added).

    `chunked` sends the body with Transfer-Encoding: chunked instead; `close` sends
    Connection: close and ends the connection after the reply.
    """

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None
    chunked: bool = False
    close: bool = False


class Exchange:
    """What a handler may use besides the request: the raw socket and the server."""

    def __init__(self, sock: socket.socket, server: HTTPApp) -> None:
        self.sock = sock
        self.server = server


RequestHandler = Callable[[Request, Exchange], "Reply | None"]
"""Answers one request: a `Reply`, or None to close the connection without a (further) reply
(the handler may have written raw bytes to ``exchange.sock`` itself)."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def serialize(reply: Reply) -> bytes:
    """The bytes of `reply` on the wire."""
    reason = reply.reason if reply.reason is not None else _reason(reply.status)
    lines = [f"HTTP/1.1 {reply.status} {reason}".rstrip()]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    if reply.chunked:
        lines.append("Transfer-Encoding: chunked")
    elif not _find(reply.headers, "content-length"):
        lines.append(f"Content-Length: {len(reply.body)}")
    if reply.close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if not reply.chunked:
        return head + reply.body
    chunks = b""
    step = 16384
    for start in range(0, len(reply.body), step):
        piece = reply.body[start : start + step]
        chunks += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return head + chunks + b"0\r\n\r\n"


class HTTPApp(_TCPServer):
    """A threaded, keep-alive HTTP/1.1 server on 127.0.0.1 (TLS if given a context).

    `handler` answers each request. ``requests`` holds every request received, in order;
    ``connections`` counts the TCP connections accepted. HEAD replies carry the headers of the
    reply but no body. `host` (another loopback address), `port`, `backlog` and `io_timeout`
    are those of `RawServer`.
    """

    def __init__(
        self,
        handler: RequestHandler,
        ssl_context: ssl.SSLContext | None = None,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        backlog: int = 64,
        io_timeout: float = IO_TIMEOUT,
    ) -> None:
        self.request_handler = handler
        """Answers each request (``handler`` is the connection handler of `RawServer`)."""
        self.requests: list[Request] = []
        super().__init__(ssl_context, host=host, port=port, backlog=backlog, io_timeout=io_timeout)

    def serve(self, sock: socket.socket) -> None:
        reader = _Reader(sock)
        number = self.connection_number()
        while not self.release.is_set():
            head = reader.head()
            if head is None:
                return
            method, target, version, headers = _parse_head(head)
            if any(v.lower() == "100-continue" for v in _find(headers, "expect")):
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if any("chunked" in v.lower() for v in _find(headers, "transfer-encoding")):
                body = b""
                while True:
                    size = int(reader.line().split(b";")[0], 16)
                    body += reader.exactly(size + 2)[:size]
                    if size == 0:
                        break
            else:
                length = _find(headers, "content-length")
                body = reader.exactly(int(length[0])) if length else b""
            request = Request(method, target, version, headers, body, number)
            with self._lock:
                self.requests.append(request)
            reply = self.request_handler(request, Exchange(sock, self))
            if reply is None:
                return
            data = serialize(reply)
            if method == "HEAD":
                data = data.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
            sock.sendall(data)
            if reply.close:
                return


def echo(request: Request, exchange: Exchange) -> Reply:
    """A handler answering 200 with ``ok`` (the test reads `HTTPApp.requests`)."""
    return Reply(200, b"ok", [("Content-Type", "text/plain")])


def stall(request: Request, exchange: Exchange) -> Reply | None:
    """A handler that reads the request and never answers (until the server is released)."""
    exchange.server.release.wait()
    return None


def abort(request: Request, exchange: Exchange) -> None:
    """A handler that reads the request and resets the connection (a TCP RST) instead of
    answering: what `support.raw.reset_after_request` does, for an `HTTPApp`."""
    reset(exchange.sock)


# --------------------------------------------------------------------------------------------
# ForwardProxy


@dataclass
class ProxyRecord:
    """One request the proxy received: method, target and its Proxy-Authorization header."""

    method: str
    target: str
    proxy_authorization: str | None


class ForwardProxy(_TCPServer):
    """An HTTP forward proxy on 127.0.0.1: absolute-URI requests and CONNECT tunnels.

    Only loopback destinations are served (anything else gets 403). With `credentials`, a
    request without the matching ``Proxy-Authorization: Basic`` header gets 407; with
    `refuse_connect`, every CONNECT gets 403. With `ssl_context` the proxy itself speaks
    TLS (an ``https://`` proxy presenting that context's certificate).
    """

    def __init__(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        refuse_connect: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.credentials = credentials
        self.refuse_connect = refuse_connect
        self.records: list[ProxyRecord] = []
        super().__init__(ssl_context)

    def proxy_url(self, userinfo: str | None = None) -> str:
        """``http(s)://[userinfo@]127.0.0.1:PORT``: what to pass as ``proxy=``."""
        at = f"{userinfo}@" if userinfo else ""
        return f"{self.scheme}://{at}{LOOPBACK}:{self.port}"

    def _authorized(self, headers: list[tuple[str, str]]) -> bool:
        if self.credentials is None:
            return True
        token = base64.b64encode(":".join(self.credentials).encode()).decode()
        return _find(headers, "proxy-authorization") == [f"Basic {token}"]

    def serve(self, sock: socket.socket) -> None:
        reader = _Reader(sock)
        head = reader.head()
        if head is None:
            return
        method, target, _, headers = _parse_head(head)
        found = _find(headers, "proxy-authorization")
        with self._lock:
            self.records.append(ProxyRecord(method, target, found[0] if found else None))
        if not self._authorized(headers):
            sock.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test proxy"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        if method == "CONNECT":
            self._tunnel(sock, reader, target)
        else:
            self._forward(sock, reader, method, target, headers)

    def _refuse(self, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def _tunnel(self, sock: socket.socket, reader: _Reader, target: str) -> None:
        host, _, port = target.rpartition(":")
        if self.refuse_connect or host not in _LOOPBACK_NAMES:
            self._refuse(sock)
            return
        with socket.create_connection((LOOPBACK, int(port)), timeout=IO_TIMEOUT) as upstream:
            self.track(upstream)
            try:
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if reader.buffer:
                    upstream.sendall(reader.buffer)
                self._relay(sock, upstream)
            finally:
                self.untrack(upstream)

    def _forward(
        self,
        sock: socket.socket,
        reader: _Reader,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
    ) -> None:
        parts = urlsplit(target)
        if parts.scheme != "http" or parts.hostname not in _LOOPBACK_NAMES:
            self._refuse(sock)
            return
        length = _find(headers, "content-length")
        body = reader.exactly(int(length[0])) if length else b""
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        kept = [
            (k, v)
            for k, v in headers
            if not k.lower().startswith("proxy-") and k.lower() != "connection"
        ]
        lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in kept), "Connection: close"]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        with socket.create_connection((LOOPBACK, parts.port or 80), timeout=IO_TIMEOUT) as up:
            self.track(up)
            try:
                up.sendall(request)
                while chunk := up.recv(65536):
                    sock.sendall(chunk)
            finally:
                self.untrack(up)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            while not self.release.is_set():
                for key, _ in selector.select(POLL_INTERVAL):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    chunk = source.recv(65536)
                    if not chunk:
                        return
                    key.data.sendall(chunk)


# --------------------------------------------------------------------------------------------
# H2Server: just enough HTTP/2 to answer one GET


class H2Server(_TCPServer):
    """HTTP/2 over TLS (ALPN h2) on 127.0.0.1: every request stream gets 200 and `body`.

    It speaks only the frame layer (`support.h2.H2Responder`): it acknowledges SETTINGS,
    ignores what it need not read (HPACK of the request included) and answers ``:status 200``
    with an ``x-served-by: h2server`` header, then one DATA frame ending the stream.
    """

    def __init__(self, ssl_context: ssl.SSLContext, body: bytes = b"hello over h2") -> None:
        self.body = body
        self.responder = H2Responder(body, headers=[(b"x-served-by", b"h2server")])
        super().__init__(ssl_context)

    @property
    def alpn(self) -> list[str | None]:
        """The protocol ALPN selected on each connection."""
        return self.responder.alpn

    def serve(self, sock: socket.socket) -> None:
        self.responder(sock, self)
