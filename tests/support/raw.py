"""Raw TCP peers: one server that runs a handler on each connection, and the handlers.

Everything here listens on loopback only (127.0.0.1 or ::1) and needs no network.

Readiness: every server binds and listens in its constructor, so by the time a fixture hands it
out the kernel already queues connections to it; no test ever sleeps waiting for a server.

Shutdown: servers run in daemon threads; leaving their ``with`` block (or calling ``stop()``)
sets their ``stopping`` event, closes the listening socket, shuts down the connections still
open and joins every thread with a timeout. Handlers that must stall block on ``stopping``,
never on a sleep.

The pieces:

- `closed_port()`: a port nothing listens on; `reset()`: abort a connection with a TCP RST;
  `read_head()`, `recv_exact()` and `drain()`: reading from a client; `passwd_fragments()`:
  pieces of /etc/passwd that must never show up in an error or a response.
- `RawServer`: a TCP server that runs a `Handler` on each connection, with a library of
  handlers (`respond`, `reset_on_accept`, `stall_after_request`, `endless_body`, `drip`,
  `Stream`, `socks5`, `tls`, `tls_cut_after_hello`...) that each produce one kind of fault.
  HTTP/2 handlers are in `support.h2`, the scripted FTP one in `support.ftp`.
- `ConnectStall`: a port whose TCP handshakes never complete (its accept queue is full).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

LOOPBACK = "127.0.0.1"
LOOPBACK6 = "::1"
IO_TIMEOUT = 5.0
"""Seconds a server-side socket operation may block before the handler gives up."""
JOIN_TIMEOUT = 5.0
"""Seconds teardown waits for each server thread."""
POLL_INTERVAL = 0.05
"""Seconds between checks of the stop event by accept and receive loops."""

Handler = Callable[[socket.socket, "RawServer"], None]
"""What a `RawServer` runs on each accepted connection, in its own thread.

It gets the connected socket (blocking, with the server's ``io_timeout``, by default
`IO_TIMEOUT`) and the server (for its
``stopping`` event). `OSError` raised by a handler is expected (the client went away, or the
handler reset the connection) and ignored; any other exception is a bug in the test and is
re-raised when the server stops. The server closes the socket after the handler returns.
"""


_Server = TypeVar("_Server", bound="RawServer")


def listening_socket(
    host: str = LOOPBACK, port: int = 0, backlog: int = 16, *, reuse: bool = False
) -> socket.socket:
    """A socket already listening on `host` (ready before any client connects), whose accept()
    wakes every POLL_INTERVAL so that a server thread can notice it should stop."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        if reuse:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(backlog)
        listener.settimeout(POLL_INTERVAL)
    except BaseException:
        listener.close()
        raise
    return listener


