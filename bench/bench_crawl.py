"""Crawler benchmark: ``curlx.fetch_many`` against a raw pycurl CurlMulti loop and peers.

Run from the repository root, as root on Debian if nginx is not installed yet (the script then
installs ``nginx-light`` with apt-get); the peers come with the ``bench`` extra::

    pip install -e '.[bench]'
    python bench/bench_crawl.py               # full run, about 3 minutes on 2 cores
    python bench/bench_crawl.py --quick       # about 30 seconds, to check that it works
    python bench/bench_crawl.py --profile     # also: where fetch_many's extra time goes

One run starts its own nginx (its own config in a temp dir: 2 workers, keep-alive for 100000
requests, 4096 worker connections, no access log, a 1 KiB static file) on a free 127.0.0.1
port, and stops it by its pid at the end, also on Ctrl-C or an error. Then:

1. ``success``: 2000 distinct URLs (``/f1k?i=N``), all 200 with 1 KiB, crawled 50 at a time by
   ``curlx.fetch_many``, by the reference -- a raw pycurl CurlMulti loop doing the same work
   (50 reused easy handles, header lines kept by a HEADERFUNCTION, the body in a BytesIO per
   transfer, select/perform/info_read, re-add) -- and by the peers: aiohttp (one ClientSession,
   TCPConnector limit 50, 50 worker tasks), httpx (AsyncClient with 50 connections, 50 tasks),
   curl_cffi (AsyncSession with max_clients 50, 50 tasks) and requests (50 threads of a
   ThreadPoolExecutor, one Session per thread).
2. ``half-fail``: the same with every other URL pointing at a closed loopback port (connection
   refused), so half the transfers fail; every client counts its errors.
3. memory: 100,000 URLs from a generator through ``fetch_many`` in a subprocess, VmRSS and
   VmHWM read from /proc/self/status every 10,000 results; once all to nginx, once all to the
   closed port.

Every client makes a new session (or multi handle) per crawl, inside the timed region, has a
10 s timeout, and ignores proxy settings (the proxy variables are removed from the
environment). Each result is checked: status 200 and a 1024-byte body, or a transport error
for the closed port. Clients are interleaved: each round crawls once with every client, in an
order that rotates from round to round, after one untimed warm-up crawl each (a client more
than 40 times slower than the reference in its warm-up is timed in the first 3 rounds only).
Reported: the median over rounds of wall time / URLs (µs per URL) with the 25th-75th
percentiles, the ratio to the raw loop as the median of per-round ratios, and the client
process's CPU time per URL (for requests, all threads). The load average is printed at the
start and the end: other busy processes on the machine make every number noisier.

``--profile`` adds a cProfile of fetch_many and of the raw loop, the per-URL pieces of
fetch_many timed warm in loops (this uses curlx internals), and a ladder of real crawls that
adds fetch_many's work to the raw loop one piece at a time, starting with its own libcurl
options, to tell libcurl's share from curlx's Python work.

A Markdown report goes to stdout and the numbers to bench/results/crawl.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import importlib
import io
import json
import pstats
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pycurl
from _common import (
    Stats,
    closed_port_below_ephemeral,
    drop_proxy_variables,
    load_average,
    load_note,
    machine,
    markdown_table,
    memory_kib,
    peer,
    sigterm_as_interrupt,
    source_digest,
    utc_now,
    write_json,
)
from nginx import Nginx, ensure_nginx, nginx_version

import curlx

TIMEOUT = 10.0
"""Seconds; every client gets it (curlx: connect and no-progress, others: connect and total)."""
CONCURRENCY = 50
RATIO_TARGET = 1.3
"""fetch_many's time per URL, at most this times the raw CurlMulti loop's (and below peers')."""
SLOW_FACTOR = 40.0
"""A client slower than this many times the reference in its warm-up crawl is "slow"..."""
SLOW_ROUNDS = 3
"""... and is timed in this many rounds only."""
BODY_SIZE = 1024
FILE_NAME = "f1k"
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "crawl.json"
WORKER_CONNECTIONS = 4096
"""nginx's worker connections: nginx.py's default 256 is too few for this crawl."""

REFERENCE = "raw pycurl CurlMulti loop (reference)"
FETCH_MANY = "curlx.fetch_many"


@dataclasses.dataclass(frozen=True)
class Settings:
    """How much each part does."""

    urls: int
    """URLs per timed crawl."""
    rounds: int
    """Interleaved rounds per scenario; each times one crawl of every client."""
    rss_urls: int
    """URLs through fetch_many in the memory run."""
    rss_every: int
    """Results between two RSS samples."""


FULL = Settings(urls=2000, rounds=11, rss_urls=100_000, rss_every=10_000)
QUICK = Settings(urls=300, rounds=3, rss_urls=10_000, rss_every=1_000)


# --- the clients ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Tally:
    """What a crawl got."""

    ok: int = 0
    """Status 200 with the whole 1 KiB body."""
    failed: int = 0
    """A transport error (no response)."""
    bad: int = 0
    """Anything else: another status, or a body of the wrong size."""

    def count(self, status: int, body: bytes) -> None:
        if status == 200 and len(body) == BODY_SIZE:
            self.ok += 1
        else:
            self.bad += 1

    def add(self, result: curlx.Result) -> None:
        """Count a fetch_many Result: its response, or a failure if it has an error."""
        response = result.response
        if response is not None:
            self.count(response.status_code, response.content)
        elif result.error is not None:
            self.failed += 1
        else:
            self.bad += 1


Crawl = Callable[[Sequence[str]], Tally]


@dataclasses.dataclass(frozen=True)
class Client:
    """One benchmarked way to crawl a list of URLs, CONCURRENCY at a time."""

    name: str
    crawl: Crawl
    note: str = ""


def raw_curl_multi(urls: Sequence[str], options: Sequence[tuple[int, Any]] = ()) -> Tally:
    """The reference: the least a CurlMulti loop can do and still keep every answer.

    `options` replace the reference's own handle options (for the breakdown, which runs the
    same loop with the options fetch_many sets).
    """
    multi = pycurl.CurlMulti()
    handles = _raw_handles(options)
    try:
        return _raw_loop(multi, handles, urls)
    finally:
        for handle in handles:
            handle.close()
        multi.close()


def _raw_handles(options: Sequence[tuple[int, Any]] = ()) -> list[pycurl.Curl]:
    if not options:
        options = [
            (pycurl.NOSIGNAL, 1),
            (pycurl.CONNECTTIMEOUT_MS, int(TIMEOUT * 1000)),
            (pycurl.TIMEOUT_MS, int(TIMEOUT * 1000)),
        ]
    handles = []
    for _ in range(CONCURRENCY):
        handle = pycurl.Curl()
        for option, value in options:
            handle.setopt(option, value)
        handles.append(handle)
    return handles


def _raw_loop(multi: pycurl.CurlMulti, handles: list[pycurl.Curl], urls: Sequence[str]) -> Tally:
    """The raw loop itself: every handle idle at the start and again at the end."""
    tally = Tally()
    idle = list(handles)
    running: dict[pycurl.Curl, tuple[io.BytesIO, list[bytes]]] = {}
    source = iter(urls)
    more = True
    url_option, write, header = pycurl.URL, pycurl.WRITEFUNCTION, pycurl.HEADERFUNCTION
    code, call_again = pycurl.RESPONSE_CODE, pycurl.E_CALL_MULTI_PERFORM
    try:
        while True:
            while idle and more:
                url = next(source, None)
                if url is None:
                    more = False
                    break
                handle = idle.pop()
                body = io.BytesIO()
                lines: list[bytes] = []
                handle.setopt(url_option, url)
                handle.setopt(write, body.write)
                handle.setopt(header, lines.append)
                multi.add_handle(handle)
                running[handle] = (body, lines)
            if not running:
                return tally
            multi.select(1.0)
            while multi.perform()[0] == call_again:
                pass
            while True:
                queued, ok_list, err_list = multi.info_read()
                for handle in ok_list:
                    body, lines = running.pop(handle)
                    multi.remove_handle(handle)
                    idle.append(handle)
                    tally.count(handle.getinfo(code), body.getvalue())
                for handle, _, _ in err_list:
                    running.pop(handle)
                    multi.remove_handle(handle)
                    idle.append(handle)
                    tally.failed += 1
                if not queued:
                    break
    finally:
        for handle in running:
            multi.remove_handle(handle)


class KeptCurlMulti:
    """The reference for crawls in batches: the raw loop, whose multi handle and 50 easy
    handles (and so their connections) are kept from one batch to the next."""

    def __init__(self) -> None:
        self.multi = pycurl.CurlMulti()
        self.handles = _raw_handles()

    def crawl(self, urls: Sequence[str]) -> Tally:
        return _raw_loop(self.multi, self.handles, urls)

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        self.multi.close()


KEPT_REFERENCE = "raw pycurl CurlMulti loop, handles kept between batches (reference)"
SESSION_CRAWL = "curlx.fetch_many(session=...), connections kept between batches"
KEPT_RATIO_TARGET = 1.2


def kept_clients(stack: ExitStack) -> list[Client]:
    """The batch scenario's two: raw handles kept, and a Session-held crawl."""
    raw = KeptCurlMulti()
    stack.callback(raw.close)
    session = curlx.Session(timeout=TIMEOUT)
    stack.callback(session.close)

    def crawl(urls: Sequence[str]) -> Tally:
        tally = Tally()
        for result in curlx.fetch_many(urls, concurrency=CONCURRENCY, session=session):
            tally.add(result)
        return tally

    return [Client(KEPT_REFERENCE, raw.crawl), Client(SESSION_CRAWL, crawl)]


def curlx_fetch_many(urls: Sequence[str]) -> Tally:
    tally = Tally()
    for result in curlx.fetch_many(urls, concurrency=CONCURRENCY, timeout=TIMEOUT):
        tally.add(result)
    return tally


async def _workers(urls: Sequence[str], one: Callable[[str], Awaitable[None]]) -> None:
    """CONCURRENCY tasks, each taking the next URL from one shared iterator until none is left."""
    source = iter(urls)

    async def worker() -> None:
        for url in source:
            await one(url)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def _on_loop(loop: asyncio.AbstractEventLoop, crawl: Callable[[Sequence[str]], Any]) -> Crawl:
    """A synchronous crawl running the coroutine function `crawl` on `loop`."""

    def run(urls: Sequence[str]) -> Tally:
        tally: Tally = loop.run_until_complete(crawl(urls))
        return tally

    return run


def aiohttp_client(loop: asyncio.AbstractEventLoop) -> Client:
    import aiohttp

    async def crawl(urls: Sequence[str]) -> Tally:
        tally = Tally()
        timeout = aiohttp.ClientTimeout(total=TIMEOUT, connect=TIMEOUT)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, trust_env=False
        ) as session:

            async def one(url: str) -> None:
                try:
                    async with session.get(url) as response:
                        tally.count(response.status, await response.read())
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    tally.failed += 1

            await _workers(urls, one)
        return tally

    return Client(
        "aiohttp ClientSession", _on_loop(loop, crawl), f"TCPConnector(limit={CONCURRENCY})"
    )


