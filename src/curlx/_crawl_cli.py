"""`curlx crawl`: fetch_many over a file of URLs, JSON lines out, a summary table at the end.

The live progress line uses `rich` (the optional ``cli`` extra) when stderr is a terminal;
piped or redirected output gets no progress display, and without rich there is none either.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from contextlib import ExitStack
from typing import IO, Protocol

from ._explain import language
from ._fetch import fetch_many
from ._prepare import DEFAULT_TIMEOUT
from ._records import record_line, url_lines
from ._report import Report
from ._retry import Retry

__all__ = ["crawl"]


class _Progress(Protocol):
    def update(self, report: Report) -> None: ...
    def close(self) -> None: ...


class _NoProgress:
    def update(self, report: Report) -> None:
        pass

    def close(self) -> None:
        pass


class _RichProgress:
    """done/total, rate and failures by category, redrawn a few times a second."""

    def __init__(self, total: int | None) -> None:
        from rich.console import Console
        from rich.live import Live

        self._total = total
        self._start = time.monotonic()
        self._live = Live(console=Console(stderr=True), refresh_per_second=4, transient=True)
        self._live.start()

    def update(self, report: Report) -> None:
        from rich.text import Text

        done = report.total
        elapsed = max(time.monotonic() - self._start, 1e-9)
        of = f"/{self._total}" if self._total is not None else ""
        ranked = sorted(report.by_category.items(), key=lambda item: -item[1].count)[:4]
        failed = ", ".join(f"{name} {bucket.count}" for name, bucket in ranked) or "none"
        self._live.update(Text(f"{done}{of} URLs  {done / elapsed:,.0f}/s  failures: {failed}"))

    def close(self) -> None:
        self._live.stop()


def _progress(total: int | None) -> _Progress:
    if not sys.stderr.isatty():
        return _NoProgress()
    try:
        return _RichProgress(total)
    except ImportError:  # the optional cli extra is not installed
        return _NoProgress()


def _count_lines(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return sum(1 for _ in url_lines(f))
    except OSError:
        return None


def crawl(args: argparse.Namespace) -> int:
    """Run `curlx crawl` with parsed arguments; returns the exit status."""
    if args.retries < 0:
        sys.stderr.write(f"curlx crawl: --retries {args.retries} must be >= 0\n")
        return 2
    if args.timeout is not None and not 0 < args.timeout < math.inf:
        sys.stderr.write(f"curlx crawl: --timeout {args.timeout} must be more than 0\n")
        return 2
    with ExitStack() as stack:
        if args.file == "-":
            source: IO[str] = sys.stdin
            total = None
        else:
            try:
                source = stack.enter_context(open(args.file, encoding="utf-8", errors="replace"))
            except OSError as exc:
                sys.stderr.write(f"curlx crawl: cannot read {args.file!r}: {exc.strerror}\n")
                return 2
            total = _count_lines(args.file)
        out: IO[str] | None = None
        if args.jsonl == "-":
            out = sys.stdout
        elif args.jsonl:
            try:
                out = stack.enter_context(open(args.jsonl, "w", encoding="utf-8"))
            except OSError as exc:
                sys.stderr.write(f"curlx crawl: cannot write {args.jsonl!r}: {exc.strerror}\n")
                return 2
        progress = _progress(total)
        report = Report()
        results = fetch_many(
            url_lines(source),
            concurrency=args.concurrency,
            per_host=args.per_host,
            timeout=DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
            retry=Retry(total=args.retries) if args.retries else None,
            verify=not args.insecure,
        )
        interrupted = False
        try:
            for result in results:
                report.add(result)
                if out is not None:
                    out.write(record_line(result))
                progress.update(report)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            progress.close()
        summary = sys.stderr if out is sys.stdout else sys.stdout
        t = getattr(args, "language", None) or language()
        summary.write(report.render(lang=t.name) + "\n")
        if interrupted:
            note = t.gettext("interrupted: the report covers the URLs finished so far")
            summary.write(note + "\n")
            return 130
    return 0
