"""The Retry policy against real local servers that fail a few times, then succeed.

Every server here is an `HTTPApp` on 127.0.0.1 that answers connection n with the n-th step of
its script (the last step repeats) and records each request it read, so a test can count
attempts from the server's side. A refused port is a port nothing listens on
yet: the injected `sleep_function` (or tenacity's or stamina's hook) opens the listener at a
chosen retry, so no test ever waits, really sleeps, or polls for a server.

Also here: tenacity and stamina driving `curlx.get` with `curlx.is_retryable` and
`curlx.retry_after`, and a run of both example scripts.
"""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import pytest
import stamina
import stamina.instrumentation
import tenacity
import tenacity.nap
from support.http import Exchange, HTTPApp, Reply, Request, RequestHandler, abort
from support.lab import Lab
from support.raw import LOOPBACK, closed_port

import curlx
from curlx import Retry

TIMEOUT = 5.0
"""The `timeout=` of every transfer: nothing can hang."""
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# --- the servers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request a server read."""

    method: str
    path: str
    body: bytes


Step = RequestHandler
"""What a server answers on one connection (a request handler of `HTTPApp`)."""


class ScriptedServer:
    """An `HTTPApp` on 127.0.0.1 answering connection n with `script[n]` (the last step
    repeats), listening once `start()` ran: on `port` if given (so a refused port can start
    accepting), with the test PKI's certificate if `tls`."""

    def __init__(self, lab: Lab, *script: Step, port: int = 0, tls: bool = False) -> None:
        assert script, "a server needs at least one step"
        self.script = script
        self.port = port
        self.tls = tls
        self._lab = lab
        self._app: HTTPApp | None = None

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{LOOPBACK}:{self.port}{path}"

    @property
    def requests(self) -> list[Seen]:
        """Every request read, in order."""
        served = self._app.requests if self._app is not None else []
        return [Seen(r.method, r.target, r.body) for r in served]

    @property
    def methods(self) -> list[str]:
        return [seen.method for seen in self.requests]

    @property
    def accepted(self) -> int:
        return self._app.accepted if self._app is not None else 0

    def start(self) -> ScriptedServer:
        assert self._app is None, "already started"
        self._app = self._lab.app(self._answer, tls=self.tls, port=self.port)
        self.port = self._app.port
        return self

    def _answer(self, request: Request, exchange: Exchange) -> Reply | None:
        step = self.script[min(request.connection, len(self.script)) - 1]
        return step(request, exchange)


def reply(status: int, headers: Mapping[str, str] | None = None, body: bytes = b"") -> Step:
    """Answer `status` with `headers` and `body`, and close."""
    answer = Reply(status, body, list((headers or {}).items()), close=True)

    def step(request: Request, exchange: Exchange) -> Reply:
        return answer

    return step


OK = reply(200, {"Content-Type": "text/plain"}, b"done")


