"""HTTP client benchmark: sequential keep-alive GETs against a local nginx, curlx next to peers.

Run from the repository root, as root on Debian if nginx is not installed yet (the script then
installs ``nginx-light`` with apt-get); the peers come with the ``bench`` extra::

    pip install -e '.[bench]'
    python bench/bench_http.py                 # full run, 1.5-2.5 minutes on 2 cores
    python bench/bench_http.py --quick         # a few seconds, to check that it works
    python bench/bench_http.py --breakdown     # also: where Session.get's time goes

One run starts its own nginx on a free 127.0.0.1 port (one worker, keep-alive for 100000
requests, no access log) serving a 1 KiB and a 100 KiB file from a temp dir, and stops it by
its pid at the end, also on Ctrl-C or an error. Then, for both sizes:

1. Reused clients: a raw ``pycurl.Curl`` (the reference: URL set once, a BytesIO for the body
   and a list for the header lines, perform, RESPONSE_CODE), ``curlx.Session().get``,
   ``requests.Session().get``, ``httpx.Client().get``, ``urllib3.PoolManager().request`` and
   ``curl_cffi.requests.Session().get``.
2. Module-level one-shot calls: ``curlx.get``, ``requests.get``, ``httpx.get`` and
   ``curl_cffi.requests.get``, with the raw pycurl handle again as the reference.

Every request reads the whole body and checks the status; every client has a 10 s timeout and
ignores proxy settings (the proxy variables are removed from this process's environment). The
clients are interleaved: each round times a batch of N requests of every client and size, in
an order that rotates from round to round, so drifts of the machine hit all alike. Reported:
the median over rounds of the per-request wall time (µs), with the 25th-75th percentiles, and
the ratio to raw pycurl as the median of the per-round ratios (the two batches of a ratio ran
in the same round). Whether a client reused its connection is checked with a header in which
nginx names the connection.

A Markdown report goes to stdout and the numbers to bench/results/http.json.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import gc
import io
import itertools
import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pycurl
from _common import (
    Stats,
    drop_proxy_variables,
    load_average,
    load_note,
    machine,
    markdown_table,
    paired_ratio,
    peer,
    sigterm_as_interrupt,
    source_digest,
    utc_now,
    write_json,
)
from nginx import Nginx, ensure_nginx, nginx_version

import curlx

TIMEOUT = 10.0
"""Seconds; every client gets it (curlx: connect and no-progress, others: connect/read)."""
SESSION_TARGET = 1.15
"""curlx.Session().get per request, at most this times raw pycurl's (and faster than peers)."""
MODULE_TARGET = 1.35
"""curlx.get per request, at most this times raw pycurl's with a reused handle."""
SIZES: dict[str, int] = {"1 KiB": 1024, "100 KiB": 100 * 1024}
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "http.json"
CONNECTION_HEADER = "x-connection"

REFERENCE = "pycurl, reused handle (reference)"
SESSION = "curlx.Session().get"
MODULE = "curlx.get"

Fetch = Callable[[], bytes]
"""One GET of a prepared URL: checks the status is 200, returns the body."""
Timer = Callable[[int], tuple[int, int]]
"""Runs its body `n` times; returns the elapsed wall time and this thread's CPU time, in ns."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """How long each section runs."""

    session_batch: int
    """Requests per timed batch of each reused client."""
    module_batch: int
    """Requests per timed batch of each module-level call (some open a connection each)."""
    rounds: int
    """Interleaved rounds per section; each times one batch of every client and size."""


FULL = Settings(session_batch=400, module_batch=30, rounds=21)
QUICK = Settings(session_batch=40, module_batch=8, rounds=3)


class BadResponse(RuntimeError):
    """A benchmarked request did not get the expected answer."""


@dataclasses.dataclass(frozen=True)
class Client:
    """One benchmarked way of making a GET.

    `prepare(url)` returns the fetch function for one URL (called before each batch, untimed);
    `connection(url)` makes one request and returns nginx's connection number for it.
    """

    name: str
    prepare: Callable[[str], Fetch]
    connection: Callable[[str], str]
    note: str = ""


# --- the clients ---------------------------------------------------------------------------------


def _header(lines: Sequence[bytes], name: str) -> str:
    """A header's value from raw header lines ("" if absent)."""
    prefix = name.lower().encode() + b":"
    for line in lines:
        if line.lower().startswith(prefix):
            return line[len(prefix) :].decode("latin-1").strip()
    return ""


