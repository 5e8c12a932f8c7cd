"""HTTP client benchmark: sequential keep-alive GETs against a local nginx, curlx next to peers.

Run from the repository root, as root on Debian if nginx is not installed yet (the script then
installs ``nginx-light`` with apt-get); the peers come with the ``bench`` extra::

    pip install -e '.[bench]'
    python bench/bench_http.py                 # full run, 1.5-2.5 minutes on 2 cores
    python bench/bench_http.py --quick         # a few seconds, to check that it works
    python bench/bench_http.py --breakdown     # also: where Session.get's time goes

One run starts its own nginx on a free 127.0.0.1 port (one worker, keep-alive for 100000
requests, no access log) serving a 1 KiB and a 100 KiB file from a temp dir, and stops it by
its pid at the end, also on Ctrl-C or an error. Then, for both sizes:

1. Reused clients: a raw ``pycurl.Curl`` (the reference: URL set once, a BytesIO for the body
   and a list for the header lines, perform, RESPONSE_CODE), ``curlx.Session().get``,
   ``requests.Session().get``, ``httpx.Client().get``, ``urllib3.PoolManager().request`` and
   ``curl_cffi.requests.Session().get``.
2. Module-level one-shot calls: ``curlx.get``, ``requests.get``, ``httpx.get`` and
   ``curl_cffi.requests.get``, with the raw pycurl handle again as the reference.

Every request reads the whole body and checks the status; every client has a 10 s timeout and
ignores proxy settings (the proxy variables are removed from this process's environment). The
clients are interleaved: each round times a batch of N requests of every client and size, in
an order that rotates from round to round, so drifts of the machine hit all alike. Reported:
the median over rounds of the per-request wall time (µs), with the 25th-75th percentiles, and
the ratio to raw pycurl as the median of the per-round ratios (the two batches of a ratio ran
in the same round). Whether a client reused its connection is checked with a header in which
nginx names the connection.

A Markdown report goes to stdout and the numbers to bench/results/http.json.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import gc
import io
import os
import pstats
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import pycurl
from _common import (
    Stats,
    drop_proxy_variables,
    load_average,
    machine,
    markdown_table,
    paired_ratio,
    source_digest,
    utc_now,
    write_json,
)
from nginx import Nginx, ensure_nginx, nginx_version

import curlx

TIMEOUT = 10.0
"""Seconds; every client gets it (curlx: connect and no-progress, others: connect/read)."""
SESSION_TARGET = 1.15
"""curlx.Session().get per request, at most this times raw pycurl's (and faster than peers)."""
MODULE_TARGET = 1.35
"""curlx.get per request, at most this times raw pycurl's with a reused handle."""
SIZES: dict[str, int] = {"1 KiB": 1024, "100 KiB": 100 * 1024}
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "http.json"
CONNECTION_HEADER = "x-connection"

REFERENCE = "pycurl, reused handle (reference)"
SESSION = "curlx.Session().get"
MODULE = "curlx.get"

Fetch = Callable[[], bytes]
"""One GET of a prepared URL: checks the status is 200, returns the body."""
Timer = Callable[[int], tuple[int, int]]
"""Runs its body `n` times; returns the elapsed wall time and this thread's CPU time, in ns."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """How long each section runs."""

    session_batch: int
    """Requests per timed batch of each reused client."""
    module_batch: int
    """Requests per timed batch of each module-level call (some open a connection each)."""
    rounds: int
    """Interleaved rounds per section; each times one batch of every client and size."""


FULL = Settings(session_batch=400, module_batch=30, rounds=21)
QUICK = Settings(session_batch=40, module_batch=8, rounds=3)


class BadResponse(RuntimeError):
    """A benchmarked request did not get the expected answer."""


@dataclasses.dataclass(frozen=True)
class Client:
    """One benchmarked way of making a GET.

    `prepare(url)` returns the fetch function for one URL (called before each batch, untimed);
    `connection(url)` makes one request and returns nginx's connection number for it.
    """

    name: str
    prepare: Callable[[str], Fetch]
    connection: Callable[[str], str]
    note: str = ""


# --- the clients ---------------------------------------------------------------------------------


def _header(lines: Sequence[bytes], name: str) -> str:
    """A header's value from raw header lines ("" if absent)."""
    prefix = name.lower().encode() + b":"
    for line in lines:
        if line.lower().startswith(prefix):
            return line[len(prefix) :].decode("latin-1").strip()
    return ""


def raw_pycurl(stack: ExitStack) -> Client:
    """The reference: one reused pycurl.Curl doing the least work that still keeps the answer."""
    handle = pycurl.Curl()
    stack.callback(handle.close)
    handle.setopt(pycurl.NOSIGNAL, 1)
    handle.setopt(pycurl.TIMEOUT_MS, int(TIMEOUT * 1000))
    handle.setopt(pycurl.PROXY, "")
    setopt = handle.setopt
    perform = handle.perform
    getinfo = handle.getinfo
    write, header, code = pycurl.WRITEFUNCTION, pycurl.HEADERFUNCTION, pycurl.RESPONSE_CODE

    def prepare(url: str) -> Fetch:
        setopt(pycurl.URL, url)

        def fetch() -> bytes:
            body = io.BytesIO()
            lines: list[bytes] = []
            setopt(write, body.write)
            setopt(header, lines.append)
            perform()
            if getinfo(code) != 200:
                raise BadResponse(f"pycurl: status {getinfo(code)}")
            return body.getvalue()

        return fetch

    def connection(url: str) -> str:
        lines: list[bytes] = []
        setopt(pycurl.URL, url)
        setopt(write, io.BytesIO().write)
        setopt(header, lines.append)
        perform()
        return _header(lines, CONNECTION_HEADER)

    return Client(REFERENCE, prepare, connection)


