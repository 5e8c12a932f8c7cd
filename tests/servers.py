"""Local fault servers: real peers that misbehave on purpose, for the real-failure tests.

Everything here listens on loopback only (127.0.0.1 or ::1) and needs no network.

Readiness: every server binds and listens in its constructor, so by the time a fixture hands it
out the kernel already queues connections to it; no test ever sleeps waiting for a server.

Shutdown: servers run in daemon threads; leaving their ``with`` block (or calling ``stop()``)
sets their ``stopping`` event, closes the listening socket, shuts down the connections still
open and joins every thread with a timeout. Handlers that must stall block on ``stopping``,
never on a sleep.

The pieces:

- `closed_port()`: a port nothing listens on; `reset()`: abort a connection with a TCP RST;
  `recv_exact()`: read exactly n bytes; `h2_frame()`, `hpack_literal()` and the ``H2_*``
  constants: just enough HTTP/2 framing to play a server; `passwd_fragments()`: pieces of
  /etc/passwd that must never show up in an error or a response.
- `RawServer`: a TCP server that runs a `Handler` on each connection, with a library of
  handlers (`respond`, `reset_on_accept`, `stall_after_request`, `endless_body`, `socks5`,
  `scripted_ftp`, `h2_reset_stream`, `tls`...) that each produce one kind of fault.
- `ConnectStall`: a port whose TCP handshakes never complete (its accept queue is full).
- `PKI`: a throw-away CA (from trustme) with good, wrong-host, expired and client certificates
  written to PEM files that libcurl can read.
- `FTPServer`: a real pyftpdlib server with a read-write and a read-only user.
- `TFTPErrorServer`: a UDP server answering every TFTP request with an ERROR packet.
- `Lab`: starts any of the above on demand and stops them all at once (the ``lab`` fixture).
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer as _PyFTPServer

__all__ = [
    "FTP_FILE_CONTENT",
    "FTP_FILE_NAME",
    "FTP_PASSWORD",
    "FTP_READONLY_PASSWORD",
    "FTP_READONLY_USER",
    "FTP_USER",
    "H2_DATA",
    "H2_FLAG_ACK",
    "H2_FLAG_END_HEADERS",
    "H2_FLAG_END_STREAM",
    "H2_GOAWAY",
    "H2_HEADERS",
    "H2_PREFACE",
    "H2_RST_STREAM",
    "H2_SETTINGS",
    "IO_TIMEOUT",
    "JOIN_TIMEOUT",
    "LOOPBACK",
    "LOOPBACK6",
    "PKI",
    "ConnectStall",
    "FTPServer",
    "FTPReply",
    "FTPSession",
    "Handler",
    "Lab",
    "RawServer",
    "TFTPErrorServer",
    "close_after_request",
    "closed_port",
    "drain",
    "endless_body",
    "greet",
    "h2_garbage",
    "h2_frame",
    "h2_reset_stream",
    "hpack_literal",
    "ok_response",
    "passwd_fragments",
    "read_head",
    "recv_exact",
    "refuse_connect",
    "reset",
    "reset_after_request",
    "reset_on_accept",
    "respond",
    "respond_and_reset",
    "respond_then_stall",
    "scripted_ftp",
    "socks5",
    "socks5_reply",
    "stall_after_request",
    "stall_on_accept",
    "tls",
]

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

It gets the connected socket (blocking, with an `IO_TIMEOUT` timeout) and the server (for its
``stopping`` event). `OSError` raised by a handler is expected (the client went away, or the
handler reset the connection) and ignored; any other exception is a bug in the test and is
re-raised when the server stops. The server closes the socket after the handler returns.
"""


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
    """

    def __init__(self, handler: Handler, *, host: str = LOOPBACK, backlog: int = 16) -> None:
        self.handler = handler
        self.host = host
        self.stopping = threading.Event()
        """Set when the server stops: handlers that stall wait on it."""
        self.accepted = 0
        """How many connections were accepted so far."""
        self.errors: list[BaseException] = []
        self._listener = listening_socket(host, backlog=backlog)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        self._local = threading.local()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"RawServer:{self.port}", daemon=True
        )
        self._started = False
        self._stopped = False

    def url(self, path: str = "/", scheme: str = "http") -> str:
        """A URL that reaches this server, such as ``http://127.0.0.1:PORT/path``."""
        return f"{scheme}://{_url_host(self.host)}:{self.port}{path}"

    def start(self) -> RawServer:
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

    def __enter__(self) -> RawServer:
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
            conn.settimeout(IO_TIMEOUT)
            with self._lock:
                self.accepted += 1
                number = self.accepted
                self._open.add(conn)
            worker = threading.Thread(
                target=self._serve,
                args=(conn, number),
                name=f"RawServer:{self.port}:conn{number}",
                daemon=True,
            )
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