class Scripts:
    """Makes scripted servers for one test; the ``lab`` stops them all afterwards."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    def serve(self, *script: Step, tls: bool = False) -> ScriptedServer:
        """A server already listening on a fresh port."""
        return ScriptedServer(self._lab, *script, tls=tls).start()

    def later(self, *script: Step) -> ScriptedServer:
        """A server on a reserved port that refuses connections until `start()`."""
        return ScriptedServer(self._lab, *script, port=closed_port())


@pytest.fixture
def scripts(lab: Lab) -> Scripts:
    return Scripts(lab)


class Sleeps:
    """An injected `sleep_function`: records each delay; can start a server at the n-th one."""

    def __init__(self, start: ScriptedServer | None = None, at: int = 0) -> None:
        self.delays: list[float] = []
        self._start = start
        self._at = at

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self._start is not None and len(self.delays) == self._at:
            self._start.start()


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s although no retry was allowed")


# --- Retry-After ----------------------------------------------------------------------------


def test_503_retry_after_seconds_is_waited_then_200(scripts: Scripts) -> None:
    """A 503 with Retry-After: 1 is retried after 1 s (not the 0 s backoff); then 200."""
    server = scripts.serve(reply(503, {"Retry-After": "1"}), OK)
    sleeps = Sleeps()
    with curlx.Session(retry=Retry(backoff_factor=0, sleep_function=sleeps)) as session:
        answer = session.get(server.url("/a"), timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.content == b"done"
    assert sleeps.delays == [1.0]
    assert server.methods == ["GET", "GET"]


def test_503_retry_after_http_date_is_waited_then_200(scripts: Scripts) -> None:
    """A 503 whose Retry-After is an HTTP date two seconds ahead waits until that date."""
    now = 1_700_000_000.0  # the policy's clock, fixed: the wait does not depend on the wall clock
    server = scripts.serve(reply(503, {"Retry-After": formatdate(now + 2, usegmt=True)}), OK)
    sleeps = Sleeps()
    policy = Retry(backoff_factor=0, sleep_function=sleeps, clock=lambda: now)
    answer = curlx.get(server.url(), timeout=TIMEOUT, retry=policy)
    assert answer.status_code == 200
    assert sleeps.delays == [2.0]
    assert len(server.requests) == 2


def test_429_retry_after_is_waited_then_200(scripts: Scripts) -> None:
    """A 429 with Retry-After: 1 is retried after 1 s; then 200."""
    server = scripts.serve(reply(429, {"Retry-After": "1"}), OK)
    sleeps = Sleeps()
    answer = curlx.get(
        server.url(), timeout=TIMEOUT, retry=Retry(backoff_factor=0.25, sleep_function=sleeps)
    )
    assert answer.status_code == 200
    assert sleeps.delays == [1.0]
    assert len(server.requests) == 2


def test_retry_after_above_the_cap_waits_the_cap(scripts: Scripts) -> None:
    """A server asking for an hour is waited retry_after_max seconds only."""
    server = scripts.serve(reply(503, {"Retry-After": "3600"}), OK)
    sleeps = Sleeps()
    policy = Retry(backoff_factor=0, retry_after_max=2.5, sleep_function=sleeps)
    assert curlx.get(server.url(), timeout=TIMEOUT, retry=policy).status_code == 200
    assert sleeps.delays == [2.5]


def test_retry_after_not_respected_waits_the_backoff(scripts: Scripts) -> None:
    """With respect_retry_after=False the server's Retry-After is ignored."""
    server = scripts.serve(reply(503, {"Retry-After": "30"}), OK)
    sleeps = Sleeps()
    policy = Retry(backoff_factor=0.125, respect_retry_after=False, sleep_function=sleeps)
    assert curlx.get(server.url(), timeout=TIMEOUT, retry=policy).status_code == 200
    assert sleeps.delays == [0.125]


def test_unusable_retry_after_byte_does_not_break_the_retry(scripts: Scripts) -> None:
    """A Retry-After holding the byte 0xB2 ('²' in latin-1) is ignored: the 503 is retried."""
    server = scripts.serve(reply(503, {"Retry-After": "\xb2"}), OK)
    sleeps = Sleeps()
    policy = Retry(backoff_factor=0.125, sleep_function=sleeps)
    assert curlx.get(server.url(), timeout=TIMEOUT, retry=policy).status_code == 200
    assert sleeps.delays == [0.125]


# --- SAFE errors: a refused port that starts listening --------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_refused_connection_is_retried_until_the_server_listens(
    scripts: Scripts, method: str
) -> None:
    """Refused connections (SAFE) are retried for GET and POST; the third attempt connects."""
    server = scripts.later(OK)
    sleeps = Sleeps(start=server, at=2)
    policy = Retry(total=5, backoff_factor=0.125, sleep_function=sleeps)
    with curlx.Session(retry=policy) as session:
        body = b"payload" if method == "POST" else None
        answer = session.request(method, server.url("/r"), data=body, timeout=TIMEOUT)
    assert answer.status_code == 200
    assert sleeps.delays == [0.125, 0.25]
    assert server.requests == [Seen(method, "/r", body or b"")]


