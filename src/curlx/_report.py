"""Report: a crawl's outcomes counted by category, code, host and HTTP status class.

Reports add up (``a + b``) and travel as JSON (`to_dict`/`from_dict`) or pickles, so shards of a
crawl run in different processes or machines combine into one. Example URLs are stored
without credentials.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._exceptions import InvalidRequest
from ._explain import headline, language
from ._fetch import Result
from ._i18n import ljust, rjust
from ._urls import host_of, redact_text, redact_url

__all__ = ["Report"]

EXAMPLES_PER_BUCKET: Final = 3
_FORMAT: Final = "curlx.Report/1"


@dataclasses.dataclass(slots=True)
class Bucket:
    """How many results fell in one group, with a few examples (url, message)."""

    count: int = 0
    examples: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def add(self, url: str, message: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES_PER_BUCKET:
            self.examples.append((url, message))

    def merged(self, other: Bucket) -> Bucket:
        examples = (self.examples + other.examples)[:EXAMPLES_PER_BUCKET]
        return Bucket(self.count + other.count, examples)


def _merge(a: dict[str, Bucket], b: dict[str, Bucket]) -> dict[str, Bucket]:
    out = {key: Bucket(bucket.count, list(bucket.examples)) for key, bucket in a.items()}
    for key, bucket in b.items():
        if key in out:
            out[key] = out[key].merged(bucket)
        else:
            out[key] = Bucket(bucket.count, list(bucket.examples))
    return out


@dataclasses.dataclass(slots=True)
class Report:
    """Counts of a crawl's Results. `add()` each Result; `render()` for a terminal table.

    `errors` are transfers that failed (typed errors, counted by category and by libcurl
    name); `http_errors` are responses with status 400 or more; `by_status` counts responses
    by class ("2xx"...); `by_host` counts every result per host as [total, failed].
    """

    total: int = 0
    ok: int = 0
    errors: int = 0
    http_errors: int = 0
    by_category: dict[str, Bucket] = dataclasses.field(default_factory=dict)
    by_code: dict[str, Bucket] = dataclasses.field(default_factory=dict)
    by_status: dict[str, Bucket] = dataclasses.field(default_factory=dict)
    by_host: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    def add(self, result: Result) -> None:
        """Count one Result."""
        self.total += 1
        url = redact_url(result.url)
        host = host_of(url) or "(none)"
        counts = self.by_host.setdefault(host, [0, 0])
        counts[0] += 1
        error = result.error
        if error is not None:
            self.errors += 1
            counts[1] += 1
            line = redact_text(headline(error))
            self.by_category.setdefault(error.category.value, Bucket()).add(url, line)
            self.by_code.setdefault(error.name, Bucket()).add(url, line)
            return
        status = result.status_code or 0
        status_class = f"{status // 100}xx"
        reason = result.response.reason if result.response is not None else ""
        self.by_status.setdefault(status_class, Bucket()).add(url, f"{status} {reason}")
        if status >= 400:
            self.http_errors += 1
            counts[1] += 1
        else:
            self.ok += 1

    def extend(self, results: Iterable[Result]) -> Report:
        """Count every Result; returns self, so ``Report().extend(fetch_many(urls))`` works."""
        for result in results:
            self.add(result)
        return self

    def __add__(self, other: Report) -> Report:
        if not isinstance(other, Report):
            return NotImplemented
        hosts = {host: list(counts) for host, counts in self.by_host.items()}
        for host, (total, failed) in other.by_host.items():
            mine = hosts.setdefault(host, [0, 0])
            mine[0] += total
            mine[1] += failed
        return Report(
            total=self.total + other.total,
            ok=self.ok + other.ok,
            errors=self.errors + other.errors,
            http_errors=self.http_errors + other.http_errors,
            by_category=_merge(self.by_category, other.by_category),
            by_code=_merge(self.by_code, other.by_code),
            by_status=_merge(self.by_status, other.by_status),
            by_host=hosts,
        )

    # --- JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps(report.to_dict())``)."""

        def buckets(groups: dict[str, Bucket]) -> dict[str, Any]:
            return {
                key: {"count": b.count, "examples": [list(e) for e in b.examples]}
                for key, b in sorted(groups.items())
            }

        return {
            "format": _FORMAT,
            "total": self.total,
            "ok": self.ok,
            "errors": self.errors,
            "http_errors": self.http_errors,
            "by_category": buckets(self.by_category),
            "by_code": buckets(self.by_code),
            "by_status": buckets(self.by_status),
            "by_host": {host: list(c) for host, c in sorted(self.by_host.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The Report `to_dict()` described; InvalidRequest (a ValueError) if `data` is not one."""
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise InvalidRequest(
                f"not a curlx report: format is {got!r}, expected {_FORMAT!r}; pass what "
                "Report.to_dict() returned."
            )

        def buckets(groups: Mapping[str, Any]) -> dict[str, Bucket]:
            return {
                str(key): Bucket(
                    int(value["count"]), [(str(u), str(m)) for u, m in value["examples"]]
                )
                for key, value in groups.items()
            }

        return cls(
            total=int(data["total"]),
            ok=int(data["ok"]),
            errors=int(data["errors"]),
            http_errors=int(data["http_errors"]),
            by_category=buckets(data["by_category"]),
            by_code=buckets(data["by_code"]),
            by_status=buckets(data["by_status"]),
            by_host={str(h): [int(c[0]), int(c[1])] for h, c in data["by_host"].items()},
        )

    # --- for people -------------------------------------------------------------------------

    def render(self, hosts: int = 10, lang: str | None = None) -> str:
        """A plain-text summary table: totals, failures by category and code, and hosts.

        Hosts: up to `hosts` with the most failures, then up to `hosts` without failures
        (the busiest first), and one line summing up those left out.

        `lang` picks the language of the headings (``"zh"``); by default the one
        `curlx.set_language()` chose, English unless it was called.
        """
        t = language(lang)
        first = t.gettext(
            "{total} URLs: {ok} ok, {http_errors} HTTP errors, {errors} failed transfers"
        )
        lines = [
            first.format(
                total=self.total, ok=self.ok, http_errors=self.http_errors, errors=self.errors
            )
        ]
        count = rjust(t.pgettext("report column", "count"), 8)
        example = t.pgettext("report column", "example")

        def table(title: str, groups: dict[str, Bucket]) -> None:
            if not groups:
                return
            lines.append("")
            lines.append(f"{ljust(title, 32)} {count}  {example}")
            for key, bucket in sorted(groups.items(), key=lambda kv: (-kv[1].count, kv[0])):
                example_url = bucket.examples[0][0] if bucket.examples else ""
                lines.append(f"{key:<32} {bucket.count:>8}  {example_url}")

        table(t.gettext("by status class"), self.by_status)
        table(t.gettext("failures by category"), self.by_category)
        table(t.gettext("failures by code"), self.by_code)
        if self.by_host:
            lines.append("")
            heads = (
                ljust(t.pgettext("report column", "host"), 32),
                rjust(t.pgettext("report column", "total"), 8),
                rjust(t.pgettext("report column", "failed"), 8),
            )
            lines.append(" ".join(heads))
            # The hosts with most failures, then the busiest ones without any (a crawl's
            # healthy hosts are worth seeing too), each up to `hosts`; the rest summed up.
            failing = [item for item in self.by_host.items() if item[1][1]]
            healthy = [item for item in self.by_host.items() if not item[1][1]]
            failing.sort(key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
            healthy.sort(key=lambda kv: (-kv[1][0], kv[0]))
            shown = failing[:hosts] + healthy[:hosts]
            for host, (total, failed) in shown:
                lines.append(f"{host:<32} {total:>8} {failed:>8}")
            left = failing[hosts:] + healthy[hosts:]
            if left:
                more = t.gettext("... {count} more hosts: {total} URLs, {failed} failed")
                total = sum(counts[0] for _, counts in left)
                failed = sum(counts[1] for _, counts in left)
                lines.append(more.format(count=len(left), total=total, failed=failed))
        return "\n".join(lines)