def curlx_session(stack: ExitStack) -> Client:
    session = curlx.Session(timeout=TIMEOUT)
    stack.callback(session.close)

    def prepare(url: str) -> Fetch:
        get = session.get

        def fetch() -> bytes:
            response = get(url)
            if response.status_code != 200:
                raise BadResponse(f"{SESSION}: status {response.status_code}")
            return response.content

        return fetch

    def connection(url: str) -> str:
        return session.get(url).headers.get(CONNECTION_HEADER, "")

    return Client(SESSION, prepare, connection)


def curlx_module() -> Client:
    def prepare(url: str) -> Fetch:
        get = curlx.get

        def fetch() -> bytes:
            response = get(url, timeout=TIMEOUT)
            if response.status_code != 200:
                raise BadResponse(f"{MODULE}: status {response.status_code}")
            return response.content

        return fetch

    def connection(url: str) -> str:
        return curlx.get(url, timeout=TIMEOUT).headers.get(CONNECTION_HEADER, "")

    return Client(MODULE, prepare, connection, "a pooled Session")


def urllib3_client(pool: Any) -> Client:
    """``urllib3.PoolManager().request("GET", url)``, reading ``.status`` and ``.data``."""
    name = "urllib3.PoolManager().request"

    def prepare(url: str) -> Fetch:
        request = pool.request

        def fetch() -> bytes:
            response = request("GET", url)
            if response.status != 200:
                raise BadResponse(f"{name}: status {response.status}")
            content: bytes = response.data
            return content

        return fetch

    def connection(url: str) -> str:
        value: str = pool.request("GET", url).headers.get(CONNECTION_HEADER, "")
        return value

    return Client(name, prepare, connection)


def _plain_getter(name: str, get: Callable[[str], Any], note: str = "") -> Client:
    """A requests-like client (``.status_code`` and ``.content``), without getattr per call."""

    def prepare(url: str) -> Fetch:
        def fetch() -> bytes:
            response = get(url)
            if response.status_code != 200:
                raise BadResponse(f"{name}: status {response.status_code}")
            content: bytes = response.content
            return content

        return fetch

    def connection(url: str) -> str:
        value: str = get(url).headers.get(CONNECTION_HEADER, "")
        return value

    return Client(name, prepare, connection, note)


def peer_sessions(stack: ExitStack, notes: list[str], versions: dict[str, str]) -> list[Client]:
    """The peers' reused clients: each skipped with a note if it is not installed."""
    clients: list[Client] = []
    try:
        import requests
    except ImportError as exc:
        notes.append(f"requests skipped: not installed ({exc})")
    else:
        versions["requests"] = metadata.version("requests")
        session = requests.Session()
        session.trust_env = False
        stack.callback(session.close)
        get = functools.partial(session.get, timeout=TIMEOUT)
        clients.append(_plain_getter("requests.Session().get", get))
    try:
        import httpx
    except ImportError as exc:
        notes.append(f"httpx skipped: not installed ({exc})")
    else:
        versions["httpx"] = metadata.version("httpx")
        client = httpx.Client(timeout=TIMEOUT, trust_env=False)
        stack.callback(client.close)
        clients.append(_plain_getter("httpx.Client().get", client.get))
    try:
        import urllib3
    except ImportError as exc:
        notes.append(f"urllib3 skipped: not installed ({exc})")
    else:
        versions["urllib3"] = metadata.version("urllib3")
        pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=TIMEOUT, read=TIMEOUT), retries=False
        )
        stack.callback(pool.clear)
        clients.append(urllib3_client(pool))
    try:
        from curl_cffi import requests as cffi_requests
        from curl_cffi.__version__ import __curl_version__
    except ImportError as exc:
        notes.append(f"curl_cffi skipped: not installed ({exc})")
    else:
        versions["curl_cffi"] = f"{metadata.version('curl_cffi')} ({__curl_version__})"
        cffi_session: cffi_requests.Session[cffi_requests.Response] = cffi_requests.Session(
            timeout=TIMEOUT, trust_env=False
        )
        stack.callback(cffi_session.close)
        clients.append(_plain_getter("curl_cffi.requests.Session().get", cffi_session.get))
    return clients


def peer_module_calls(notes: list[str]) -> list[Client]:
    """The peers' module-level calls (proxies are off through the cleaned environment)."""
    clients: list[Client] = []
    try:
        import requests
    except ImportError:
        notes.append("requests.get skipped: not installed")
    else:
        get = functools.partial(requests.get, timeout=TIMEOUT)
        clients.append(_plain_getter("requests.get", get, "a new Session per call"))
    try:
        import httpx
    except ImportError:
        notes.append("httpx.get skipped: not installed")
    else:
        get_httpx = functools.partial(httpx.get, timeout=TIMEOUT, trust_env=False)
        clients.append(_plain_getter("httpx.get", get_httpx, "a new Client per call"))
    try:
        from curl_cffi import requests as cffi_requests
    except ImportError:
        notes.append("curl_cffi.requests.get skipped: not installed")
    else:
        get_cffi = functools.partial(cffi_requests.get, timeout=TIMEOUT)
        clients.append(
            _plain_getter(
                "curl_cffi.requests.get", get_cffi, "a new Session per call (thread-local handle)"
            )
        )
    return clients


