"""A crawl's lines in and out: the URLs of a file of URLs, and one JSON record per Result.

`curlx crawl` and a distributed crawl's shards both read input with `url_lines` and write
`result_record`s: one definition each, so a shard's output reads exactly as a single-process
crawl's, and both skip the same blank and comment lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ._fetch import Result

__all__ = ["record_line", "result_record", "url_lines"]


def url_lines(lines: Iterable[str]) -> Iterator[str]:
    """The URLs of a file's lines: stripped; blank lines and ``#`` comments skipped."""
    for line in lines:
        url = line.strip()
        if url and not url.startswith("#"):
            yield url


def result_record(result: Result) -> dict[str, Any]:
    """One JSON line of `curlx crawl --jsonl`."""
    error = result.error
    return {
        "url": result.url,
        "ok": result.ok,
        "status": result.status_code,
        "class": type(error).__name__ if error is not None else None,
        "category": error.category.value if error is not None else None,
        "code": int(error.code) if error is not None and error.code is not None else None,
        "name": error.name if error is not None else None,
        "retry": error.retry.kind.value if error is not None else None,
        "method": error.method if error is not None else None,
        "message": error.message if error is not None else None,
        "attempts": result.attempts,
        "elapsed": round(result.elapsed, 6),
    }


def record_line(result: Result) -> str:
    """`result_record` as one line of JSON, newline included."""
    return json.dumps(result_record(result)) + "\n"