DISTINCT = 8
"""The distinct-URL loops cycle through this many query strings (``?n=0`` .. ``?n=7``)."""


def distinct_urls(url: str) -> Callable[[], str]:
    """The next of `DISTINCT` URLs that differ in their query: each request asks for a new URL."""
    urls = itertools.cycle([f"{url}?n={n}" for n in range(DISTINCT)])
    return urls.__next__


REQUEST_HEADERS = {"Accept": "application/json", "X-Request-Token": "abc123"}
"""The headers of the per-request-headers loops (set on every request, as an API client does)."""


def raw_pycurl(stack: ExitStack, distinct: bool = False, headers: bool = False) -> Client:
    """The reference: one reused pycurl.Curl doing the least work that still keeps the answer.

    With `distinct`, it sets the URL on every request, cycling through `distinct_urls`; with
    `headers`, it sets `REQUEST_HEADERS` (HTTPHEADER) on every request.
    """
    handle = pycurl.Curl()
    stack.callback(handle.close)
    handle.setopt(pycurl.NOSIGNAL, 1)
    handle.setopt(pycurl.TIMEOUT_MS, int(TIMEOUT * 1000))
    handle.setopt(pycurl.PROXY, "")
    setopt = handle.setopt
    perform = handle.perform
    getinfo = handle.getinfo
    write, header, code = pycurl.WRITEFUNCTION, pycurl.HEADERFUNCTION, pycurl.RESPONSE_CODE

    def prepare(url: str) -> Fetch:
        setopt(pycurl.URL, url)
        following = distinct_urls(url) if distinct else None
        header_lines = (
            [f"{k}: {v}".encode() for k, v in REQUEST_HEADERS.items()] if headers else None
        )

        def fetch() -> bytes:
            if following is not None:
                setopt(pycurl.URL, following())
            if header_lines is not None:
                setopt(pycurl.HTTPHEADER, header_lines)
            body = io.BytesIO()
            lines: list[bytes] = []
            setopt(write, body.write)
            setopt(header, lines.append)
            perform()
            if getinfo(code) != 200:
                raise BadResponse(f"pycurl: status {getinfo(code)}")
            return body.getvalue()

        return fetch

    def connection(url: str) -> str:
        lines: list[bytes] = []
        setopt(pycurl.URL, url)
        setopt(write, io.BytesIO().write)
        setopt(header, lines.append)
        perform()
        return _header(lines, CONNECTION_HEADER)

    name = REFERENCE
    if distinct:
        name = "pycurl, reused handle, a new URL each request"
    elif headers:
        name = "pycurl, reused handle, 2 headers set each request"
    return Client(name, prepare, connection)


def curlx_session(stack: ExitStack, distinct: bool = False, headers: bool = False) -> Client:
    """`curlx.Session(timeout=TIMEOUT).get`; with `distinct` or `headers`, as `raw_pycurl` does."""
    session = curlx.Session(timeout=TIMEOUT)
    stack.callback(session.close)
    name = SESSION
    if distinct:
        name = f"curlx.Session(timeout={TIMEOUT:g}).get, a new URL each request"
    elif headers:
        name = f"curlx.Session(timeout={TIMEOUT:g}).get(url, headers={{2 headers}})"
    get: Callable[[str], curlx.Response] = session.get
    if headers:
        get = functools.partial(session.get, headers=REQUEST_HEADERS)

    def prepare(url: str) -> Fetch:
        following = distinct_urls(url) if distinct else None

        def fetch() -> bytes:
            response = get(url if following is None else following())
            if response.status_code != 200:
                raise BadResponse(f"{name}: status {response.status_code}")
            return response.content

        return fetch

    def connection(url: str) -> str:
        return session.get(url).headers.get(CONNECTION_HEADER, "")

    return Client(name, prepare, connection)


