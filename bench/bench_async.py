"""Async benchmark: AsyncSession and afetch_many against raw pycurl.AsyncCurlMulti loops and peers.

Run from the repository root (as root on Debian if nginx is not installed yet: the script
then installs ``nginx-light`` with apt-get); the peers come with the ``bench`` extra::

    pip install -e '.[bench,test]'
    python bench/bench_async.py                 # about 2 minutes on 2 cores
    python bench/bench_async.py --quick         # a few seconds, to check that it works
    python bench/bench_async.py --loop uvloop   # the same on uvloop's event loop

One run starts its own nginx (bench/nginx.py: 2 workers, keep-alive, a 1 KiB static file) on
a free 127.0.0.1 port and stops it at the end. Then, on one event loop, side by side:

1. ``sequential``: GET of the 1 KiB file on a kept-alive connection, one after another:
   ``AsyncSession.get`` against the reference, a raw loop of ``await multi.perform(curl)`` on
   one reused ``pycurl.Curl`` (``pycurl.AsyncCurlMulti``, body and header lines kept by
   WRITEFUNCTION and HEADERFUNCTION, status read), and the sync ``Session.get`` for scale.
2. ``crawl``: 2000 distinct URLs (``/f1k?i=N``) at concurrency 50: ``afetch_many`` against the
   reference, a raw callback-driven ``pycurl.AsyncCurlMulti`` loop (50 reused handles, the next
   URL added from each future's done-callback, body and header lines kept), and aiohttp, httpx
   and curl_cffi (bench_crawl.py's clients: one session, 50 worker tasks), plus the sync
   ``fetch_many`` and the raw sync CurlMulti loop of bench_crawl.py.
3. ``refused``: 2000 URLs to a closed loopback port (connection refused) at concurrency 50:
   ``afetch_many`` against the raw async loop (and the sync fetch_many).

Every client has a 10 s timeout; every result is checked (200 with 1024 bytes, or a failure
for the refused port). Clients are interleaved: each round runs every client once, in an order
that rotates from round to round, after one untimed warm-up each. Reported: the median over
rounds of wall time per request (µs) with the 25th-75th percentiles, and the ratio to the
reference as the median of per-round ratios. Not timed tests: numbers for bench/README.md.
A Markdown report goes to stdout and the numbers to bench/results/async.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from contextlib import ExitStack
from functools import partial
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
    paired_ratio,
    peer,
    sigterm_as_interrupt,
    utc_now,
    write_json,
)
from bench_crawl import (
    BODY_SIZE,
    CONCURRENCY,
    FILE_NAME,
    TIMEOUT,
    WORKER_CONNECTIONS,
    Tally,
    aiohttp_client,
    curl_cffi_client,
    curlx_fetch_many,
    httpx_client,
    raw_curl_multi,
)
from nginx import Nginx, ensure_nginx, nginx_version

import curlx

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "async.json"
REFERENCE_SEQ = "raw `await multi.perform(curl)` loop (reference)"
REFERENCE_CRAWL = "raw callback-driven AsyncCurlMulti loop (reference)"
TARGETS = {"sequential": 1.3, "crawl": 1.25}
"""AsyncSession.get at most 1.3x the raw perform loop; afetch_many at most 1.25x the raw loop."""


@dataclasses.dataclass(frozen=True)
class Settings:
    rounds: int
    sequential: int  # requests per round
    urls: int  # crawl size


Run = Callable[[Sequence[str]], Tally]


def _raw_handle(chunks: list[bytes], lines: list[bytes]) -> pycurl.Curl:
    curl = pycurl.Curl()
    curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
    curl.setopt(pycurl.HEADERFUNCTION, lines.append)
    curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(TIMEOUT * 1000))
    curl.setopt(pycurl.TIMEOUT_MS, int(TIMEOUT * 1000))
    curl.setopt(pycurl.NOSIGNAL, 1)
    return curl


# --- sequential ------------------------------------------------------------------------------


async def raw_perform_loop(urls: Sequence[str]) -> Tally:
    """The reference: one reused handle, `await multi.perform(curl)` per request."""
    tally = Tally()
    chunks: list[bytes] = []
    lines: list[bytes] = []
    curl = _raw_handle(chunks, lines)
    async with pycurl.AsyncCurlMulti() as multi:
        for url in urls:
            curl.setopt(pycurl.URL, url)
            await multi.perform(curl)
            body = b"".join(chunks)
            headers = lines[:]
            chunks.clear()
            lines.clear()
            assert headers
            tally.count(curl.getinfo(pycurl.RESPONSE_CODE), body)
    curl.close()
    return tally


async def async_session_loop(urls: Sequence[str]) -> Tally:
    tally = Tally()
    async with curlx.AsyncSession(timeout=TIMEOUT) as session:
        for url in urls:
            response = await session.get(url)
            tally.count(response.status_code, response.content)
    return tally


def sync_session_loop(urls: Sequence[str]) -> Tally:
    tally = Tally()
    with curlx.Session(timeout=TIMEOUT) as session:
        for url in urls:
            response = session.get(url)
            tally.count(response.status_code, response.content)
    return tally


# --- crawl -----------------------------------------------------------------------------------


async def raw_async_crawl(urls: Sequence[str]) -> Tally:
    """The reference: CONCURRENCY reused handles on pycurl.AsyncCurlMulti; each future's
    done-callback counts its transfer (status, body, header lines) and adds the next URL."""
    tally = Tally()
    loop = asyncio.get_running_loop()
    all_done: asyncio.Future[None] = loop.create_future()
    source = iter(urls)
    running = 0
    async with pycurl.AsyncCurlMulti() as multi:

        def start(curl: pycurl.Curl, chunks: list[bytes], lines: list[bytes]) -> None:
            nonlocal running
            url = next(source, None)
            if url is None:
                if not running and not all_done.done():
                    all_done.set_result(None)
                return
            curl.setopt(pycurl.URL, url)
            running += 1
            future = multi.add_handle(curl)
            future.add_done_callback(partial(ended, curl, chunks, lines))

        def ended(
            curl: pycurl.Curl, chunks: list[bytes], lines: list[bytes], future: asyncio.Future[Any]
        ) -> None:
            nonlocal running
            running -= 1
            if future.exception() is not None:
                tally.failed += 1
            else:
                body = b"".join(chunks)
                headers = lines[:]
                assert headers
                tally.count(curl.getinfo(pycurl.RESPONSE_CODE), body)
            chunks.clear()
            lines.clear()
            start(curl, chunks, lines)

        handles = []
        for _ in range(CONCURRENCY):
            chunks: list[bytes] = []
            lines: list[bytes] = []
            handles.append(curl := _raw_handle(chunks, lines))
            start(curl, chunks, lines)
        await all_done
    for curl in handles:
        curl.close()
    return tally


async def afetch_many_crawl(urls: Sequence[str]) -> Tally:
    tally = Tally()
    async for result in curlx.afetch_many(urls, concurrency=CONCURRENCY, timeout=TIMEOUT):
        tally.add(result)
    return tally


# --- running ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Client:
    name: str
    run: Run
    samples: list[float] = dataclasses.field(default_factory=list)


def on_loop(
    loop: asyncio.AbstractEventLoop, crawl: Callable[[Sequence[str]], Coroutine[Any, Any, Tally]]
) -> Run:
    def run(urls: Sequence[str]) -> Tally:
        tally: Tally = loop.run_until_complete(crawl(urls))
        return tally

    return run


def check(name: str, tally: Tally, urls: Sequence[str], refused: bool) -> None:
    expected = (0, len(urls), 0) if refused else (len(urls), 0, 0)
    got = (tally.ok, tally.failed, tally.bad)
    if got != expected:
        raise RuntimeError(f"{name}: (ok, failed, bad) = {got}, expected {expected}")


def measure(clients: list[Client], urls: Sequence[str], rounds: int, refused: bool = False) -> None:
    for client in clients:  # warm-up, untimed
        check(client.name, client.run(urls), urls, refused)
    for round_number in range(rounds):
        shift = round_number % len(clients)
        for client in clients[shift:] + clients[:shift]:
            started = time.perf_counter()
            tally = client.run(urls)
            client.samples.append((time.perf_counter() - started) / len(urls) * 1e6)
            check(client.name, tally, urls, refused)


def table(clients: list[Client], target: float | None) -> tuple[str, dict[str, Any]]:
    reference = Stats(tuple(clients[0].samples))
    rows = []
    data: dict[str, Any] = {}
    for client in clients:
        stats = Stats(tuple(client.samples))
        ratio = paired_ratio(stats, reference)
        rows.append(
            [
                client.name,
                f"{stats.median:,.1f}",
                f"{stats.p25:,.1f}–{stats.p75:,.1f}",
                f"{ratio.median:.2f}×",
            ]
        )
        data[client.name] = {"us": stats.as_json(2), "ratio": ratio.as_json(3)}
    text = markdown_table(["client", "µs/request", "p25–p75", "× reference"], rows)
    if target is not None:
        text += f"\n\nTarget: the curlx client at most {target}× the reference."
    return text, data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args(argv)
    settings = (
        Settings(rounds=2, sequential=200, urls=300)
        if args.quick
        else Settings(rounds=7, sequential=2000, urls=2000)
    )
    if args.rounds:
        settings = dataclasses.replace(settings, rounds=args.rounds)
    drop_proxy_variables()
    loop: asyncio.AbstractEventLoop
    if args.loop == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    notes: list[str] = []
    versions: dict[str, str] = {}
    binary = ensure_nginx()
    start_load = load_average()
    report: dict[str, Any] = {
        "when": utc_now(),
        "machine": machine(),
        "loop": args.loop,
        "nginx": nginx_version(binary),
        "pycurl": pycurl.version,
        "settings": dataclasses.asdict(settings),
    }
    out: list[str] = [f"# Async benchmark ({args.loop} loop, {utc_now()})", ""]
    with ExitStack() as stack, sigterm_as_interrupt():
        server = stack.enter_context(
            Nginx(
                binary,
                {FILE_NAME: b"x" * BODY_SIZE},
                workers=2,
                worker_connections=WORKER_CONNECTIONS,
            )
        )
        url = server.url(FILE_NAME)

        sequential = [
            Client(REFERENCE_SEQ, on_loop(loop, raw_perform_loop)),
            Client("curlx.AsyncSession.get", on_loop(loop, async_session_loop)),
            Client("curlx.Session.get (sync)", sync_session_loop),
        ]
        measure(sequential, [url] * settings.sequential, settings.rounds)
        text, report["sequential"] = table(sequential, TARGETS["sequential"])
        out += ["## Sequential GET, 1 KiB, kept-alive connection", "", text, ""]

        urls = [f"{url}?i={i}" for i in range(settings.urls)]
        crawl = [
            Client(REFERENCE_CRAWL, on_loop(loop, raw_async_crawl)),
            Client("curlx.afetch_many", on_loop(loop, afetch_many_crawl)),
            Client("curlx.fetch_many (sync)", curlx_fetch_many),
            Client("raw sync CurlMulti loop", raw_curl_multi),
        ]
        for module, make in (
            ("aiohttp", aiohttp_client),
            ("httpx", httpx_client),
            ("curl_cffi.requests", curl_cffi_client),
        ):
            if peer(module, notes, versions):
                made = make(loop)
                crawl.append(Client(made.name, made.crawl))
        measure(crawl, urls, settings.rounds)
        text, report["crawl"] = table(crawl, TARGETS["crawl"])
        out += [f"## Crawl: {settings.urls} URLs, 1 KiB, concurrency {CONCURRENCY}", "", text, ""]

        closed = closed_port_below_ephemeral()
        refused_urls = [f"http://127.0.0.1:{closed}/x?i={i}" for i in range(settings.urls)]
        refused = [
            Client(REFERENCE_CRAWL, on_loop(loop, raw_async_crawl)),
            Client("curlx.afetch_many", on_loop(loop, afetch_many_crawl)),
            Client("curlx.fetch_many (sync)", curlx_fetch_many),
        ]
        measure(refused, refused_urls, settings.rounds, refused=True)
        text, report["refused"] = table(refused, None)
        out += [f"## Error path: {settings.urls} refused URLs, concurrency {CONCURRENCY}", "", text]
    loop.close()
    end_load = load_average()
    report["versions"] = versions
    report["notes"] = notes
    report["load"] = {"start": start_load, "end": end_load}
    out += ["", f"Load average: {start_load} at the start, {end_load} at the end."]
    for note in [*notes, load_note(end_load)]:
        if note:
            out.append(f"Note: {note}")
    print("\n".join(out))
    write_json(RESULTS_PATH, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