def httpx_client(loop: asyncio.AbstractEventLoop) -> Client:
    import httpx

    async def crawl(urls: Sequence[str]) -> Tally:
        tally = Tally()
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=TIMEOUT, trust_env=False) as client:

            async def one(url: str) -> None:
                try:
                    response = await client.get(url)
                except httpx.HTTPError:
                    tally.failed += 1
                    return
                tally.count(response.status_code, response.content)

            await _workers(urls, one)
        return tally

    return Client("httpx AsyncClient", _on_loop(loop, crawl), f"{CONCURRENCY} connections")


def curl_cffi_client(loop: asyncio.AbstractEventLoop) -> Client:
    from curl_cffi.requests import AsyncSession, Response
    from curl_cffi.requests.exceptions import RequestException

    async def crawl(urls: Sequence[str]) -> Tally:
        tally = Tally()
        session: AsyncSession[Response] = AsyncSession(
            max_clients=CONCURRENCY, timeout=TIMEOUT, trust_env=False
        )
        async with session:

            async def one(url: str) -> None:
                try:
                    response = await session.get(url)
                except RequestException:
                    tally.failed += 1
                    return
                tally.count(response.status_code, response.content)

            await _workers(urls, one)
        return tally

    return Client("curl_cffi AsyncSession", _on_loop(loop, crawl), f"max_clients={CONCURRENCY}")


