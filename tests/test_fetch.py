"""fetch_many() against a local server farm (see `support.farm`): counts, limits, laziness, cleanup.

Every transfer runs on loopback with a timeout (`LIMITS`: a stall ends after about a second).
The farm's servers count what they saw, so the concurrency and per-host limits, connection
reuse and retries are checked from the servers' side, not from what the crawler believes.
"""

from __future__ import annotations

import gc
import json
import pickle
import random
import time
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field

import pycurl
import pytest
from support.farm import HOSTS, RESET_BODY_SENT, Farm
from support.http import HTTPApp, Reply
from support.measure import open_fds
from support.pki import PKI
from support.raw import closed_port

import curlx

LIMITS = curlx.Timeout(connect=1, read=1, total=10)
"""Every crawl's timeout: a stalled server fails after ~1 s, nothing can hang past 10 s."""
SECRET = "s3cret"
USERINFO = f"user:{SECRET}"


@pytest.fixture
def quiet_farm(pki: PKI) -> Iterator[Farm]:
    """A farm of its own, for counting file descriptors: no other test's connections to it."""
    with Farm(pki) as servers:
        yield servers


@dataclass
class Source:
    """An input generator that counts how many items the crawler has pulled from it."""

    items: Iterable[str | curlx.Request]
    pulled: int = 0
    drained: bool = False
    raise_at: int | None = None  # raise KeyboardInterrupt when this item (1-based) is pulled

    def __iter__(self) -> Iterator[str | curlx.Request]:
        for item in self.items:
            if self.raise_at is not None and self.pulled + 1 == self.raise_at:
                raise KeyboardInterrupt
            self.pulled += 1
            yield item
        self.drained = True


def repeat(url: str, count: int) -> Iterator[str]:
    for _ in range(count):
        yield url


def close(results: Iterator[curlx.Result]) -> None:
    """Stop a crawl early: fetch_many's iterator is a generator, with close()."""
    assert isinstance(results, Generator)
    results.close()


def quiesce(farm: Farm) -> int:
    """Collect garbage, wait until the farm closed every connection, then count the fds."""
    gc.collect()
    assert farm.wait_open_connections(0) == 0
    return open_fds()


def warm_up(farm: Farm) -> int:
    """One complete crawl (so that whatever libcurl opens once per process is open), then
    the fd count with the farm idle."""
    urls = [s.url("/warm") for s in farm.healthy] * 4
    results = list(curlx.fetch_many(urls, concurrency=4, timeout=LIMITS))
    assert [r.status_code for r in results] == [200] * len(urls)
    return quiesce(farm)


# --- a crawl of the whole farm --------------------------------------------------------------


@dataclass
class Plan:
    """The crawl's input and the exact outcome expected for it."""

    urls: list[str] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)

    def add(self, urls: list[str], outcome: str) -> None:
        self.urls += urls
        self.expected[outcome] += len(urls)


def farm_plan(farm: Farm) -> Plan:
    plan = Plan()
    h0, h1, h2 = farm.healthy
    plan.add([h0.url(f"/p/{i}") for i in range(90)], "200")
    plan.add([h0.url(f"/p/c{i}", userinfo=USERINFO) for i in range(30)], "200")
    plan.add([h1.url(f"/p/{i}") for i in range(120)], "200")
    plan.add([h2.url(f"/p/{i}") for i in range(120)], "200")
    plan.add([farm.route("/status/404")] * 35, "404")
    plan.add([farm.route("/status/404", USERINFO)] * 5, "404")
    plan.add([farm.route("/status/500")] * 20, "500")
    plan.add([farm.route("/status/503")] * 20, "503")
    plan.add([farm.refused_url] * 15, "CURLE_COULDNT_CONNECT")
    refused_with_password = f"http://{USERINFO}@{HOSTS[0]}:{farm.closed_port}/refused"
    plan.add([refused_with_password] * 5, "CURLE_COULDNT_CONNECT")
    plan.add([farm.tls_url] * 10, "CURLE_PEER_FAILED_VERIFICATION")
    plan.add([farm.stall_url] * 10, "CURLE_OPERATION_TIMEDOUT")
    plan.add([farm.route("/loop")] * 20, "CURLE_TOO_MANY_REDIRECTS")
    plan.add([farm.route("/reset")] * 20, "CURLE_RECV_ERROR")
    random.Random(1).shuffle(plan.urls)
    return plan


