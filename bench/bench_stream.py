"""Streaming benchmark: a 100 MiB body from a local nginx written to a file, curlx next to peers.

Run from the repository root (root on Debian installs nginx if needed; peers from the
``bench`` extra)::

    python bench/bench_stream.py [--rounds 7] [--size-mib 100] [--gib 1] [--output FILE]

Every client downloads the same file over a kept-alive connection and writes it to a file in a
temp dir (on /dev/shm when there is one, so the disk does not set the pace), round by round,
interleaved. The reference is raw pycurl writing straight to the file (``WRITEDATA``). Then,
in a fresh process each, 1 GiB is streamed through curlx to /dev/null and the growth of its
peak RSS (VmHWM) is reported: memory is bounded by libcurl's buffer and a pause threshold,
not by the body.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pycurl
from _common import Stats, markdown_table, paired_ratio, peer_version
from nginx import Nginx, ensure_nginx

import curlx

CHUNK = 64 * 1024  # what the peers are asked for per chunk (requests' iter_content needs one)
REFERENCE = "pycurl WRITEDATA"

Download = Callable[[str, Path], None]


def raw_pycurl(stack: ExitStack) -> Download:
    handle = pycurl.Curl()
    stack.callback(handle.close)

    def download(url: str, path: Path) -> None:
        with path.open("wb") as f:
            handle.setopt(pycurl.URL, url)
            handle.setopt(pycurl.WRITEDATA, f)
            handle.perform()

    return download


def raw_pycurl_big_buffer(stack: ExitStack) -> Download:
    """Raw pycurl with the receive buffer curlx's Session uses (256 KiB): the fair floor."""
    handle = pycurl.Curl()
    handle.setopt(pycurl.BUFFERSIZE, 256 * 1024)
    stack.callback(handle.close)

    def download(url: str, path: Path) -> None:
        with path.open("wb") as f:
            handle.setopt(pycurl.URL, url)
            handle.setopt(pycurl.WRITEDATA, f)
            handle.perform()

    return download


def curlx_session(stack: ExitStack) -> Download:
    session = stack.enter_context(curlx.Session())

    def download(url: str, path: Path) -> None:
        with path.open("wb") as f, session.stream("GET", url) as r:
            for piece in r.iter_bytes():
                f.write(piece)

    return download


def curlx_get_stream(stack: ExitStack) -> Download:
    session = stack.enter_context(curlx.Session())

    def download(url: str, path: Path) -> None:
        r = session.get(url, stream=True)
        with path.open("wb") as f:
            for piece in r.iter_content(CHUNK):
                f.write(piece)

    return download


def requests_stream(stack: ExitStack) -> Download:
    import requests

    session = stack.enter_context(requests.Session())

    def download(url: str, path: Path) -> None:
        with path.open("wb") as f, session.get(url, stream=True) as r:
            for piece in r.iter_content(CHUNK):
                f.write(piece)

    return download


def httpx_stream(stack: ExitStack) -> Download:
    import httpx

    client = stack.enter_context(httpx.Client())

    def download(url: str, path: Path) -> None:
        with path.open("wb") as f, client.stream("GET", url) as r:
            for piece in r.iter_bytes():
                f.write(piece)

    return download


def curl_cffi_stream(stack: ExitStack) -> Download:
    from curl_cffi import requests as cffi

    session = cffi.Session()
    stack.callback(session.close)

    def download(url: str, path: Path) -> None:
        r = session.get(url, stream=True)
        try:
            with path.open("wb") as f:
                for piece in r.iter_content():
                    f.write(piece)
        finally:
            r.close()

    return download


CLIENTS: dict[str, Callable[[ExitStack], Download]] = {
    REFERENCE: raw_pycurl,
    "pycurl WRITEDATA, 256 KiB buffer": raw_pycurl_big_buffer,
    "curlx Session.stream iter_bytes": curlx_session,
    "curlx get(stream=True) iter_content": curlx_get_stream,
    "requests iter_content": requests_stream,
    "httpx stream iter_bytes": httpx_stream,
    "curl_cffi stream iter_content": curl_cffi_stream,
}

RSS_CHILD = """
import sys, curlx
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
read = 0
with curlx.stream("GET", sys.argv[1]) as r:
    for piece in r.iter_bytes():
        read += len(piece)
print(read, hwm() - base)
"""


def rss_growth(url: str) -> tuple[int, int]:
    """Bytes streamed and the peak RSS growth (KiB) of a fresh process streaming `url`."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, url], check=True, capture_output=True, text=True
    ).stdout.split()
    return int(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--gib", type=float, default=1.0, help="size of the RSS check (GiB)")
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    body = os.urandom(1024 * 1024) * args.size_mib
    rss_size = int(args.gib * 1024**3)
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    with ExitStack() as stack:
        server = Nginx(ensure_nginx(), {"body.bin": body})
        server.start()
        stack.callback(server.stop)
        url = server.url("body.bin")
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=scratch)))
        downloads = {}
        for name, make in CLIENTS.items():
            try:
                downloads[name] = make(stack)
            except ImportError as exc:
                print(f"skipping {name}: {exc}", file=sys.stderr)
        for name, download in downloads.items():  # warm up, and check every byte arrives
            path = directory / "check.bin"
            download(url, path)
            if path.stat().st_size != size or path.read_bytes() != body:
                raise SystemExit(f"{name} wrote a different body")
        times: dict[str, list[float]] = {name: [] for name in downloads}
        for round_number in range(args.rounds):
            for name, download in downloads.items():
                path = directory / "out.bin"
                gc.collect()
                start = time.perf_counter()
                download(url, path)
                times[name].append(time.perf_counter() - start)
                path.unlink()
            print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr)
        server.files = {}
        big = directory / "www-big"
        del body
        # The RSS check streams a file of `--gib` from a second nginx.
        big_server = Nginx(ensure_nginx(), {"big.bin": b"\0" * (64 * 1024 * 1024)})
        big_server.start()
        stack.callback(big_server.stop)
        assert big_server.root is not None
        target = big_server.root / "www" / "big.bin"
        with target.open("ab") as f:
            block = b"\0" * (64 * 1024 * 1024)
            while f.tell() < rss_size:
                f.write(block[: rss_size - f.tell()])
        streamed, growth_kib = rss_growth(big_server.url("big.bin"))
        del big

    stats = {name: Stats(tuple(samples)) for name, samples in times.items()}
    reference = stats[REFERENCE]
    rows = []
    for name, stat in stats.items():
        ratio = paired_ratio(stat, reference)
        mib_s = args.size_mib / stat.median
        rows.append(
            [name, f"{stat.median * 1000:.0f} ms", f"{mib_s:.0f} MiB/s", f"{ratio.median:.3f}×"]
        )
    print(f"\n{args.size_mib} MiB to a file, {args.rounds} rounds, median (ratio to {REFERENCE})")
    print(markdown_table(["client", "time", "rate", "ratio"], rows))
    print(
        f"\nRSS: streaming {streamed / 1024**3:.2f} GiB through curlx.stream grew the peak RSS "
        f"by {growth_kib / 1024:.1f} MiB"
    )
    if args.output:
        result: dict[str, Any] = {
            "size_mib": args.size_mib,
            "rounds": args.rounds,
            "seconds": {name: list(samples) for name, samples in times.items()},
            "ratio_median": {
                name: paired_ratio(stat, reference).median for name, stat in stats.items()
            },
            "rss": {"bytes": streamed, "peak_growth_kib": growth_kib},
            "versions": {
                name: peer_version(name) for name in ("requests", "httpx", "curl_cffi", "pycurl")
            },
        }
        args.output.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