def closed_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that nothing listens on: bound, then closed.

    Another process could grab it in between; on a test machine that is rare enough.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def passwd_fragments() -> list[str]:
    """Pieces of /etc/passwd that must never show up in an error or a response."""
    path = Path("/etc/passwd")
    lines = path.read_text().splitlines() if path.exists() else []
    return [line for line in lines[:3] if line] or ["root:x:0:0"]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class RawServer:
    """A TCP server on loopback that runs `handler` on every connection, each in a thread.

    The socket is bound and listening once the constructor returns. Use it as a context manager
    (or call `start` and `stop`)::

        with RawServer(respond(b"HTTP/1.1 200 OK\\r\\n\\r\\n")) as server:
            url = server.url("/path")

    `host` is any loopback address; `port` a fixed port (one `closed_port()` reserved, so that
    a refused port can start accepting) instead of a fresh one; `io_timeout` the timeout of each
    accepted socket. With ``threaded=False`` the handler runs in the accept thread itself, one
    connection after another: no thread and nothing else outlives a connection, for soak tests
    that measure this process's memory (such a handler must never stall).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        backlog: int = 16,
        io_timeout: float = IO_TIMEOUT,
        threaded: bool = True,
    ) -> None:
        self.handler = handler
        self.host = host
        self.io_timeout = io_timeout
        self.threaded = threaded
        self.stopping = threading.Event()
        """Set when the server stops: handlers that stall wait on it."""
        self.accepted = 0
        """How many connections were accepted so far."""
        self.errors: list[BaseException] = []
        # A fixed port may have just been bound by closed_port(): let it be bound again.
        self._listener = listening_socket(host, port, backlog, reuse=port != 0)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._serving = 0
        self._workers: list[threading.Thread] = []
        self._local = threading.local()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"RawServer:{self.port}", daemon=True
        )
        self._started = False
        self._stopped = False

    def url(
        self, path: str = "/", scheme: str = "http", *, host: str | None = None, userinfo: str = ""
    ) -> str:
        """A URL that reaches this server, such as ``http://127.0.0.1:PORT/path``.

        `host` names this server otherwise (say, "localhost"); `userinfo` goes before the host.
        """
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}{_url_host(host or self.host)}:{self.port}{path}"

    @property
    def open_connections(self) -> int:
        """Accepted connections whose handler has not finished (and closed them) yet."""
        with self._lock:
            return self._serving

    def start(self: _Server) -> _Server:
        """Start accepting connections (idempotent)."""
        if not self._started:
            self._started = True
            self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop accepting, shut down open connections and join the threads (idempotent).

        Raises the first unexpected exception a handler raised, if any.
        """
        if self._stopped:
            return
        self._stopped = True
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        if self._started:
            self._acceptor.join(JOIN_TIMEOUT)
        self._listener.close()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for worker in self._workers:
            worker.join(JOIN_TIMEOUT)
        if self.errors:
            raise self.errors[0]

    def connection_number(self) -> int:
        """Which accepted connection (1, 2...) the calling handler thread is serving.

        Counted when the connection was accepted, so two connections accepted before either
        handler runs still get different numbers. Only valid in a handler's thread.
        """
        number: int = self._local.number
        return number

    def track(self, sock: socket.socket) -> None:
        """Register a socket a handler made (say, a TLS wrapper) so that `stop` shuts it down."""
        with self._lock:
            self._open.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        """Forget a socket registered with `track`."""
        with self._lock:
            self._open.discard(sock)

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.stop()
        else:  # do not hide the test's own failure behind a handler's
            with contextlib.suppress(Exception):
                self.stop()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self.stopping.is_set():
                    self.errors.append(exc)
                return
            conn.settimeout(self.io_timeout)
            with self._lock:
                self.accepted += 1
                number = self.accepted
                self._open.add(conn)
                self._serving += 1
            if not self.threaded:
                self._serve(conn, number)
                continue
            worker = threading.Thread(
                target=self._serve,
                args=(conn, number),
                name=f"RawServer:{self.port}:conn{number}",
                daemon=True,
            )
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        self._local.number = number
        try:
            self.handler(conn, self)
        except OSError:
            pass  # the peer went away or the handler reset the connection: the point of it
        except BaseException as exc:  # noqa: B036 - kept and re-raised by stop()
            self.errors.append(exc)
        finally:
            self.untrack(conn)
            conn.close()
            with self._lock:
                self._serving -= 1


# --------------------------------------------------------------------------------------------
# Building blocks for handlers