# HTTP/2 framing, just enough to play a server (one that misbehaves, or a minimal healthy one).
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA = 0x0
H2_HEADERS = 0x1
H2_RST_STREAM = 0x3
H2_SETTINGS = 0x4
H2_GOAWAY = 0x7
H2_FLAG_ACK = 0x1  # on SETTINGS
H2_FLAG_END_STREAM = 0x1  # on DATA and HEADERS
H2_FLAG_END_HEADERS = 0x4


def h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def hpack_literal(name: bytes, value: bytes) -> bytes:
    """An HPACK literal header field without indexing, new name, no Huffman coding.

    Only for names and values shorter than 127 bytes (their length fits the 7-bit prefix).
    """
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def _read_h2_frame(sock: socket.socket) -> tuple[int, int, int]:
    header = recv_exact(sock, 9)
    length = int.from_bytes(header[:3], "big")
    kind, flags, stream = struct.unpack(">BBI", header[3:])
    recv_exact(sock, length)
    return kind, flags, stream & 0x7FFFFFFF


def h2_reset_stream(error_code: int = 0x2) -> Handler:
    """An HTTP/2 (prior knowledge, cleartext) server that resets the first request's stream.

    It reads the client preface, exchanges SETTINGS, and answers the first HEADERS frame with
    RST_STREAM carrying `error_code` (default INTERNAL_ERROR), then waits for the client to
    hang up.
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
            return
        sock.sendall(h2_frame(H2_SETTINGS, 0, 0))
        while True:
            kind, flags, stream = _read_h2_frame(sock)
            if kind == H2_SETTINGS and not flags & H2_FLAG_ACK:
                sock.sendall(h2_frame(H2_SETTINGS, H2_FLAG_ACK, 0))
            elif kind == H2_HEADERS:
                sock.sendall(h2_frame(H2_RST_STREAM, 0, stream, struct.pack(">I", error_code)))
                break
        drain(sock, server)

    return handler


def h2_garbage(sock: socket.socket, server: RawServer) -> None:
    """Answer an HTTP/2 prior-knowledge client like an HTTP/1.1 server: not HTTP/2 frames."""
    recv_exact(sock, len(H2_PREFACE))
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    sock.shutdown(socket.SHUT_WR)
    drain(sock, server)


FTPReply = str | Callable[["FTPSession", str], str]
"""A scripted FTP reply: the literal reply line(s), or a function of (session, argument)."""


class FTPSession:
    """State of one scripted-FTP control connection: its socket and passive data listener."""

    def __init__(self, sock: socket.socket, server: RawServer, data: bytes) -> None:
        self.sock = sock
        self.server = server
        self.data = data
        self.listener: socket.socket | None = None

    def passive(self, _argument: str) -> str:
        """Open a loopback data listener and describe it in a 227 reply."""
        self.close_listener()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(1)
        self.listener.settimeout(IO_TIMEOUT)
        port = self.listener.getsockname()[1]
        return f"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 0xFF})"

    def send_data(self, _argument: str) -> str:
        """Send `data` over the data connection opened by PASV; reply 226 (or 425 without)."""
        if self.listener is None:
            return "425 Use PASV first"
        self.reply("150 Opening data connection")
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(self.data)
        self.close_listener()
        return "226 Transfer complete"

    def reset_data(self, _argument: str) -> str:
        """Accept the data connection opened by PASV and reset it, then say 150 as if all was
        well: a client uploading on it fails to send."""
        if self.listener is None:
            return "425 Use PASV first"
        conn, _ = self.listener.accept()
        reset(conn)
        self.close_listener()
        return "150 Ok to send data"

    def reply(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None


_FTP_DEFAULTS: Mapping[str, FTPReply] = {
    "USER": "331 Password required",
    "PASS": "230 Logged in",
    "PWD": '257 "/" is the current directory',
    "CWD": "250 OK",
    "TYPE": "200 Type set",
    "MDTM": "550 No modification time",
    "SIZE": "213 10",
    "REST": "350 Restarting",
    "EPSV": "500 EPSV not understood",
    "PASV": FTPSession.passive,
    "RETR": FTPSession.send_data,
    "LIST": FTPSession.send_data,
    "NLST": FTPSession.send_data,
    "QUIT": "221 Bye",
}


def scripted_ftp(
    replies: Mapping[str, FTPReply] | None = None,
    *,
    greeting: str = "220 Scripted FTP ready",
    data: bytes = b"0123456789",
) -> Handler:
    """A fake FTP server: answers each command from `replies`, keyed by the command verb.

    Verbs not in `replies` get a sane default (log in, PWD ``/``, no EPSV so clients fall back
    to PASV, a working PASV + RETR/LIST that sends `data`); unknown verbs get ``502``. A reply
    is the literal text (CRLF is added) or a function of the session and the argument. Use it
    for weird greetings, PASS/PASV/227 replies, refused TYPE/PRET/REST/PORT and the like.
    """
    script = {**_FTP_DEFAULTS, **(replies or {})}

    def handler(sock: socket.socket, server: RawServer) -> None:
        session = FTPSession(sock, server, data)
        try:
            session.reply(greeting)
            buffer = b""
            while not server.stopping.is_set():
                while b"\r\n" not in buffer:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                line, buffer = buffer.split(b"\r\n", 1)
                verb, _, argument = line.decode("latin-1").partition(" ")
                verb = verb.upper()
                answer = script.get(verb, "502 Command not implemented")
                session.reply(answer if isinstance(answer, str) else answer(session, argument))
                if verb == "QUIT":
                    return
        finally:
            session.close_listener()

    return handler


class ConnectStall:
    """A loopback port whose TCP connects hang: a connect-phase timeout without a network.

    It listens with a backlog of 0 and fills the accept queue with one connection it never
    accepts, so the kernel drops every further SYN and a client's connect() just waits.
    """

    def __init__(self, host: str = LOOPBACK) -> None:
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._fillers: list[socket.socket] = []
        try:
            self._listener.bind((host, 0))
            self._listener.listen(0)
            self.port: int = self._listener.getsockname()[1]
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


# --------------------------------------------------------------------------------------------
# TLS material


@dataclass(frozen=True)
class PKI:
    """A throw-away public key infrastructure, written to PEM files libcurl can read.

    ``ca`` issued every certificate below; ``other_ca`` is an unrelated CA (for "unknown
    issuer" failures). ``ca_file``/``other_ca_file`` hold the CA certificates,
    ``client_cert_file``/``client_key_file`` a client certificate issued by ``ca``, and
    ``garbage_file`` a file that is no PEM at all.
    """

    ca: trustme.CA
    other_ca: trustme.CA
    server: trustme.LeafCert
    wrong_host: trustme.LeafCert
    expired: trustme.LeafCert
    client: trustme.LeafCert
    ca_file: Path
    other_ca_file: Path
    client_cert_file: Path
    client_key_file: Path
    garbage_file: Path

    @classmethod
    def create(cls, directory: Path) -> PKI:
        """Make the CAs and certificates and write the files into `directory`."""
        ca = trustme.CA()
        other_ca = trustme.CA()
        now = datetime.datetime.now(datetime.timezone.utc)
        pki = cls(
            ca=ca,
            other_ca=other_ca,
            server=ca.issue_cert(LOOPBACK, LOOPBACK6, "localhost"),
            wrong_host=ca.issue_cert("wrong.host.example"),
            expired=ca.issue_cert(
                LOOPBACK,
                LOOPBACK6,
                "localhost",
                not_before=now - datetime.timedelta(days=30),
                not_after=now - datetime.timedelta(days=1),
            ),
            client=ca.issue_cert("client@example.com", common_name="curlx test client"),
            ca_file=directory / "ca.pem",
            other_ca_file=directory / "other-ca.pem",
            client_cert_file=directory / "client-cert.pem",
            client_key_file=directory / "client-key.pem",
            garbage_file=directory / "garbage.pem",
        )
        ca.cert_pem.write_to_path(str(pki.ca_file))
        other_ca.cert_pem.write_to_path(str(pki.other_ca_file))
        pki.client.cert_chain_pems[0].write_to_path(str(pki.client_cert_file))
        pki.client.private_key_pem.write_to_path(str(pki.client_key_file))
        pki.garbage_file.write_text("this is not a PEM file\n")
        return pki

    def server_context(
        self, cert: trustme.LeafCert | None = None, *, require_client_cert: bool = False
    ) -> ssl.SSLContext:
        """A server-side context presenting `cert` (default: the good server certificate)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (cert or self.server).configure_cert(context)
        if require_client_cert:
            self.ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        return context


def ok_response(body: bytes = b"hello") -> bytes:
    """A complete, well-formed HTTP/1.1 200 response closing the connection."""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body


# --------------------------------------------------------------------------------------------
# FTP (pyftpdlib) and TFTP

FTP_USER = "user"
FTP_PASSWORD = "s3cret"
FTP_READONLY_USER = "reader"
FTP_READONLY_PASSWORD = "reader-pw"
FTP_FILE_NAME = "hello.txt"
FTP_FILE_CONTENT = b"hello from the FTP server\n"


class FTPServer:
    """A real pyftpdlib FTP server on loopback, in a thread, with its own I/O loop.

    Users: `FTP_USER`/`FTP_PASSWORD` may read and write; `FTP_READONLY_USER` may only read.
    Both share `home`, which holds `FTP_FILE_NAME` with `FTP_FILE_CONTENT`.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        (home / FTP_FILE_NAME).write_bytes(FTP_FILE_CONTENT)
        authorizer = DummyAuthorizer()
        authorizer.add_user(FTP_USER, FTP_PASSWORD, str(home), perm="elradfmwMT")
        authorizer.add_user(FTP_READONLY_USER, FTP_READONLY_PASSWORD, str(home), perm="elr")
        handler = type(
            "_Handler",
            (FTPHandler,),
            {"authorizer": authorizer, "timeout": 10, "auth_failed_timeout": 0},
        )
        self._ioloop = IOLoop()
        self._server = _PyFTPServer((LOOPBACK, 0), handler, ioloop=self._ioloop)
        self.port: int = self._server.address[1]
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"FTP:{self.port}", daemon=True)
        self._started = False

    def url(self, path: str = "/", user: str = FTP_USER, password: str = FTP_PASSWORD) -> str:
        """An ``ftp://user:password@127.0.0.1:PORT/path`` URL."""
        return f"ftp://{user}:{password}@{LOOPBACK}:{self.port}{path}"

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._ioloop.loop(timeout=POLL_INTERVAL, blocking=False)
        finally:
            self._server.close_all()

    def start(self) -> FTPServer:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._started:
            self._thread.join(JOIN_TIMEOUT)
        else:
            self._server.close_all()

    def __enter__(self) -> FTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class TFTPErrorServer:
    """A UDP server on loopback answering every TFTP request with an ERROR packet.

    TFTP error codes: 1 file not found, 2 access violation, 3 disk full, 4 illegal operation,
    5 unknown transfer id, 6 file exists, 7 no such user.
    """

    def __init__(self, error_code: int, message: str = "scripted error") -> None:
        self.packet = struct.pack(">HH", 5, error_code) + message.encode() + b"\0"
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.settimeout(POLL_INTERVAL)
        self.port: int = self._sock.getsockname()[1]
        self.requests = 0
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"TFTP:{self.port}", daemon=True)
        self._started = False

    def url(self, path: str = "/file") -> str:
        return f"tftp://{LOOPBACK}:{self.port}{path}"

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                _packet, peer = self._sock.recvfrom(65536)
            except TimeoutError:
                continue
            self.requests += 1
            self._sock.sendto(self.packet, peer)

    def start(self) -> TFTPErrorServer:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._started:
            self._thread.join(JOIN_TIMEOUT)
        self._sock.close()

    def __enter__(self) -> TFTPErrorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------