def test_refused_connection_is_retried_with_curlx_get(scripts: Scripts) -> None:
    """curlx.get(..., retry=policy) retries a refused connection like a Session does."""
    server = scripts.later(OK)
    sleeps = Sleeps(start=server, at=1)
    policy = Retry(backoff_factor=0.5, sleep_function=sleeps)
    assert curlx.get(server.url(), timeout=TIMEOUT, retry=policy).content == b"done"
    assert sleeps.delays == [0.5]
    assert server.methods == ["GET"]


def test_refused_connection_retries_exhausted_raise_connect_error(scripts: Scripts) -> None:
    """When retries run out, the last CouldntConnect is raised (except ConnectError works),
    with one history event per attempt."""
    server = scripts.later(OK)  # never started
    sleeps = Sleeps()
    policy = Retry(total=2, backoff_factor=0.25, sleep_function=sleeps)
    with pytest.raises(curlx.ConnectError) as caught, curlx.Session(retry=policy) as session:
        session.post(server.url("/p"), data=b"x", timeout=TIMEOUT)
    history = caught.value.history
    assert isinstance(caught.value, curlx.CouldntConnect)
    assert [event.attempt for event in history] == [1, 2, 3]
    assert {(event.method, event.url, event.kind) for event in history} == {
        ("POST", server.url("/p"), "connect")
    }
    assert {event.failure for event in history} == {"CURLE_COULDNT_CONNECT"}
    assert [event.delay for event in history] == [0.25, 0.5, 0.0]
    assert sleeps.delays == [0.25, 0.5]


def test_connect_limit_stops_before_total(scripts: Scripts) -> None:
    """connect=1 allows a single retry of a refused connection though total allows more."""
    server = scripts.later(OK)
    sleeps = Sleeps()
    with pytest.raises(curlx.ConnectError) as caught:
        curlx.get(
            server.url(),
            timeout=TIMEOUT,
            retry=Retry(total=5, connect=1, backoff_factor=0.1, sleep_function=sleeps),
        )
    assert len(caught.value.history) == 2
    assert sleeps.delays == [0.1]


def test_history_urls_have_no_credentials(scripts: Scripts) -> None:
    """The URLs in the history never hold the user:password of the request URL."""
    server = scripts.later(OK)
    url = server.url("/login").replace("://", "://user:s3cret@")
    with pytest.raises(curlx.ConnectError) as caught:
        curlx.get(url, timeout=TIMEOUT, retry=Retry(total=1, backoff_factor=0))
    assert len(caught.value.history) == 2
    assert all("s3cret" not in event.url for event in caught.value.history)
    assert caught.value.history[0].url == server.url("/login")


def test_int_retry_is_a_number_of_retries(scripts: Scripts) -> None:
    """retry=0 (an int) is Retry(total=0): one attempt, raised with its history."""
    server = scripts.later(OK)
    with pytest.raises(curlx.ConnectError) as caught:
        curlx.get(server.url(), timeout=TIMEOUT, retry=0)
    assert [event.kind for event in caught.value.history] == ["connect"]


def test_request_retry_none_overrides_the_session_policy(scripts: Scripts) -> None:
    """retry=None on one request sends it without the Session's policy."""
    server = scripts.later(OK)
    with curlx.Session(retry=Retry(sleep_function=no_sleep)) as session:
        with pytest.raises(curlx.ConnectError) as caught:
            session.get(server.url(), timeout=TIMEOUT, retry=None)
    assert caught.value.history == ()


# --- IDEMPOTENT errors: a server that resets after reading the request ----------------------


def test_reset_after_request_is_retried_for_get(scripts: Scripts) -> None:
    """A connection reset after the request was sent (IDEMPOTENT) is retried for GET."""
    server = scripts.serve(abort, abort, OK)
    sleeps = Sleeps()
    with curlx.Session(retry=Retry(backoff_factor=0.125, sleep_function=sleeps)) as session:
        answer = session.get(server.url(), timeout=TIMEOUT)
    assert answer.status_code == 200
    assert server.methods == ["GET", "GET", "GET"]
    assert sleeps.delays == [0.125, 0.25]


