"""A crawl too big for one machine: the URLs of a file, sharded by host over a Dask cluster.

Run on a cluster (dask-scheduler and dask-worker running; FILE and OUT on a file system every
worker sees):

    python examples/distributed_crawl.py URLS.txt --scheduler tcp://HOST:8786 --out OUT

or on this machine, with a cluster of two worker processes it starts and stops itself:

    python examples/distributed_crawl.py URLS.txt --workers 2 --out OUT

Needs the dask extra: pip install 'pycurlx[dask]'. Every URL gets exactly one JSON line in
OUT/shard-*.jsonl, and the shards' Reports add up to one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dask.distributed import Client, LocalCluster

import curlx
import curlx.distributed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("urls", help="file with one URL per line")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="else: a local cluster's size")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--out", required=True, help="directory for the shards' JSON lines")
    args = parser.parse_args(argv)

    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    with client:
        report = curlx.Report()
        for shard in curlx.distributed.crawl_shards(
            curlx.distributed.files(args.urls),  # the workers read the file themselves
            client=client,
            shards=args.shards,
            out=args.out,
            per_host=4,  # holds over the whole cluster: each host is in one shard
            concurrency=20,  # per shard
            timeout=15,
            retry=curlx.Retry(total=2, backoff_factor=0.2),
        ):
            print(f"shard {shard.index}: {shard.report.total} URLs in {shard.crawl:.2f} s")
            report = report + shard.report
        if not args.scheduler:
            cluster.close()

    print(report.render())
    lines = [json.loads(line) for p in Path(args.out).glob("shard-*.jsonl") for line in open(p)]
    once = len({record["url"] for record in lines}) == len(lines)
    print(
        f"{report.total} URLs in {len(lines)} JSON lines, {'each URL once' if once else 'REPEATS'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