def redacted(url: str) -> str:
    return url.replace(f"{USERINFO}@", "")


def outcome(result: curlx.Result) -> str:
    if result.error is not None:
        return result.error.name
    return str(result.status_code)


def test_crawl_of_the_farm_counts_every_outcome_exactly(farm: Farm) -> None:
    plan = farm_plan(farm)
    assert len(plan.urls) == 520
    concurrency = 20
    source = Source(plan.urls)
    before = farm.counts()
    farm.reset_peaks()
    report = curlx.Report()
    results: list[curlx.Result] = []
    most_in_flight = 0
    for result in curlx.fetch_many(
        source, concurrency=concurrency, timeout=LIMITS, max_redirects=3
    ):
        results.append(result)
        report.add(result)
        most_in_flight = max(most_in_flight, source.pulled - len(results))

    # Every URL got exactly one Result, and each the outcome its server gives.
    assert Counter(r.url for r in results) == Counter(redacted(u) for u in plan.urls)
    assert Counter(outcome(r) for r in results) == plan.expected
    assert all(r.attempts == 1 for r in results)
    assert all(r.elapsed > 0 for r in results)
    assert source.drained
    assert most_in_flight <= concurrency * 5

    assert (report.total, report.ok, report.http_errors, report.errors) == (520, 360, 80, 80)
    counts = report.to_dict()
    assert {k: v["count"] for k, v in counts["by_status"].items()} == {
        "2xx": 360,
        "4xx": 40,
        "5xx": 40,
    }
    assert {k: v["count"] for k, v in counts["by_category"].items()} == {
        "connect": 20,
        "certificate": 10,
        "timeout": 10,
        "http": 20,
        "network": 20,
    }
    assert {k: v["count"] for k, v in counts["by_code"].items()} == {
        "CURLE_COULDNT_CONNECT": 20,
        "CURLE_PEER_FAILED_VERIFICATION": 10,
        "CURLE_OPERATION_TIMEDOUT": 10,
        "CURLE_TOO_MANY_REDIRECTS": 20,
        "CURLE_RECV_ERROR": 20,
    }
    assert counts["by_host"] == {HOSTS[0]: [280, 160], HOSTS[1]: [120, 0], HOSTS[2]: [120, 0]}
    for buckets in (counts["by_category"], counts["by_code"], counts["by_status"]):
        for bucket in buckets.values():
            assert 1 <= len(bucket["examples"]) <= 3

    # The errors are the typed ones, with their refinements.
    kinds = {type(r.error) for r in results if r.error is not None}
    assert kinds == {
        curlx.CouldntConnect,
        curlx.PeerFailedVerification,
        curlx.ReadTimeout,
        curlx.TooManyRedirects,
        curlx.RecvError,
    }
    bodies = {r.response.content for r in results if r.response is not None and r.ok}
    assert b"page /p/0\n" in bodies and b"page /p/c0\n" in bodies

    # The servers saw at most `concurrency` requests at once, and reused connections.
    assert farm.max_active <= concurrency
    after = farm.counts()
    for server, expected_requests in ((farm.healthy[1], 120), (farm.healthy[2], 120)):
        connections = after[server.port][0] - before[server.port][0]
        requests = after[server.port][1] - before[server.port][1]
        assert requests == expected_requests
        assert 1 <= connections <= concurrency
    routes = after[farm.routes.port][1] - before[farm.routes.port][1]
    assert routes == 40 + 40 + 20 * 4 + 20  # 404s, 5xx, 20 loops of 1 + 3 redirects, resets

    # No credentials anywhere: not in the report (JSON, table, pickle) nor in the Results.
    assert SECRET not in json.dumps(report.to_dict())
    assert SECRET not in report.render()
    assert SECRET.encode() not in pickle.dumps(report)
    assert SECRET.encode() not in pickle.dumps(results)
    assert SECRET not in "".join(str(r.error) for r in results)

    # Shard reports of the same crawl add up to the report of the whole, through JSON.
    half = len(results) // 2
    shards = [curlx.Report().extend(results[:half]), curlx.Report().extend(results[half:])]
    travelled = [curlx.Report.from_dict(json.loads(json.dumps(s.to_dict()))) for s in shards]
    assert travelled[0] + travelled[1] == report
    assert pickle.loads(pickle.dumps(report)) == report


