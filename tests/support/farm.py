"""A local server farm for the crawler tests: many loopback ports, each failing in its own way.

Everything listens on the loopback range only (127.0.0.1, 127.0.0.2, 127.0.0.3) and binds and
listens in `Farm.__init__`, so by the time a fixture hands the farm out the kernel already
queues connections to every port; no test sleeps waiting for a server. Stalling handlers wait on
`Farm.release` or on their server's ``stopping`` event (both set at teardown), never on a timer.

The pieces (see `Farm`):

- `healthy`: three fast threaded HTTP/1.1 keep-alive servers (`ThreadingHTTPServer` with
  ``protocol_version = "HTTP/1.1"`` and a Content-Length on every answer), one per loopback
  address, so that they are three different hosts for ``per_host``. Each counts the TCP
  connections it accepted and the requests it served, and tracks how many requests it is
  working on at once; the farm tracks the same over every HTTP server and per host.
- `routes`: one more such server (on 127.0.0.1, so the same host as ``healthy[0]``) whose paths
  answer 404/500/503, loop on redirects, reset the connection in the middle of a body, fail a
  few times before succeeding, and echo what they were sent.
- `closed_port`: a port bound (so nothing else takes it) but never listening: refused.
- `tls_port`: TLS with a certificate of the test PKI (`support.pki`), which no client trusts.
- `stall_port`: accepts, reads, never answers.

Paths every HTTP server answers (query parameters in brackets):

- any path not listed: 200 with a short body naming the path.
- ``/slow[?ms=N]``: waits N milliseconds (default 50, on `release`), then 200.
- ``/status/CODE``: that status, with a short body.
- ``/loop``: 302 to itself, forever.
- ``/reset``: 200 with ``Content-Length: 1000``, 100 bytes of body, then a TCP RST.
- ``/flaky/KEY[?fail=N&after=S]``: the first N (default 2) requests for KEY get 503 (with
  ``Retry-After: S`` if given), later ones 200.
- ``/echo``: 200 whose body is the request's body; the request is logged in `Farm.log`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .pki import PKI
from .raw import Handler, RawServer, drain, reset, respond, tls

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
"""The loopback addresses of the three healthy servers (three hosts for ``per_host``)."""
IO_TIMEOUT = 60.0
"""Seconds a server-side socket may wait (an idle keep-alive connection, a stalled client).