def test_reset_after_request_is_not_retried_for_post(scripts: Scripts) -> None:
    """The same reset is not retried for POST: the server may have acted on it."""
    server = scripts.serve(abort, OK)
    with curlx.Session(retry=Retry(total=5, sleep_function=no_sleep)) as session:
        with pytest.raises(curlx.RecvError) as caught:
            session.post(server.url(), data=b"order=1", timeout=TIMEOUT)
    assert isinstance(caught.value, curlx.NetworkError)
    assert [(event.method, event.kind) for event in caught.value.history] == [("POST", "read")]
    assert server.requests == [Seen("POST", "/", b"order=1")]


def test_reset_retries_exhausted_raise_recv_error_with_history(scripts: Scripts) -> None:
    """When read retries run out, the last RecvError is raised with its full history."""
    server = scripts.serve(abort)
    sleeps = Sleeps()
    policy = Retry(total=2, backoff_factor=0.125, sleep_function=sleeps)
    with pytest.raises(curlx.RecvError) as caught:
        curlx.get(server.url(), timeout=TIMEOUT, retry=policy)
    assert [(event.kind, event.failure) for event in caught.value.history] == [
        ("read", "CURLE_RECV_ERROR")
    ] * 3
    assert len(server.requests) == 3


def test_read_limit_stops_before_total(scripts: Scripts) -> None:
    """read=1 allows a single retry of a reset though total allows more."""
    server = scripts.serve(abort)
    policy = Retry(total=5, read=1, backoff_factor=0.1, sleep_function=Sleeps())
    with pytest.raises(curlx.RecvError) as caught:
        curlx.get(server.url(), timeout=TIMEOUT, retry=policy)
    assert len(caught.value.history) == 2
    assert len(server.requests) == 2


# --- status retries running out -------------------------------------------------------------


def test_status_retries_exhausted_return_the_last_response(scripts: Scripts) -> None:
    """When status retries run out, the last 503 response is returned, not raised."""
    server = scripts.serve(reply(503, body=b"busy"))
    sleeps = Sleeps()
    with curlx.Session(retry=Retry(total=2, backoff_factor=0.5, sleep_function=sleeps)) as s:
        answer = s.get(server.url(), timeout=TIMEOUT)
    assert (answer.status_code, answer.content) == (503, b"busy")
    assert len(server.requests) == 3
    assert sleeps.delays == [0.5, 1.0]


def test_status_retries_exhausted_raise_with_raise_on_status(scripts: Scripts) -> None:
    """With raise_on_status=True the last 503 is raised as HTTPServerError with .response and
    .history."""
    server = scripts.serve(reply(503))
    policy = Retry(total=2, backoff_factor=0, raise_on_status=True)
    with pytest.raises(curlx.HTTPServerError) as caught:
        curlx.get(server.url(), timeout=TIMEOUT, retry=policy)
    assert caught.value.response is not None and caught.value.response.status_code == 503
    assert caught.value.status_code == 503
    assert [(event.kind, event.failure) for event in caught.value.history] == [
        ("status", "HTTP 503")
    ] * 3
    assert len(server.requests) == 3


def test_statuses_not_in_the_set_are_returned_at_once(scripts: Scripts) -> None:
    """A 404 is not a status to retry: one request, the 404 returned."""
    server = scripts.serve(reply(404), OK)
    answer = curlx.get(server.url(), timeout=TIMEOUT, retry=Retry(sleep_function=no_sleep))
    assert answer.status_code == 404
    assert len(server.requests) == 1


def test_status_503_to_post_is_returned_without_retry(scripts: Scripts) -> None:
    """A 503 to a POST is returned as it is: POST is not in the policy's methods."""
    server = scripts.serve(reply(503), OK)
    policy = Retry(sleep_function=no_sleep)
    answer = curlx.post(server.url(), data=b"x", timeout=TIMEOUT, retry=policy)
    assert answer.status_code == 503
    assert server.methods == ["POST"]


# --- NEVER errors: raised after one attempt -------------------------------------------------