def test_reset_mid_body_is_a_recv_error_after_part_of_the_body(farm: Farm) -> None:
    results = list(curlx.fetch_many([farm.route("/reset")] * 5, concurrency=5, timeout=LIMITS))
    assert len(results) == 5
    for result in results:
        assert isinstance(result.error, curlx.RecvError)
        assert result.error.category is curlx.Category.NETWORK
        assert result.error.info is not None
        assert 0 < result.error.info.size_download <= RESET_BODY_SENT


# --- limits: concurrency, per host, connection reuse -----------------------------------------


def test_concurrency_limit_holds_at_the_servers(farm: Farm) -> None:
    urls = [farm.healthy[i % 3].url(f"/slow?ms=20&n={i}") for i in range(90)]
    farm.reset_peaks()
    results = list(curlx.fetch_many(urls, concurrency=6, timeout=LIMITS))
    assert [r.status_code for r in results] == [200] * 90
    assert 2 <= farm.max_active <= 6


def test_per_host_limit_holds_at_the_servers(farm: Farm) -> None:
    servers = [*farm.healthy, farm.routes]  # routes shares healthy[0]'s host, 127.0.0.1
    urls = [servers[i % 4].url(f"/slow?ms=30&n={i}") for i in range(120)]
    farm.reset_peaks()
    results = list(curlx.fetch_many(urls, concurrency=20, per_host=3, timeout=LIMITS))
    assert Counter(r.status_code for r in results) == {200: 120}
    assert set(farm.host_max_active) == set(HOSTS)
    for host in HOSTS:
        assert 1 <= farm.host_max_active[host] <= 3, host
    assert farm.max_active <= 9
    assert farm.max_active >= 4  # the hosts ran side by side, not one after another


def test_connections_are_reused_across_urls_of_a_host(farm: Farm) -> None:
    server = farm.healthy[2]
    before = farm.counts()[server.port]
    urls = [server.url(f"/reuse/{i}") for i in range(300)]
    results = list(curlx.fetch_many(urls, concurrency=10, timeout=LIMITS))
    assert [r.status_code for r in results] == [200] * 300
    connections, requests = (a - b for a, b in zip(farm.counts()[server.port], before, strict=True))
    assert requests == 300
    assert 1 <= connections <= 10


def test_a_stalled_transfer_does_not_hold_up_the_others(farm: Farm) -> None:
    fast = [farm.healthy[0].url(f"/beside-a-stall/{i}") for i in range(10)]
    start = time.monotonic()
    arrivals: dict[str, float] = {}
    for result in curlx.fetch_many([farm.stall_url, *fast], concurrency=2, timeout=LIMITS):
        arrivals[result.url] = time.monotonic() - start
    stalled = arrivals.pop(farm.stall_url)
    assert sorted(arrivals) == sorted(fast)
    assert stalled >= 1.0
    # One slot is stuck on the stall: the other runs the ten fast pages one after another
    # in a few milliseconds each, all of them before the stall times out.
    assert max(arrivals.values()) < stalled


def test_elapsed_starts_with_the_first_attempt(farm: Farm) -> None:
    urls = [farm.healthy[0].url(f"/slow?ms=100&n={i}") for i in range(5)]
    results = list(curlx.fetch_many(urls, concurrency=5, per_host=1, timeout=LIMITS))
    assert len(results) == 5
    extra: list[float] = []
    for result in results:
        assert result.response is not None and result.attempts == 1
        assert result.response.info.total_time >= 0.1
        # One attempt, no retry wait: elapsed is that transfer's time, give or take.
        extra.append(result.elapsed - result.response.info.total_time)
    # Had elapsed started when the URL was queued for the host's one slot, the k-th result
    # would carry k-1 earlier transfers of 0.1 s each on top: 1.0 s in all.
    assert sum(extra) < 0.5, extra