Long on purpose: a server closing idle connections on its own while a test counts file
descriptors would change the count; teardown shuts every connection down anyway."""
JOIN_TIMEOUT = 10.0
RESET_BODY_SENT = 100
RESET_CONTENT_LENGTH = 1000
TLS_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntls ok\n"


@dataclass
class PortStats:
    """What one HTTP server saw (guarded by the farm's lock)."""

    connections: int = 0  # TCP connections accepted, ever
    open_connections: int = 0  # accepted and not yet closed
    requests: int = 0  # requests whose head was read
    active: int = 0  # requests being worked on now (head read, answer not yet sent)
    max_active: int = 0  # the most `active` seen since the last `Farm.reset_peaks()`
    paths: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Logged:
    """One request an ``/echo`` route received."""

    port: int
    method: str
    target: str  # path and query
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT
    disable_nagle_algorithm = True  # the head and the body go out as two writes
    server: FarmHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.farm._connection_opened(self.server, self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.farm._connection_closed(self.server, self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: hundreds of requests per test

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        farm = self.server.farm
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(target.query).items()}
        path = target.path
        farm._request_started(self.server, path)
        finished = False
        try:
            if path == "/slow":
                farm.release.wait(int(query.get("ms", "50")) / 1000)
            elif path == "/reset":
                finished = True
                farm._request_finished(self.server)
                self._reset_mid_body()
                return
            status, headers, content = self._answer(path, query, body)
            # The request stops counting as active before its answer leaves: whatever the
            # server counts is then surely still in flight at the client.
            finished = True
            farm._request_finished(self.server)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)
        finally:
            if not finished:
                farm._request_finished(self.server)

    def _answer(
        self, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        farm = self.server.farm
        plain = [("Content-Type", "text/plain")]
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            return status, plain, f"status {status}\n".encode()
        if path == "/loop":
            return 302, [("Location", "/loop"), *plain], b"again\n"
        if path.startswith("/flaky/"):
            key = path[len("/flaky/") :]
            with farm.lock:
                farm.flaky[key] += 1
                seen = farm.flaky[key]
            if seen <= int(query.get("fail", "2")):
                headers = list(plain)
                if "after" in query:
                    headers.append(("Retry-After", query["after"]))
                return 503, headers, b"not yet\n"
            return 200, plain, f"ok after {seen}\n".encode()
        if path == "/echo":
            logged = Logged(
                self.server.port,
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            with farm.lock:
                farm.log.append(logged)
            return 200, plain, body
        return 200, plain, f"page {path}\n".encode()

    def _reset_mid_body(self) -> None:
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Length: {RESET_CONTENT_LENGTH}\r\n"
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        self.wfile.write(head + b"x" * RESET_BODY_SENT)
        self.close_connection = True
        sock = self.connection
        # The socket really closes (with an RST, for SO_LINGER 0) once rfile lets go of it.
        reset(sock)
        self.rfile.close()


class FarmHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server of the farm; `stats` says what it saw."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 1024  # a burst of connects must not overflow the accept queue

    def __init__(self, farm: Farm, host: str) -> None:
        self.farm = farm
        self.host = host
        self.stats = PortStats()
        super().__init__((host, 0), _Handler)
        self.port: int = self.server_address[1]
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/", userinfo: str = "") -> str:
        """``http://HOST:PORT/path`` for this server (``userinfo@`` before the host if given)."""
        at = f"{userinfo}@" if userinfo else ""
        return f"http://{at}{self.host}:{self.port}{path}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer (a test breaking out of a crawl) is expected.
        with self.farm.lock:
            self.farm.handler_errors += 1


# /proc/net/tcp states of a server-side socket that is still open or still queued to accept:
# ESTABLISHED, SYN_RECV, CLOSE_WAIT (the client closed; the server has not yet).
_OPEN_STATES = frozenset({"01", "03", "08"})


def _kernel_connections(endpoints: set[tuple[str, int]]) -> int:
    """How many server-side sockets of these (host, port) endpoints the kernel holds open."""
    wanted = {
        f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}" for host, port in endpoints
    }
    count = 0
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)  # the header line
        for line in table:
            fields = line.split()
            if fields[1] in wanted and fields[3] in _OPEN_STATES:
                count += 1
    return count


class Farm:
    """The server farm: start with ``with Farm(pki) as farm:``; every port is listening already."""

    def __init__(self, pki: PKI) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.release = threading.Event()
        self.flaky: Counter[str] = Counter()
        self.log: list[Logged] = []
        self.handler_errors = 0
        self.active = 0  # over every HTTP server
        self.max_active = 0
        self.host_active: Counter[str] = Counter()
        self.host_max_active: Counter[str] = Counter()
        self._sockets: dict[FarmHTTPServer, set[socket.socket]] = {}
        self._stack = contextlib.ExitStack()
        try:
            self.healthy = [self._http(host) for host in HOSTS]
            self.routes = self._http(HOSTS[0])
            # Bound, never listening: connecting is refused, and no one else can take the port.
            closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._stack.callback(closed.close)
            closed.bind((HOSTS[0], 0))
            self.closed_port: int = closed.getsockname()[1]
            # The PKI's certificate for 127.0.0.1: no client trusts it unless told to.
            self.tls = self._raw(tls(pki.server_context(), respond(TLS_ANSWER)))
            self.tls_port = self.tls.port
            self.stall = self._raw(drain)  # reads, never answers
            self.stall_port = self.stall.port
        except BaseException:
            self._stack.close()
            raise

    def _http(self, host: str) -> FarmHTTPServer:
        server = FarmHTTPServer(self, host)
        self._sockets[server] = set()
        server.thread.start()
        self._stack.callback(self._stop_http, server)
        return server

    def _raw(self, handler: Handler) -> RawServer:
        return self._stack.enter_context(
            RawServer(handler, host=HOSTS[0], backlog=1024, io_timeout=IO_TIMEOUT)
        )

    def _stop_http(self, server: FarmHTTPServer) -> None:
        server.shutdown()
        with self.lock:
            for sock in self._sockets[server]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        server.server_close()  # joins the handler threads
        server.thread.join(JOIN_TIMEOUT)

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Farm:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release every stalled handler, stop every server and join its threads."""
        self.release.set()
        self._stack.close()

    # --- URLs ------------------------------------------------------------------------------

    def route(self, path: str, userinfo: str = "") -> str:
        """A URL on the `routes` server."""
        return self.routes.url(path, userinfo)

    @property
    def refused_url(self) -> str:
        return f"http://{HOSTS[0]}:{self.closed_port}/refused"

    @property
    def tls_url(self) -> str:
        return f"https://{HOSTS[0]}:{self.tls_port}/secure"

    @property
    def stall_url(self) -> str:
        return f"http://{HOSTS[0]}:{self.stall_port}/stall"

    @property
    def http_servers(self) -> list[FarmHTTPServer]:
        return [*self.healthy, self.routes]

    # --- counting (called by the handlers) -------------------------------------------------

    def _connection_opened(self, server: FarmHTTPServer, sock: socket.socket) -> None:
        with self.lock:
            server.stats.connections += 1
            server.stats.open_connections += 1
            self._sockets[server].add(sock)

    def _connection_closed(self, server: FarmHTTPServer, sock: socket.socket) -> None:
        with self.changed:
            server.stats.open_connections -= 1
            self._sockets[server].discard(sock)
            self.changed.notify_all()

    def _request_started(self, server: FarmHTTPServer, path: str) -> None:
        with self.lock:
            stats = server.stats
            stats.requests += 1
            stats.paths[path] += 1
            stats.active += 1
            stats.max_active = max(stats.max_active, stats.active)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.host_active[server.host] += 1
            self.host_max_active[server.host] = max(
                self.host_max_active[server.host], self.host_active[server.host]
            )

    def _request_finished(self, server: FarmHTTPServer) -> None:
        with self.lock:
            server.stats.active -= 1
            self.active -= 1
            self.host_active[server.host] -= 1

    # --- what tests read -------------------------------------------------------------------

    def reset_peaks(self) -> None:
        """Start measuring the peaks (`max_active`...) afresh."""
        with self.lock:
            self.max_active = self.active
            self.host_max_active = Counter(self.host_active)
            for server in self.http_servers:
                server.stats.max_active = server.stats.active

    def counts(self) -> dict[int, tuple[int, int]]:
        """(connections accepted, requests served) so far, per HTTP server port."""
        with self.lock:
            return {s.port: (s.stats.connections, s.stats.requests) for s in self.http_servers}

    def open_connections(self) -> int:
        """Connections to any farm port still open on the servers' side.

        Counted twice over, and the larger count returned: by the handlers (accepted and not
        yet closed) and by the kernel's table (/proc/net/tcp: server-side sockets of farm
        ports that are established or waiting to be closed, including those the kernel
        queued and the server has not accepted yet).
        """
        with self.lock:
            http = sum(s.stats.open_connections for s in self.http_servers)
        tracked = http + self.tls.open_connections + self.stall.open_connections
        return max(tracked, _kernel_connections(self._endpoints()))

    def _endpoints(self) -> set[tuple[str, int]]:
        servers: list[FarmHTTPServer | RawServer] = [*self.http_servers, self.tls, self.stall]
        return {(s.host, s.port) for s in servers}

    def wait_open_connections(self, at_most: int, timeout: float = 10.0) -> int:
        """Wait until at most `at_most` connections are open on the servers' side.

        The HTTP servers notify `changed` as each connection closes; the raw servers and the
        kernel do not, so the count is also read again every 20 ms. Returns the last count.
        """
        deadline = time.monotonic() + timeout
        while True:
            count = self.open_connections()
            if count <= at_most or time.monotonic() >= deadline:
                return count
            with self.changed:
                self.changed.wait(0.02)
