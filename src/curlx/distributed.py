"""Crawls on a Dask cluster: sharded by host, exactly one result per URL, one merged Report.

```python
from dask.distributed import Client
import curlx.distributed

with Client("tcp://scheduler:8786") as client:
    report = curlx.distributed.crawl(
        curlx.distributed.files("urls-1.txt", "urls-2.txt"),
        client=client, shards=64, per_host=4, concurrency=50, out="/shared/crawl",
    )
print(report.render())
```

Every URL goes to shard ``crc32(key) % shards``, where the key is its host (or, with
``partition="domain"``, its registrable domain), so each host is crawled by one shard on one
worker and `per_host` holds across the whole cluster without a shared lock. Each shard writes
``out/shard-NNNNN.jsonl`` (one JSON line per URL, as ``curlx crawl --jsonl``) under a temporary
name and renames it into place, so a shard that Dask runs again after losing a worker replaces
its output: the files hold every input URL exactly once. A worker lost mid-shard means the
URLs that shard had fetched are fetched again (exactly once out, at least once on the wire).

`source` is an iterable of URLs for small jobs (grouped by shard here, sent with the tasks), or
`files(...)` for big ones: then the tasks carry file paths and byte ranges only, and the
workers read the files themselves, so `out` and the input files must be on a file system every
worker sees (NFS, a shared volume) at the same path. Needs the ``dask`` extra:
``pip install 'pycurlx[dask]'``.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import uuid
from collections.abc import Generator, Iterable
from typing import Any, Final

try:
    from distributed import Client, Future, as_completed
except ImportError as exc:  # pragma: no cover  (the dask extra is installed for the tests)
    raise ImportError(
        "curlx.distributed runs on Dask distributed, which is not installed: "
        "pip install 'pycurlx[dask]'",
        name=exc.name,
    ) from exc

from ._exceptions import InvalidRequest, InvalidSetting
from ._fetch import CONCURRENCY, fetch_many
from ._prepare import DEFAULT_TIMEOUT, TimeoutTypes
from ._report import Report
from ._retry import Retry
from ._shards import (
    CrawlSettings,
    Piece,
    Shard,
    crawl_shard,
    partition_key,
    pieces,
    shard_of,
    split_piece,
)

__all__ = ["PIECE_SIZE", "Files", "Shard", "crawl", "crawl_shards", "files"]

PIECE_SIZE: Final = 64 * 1024 * 1024
"""The bytes of input one split task reads (a piece ends at the end of a line)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Files:
    """Files of URLs (one per line; blank lines and ``#`` comments skipped), read by the
    workers in pieces of `piece_size` bytes."""

    paths: tuple[str, ...]
    piece_size: int = PIECE_SIZE


def files(*paths: str | os.PathLike[str], piece_size: int = PIECE_SIZE) -> Files:
    """A crawl source of files of URLs: ``crawl(files("a.txt", "b.txt"), ...)``."""
    if isinstance(piece_size, bool) or not isinstance(piece_size, int) or piece_size < 1:
        raise InvalidSetting(f"piece_size={piece_size!r} must be a whole number of bytes >= 1.")
    if not paths:
        raise InvalidRequest("files() needs at least one path.")
    return Files(tuple(os.path.abspath(os.fspath(p)) for p in paths), piece_size)


def crawl(
    source: Iterable[str] | Files,
    *,
    client: Client,
    shards: int,
    out: str | os.PathLike[str],
    per_host: int | None = None,
    concurrency: int = CONCURRENCY,
    retry: Retry | int | None = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    partition: str = "host",
    **options: Any,
) -> Report:
    """Crawl every URL of `source` on the cluster of `client`; the shards' Reports merged.

    The keywords are `crawl_shards`'s; this waits for every shard and adds their Reports up.
    """
    report = Report()
    for shard in crawl_shards(
        source,
        client=client,
        shards=shards,
        out=out,
        per_host=per_host,
        concurrency=concurrency,
        retry=retry,
        timeout=timeout,
        partition=partition,
        **options,
    ):
        report = report + shard.report
    return report