def read_head(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    """Read up to the blank line ending an HTTP request head; return all bytes read.

    Raises `ConnectionError` (an `OSError`, so a handler just ends) if the peer closes first.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed before the end of the request head")
        data += chunk
        if len(data) > limit:
            raise ConnectionError("request head too long")
    return data


def reset(sock: socket.socket) -> None:
    """Abort the connection: SO_LINGER with a zero timeout, then close, sends a TCP RST."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def drain(sock: socket.socket, server: RawServer) -> None:
    """Read and discard until the peer closes or the server stops.

    Waiting for the client to close first means our own close sends a FIN, never a RST, so the
    client reads everything we sent.
    """
    sock.settimeout(POLL_INTERVAL)
    while not server.stopping.is_set():
        try:
            if not sock.recv(65536):
                return
        except TimeoutError:
            continue


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes from `sock`; `ConnectionError` if the peer closes first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("peer closed early")
        data += chunk
    return data


# --------------------------------------------------------------------------------------------
# Handlers: each produces one kind of fault


def respond(raw: bytes) -> Handler:
    """Read the request head, send `raw` verbatim, then close (FIN).

    Covers garbage status lines, truncated bodies (a Content-Length larger than what is sent),
    bad gzip, oversized headers, redirect loops and any other canned answer.
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        read_head(sock)
        sock.sendall(raw)

    return handler


def greet(raw: bytes) -> Handler:
    """Send `raw` as soon as the connection is accepted, without reading, then wait for the
    client to hang up. A plain HTTP "server" that talks first makes a TLS client fail fast.
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        sock.sendall(raw)
        drain(sock, server)

    return handler


def respond_then_stall(raw: bytes) -> Handler:
    """Read the request head, send `raw` (say, headers and part of a body), then go silent."""

    def handler(sock: socket.socket, server: RawServer) -> None:
        read_head(sock)
        sock.sendall(raw)
        server.stopping.wait()

    return handler


def respond_and_reset(raw: bytes) -> Handler:
    """Read the request head, send `raw` (say, headers and half a body), then reset."""

    def handler(sock: socket.socket, server: RawServer) -> None:
        read_head(sock)
        sock.sendall(raw)
        reset(sock)

    return handler


def reset_on_accept(sock: socket.socket, server: RawServer) -> None:
    """Reset the connection at once, before reading or sending a byte.

    Whether the client then fails to send (55) or to receive (56) is a race; for a
    deterministic receive error use `reset_after_request`.
    """
    reset(sock)


def reset_after_request(sock: socket.socket, server: RawServer) -> None:
    """Read the request head only, then reset: a client still sending its body fails to send."""
    read_head(sock)
    reset(sock)


def close_after_request(sock: socket.socket, server: RawServer) -> None:
    """Read the request head and close without answering: an empty reply."""
    read_head(sock)


def stall_after_request(sock: socket.socket, server: RawServer) -> None:
    """Read the request head, then never answer (until the server stops)."""
    read_head(sock)
    server.stopping.wait()


def stall_on_accept(sock: socket.socket, server: RawServer) -> None:
    """Accept the TCP connection and never send or read a byte (until the server stops).

    Against TLS this stalls the handshake: the connect phase never completes.
    """
    server.stopping.wait()


def endless_body(head: bytes = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n") -> Handler:
    """Send `head`, then body bytes forever (until the client hangs up or the server stops).

    With no Content-Length the body only ends when the connection does.
    """
    chunk = b"x" * 16384

    def handler(sock: socket.socket, server: RawServer) -> None:
        read_head(sock)
        sock.sendall(head)
        while not server.stopping.is_set():
            sock.sendall(chunk)

    return handler


def refuse_connect(status: int) -> Handler:
    """An HTTP proxy that answers every request (a CONNECT) with `status` and no tunnel."""
    reasons = {403: "Forbidden", 407: "Proxy Authentication Required"}
    head = f"HTTP/1.1 {status} {reasons.get(status, 'Refused')}\r\n"
    if status == 407:
        head += 'Proxy-Authenticate: Basic realm="curlx"\r\n'
    return respond((head + "Content-Length: 0\r\n\r\n").encode())


def tls(context: ssl.SSLContext, then: Handler) -> Handler:
    """Do a server-side TLS handshake with `context`, then run `then` on the TLS socket.

    If the handshake fails (the client refused our certificate, or we refused the client's),
    the connection stays open until the client hangs up, so the client reads our alert.
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        tls_sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        server.track(tls_sock)
        try:
            try:
                tls_sock.do_handshake()
            except ssl.SSLError:
                # Keep the TCP connection until the client hangs up: it then reads the alert
                # we sent, instead of racing a reset against its next send.
                with socket.socket(fileno=tls_sock.detach()) as raw:
                    server.track(raw)
                    drain(raw, server)
                    server.untrack(raw)
                return
            then(tls_sock, server)
        finally:
            server.untrack(tls_sock)
            tls_sock.close()

    return handler


def socks5(method_reply: bytes, connect_reply: bytes = b"") -> Handler:
    """A fake SOCKS5 proxy answering from a script of raw bytes, then hanging up.

    It reads the client's greeting and sends `method_reply` (normally ``05 00``: version 5, no
    authentication). If `connect_reply` is given it then reads the CONNECT request and sends
    `connect_reply`. Then it closes the connection. Scripted bytes let a test send a wrong
    version (``04 00``), refuse every method (``05 FF``), answer CONNECT with any reply code
    (see `socks5_reply`), or hang up early (``b""``).
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        _version, count = recv_exact(sock, 2)
        recv_exact(sock, count)
        sock.sendall(method_reply)
        if connect_reply:
            _version, _command, _reserved, address_type = recv_exact(sock, 4)
            if address_type == 1:
                recv_exact(sock, 4)
            elif address_type == 4:
                recv_exact(sock, 16)
            else:
                recv_exact(sock, recv_exact(sock, 1)[0])
            recv_exact(sock, 2)
            sock.sendall(connect_reply)

    return handler


def socks5_reply(code: int) -> bytes:
    """A SOCKS5 CONNECT reply with reply field `code` and a 0.0.0.0:0 bound address."""
    return bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0])