def requests_client() -> Client:
    import requests

    def crawl(urls: Sequence[str]) -> Tally:
        local = threading.local()
        sessions: list[requests.Session] = []

        def one(url: str) -> tuple[int, bytes] | None:
            session: requests.Session | None = getattr(local, "session", None)
            if session is None:
                session = requests.Session()
                session.trust_env = False
                local.session = session
                sessions.append(session)
            try:
                response = session.get(url, timeout=TIMEOUT)
            except requests.RequestException:
                return None
            return response.status_code, response.content

        tally = Tally()
        try:
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                for answer in pool.map(one, urls):
                    if answer is None:
                        tally.failed += 1
                    else:
                        tally.count(*answer)
        finally:
            for session in sessions:
                session.close()
        return tally

    return Client(
        "requests, 50 threads", crawl, f"ThreadPoolExecutor({CONCURRENCY}), a Session per thread"
    )


def build_clients(stack: ExitStack, notes: list[str], versions: dict[str, str]) -> list[Client]:
    """The reference, fetch_many and every installed peer (a note for each missing one)."""
    clients = [Client(REFERENCE, raw_curl_multi), Client(FETCH_MANY, curlx_fetch_many)]
    loop = asyncio.new_event_loop()
    stack.callback(loop.close)
    asyncio.set_event_loop(loop)
    peers: list[tuple[str, Callable[[], Client]]] = [
        ("aiohttp", lambda: aiohttp_client(loop)),
        ("httpx", lambda: httpx_client(loop)),
        ("curl_cffi.requests", lambda: curl_cffi_client(loop)),
        ("requests", requests_client),
    ]
    for module, build in peers:
        if peer(module, notes, versions, label=module.partition(".")[0]):
            clients.append(build())
    return clients


# --- the harness ---------------------------------------------------------------------------------


class BadRun(RuntimeError):
    """A crawl did not get the answers it should have."""


