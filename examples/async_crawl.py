"""An asyncio crawler: fetch many URLs concurrently, and fetch a few more with one AsyncSession.

Run: python examples/async_crawl.py URLS.txt
Each line of URLS.txt is a URL. The crawl prints one line per URL and the report; then an
AsyncSession fetches the first three URLs again, side by side, as an application would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

import curlx


async def crawl(urls: list[str]) -> curlx.Report:
    report = curlx.Report()
    retry = curlx.Retry(total=2, backoff_factor=0.2)  # only what each error's hint allows
    results = curlx.afetch_many(urls, concurrency=50, per_host=6, timeout=15, retry=retry)
    async with contextlib.aclosing(results):  # leaving the loop early closes everything at once
        async for result in results:
            report.add(result)
            if result.error is not None:
                error = result.error
                print(f"FAIL {error.category.value:<12} {error.name} {result.url}", file=sys.stderr)
            else:
                print(f"{result.status_code} {result.url}")
    return report


async def again(urls: list[str]) -> None:
    async with curlx.AsyncSession(timeout=15, max_connections_per_host=6) as session:
        outcomes = await asyncio.gather(*(session.get(u) for u in urls), return_exceptions=True)
    for url, outcome in zip(urls, outcomes, strict=True):
        if isinstance(outcome, curlx.CurlError):
            print(f"again: {url}: {outcome.name} ({outcome.retry.reason})")
        elif isinstance(outcome, curlx.Response):
            print(f"again: {url}: {outcome.status_code}, {len(outcome.content)} bytes")
        else:
            raise outcome


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("urls", help="file with one URL per line")
    args = parser.parse_args(argv)
    with open(args.urls, encoding="utf-8") as lines:
        urls = [u.strip() for u in lines if u.strip() and not u.lstrip().startswith("#")]
    report = await crawl(urls)
    print(report.render())
    await again(urls[:3])
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