class Lab:
    """Starts fault servers on demand and stops them all on `close` (the ``lab`` fixture).

    Scenario tables use it so that one row can ask for whatever server it needs::

        lambda c, lab: c.setopt(pycurl.URL, lab.raw(servers.close_after_request).url())
    """

    def __init__(self, tmp_path: Path, pki: PKI) -> None:
        self.tmp_path = tmp_path
        self.pki = pki
        self._stack = contextlib.ExitStack()
        self._ftp: FTPServer | None = None

    def raw(self, handler: Handler, *, host: str = LOOPBACK) -> RawServer:
        """A started `RawServer` running `handler`."""
        return self._stack.enter_context(RawServer(handler, host=host))

    def https(
        self,
        then: Handler,
        cert: trustme.LeafCert | None = None,
        *,
        require_client_cert: bool = False,
    ) -> RawServer:
        """A started TLS server presenting `cert` (default: a valid one), then running `then`."""
        context = self.pki.server_context(cert, require_client_cert=require_client_cert)
        return self.raw(tls(context, then))

    def connect_stall(self) -> ConnectStall:
        return self._stack.enter_context(ConnectStall())

    def ftp(self) -> FTPServer:
        """The (one, shared) real FTP server, started on first use."""
        if self._ftp is None:
            self._ftp = self._stack.enter_context(FTPServer(self.tmp_path / "ftp-home"))
        return self._ftp

    def scripted_ftp(
        self,
        replies: Mapping[str, FTPReply] | None = None,
        *,
        greeting: str = "220 Scripted FTP ready",
        data: bytes = b"0123456789",
    ) -> RawServer:
        """A started `scripted_ftp` server (see there)."""
        return self.raw(scripted_ftp(replies, greeting=greeting, data=data))

    def tftp_error(self, error_code: int) -> TFTPErrorServer:
        return self._stack.enter_context(TFTPErrorServer(error_code))

    def close(self) -> None:
        self._stack.close()