def crawl_shards(
    source: Iterable[str] | Files,
    *,
    client: Client,
    shards: int,
    out: str | os.PathLike[str],
    per_host: int | None = None,
    concurrency: int = CONCURRENCY,
    retry: Retry | int | None = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    partition: str = "host",
    **options: Any,
) -> Generator[Shard, None, None]:
    """Crawl `source` on the cluster; yield each `Shard` as it finishes (in no set order).

    `shards` is how many parts the URLs are split into (more shards than worker threads
    balance the load; each shard is one task). `out` is a directory, created if missing,
    that must not hold shard files already. `per_host`, `concurrency`, `retry`, `timeout`
    and the other keywords (Session options: `headers`, `verify`, `proxy`...) are
    `fetch_many`'s, applied in each shard: `concurrency` is per shard, so a cluster runs up
    to ``concurrency x worker threads`` transfers at once. `partition` is ``"host"`` or
    ``"domain"`` (every host of one registrable domain in the same shard).

    Bad settings are refused at the call, before any task runs; the tasks start when the
    loop does. Leaving the loop early (or an error in a shard) cancels the shards not
    finished yet; the shard files already in `out` stay.
    """
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise InvalidSetting(f"shards={shards!r} must be a whole number >= 1.")
    if isinstance(source, str | bytes):
        raise InvalidRequest(
            "source is one string: pass a list of URLs, or files(path) for a file of URLs."
        )
    partition_key(partition)
    settings = CrawlSettings(concurrency, per_host, timeout, retry, dict(options))
    for _ in fetch_many([], **_fetch_keywords(settings)):  # bad settings: refused here
        pass  # pragma: no cover
    folder = _prepare_out(os.path.abspath(os.fspath(out)))
    return _crawl(source, client, shards, folder, partition, settings)


def _crawl(
    source: Iterable[str] | Files,
    client: Client,
    shards: int,
    folder: str,
    partition: str,
    settings: CrawlSettings,
) -> Generator[Shard, None, None]:
    run = uuid.uuid4().hex[:12]
    spool = os.path.join(folder, f".spool-{run}")
    pending: set[Future[Shard]] = set()
    try:
        if isinstance(source, Files):
            os.mkdir(spool)
            ranges = _split(client, run, source, spool, shards, partition)
            for index in range(shards):
                mine = [(path, offsets[index], offsets[index + 1]) for path, offsets in ranges]
                pending.add(_submit(client, run, index, None, mine, folder, settings))
        else:
            key = partition_key(partition)
            groups: list[list[str]] = [[] for _ in range(shards)]
            for url in source:
                if not isinstance(url, str):
                    raise InvalidRequest(
                        f"source holds {url!r} ({type(url).__name__}): a distributed crawl "
                        "takes URLs as strings."
                    )
                groups[shard_of(key(url), shards)].append(url)
            for index, group in enumerate(groups):
                pending.add(_submit(client, run, index, group, [], folder, settings))
        for future in as_completed(list(pending), loop=client.loop):
            shard = future.result()
            pending.discard(future)
            future.release()  # the cluster need not keep the shard's Report any longer
            yield shard
        _clean(folder)
    finally:
        client.cancel(list(pending))
        shutil.rmtree(spool, ignore_errors=True)


def _fetch_keywords(settings: CrawlSettings) -> dict[str, Any]:
    return {
        "concurrency": settings.concurrency,
        "per_host": settings.per_host,
        "timeout": settings.timeout,
        "retry": settings.retry,
        **settings.options,
    }


def _prepare_out(folder: str) -> str:
    """Create `folder` if need be; refuse one that holds shard files of an earlier crawl."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InvalidSetting(
            f"out={folder!r}: cannot create the directory ({exc.strerror}); choose a directory "
            "every worker can write."
        ) from exc
    found = sorted(glob.glob(os.path.join(folder, "shard-*.jsonl")))
    if found:
        raise InvalidSetting(
            f"out={folder!r} already holds {len(found)} shard file(s) ({os.path.basename(found[0])}"
            "...) of another crawl: choose an empty directory, or move those files away."
        )
    return folder


def _split(
    client: Client, run: str, source: Files, spool: str, shards: int, partition: str
) -> list[tuple[str, list[int]]]:
    """Split every piece of the input files into the spool; each spool file with the offsets
    of its shards' lines."""
    parts: list[Piece] = pieces(source.paths, source.piece_size)
    paths = [os.path.join(spool, f"piece-{k:06d}.txt") for k in range(len(parts))]
    futures = [
        client.submit(
            split_piece, part, path, shards, partition, key=f"curlx-split-{run}-{k}", pure=False
        )
        for k, (part, path) in enumerate(zip(parts, paths, strict=True))
    ]
    try:
        offsets: list[list[int]] = client.gather(futures)
    finally:
        client.cancel([f for f in futures if not f.done()])
    return list(zip(paths, offsets, strict=True))


def _submit(
    client: Client,
    run: str,
    index: int,
    urls: list[str] | None,
    ranges: list[tuple[str, int, int]],
    folder: str,
    settings: CrawlSettings,
) -> Future[Shard]:
    return client.submit(
        crawl_shard,
        index,
        urls,
        ranges,
        folder,
        settings,
        key=f"curlx-crawl-{run}-{index}",
        pure=False,
    )


def _clean(folder: str) -> None:
    """Every shard is in place: remove what killed tasks left half-written."""
    for leftover in glob.glob(os.path.join(folder, ".shard-*.tmp")):
        os.unlink(leftover)


def _local_cluster(workers: int) -> Client:
    """A client of a new cluster of `workers` processes on this machine (one thread each);
    closing the client closes the cluster."""
    return Client(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        set_as_default=False,
    )