# --- laziness --------------------------------------------------------------------------------


def test_input_is_read_lazily(farm: Farm) -> None:
    concurrency = 10
    source = Source(repeat(farm.healthy[0].url("/lazy"), 100_000))
    results = curlx.fetch_many(source, concurrency=concurrency, timeout=LIMITS)
    first = next(results)
    assert first.status_code == 200
    assert concurrency <= source.pulled <= concurrency * 5
    received = 1
    for result in results:
        assert result.status_code == 200
        received += 1
        if received == 5:
            break
    close(results)
    assert source.pulled <= concurrency * 5 + 5
    assert not source.drained


def test_input_held_back_by_per_host_stays_bounded(farm: Farm) -> None:
    concurrency = 10
    source = Source(repeat(farm.healthy[1].url("/slow?ms=5"), 100_000))
    farm.reset_peaks()
    results = curlx.fetch_many(source, concurrency=concurrency, per_host=1, timeout=LIMITS)
    assert next(results).status_code == 200
    assert source.pulled <= concurrency * 5
    close(results)
    assert not source.drained
    assert farm.host_max_active[HOSTS[1]] == 1


def test_memory_stays_bounded_over_a_long_input(farm: Farm) -> None:
    concurrency = 5
    urls = (farm.healthy[i % 3].url(f"/bounded/{i}") for i in range(1000))
    source = Source(urls)
    received = 0
    most_in_flight = 0
    for result in curlx.fetch_many(source, concurrency=concurrency, per_host=2, timeout=LIMITS):
        assert result.status_code == 200
        received += 1
        most_in_flight = max(most_in_flight, source.pulled - received)
    assert received == 1000 and source.drained
    assert most_in_flight <= concurrency * 5


# --- cleanup: breaking out, close(), Ctrl-C ---------------------------------------------------


def test_early_break_and_close_leave_no_open_sockets(quiet_farm: Farm) -> None:
    baseline = warm_up(quiet_farm)
    port = quiet_farm.healthy[0].port
    served_before = quiet_farm.counts()[port][1]
    source = Source(repeat(quiet_farm.healthy[0].url("/slow?ms=20"), 1000))
    results = curlx.fetch_many(source, concurrency=20, timeout=LIMITS)
    got = [next(results) for _ in range(5)]
    assert [r.status_code for r in got] == [200] * 5
    assert open_fds() > baseline  # transfers in flight hold sockets: the count can see them
    close(results)
    assert quiesce(quiet_farm) == baseline
    assert source.pulled <= 20 * 5
    assert quiet_farm.counts()[port][1] - served_before <= source.pulled


def test_breaking_out_of_a_for_loop_closes_everything(quiet_farm: Farm) -> None:
    baseline = warm_up(quiet_farm)
    urls = [quiet_farm.healthy[i % 3].url("/slow?ms=20") for i in range(200)]
    during = 0
    for n, result in enumerate(curlx.fetch_many(urls, concurrency=15, timeout=LIMITS)):
        assert result.ok
        if n == 3:
            during = open_fds()
            break
    assert during > baseline
    assert quiesce(quiet_farm) == baseline


def test_keyboard_interrupt_in_the_consumer_propagates_and_cleans_up(quiet_farm: Farm) -> None:
    baseline = warm_up(quiet_farm)
    urls = [quiet_farm.healthy[i % 3].url("/slow?ms=20") for i in range(200)]
    seen: list[int] = []

    def consume() -> None:
        for n, result in enumerate(curlx.fetch_many(urls, concurrency=15, timeout=LIMITS)):
            assert result.ok
            if n == 3:
                seen.append(open_fds())
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume()
    assert seen and seen[0] > baseline
    assert quiesce(quiet_farm) == baseline