def test_redirect_to_a_refused_protocol_is_not_retried(scripts: Scripts) -> None:
    """A redirect to ftp:// (outside the allowed protocols) fails with UnsupportedProtocol,
    a NEVER error: raised after the single attempt."""
    server = scripts.serve(reply(302, {"Location": f"ftp://{LOOPBACK}:1/file"}), OK)
    with pytest.raises(curlx.UnsupportedProtocol) as caught:
        curlx.get(server.url(), timeout=TIMEOUT, retry=Retry(total=5, sleep_function=no_sleep))
    assert caught.value.retry.kind is curlx.RetryKind.NEVER
    assert [event.failure for event in caught.value.history] == ["CURLE_UNSUPPORTED_PROTOCOL"]
    assert len(server.requests) == 1


def test_file_url_is_refused_without_retry() -> None:
    """file:// is refused (UnsupportedProtocol, NEVER) without a retry or a wait."""
    with pytest.raises(curlx.UnsupportedProtocol) as caught:
        curlx.get("file:///etc/hostname", timeout=TIMEOUT, retry=Retry(sleep_function=no_sleep))
    assert caught.value.retry.kind is curlx.RetryKind.NEVER
    assert len(caught.value.history) == 0  # refused before any transfer: no retry events


def test_malformed_url_is_not_retried() -> None:
    """A URL libcurl cannot parse (URLMalformat, NEVER) is raised after one attempt."""
    with pytest.raises(curlx.InvalidURL) as caught:
        curlx.get("http://", timeout=TIMEOUT, retry=Retry(total=5, sleep_function=no_sleep))
    assert [event.failure for event in caught.value.history] == ["CURLE_URL_MALFORMAT"]


def test_certificate_failure_is_not_retried(scripts: Scripts) -> None:
    """A certificate that does not verify (NEVER) is raised after one handshake, and is still
    caught as SSLError."""
    server = scripts.serve(OK, tls=True)  # the test PKI's certificate: no client trusts it
    with pytest.raises(curlx.SSLError) as caught:
        curlx.get(
            server.url(scheme="https"),
            timeout=TIMEOUT,
            retry=Retry(total=5, sleep_function=no_sleep),
        )
    assert isinstance(caught.value, curlx.CertificateError)
    assert [event.failure for event in caught.value.history] == ["CURLE_PEER_FAILED_VERIFICATION"]
    assert server.accepted == 1


# --- tenacity -------------------------------------------------------------------------------


def no_sleep_over_zero(seconds: float) -> None:
    assert seconds == 0, f"tenacity was to wait {seconds} s"


def test_tenacity_retries_a_refused_connection_with_is_retryable(scripts: Scripts) -> None:
    """tenacity with retry_if_exception(curlx.is_retryable) retries refusals until it works."""
    server = scripts.later(OK)

    def start_before_third_attempt(state: tenacity.RetryCallState) -> None:
        if state.attempt_number == 2:
            server.start()

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(curlx.is_retryable),
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_none(),
        before_sleep=start_before_third_attempt,
        sleep=no_sleep_over_zero,
        reraise=True,
    )
    answer = retrying(curlx.get, server.url(), timeout=TIMEOUT)
    assert answer.content == b"done"
    assert retrying.statistics["attempt_number"] == 3


def test_tenacity_does_not_retry_post_after_a_reset(scripts: Scripts) -> None:
    """is_retryable takes the failed request's method: a POST reset is not retried."""
    server = scripts.serve(abort, OK)
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(curlx.is_retryable),
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_none(),
        sleep=no_sleep,
        reraise=True,
    )
    with pytest.raises(curlx.RecvError):
        retrying(curlx.post, server.url(), data=b"x", timeout=TIMEOUT)
    assert server.methods == ["POST"]