def curlx_module() -> Client:
    def prepare(url: str) -> Fetch:
        get = curlx.get

        def fetch() -> bytes:
            response = get(url, timeout=TIMEOUT)
            if response.status_code != 200:
                raise BadResponse(f"{MODULE}: status {response.status_code}")
            return response.content

        return fetch

    def connection(url: str) -> str:
        return curlx.get(url, timeout=TIMEOUT).headers.get(CONNECTION_HEADER, "")

    return Client(MODULE, prepare, connection, "a pooled Session")


def urllib3_client(pool: Any) -> Client:
    """``urllib3.PoolManager().request("GET", url)``, reading ``.status`` and ``.data``."""
    name = "urllib3.PoolManager().request"

    def prepare(url: str) -> Fetch:
        request = pool.request

        def fetch() -> bytes:
            response = request("GET", url)
            if response.status != 200:
                raise BadResponse(f"{name}: status {response.status}")
            content: bytes = response.data
            return content

        return fetch

    def connection(url: str) -> str:
        value: str = pool.request("GET", url).headers.get(CONNECTION_HEADER, "")
        return value

    return Client(name, prepare, connection)


def _plain_getter(name: str, get: Callable[[str], Any], note: str = "") -> Client:
    """A requests-like client (``.status_code`` and ``.content``), without getattr per call.

    Also the curlx calls of the breakdown (a curlx.Response has both).
    """

    def prepare(url: str) -> Fetch:
        def fetch() -> bytes:
            response = get(url)
            if response.status_code != 200:
                raise BadResponse(f"{name}: status {response.status_code}")
            content: bytes = response.content
            return content

        return fetch

    def connection(url: str) -> str:
        value: str = get(url).headers.get(CONNECTION_HEADER, "")
        return value

    return Client(name, prepare, connection, note)


def peer_sessions(stack: ExitStack, notes: list[str], versions: dict[str, str]) -> list[Client]:
    """The peers' reused clients: each skipped with a note if it is not installed."""
    clients: list[Client] = []
    if peer("requests", notes, versions):
        import requests

        session = requests.Session()
        session.trust_env = False
        stack.callback(session.close)
        get = functools.partial(session.get, timeout=TIMEOUT)
        clients.append(_plain_getter("requests.Session().get", get))
    if peer("httpx", notes, versions):
        import httpx

        client = httpx.Client(timeout=TIMEOUT, trust_env=False)
        stack.callback(client.close)
        clients.append(_plain_getter("httpx.Client().get", client.get))
    if peer("urllib3", notes, versions):
        import urllib3

        pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=TIMEOUT, read=TIMEOUT), retries=False
        )
        stack.callback(pool.clear)
        clients.append(urllib3_client(pool))
    if peer("curl_cffi.requests", notes, versions, label="curl_cffi"):
        from curl_cffi import requests as cffi_requests

        cffi_session: cffi_requests.Session[cffi_requests.Response] = cffi_requests.Session(
            timeout=TIMEOUT, trust_env=False
        )
        stack.callback(cffi_session.close)
        clients.append(_plain_getter("curl_cffi.requests.Session().get", cffi_session.get))
    return clients


def peer_module_calls(notes: list[str]) -> list[Client]:
    """The peers' module-level calls (proxies are off through the cleaned environment)."""
    clients: list[Client] = []
    if peer("requests", notes, label="requests.get"):
        import requests

        get = functools.partial(requests.get, timeout=TIMEOUT)
        clients.append(_plain_getter("requests.get", get, "a new Session per call"))
    if peer("httpx", notes, label="httpx.get"):
        import httpx

        get_httpx = functools.partial(httpx.get, timeout=TIMEOUT, trust_env=False)
        clients.append(_plain_getter("httpx.get", get_httpx, "a new Client per call"))
    if peer("curl_cffi.requests", notes, label="curl_cffi.requests.get"):
        from curl_cffi import requests as cffi_requests

        get_cffi = functools.partial(cffi_requests.get, timeout=TIMEOUT)
        clients.append(
            _plain_getter(
                "curl_cffi.requests.get", get_cffi, "a new Session per call (thread-local handle)"
            )
        )
    return clients


# --- the harness -------------------------------------------------------------------------------