def test_keyboard_interrupt_inside_the_crawl_propagates_and_cleans_up(quiet_farm: Farm) -> None:
    # Ctrl-C arriving while the crawler itself runs (here: while it reads its input).
    baseline = warm_up(quiet_farm)
    source = Source(repeat(quiet_farm.healthy[1].url("/slow?ms=20"), 1000), raise_at=30)
    results = curlx.fetch_many(source, concurrency=20, timeout=LIMITS)
    received = 0
    with pytest.raises(KeyboardInterrupt):
        for result in results:
            assert result.ok
            received += 1
    assert received >= 10  # the interrupt came mid-crawl, with transfers in flight
    assert source.pulled == 29
    with pytest.raises(StopIteration):
        next(results)  # the crawl is over: its cleanup ran
    assert quiesce(quiet_farm) == baseline


# --- retries -------------------------------------------------------------------------------


def test_retry_turns_two_503s_into_a_success(farm: Farm) -> None:
    url = farm.route("/flaky/two-503s?fail=2")
    [result] = curlx.fetch_many([url], retry=curlx.Retry(total=3, backoff_factor=0), timeout=LIMITS)
    assert result.ok and result.status_code == 200
    assert result.attempts == 3
    assert result.response is not None and result.response.content == b"ok after 3\n"
    assert farm.flaky["two-503s"] == 3


def test_statuses_that_run_out_of_retries_return_the_last_response(farm: Farm) -> None:
    url = farm.route("/flaky/always-503?fail=100")
    [result] = curlx.fetch_many([url], retry=curlx.Retry(total=2, backoff_factor=0), timeout=LIMITS)
    assert result.error is None and result.status_code == 503
    assert result.attempts == 3


def test_a_waiting_retry_does_not_delay_other_transfers(farm: Farm) -> None:
    delayed = farm.route("/flaky/backoff?fail=1")
    others = [farm.healthy[i % 3].url(f"/slow?ms=40&n={i}") for i in range(40)]
    # For each result as it arrives: how many requests for the delayed URL the farm has seen.
    arrivals: list[tuple[int, curlx.Result]] = []
    for result in curlx.fetch_many(
        [delayed, *others],
        concurrency=8,
        retry=curlx.Retry(total=1, backoff_factor=0.5),
        timeout=LIMITS,
    ):
        arrivals.append((farm.flaky["backoff"], result))
    assert len(arrivals) == 41
    assert arrivals[-1][1].url == delayed  # every other URL finished first
    late = arrivals[-1][1]
    assert late.ok and late.attempts == 2 and late.elapsed >= 0.5
    assert all(r.ok and r.attempts == 1 for _, r in arrivals[:-1])
    assert farm.flaky["backoff"] == 2
    # The others kept arriving while the retry waited: a wait that blocked the crawl would let
    # at most the transfers already in flight (7) finish before the retry went out.
    during_wait = [r for seen, r in arrivals[:-1] if seen == 1]
    assert len(during_wait) >= 30


def test_retry_after_is_honoured(farm: Farm) -> None:
    url = farm.route("/flaky/retry-after?fail=1&after=1")
    [result] = curlx.fetch_many([url], retry=curlx.Retry(total=1, backoff_factor=0), timeout=LIMITS)
    assert result.ok and result.attempts == 2
    assert result.elapsed >= 1.0


def test_refused_port_with_two_retries_fails_after_three_attempts(farm: Farm) -> None:
    [result] = curlx.fetch_many([farm.refused_url], retry=2, timeout=LIMITS)
    assert isinstance(result.error, curlx.ConnectError)
    assert result.error.name == "CURLE_COULDNT_CONNECT"
    assert result.attempts == 3
    history = result.error.history
    assert len(history) == 3
    assert [event.kind for event in history] == ["connect"] * 3
    assert [event.delay for event in history] == [0.5, 1.0, 0.0]
    assert result.elapsed >= 1.5


