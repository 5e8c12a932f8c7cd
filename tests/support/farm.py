"""A local server farm for the crawler tests: many loopback ports, each failing in its own way.

Everything listens on the loopback range only (127.0.0.1, 127.0.0.2, 127.0.0.3) and binds and
listens in `Farm.__init__`, so by the time a fixture hands the farm out the kernel already
queues connections to every port; no test sleeps waiting for a server. Stalling handlers wait on
`Farm.release` or on their server's ``stopping`` event (both set at teardown), never on a timer.

The pieces (see `Farm`):

- `healthy`: three fast threaded HTTP/1.1 keep-alive servers (`FarmServer`, an `HTTPApp`
  that puts a Content-Length on every answer), one per loopback address, so that they are
  three different hosts for ``per_host``. Each counts the TCP
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

from .http import Exchange, HTTPApp, Reply, Request
from .pki import PKI
from .raw import Handler, RawServer, drain, reset, respond, tls

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
"""The loopback addresses of the three healthy servers (three hosts for ``per_host``)."""
IO_TIMEOUT = 60.0
"""Seconds a server-side socket may wait (an idle keep-alive connection, a stalled client).

Long on purpose: a server closing idle connections on its own while a test counts file
descriptors would change the count; teardown shuts every connection down anyway."""
RESET_BODY_SENT = 100
RESET_CONTENT_LENGTH = 1000
TLS_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntls ok\n"


@dataclass
class PortStats:
    """What one HTTP server saw (guarded by the farm's lock); its `HTTPApp` counts the TCP
    connections (``accepted``, ``open_connections``)."""

    requests: int = 0  # requests read
    active: int = 0  # requests being worked on now (read, answer not yet sent)
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


class FarmServer(HTTPApp):
    """One HTTP/1.1 keep-alive server of the farm: an `HTTPApp` answering the farm's paths
    (`Farm.answer`); `stats` says what it saw."""

    def __init__(self, farm: Farm, host: str) -> None:
        self.farm = farm
        self.stats = PortStats()
        # A burst of connects must not overflow the accept queue.
        super().__init__(farm.answer, host=host, backlog=1024, io_timeout=IO_TIMEOUT)

    def serve(self, sock: socket.socket) -> None:
        try:
            super().serve(sock)
        finally:
            self.farm._connection_closed()


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
        self.active = 0  # over every HTTP server
        self.max_active = 0
        self.host_active: Counter[str] = Counter()
        self.host_max_active: Counter[str] = Counter()
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

    def _http(self, host: str) -> FarmServer:
        return self._stack.enter_context(FarmServer(self, host))

    def _raw(self, handler: Handler) -> RawServer:
        return self._stack.enter_context(
            RawServer(handler, host=HOSTS[0], backlog=1024, io_timeout=IO_TIMEOUT)
        )

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every stalled handler, stop every server and join its threads."""
        self.release.set()
        self._stack.close()

    # --- URLs ------------------------------------------------------------------------------

    def route(self, path: str, userinfo: str = "") -> str:
        """A URL on the `routes` server."""
        return self.routes.url(path, userinfo=userinfo)

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
    def http_servers(self) -> list[FarmServer]:
        return [*self.healthy, self.routes]

    # --- answering and counting (called by the servers' threads) ------------------------------

    def answer(self, request: Request, exchange: Exchange) -> Reply | None:
        """Answer one request to an HTTP server of the farm (the paths are listed above)."""
        server = exchange.server
        assert isinstance(server, FarmServer)
        path = request.path
        query = dict(request.query)
        self._request_started(server, path)
        finished = False
        try:
            if path == "/slow":
                self.release.wait(int(query.get("ms", "50")) / 1000)
            elif path == "/reset":
                finished = True
                self._request_finished(server)
                head = (
                    "HTTP/1.1 200 OK\r\n"
                    f"Content-Length: {RESET_CONTENT_LENGTH}\r\n"
                    "Content-Type: text/plain\r\n\r\n"
                ).encode()
                exchange.sock.sendall(head + b"x" * RESET_BODY_SENT)
                reset(exchange.sock)
                return None
            reply = self._route(server, request, path, query)
            # The request stops counting as active before its answer leaves: whatever the
            # server counts is then surely still in flight at the client.
            finished = True
            self._request_finished(server)
            return reply
        finally:
            if not finished:
                self._request_finished(server)

    def _route(
        self, server: FarmServer, request: Request, path: str, query: dict[str, str]
    ) -> Reply:
        plain = [("Content-Type", "text/plain")]
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            return Reply(status, f"status {status}\n".encode(), plain)
        if path == "/loop":
            return Reply(302, b"again\n", [("Location", "/loop"), *plain])
        if path.startswith("/flaky/"):
            key = path[len("/flaky/") :]
            with self.lock:
                self.flaky[key] += 1
                seen = self.flaky[key]
            if seen <= int(query.get("fail", "2")):
                headers = list(plain)
                if "after" in query:
                    headers.append(("Retry-After", query["after"]))
                return Reply(503, b"not yet\n", headers)
            return Reply(200, f"ok after {seen}\n".encode(), plain)
        if path == "/echo":
            lowered = {name.lower(): value for name, value in request.headers}
            logged = Logged(server.port, request.method, request.target, lowered, request.body)
            with self.lock:
                self.log.append(logged)
            return Reply(200, request.body, plain)
        return Reply(200, f"page {path}\n".encode(), plain)

    def _connection_closed(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def _request_started(self, server: FarmServer, path: str) -> None:
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

    def _request_finished(self, server: FarmServer) -> None:
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
            return {s.port: (s.accepted, s.stats.requests) for s in self.http_servers}

    def open_connections(self) -> int:
        """Connections to any farm port still open on the servers' side.

        Counted twice over, and the larger count returned: by the handlers (accepted and not
        yet closed) and by the kernel's table (/proc/net/tcp: server-side sockets of farm
        ports that are established or waiting to be closed, including those the kernel
        queued and the server has not accepted yet).
        """
        servers = self._servers()
        tracked = sum(s.open_connections for s in servers)
        return max(tracked, _kernel_connections({(s.host, s.port) for s in servers}))

    def _servers(self) -> list[RawServer]:
        return [*self.http_servers, self.tls, self.stall]

    def wait_open_connections(self, at_most: int, timeout: float = 10.0) -> int:
        """Wait until at most `at_most` connections are open on the servers' side.

        The HTTP servers notify `changed` as each connection ends; the raw servers and the
        kernel do not, so the count is also read again every 20 ms. Returns the last count.
        """
        deadline = time.monotonic() + timeout
        while True:
            count = self.open_connections()
            if count <= at_most or time.monotonic() >= deadline:
                return count
            with self.changed:
                self.changed.wait(0.02)