def batch_timer(client: Client, url: str, size: int) -> Timer:
    """Times `n` GETs of `url` by `client`, each checked for a 200 and a `size`-byte body."""

    def run(n: int) -> tuple[int, int]:
        fetch = client.prepare(url)
        wrong = 0
        clock, cpu = time.perf_counter_ns, time.thread_time_ns
        cpu_start = cpu()
        start = clock()
        for _ in range(n):
            if len(fetch()) != size:
                wrong += 1
        elapsed = clock() - start
        cpu_elapsed = cpu() - cpu_start
        if wrong:
            raise BadResponse(f"{client.name}: {wrong} of {n} bodies of {url} were not {size} B")
        return elapsed, cpu_elapsed

    return run


@dataclasses.dataclass(frozen=True)
class Timing:
    """An interleaved timer's µs per call, per round: wall time and the client's CPU time."""

    wall: Stats
    cpu: Stats


def interleave(
    timers: Sequence[tuple[str, Timer]], calls: int, rounds: int, progress: str = ""
) -> dict[str, Timing]:
    """Time `calls` calls of every timer per round, for `rounds` rounds, in rotating order.

    Each round runs every timer once (A B C, then B C A, ...), so slow drifts of the machine hit
    all of them alike, and no timer always runs right after the same neighbour. One untimed
    warm-up batch of each comes first; garbage is collected before each batch, untimed.
    """
    for _, timer in timers:
        timer(max(2, calls // 5))
    wall: dict[str, list[float]] = {name: [] for name, _ in timers}
    cpu: dict[str, list[float]] = {name: [] for name, _ in timers}
    for round_number in range(rounds):
        if progress:
            print(f"\r{progress}: round {round_number + 1}/{rounds}", end="", file=sys.stderr)
        shift = round_number % len(timers)
        for name, timer in [*timers[shift:], *timers[:shift]]:
            gc.collect()
            elapsed, cpu_elapsed = timer(calls)
            wall[name].append(elapsed / calls / 1000)  # µs per call
            cpu[name].append(cpu_elapsed / calls / 1000)
    if progress:
        print(file=sys.stderr)
    return {name: Timing(Stats(tuple(wall[name])), Stats(tuple(cpu[name]))) for name, _ in timers}


def keeps_connection(client: Client, url: str) -> bool:
    """True if three consecutive requests went over one connection (nginx's $connection)."""
    seen = {client.connection(url) for _ in range(3)}
    if "" in seen:
        raise BadResponse(f"{client.name}: no {CONNECTION_HEADER} header in the response")
    return len(seen) == 1


@dataclasses.dataclass
class Section:
    """One interleaved comparison: its clients, and per size their times and ratios."""

    title: str
    clients: list[Client]
    batch: int
    times: dict[str, dict[str, Stats]] = dataclasses.field(default_factory=dict)
    ratios: dict[str, dict[str, Stats]] = dataclasses.field(default_factory=dict)
    cpu: dict[str, dict[str, Stats]] = dataclasses.field(default_factory=dict)
    keep_alive: dict[str, bool] = dataclasses.field(default_factory=dict)

    def run(self, server: Nginx, rounds: int) -> None:
        urls = {label: server.url(_file_name(size)) for label, size in SIZES.items()}
        for client in self.clients:
            self.keep_alive[client.name] = keeps_connection(client, urls["1 KiB"])
        timers = [
            (f"{label}\t{client.name}", batch_timer(client, urls[label], size))
            for label, size in SIZES.items()
            for client in self.clients
        ]
        results = interleave(timers, self.batch, rounds, progress=self.title)
        for label in SIZES:
            timings = {c.name: results[f"{label}\t{c.name}"] for c in self.clients}
            self.times[label] = {name: timing.wall for name, timing in timings.items()}
            self.cpu[label] = {name: timing.cpu for name, timing in timings.items()}
            reference = self.times[label][REFERENCE]
            self.ratios[label] = {
                name: paired_ratio(stats, reference) for name, stats in self.times[label].items()
            }

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "batch": self.batch,
            "clients": {
                c.name: {
                    "note": c.note,
                    "keeps_connection": self.keep_alive.get(c.name),
                    **{
                        label: {
                            "us_per_request": self.times[label][c.name].as_json(2),
                            "ratio_to_pycurl": self.ratios[label][c.name].as_json(3),
                            "client_cpu_us_per_request": self.cpu[label][c.name].as_json(2),
                        }
                        for label in self.times
                    },
                }
                for c in self.clients
            },
        }


def _file_name(size: int) -> str:
    return f"{size // 1024}k.bin"


# --- the optional breakdown: where curlx.Session.get's time goes ------------------------------


def multi_loop(stack: ExitStack, options: Sequence[tuple[int, Any]], name: str) -> Client:
    """Raw pycurl making the libcurl calls a Session makes, with the Session's handle options.

    A Session runs each transfer on a multi handle of its own (add_handle, perform, timeout,
    select until done, info_read, remove_handle), so that the no-progress limit is checked
    between waits rather than in a progress callback; this loop is that, with no Python of
    curlx's around it: its ratio is the floor for Session.get.
    """
    handle = pycurl.Curl()
    multi = pycurl.CurlMulti()
    stack.callback(handle.close)
    stack.callback(multi.close)
    for option, value in options:
        handle.setopt(option, value)
    setopt = handle.setopt
    add, remove, perform = multi.add_handle, multi.remove_handle, multi.perform
    select, timeout, info_read = multi.select, multi.timeout, multi.info_read
    write, header, code = pycurl.WRITEFUNCTION, pycurl.HEADERFUNCTION, pycurl.RESPONSE_CODE

    def run(chunks: list[bytes], lines: list[bytes]) -> None:
        setopt(write, chunks.append)
        setopt(header, lines.append)
        add(handle)
        try:
            _, running = perform()
            while running:
                wait_ms = timeout()
                if wait_ms:
                    select(1.0 if wait_ms < 0 else min(wait_ms / 1000, 1.0))
                _, running = perform()
            _, _, failed = info_read()
        finally:
            remove(handle)
        if failed:
            raise BadResponse(f"{name}: {failed[0][1:]}")

    def prepare(url: str) -> Fetch:
        setopt(pycurl.URL, url)

        def fetch() -> bytes:
            chunks: list[bytes] = []
            run(chunks, [])
            if handle.getinfo(code) != 200:
                raise BadResponse(f"{name}: status {handle.getinfo(code)}")
            return b"".join(chunks)

        return fetch

    def connection(url: str) -> str:
        lines: list[bytes] = []
        setopt(pycurl.URL, url)
        run([], lines)
        return _header(lines, CONNECTION_HEADER)

    return Client(name, prepare, connection)


def session_options(url: str) -> list[tuple[int, Any]]:
    """The handle options a `Session(timeout=TIMEOUT)` sets for a plain GET (its cached base)."""
    with curlx.Session(timeout=TIMEOUT) as session:
        prepared = session._prepare("GET", url)
    return list(prepared.base)


def measure_breakdown(server: Nginx, settings: Settings) -> dict[str, Any]:
    """A ladder from raw pycurl to curlx.get, interleaved, and a cProfile of Session.get."""
    url = server.url(_file_name(SIZES["1 KiB"]))
    result: dict[str, Any] = {}
    with ExitStack() as stack:
        session = curlx.Session(timeout=TIMEOUT)
        stack.callback(session.close)
        bare = curlx.Session()
        stack.callback(bare.close)
        clients = [
            raw_pycurl(stack),
            multi_loop(stack, session_options(url), "pycurl multi loop, Session's options"),
            _plain_getter(f"curlx.Session(timeout={TIMEOUT:g}).get(url)", session.get),
            _plain_getter(
                f"curlx.Session().get(url, timeout={TIMEOUT:g})",
                functools.partial(bare.get, timeout=TIMEOUT),
            ),
            _plain_getter(
                f"curlx.get(url, timeout={TIMEOUT:g})",
                functools.partial(curlx.get, timeout=TIMEOUT),
            ),
            _plain_getter("curlx.get(url)", curlx.get),
            raw_pycurl(stack, distinct=True),
            curlx_session(stack, distinct=True),
            raw_pycurl(stack, headers=True),
            curlx_session(stack, headers=True),
        ]
        timers = [
            (f"{label}\t{c.name}", batch_timer(c, server.url(_file_name(size)), size))
            for label, size in SIZES.items()
            for c in clients
        ]
        times = interleave(timers, settings.session_batch, settings.rounds, "breakdown")
        result["ladder"] = {}
        for label in SIZES:
            reference = times[f"{label}\t{REFERENCE}"].wall
            result["ladder"][label] = {
                c.name: {
                    "us_per_request": times[f"{label}\t{c.name}"].wall.as_json(2),
                    "ratio_to_pycurl": paired_ratio(
                        times[f"{label}\t{c.name}"].wall, reference
                    ).as_json(3),
                    "client_cpu_us_per_request": times[f"{label}\t{c.name}"].cpu.as_json(2),
                }
                for c in clients
            }
        profiled = curlx.Session(timeout=TIMEOUT)
        stack.callback(profiled.close)
        result["profile"] = profile_get(profiled.get, url, settings.session_batch * 5)
    return result


def profile_get(get: Callable[[str], curlx.Response], url: str, n: int) -> list[dict[str, Any]]:
    """cProfile of `n` calls of `get(url)`: the functions with the most own time, per call."""
    for _ in range(50):
        get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        get(url).content  # noqa: B018
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows: list[dict[str, Any]] = []
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, function), (_, calls, own, cumulative, _) in table.items():
        where = Path(filename).name if filename != "~" else ""
        rows.append(
            {
                "function": f"{where}:{line}({function})" if where else function,
                "calls_per_request": round(calls / n, 2),
                "own_us": round(own / n * 1e6, 3),
                "cumulative_us": round(cumulative / n * 1e6, 3),
            }
        )
    rows.sort(key=lambda row: row["own_us"], reverse=True)
    return rows[:20]