def test_errors_that_retrying_cannot_fix_are_not_retried(farm: Farm) -> None:
    policy = curlx.Retry(total=3, backoff_factor=0)
    post = curlx.Request(farm.route("/flaky/post-503?fail=1"), method="POST", data=b"x")
    results = {
        r.url: r
        for r in curlx.fetch_many(
            [farm.tls_url, farm.route("/status/404"), post], retry=policy, timeout=LIMITS
        )
    }
    tls = results[farm.tls_url]
    assert isinstance(tls.error, curlx.CertificateError) and tls.attempts == 1
    assert len(tls.error.history) == 1
    assert results[farm.route("/status/404")].attempts == 1
    posted = results[post.url]
    assert posted.status_code == 503 and posted.attempts == 1  # POST is not idempotent
    assert farm.flaky["post-503"] == 1


# --- the same errors as curlx.get -----------------------------------------------------------

# A 64-character label makes the system resolver fail at once, without sending any query.
UNRESOLVABLE = "http://" + "x" * 64 + ".invalid/"


def sample_url(farm: Farm, kind: str) -> str:
    return {
        "refused": farm.refused_url,
        "dns": UNRESOLVABLE,
        "self-signed": farm.tls_url,
        "stall": farm.stall_url,
        "redirect-loop": farm.route("/loop"),
        "reset": farm.route("/reset"),
        "file": "file:///etc/passwd",
        "crlf": farm.route("/p\r\nX-Injected: 1"),
        "bad-ipv6": "http://[::1/",
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "refused",
        "dns",
        "self-signed",
        "stall",
        "redirect-loop",
        "reset",
        "file",
        "crlf",
        "bad-ipv6",
    ],
)
def test_crawl_errors_equal_what_curlx_get_raises(farm: Farm, kind: str) -> None:
    url = sample_url(farm, kind)
    with pytest.raises(curlx.CurlError) as raised:
        curlx.get(url, timeout=LIMITS, max_redirects=3)
    expected = raised.value
    [result] = curlx.fetch_many([url], timeout=LIMITS, max_redirects=3)
    assert result.response is None and result.error is not None
    error = result.error
    assert type(error) is type(expected)
    assert (error.code, error.name, error.category) == (
        expected.code,
        expected.name,
        expected.category,
    )
    assert error.url == expected.url
    assert error.retry.kind is expected.retry.kind


def test_one_bad_url_does_not_stop_the_crawl(farm: Farm) -> None:
    urls = [sample_url(farm, kind) for kind in ("refused", "dns", "file", "crlf")]
    good = [farm.healthy[0].url(f"/after-bad/{i}") for i in range(4)]
    mixed = [u for pair in zip(urls, good, strict=True) for u in pair]
    results = list(curlx.fetch_many(mixed, concurrency=2, timeout=LIMITS))
    assert Counter(r.url for r in results) == Counter(mixed)
    assert sum(r.ok for r in results) == 4
    assert sum(r.error is not None for r in results) == 4


def test_a_malformed_ipv6_url_does_not_stop_the_crawl(farm: Farm) -> None:
    urls = ["http://[::1/", farm.healthy[0].url("/after-ipv6")]
    results = list(curlx.fetch_many(urls, timeout=LIMITS))
    assert [r.url for r in results].count(urls[1]) == 1
    assert any(isinstance(r.error, curlx.InvalidURL) for r in results)


def test_a_crlf_url_with_a_password_leaks_nothing_into_the_report(farm: Farm) -> None:
    url = farm.route("/p\r\nX: 1", USERINFO)
    report = curlx.Report().extend(curlx.fetch_many([url], timeout=LIMITS))
    assert report.errors == 1
    assert SECRET not in json.dumps(report.to_dict())


def test_a_refused_request_names_its_url_without_credentials(farm: Farm) -> None:
    url = farm.route("/refused", USERINFO)
    (result,) = curlx.fetch_many([curlx.Request(url, method="GE T")], timeout=LIMITS)
    error = result.error
    assert isinstance(error, curlx.InvalidRequest)
    assert error.url == result.url and SECRET not in error.url + str(error)
    assert f"for {error.url}: method='GE T'" in str(error)


# --- input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 2.5, "5", True, None])
def test_bad_concurrency_is_refused(farm: Farm, value: object) -> None:
    with pytest.raises(curlx.InvalidRequest) as raised:
        list(curlx.fetch_many([farm.healthy[0].url()], concurrency=value, timeout=LIMITS))  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)
    assert f"concurrency={value!r}" in str(raised.value)


