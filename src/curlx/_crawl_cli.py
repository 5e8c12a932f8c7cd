"""`curlx crawl`: fetch_many over a file of URLs, JSON lines out, a summary table at the end.

The live progress line uses `rich` (the optional ``cli`` extra) when stderr is a terminal;
piped or redirected output gets no progress display, and without rich there is none either.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any, Protocol

from ._explain import language
from ._fetch import Result, fetch_many
from ._prepare import DEFAULT_TIMEOUT
from ._report import Report
from ._retry import Retry

__all__ = ["crawl", "result_record"]


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


def _urls(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        url = line.strip()
        if url and not url.startswith("#"):
            yield url


class _Progress(Protocol):
    def track(self, urls: Iterator[str]) -> Iterator[str]: ...
    def update(self, report: Report) -> None: ...
    def close(self) -> None: ...


class _NoProgress:
    def track(self, urls: Iterator[str]) -> Iterator[str]:
        return urls

    def update(self, report: Report) -> None:
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
        self._weight = 0.0  # finished URLs, each decayed by its age (e^-age/RATE_WINDOW)

    def track(self, urls: Iterator[str]) -> Iterator[str]:
        """`urls`, counting those the crawl takes: taken and not finished is in flight."""
        for url in urls:
            self.pulled += 1
            yield url

    def update(self, report: Report) -> None:
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
        flying = max(self.pulled - self.done, 0)
        return (
            f"{self.done}{of} URLs  {flying} in flight  {clock}  {self.rate(now):,.1f}/s  "
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
            return sum(1 for _ in _urls(f))
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
            progress.track(_urls(source)),
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
                    out.write(json.dumps(result_record(result)) + "\n")
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
