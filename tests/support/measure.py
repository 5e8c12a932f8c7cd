"""This process's memory and file descriptors (Linux /proc), for the soak and limit tests."""

from __future__ import annotations

import os


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def rss_kib() -> int:
    """Resident set size of this process now, in KiB."""
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """The highest resident set size since the last `reset_peak_rss()`, in KiB."""
    return _status_kib("VmHWM")


def reset_peak_rss() -> None:
    """Start measuring the peak RSS from now (writes 5 to /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))