@pytest.mark.parametrize("value", [0, -2, 1.5, "2", True])
def test_bad_per_host_is_refused(farm: Farm, value: object) -> None:
    with pytest.raises(curlx.InvalidRequest) as raised:
        list(curlx.fetch_many([farm.healthy[0].url()], per_host=value, timeout=LIMITS))  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)
    assert f"per_host={value!r}" in str(raised.value)


def test_request_items_send_their_method_headers_and_body(farm: Farm) -> None:
    echo = farm.route("/echo?test=requests")
    items: list[str | curlx.Request] = [
        curlx.Request(echo + "&n=1", method="POST", data=b"x"),
        echo + "&n=2",
        curlx.Request(echo + "&n=3", headers={"X-Crawl": "yes"}),
        echo + "&n=4",
        curlx.Request(echo + "&n=5", method="POST", json={"a": 1}),
        curlx.Request(echo + "&n=6", method="HEAD"),
    ]
    # One handle, so each request runs on the handle the previous one used.
    results = list(curlx.fetch_many(items, concurrency=1, timeout=LIMITS))
    assert [r.status_code for r in results] == [200] * 6
    assert results[0].response is not None and results[0].response.content == b"x"
    seen = [e for e in farm.log if "test=requests" in e.target]
    assert [(e.method, e.body) for e in seen] == [
        ("POST", b"x"),
        ("GET", b""),
        ("GET", b""),
        ("GET", b""),
        ("POST", b'{"a":1}'),
        ("HEAD", b""),
    ]
    assert seen[2].headers.get("x-crawl") == "yes"
    assert "x-crawl" not in seen[3].headers  # nothing leaks into the next request
    assert seen[4].headers.get("content-type") == "application/json"


def test_session_options_apply_to_every_transfer(farm: Farm) -> None:
    urls = [farm.route("/echo?test=options"), farm.tls_url, farm.route("/loop")]
    results = {
        r.url: r
        for r in curlx.fetch_many(
            urls, headers={"User-Agent": "farm-crawler/1"}, verify=False, timeout=LIMITS
        )
    }
    assert results[urls[1]].status_code == 200  # verify=False: the untrusted cert is accepted
    loop = results[urls[2]].error
    assert isinstance(loop, curlx.TooManyRedirects)
    assert loop.info is not None and loop.info.redirect_count == 30  # the default limit
    [seen] = [e for e in farm.log if "test=options" in e.target]
    assert seen.headers["user-agent"] == "farm-crawler/1"


def test_results_pickle(farm: Farm) -> None:
    urls = [farm.healthy[0].url("/pickled"), farm.refused_url, farm.route("/status/404")]
    for result in curlx.fetch_many(urls, timeout=LIMITS):
        copy = pickle.loads(pickle.dumps(result))
        assert (copy.url, copy.attempts, copy.elapsed, copy.ok, copy.status_code) == (
            result.url,
            result.attempts,
            result.elapsed,
            result.ok,
            result.status_code,
        )
        if result.response is not None:
            assert copy.response is not None
            assert copy.response.content == result.response.content
            assert copy.response.headers == result.response.headers
        else:
            assert copy.error is not None and result.error is not None
            assert type(copy.error) is type(result.error)
            assert (copy.error.code, copy.error.message, copy.error.url) == (
                result.error.code,
                result.error.message,
                result.error.url,
            )


# --- a crawl held by a Session: connections kept between crawls ------------------------------


def test_a_session_held_crawl_keeps_its_connections_for_the_next_crawl() -> None:
    with HTTPApp(lambda request, exchange: Reply(200, b"ok")) as app:
        urls = [app.url(f"/{i}") for i in range(40)]
        with curlx.Session(timeout=LIMITS) as session:
            first = list(curlx.fetch_many(urls, concurrency=4, session=session))
            after_first = app.connections
            second = list(curlx.fetch_many(urls, concurrency=4, session=session))
        assert [r.status_code for r in first + second] == [200] * 80
        assert 1 <= after_first <= 4
        assert app.connections == after_first  # the second crawl made no new connection
        standalone = list(curlx.fetch_many(urls, concurrency=4, timeout=LIMITS))
        assert [r.status_code for r in standalone] == [200] * 40
        assert app.connections > after_first  # a crawl of its own connects anew