def test_tenacity_waits_the_retry_after_of_the_error(scripts: Scripts) -> None:
    """A tenacity wait callback using curlx.retry_after waits what the 503 asked for."""
    server = scripts.serve(reply(503, {"Retry-After": "1"}), OK)
    waits: list[float] = []

    def wait_retry_after(state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        asked = curlx.retry_after(failure) if failure is not None else None
        return asked if asked is not None else 0.0

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(curlx.is_retryable),
        stop=tenacity.stop_after_attempt(3),
        wait=wait_retry_after,
        sleep=waits.append,
        reraise=True,
    )

    def fetch() -> curlx.Response:
        return curlx.get(server.url(), timeout=TIMEOUT).raise_for_status()

    assert retrying(fetch).status_code == 200
    assert waits == [1.0]


# --- stamina --------------------------------------------------------------------------------


class StaminaHooks:
    """stamina's on-retry hooks for one test: a recorder of each retry's details, plus extras."""

    def __init__(self) -> None:
        self.seen: list[stamina.instrumentation.RetryDetails] = []
        self.use()

    def record(self, details: stamina.instrumentation.RetryDetails) -> None:
        self.seen.append(details)

    def use(self, *extra: stamina.instrumentation.RetryHook) -> None:
        stamina.instrumentation.set_on_retry_hooks([self.record, *extra])


@pytest.fixture
def stamina_hooks() -> Iterator[StaminaHooks]:
    """Replaces stamina's on-retry hooks by a recorder; restores the defaults afterwards."""
    try:
        yield StaminaHooks()
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)


def test_stamina_retries_a_refused_connection_with_is_retryable(
    scripts: Scripts, stamina_hooks: StaminaHooks
) -> None:
    """stamina.retry(on=curlx.is_retryable) retries refusals; test mode makes it not wait."""
    server = scripts.later(OK)

    def start_on_second_retry(details: stamina.instrumentation.RetryDetails) -> None:
        if details.retry_num == 2:
            server.start()

    stamina_hooks.use(start_on_second_retry)

    @stamina.retry(on=curlx.is_retryable, attempts=3)
    def fetch() -> curlx.Response:
        return curlx.get(server.url(), timeout=TIMEOUT)

    with stamina.set_testing(True, attempts=3):
        answer = fetch()
    assert answer.content == b"done"
    assert [details.retry_num for details in stamina_hooks.seen] == [1, 2]
    assert all(isinstance(d.caused_by, curlx.ConnectError) for d in stamina_hooks.seen)


def test_stamina_does_not_retry_post_after_a_reset(
    scripts: Scripts, stamina_hooks: StaminaHooks
) -> None:
    """stamina with curlx.is_retryable lets a POST reset through at once."""
    server = scripts.serve(abort, OK)

    @stamina.retry(on=curlx.is_retryable, attempts=3)
    def order() -> curlx.Response:
        return curlx.post(server.url(), data=b"x", timeout=TIMEOUT)

    with stamina.set_testing(True, attempts=3), pytest.raises(curlx.RecvError):
        order()
    assert server.methods == ["POST"]
    assert stamina_hooks.seen == []


def test_stamina_backoff_hook_waits_the_retry_after(
    scripts: Scripts,
    stamina_hooks: StaminaHooks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stamina backoff hook returning curlx.retry_after makes stamina wait that long."""
    server = scripts.serve(reply(429, {"Retry-After": "1"}), OK)
    waits: list[float] = []
    # stamina sleeps through tenacity's default sleep, which calls tenacity.nap's time.sleep.
    monkeypatch.setattr(tenacity.nap, "time", types.SimpleNamespace(sleep=waits.append))

    def retry_after_or_backoff(exc: Exception) -> bool | float:
        if not curlx.is_retryable(exc):
            return False
        asked = curlx.retry_after(exc)
        return asked if asked is not None else True

    @stamina.retry(on=retry_after_or_backoff, attempts=3)
    def fetch() -> curlx.Response:
        return curlx.get(server.url(), timeout=TIMEOUT).raise_for_status()

    assert not stamina.is_testing()
    assert fetch().status_code == 200
    assert waits == [1.0]
    assert [details.wait_for for details in stamina_hooks.seen] == [1.0]


# --- the examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["tenacity_retry.py", "stamina_retry.py"])
def test_example_runs_to_completion(script: str) -> None:
    """Each retry example runs on its own (its own loopback server) and exits 0."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "200 hello"
