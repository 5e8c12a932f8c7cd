"""afetch_many() on the crawl farm (see `support.farm`), on asyncio's loop and on uvloop's:
the same counts as fetch_many, limits, retries that block nothing, lazy input (sync or
async), and closing on break, cancellation and input failures."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.farm import HOSTS, Farm
from support.measure import open_fds
from support.pki import PKI
from support.polling import until
from test_crawl_cli import ROOT, run, url_file
from test_fetch import (
    LIMITS,
    SECRET,
    Source,
    farm_plan,
    outcome,
    quiesce,
    redacted,
    repeat,
)

import curlx

pytestmark = pytest.mark.timeout(120)
RUNS = itertools.count()


@pytest.fixture
def quiet_farm(pki: PKI) -> Iterator[Farm]:
    """A farm of its own, for counting file descriptors: no other test's connections to it."""
    with Farm(pki) as servers:
        yield servers


async def collect(results: AsyncIterator[curlx.Result]) -> list[curlx.Result]:
    return [result async for result in results]


@pytest.mark.asyncio
async def test_the_farm_crawl_gives_exactly_the_sync_crawls_counts(farm: Farm) -> None:
    plan = farm_plan(farm)
    assert len(plan.urls) == 520
    farm.reset_peaks()
    source = Source(plan.urls)
    report = curlx.Report()
    results: list[curlx.Result] = []
    async for result in curlx.afetch_many(source, concurrency=20, timeout=LIMITS, max_redirects=3):
        results.append(result)
        report.add(result)
    assert Counter(r.url for r in results) == Counter(redacted(u) for u in plan.urls)
    assert Counter(outcome(r) for r in results) == plan.expected
    assert source.drained and farm.max_active <= 20
    sync = curlx.Report().extend(
        curlx.fetch_many(plan.urls, concurrency=20, timeout=LIMITS, max_redirects=3)
    )
    assert report.to_dict()["by_code"].keys() == sync.to_dict()["by_code"].keys()
    counts = report.to_dict()
    expected = sync.to_dict()
    for key in ("by_status", "by_category", "by_code"):
        assert {k: v["count"] for k, v in counts[key].items()} == {
            k: v["count"] for k, v in expected[key].items()
        }
    assert counts["by_host"] == expected["by_host"]
    assert (report.total, report.ok, report.http_errors, report.errors) == (520, 360, 80, 80)
    kinds = {type(r.error) for r in results if r.error is not None}
    assert kinds == {
        curlx.CouldntConnect,
        curlx.PeerFailedVerification,
        curlx.ReadTimeout,
        curlx.TooManyRedirects,
        curlx.RecvError,
    }
    assert SECRET not in "".join(str(r.error) for r in results)


@pytest.mark.asyncio
async def test_an_async_iterable_as_input(farm: Farm) -> None:
    pulled = 0

    async def urls() -> AsyncIterator[str]:
        nonlocal pulled
        for i in range(60):
            if i % 10 == 0:
                await asyncio.sleep(0.001)  # an input that arrives over time
            pulled += 1
            yield farm.healthy[i % 3].url(f"/async-input/{i}")

    results = await collect(curlx.afetch_many(urls(), concurrency=5, timeout=LIMITS))
    assert pulled == 60
    assert sorted(r.url for r in results) == sorted(
        farm.healthy[i % 3].url(f"/async-input/{i}") for i in range(60)
    )
    assert all(r.status_code == 200 for r in results)


@pytest.mark.asyncio
async def test_limits_hold_at_the_servers(farm: Farm) -> None:
    servers = [*farm.healthy, farm.routes]  # routes shares healthy[0]'s host
    urls = [servers[i % 4].url(f"/slow?ms=30&n={i}") for i in range(120)]
    farm.reset_peaks()
    results = await collect(curlx.afetch_many(urls, concurrency=20, per_host=3, timeout=LIMITS))
    assert Counter(r.status_code for r in results) == {200: 120}
    for host in HOSTS:
        assert 1 <= farm.host_max_active[host] <= 3, host
    assert 4 <= farm.max_active <= 9
    farm.reset_peaks()
    results = await collect(curlx.afetch_many(urls[:60], concurrency=6, timeout=LIMITS))
    assert len(results) == 60 and 2 <= farm.max_active <= 6