def ok_response(body: bytes = b"hello") -> bytes:
    """A complete, well-formed HTTP/1.1 200 response closing the connection."""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body


def drip(interval: float, *, first: bytes = b"x") -> Handler:
    """Read the request; send a head announcing a megabyte and `first`, then one body byte
    every `interval` seconds until the client hangs up or the server stops."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nContent-Type: text/plain\r\n\r\n"

    def handler(sock: socket.socket, server: RawServer) -> None:
        read_head(sock)
        sock.sendall(head + first)
        while not server.stopping.wait(interval):
            sock.sendall(b"x")

    return handler


def tls_cut_after_hello(sock: socket.socket, server: RawServer) -> None:
    """Read the client's first TLS record (its ClientHello), then close the connection."""
    record = sock.recv(65536)
    if record[:1] != b"\x16":  # a TLS handshake record, or the test is not testing TLS
        raise AssertionError(f"expected a TLS ClientHello, got {record[:16]!r}")


class Stream:
    """A handler sending a body of `total` bytes (no Content-Length: it ends with the
    connection), counting in `sent` what the client let it send before hanging up."""

    def __init__(self, total: int, chunk: int = 65536) -> None:
        self.total = total
        self.chunk = b"s" * chunk
        self.sent = 0
        self.done = threading.Event()
        """Set when the handler ended (the client hung up, or all was sent)."""

    def __call__(self, sock: socket.socket, server: RawServer) -> None:
        try:
            read_head(sock)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
            while self.sent < self.total and not server.stopping.is_set():
                sock.sendall(self.chunk)
                self.sent += len(self.chunk)
        finally:
            self.done.set()


class ConnectStall:
    """A loopback port whose TCP connects hang: a connect-phase timeout without a network.

    It listens with a backlog of 0 and fills the accept queue with one connection it never
    accepts, so the kernel drops every further SYN and a client's connect() just waits.
    """

    def __init__(self, host: str = LOOPBACK) -> None:
        self.host = host
        self._listener = listening_socket(host, backlog=0)
        self.port: int = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            filler = socket.socket(family, socket.SOCK_STREAM)
            self._fillers.append(filler)
            filler.settimeout(IO_TIMEOUT)
            filler.connect((host, self.port))
        except BaseException:
            self.close()
            raise

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{_url_host(self.host)}:{self.port}{path}"

    def close(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._listener.close()

    def __enter__(self) -> ConnectStall:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