# --- the report --------------------------------------------------------------------------------


def environment(nginx: str, versions: dict[str, str]) -> dict[str, Any]:
    return {
        "date": utc_now(),
        **machine(),
        "pycurl": pycurl.version,
        "curlx": curlx.__version__,
        "curlx_source_sha256": source_digest(),
        "nginx": nginx,
        **{f"peer {name}": version for name, version in versions.items()},
    }


def section_table(section: Section) -> str:
    header = ["client"]
    for label in SIZES:
        header += [f"{label}: µs/req (p25-p75)", "× pycurl", "client CPU µs"]
    header.append("keep-alive")
    rows = []
    for client in section.clients:
        row = [client.name + (f" ({client.note})" if client.note else "")]
        for label in SIZES:
            t = section.times[label][client.name]
            r = section.ratios[label][client.name]
            cpu = section.cpu[label][client.name]
            row += [
                f"{t.median:,.1f} ({t.p25:,.1f}-{t.p75:,.1f})",
                f"{r.median:.2f}",
                f"{cpu.median:,.1f}",
            ]
        row.append("yes" if section.keep_alive[client.name] else "no")
        rows.append(row)
    return markdown_table(header, rows)


def check_targets(session: Section, module: Section) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    checks: list[dict[str, Any]] = []
    for label in SIZES:
        ratio = session.ratios[label][SESSION].median
        checks.append(
            {
                "target": f"{label}: {SESSION} ≤ {SESSION_TARGET}× raw pycurl",
                "measured": f"{ratio:.3f}×",
                "met": ratio <= SESSION_TARGET,
            }
        )
        ours = session.times[label][SESSION].median
        for name, stats in session.times[label].items():
            if name in (SESSION, REFERENCE):
                continue
            checks.append(
                {
                    "target": f"{label}: {SESSION} faster than {name}",
                    "measured": f"{ours:,.1f} vs {stats.median:,.1f} µs",
                    "met": ours < stats.median,
                }
            )
        ratio = module.ratios[label][MODULE].median
        checks.append(
            {
                "target": f"{label}: {MODULE} ≤ {MODULE_TARGET}× raw pycurl (reused handle)",
                "measured": f"{ratio:.3f}×",
                "met": ratio <= MODULE_TARGET,
            }
        )
    return checks