@pytest.mark.asyncio
async def test_a_waiting_retry_blocks_neither_the_crawl_nor_the_loop(farm: Farm) -> None:
    key = f"abackoff-{next(RUNS)}"  # the farm outlives one test: a key of this run's own
    delayed = farm.route(f"/flaky/{key}?fail=1")
    others = [farm.healthy[i % 3].url(f"/slow?ms=40&an={i}") for i in range(40)]
    arrivals: list[tuple[int, curlx.Result]] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick = asyncio.ensure_future(ticker())
    async for result in curlx.afetch_many(
        [delayed, *others],
        concurrency=8,
        retry=curlx.Retry(total=1, backoff_factor=0.5),
        timeout=LIMITS,
    ):
        arrivals.append((farm.flaky[key], result))
    tick.cancel()
    assert len(arrivals) == 41
    late = arrivals[-1][1]
    assert late.url == delayed and late.ok and late.attempts == 2 and late.elapsed >= 0.5
    assert len([r for seen, r in arrivals[:-1] if seen == 1]) >= 30
    assert ticks >= 20


@pytest.mark.asyncio
async def test_input_is_read_lazily_and_break_closes_everything(quiet_farm: Farm) -> None:
    warm = [s.url("/warm") for s in quiet_farm.healthy] * 4
    assert len(await collect(curlx.afetch_many(warm, concurrency=4, timeout=LIMITS))) == 12
    baseline = quiesce(quiet_farm)
    source = Source(repeat(quiet_farm.healthy[0].url("/lazy"), 100_000))
    async with contextlib.aclosing(
        curlx.afetch_many(source, concurrency=10, timeout=LIMITS)
    ) as results:
        received = 0
        async for result in results:
            assert result.status_code == 200
            received += 1
            if received == 25:
                break
    assert source.pulled <= 10 * 5 + 25 + 10 * 2
    assert not source.drained
    assert quiesce(quiet_farm) == baseline


@pytest.mark.asyncio
async def test_cancelling_the_consumer_closes_everything(quiet_farm: Farm) -> None:
    warm = [s.url("/warm") for s in quiet_farm.healthy] * 4
    assert len(await collect(curlx.afetch_many(warm, concurrency=4, timeout=LIMITS))) == 12
    baseline = quiesce(quiet_farm)
    urls = [quiet_farm.stall_url] * 5 + [quiet_farm.healthy[1].url(f"/{i}") for i in range(50)]
    task = asyncio.ensure_future(collect(curlx.afetch_many(urls, concurrency=8, timeout=LIMITS)))
    await until(lambda: quiet_farm.stall.open_connections == 5, "the five stalls are in flight")
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    gc.collect()
    assert quiesce(quiet_farm) == baseline
    assert open_fds() == baseline


@pytest.mark.asyncio
async def test_a_failing_input_ends_the_crawl_with_its_error(farm: Farm) -> None:
    def broken() -> Iterator[str]:
        yield farm.healthy[0].url("/before")
        raise ValueError("the URL file is unreadable")

    with pytest.raises(ValueError, match="unreadable"):
        await collect(curlx.afetch_many(broken(), timeout=LIMITS))

    async def abroken() -> AsyncIterator[str]:
        yield farm.healthy[0].url("/before")
        raise ValueError("the queue broke")

    with pytest.raises(ValueError, match="queue broke"):
        await collect(curlx.afetch_many(abroken(), timeout=LIMITS))


@pytest.mark.asyncio
async def test_bad_settings_are_refused_when_called() -> None:
    with pytest.raises(curlx.InvalidSetting, match="concurrency=0"):
        curlx.afetch_many([], concurrency=0)
    with pytest.raises(curlx.InvalidSetting, match="per_host=0"):
        curlx.afetch_many([], per_host=0)
    assert await collect(curlx.afetch_many([])) == []


def test_example_async_crawl(farm: Farm, tmp_path: Path) -> None:
    urls = [
        *(farm.healthy[i % 3].url(f"/aexample/{i}") for i in range(12)),
        farm.route("/status/404"),
        farm.refused_url,
        farm.tls_url,
    ]
    done = run([str(ROOT / "examples" / "async_crawl.py"), str(url_file(tmp_path, urls))])
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("200 ") for line in done.stdout.splitlines()) == 12
    assert "404 " + farm.route("/status/404") in done.stdout
    assert f"FAIL connect      CURLE_COULDNT_CONNECT {farm.refused_url}" in done.stderr
    assert "CURLE_PEER_FAILED_VERIFICATION" in done.stderr
    assert "15 URLs" in done.stdout
    assert done.stdout.count("again: ") == 3 and ": 200, " in done.stdout
