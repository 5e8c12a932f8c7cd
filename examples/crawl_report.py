"""A crawler's loop: fetch many URLs concurrently, keep the pages, count what failed and why.

Run: python examples/crawl_report.py URLS.txt [--shard-report OUT.json]
Each line of URLS.txt is a URL. Reports from several shards (machines, processes) combine:
``curlx.Report.from_dict(a) + curlx.Report.from_dict(b)``.
"""

from __future__ import annotations

import argparse
import json
import sys

import curlx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("urls", help="file with one URL per line")
    parser.add_argument("--shard-report", help="write this shard's report as JSON here")
    args = parser.parse_args(argv)

    report = curlx.Report()
    retry = curlx.Retry(total=2, backoff_factor=0.2)  # only what each error's hint allows
    with open(args.urls, encoding="utf-8") as lines:
        urls = (u.strip() for u in lines if u.strip() and not u.lstrip().startswith("#"))
        for result in curlx.fetch_many(urls, concurrency=50, per_host=6, timeout=15, retry=retry):
            report.add(result)
            if result.ok and result.response is not None:
                size = len(result.response.content)
                print(f"{result.status_code} {result.url} ({size} bytes)")
            elif result.error is not None:
                # One line per failure: its category, the error's name and the URL (no credentials).
                error = result.error
                print(f"FAIL {error.category.value:<12} {error.name} {result.url}", file=sys.stderr)

    print(report.render())
    if args.shard_report:
        with open(args.shard_report, "w", encoding="utf-8") as out:
            json.dump(report.to_dict(), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
