"""More misbehaving peers and measuring tools, for the hardening tests.

Used by test_faults, test_security, test_soak, test_threads and test_properties, on top of the
servers in `servers` (raw-socket handlers for `RawServer`) and `http_servers` (`HTTPApp`,
`ForwardProxy`). Everything listens on loopback only and is listening before it is handed
out; handlers that must wait do so on their server's ``stopping`` event, never on a bare sleep.

- Handlers for `servers.RawServer`: `drip` (one body byte every so often), `tls_cut_after_hello`
  (reads the ClientHello, then hangs up), `h2_garbage_after_preface`, `h2c_ok` (a healthy HTTP/2
  prior-knowledge server) and `Stream` (a long body that counts what it could send).
- `TLSForwardProxy`: `http_servers.ForwardProxy` spoken over TLS, an ``https://`` proxy.
- `ResetServer`: resets every connection from its accept thread (no thread or memory per
  connection), for soak tests that measure this process's memory.
- `rss_kib`, `peak_rss_kib`, `reset_peak_rss` and `open_fds`: this process's memory and fds.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
from types import TracebackType

from http_servers import ForwardProxy
from servers import (
    H2_DATA,
    H2_FLAG_ACK,
    H2_FLAG_END_HEADERS,
    H2_FLAG_END_STREAM,
    H2_GOAWAY,
    H2_HEADERS,
    H2_PREFACE,
    H2_SETTINGS,
    LOOPBACK,
    Handler,
    RawServer,
    drain,
    h2_frame,
    hpack_literal,
    listening_socket,
    read_head,
    recv_exact,
    reset,
)

__all__ = [
    "ResetServer",
    "Stream",
    "TLSForwardProxy",
    "drip",
    "h2_garbage_after_preface",
    "h2c_ok",
    "open_fds",
    "peak_rss_kib",
    "reset_peak_rss",
    "rss_kib",
    "tls_cut_after_hello",
]

# --------------------------------------------------------------------------------------------
# Handlers for servers.RawServer


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


def h2_garbage_after_preface(sock: socket.socket, server: RawServer) -> None:
    """An HTTP/2 prior-knowledge peer: read the client preface, send our SETTINGS, then bytes
    that are no HTTP/2 frame (a frame header announcing 16 MB), and wait for the hang-up."""
    if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
        raise AssertionError("expected the HTTP/2 client preface")
    sock.sendall(h2_frame(H2_SETTINGS, 0, 0) + b"\xff" * 64)
    drain(sock, server)


def h2c_ok(body: bytes = b"ok") -> Handler:
    """A healthy cleartext HTTP/2 (prior knowledge) server: 200 and `body` for every stream."""

    def handler(sock: socket.socket, server: RawServer) -> None:
        if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
            return
        sock.sendall(h2_frame(H2_SETTINGS, 0, 0))
        while not server.stopping.is_set():
            header = recv_exact(sock, 9)
            length = int.from_bytes(header[:3], "big")
            kind, flags = header[3], header[4]
            stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
            recv_exact(sock, length)
            if kind == H2_SETTINGS and not flags & H2_FLAG_ACK:
                sock.sendall(h2_frame(H2_SETTINGS, H2_FLAG_ACK, 0))
            elif kind == H2_HEADERS:
                block = b"\x88" + hpack_literal(b"content-length", str(len(body)).encode())
                sock.sendall(
                    h2_frame(H2_HEADERS, H2_FLAG_END_HEADERS, stream, block)
                    + h2_frame(H2_DATA, H2_FLAG_END_STREAM, stream, body)
                )
            elif kind == H2_GOAWAY:
                return

    return handler


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


# --------------------------------------------------------------------------------------------
# An HTTPS forward proxy


class TLSForwardProxy(ForwardProxy):
    """`http_servers.ForwardProxy` behind TLS: pass ``proxy=proxy.proxy_url()`` (https://).

    It presents the certificate of `ssl_context`; a client that does not trust it never gets
    to send a request (``records`` stays empty).
    """

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        super().__init__(ssl_context=ssl_context)


# --------------------------------------------------------------------------------------------
# A reset server that costs nothing per connection


class ResetServer:
    """Reads each request and resets the connection, all in its one accept thread.

    No thread, socket or list entry outlives a connection, so thousands of connections leave
    this process's memory and fds as they were. Listening once constructed.
    """

    def __init__(self) -> None:
        self.accepted = 0
        self.stopping = threading.Event()
        self._listener = listening_socket(backlog=128)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=f"Reset:{self.port}", daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            try:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                reset(conn)
            finally:
                conn.close()

    def close(self) -> None:
        self.stopping.set()
        self._thread.join(5.0)
        self._listener.close()

    def __enter__(self) -> ResetServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# This process's memory and file descriptors (Linux /proc)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def rss_kib() -> int:
    """Resident set size of this process now, in KiB."""
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """The highest resident set size since the last `reset_peak_rss()`, in KiB."""
    return _status_kib("VmHWM")


def reset_peak_rss() -> None:
    """Start measuring the peak RSS from now (writes 5 to /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))
