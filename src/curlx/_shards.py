"""The parts of a distributed crawl that run on a worker, without Dask: which shard a URL
belongs to, the pieces a file of URLs is read in, and the two tasks (split a piece into its
shards, crawl one shard).

A crawl of files goes in two steps, and the scheduler only ever carries paths and byte ranges:

1. **split**: one task per piece of an input file (a path and a byte range, cut at line ends
   by fsspec's `read_block`, the function dask's own `read_bytes` uses) reads its lines,
   groups them by shard and writes them, shard after shard, to one spool file; it returns
   where each shard's lines start and end in that file (``shards + 1`` offsets).
2. **crawl**: one task per shard reads its byte range of every spool file, crawls those URLs
   with `fetch_many`, writes one JSON line per URL (`result_record`, as ``curlx crawl
   --jsonl`` does) to a temporary file, renames it into place, and returns the shard's Report.

Every file is written under a temporary name and renamed into place (`os.replace`), so a task
that runs again (Dask re-runs the tasks of a worker it lost) replaces its output instead of
adding to it: each URL ends up in exactly one shard file, exactly once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache, lru_cache
from typing import Any, BinaryIO, Final

from fsspec.utils import read_block

from ._exceptions import InvalidSetting
from ._fetch import fetch_many
from ._prepare import TimeoutTypes
from ._records import record_line, url_lines
from ._report import Report
from ._retry import Retry
from ._urls import host_of

__all__ = [
    "PARTITIONS",
    "CrawlSettings",
    "Piece",
    "Shard",
    "crawl_shard",
    "partition_key",
    "pieces",
    "shard_name",
    "shard_of",
    "split_piece",
]

PARTITIONS: Final = ("host", "domain")
"""What keeps URLs together in one shard: the host name, or the registrable domain."""

NEEDS_PSL: Final = (
    "partition='domain' needs the public suffix list of the publicsuffixlist package, which "
    "is not installed: pip install 'pycurlx[dask]' (or partition='host')"
)


# --- which shard ---------------------------------------------------------------------------


def shard_of(key: str, shards: int) -> int:
    """The shard of a partition key: crc32, the same in every process (`hash()` is salted)."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards


@cache
def _suffix_list() -> Any:
    """publicsuffixlist's parser of the list it ships (it never fetches one)."""
    try:
        from publicsuffixlist import PublicSuffixList
    except ImportError as exc:
        raise InvalidSetting(NEEDS_PSL) from exc
    return PublicSuffixList()


def _domain_of(url: str) -> str:
    """The registrable domain of `url`'s host (``a.b.example.co.uk`` -> ``example.co.uk``);
    the host itself for an IP address, a public suffix or a single label (``localhost``)."""
    return _registrable(host_of(url))


@lru_cache(maxsize=1 << 16)
def _registrable(host: str) -> str:
    """`_domain_of` for a host name (a list's URLs repeat their hosts: looked up once)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        domain = _suffix_list().privatesuffix(host)
        return str(domain) if domain else host
    return host


def partition_key(partition: str) -> Callable[[str], str]:
    """The function that gives a URL's partition key, for ``partition="host"`` or ``"domain"``."""
    if partition == "host":
        return host_of
    if partition == "domain":
        _suffix_list()  # missing: say so now, not on a worker
        return _domain_of
    raise InvalidSetting(
        f"partition={partition!r} must be one of {', '.join(map(repr, PARTITIONS))}."
    )


# --- pieces of the input files and the split task --------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Piece:
    """Bytes ``start`` to ``start + length`` of a file of URLs, moved to whole lines: a line
    belongs to the piece that holds the end of line before it (fsspec's `read_block` rule),
    so pieces that tile a file share no line and miss none."""

    path: str
    start: int
    length: int


def pieces(paths: Iterable[str], size: int) -> list[Piece]:
    """Cut each file into pieces of about `size` bytes (the last one of a file is shorter)."""
    out = []
    for path in paths:
        total = os.path.getsize(path)
        out += [Piece(path, start, min(size, total - start)) for start in range(0, total, size)]
    return out


@contextlib.contextmanager
def _replacing(path: str) -> Iterator[BinaryIO]:
    """A file to write that becomes `path` when the block ends: written under a temporary
    name, flushed to disk, then renamed into place, so a reader sees the old file or the
    whole new one and a task run twice leaves one file. Removed if the block fails."""
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def split_piece(piece: Piece, spool: str, shards: int, partition: str) -> list[int]:
    """Group the piece's URLs by shard into the file `spool`; shard i's lines are at bytes
    ``offsets[i]`` to ``offsets[i + 1]`` of it (the offsets are returned)."""
    key = partition_key(partition)
    with open(piece.path, "rb") as f:
        block = read_block(f, piece.start, piece.length, delimiter=b"\n")
    groups: list[list[str]] = [[] for _ in range(shards)]
    for url in url_lines(block.decode("utf-8", "replace").splitlines()):
        groups[shard_of(key(url), shards)].append(url)
    chunks = [("\n".join(group) + "\n").encode() if group else b"" for group in groups]
    with _replacing(spool) as f:
        f.writelines(chunks)
    offsets = [0]
    for chunk in chunks:
        offsets.append(offsets[-1] + len(chunk))
    return offsets


def _read_ranges(ranges: Sequence[tuple[str, int, int]]) -> list[str]:
    urls: list[str] = []
    for path, start, end in ranges:
        if end > start:
            with open(path, "rb") as f:
                f.seek(start)
                urls += f.read(end - start).decode().splitlines()
    return urls


# --- the crawl task ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CrawlSettings:
    """What every shard crawls with (all of it pickles: it travels to the workers)."""

    concurrency: int
    per_host: int | None
    timeout: TimeoutTypes
    retry: Retry | int | None
    options: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Shard:
    """One finished shard: `index`, `path` (its JSON lines), `report`, and the seconds it
    spent reading its URLs (`read`), crawling them and writing their lines (`crawl`), and
    flushing its file to disk and renaming it into place (`write`)."""

    index: int
    path: str
    report: Report
    read: float  # reading the shard's URLs
    crawl: float  # crawling them and writing the records
    write: float  # flushing the file to disk and renaming it into place


def shard_name(index: int) -> str:
    """The file name of shard `index`'s JSON lines."""
    return f"shard-{index:05d}.jsonl"


def crawl_shard(
    index: int,
    urls: Sequence[str] | None,
    ranges: Sequence[tuple[str, int, int]],
    out: str,
    settings: CrawlSettings,
) -> Shard:
    """Crawl shard `index`: the given `urls`, or those in the `ranges` of the spool files;
    write their JSON lines to ``out/shard-NNNNN.jsonl`` (replacing any earlier run's)."""
    began = time.perf_counter()
    todo = list(urls) if urls is not None else _read_ranges(ranges)
    read = time.perf_counter()
    report = Report()
    path = os.path.join(out, shard_name(index))
    with _replacing(path) as f:  # each line written as its URL ends, not held in memory
        for result in fetch_many(
            todo,
            concurrency=settings.concurrency,
            per_host=settings.per_host,
            timeout=settings.timeout,
            retry=settings.retry,
            **settings.options,
        ):
            report.add(result)
            f.write(record_line(result).encode())
        crawled = time.perf_counter()
    return Shard(index, path, report, read - began, crawled - read, time.perf_counter() - crawled)