def breakdown_report(breakdown: dict[str, Any]) -> str:
    out = ["## Breakdown: from raw pycurl to curlx.get", ""]
    ladder: dict[str, dict[str, Any]] = breakdown["ladder"]
    header = ["loop (interleaved)"]
    for label in ladder:
        header += [f"{label}: wall µs/req", "× pycurl", "client CPU µs/req"]
    rows = []
    for name in next(iter(ladder.values())):
        row = [name]
        for by_name in ladder.values():
            numbers = by_name[name]
            row += [
                f"{numbers['us_per_request']['median']:,.1f}",
                f"{numbers['ratio_to_pycurl']['median']:.2f}",
                f"{numbers['client_cpu_us_per_request']['median']:,.1f}",
            ]
        rows.append(row)
    out += [markdown_table(header, rows), ""]
    rows = [
        [
            f"`{row['function']}`",
            f"{row['calls_per_request']:g}",
            f"{row['own_us']:.2f}",
            f"{row['cumulative_us']:.2f}",
        ]
        for row in breakdown["profile"]
    ]
    out += [
        f"cProfile of `Session(timeout={TIMEOUT:g}).get(url)` per request, 1 KiB (the profiler "
        "inflates Python calls):",
        "",
        markdown_table(["function", "calls", "own µs", "cumulative µs"], rows),
        "",
    ]
    return "\n".join(out)