def test_a_session_held_crawl_takes_the_sessions_settings_only() -> None:
    with curlx.Session() as session:
        with pytest.raises(curlx.InvalidRequest, match="retry="):
            curlx.fetch_many(["http://127.0.0.1:1/"], session=session, retry=2)
        with pytest.raises(curlx.InvalidRequest, match="headers="):
            curlx.fetch_many(["http://127.0.0.1:1/"], session=session, headers={"A": "b"})


def test_one_crawl_at_a_time_per_session_and_none_after_close() -> None:
    refused = f"http://127.0.0.1:{closed_port()}/"
    session = curlx.Session(timeout=LIMITS)
    running = curlx.fetch_many([refused, refused], concurrency=1, session=session)
    assert next(running).error is not None
    with pytest.raises(curlx.InvalidOperation, match="already runs"):
        curlx.fetch_many([refused], session=session)
    running.close()  # leaving the loop early gives the handles back
    assert [r.error is not None for r in curlx.fetch_many([refused], session=session)] == [True]
    session.close()
    with pytest.raises(curlx.InvalidOperation, match="closed Session"):
        curlx.fetch_many([refused], session=session)


def _easy_handles() -> int:
    gc.collect()
    return sum(isinstance(thing, pycurl.Curl) for thing in gc.get_objects())


def test_a_crawl_opens_no_handle_it_does_not_use() -> None:
    refused = f"http://127.0.0.1:{closed_port()}/"
    before = _easy_handles()
    crawl = curlx.fetch_many([refused] * 3, concurrency=2, timeout=LIMITS)
    assert next(crawl).error is not None
    # The crawl's two slots; the Session it keeps its settings in never makes its own.
    assert _easy_handles() - before == 2
    crawl.close()
    assert _easy_handles() == before


def test_each_response_keeps_its_own_info_after_its_handle_moved_on() -> None:
    with HTTPApp(lambda request, exchange: Reply(200, request.path.encode())) as app:
        urls = [app.url(f"/page/{i}") for i in range(12)]
        results = list(curlx.fetch_many(urls, concurrency=2, timeout=LIMITS))
        # Read only now: every handle ran later transfers since (and the crawl closed them).
        for result in results:
            assert result.response is not None
            info = result.response.info
            assert info.effective_url == result.url
            assert info.response_code == 200
            assert result.response.content == result.url.split(str(app.port), 1)[1].encode()


def test_a_kept_crawls_responses_keep_their_info_through_the_next_batch() -> None:
    with HTTPApp(lambda request, exchange: Reply(200, b"ok")) as app:
        first_urls = [app.url(f"/first/{i}") for i in range(8)]
        with curlx.Session(timeout=LIMITS) as session:
            first = list(curlx.fetch_many(first_urls, concurrency=2, session=session))
            second = list(
                curlx.fetch_many([app.url("/second")] * 8, concurrency=2, session=session)
            )
            # The first batch's responses are read after the same handles ran the second.
            assert sorted(r.url for r in first) == sorted(first_urls)
            for result in first:
                assert result.response is not None
                assert result.response.info.effective_url == result.url
        assert all(r.status_code == 200 for r in second)


def test_a_request_refused_before_sending_does_not_make_the_crawl_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crawl whose requests are refused before anything is sent goes straight on to the
    next input (it used to sleep a second per refused request with concurrency=1)."""
    slept: list[float] = []
    monkeypatch.setattr(curlx._fetch.time, "sleep", slept.append)  # type: ignore[attr-defined]
    bad = curlx.Request("http://127.0.0.1:9/", headers={"X-Bad\r": "v"})
    results = list(curlx.fetch_many([bad, bad, bad], concurrency=1, timeout=1))
    assert [type(r.error) for r in results] == [curlx.InvalidRequest] * 3
    assert slept == []
