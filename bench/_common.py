"""Helpers the benchmark scripts share: statistics, the machine they ran on, the peers,
memory, ports, results, SIGTERM.

The scripts run as ``python bench/bench_x.py``, so this directory is on ``sys.path`` and they
import this module as ``_common`` (as they import ``nginx``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib
import json
import os
import platform
import signal
import socket
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

SOURCE_DIR = Path(__file__).resolve().parent.parent / "src" / "curlx"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


# --- statistics ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Stats:
    """One measured thing: one value (a time per call, or a ratio) per batch or round."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def quartiles(self) -> tuple[float, float]:
        """The 25th and 75th percentiles (inclusive method; both the sample if only one)."""
        if len(self.samples) < 2:
            return self.samples[0], self.samples[0]
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def p25(self) -> float:
        return self.quartiles[0]

    @property
    def p75(self) -> float:
        return self.quartiles[1]

    def as_json(self, digits: int) -> dict[str, Any]:
        p25, p75 = self.quartiles
        return {
            "median": round(self.median, digits),
            "p25": round(p25, digits),
            "p75": round(p75, digits),
            "samples": [round(s, digits) for s in self.samples],
        }


def paired_ratio(numerator: Stats, denominator: Stats) -> Stats:
    """Per-round ratios of two interleaved timers: round i of one over round i of the other."""
    return Stats(tuple(a / b for a, b in zip(numerator.samples, denominator.samples, strict=True)))


# --- the report ----------------------------------------------------------------------------------


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1
) -> str:
    """A Markdown table; the columns from `right_from` on are right-aligned."""
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def source_digest(digits: int = 12, *, separator: bytes = b"") -> str:
    """A short SHA-256 of curlx's source files, to tell which code a result was measured on.

    Each file adds its name, `separator`, its bytes and `separator` to the hash (bench_crawl.py
    has always used 16 digits and a NUL separator, the others 12 digits and none).
    """
    digest = hashlib.sha256()
    for path in sorted(SOURCE_DIR.glob("*.py")):
        digest.update(path.name.encode() + separator + path.read_bytes() + separator)
    return digest.hexdigest()[:digits]


def machine() -> dict[str, Any]:
    """Python, platform and CPUs, the first lines of every report's environment."""
    cpu_model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model or platform.processor(),
    }


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON (UTF-8, non-ASCII kept) to `path`, making its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- the peers -----------------------------------------------------------------------------------


def peer(
    module: str,
    notes: list[str],
    versions: dict[str, str] | None = None,
    *,
    label: str | None = None,
) -> bool:
    """True if the peer's `module` imports (its version goes into `versions`); else a note.

    The distribution is the module path's first part (``curl_cffi.requests``: curl_cffi).
    The note, ``"<label> skipped: not installed (...)"``, names `label` (default: `module`).
    Callers then import the module themselves, so that its types are checked.
    """
    try:
        importlib.import_module(module)
    except ImportError as exc:
        notes.append(f"{label or module} skipped: not installed ({exc})")
        return False
    if versions is not None:
        distribution = module.partition(".")[0]
        versions[distribution] = peer_version(distribution)
    return True


def peer_version(distribution: str) -> str:
    """The installed version; for curl_cffi also that of the libcurl it brings along."""
    version = metadata.version(distribution)
    if distribution == "curl_cffi":
        try:
            curl = importlib.import_module("curl_cffi.__version__").__curl_version__
        except (ImportError, AttributeError):
            return version
        return f"{version} ({curl})"
    return version


# --- how busy the machine is ---------------------------------------------------------------------

LOAD_WARNING = 0.5
"""A 1-minute load average at or above this: other processes compete for the CPUs."""


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded to 2 digits ([] if unknown)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def load_note(load: Sequence[float]) -> str | None:
    """A warning when the 1-minute load average (of `load_average()`) is LOAD_WARNING or more."""
    if not load or load[0] < LOAD_WARNING:
        return None
    return (
        f"the load average is {' '.join(f'{x:.2f}' for x in load)}: other processes compete "
        "for the CPUs, so the times are noisier and higher than on an idle machine"
    )


def memory_kib() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in KiB, from /proc/self/status (Linux only)."""
    values = {"VmRSS:": 0, "VmHWM:": 0}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            fields = line.split()
            if fields and fields[0] in values:
                values[fields[0]] = int(fields[1])
    return values["VmRSS:"], values["VmHWM:"]


@dataclasses.dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU time counters (all CPUs, in clock ticks) and this process's own."""

    busy: int
    steal: int
    total: int
    own_seconds: float


def cpu_times() -> CpuTimes | None:
    """Read /proc/stat (Linux only; None elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (ticks + [0] * 8)[:8]
    return CpuTimes(user + nice + system + irq + softirq, steal, sum(ticks), time.process_time())


def machine_use(start: CpuTimes | None, end: CpuTimes | None) -> dict[str, float] | None:
    """Shares of the machine's CPU time during the run: other processes', and stolen by the host.

    Other work on the machine skews the timings; this says how much there was.
    """
    if start is None or end is None or end.total <= start.total:
        return None
    total = end.total - start.total
    own = (end.own_seconds - start.own_seconds) * os.sysconf("SC_CLK_TCK")
    other = max(0.0, end.busy - start.busy - own)
    return {"other_processes": other / total, "stolen_by_host": (end.steal - start.steal) / total}


def busy_note(use: dict[str, float] | None) -> str | None:
    """A warning when other processes or the host took a noticeable share of the machine."""
    if use is None or (use["other_processes"] < 0.05 and use["stolen_by_host"] < 0.02):
        return None
    return (
        f"other processes used {use['other_processes']:.0%} of the machine's CPU time during "
        f"the run and the host stole {use['stolen_by_host']:.0%}: absolute times are "
        "inflated, the paired ratios less so; run again on a quiet machine to compare"
    )


# --- the network ---------------------------------------------------------------------------------


def drop_proxy_variables() -> list[str]:
    """Remove the proxy variables (either case) from the environment; the names removed."""
    removed = []
    for name in PROXY_VARIABLES:
        for variable in (name, name.upper()):
            if os.environ.pop(variable, None) is not None:
                removed.append(variable)
    return removed


def free_port() -> int:
    """A loopback TCP port the kernel just handed out and that is closed again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_below_ephemeral() -> int:
    """A loopback port nothing listens on, below the ephemeral range.

    A port from the ephemeral range could become the local port of one of the many outgoing
    connections, and a connection from 127.0.0.1:P to 127.0.0.1:P connects to itself.
    """
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for port in range(low - 1, 1024, -1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                continue  # something listens there
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no closed loopback port found below the ephemeral range")


# --- signals -------------------------------------------------------------------------------------


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, so `finally` blocks (stopping nginx) still run."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