# --- the harness -------------------------------------------------------------------------------


def batch_timer(client: Client, url: str, size: int) -> Timer:
    """Times `n` GETs of `url` by `client`, each checked for a 200 and a `size`-byte body."""

    def run(n: int) -> tuple[int, int]:
        fetch = client.prepare(url)
        wrong = 0
        clock, cpu = time.perf_counter_ns, time.thread_time_ns
        cpu_start = cpu()
        start = clock()
        for _ in range(n):
            if len(fetch()) != size:
                wrong += 1
        elapsed = clock() - start
        cpu_elapsed = cpu() - cpu_start
        if wrong:
            raise BadResponse(f"{client.name}: {wrong} of {n} bodies of {url} were not {size} B")
        return elapsed, cpu_elapsed

    return run


@dataclasses.dataclass(frozen=True)
class Timing:
    """An interleaved timer's µs per call, per round: wall time and the client's CPU time."""

    wall: Stats
    cpu: Stats


def interleave(
    timers: Sequence[tuple[str, Timer]], calls: int, rounds: int, progress: str = ""
) -> dict[str, Timing]:
    """Time `calls` calls of every timer per round, for `rounds` rounds, in rotating order.

    Each round runs every timer once (A B C, then B C A, ...), so slow drifts of the machine hit
    all of them alike, and no timer always runs right after the same neighbour. One untimed
    warm-up batch of each comes first; garbage is collected before each batch, untimed.
    """
    for _, timer in timers:
        timer(max(2, calls // 5))
    wall: dict[str, list[float]] = {name: [] for name, _ in timers}
    cpu: dict[str, list[float]] = {name: [] for name, _ in timers}
    for round_number in range(rounds):
        if progress:
            print(f"\r{progress}: round {round_number + 1}/{rounds}", end="", file=sys.stderr)
        shift = round_number % len(timers)
        for name, timer in [*timers[shift:], *timers[:shift]]:
            gc.collect()
            elapsed, cpu_elapsed = timer(calls)
            wall[name].append(elapsed / calls / 1000)  # µs per call
            cpu[name].append(cpu_elapsed / calls / 1000)
    if progress:
        print(file=sys.stderr)
    return {name: Timing(Stats(tuple(wall[name])), Stats(tuple(cpu[name]))) for name, _ in timers}


def keeps_connection(client: Client, url: str) -> bool:
    """True if three consecutive requests went over one connection (nginx's $connection)."""
    seen = {client.connection(url) for _ in range(3)}
    if "" in seen:
        raise BadResponse(f"{client.name}: no {CONNECTION_HEADER} header in the response")
    return len(seen) == 1


@dataclasses.dataclass
class Section:
    """One interleaved comparison: its clients, and per size their times and ratios."""

    title: str
    clients: list[Client]
    batch: int
    times: dict[str, dict[str, Stats]] = dataclasses.field(default_factory=dict)
    ratios: dict[str, dict[str, Stats]] = dataclasses.field(default_factory=dict)
    cpu: dict[str, dict[str, Stats]] = dataclasses.field(default_factory=dict)
    keep_alive: dict[str, bool] = dataclasses.field(default_factory=dict)

    def run(self, server: Nginx, rounds: int) -> None:
        urls = {label: server.url(_file_name(size)) for label, size in SIZES.items()}
        for client in self.clients:
            self.keep_alive[client.name] = keeps_connection(client, urls["1 KiB"])
        timers = [
            (f"{label}\t{client.name}", batch_timer(client, urls[label], size))
            for label, size in SIZES.items()
            for client in self.clients
        ]
        results = interleave(timers, self.batch, rounds, progress=self.title)
        for label in SIZES:
            timings = {c.name: results[f"{label}\t{c.name}"] for c in self.clients}
            self.times[label] = {name: timing.wall for name, timing in timings.items()}
            self.cpu[label] = {name: timing.cpu for name, timing in timings.items()}
            reference = self.times[label][REFERENCE]
            self.ratios[label] = {
                name: paired_ratio(stats, reference) for name, stats in self.times[label].items()
            }

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "batch": self.batch,
            "clients": {
                c.name: {
                    "note": c.note,
                    "keeps_connection": self.keep_alive.get(c.name),
                    **{
                        label: {
                            "us_per_request": self.times[label][c.name].as_json(2),
                            "ratio_to_pycurl": self.ratios[label][c.name].as_json(3),
                            "client_cpu_us_per_request": self.cpu[label][c.name].as_json(2),
                        }
                        for label in self.times
                    },
                }
                for c in self.clients
            },
        }


def _file_name(size: int) -> str:
    return f"{size // 1024}k.bin"


# --- the optional breakdown: where curlx.Session.get's time goes ------------------------------


class RecordingCurl(pycurl.Curl):
    """A pycurl.Curl that records the calls made on it (while `recording` is set)."""

    def __init__(self) -> None:
        super().__init__()
        self.recording = False
        self.calls: list[tuple[str, int, Any]] = []

    def setopt(self, option: int, value: Any, **kwargs: Any) -> None:
        if self.recording:
            self.calls.append(("setopt", option, value))
        super().setopt(option, value, **kwargs)

    def reset(self) -> None:
        if self.recording:
            self.calls.append(("reset", 0, None))
        super().reset()

    def perform(self) -> None:
        if self.recording:
            self.calls.append(("perform", 0, None))
        super().perform()

    def getinfo(self, option: int) -> Any:
        if self.recording:
            self.calls.append(("getinfo", option, None))
        return super().getinfo(option)

    def getinfo_raw(self, option: int) -> Any:
        if self.recording:
            self.calls.append(("getinfo", option, None))
        return super().getinfo_raw(option)


class NoNetworkCurl(pycurl.Curl):
    """A pycurl.Curl whose perform() does nothing while `live` is off.

    After one real transfer its getinfo values stay those of that transfer, so a client on it
    runs all of its own code, with no network and no server in the time measured.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = True

    def perform(self) -> None:
        if self.live:
            super().perform()


@dataclasses.dataclass(frozen=True)
class Recorded:
    """What curlx asked libcurl for: the handle's set-up, and one steady-state GET."""

    setup: tuple[tuple[int, Any], ...]
    """setopt calls since the last reset, up to the first recorded GET (callbacks left out)."""
    resets: int
    before: tuple[tuple[int, Any], ...]
    """setopt calls of the steady-state GET before its perform (callbacks left out)."""
    callbacks: int
    after: tuple[int, ...]
    """getinfo options read after the perform."""

    def as_json(self) -> dict[str, Any]:
        return {
            "reset": self.resets,
            "setopt": len(self.before) + self.callbacks,
            "getinfo": len(self.after),
            "setup_options": [_option_name(o) for o, _ in self.setup],
            "options": [_option_name(o) for o, _ in self.before],
            "getinfo_options": [_info_name(o) for o in self.after],
        }

    def summary(self) -> str:
        options = ", ".join(self.as_json()["options"])
        return (
            f"{self.resets} reset, {len(self.before) + self.callbacks} setopt ({options} + "
            f"{self.callbacks} callbacks), 1 perform, {len(self.after)} getinfo"
        )


def _attributes(obj: object) -> list[str]:
    names = list(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return names


def find_handle(obj: object, depth: int = 3) -> tuple[object, str] | None:
    """(owner, attribute) of the first pycurl.Curl reachable from `obj` through attributes."""
    if depth == 0:
        return None
    for name in _attributes(obj):
        value = getattr(obj, name, None)
        if isinstance(value, pycurl.Curl):
            return obj, name
    for name in _attributes(obj):
        value = getattr(obj, name, None)
        if value is None or isinstance(value, str | bytes | int | float | list | dict | tuple):
            continue
        if type(value).__module__.startswith("curlx"):
            found = find_handle(value, depth - 1)
            if found:
                return found
    return None


def swap_handle(obj: object, handle: pycurl.Curl) -> bool:
    """Put `handle` in place of the pycurl.Curl found inside `obj` (closing that one)."""
    found = find_handle(obj)
    if found is None:
        return False
    owner, attribute = found
    getattr(owner, attribute).close()
    setattr(owner, attribute, handle)
    return True


def pooled_sessions() -> list[curlx.Session]:
    """The idle Sessions behind curlx.get: curlx.Session items of lists in curlx's modules."""
    sessions: list[curlx.Session] = []
    for name, module in list(sys.modules.items()):
        if name == "curlx" or name.startswith("curlx."):
            for value in vars(module).values():
                if isinstance(value, list) and value and isinstance(value[0], curlx.Session):
                    sessions += [s for s in value if isinstance(s, curlx.Session)]
    return sessions


_CALLBACKS = (pycurl.WRITEFUNCTION, pycurl.HEADERFUNCTION)


def record(session: curlx.Session, get: Callable[[str], object], url: str) -> Recorded | None:
    """The libcurl calls `get(url)` makes on `session`'s handle (None if it is not found).

    Looks through the Session's private attributes for its pycurl.Curl and swaps in one that
    records the calls, so this works whatever curlx's internals look like. The third GET is
    the steady state; the set-up is what the handle was given since its last reset before it.
    """
    handle = RecordingCurl()
    if not swap_handle(session, handle):
        return None
    handle.recording = True
    get(url)
    get(url)
    steady = len(handle.calls)
    get(url)
    handle.recording = False
    history, calls = handle.calls[:steady], handle.calls[steady:]
    resets = [i for i, (kind, _, _) in enumerate(history) if kind == "reset"]
    since_reset = history[resets[-1] + 1 :] if resets else history
    setup: dict[int, Any] = {}
    for kind, option, value in since_reset:
        if kind == "setopt" and option not in _CALLBACKS:
            setup[option] = value
    perform_at = [kind for kind, _, _ in calls].index("perform")
    before = [(o, v) for kind, o, v in calls[:perform_at] if kind == "setopt"]
    return Recorded(
        setup=tuple(setup.items()),
        resets=sum(kind == "reset" for kind, _, _ in calls),
        before=tuple((o, v) for o, v in before if o not in _CALLBACKS),
        callbacks=sum(o in _CALLBACKS for o, _ in before),
        after=tuple(o for kind, o, _ in calls[perform_at:] if kind == "getinfo"),
    )


def replay_client(stack: ExitStack, recorded: Recorded, name: str) -> Client:
    """Raw pycurl making exactly the libcurl calls curlx made, with no Python layer around."""
    handle = pycurl.Curl()
    stack.callback(handle.close)
    setopt, perform, getinfo, reset = handle.setopt, handle.perform, handle.getinfo, handle.reset
    resets, after = recorded.resets, recorded.after
    write, header, code = pycurl.WRITEFUNCTION, pycurl.HEADERFUNCTION, pycurl.RESPONSE_CODE
    for option, value in recorded.setup:
        setopt(option, value)

    def prepare(url: str) -> Fetch:
        options = [(o, url if o == pycurl.URL else v) for o, v in recorded.before]
        if not any(o == pycurl.URL for o, _ in recorded.setup + recorded.before):
            setopt(pycurl.URL, url)

        def fetch() -> bytes:
            body = io.BytesIO()
            lines: list[bytes] = []
            for _ in range(resets):
                reset()
            for option, value in options:
                setopt(option, value)
            setopt(write, body.write)
            setopt(header, lines.append)
            perform()
            for option in after:
                getinfo(option)
            if getinfo(code) != 200:
                raise BadResponse(f"{name}: status {getinfo(code)}")
            return body.getvalue()

        return fetch

    def connection(url: str) -> str:
        return ""

    return Client(name, prepare, connection)


def _rebuilder(info: Any) -> Callable[[], object]:
    """A call that builds a copy of `info` (a dataclass or a NamedTuple) from its fields."""
    cls: Callable[..., object] = type(info)
    if dataclasses.is_dataclass(info):
        fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    else:
        fields = info._asdict()
    return functools.partial(cls, **fields)


def _callbacks(handle: pycurl.Curl) -> None:
    handle.setopt(pycurl.WRITEFUNCTION, io.BytesIO().write)
    handle.setopt(pycurl.HEADERFUNCTION, [].append)


def _micro(func: Callable[[], object], n: int) -> float:
    """CPU µs per call of `func` (this thread's CPU time), the best of 5 batches of `n` calls.

    CPU time rather than wall time, as these are pure CPU work: time spent descheduled while
    other processes run does not count.
    """
    best = float("inf")
    clock = time.thread_time_ns
    for _ in range(5):
        start = clock()
        for _ in range(n):
            func()
        best = min(best, (clock() - start) / n / 1000)
    return best


def measure_no_network(stack: ExitStack, url: str, settings: Settings) -> dict[str, float]:
    """CPU µs per call of each client's own work: perform() is a no-op after a real transfer.

    Best of 5 batches; the difference to the raw pycurl loop is the Python (and extra libcurl
    option and getinfo) work a client adds to every request, free of network and scheduling.
    """
    handles: list[NoNetworkCurl] = []

    def stubbed(obj: object) -> bool:
        handle = NoNetworkCurl()
        stack.callback(handle.close)
        handles.append(handle)
        return swap_handle(obj, handle)

    raw = NoNetworkCurl()
    stack.callback(raw.close)
    handles.append(raw)
    raw.setopt(pycurl.URL, url)
    raw.setopt(pycurl.NOSIGNAL, 1)
    raw.setopt(pycurl.TIMEOUT_MS, int(TIMEOUT * 1000))

    def raw_get() -> bytes:
        body = io.BytesIO()
        lines: list[bytes] = []
        raw.setopt(pycurl.WRITEFUNCTION, body.write)
        raw.setopt(pycurl.HEADERFUNCTION, lines.append)
        raw.perform()
        if raw.getinfo(pycurl.RESPONSE_CODE) != 200:
            raise BadResponse("no-network raw: status")
        return body.getvalue()

    calls: dict[str, Callable[[], object]] = {"pycurl, reused handle (reference)": raw_get}
    plain = curlx.Session(timeout=TIMEOUT)
    per_call = curlx.Session()
    stack.callback(plain.close)
    stack.callback(per_call.close)
    if stubbed(plain) and stubbed(per_call):
        calls["curlx.Session(timeout=10).get(url)"] = functools.partial(plain.get, url)
        calls["curlx.Session().get(url, timeout=10)"] = functools.partial(
            per_call.get, url, timeout=TIMEOUT
        )
    curlx.get(url)
    pooled = pooled_sessions()
    if len(pooled) == 1 and stubbed(pooled[0]):
        calls["curlx.get(url)"] = functools.partial(curlx.get, url)
        calls["curlx.get(url, timeout=10)"] = functools.partial(curlx.get, url, timeout=TIMEOUT)
    for call in calls.values():  # real transfers first, so getinfo has answers
        for _ in range(3):
            call()
    for handle in handles:
        handle.live = False
    try:
        n = max(200, settings.session_batch * 5)
        return {name: round(_micro(call, n), 3) for name, call in calls.items()}
    finally:
        for handle in handles:
            handle.live = True


def curlx_client(name: str, get: Callable[[str], curlx.Response], note: str = "") -> Client:
    """A curlx call as a client (`get(url)` returns a curlx.Response)."""

    def prepare(url: str) -> Fetch:
        def fetch() -> bytes:
            response = get(url)
            if response.status_code != 200:
                raise BadResponse(f"{name}: status {response.status_code}")
            return response.content

        return fetch

    def connection(url: str) -> str:
        return get(url).headers.get(CONNECTION_HEADER, "")

    return Client(name, prepare, connection, note)


def measure_breakdown(server: Nginx, settings: Settings) -> dict[str, Any]:
    """Session.get and curlx.get against raw pycurl doing the same libcurl calls, the cost of
    some pieces in a loop, and a cProfile of Session.get; all on the 1 KiB file."""
    url = server.url(_file_name(SIZES["1 KiB"]))
    result: dict[str, Any] = {"libcurl_calls": {}}
    with ExitStack() as stack:
        clients = [raw_pycurl(stack)]
        variants: list[tuple[str, Callable[[], curlx.Session], dict[str, Any]]] = [
            ("Session(timeout=10).get(url)", functools.partial(curlx.Session, timeout=TIMEOUT), {}),
            ("Session().get(url, timeout=10)", curlx.Session, {"timeout": TIMEOUT}),
        ]
        for label, make, kwargs in variants:
            recording = make()  # a Session of its own: recording slows its handle down
            stack.callback(recording.close)
            recorded = record(recording, functools.partial(recording.get, **kwargs), url)
            if recorded is None:
                result["note"] = "no pycurl.Curl found in a curlx.Session: calls not recorded"
            else:
                result["libcurl_calls"][label] = recorded.as_json()
                result.setdefault("summaries", {})[label] = recorded.summary()
                clients.append(replay_client(stack, recorded, f"pycurl replaying {label}"))
            session = make()
            stack.callback(session.close)
            clients.append(curlx_client(f"curlx.{label}", functools.partial(session.get, **kwargs)))
        clients.append(
            curlx_client(
                "curlx.get(url, timeout=10)", functools.partial(curlx.get, timeout=TIMEOUT)
            )
        )
        clients.append(curlx_client("curlx.get(url)", curlx.get))
        timers = [
            (f"{label}\t{c.name}", batch_timer(c, server.url(_file_name(size)), size))
            for label, size in SIZES.items()
            for c in clients
        ]
        times = interleave(timers, settings.session_batch, settings.rounds, "breakdown")
        result["ladder"] = {}
        for label in SIZES:
            reference = times[f"{label}\t{REFERENCE}"].wall
            result["ladder"][label] = {
                c.name: {
                    "us_per_request": times[f"{label}\t{c.name}"].wall.as_json(2),
                    "ratio_to_pycurl": paired_ratio(
                        times[f"{label}\t{c.name}"].wall, reference
                    ).as_json(3),
                    "client_cpu_us_per_request": times[f"{label}\t{c.name}"].cpu.as_json(2),
                }
                for c in clients
            }
        result["no_network_us"] = measure_no_network(stack, url, settings)
        result["pieces_us"] = measure_pieces(stack, url, settings)
        result["profiles"] = {}
        for label, make, kwargs in variants:
            session = make()
            stack.callback(session.close)
            get = functools.partial(session.get, **kwargs)
            result["profiles"][label] = profile_get(get, url, settings.session_batch * 5)
    return result


def measure_pieces(stack: ExitStack, url: str, settings: Settings) -> dict[str, float]:
    """CPU µs per call of pieces of a GET, warm in a loop: public API and pycurl only."""
    session = curlx.Session(timeout=TIMEOUT)
    stack.callback(session.close)
    response = session.get(url)
    raw_lines = [f"{k}: {v}\r\n".encode("latin-1") for k, v in response.headers.multi_items()]
    spare = pycurl.Curl()
    stack.callback(spare.close)
    done = pycurl.Curl()  # a handle that has completed a transfer, for getinfo
    stack.callback(done.close)
    done.setopt(pycurl.URL, url)
    done.setopt(pycurl.WRITEFUNCTION, io.BytesIO().write)
    done.perform()
    n = max(200, settings.session_batch * 10)
    pieces: dict[str, float] = {
        "empty call (not subtracted below)": _micro(lambda: None, n),
        "curlx.Response(...) construction": _micro(
            lambda: curlx.Response(
                status_code=200,
                content=response.content,
                header_lines=raw_lines,
                info=response.info,
                method="GET",
                request_url=url,
            ),
            n,
        ),
        "curlx.TransferInfo(...) of a response": _micro(_rebuilder(response.info), n),
        "handle.reset()": _micro(spare.reset, n),
        "io.BytesIO() + 2 callback setopts": _micro(functools.partial(_callbacks, spare), n),
        "getinfo(RESPONSE_CODE)": _micro(functools.partial(done.getinfo, pycurl.RESPONSE_CODE), n),
        "getinfo(TOTAL_TIME_T)": _micro(functools.partial(done.getinfo, pycurl.TOTAL_TIME_T), n),
        "getinfo(EFFECTIVE_URL)": _micro(functools.partial(done.getinfo, pycurl.EFFECTIVE_URL), n),
    }
    recording = curlx.Session(timeout=TIMEOUT)
    stack.callback(recording.close)
    recorded = record(recording, recording.get, url)
    if recorded is not None:
        setup, after = recorded.setup, recorded.after

        def set_all() -> None:
            spare.reset()  # as curlx does: without it, each COOKIEFILE "" grows a list
            for option, value in setup:
                spare.setopt(option, value)

        def get_all() -> None:
            for option in after:
                done.getinfo(option)

        pieces[f"reset() + the {len(setup)} set-up setopt calls"] = _micro(set_all, n)
        pieces[f"the {len(after)} getinfo calls of a GET"] = _micro(get_all, n)
    return {k: round(v, 3) for k, v in pieces.items()}


_OPTION_NAMES = (
    "URL NOSIGNAL PROTOCOLS REDIR_PROTOCOLS PROTOCOLS_STR REDIR_PROTOCOLS_STR ACCEPT_ENCODING "
    "HTTPHEADER FOLLOWLOCATION MAXREDIRS CONNECTTIMEOUT_MS LOW_SPEED_LIMIT LOW_SPEED_TIME "
    "TIMEOUT_MS SSL_VERIFYPEER SSL_VERIFYHOST PROXY_SSL_VERIFYPEER PROXY_SSL_VERIFYHOST CAINFO "
    "PROXY_CAINFO CAPATH PROXY_CAPATH SSLCERT SSLKEY HTTPAUTH USERNAME PASSWORD COOKIEFILE "
    "COOKIE PROXY MAXFILESIZE_LARGE HTTP_VERSION CUSTOMREQUEST NOBODY POST POSTFIELDSIZE "
    "POSTFIELDSIZE_LARGE COPYPOSTFIELDS HTTPPOST WRITEFUNCTION HEADERFUNCTION"
)
_INFO_NAMES = (
    "EFFECTIVE_URL EFFECTIVE_METHOD RESPONSE_CODE INFO_HTTP_VERSION PRIMARY_IP PRIMARY_PORT "
    "NAMELOOKUP_TIME_T CONNECT_TIME_T APPCONNECT_TIME_T PRETRANSFER_TIME_T STARTTRANSFER_TIME_T "
    "TOTAL_TIME_T REDIRECT_COUNT REQUEST_SIZE SIZE_UPLOAD_T SIZE_DOWNLOAD_T OS_ERRNO "
    "SSL_VERIFYRESULT PROXY_SSL_VERIFYRESULT HTTP_CONNECTCODE PROXY_ERROR RETRY_AFTER LOCAL_IP "
    "LOCAL_PORT CONTENT_TYPE"
)


def _namer(names: str, extra: dict[int, str] | None = None) -> Callable[[int], str]:
    """The pycurl name of a constant among `names` (its number if it is none of them)."""
    table: dict[int, str] = dict(extra or {})
    for name in names.split():
        if hasattr(pycurl, name):
            table.setdefault(getattr(pycurl, name), name)
    return lambda value: table.get(value, str(value))


# libcurl options pycurl has no constant for: CURLOPT_SUPPRESS_CONNECT_HEADERS.
_option_name = _namer(_OPTION_NAMES, {265: "SUPPRESS_CONNECT_HEADERS"})
_info_name = _namer(_INFO_NAMES)


def profile_get(get: Callable[[str], curlx.Response], url: str, n: int) -> list[dict[str, Any]]:
    """cProfile of `n` calls of `get(url)`: the functions with the most own time, per call."""
    for _ in range(50):
        get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        get(url).content  # noqa: B018
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows: list[dict[str, Any]] = []
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, function), (_, calls, own, cumulative, _) in table.items():
        where = Path(filename).name if filename != "~" else ""
        rows.append(
            {
                "function": f"{where}:{line}({function})" if where else function,
                "calls_per_request": round(calls / n, 2),
                "own_us": round(own / n * 1e6, 3),
                "cumulative_us": round(cumulative / n * 1e6, 3),
            }
        )
    rows.sort(key=lambda row: row["own_us"], reverse=True)
    return rows[:20]


# --- the report --------------------------------------------------------------------------------


def environment(nginx: str, versions: dict[str, str]) -> dict[str, Any]:
    return {
        "date": utc_now(),
        **machine(),
        "pycurl": pycurl.version,
        "curlx": curlx.__version__,
        "curlx_source_sha256": source_digest(),
        "nginx": nginx,
        **{f"peer {name}": version for name, version in versions.items()},
    }


def section_table(section: Section) -> str:
    header = ["client"]
    for label in SIZES:
        header += [f"{label}: µs/req (p25-p75)", "× pycurl", "client CPU µs"]
    header.append("keep-alive")
    rows = []
    for client in section.clients:
        row = [client.name + (f" ({client.note})" if client.note else "")]
        for label in SIZES:
            t = section.times[label][client.name]
            r = section.ratios[label][client.name]
            cpu = section.cpu[label][client.name]
            row += [
                f"{t.median:,.1f} ({t.p25:,.1f}-{t.p75:,.1f})",
                f"{r.median:.2f}",
                f"{cpu.median:,.1f}",
            ]
        row.append("yes" if section.keep_alive[client.name] else "no")
        rows.append(row)
    return markdown_table(header, rows)


def check_targets(session: Section, module: Section) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    checks: list[dict[str, Any]] = []
    for label in SIZES:
        ratio = session.ratios[label][SESSION].median
        checks.append(
            {
                "target": f"{label}: {SESSION} ≤ {SESSION_TARGET}× raw pycurl",
                "measured": f"{ratio:.3f}×",
                "met": ratio <= SESSION_TARGET,
            }
        )
        ours = session.times[label][SESSION].median
        for name, stats in session.times[label].items():
            if name in (SESSION, REFERENCE):
                continue
            checks.append(
                {
                    "target": f"{label}: {SESSION} faster than {name}",
                    "measured": f"{ours:,.1f} vs {stats.median:,.1f} µs",
                    "met": ours < stats.median,
                }
            )
        ratio = module.ratios[label][MODULE].median
        checks.append(
            {
                "target": f"{label}: {MODULE} ≤ {MODULE_TARGET}× raw pycurl (reused handle)",
                "measured": f"{ratio:.3f}×",
                "met": ratio <= MODULE_TARGET,
            }
        )
    return checks


def breakdown_report(breakdown: dict[str, Any]) -> str:
    out = ["## Breakdown: curlx vs raw pycurl", ""]
    if "note" in breakdown:
        out += [breakdown["note"], ""]
    for label, summary in breakdown.get("summaries", {}).items():
        out.append(f"- libcurl calls per steady-state `{label}`: {summary}")
    out.append("")
    ladder: dict[str, dict[str, Any]] = breakdown["ladder"]
    header = ["loop (interleaved)"]
    for label in ladder:
        header += [f"{label}: wall µs/req", "× pycurl", "client CPU µs/req"]
    rows = []
    for name in next(iter(ladder.values())):
        row = [name]
        for by_name in ladder.values():
            numbers = by_name[name]
            row += [
                f"{numbers['us_per_request']['median']:,.1f}",
                f"{numbers['ratio_to_pycurl']['median']:.2f}",
                f"{numbers['client_cpu_us_per_request']['median']:,.1f}",
            ]
        rows.append(row)
    out += [markdown_table(header, rows), ""]
    reference = breakdown["no_network_us"].get(REFERENCE, 0.0)
    rows = [
        [name, f"{value:.2f}", f"{value - reference:+.2f}"]
        for name, value in breakdown["no_network_us"].items()
    ]
    out += [
        "The same calls with perform() a no-op (no network, no server: each client's own work):",
        "",
        markdown_table(["call, perform() a no-op", "CPU µs/call", "vs pycurl"], rows),
        "",
    ]
    rows = [[name, f"{value:.3f}"] for name, value in breakdown["pieces_us"].items()]
    out += [markdown_table(["piece, warm in a loop", "CPU µs/call"], rows), ""]
    for label, profile in breakdown["profiles"].items():
        rows = [
            [
                f"`{row['function']}`",
                f"{row['calls_per_request']:g}",
                f"{row['own_us']:.2f}",
                f"{row['cumulative_us']:.2f}",
            ]
            for row in profile
        ]
        out += [
            f"cProfile of `{label}` per request (the profiler inflates Python calls):",
            "",
            markdown_table(["function", "calls", "own µs", "cumulative µs"], rows),
            "",
        ]
    return "\n".join(out)


def report(
    env: dict[str, Any],
    settings: Settings,
    sections: Sequence[Section],
    checks: Sequence[dict[str, Any]],
    notes: Sequence[str],
    breakdown: dict[str, Any] | None,
) -> str:
    out = ["# HTTP client benchmark: sequential keep-alive GETs, local nginx", ""]
    out += [f"- {key}: {value}" for key, value in env.items()]
    out += [
        f"- rounds: {settings.rounds}; batch: {settings.session_batch} requests (reused clients), "
        f"{settings.module_batch} (module-level calls); timeout {TIMEOUT:g} s everywhere",
        "",
    ]
    for section in sections:
        out += [
            f"## {section.title}",
            "",
            "Median per-request wall time over the rounds; × pycurl is the median of the "
            "per-round ratios; client CPU is this process's CPU time per request (median).",
            "",
            section_table(section),
            "",
        ]
    out += ["## Targets", ""]
    rows = [[c["target"], c["measured"], "met" if c["met"] else "MISSED"] for c in checks]
    out += [markdown_table(["target", "measured", ""], rows, right_from=3), ""]
    if notes:
        out += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    if breakdown is not None:
        out.append(breakdown_report(breakdown))
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time where Session.get's time goes"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds per section")
    parser.add_argument("--workers", type=int, default=1, help="nginx worker processes")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="the JSON file")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.rounds:
        settings = dataclasses.replace(settings, rounds=args.rounds)

    notes = [
        f"{variable} removed from the environment (loopback only)"
        for variable in drop_proxy_variables()
    ]
    binary = ensure_nginx()
    versions: dict[str, str] = {}
    files = {_file_name(size): os.urandom(size) for size in SIZES.values()}
    load_before = load_average()
    if load_before and load_before[0] > 0.5:
        print(
            f"warning: the load average is {load_before[0]:.2f}: other processes compete for "
            "the CPUs, so the times are noisier and higher",
            file=sys.stderr,
        )
    started = time.monotonic()
    with sigterm_as_interrupt(), Nginx(binary, files, workers=args.workers) as server:
        print(f"nginx pid {server.pid} on {server.url('')}", file=sys.stderr)
        with ExitStack() as stack:
            reference = raw_pycurl(stack)
            sessions = Section(
                "Reused clients: sequential keep-alive GETs",
                [reference, curlx_session(stack), *peer_sessions(stack, notes, versions)],
                settings.session_batch,
            )
            module = Section(
                "Module-level one-shot calls",
                [reference, curlx_module(), *peer_module_calls(notes)],
                settings.module_batch,
            )
            for section in (sessions, module):
                section.run(server, settings.rounds)
        breakdown = measure_breakdown(server, settings) if args.breakdown else None
    env = environment(nginx_version(binary), versions)
    env["seconds"] = round(time.monotonic() - started, 1)
    env["load_average_before"] = load_before
    env["load_average_after"] = load_average()
    checks = check_targets(sessions, module)
    print(report(env, settings, [sessions, module], checks, notes, breakdown))
    result = {
        "environment": env,
        "settings": dataclasses.asdict(settings),
        "nginx_workers": args.workers,
        "sizes": SIZES,
        "sections": [sessions.as_json(), module.as_json()],
        "targets": checks,
        "notes": notes,
        "breakdown": breakdown,
    }
    write_json(args.output, result)
    print(f"results written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: nginx stopped", file=sys.stderr)
        sys.exit(130)
