"""Soak: many failing requests through one Session and through fetch_many; memory and fds.

Run: python bench/soak.py [--requests 100000]
Every request goes to a closed loopback port (a refused connection: the cheapest real failure)
or, with --mix, alternates refused, DNS (.invalid) and a server that resets the connection.
Prints RSS (VmRSS) and the number of open file descriptors every tenth of the run, and the
growth from the first tenth to the end. Pass criterion (issue): RSS growth under
RSS_GROWTH_LIMIT_MIB (10 MiB) and no growth in open file descriptors.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

from _common import closed_port_below_ephemeral, memory_kib

import curlx

RSS_GROWTH_LIMIT_MIB = 10
"""The pass criterion: VmRSS may grow less than this from the first tenth of the run to its end."""


def rss_kib() -> int:
    """Resident set size (VmRSS) of this process in KiB."""
    return memory_kib()[0]


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


class ResetServer:
    """Accepts, reads the request, resets the connection (SO_LINGER 0): a RecvError each time."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port: int = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)

    def close(self) -> None:
        self.sock.close()
        self._thread.join(timeout=5)


def measure(label: str, total: int, run: Callable[[], Iterator[int]]) -> dict[str, object]:
    """Run `run` (which yields a running count) and sample RSS and fds every tenth."""
    gc.collect()
    samples: list[tuple[int, int, int]] = [(0, rss_kib(), open_fds())]
    step = max(1, total // 10)
    started = time.perf_counter()
    done = 0
    for done in run():
        if done % step == 0:
            samples.append((done, rss_kib(), open_fds()))
    elapsed = time.perf_counter() - started
    gc.collect()
    samples.append((done, rss_kib(), open_fds()))
    first = samples[1] if len(samples) > 2 else samples[0]
    growth_kib = samples[-1][1] - first[1]
    fd_growth = samples[-1][2] - samples[0][2]
    print(f"\n{label}: {done} failing requests in {elapsed:.1f} s ({done / elapsed:,.0f}/s)")
    print(f"{'requests':>10} {'RSS MiB':>9} {'fds':>5}")
    for count, rss, fds in samples:
        print(f"{count:>10} {rss / 1024:>9.1f} {fds:>5}")
    verdict = "PASS" if growth_kib < RSS_GROWTH_LIMIT_MIB * 1024 and fd_growth <= 0 else "FAIL"
    print(f"RSS growth after the first tenth: {growth_kib / 1024:.2f} MiB; fd growth {fd_growth}")
    print(verdict)
    return {
        "label": label,
        "requests": done,
        "seconds": round(elapsed, 2),
        "rss_growth_mib": round(growth_kib / 1024, 2),
        "fd_growth": fd_growth,
        "samples": samples,
        "verdict": verdict,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="curlx soak test (loopback only)")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--mix", action="store_true", help="refused, DNS and reset failures")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    total = args.requests
    # Below the ephemeral range: none of the many outgoing connections can get this port as its
    # local port and connect to itself (see _common.closed_port_below_ephemeral).
    targets = [f"http://127.0.0.1:{closed_port_below_ephemeral()}/"]
    reset = ResetServer() if args.mix else None
    if reset is not None:
        targets += ["http://soak.invalid/", f"http://127.0.0.1:{reset.port}/"]

    def session_run() -> Iterator[int]:
        with curlx.Session(timeout=5) as session:
            for i in range(total):
                try:
                    session.get(targets[i % len(targets)])
                except curlx.CurlError:
                    pass
                yield i + 1

    def fetch_run() -> Iterator[int]:
        urls = (targets[i % len(targets)] for i in range(total))
        for i, result in enumerate(curlx.fetch_many(urls, concurrency=50, timeout=5)):
            assert result.error is not None
            yield i + 1

    try:
        results = [
            measure("Session.get", total, session_run),
            measure("fetch_many", total, fetch_run),
        ]
    finally:
        if reset is not None:
            reset.close()
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
    return 0 if all(r["verdict"] == "PASS" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
