"""What curlx's typed errors cost on the error path, next to raw pycurl and other HTTP clients.

Run from the repository root (the peers come with the ``bench`` extra)::

    pip install -e '.[bench]'
    python bench/bench_errors.py                # full run
    python bench/bench_errors.py --quick        # a few seconds, to check that it works
    python bench/bench_errors.py --breakdown    # also time each step of curlx's error path

It measures, in one run:

1. ``curlx.translate()`` per call, in ns: with no handle, with a handle that has just failed a
   refused connection (so the ~20 getinfo values are real), and for scale a bare
   ``pycurl.error`` built, and built+raised+caught.
2. The wall time of one refused connection (``GET http://127.0.0.1:<closed port>/``) with a
   reused raw ``pycurl.Curl``, a reused ``curlx.Curl``, and a ``curlx.Curl`` whose error is also
   formatted with ``str(e)``, interleaved round by round.
3. The same refused connection with requests, httpx and curl_cffi, each with its own reused
   client, in the same rounds (a peer that is not installed is skipped with a note).

Everything stays on the loopback interface: the port is one nothing listens on, below the
ephemeral port range (so none of a full run's ~120,000 connects can get it as its local port
and connect to itself), and proxies from the environment are ignored by every client.

A Markdown report goes to stdout and the numbers to bench/results/errors.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pycurl
from _common import (
    Stats,
    busy_note,
    closed_port_below_ephemeral,
    cpu_times,
    machine,
    machine_use,
    markdown_table,
    paired_ratio,
    peer,
    source_digest,
    utc_now,
    write_json,
)

import curlx

TARGET_RATIO = 1.15
"""The goal for a reused curlx.Curl against a reused pycurl.Curl on a refused connection."""
SESSION_TARGET_RATIO = 1.35
"""The goal for a curlx.Session's get() against a reused pycurl.Curl on the same connection."""
TIMEOUT_MS = 2000
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "errors.json"
MESSAGE = "Failed to connect to 127.0.0.1:1 after 0 ms: Could not connect to server"

Timer = Callable[[int], int]
"""Runs its body `n` times and returns the elapsed time in ns."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """How long each section runs."""

    micro_calls: int
    """Calls per timed batch in section 1 (and in the breakdown)."""
    micro_repeats: int
    """Timed batches per micro benchmark; the median batch is reported."""
    batch: int
    """Requests per timed batch in sections 2 and 3."""
    rounds: int
    """Interleaved rounds in sections 2 and 3: each round times one batch of every client."""


FULL = Settings(micro_calls=20_000, micro_repeats=15, batch=500, rounds=41)
QUICK = Settings(micro_calls=2_000, micro_repeats=5, batch=100, rounds=5)


@dataclasses.dataclass(frozen=True)
class Client:
    """One client of sections 2 and 3: what it is, what it catches, and its batch timer."""

    name: str
    catches: str
    timer: Timer


# --- the harness -------------------------------------------------------------------------------


def interleave(timers: Sequence[tuple[str, Timer]], calls: int, rounds: int) -> dict[str, Stats]:
    """Time `calls` calls of every timer per round, for `rounds` rounds, in rotating order.

    Each round runs every timer once (A B C, then B C A, ...), so slow drifts of the machine hit
    all of them alike, and no timer always runs right after the same neighbour. One untimed
    warm-up batch of each comes first.
    """
    for _, timer in timers:
        timer(max(1, calls // 10))
    per_call: dict[str, list[float]] = {name: [] for name, _ in timers}
    for round_number in range(rounds):
        shift = round_number % len(timers)
        for name, timer in [*timers[shift:], *timers[:shift]]:
            per_call[name].append(timer(calls) / calls)
    return {name: Stats(tuple(values)) for name, values in per_call.items()}


def _discard(data: bytes) -> None:
    return None


def configure(handle: pycurl.Curl, url: str) -> None:
    """The options every curl handle of this benchmark gets, raw or curlx alike."""
    handle.setopt(pycurl.URL, url)
    handle.setopt(pycurl.TIMEOUT_MS, TIMEOUT_MS)
    handle.setopt(pycurl.NOSIGNAL, 1)
    handle.setopt(pycurl.PROXY, "")  # ignore http_proxy & co: loopback only, as for the peers
    handle.setopt(pycurl.WRITEFUNCTION, _discard)


def refused_error(handle: pycurl.Curl) -> pycurl.error:
    """Perform once on a handle aimed at a closed port; the refused connection's error."""
    try:
        handle.perform()
    except pycurl.error as exc:
        if not exc.args or exc.args[0] != pycurl.E_COULDNT_CONNECT:
            raise RuntimeError(f"expected a refused connection (7), got {exc.args!r}") from exc
        return exc
    raise RuntimeError("the closed port accepted a connection; run the benchmark again")


