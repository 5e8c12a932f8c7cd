"""Soak, short version: thousands of failing requests leave memory and file descriptors flat.

10,000 failures through one Session and 10,000 through one fetch_many crawl, mixed: a refused
port, an unresolvable ``.invalid`` name and a server that resets every connection. After a
warm-up tenth, resident memory may grow by less than `RSS_GROWTH_KIB`, and once everything is
closed the process has exactly the file descriptors it had before. (bench/soak.py is the long
version.) Figures are printed with ``pytest -s``.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from support.measure import open_fds, rss_kib
from support.raw import RawServer, closed_port, reset_after_request

import curlx

REQUESTS = 10_000
WARM_UP = REQUESTS // 10
RSS_GROWTH_KIB = 10 * 1024
LIMITS = curlx.Timeout(connect=2, read=2, total=5)
"""Every request's timeout. Name lookups of .invalid normally fail at once; one that this
machine's resolver loses can end in a ResolveTimeout (still a DNSError)."""


@pytest.fixture(scope="module")
def targets() -> Iterator[list[tuple[str, type[curlx.CurlError]]]]:
    """(URL, the error class every request to it must give), for each kind of failure."""
    # Reset in the accept thread: no thread or memory per connection, so RSS stays flat.
    with RawServer(reset_after_request, backlog=128, threaded=False) as reset:
        yield [
            (f"http://127.0.0.1:{closed_port()}/refused", curlx.CouldntConnect),
            ("http://soak.curlx-tests.invalid/dns", curlx.DNSError),
            (reset.url("/reset"), curlx.RecvError),
        ]


def report(label: str, seconds: float, rss: list[int], fds: tuple[int, int]) -> None:
    print(
        f"\n{label}: {REQUESTS} failing requests in {seconds:.1f} s; RSS after warm-up "
        f"{rss[0] / 1024:.1f} MiB, at the end {rss[1] / 1024:.1f} MiB (growth "
        f"{(rss[1] - rss[0]) / 1024:+.2f} MiB); fds before {fds[0]}, after {fds[1]}"
    )


def test_session_soak(targets: list[tuple[str, type[curlx.CurlError]]]) -> None:
    gc.collect()
    fds_before = open_fds()
    rss: list[int] = []
    per_url: Counter[str] = Counter()
    started = time.monotonic()
    with curlx.Session(timeout=LIMITS) as session:
        for i in range(REQUESTS):
            url, expected = targets[i % len(targets)]
            try:
                session.get(url)
            except curlx.CurlError as error:
                assert isinstance(error, expected), (url, error)
                per_url[url] += 1
            else:
                raise AssertionError(f"{url} answered")
            if i + 1 == WARM_UP:
                gc.collect()
                rss.append(rss_kib())
        gc.collect()
        rss.append(rss_kib())
    seconds = time.monotonic() - started
    gc.collect()
    fds_after = open_fds()
    report("Session", seconds, rss, (fds_before, fds_after))
    assert sorted(per_url.values()) == sorted(len(range(i, REQUESTS, 3)) for i in range(3))
    assert rss[1] - rss[0] < RSS_GROWTH_KIB
    assert fds_after == fds_before


def test_fetch_many_soak(targets: list[tuple[str, type[curlx.CurlError]]]) -> None:
    gc.collect()
    fds_before = open_fds()
    expected = dict(targets)
    urls = (targets[i % len(targets)][0] for i in range(REQUESTS))
    rss: list[int] = []
    count = 0
    per_url: Counter[str] = Counter()
    started = time.monotonic()
    for result in curlx.fetch_many(urls, concurrency=10, timeout=LIMITS):
        assert result.response is None
        assert isinstance(result.error, expected[result.url]), (result.url, result.error)
        per_url[result.url] += 1
        count += 1
        if count == WARM_UP:
            gc.collect()
            rss.append(rss_kib())
    gc.collect()
    rss.append(rss_kib())
    seconds = time.monotonic() - started
    fds_after = open_fds()
    report("fetch_many", seconds, rss, (fds_before, fds_after))
    assert count == REQUESTS
    assert sorted(per_url.values()) == sorted(len(range(i, REQUESTS, 3)) for i in range(3))
    assert rss[1] - rss[0] < RSS_GROWTH_KIB
    assert fds_after == fds_before
