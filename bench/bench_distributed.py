"""Distributed crawl benchmark: ``curlx.distributed`` on a local Dask cluster against
single-process ``curlx.fetch_many`` over the same URLs, and what one shard costs.

Run from the repository root with the dask extra installed (nginx as for bench_crawl.py)::

    pip install -e '.[dask]'
    python bench/bench_distributed.py            # about 2 minutes on 2 cores
    python bench/bench_distributed.py --quick    # about 30 seconds, to check that it works

One nginx (2 workers, a 1 KiB static file) listens on 16 loopback addresses (127.0.0.1 to
127.0.0.16, one port), so the URLs belong to 16 hosts and spread over the shards. Then:

1. **throughput**: the same URLs (``/f1k?i=N`` over the 16 hosts) crawled as ``curlx crawl
   --jsonl`` does it, by ``fetch_many`` in this process (concurrency 50, a Report, one JSON
   line per URL to a file), and by ``curlx.distributed.crawl`` on a LocalCluster of 1 and of
   2 worker processes (one thread each; 8 shards, concurrency 50 per shard), from a list of
   URLs, and on 2 workers also from a file (``files()``: split by the workers in 64 KiB
   pieces, then crawled). Rounds interleave them; the clusters are started before the timed
   region (their start is reported on its own); every output goes to a temp dir.
2. **per-shard overhead**, on a 1-worker cluster: (a) 40 empty shards one after another:
   a task's round trip (submit, schedule, run, write and rename an empty file, return an
   empty Report), (b) a 10,000-URL shard, 5 times with its URLs sent in the task (a list
   source) and 5 times read by the worker from a byte range of a spool file (a files()
   source): its time on the worker against the client's wall time for it, the difference
   being the shard's overhead, (c) pickling a shard's Report (16 hosts) and merging two.

On two cores nginx, the workers and this process share the CPUs: the figures show the
overhead of the distributed path, not scaling. A Markdown report goes to stdout and the
numbers to bench/results/distributed.json.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import drop_proxy_variables, load_average, machine, utc_now, write_json
from dask.distributed import Client, LocalCluster
from nginx import Nginx, ensure_nginx, nginx_version

import curlx
import curlx.distributed
from curlx._records import record_line
from curlx._shards import CrawlSettings, Piece, crawl_shard, split_piece

HOSTS = [f"127.0.0.{i}" for i in range(1, 17)]
BODY = b"x" * 1024
RESULTS = Path(__file__).resolve().parent / "results" / "distributed.json"
TIMEOUT = curlx.Timeout(connect=10, read=10)


class MultiHostNginx(Nginx):
    """nginx listening on every address of `HOSTS`, on one port."""

    def config(self) -> str:
        text = super().config()
        line = next(x for x in text.splitlines() if x.strip().startswith("listen 127.0.0.1:"))
        lines = [line.replace("127.0.0.1:", f"{host}:") for host in HOSTS]
        return text.replace(line, "\n".join(lines))


def urls(server: Nginx, count: int) -> list[str]:
    return [f"http://{HOSTS[i % len(HOSTS)]}:{server.port}/f1k?i={i}" for i in range(count)]


def cluster(workers: int) -> tuple[LocalCluster, Client, float]:
    began = time.perf_counter()
    local = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(local, set_as_default=False)
    client.wait_for_workers(workers, timeout=60)
    return local, client, time.perf_counter() - began


RECORD_BYTES: list[float] = []  # the JSON lines' bytes per URL, from the single-process crawl


def single(todo: list[str]) -> float:
    """What ``curlx crawl --jsonl`` does: fetch_many, a Report, one JSON line per URL."""
    with tempfile.TemporaryDirectory(prefix="curlx-bench-dist-") as out:
        began = time.perf_counter()
        report = curlx.Report()
        with open(os.path.join(out, "out.jsonl"), "w", encoding="utf-8") as lines:
            for result in curlx.fetch_many(todo, concurrency=50, timeout=TIMEOUT):
                report.add(result)
                lines.write(record_line(result))
        took = time.perf_counter() - began
        RECORD_BYTES.append(os.path.getsize(os.path.join(out, "out.jsonl")) / len(todo))
    assert report.ok == len(todo), report.render()
    return took


def distributed(client: Client, todo: list[str], shards: int, from_file: bool = False) -> float:
    """The crawl on the cluster; from a list of URLs, or (`from_file`) from a file of them,
    split in pieces of 64 KiB by the workers (the file is written before the clock starts)."""
    with tempfile.TemporaryDirectory(prefix="curlx-bench-dist-") as out:
        source: list[str] | curlx.distributed.Files = todo
        if from_file:
            path = os.path.join(out, "urls.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(todo) + "\n")
            source = curlx.distributed.files(path, piece_size=64 * 1024)
        began = time.perf_counter()
        report = curlx.distributed.crawl(
            source,
            client=client,
            shards=shards,
            out=os.path.join(out, "shards"),
            concurrency=50,
            timeout=TIMEOUT,
        )
        took = time.perf_counter() - began
    assert report.ok == len(todo), report.render()
    return took


def throughput(server: Nginx, count: int, rounds: int) -> dict[str, Any]:
    todo = urls(server, count)
    clusters = {n: cluster(n) for n in (1, 2)}
    times: dict[str, list[float]] = {
        "fetch_many": [],
        "1 worker": [],
        "2 workers": [],
        "2 workers, files()": [],
    }
    try:
        single(todo[:500])  # warm-up, untimed
        for _, client, _ in clusters.values():
            distributed(client, todo[:500], 8)
        for _ in range(rounds):
            times["fetch_many"].append(single(todo))
            for n, (_, client, _) in clusters.items():
                times[f"{n} worker{'s' if n > 1 else ''}"].append(distributed(client, todo, 8))
            times["2 workers, files()"].append(distributed(clusters[2][1], todo, 8, True))
    finally:
        for local, client, _ in clusters.values():
            client.close()
            local.close()
    return {
        "urls": count,
        "rounds": rounds,
        "cluster_start_s": {n: round(c[2], 2) for n, c in clusters.items()},
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "urls_per_s": {k: round(count / statistics.median(v)) for k, v in times.items()},
    }


def overhead(server: Nginx, shard_urls: int, empties: int) -> dict[str, Any]:
    local, client, _ = cluster(1)
    settings = CrawlSettings(50, None, TIMEOUT, None, {})
    try:
        with tempfile.TemporaryDirectory(prefix="curlx-bench-dist-") as out:
            client.submit(crawl_shard, 0, [], [], out, settings, pure=False).result()  # warm
            began = time.perf_counter()
            for index in range(empties):
                client.submit(crawl_shard, index, [], [], out, settings, pure=False).result()
            empty = (time.perf_counter() - began) / empties
            todo = urls(server, shard_urls)
            spool = os.path.join(out, "spool.txt")
            with open(spool, "wb") as f:
                f.write(("\n".join(todo) + "\n").encode())
            ranges = [(spool, 0, os.path.getsize(spool))]
            # A 10,000-URL shard, 5 times each way, interleaved: its URLs sent with the task
            # (a list source) or read by the worker from a byte range (a files() source).
            walls: dict[str, list[float]] = {"list": [], "range": []}
            crawls: dict[str, list[float]] = {"list": [], "range": []}
            for index in range(5):
                for way in ("list", "range"):
                    given = (todo, []) if way == "list" else (None, ranges)
                    began = time.perf_counter()
                    shard = client.submit(
                        crawl_shard, 100 + index, *given, out, settings, pure=False
                    ).result()
                    walls[way].append(time.perf_counter() - began)
                    crawls[way].append(shard.read + shard.crawl + shard.write)
                    assert shard.report.ok == shard_urls
                    os.unlink(shard.path)
        report = shard.report
        data = pickle.dumps(report)
        began = time.perf_counter()
        for _ in range(1000):
            pickle.loads(pickle.dumps(report))
        pickling = (time.perf_counter() - began) / 1000
        began = time.perf_counter()
        for _ in range(1000):
            report + report
        merge = (time.perf_counter() - began) / 1000
    finally:
        client.close()
        local.close()
    found: dict[str, Any] = {
        "empty_shard_round_trip_ms": round(empty * 1000, 2),
        "shard_urls": shard_urls,
    }
    for way in ("list", "range"):
        wall, crawl = statistics.median(walls[way]), statistics.median(crawls[way])
        extra = [w - c for w, c in zip(walls[way], crawls[way], strict=True)]
        found[f"{way}: shard_wall_s"] = round(wall, 3)
        found[f"{way}: shard_on_worker_s"] = round(crawl, 3)
        found[f"{way}: shard_overhead_ms"] = round(statistics.median(extra) * 1000, 2)
        found[f"{way}: overhead_share"] = round(statistics.median(extra) / crawl, 4)
    found["empty_round_trip_share"] = round(empty / statistics.median(crawls["range"]), 4)
    return found | {
        "report_pickle_bytes": len(data),
        "report_pickle_roundtrip_us": round(pickling * 1e6, 1),
        "report_merge_us": round(merge * 1e6, 1),
    }


def split_speed(count: int) -> dict[str, Any]:
    """MB/s of one split task (read a piece, key and group its URLs, write the spool), run
    here on a file of `count` URLs over ``count / 20`` host names, as one piece."""
    with tempfile.TemporaryDirectory(prefix="curlx-bench-dist-") as folder:
        path = os.path.join(folder, "urls.txt")
        hosts = count // 20  # 20 URLs per host name, as docs/scaling.md assumes
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(f"https://www.host{i % hosts}.example/p?id={i}\n" for i in range(count))
        size = os.path.getsize(path)
        began = time.perf_counter()
        split_piece(Piece(path, 0, size), os.path.join(folder, "spool.txt"), 4000, "host")
        took = time.perf_counter() - began
        began = time.perf_counter()
        split_piece(Piece(path, 0, size), os.path.join(folder, "spool2.txt"), 4000, "domain")
        took_domain = time.perf_counter() - began
    return {
        "urls": count,
        "bytes": size,
        "host_mb_per_s": round(size / took / 1e6, 1),
        "domain_mb_per_s": round(size / took_domain / 1e6, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer URLs and rounds")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    args = parser.parse_args(argv)
    drop_proxy_variables()
    binary = ensure_nginx()
    count, rounds = (4000, 1) if args.quick else (20000, args.rounds)
    load_before = load_average()
    with MultiHostNginx(binary, {"f1k": BODY}, workers=2, worker_connections=4096) as server:
        speed = throughput(server, count, rounds)
        cost = overhead(server, 10000, 10 if args.quick else 40)
    cost["jsonl_bytes_per_url"] = round(statistics.median(RECORD_BYTES), 1)
    split = split_speed(100000 if args.quick else 500000)
    results = {
        "when": utc_now(),
        "machine": machine(),
        "nginx": nginx_version(binary),
        "load_average": [load_before, load_average()],
        "throughput": speed,
        "overhead": cost,
        "split": split,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    write_json(RESULTS, results)
    print(f"## Distributed crawl ({results['when']}, {os.cpu_count()} CPUs)\n")
    print(f"{count} URLs (1 KiB, 16 hosts), median of {rounds} round(s):\n")
    print("| crawl | URLs/s | seconds per round |")
    print("| --- | ---: | --- |")
    for name, per_second in speed["urls_per_s"].items():
        rounds_s = ", ".join(f"{t:.2f}" for t in speed["seconds"][name])
        print(f"| {name} | {per_second:,} | {rounds_s} |")
    starts = speed["cluster_start_s"]
    print(f"\nLocalCluster start: {starts[1]} s (1 worker), {starts[2]} s (2 workers)\n")
    print("| per shard | value |")
    print("| --- | ---: |")
    for key, value in cost.items():
        print(f"| {key} | {value} |")
    print(
        f"\nsplit task (one piece of {split['bytes'] / 1e6:.0f} MB, {split['urls']:,} URLs, "
        f"4000 shards): {split['host_mb_per_s']} MB/s by host, "
        f"{split['domain_mb_per_s']} MB/s by domain"
    )
    print(f"\nload average before/after: {results['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
