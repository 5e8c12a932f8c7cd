"""`curlx crawl`: fetch_many over a file of URLs, JSON lines out, a summary table at the end.

The live progress line uses `rich` (the optional ``cli`` extra) when stderr is a terminal;
piped or redirected output gets no progress display, and without rich there is none either.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any, Protocol

from ._exceptions import InvalidSetting
from ._explain import language
from ._fetch import fetch_many
from ._prepare import DEFAULT_TIMEOUT
from ._records import record_line, url_lines
from ._report import Report
from ._retry import Retry

__all__ = ["crawl"]


class _Progress(Protocol):
    def track(self, urls: Iterator[str]) -> Iterator[str]: ...
    def update(self, report: Report, shards: str = "") -> None: ...
    def close(self) -> None: ...


class _NoProgress:
    def track(self, urls: Iterator[str]) -> Iterator[str]:
        return urls

    def update(self, report: Report, shards: str = "") -> None:
        pass

    def close(self) -> None:
        pass


RATE_WINDOW = 5.0
"""Seconds over which the progress line's rate is averaged (an exponential decay)."""


class _Status:
    """The progress line, computed when it is drawn: done/total, in flight, elapsed, a rate
    that decays while nothing finishes, failures by category. So a timer redrawing it keeps
    it moving while transfers stall (fetch_many yields only finished ones)."""

    def __init__(self, total: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.clock = clock
        self.start = self._last = clock()
        self.pulled = 0  # URLs the crawl took from the input
        self.done = 0
        self.failures = "none"
        self.shards = ""  # "d/N shards" in a distributed crawl (its URLs are read by workers)
        self._weight = 0.0  # finished URLs, each decayed by its age (e^-age/RATE_WINDOW)

    def track(self, urls: Iterator[str]) -> Iterator[str]:
        """`urls`, counting those the crawl takes: taken and not finished is in flight."""
        for url in urls:
            self.pulled += 1
            yield url

    def update(self, report: Report, shards: str = "") -> None:
        self.shards = shards
        now = self.clock()
        finished = report.total - self.done
        self._weight = self._weight * math.exp((self._last - now) / RATE_WINDOW) + finished
        self._last, self.done = now, report.total
        ranked = sorted(report.by_category.items(), key=lambda item: -item[1].count)[:4]
        self.failures = ", ".join(f"{name} {bucket.count}" for name, bucket in ranked) or "none"

    def rate(self, now: float) -> float:
        """URLs finished per second, recent ones weighing most; falls while none finish."""
        window = RATE_WINDOW * -math.expm1(-max(now - self.start, 1e-9) / RATE_WINDOW)
        return self._weight * math.exp((self._last - now) / RATE_WINDOW) / window

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = int(now - self.start)
        clock = f"{elapsed // 3600}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}"
        of = f"/{self.total}" if self.total is not None else ""
        flying = f"  {max(self.pulled - self.done, 0)} in flight" if not self.shards else ""
        shards = f"{self.shards}  " if self.shards else ""
        return (
            f"{shards}{self.done}{of} URLs{flying}  {clock}  {self.rate(now):,.1f}/s  "
            f"failures: {self.failures}"
        )

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(self.line())


class _RichProgress:
    """The `_Status` line, redrawn four times a second by rich's own timer."""

    def __init__(self, total: int | None) -> None:
        from rich.console import Console
        from rich.live import Live

        self._status = _Status(total)
        self.track = self._status.track
        self.update = self._status.update
        self._live = Live(
            self._status, console=Console(stderr=True), refresh_per_second=4, transient=True
        )
        self._live.start()

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
    if args.scheduler is not None or args.workers is not None:
        return _crawl_distributed(args)
    for option, value in (("--shards", args.shards), ("--out", args.out)):
        if value is not None:
            sys.stderr.write(
                f"curlx crawl: {option} is for a distributed crawl: add --scheduler ADDRESS "
                "(a running Dask scheduler) or --workers N (a cluster on this machine)\n"
            )
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
            progress.track(url_lines(source)),
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
        return _summary(args, report, interrupted, summary)


def _summary(args: argparse.Namespace, report: Report, interrupted: bool, summary: IO[str]) -> int:
    """Write the summary table; the exit status (130 if the crawl was interrupted, else 0)."""
    t = getattr(args, "language", None) or language()
    summary.write(report.render(lang=t.name) + "\n")
    if interrupted:
        note = t.gettext("interrupted: the report covers the URLs finished so far")
        summary.write(note + "\n")
        return 130
    return 0


NEEDS_DASK = (
    "curlx crawl: --scheduler and --workers run the crawl on Dask distributed, which is not "
    "installed: pip install 'pycurlx[dask]'\n"
)


def _crawl_distributed(args: argparse.Namespace) -> int:
    """`curlx crawl FILE --scheduler ADDRESS | --workers N --out DIR`: the crawl on Dask,
    one JSON lines file per shard in DIR, the same summary and exit statuses."""
    problem = None
    if args.scheduler is not None and args.workers is not None:
        problem = "give --scheduler (a running cluster) or --workers (a new one here), not both"
    elif args.out is None:
        problem = "a distributed crawl writes one JSON lines file per shard: add --out DIR"
    elif args.jsonl is not None:
        problem = "--jsonl is for a crawl in this process; a distributed one writes to --out DIR"
    elif args.file == "-":
        problem = "a distributed crawl reads FILE on the workers: give a file, not - (stdin)"
    elif not os.path.isfile(args.file):
        problem = f"cannot read {args.file!r}: no such file"
    if problem is not None:
        sys.stderr.write(f"curlx crawl: {problem}\n")
        return 2
    try:  # Dask is an optional extra, imported only for these options
        distributed: Any = importlib.import_module("curlx.distributed")
    except ImportError as exc:
        if exc.name not in ("distributed", "dask", "curlx.distributed"):
            raise
        sys.stderr.write(NEEDS_DASK)
        return 2
    with ExitStack() as stack:
        try:
            if args.workers is not None:
                client = distributed._local_cluster(args.workers)
            else:
                client = distributed.Client(args.scheduler, timeout=args.connect_timeout)
        except OSError as exc:  # also the builtin TimeoutError of an unreachable scheduler
            sys.stderr.write(
                f"curlx crawl: cannot reach the Dask scheduler at {args.scheduler}: {exc} "
                "(is dask-scheduler running there, and is the port open?)\n"
            )
            return 2
        stack.callback(client.close)
        shards = args.shards or 4 * max(1, sum(client.nthreads().values()))
        # The total is counted (a read of FILE here) only for a progress line on a terminal.
        progress = _progress(_count_lines(args.file) if sys.stderr.isatty() else None)
        report = Report()
        done = 0
        interrupted = False
        try:
            for shard in distributed.crawl_shards(
                distributed.files(args.file),
                client=client,
                shards=shards,
                out=args.out,
                per_host=args.per_host,
                concurrency=args.concurrency,
                timeout=DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
                retry=Retry(total=args.retries) if args.retries else None,
                partition=args.partition,
                verify=not args.insecure,
            ):
                report = report + shard.report
                done += 1
                progress.update(report, f"{done}/{shards} shards")
        except KeyboardInterrupt:
            interrupted = True
        except InvalidSetting as exc:  # the options' names for the keywords' in its message
            text = exc.message.replace("out=", "--out ").replace("partition=", "--partition ")
            sys.stderr.write(f"curlx crawl: {text}\n")
            return 2
        finally:
            progress.close()
        return _summary(args, report, interrupted, sys.stdout)