@dataclasses.dataclass
class Scenario:
    """One list of URLs crawled by every client, interleaved over rounds."""

    name: str
    description: str
    urls: list[str]
    expected: Tally
    reference: str = REFERENCE
    subject: str = FETCH_MANY
    target: float = RATIO_TARGET
    clients: Sequence[Client] | None = None  # its own clients, instead of everyone's
    wall_us: dict[str, Stats] = dataclasses.field(default_factory=dict)
    cpu_us: dict[str, Stats] = dataclasses.field(default_factory=dict)
    ratio: dict[str, Stats] = dataclasses.field(default_factory=dict)
    slow: set[str] = dataclasses.field(default_factory=set)

    def run(self, clients: Sequence[Client], rounds: int) -> None:
        """Warm every client up, then time `rounds` interleaved crawls of each.

        A client whose warm-up took more than SLOW_FACTOR times the reference's per URL runs
        in the first SLOW_ROUNDS rounds only (still interleaved with the others): its distance
        is plain after three, and more of its crawls would take most of the run.
        """
        n = len(self.urls)
        warm_up = self.urls[: max(CONCURRENCY * 2, n // 10)]
        warm_us: dict[str, float] = {}
        for client in clients:
            start = time.perf_counter()
            client.crawl(warm_up)
            warm_us[client.name] = (time.perf_counter() - start) / len(warm_up) * 1e6
        limit = warm_us[self.reference] * SLOW_FACTOR
        self.slow = {name for name, us in warm_us.items() if us > limit and name != self.subject}
        wall: dict[str, dict[int, float]] = {c.name: {} for c in clients}
        cpu: dict[str, dict[int, float]] = {c.name: {} for c in clients}
        for round_number in range(rounds):
            shift = round_number % len(clients)
            for client in [*clients[shift:], *clients[:shift]]:
                if client.name in self.slow and round_number >= SLOW_ROUNDS:
                    continue
                gc.collect()
                start_cpu, start = time.process_time(), time.perf_counter()
                tally = client.crawl(self.urls)
                elapsed, used = time.perf_counter() - start, time.process_time() - start_cpu
                if tally != self.expected:
                    raise BadRun(f"{self.name}: {client.name} got {tally}, not {self.expected}")
                wall[client.name][round_number] = elapsed / n * 1e6
                cpu[client.name][round_number] = used / n * 1e6
            print(f"  {self.name}: round {round_number + 1}/{rounds}", file=sys.stderr)
        reference = wall[self.reference]
        for name, times in wall.items():
            self.wall_us[name] = Stats(tuple(times.values()))
            self.cpu_us[name] = Stats(tuple(cpu[name].values()))
            self.ratio[name] = Stats(tuple(t / reference[r] for r, t in times.items()))

    def table(self, notes: dict[str, str]) -> str:
        header = ["client", "µs/URL (p25-p75)", "× raw loop", "URLs/s", "client CPU µs/URL"]
        rows = []
        for name, wall in self.wall_us.items():
            p25, p75 = wall.quartiles
            note = notes.get(name, "")
            if name in self.slow:
                note += f"{'; ' if note else ''}{len(wall.samples)} rounds: slow"
            rows.append(
                [
                    name + (f" ({note})" if note else ""),
                    f"{wall.median:,.1f} ({p25:,.1f}-{p75:,.1f})",
                    f"{self.ratio[name].median:.2f}",
                    f"{1e6 / wall.median:,.0f}",
                    f"{self.cpu_us[name].median:,.1f}",
                ]
            )
        return markdown_table(header, rows)

    def checks(self) -> list[dict[str, Any]]:
        """The subject within `target` of the reference, and ahead of every peer."""
        ratio = self.ratio[self.subject].median
        checks: list[dict[str, Any]] = [
            {
                "target": f"{self.name}: {self.subject} ≤ {self.target}× {self.reference}",
                "measured": f"{ratio:.3f}×",
                "met": ratio <= self.target,
            }
        ]
        ours = self.wall_us[self.subject].median
        for name, stats in self.wall_us.items():
            if name in (self.subject, self.reference):
                continue
            checks.append(
                {
                    "target": f"{self.name}: {self.subject} faster than {name}",
                    "measured": f"{ours:,.1f} vs {stats.median:,.1f} µs/URL",
                    "met": ours < stats.median,
                }
            )
        return checks

    def as_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "urls": len(self.urls),
            "concurrency": CONCURRENCY,
            "expected": dataclasses.asdict(self.expected),
            "clients": {
                name: {
                    "wall_us_per_url": self.wall_us[name].as_json(2),
                    "ratio_to_reference": self.ratio[name].as_json(3),
                    "cpu_us_per_url": self.cpu_us[name].as_json(2),
                    "rounds": len(self.wall_us[name].samples),
                }
                for name in self.wall_us
            },
        }


# --- memory: a long crawl in a subprocess --------------------------------------------------------


def rss_child(url_prefix: str, count: int, every: int) -> None:
    """In the subprocess: crawl `count` URLs from a generator, print the RSS curve as JSON."""

    def urls() -> Iterator[str]:
        for i in range(count):
            yield f"{url_prefix}{i}"

    tally = Tally()
    rss, hwm = memory_kib()
    samples = [{"results": 0, "rss_kib": rss, "hwm_kib": hwm}]
    start = time.perf_counter()
    done = 0
    for result in curlx.fetch_many(urls(), concurrency=CONCURRENCY, timeout=TIMEOUT):
        tally.add(result)
        done += 1
        if done % every == 0:
            rss, hwm = memory_kib()
            samples.append({"results": done, "rss_kib": rss, "hwm_kib": hwm})
    elapsed = time.perf_counter() - start
    print(json.dumps({"tally": dataclasses.asdict(tally), "seconds": elapsed, "curve": samples}))


@dataclasses.dataclass
class MemoryRun:
    name: str
    url_prefix: str
    count: int
    every: int
    expected: Tally
    curve: list[dict[str, int]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def run(self) -> None:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--rss-child",
            self.url_prefix,
            "--rss-count",
            str(self.count),
            "--rss-every",
            str(self.every),
        ]
        print(f"  rss: {self.name}, {self.count:,} URLs", file=sys.stderr)
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise BadRun(f"rss {self.name}: the child failed:\n{done.stderr}")
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        tally = Tally(**answer["tally"])
        if tally != self.expected:
            raise BadRun(f"rss {self.name}: got {tally}, not {self.expected}")
        self.curve = answer["curve"]
        self.seconds = answer["seconds"]

    def growth_kib(self) -> tuple[int, int]:
        """VmRSS and VmHWM growth from the first sample after 0 (10k in a full run) to the end."""
        first, last = self.curve[1], self.curve[-1]
        return last["rss_kib"] - first["rss_kib"], last["hwm_kib"] - first["hwm_kib"]

    def as_json(self) -> dict[str, Any]:
        rss_growth, hwm_growth = self.growth_kib()
        return {
            "urls": self.count,
            "concurrency": CONCURRENCY,
            "seconds": round(self.seconds, 2),
            "us_per_url": round(self.seconds / self.count * 1e6, 2),
            "curve": self.curve,
            "growth_from_first_sample_kib": {"rss": rss_growth, "hwm": hwm_growth},
        }


def memory_table(runs: Sequence[MemoryRun]) -> str:
    header = ["results"] + [f"{r.name}: VmRSS / VmHWM MiB" for r in runs]
    rows = []
    for i, point in enumerate(runs[0].curve):
        row = [f"{point['results']:,}" + (" (before)" if i == 0 else "")]
        for run in runs:
            p = run.curve[i]
            row.append(f"{p['rss_kib'] / 1024:.1f} / {p['hwm_kib'] / 1024:.1f}")
        rows.append(row)
    return markdown_table(header, rows)


# --- profile -------------------------------------------------------------------------------------


def profile(crawl: Crawl, urls: Sequence[str], top: int) -> list[dict[str, Any]]:
    """cProfile of one crawl: the `top` functions by own time, as µs per URL."""
    crawl(urls[: CONCURRENCY * 2])
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    crawl(urls)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    n = len(urls)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (path, line, function), (_, calls, own, total, _) in table.items():
        rows.append(
            {
                "function": _function_name(path, line, function),
                "calls_per_url": round(calls / n, 2),
                "own_us_per_url": round(own / n * 1e6, 2),
                "cumulative_us_per_url": round(total / n * 1e6, 2),
            }
        )
    rows.sort(key=lambda row: row["own_us_per_url"], reverse=True)
    return rows[:top]


def _function_name(path: str, line: int, function: str) -> str:
    if path == "~":
        return function  # a builtin, e.g. <method 'setopt' of 'pycurl.Curl' objects>
    parts = Path(path).parts
    if "curlx" in parts:
        short = "/".join(parts[parts.index("curlx") :])
    else:
        short = Path(path).name
    return f"{short}:{line}({function})"


def _per_call_us(func: Callable[[str], object], urls: Sequence[str]) -> float:
    """Best of 9 loops calling `func` on each of `urls`, in µs per call (loop included).

    The URLs are distinct, as in a crawl: a piece that caches per URL (the slot keeps its last
    URL; urllib's urlsplit has an LRU cache) would show only its cache hits on one URL.
    """
    best = float("inf")
    for _ in range(9):
        start = time.perf_counter_ns()
        for url in urls:
            func(url)
        best = min(best, (time.perf_counter_ns() - start) / len(urls) / 1e3)
    return best


def _internals() -> tuple[Any, Any, Any, Any]:
    """curlx's internal modules (_curl, _fetch, _models, _session), typed loosely on purpose.

    The breakdown pokes at private functions whose signatures change as curlx evolves; a
    mismatch shows up at run time as a skipped section, not as a broken benchmark.
    """
    return (
        importlib.import_module("curlx._curl"),
        importlib.import_module("curlx._fetch"),
        importlib.import_module("curlx._models"),
        importlib.import_module("curlx._session"),
    )


def _crawl_config() -> Any:
    """A Session configured as fetch_many configures its own (no cookie engine)."""
    session = _internals()[3]
    return session.Session(timeout=curlx.Timeout.of(TIMEOUT), _cookie_engine=False)


def curlx_options() -> list[tuple[int, Any]]:
    """The handle options fetch_many sets for a plain GET with this benchmark's timeout."""
    config = _crawl_config()
    try:
        return list(config._prepare("GET", "http://127.0.0.1/").base)
    finally:
        config.close()


@dataclasses.dataclass(frozen=True)
class Layers:
    """What a rung of the ladder adds to the raw loop, which then yields one item per URL.

    Each layer does per URL what fetch_many does for a plain string URL (a GET, no per_host).
    """

    lists: bool = False
    """The body and the header lines land in two lists per handle whose callbacks are set once,
    and are handed over as ``_Slot.take`` does (a body of one chunk without a copy), instead of
    a new BytesIO and list and 3 setopt per transfer: only the URL is set per transfer."""
    info: bool = False
    """Read the response info as fetch_many does (``_read_response_info``: getinfo calls and a
    TransferInfo), instead of one getinfo(RESPONSE_CODE)."""
    objects: bool = False
    """Build fetch_many's per-URL objects: the _Job (``_job``: the URL stripped, ``redact_url``,
    no host since per_host is not set), the Response and the Result, with their monotonic
    clock reads."""
    prepare: bool = False
    """``Session._prepare`` per URL, as ``_start`` does (its URL is the one set)."""


LayerItem = tuple[int, bytes] | curlx.Result | None


def _layered_results(
    urls: Sequence[str], options: Sequence[tuple[int, Any]], layers: Layers
) -> Iterator[LayerItem]:
    """The raw loop with some of fetch_many's per-URL work added (see `Layers`)."""
    curl, fetch, models, _ = _internals()
    config = _crawl_config()
    multi = pycurl.CurlMulti()
    handles = []
    # With `lists`: each handle's (chunks, header lines), filled by callbacks set once.
    buffers: dict[pycurl.Curl, tuple[list[bytes], list[bytes]]] = {}
    for _ in range(CONCURRENCY):
        handle = pycurl.Curl()
        for option, value in options:
            handle.setopt(option, value)
        if layers.lists:
            chunks: list[bytes] = []
            header_lines: list[bytes] = []
            handle.setopt(pycurl.WRITEFUNCTION, chunks.append)
            handle.setopt(pycurl.HEADERFUNCTION, header_lines.append)
            buffers[handle] = (chunks, header_lines)
        handles.append(handle)
    idle = list(handles)
    running: dict[pycurl.Curl, tuple[io.BytesIO | None, list[bytes], str, Any]] = {}
    source = iter(urls)
    more = True
    try:
        while True:
            while idle and more:
                url = next(source, None)
                if url is None:
                    more = False
                    break
                job = None
                if layers.objects:
                    job = fetch._job_maker(config.retry, False)(url)
                    job.started = time.monotonic()
                if layers.prepare:
                    url = config._prepare("GET", url).url
                handle = idle.pop()
                body: io.BytesIO | None = None
                if layers.lists:
                    lines = buffers[handle][1]
                else:
                    body = io.BytesIO()
                    lines = []
                    handle.setopt(pycurl.WRITEFUNCTION, body.write)
                    handle.setopt(pycurl.HEADERFUNCTION, lines.append)
                handle.setopt(pycurl.URL, url)
                multi.add_handle(handle)
                running[handle] = (body, lines, url, job)
            if not running:
                return
            multi.select(1.0)
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            while True:
                queued, ok_list, err_list = multi.info_read()
                for handle in ok_list:
                    body, lines, url, job = running.pop(handle)
                    multi.remove_handle(handle)
                    idle.append(handle)
                    if body is None:
                        chunks, header_lines = buffers[handle]
                        content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                        chunks.clear()
                        lines = header_lines.copy()
                        header_lines.clear()
                    else:
                        content = body.getvalue()
                    info = None
                    if layers.info:
                        info = curl.read_response_info(handle, "GET", url)
                        code = info.response_code
                    else:
                        code = handle.getinfo(pycurl.RESPONSE_CODE)
                    if job is None:
                        yield code, content
                        continue
                    response = models.Response(
                        status_code=code,
                        content=content,
                        header_lines=lines,
                        info=info,
                        method="GET",
                        request_url=job.url,
                    )
                    yield curlx.Result(job.url, response, None, 1, time.monotonic() - job.started)
                for handle, _, _ in err_list:
                    running.pop(handle)
                    multi.remove_handle(handle)
                    idle.append(handle)
                    for buffer in buffers.get(handle, ()):
                        buffer.clear()
                    yield None
                if not queued:
                    break
    finally:
        for handle in running:
            multi.remove_handle(handle)
        for handle in handles:
            handle.close()
        multi.close()
        config.close()


def layered_crawl(options: Sequence[tuple[int, Any]], layers: Layers) -> Crawl:
    def crawl(urls: Sequence[str]) -> Tally:
        tally = Tally()
        for item in _layered_results(urls, options, layers):
            if item is None:
                tally.failed += 1
            elif isinstance(item, tuple):
                tally.count(*item)
            else:
                tally.add(item)
        return tally

    return crawl


def ladder(urls: Sequence[str], rounds: int) -> dict[str, Any]:
    """From the raw loop to fetch_many, one piece of fetch_many's work added per rung.

    Every rung is a real crawl of the success URLs, interleaved with the others, so each
    piece is timed where it runs in a crawl (between libcurl calls, with colder caches than
    in a tight loop). The first rung adds fetch_many's libcurl options, to tell libcurl's
    share from curlx's Python work; the last gap is fetch_many's own loop (``_crawl``'s
    launch/_start/_finish, MultiTransport's start/poll/_collect/_release, ``_Slot.prepare``
    and ``outcome``) against the raw loop's.
    """
    options = curlx_options()
    with_lists = Layers(lists=True)
    with_info = Layers(lists=True, info=True)
    with_objects = Layers(lists=True, info=True, objects=True)
    every = Layers(lists=True, info=True, objects=True, prepare=True)
    rungs: list[tuple[str, Crawl]] = [
        (REFERENCE, raw_curl_multi),
        ("+ fetch_many's libcurl options", lambda u: raw_curl_multi(u, options)),
        ("+ a generator yielding per URL", layered_crawl(options, Layers())),
        (
            "+ body and header lists per handle, callbacks set once (as Slot)",
            layered_crawl(options, with_lists),
        ),
        (
            "+ read_response_info at once (fetch_many now reads it on first use)",
            layered_crawl(options, with_info),
        ),
        (
            "+ a job per URL (_Job, redact_url), Response, Result",
            layered_crawl(options, with_objects),
        ),
        (
            "+ Session._prepare per URL (fetch_many: once, then the URL only)",
            layered_crawl(options, every),
        ),
        (f"= {FETCH_MANY} (its own loop instead of the raw one)", curlx_fetch_many),
    ]
    scenario = Scenario("ladder", "success URLs", list(urls), Tally(ok=len(urls)))
    scenario.run([Client(name, crawl) for name, crawl in rungs], rounds)
    return {
        "options": [_option_name(option, value) for option, value in options],
        "wall_us": {name: s.as_json(2) for name, s in scenario.wall_us.items()},
        "cpu_us": {name: s.as_json(2) for name, s in scenario.cpu_us.items()},
        "ratio": {name: s.as_json(3) for name, s in scenario.ratio.items()},
    }


_OPTION_NAMES: dict[int, str] = {265: "SUPPRESS_CONNECT_HEADERS"}
"""Options pycurl knows by number only."""


def _option_name(option: int, value: Any) -> str:
    if option in _OPTION_NAMES:
        return f"{_OPTION_NAMES[option]}={value!r}"
    names = [
        name
        for name in dir(pycurl)
        if name.isupper() and getattr(pycurl, name) == option and not name.startswith("E_")
    ]
    preferred = [n for n in names if not n.startswith(("INFO", "VERSION", "HTTPAUTH", "PROTO"))]
    return f"{(preferred or names or [f'option {option}'])[0]}={value!r}"


def ladder_report(result: dict[str, Any]) -> str:
    rows = []
    previous: float | None = None
    for name in result["wall_us"]:
        cpu = result["cpu_us"][name]["median"]
        rows.append(
            [
                name,
                f"{result['wall_us'][name]['median']:,.1f}",
                f"{result['ratio'][name]['median']:.2f}",
                f"{cpu:,.1f}",
                "" if previous is None else f"{cpu - previous:+.1f}",
            ]
        )
        previous = cpu
    header = ["rung (success URLs)", "µs/URL", "× raw loop", "client CPU µs/URL", "CPU step"]
    return "\n".join(
        [
            "## Ladder: from the raw loop to fetch_many, one piece at a time (real crawls)",
            "",
            f"fetch_many's libcurl options: {', '.join(result['options'])}.",
            "",
            markdown_table(header, rows),
        ]
    )


class _CountingHandle:
    """Stands in for a pycurl.Curl to count the setopt and getinfo calls made on it."""

    def __init__(self, handle: pycurl.Curl) -> None:
        self.handle = handle
        self.setopt_calls = 0
        self.getinfo_calls = 0

    def setopt(self, option: int, value: Any) -> None:
        self.setopt_calls += 1
        self.handle.setopt(option, value)

    def getinfo(self, option: int) -> Any:
        self.getinfo_calls += 1
        return self.handle.getinfo(option)

    def getinfo_raw(self, option: int) -> Any:
        self.getinfo_calls += 1
        return self.handle.getinfo_raw(option)

    def reset(self) -> None:
        self.handle.reset()


def breakdown(url: str, n: int) -> dict[str, Any]:
    """What fetch_many does per successful plain-URL GET beyond the raw loop, piece by piece, warm.

    Uses curlx internals (``_job_maker``, ``Session._prepare``, ``Slot``, ``Response``,
    ``host_of``), so it may need updating when they change; it never changes them.
    """
    _, fetch, models, _ = _internals()
    transport = importlib.import_module("curlx._transport")
    urls_module = importlib.import_module("curlx._urls")
    config = _crawl_config()
    make_job = fetch._job_maker(config.retry, False)
    slot = transport.Slot()
    real = slot.handle
    raw = pycurl.Curl()
    try:
        prepared = config._prepare("GET", url)
        method, base, extra, watchdog = (
            prepared.method,
            prepared.base,
            prepared.extra,
            prepared.watchdog,
        )
        # As the engine prepares a slot: the loop, not a callback, watches progress.
        slot.prepare(method, prepared.url, base, extra, watchdog, callback=False)
        real.perform()  # a real transfer: the slot's lists get a body, getinfo gets values
        content = slot.respond(models.Response._pending("GET", url)).content
        counting = _CountingHandle(real)
        slot.handle = counting
        # A URL the slot has not set yet, as for every URL of a crawl.
        slot.prepare(method, f"{url}&n=-1", base, extra, watchdog, callback=False)
        slot.chunks.append(content)
        slot.respond(models.Response._pending("GET", url))
        slot.handle = real
        calls = {"setopt": counting.setopt_calls, "getinfo": counting.getinfo_calls}
        raw_body = io.BytesIO(content)

        def raw_prepare(u: str) -> None:
            body = io.BytesIO()
            header_lines: list[bytes] = []
            raw.setopt(pycurl.URL, u)
            raw.setopt(pycurl.WRITEFUNCTION, body.write)
            raw.setopt(pycurl.HEADERFUNCTION, header_lines.append)

        def respond(u: str) -> object:
            slot.chunks.append(content)  # as the WRITEFUNCTION left it: one chunk
            return slot.respond(models.Response._pending("GET", u))

        def raw_outcome(_: str) -> tuple[int, bytes]:
            return real.getinfo(pycurl.RESPONSE_CODE), raw_body.getvalue()

        # (name, per-URL calls in fetch_many, per-URL calls in the raw loop, function)
        pieces: list[tuple[str, int, int, Callable[[str], object]]] = [
            (
                "_job_maker()'s job(): strip, _Job (redact_url; no host without per_host)",
                1,
                0,
                make_job,
            ),
            ("  (of which redact_url(url))", 0, 0, urls_module.redact_url),
            ("host_of(url): only with per_host, not in this crawl", 0, 0, urls_module.host_of),
            (
                "Session._target(): URL checks and scheme (a plain GET's options are prepared "
                "once per crawl)",
                1,
                0,
                config._target,
            ),
            (
                f"Slot.prepare(): {calls['setopt']} setopt (URL), redact_url",
                1,
                0,
                lambda u: slot.prepare(method, u, base, extra, watchdog, callback=False),
            ),
            ("raw: 3 setopt (URL and the 2 callbacks), BytesIO, list", 0, 1, raw_prepare),
            (
                f"Slot.respond(): a chunk appended, take(), {calls['getinfo']} getinfo, "
                "an empty Response filled in (its info read on first use)",
                1,
                0,
                respond,
            ),
            ("raw: getvalue, getinfo(RESPONSE_CODE)", 0, 1, raw_outcome),
            (
                "Result(...) (frozen slots dataclass)",
                1,
                0,
                lambda u: curlx.Result(u, None, None, 1, 0.0),
            ),
            ("time.monotonic() (3 per URL)", 3, 0, lambda _: time.monotonic()),
        ]
        urls = [f"{url}&n={k}" for k in range(n)]  # distinct, as in a crawl
        rows = []
        extra_us = 0.0
        for name, ours, theirs, func in pieces:
            us = _per_call_us(func, urls)
            extra_us += (ours - theirs) * us
            rows.append({"piece": name, "us": round(us, 3), "fetch_many": ours, "raw": theirs})
        return {"pieces": rows, "extra_us_per_url": round(extra_us, 2), "handle_calls": calls}
    finally:
        slot.handle = real
        real.close()
        raw.close()
        config.close()


def breakdown_report(result: dict[str, Any], cpu_delta: float) -> str:
    rows = [
        [row["piece"], f"{row['us']:.2f}", str(row["fetch_many"]), str(row["raw"])]
        for row in result["pieces"]
    ]
    return "\n".join(
        [
            "## Breakdown: per-URL pieces, each warm in a loop (no profiler)",
            "",
            markdown_table(["piece", "µs/call", "calls/URL: fetch_many", "raw loop"], rows),
            "",
            f"fetch_many's extra pieces add up to {result['extra_us_per_url']:.1f} µs per URL; "
            f"the measured client CPU difference (success, median) is {cpu_delta:.1f} µs per URL. "
            "The rest is the loop and generator bookkeeping (_crawl, the scheduler's ready and "
            "ended, _start and _finish; the engine's start, drive, finished and _release) and "
            "these same "
            "pieces running with colder caches between two libcurl calls than in a tight loop.",
        ]
    )


def profile_report(profiles: dict[str, list[dict[str, Any]]]) -> str:
    out = ["## Profile (cProfile; times are inflated by the profiler, compare them relatively)"]
    for name, rows in profiles.items():
        out += ["", f"### {name}", ""]
        table = [
            [
                f"`{row['function']}`",
                f"{row['calls_per_url']:g}",
                f"{row['own_us_per_url']:.2f}",
                f"{row['cumulative_us_per_url']:.2f}",
            ]
            for row in rows
        ]
        out.append(
            markdown_table(["function", "calls/URL", "own µs/URL", "cumulative µs/URL"], table)
        )
    return "\n".join(out)


# --- the run -------------------------------------------------------------------------------------


def load_average_text(load: Sequence[float] | None = None) -> str:
    """The 1, 5 and 15 minute load averages (other busy processes make the numbers noisy)."""
    return " ".join(f"{x:.2f}" for x in (load_average() if load is None else load)) or "unknown"


def environment(
    nginx: str, workers: int, versions: dict[str, str], load: Sequence[float]
) -> dict[str, Any]:
    return {
        "date": utc_now(),
        **machine(),
        "pycurl": pycurl.version,
        "curlx": curlx.__version__,
        "curlx_source_sha256": source_digest(16, separator=b"\0"),
        "nginx": f"{nginx}, {workers} worker(s)",
        "load_average_at_start": load_average_text(load),
        **{f"peer {name}": version for name, version in versions.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    parser.add_argument("--profile", action="store_true", help="cProfile fetch_many vs raw")
    parser.add_argument("--no-rss", action="store_true", help="skip the memory runs")
    parser.add_argument("--workers", type=int, default=2, help="nginx worker processes")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per scenario")
    parser.add_argument("--json", type=Path, default=RESULTS_PATH, help="where the numbers go")
    parser.add_argument("--rss-child", metavar="URL_PREFIX", help=argparse.SUPPRESS)
    parser.add_argument("--rss-count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rss-every", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    drop_proxy_variables()
    if args.rss_child:
        rss_child(args.rss_child, args.rss_count, args.rss_every)
        return 0
    settings = QUICK if args.quick else FULL
    if args.rounds:
        settings = dataclasses.replace(settings, rounds=args.rounds)

    binary = ensure_nginx()
    notes: list[str] = []
    versions: dict[str, str] = {}
    started = time.perf_counter()
    with sigterm_as_interrupt(), ExitStack() as stack:
        clients = build_clients(stack, notes, versions)
        load = load_average()
        env = environment(nginx_version(binary), args.workers, versions, load)
        print("# curlx crawler benchmark: fetch_many\n")
        print(markdown_table(["", ""], [[key, str(value)] for key, value in env.items()]))
        print()
        busy = load_note(load)
        if busy:
            notes.append(f"at the start, {busy}")
        for note in notes:
            print(f"- {note}")
        server = stack.enter_context(
            Nginx(
                binary,
                {FILE_NAME: bytes(range(256)) * (BODY_SIZE // 256)},
                workers=args.workers,
                worker_connections=WORKER_CONNECTIONS,
                open_file_cache=16,
            )
        )
        refused = closed_port_below_ephemeral()
        ok_urls = [server.url(f"{FILE_NAME}?i={i}") for i in range(settings.urls)]
        half_urls = [
            server.url(f"{FILE_NAME}?i={i}")
            if i % 2 == 0
            else f"http://127.0.0.1:{refused}/{FILE_NAME}?i={i}"
            for i in range(settings.urls)
        ]
        half = settings.urls // 2
        scenarios = [
            Scenario(
                "success",
                f"{settings.urls} URLs of a 1 KiB file, all 200",
                ok_urls,
                Tally(ok=settings.urls),
            ),
            Scenario(
                "half-fail",
                f"{settings.urls} URLs, every other one to a closed port (connection refused)",
                half_urls,
                Tally(ok=settings.urls - half, failed=half),
            ),
            Scenario(
                "batches",
                f"{settings.urls} URLs of a 1 KiB file in one batch, connections kept from the "
                "batch before",
                ok_urls,
                Tally(ok=settings.urls),
                reference=KEPT_REFERENCE,
                subject=SESSION_CRAWL,
                target=KEPT_RATIO_TARGET,
                clients=kept_clients(stack),
            ),
        ]
        client_notes = {c.name: c.note for c in clients}
        report: dict[str, Any] = {"environment": env, "notes": notes, "scenarios": {}}
        for scenario in scenarios:
            scenario.run(scenario.clients or clients, settings.rounds)
            print(f"\n## {scenario.name}: {scenario.description}, concurrency {CONCURRENCY}")
            print(f"\nMedian of {settings.rounds} interleaved rounds.\n")
            print(scenario.table(client_notes))
            report["scenarios"][scenario.name] = scenario.as_json()
        checks = [check for scenario in scenarios for check in scenario.checks()]
        report["targets"] = checks
        print("\n## Targets\n")
        rows = [[c["target"], c["measured"], "met" if c["met"] else "MISSED"] for c in checks]
        print(markdown_table(["target", "measured", ""], rows, right_from=1))

        if not args.no_rss:
            memory = [
                MemoryRun(
                    "success",
                    server.url(f"{FILE_NAME}?i="),
                    settings.rss_urls,
                    settings.rss_every,
                    Tally(ok=settings.rss_urls),
                ),
                MemoryRun(
                    "all refused",
                    f"http://127.0.0.1:{refused}/{FILE_NAME}?i=",
                    settings.rss_urls,
                    settings.rss_every,
                    Tally(failed=settings.rss_urls),
                ),
            ]
            for run in memory:
                run.run()
            print(f"\n## Memory: {settings.rss_urls:,} URLs from a generator, fetch_many(50)\n")
            print(memory_table(memory))
            print()
            for run in memory:
                rss_growth, hwm_growth = run.growth_kib()
                first = run.curve[1]["results"]
                print(
                    f"- {run.name}: {run.seconds:.1f} s ({run.seconds / run.count * 1e6:.1f} µs"
                    f"/URL); growth from {first:,} to {run.count:,} results: VmRSS "
                    f"{rss_growth:+,} KiB, VmHWM {hwm_growth:+,} KiB"
                )
            report["memory"] = {run.name: run.as_json() for run in memory}

        if args.profile:
            profiles = {
                f"{FETCH_MANY}, success": profile(curlx_fetch_many, ok_urls, 30),
                f"{REFERENCE}, success": profile(raw_curl_multi, ok_urls, 15),
                f"{FETCH_MANY}, half-fail": profile(curlx_fetch_many, half_urls, 30),
                f"{REFERENCE}, half-fail": profile(raw_curl_multi, half_urls, 15),
            }
            print()
            print(profile_report(profiles))
            report["profile"] = profiles
            # These two use curlx internals: if those changed, say so and go on.
            try:
                pieces = breakdown(
                    server.url(f"{FILE_NAME}?i=0"), 20_000 if not args.quick else 2_000
                )
            except (ImportError, AttributeError, TypeError, ValueError) as exc:
                print(f"\nBreakdown skipped: curlx internals changed ({exc!r})")
            else:
                success = scenarios[0]
                delta = success.cpu_us[FETCH_MANY].median - success.cpu_us[REFERENCE].median
                print()
                print(breakdown_report(pieces, delta))
                report["breakdown"] = pieces
            try:
                steps = ladder(ok_urls, settings.rounds)
            except (ImportError, AttributeError, TypeError, ValueError) as exc:
                print(f"\nLadder skipped: curlx internals changed ({exc!r})")
            else:
                print()
                print(ladder_report(steps))
                report["ladder"] = steps

    report["seconds"] = round(time.perf_counter() - started, 1)
    report["load_average_at_end"] = load_average_text()
    print(f"\nLoad average at the end: {report['load_average_at_end']}")
    write_json(args.json, report)
    print(f"\nTook {report['seconds']} s; numbers in {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: nginx stopped", file=sys.stderr)
        sys.exit(130)