# --- section 1: translate() and pycurl.error in a loop ----------------------------------------


def _time_empty_loop(n: int) -> int:
    start = time.perf_counter_ns()
    for _ in range(n):
        pass
    return time.perf_counter_ns() - start


def _time_construct(n: int) -> int:
    error = pycurl.error
    start = time.perf_counter_ns()
    for _ in range(n):
        error(7, MESSAGE)
    return time.perf_counter_ns() - start


def _time_raise_catch(n: int) -> int:
    error = pycurl.error
    start = time.perf_counter_ns()
    for _ in range(n):
        try:
            raise error(7, MESSAGE)
        except error:
            pass
    return time.perf_counter_ns() - start


def _translate_timer(exc: pycurl.error, handle: pycurl.Curl | None) -> Timer:
    translate = curlx.translate

    def run(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            translate(exc, handle)
        return time.perf_counter_ns() - start

    return run


def _str_timer(error: curlx.CurlError) -> Timer:
    def run(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            str(error)
        return time.perf_counter_ns() - start

    return run


def measure_translate(url: str, settings: Settings) -> dict[str, Stats]:
    """Section 1: ns per call of translate() and of a bare pycurl.error, warm, in a loop."""
    with ExitStack() as stack:
        handle = pycurl.Curl()
        stack.callback(handle.close)
        configure(handle, url)
        failed = refused_error(handle)
        typed = curlx.Curl()
        stack.callback(typed.close)
        configure(typed, url)
        try:
            typed.perform()
        except curlx.CouldntConnect:
            pass
        bare = pycurl.error(7, MESSAGE)
        translated = curlx.translate(failed, handle)
        timers: list[tuple[str, Timer]] = [
            ("empty loop iteration (included in every row)", _time_empty_loop),
            ("pycurl.error(7, msg): construct", _time_construct),
            ("pycurl.error(7, msg): construct + raise + catch", _time_raise_catch),
            ("curlx.translate(err): no handle", _translate_timer(bare, None)),
            (
                "curlx.translate(err, handle): a pycurl.Curl after a refused connection",
                _translate_timer(failed, handle),
            ),
            (
                "curlx.translate(err, handle): a curlx.Curl after a refused connection",
                _translate_timer(failed, typed),
            ),
            ("str(e) of that translated error", _str_timer(translated)),
        ]
        return interleave(timers, settings.micro_calls, settings.micro_repeats)


# --- sections 2 and 3: refused connections ----------------------------------------------------


def _loop_timer(call: Callable[[], object], catch: type[BaseException], *, fmt: bool) -> Timer:
    """A timer calling `call` n times, each expected to raise `catch` (checked after timing).

    With `fmt` the caught error is also formatted with str(), as an application that logs it.
    """

    def run(n: int) -> int:
        failures = 0
        start = time.perf_counter_ns()
        for _ in range(n):
            try:
                call()
            except catch:
                failures += 1
        elapsed = time.perf_counter_ns() - start
        _check_failures(failures, n)
        return elapsed

    def run_and_format(n: int) -> int:
        failures = 0
        start = time.perf_counter_ns()
        for _ in range(n):
            try:
                call()
            except catch as exc:
                str(exc)
                failures += 1
        elapsed = time.perf_counter_ns() - start
        _check_failures(failures, n)
        return elapsed

    return run_and_format if fmt else run


def _check_failures(failures: int, n: int) -> None:
    if failures != n:
        raise RuntimeError(f"{n - failures} of {n} requests to the closed port did not fail")


def curl_clients(url: str, stack: ExitStack) -> list[Client]:
    """Section 2's clients: a reused pycurl.Curl, a reused curlx.Curl, and curlx with str(e)."""
    raw = pycurl.Curl()
    stack.callback(raw.close)
    configure(raw, url)
    refused_error(raw)

    typed = curlx.Curl()
    stack.callback(typed.close)
    configure(typed, url)
    formatted = curlx.Curl()
    stack.callback(formatted.close)
    configure(formatted, url)
    for handle in (typed, formatted):
        if not isinstance(refused_error(handle), curlx.CouldntConnect):
            raise RuntimeError("curlx.Curl did not raise curlx.CouldntConnect")
    session = curlx.Session(timeout=TIMEOUT_MS / 1000, proxy="")
    stack.callback(session.close)
    session_get = functools.partial(session.get, url)
    try:
        session_get()
    except curlx.CouldntConnect:
        pass
    else:
        raise RuntimeError("curlx.Session().get did not raise curlx.CouldntConnect")

    return [
        Client("pycurl.Curl", "pycurl.error", _loop_timer(raw.perform, pycurl.error, fmt=False)),
        Client(
            "curlx.Curl", "curlx.CurlError", _loop_timer(typed.perform, curlx.CurlError, fmt=False)
        ),
        Client(
            "curlx.Curl + str(e)",
            "curlx.CurlError",
            _loop_timer(formatted.perform, curlx.CurlError, fmt=True),
        ),
        Client(
            "curlx.Session().get",
            "curlx.CurlError",
            _loop_timer(session_get, curlx.CurlError, fmt=False),
        ),
    ]


def _peer(
    name: str,
    call: Callable[[], object],
    catch: type[BaseException],
    notes: list[str],
) -> Client | None:
    """A peer's client, once it is seen to raise `catch` on the closed port; else a note."""
    try:
        call()
    except catch:
        return Client(
            name, f"{catch.__module__}.{catch.__qualname__}", _loop_timer(call, catch, fmt=False)
        )
    except Exception as exc:
        notes.append(f"{name} skipped: the closed port raised {type(exc).__name__}: {exc}")
        return None
    notes.append(f"{name} skipped: the request to the closed port did not fail")
    return None


def peer_clients(
    url: str, stack: ExitStack, notes: list[str], versions: dict[str, str]
) -> list[Client]:
    """Section 3's clients, each reused, with a 2 s timeout and proxies from the environment off."""
    timeout = TIMEOUT_MS / 1000
    clients: list[Client | None] = []
    if peer("requests", notes, versions):
        import requests

        session = requests.Session()
        stack.callback(session.close)
        session.trust_env = False
        get = functools.partial(session.get, url, timeout=timeout)
        clients.append(
            _peer("requests.Session().get", get, requests.exceptions.ConnectionError, notes)
        )
    if peer("httpx", notes, versions):
        import httpx

        client = httpx.Client(timeout=timeout, trust_env=False)
        stack.callback(client.close)
        clients.append(
            _peer(
                "httpx.Client().get", functools.partial(client.get, url), httpx.ConnectError, notes
            )
        )
    if peer("curl_cffi.requests", notes, versions, label="curl_cffi"):
        from curl_cffi import requests as cffi_requests

        cffi_session: cffi_requests.Session[cffi_requests.Response] = cffi_requests.Session(
            timeout=timeout, trust_env=False
        )
        stack.callback(cffi_session.close)
        get_cffi = functools.partial(cffi_session.get, url)
        catch = cffi_requests.exceptions.ConnectionError
        clients.append(_peer("curl_cffi.requests.Session().get", get_cffi, catch, notes))
    return [c for c in clients if c is not None]


# --- the optional breakdown: each step of curlx's error path ---------------------------------

# The getinfo values a full TransferInfo holds, in its field order (kept in step by hand);
# read_info() may read fewer of them, depending on the failure.
READ_INFO_OPTIONS: tuple[int, ...] = (
    pycurl.EFFECTIVE_URL,
    pycurl.EFFECTIVE_METHOD,
    pycurl.OS_ERRNO,
    pycurl.SSL_VERIFYRESULT,
    pycurl.PROXY_SSL_VERIFYRESULT,
    pycurl.RESPONSE_CODE,
    pycurl.HTTP_CONNECTCODE,
    pycurl.PROXY_ERROR,
    pycurl.INFO_HTTP_VERSION,
    pycurl.PRIMARY_IP,
    pycurl.PRIMARY_PORT,
    pycurl.NAMELOOKUP_TIME_T,
    pycurl.CONNECT_TIME_T,
    pycurl.APPCONNECT_TIME_T,
    pycurl.PRETRANSFER_TIME_T,
    pycurl.STARTTRANSFER_TIME_T,
    pycurl.TOTAL_TIME_T,
    pycurl.REQUEST_SIZE,
    pycurl.SIZE_UPLOAD_T,
    pycurl.SIZE_DOWNLOAD_T,
    pycurl.REDIRECT_COUNT,
    pycurl.RETRY_AFTER,
)


def _call_timer(func: Callable[[], object]) -> Timer:
    def run(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            func()
        return time.perf_counter_ns() - start

    return run


def _in_situ(
    handle: pycurl.Curl,
    steps: Sequence[tuple[str, Callable[[pycurl.error], object]]],
    block: int,
    rounds: int,
) -> dict[str, tuple[Stats, Stats]]:
    """Per step: (ns of the raw perform, ns of `step(exc)` run once right after it).

    Each block performs `block` refused requests with the same step after each, so the perform
    timed is the one that follows that step; blocks of the steps alternate for `rounds` rounds.
    A block's sample is the median of its calls; its first call is left out.
    """
    clock = time.perf_counter_ns
    performs: dict[str, list[float]] = {name: [] for name, _ in steps}
    after: dict[str, list[float]] = {name: [] for name, _ in steps}
    for round_number in range(rounds):
        shift = round_number % len(steps)
        for name, step in [*steps[shift:], *steps[:shift]]:
            perform_ns: list[int] = []
            step_ns: list[int] = []
            for _ in range(block + 1):
                start = clock()
                try:
                    handle.perform()
                except pycurl.error as exc:
                    failed = clock()
                    step(exc)
                    done = clock()
                else:
                    raise RuntimeError("the closed port accepted a connection")
                perform_ns.append(failed - start)
                step_ns.append(done - failed)
            performs[name].append(statistics.median(perform_ns[1:]))
            after[name].append(statistics.median(step_ns[1:]))
    return {name: (Stats(tuple(performs[name])), Stats(tuple(after[name]))) for name, _ in steps}


def measure_breakdown(url: str, settings: Settings) -> dict[str, Stats]:
    """ns per step of the curlx error path, warm in a loop (a call's own cost subtracted),
    then read_info(), translate() and str() timed right after real refused connections, with
    the time of those performs themselves.

    Uses curlx's private functions, so it may need updating when they change.
    """
    from curlx._curl import read_info
    from curlx._translate import error_from_code, proxy_detail
    from curlx._urls import redact_text, redact_url

    with ExitStack() as stack:
        handle = pycurl.Curl()
        stack.callback(handle.close)
        configure(handle, url)
        failed = refused_error(handle)
        message = str(failed.args[-1])
        info = read_info(handle)
        if info is None:
            raise RuntimeError("read_info() could not read the failed handle")
        fields: dict[str, Any] = info._asdict()
        info_kind = "NamedTuple" if isinstance(info, tuple) else type(info).__name__
        translated = curlx.translate(failed, handle)
        getinfo = handle.getinfo

        def all_getinfo() -> None:
            for option in READ_INFO_OPTIONS:
                getinfo(option)

        def raise_chained() -> None:
            try:
                raise translated.with_traceback(None) from failed  # a fresh traceback each time
            except curlx.CurlError:
                pass

        def nothing() -> None:
            return None

        steps: list[tuple[str, Callable[[], object]]] = [
            ("(a call of an empty function: subtracted from the rows below)", nothing),
            ("getinfo(EFFECTIVE_URL)", functools.partial(getinfo, pycurl.EFFECTIVE_URL)),
            ("getinfo(EFFECTIVE_METHOD)", functools.partial(getinfo, pycurl.EFFECTIVE_METHOD)),
            (
                "getinfo(OS_ERRNO), one of 19 numeric getinfo",
                functools.partial(getinfo, pycurl.OS_ERRNO),
            ),
            (
                f"{len(READ_INFO_OPTIONS)} getinfo calls: every TransferInfo field, in a row",
                all_getinfo,
            ),
            (
                f"TransferInfo(**{len(fields)} fields) ({info_kind})",
                functools.partial(curlx.TransferInfo, **fields),
            ),
            ("proxy_detail(0) (ProxyCode.lookup)", functools.partial(proxy_detail, 0)),
            ("redact_url(url)", functools.partial(redact_url, url)),
            (
                "read_info(handle), no code or URL given: total",
                functools.partial(read_info, handle),
            ),
            ("redact_text(message)", functools.partial(redact_text, message)),
            ("CurlCode.lookup(7)", functools.partial(curlx.CurlCode.lookup, 7)),
            (
                "CouldntConnect(7, msg, url=, method=, info=)",
                functools.partial(
                    curlx.CouldntConnect, 7, message, url=url, method="GET", info=info
                ),
            ),
            (
                "error_from_code(7, msg, url=, method=, info=): total",
                functools.partial(error_from_code, 7, message, url=url, method="GET", info=info),
            ),
            (
                "translate(err, handle) of a pycurl.Curl: total",
                functools.partial(curlx.translate, failed, handle),
            ),
            ("raise CurlError from pycurl.error, then catch", raise_chained),
            ("str(e) of the translated error", functools.partial(str, translated)),
        ]
        timers = [(name, _call_timer(func)) for name, func in steps]
        results = interleave(timers, settings.micro_calls, settings.micro_repeats)
        overhead = results[steps[0][0]].median
        warm = {
            name: Stats(tuple(s - overhead for s in stats.samples))
            for name, stats in results.items()
            if name != steps[0][0]
        }

        def translate_and_format(exc: pycurl.error) -> None:
            str(curlx.translate(exc, handle))

        in_situ = _in_situ(
            handle,
            [
                ("nothing", lambda exc: None),
                ("read_info(handle)", lambda exc: read_info(handle)),
                ("translate(err, handle)", lambda exc: curlx.translate(exc, handle)),
                ("str(translate(err, handle))", translate_and_format),
            ],
            block=max(10, settings.micro_calls // 100),
            rounds=3 * settings.micro_repeats,
        )
        clock_cost = in_situ["nothing"][1].median
        cold: dict[str, Stats] = {}
        for name, (_, after) in in_situ.items():
            if name != "nothing":
                cold[f"{name} right after a refused perform (cold)"] = Stats(
                    tuple(s - clock_cost for s in after.samples)
                )
        for name, (performs, _) in in_situ.items():
            cold[f"raw perform() when {name} runs after each"] = performs
        return {**warm, **cold}


# --- the report --------------------------------------------------------------------------------


def environment(versions: dict[str, str], use: dict[str, float] | None) -> dict[str, Any]:
    return {
        **machine(),
        "cpu_time_of_other_processes": "unknown"
        if use is None
        else f"{use['other_processes']:.1%}",
        "cpu_time_stolen_by_host": "unknown" if use is None else f"{use['stolen_by_host']:.1%}",
        "pycurl": pycurl.version,
        "curlx": f"{curlx.__version__} (source sha256 {source_digest()})",
        **{f"peer {name}": version for name, version in versions.items()},
    }


def report(
    env: dict[str, Any],
    settings: Settings,
    mode: str,
    translate_ns: dict[str, Stats],
    clients: Sequence[Client],
    refused_us: dict[str, Stats],
    ratios: dict[str, Stats],
    notes: Sequence[str],
    breakdown_ns: dict[str, Stats] | None,
) -> str:
    out: list[str] = ["# curlx error-path benchmark", ""]
    out += [f"- {key}: {value}" for key, value in env.items()]
    out += [
        f"- mode: {mode} (section 1: {settings.micro_repeats} batches of {settings.micro_calls} "
        f"calls; sections 2-3: {settings.rounds} interleaved rounds of {settings.batch} "
        "requests per client)",
        "",
        "## 1. translate() cost per error (ns per call, warm, median of batches)",
        "",
    ]
    out.append(
        markdown_table(
            ["what", "median ns", "p25-p75 ns"],
            [
                [name, f"{s.median:,.0f}", f"{s.p25:,.0f}-{s.p75:,.0f}"]
                for name, s in translate_ns.items()
            ],
        )
    )
    raw = refused_us["pycurl.Curl"]
    out += [
        "",
        "## 2-3. One refused connection, reused client (µs per request, median of rounds)",
        "",
    ]
    rows = []
    for client in clients:
        s = refused_us[client.name]
        ratio = ratios[client.name]
        rows.append(
            [
                client.name,
                client.catches,
                f"{s.median:,.1f}",
                f"{s.p25:,.1f}-{s.p75:,.1f}",
                f"{s.median - raw.median:+,.1f}",
                f"{ratio.median:.2f}",
            ]
        )
    out.append(
        markdown_table(
            ["client", "catches", "median µs", "p25-p75 µs", "vs raw µs", "× raw"],
            rows,
            right_from=2,
        )
    )
    headline = ratios["curlx.Curl"].median
    verdict = "met" if headline <= TARGET_RATIO else "MISSED"
    session_ratio = ratios["curlx.Session().get"].median
    session_verdict = "met" if session_ratio <= SESSION_TARGET_RATIO else "MISSED"
    out += [
        "",
        "× raw is the median over rounds of (this client's batch / the pycurl.Curl batch of the "
        "same round).",
        "",
        f"**curlx.Curl / pycurl.Curl = {headline:.2f} (target ≤ {TARGET_RATIO}: {verdict}); "
        f"with str(e): {ratios['curlx.Curl + str(e)'].median:.2f}; "
        f"curlx.Session().get / pycurl.Curl = {session_ratio:.2f} "
        f"(target ≤ {SESSION_TARGET_RATIO}: {session_verdict}).**",
    ]
    if notes:
        out += ["", *[f"- note: {note}" for note in notes]]
    if breakdown_ns is not None:
        out += [
            "",
            "## Breakdown: curlx's error path step by step (ns per call, median of batches)",
            "",
            markdown_table(
                ["step", "median ns", "p25-p75 ns"],
                [
                    [name, f"{s.median:,.0f}", f"{s.p25:,.0f}-{s.p75:,.0f}"]
                    for name, s in breakdown_ns.items()
                ],
            ),
            "",
            "Warm rows are timed in a loop with the cost of calling an empty function taken "
            "off. Cold rows time one call right after each real refused perform of a raw "
            "pycurl.Curl; the last rows time that perform itself, depending on what ran "
            "after the previous one.",
        ]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, to check that it works")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time each step of curlx's error path (uses curlx's private functions)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_PATH,
        help=f"where to write the JSON results (default: {RESULTS_PATH})",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    started = time.perf_counter()
    cpu_at_start = cpu_times()

    # Nothing listens there, and below the ephemeral range no outgoing connection gets it as
    # its local port (which would connect to itself instead of being refused).
    url = f"http://127.0.0.1:{closed_port_below_ephemeral()}/"
    notes: list[str] = []
    versions: dict[str, str] = {}
    gc.collect()
    translate_ns = measure_translate(url, settings)
    with ExitStack() as stack:
        clients = curl_clients(url, stack) + peer_clients(url, stack, notes, versions)
        gc.collect()
        refused_ns = interleave(
            [(c.name, c.timer) for c in clients], settings.batch, settings.rounds
        )
    refused_us = {name: Stats(tuple(x / 1000 for x in s.samples)) for name, s in refused_ns.items()}
    raw = refused_us["pycurl.Curl"]
    ratios = {name: paired_ratio(s, raw) for name, s in refused_us.items()}
    breakdown_ns = measure_breakdown(url, settings) if args.breakdown else None

    use = machine_use(cpu_at_start, cpu_times())
    env = environment(versions, use)
    busy = busy_note(use)
    if busy:
        notes.append(busy)
    spread = (raw.p75 - raw.p25) / raw.median
    if spread > 0.10:
        notes.append(
            f"pycurl.Curl's rounds spread {spread:.0%} (p25-p75 over median): the machine was "
            "noisy during the run; the paired ratios cancel some of it, run again to compare"
        )
    print(
        report(env, settings, mode, translate_ns, clients, refused_us, ratios, notes, breakdown_ns)
    )
    elapsed = time.perf_counter() - started
    print(f"(ran in {elapsed:.0f} s)")

    results: dict[str, Any] = {
        "date": utc_now(),
        "mode": mode,
        "seconds": round(elapsed, 1),
        "environment": env,
        "settings": dataclasses.asdict(settings),
        "url": url,
        "translate_ns": {name: s.as_json(1) for name, s in translate_ns.items()},
        "refused_us_per_request": {name: s.as_json(2) for name, s in refused_us.items()},
        "ratio_vs_pycurl": {name: s.as_json(3) for name, s in ratios.items()},
        "target_ratio": TARGET_RATIO,
        "target_met": ratios["curlx.Curl"].median <= TARGET_RATIO,
        "session_target_ratio": SESSION_TARGET_RATIO,
        "session_target_met": ratios["curlx.Session().get"].median <= SESSION_TARGET_RATIO,
        "notes": notes,
        "breakdown_ns": (
            {name: s.as_json(1) for name, s in breakdown_ns.items()} if breakdown_ns else None
        ),
    }
    write_json(args.output, results)
    print(f"results written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