def report(
    env: dict[str, Any],
    settings: Settings,
    sections: Sequence[Section],
    checks: Sequence[dict[str, Any]],
    notes: Sequence[str],
    breakdown: dict[str, Any] | None,
) -> str:
    out = ["# HTTP client benchmark: sequential keep-alive GETs, local nginx", ""]
    out += [f"- {key}: {value}" for key, value in env.items()]
    out += [
        f"- rounds: {settings.rounds}; batch: {settings.session_batch} requests (reused clients), "
        f"{settings.module_batch} (module-level calls); timeout {TIMEOUT:g} s everywhere",
        "",
    ]
    for section in sections:
        out += [
            f"## {section.title}",
            "",
            "Median per-request wall time over the rounds; × pycurl is the median of the "
            "per-round ratios; client CPU is this process's CPU time per request (median).",
            "",
            section_table(section),
            "",
        ]
    out += ["## Targets", ""]
    rows = [[c["target"], c["measured"], "met" if c["met"] else "MISSED"] for c in checks]
    out += [markdown_table(["target", "measured", ""], rows, right_from=3), ""]
    if notes:
        out += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    if breakdown is not None:
        out.append(breakdown_report(breakdown))
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time where Session.get's time goes"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds per section")
    parser.add_argument("--workers", type=int, default=1, help="nginx worker processes")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="the JSON file")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.rounds:
        settings = dataclasses.replace(settings, rounds=args.rounds)

    notes = [
        f"{variable} removed from the environment (loopback only)"
        for variable in drop_proxy_variables()
    ]
    binary = ensure_nginx()
    versions: dict[str, str] = {}
    files = {_file_name(size): os.urandom(size) for size in SIZES.values()}
    load_before = load_average()
    busy = load_note(load_before)
    if busy:
        print(f"warning: {busy}", file=sys.stderr)
    started = time.monotonic()
    with sigterm_as_interrupt(), Nginx(binary, files, workers=args.workers) as server:
        print(f"nginx pid {server.pid} on {server.url('')}", file=sys.stderr)
        with ExitStack() as stack:
            reference = raw_pycurl(stack)
            sessions = Section(
                "Reused clients: sequential keep-alive GETs",
                [reference, curlx_session(stack), *peer_sessions(stack, notes, versions)],
                settings.session_batch,
            )
            module = Section(
                "Module-level one-shot calls",
                [reference, curlx_module(), *peer_module_calls(notes)],
                settings.module_batch,
            )
            for section in (sessions, module):
                section.run(server, settings.rounds)
        breakdown = measure_breakdown(server, settings) if args.breakdown else None
    env = environment(nginx_version(binary), versions)
    env["seconds"] = round(time.monotonic() - started, 1)
    env["load_average_before"] = load_before
    env["load_average_after"] = load_average()
    checks = check_targets(sessions, module)
    print(report(env, settings, [sessions, module], checks, notes, breakdown))
    result = {
        "environment": env,
        "settings": dataclasses.asdict(settings),
        "nginx_workers": args.workers,
        "sizes": SIZES,
        "sections": [sessions.as_json(), module.as_json()],
        "targets": checks,
        "notes": notes,
        "breakdown": breakdown,
    }
    write_json(args.output, result)
    print(f"results written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: nginx stopped", file=sys.stderr)
        sys.exit(130)
