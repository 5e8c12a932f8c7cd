"""The Retry policy on its own: one rule per test, no network, no clock, no waiting.

Errors are built with `error_from_code()` as a transfer would build them, responses by hand;
every policy gets an injected clock, and a `sleep_function` and `random` that fail the test if
they are used where they must not be. Real transfers are in `test_retry_real.py`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import curlx
from curlx import Retry, RetryEvent, RetryKind, TransferInfo
from curlx._translate import error_from_code

NOW = 1_700_000_000.0
"""The injected clock's time: a whole second, so HTTP dates convert to exact delays."""
URL = "http://example.test/resource"


# --- helpers --------------------------------------------------------------------------------


def clock() -> float:
    return NOW


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"the policy slept {seconds} s where it must not")


def no_random() -> float:
    raise AssertionError("the policy drew a random number where it must not")


def make(**overrides: Any) -> Retry:
    """A policy with an injected clock; sleeping and randomness fail unless overridden."""
    settings: dict[str, Any] = {"clock": clock, "sleep_function": no_sleep, "random": no_random}
    settings.update(overrides)
    return Retry(**settings)


def error(
    code: int, method: str = "GET", url: str = URL, info: TransferInfo | None = None
) -> curlx.CurlError:
    """The typed error a transfer with `method` on `url` would raise for `code`."""
    if info is None:
        info = TransferInfo(effective_url=url)
    return error_from_code(code, f"libcurl says {code}", info=info, method=method, url=url)


def response(
    status: int, headers: Mapping[str, str] | None = None, method: str = "GET", url: str = URL
) -> curlx.Response:
    """A finished HTTP/1.1 response with `status` and `headers`, as a Session would return it."""
    lines = [f"HTTP/1.1 {status} Reason\r\n".encode()]
    lines += [f"{name}: {value}\r\n".encode("latin-1") for name, value in (headers or {}).items()]
    lines.append(b"\r\n")
    return curlx.Response(
        status_code=status,
        content=b"",
        header_lines=lines,
        info=TransferInfo(effective_url=url, response_code=status),
        method=method,
        request_url=url,
    )


def http_date(seconds_from_now: float) -> str:
    return formatdate(NOW + seconds_from_now, usegmt=True)


# The failures of each hint, as libcurl reports them (the timeouts are told apart by what the
# handle had done: a request sent or not).
SENT = TransferInfo(effective_url=URL, namelookup_time=0.001, connect_time=0.002, request_size=80)
CONNECTING = TransferInfo(effective_url=URL, namelookup_time=0.001)

SAFE_ERRORS = {
    "dns-failure": lambda method: error(6, method),
    "refused": lambda method: error(7, method),
    "connect-timeout": lambda method: error(28, method, info=CONNECTING),
    "resolve-timeout": lambda method: error(28, method, info=TransferInfo(effective_url=URL)),
}
IDEMPOTENT_ERRORS = {
    "reset-after-sending": lambda method: error(56, method, info=SENT),
    "read-timeout": lambda method: error(28, method, info=SENT),
    "nothing-received": lambda method: error(52, method, info=SENT),
    "partial-body": lambda method: error(18, method, info=SENT),
    "http2-stream": lambda method: error(92, method, info=SENT),
}
NEVER_ERRORS = {
    "bad-url": lambda method: error(3, method),
    "certificate-refused": lambda method: error(60, method),
    "unsupported-protocol": lambda method: error(1, method, url="foo://example.test/"),
    "unknown-option": lambda method: error(48, method),
    "bad-function-argument": lambda method: error(43, method),
}


# --- defaults and construction --------------------------------------------------------------


def test_default_statuses_are_the_transient_ones() -> None:
    """By default 408, 425, 429, 500, 502, 503, 504, 522 and 524 responses are retried."""
    assert Retry().statuses == {408, 425, 429, 500, 502, 503, 504, 522, 524}


def test_default_methods_are_the_idempotent_ones() -> None:
    """By default IDEMPOTENT failures are retried for GET HEAD PUT DELETE OPTIONS TRACE only."""
    assert Retry().methods == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}


def test_default_policy_values() -> None:
    """The defaults: 3 retries, no per-kind limits, 0.5 s backoff doubling up to 30 s, no
    jitter, Retry-After honoured up to 120 s, the last status response returned."""
    policy = Retry()
    assert (policy.total, policy.connect, policy.read, policy.status) == (3, None, None, None)
    assert (policy.backoff_factor, policy.backoff_max, policy.jitter) == (0.5, 30.0, 0.0)
    assert (policy.respect_retry_after, policy.retry_after_max) == (True, 120.0)
    assert policy.raise_on_status is False
    assert policy.history == ()


def test_methods_are_normalised_to_upper_case() -> None:
    """Methods may be given in any case; the policy keeps them upper-cased."""
    assert make(methods={"get", "Post"}).methods == frozenset({"GET", "POST"})


def test_statuses_and_methods_are_stored_as_frozensets() -> None:
    """Any iterable of statuses or methods is stored as a frozenset, so the policy is hashable."""
    policy = make(statuses=[503, 503, 429], methods=["GET"])
    assert policy.statuses == frozenset({429, 503})
    assert isinstance(policy.statuses, frozenset) and isinstance(policy.methods, frozenset)
    assert hash(policy) == hash(make(statuses={429, 503}, methods={"GET"}))


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total", -1),
        ("total", 1.5),
        ("total", True),
        ("total", None),
        ("connect", "3"),
        ("connect", -1),
        ("read", 2.0),
        ("read", False),
        ("status", -5),
    ],
)
def test_limits_must_be_whole_numbers_not_below_zero(field: str, value: object) -> None:
    """`total`, `connect`, `read` and `status` take ints >= 0 (not bools); else ValueError
    naming the bad value."""
    settings: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=re.escape(f"{field}={value!r}")):
        Retry(**settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("backoff_factor", -0.5),
        ("backoff_factor", "1"),
        ("backoff_factor", True),
        ("backoff_max", -1),
        ("jitter", -0.1),
        ("retry_after_max", -3),
    ],
)
def test_durations_must_be_seconds_not_below_zero(field: str, value: object) -> None:
    """`backoff_factor`, `backoff_max`, `jitter` and `retry_after_max` take numbers >= 0;
    else ValueError naming the bad value."""
    settings: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=re.escape(f"{field}={value!r}")):
        Retry(**settings)


@pytest.mark.parametrize("field", ["backoff_factor", "backoff_max", "jitter", "retry_after_max"])
def test_durations_must_not_be_nan(field: str) -> None:
    """NaN is not a number of seconds >= 0: ValueError (it would make sleep() fail or wait the
    cap, or lift the Retry-After cap)."""
    settings: dict[str, Any] = {field: float("nan")}
    with pytest.raises(ValueError, match="nan"):
        Retry(**settings)


def test_unknown_method_is_refused_with_its_name() -> None:
    """A method that is not an HTTP method is a ValueError echoing it."""
    with pytest.raises(ValueError, match="'GTE'"):
        Retry(methods=frozenset({"GTE"}))


def test_unknown_method_error_suggests_the_closest_method() -> None:
    """The error for a misspelt method suggests the method that was probably meant."""
    with pytest.raises(ValueError, match="Did you mean 'GET'"):
        Retry(methods=frozenset({"GET", "GTE"}))


@pytest.mark.parametrize("status", [99, 600, 0, -503, True, "503"])
def test_statuses_must_be_http_statuses(status: object) -> None:
    """Every status must be an int in 100..599; else ValueError echoing it."""
    with pytest.raises(ValueError, match=re.escape(repr(status))):
        Retry(statuses=frozenset({503, status}))  # type: ignore[arg-type]


def test_bad_input_is_also_refused_by_replace() -> None:
    """A policy derived with dataclasses.replace is checked like a new one."""
    with pytest.raises(ValueError, match=re.escape("total=-2")):
        dataclasses.replace(make(), total=-2)


# --- Retry.of -------------------------------------------------------------------------------


def test_of_an_int_is_a_policy_with_that_total() -> None:
    """`Retry.of(3)` is `Retry(total=3)` with every other setting at its default."""
    policy = Retry.of(3)
    assert isinstance(policy, Retry)
    assert policy == Retry(total=3)


def test_of_none_is_no_policy() -> None:
    """`Retry.of(None)` is None: no retries at all."""
    assert Retry.of(None) is None


def test_of_a_policy_is_that_same_policy() -> None:
    """`Retry.of(policy)` returns the very object given."""
    policy = make(total=7)
    assert Retry.of(policy) is policy


def test_of_a_bad_int_is_refused() -> None:
    """`Retry.of(-1)` is refused like `Retry(total=-1)`."""
    with pytest.raises(ValueError, match=re.escape("total=-1")):
        Retry.of(-1)


# --- immutability ---------------------------------------------------------------------------


def test_assignment_raises_frozen_instance_error() -> None:
    """A policy is frozen: setting any field raises FrozenInstanceError."""
    policy = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.total = 10  # type: ignore[misc]


def test_increment_returns_a_new_policy() -> None:
    """increment() returns another Retry object with one more history event."""
    policy = make()
    after = policy.increment(error(7), "GET")
    assert after is not policy
    assert len(after.history) == 1


def test_increment_leaves_the_old_policy_unchanged() -> None:
    """The policy increment() was called on keeps its empty history, so it can be reused."""
    policy = make()
    policy.increment(error(7), "GET")
    policy.increment(error(7), "GET")
    assert policy.history == ()
    assert len(policy.increment(error(7), "GET").history) == 1


def test_increment_keeps_every_setting_and_injected_function() -> None:
    """The next policy has the same settings, clock, sleep_function and random."""
    sleeps: list[float] = []

    def draw() -> float:
        return 0.5

    policy = make(total=9, connect=4, backoff_factor=0.1, jitter=1.0, sleep_function=sleeps.append)
    policy = dataclasses.replace(policy, random=draw)
    after = policy.increment(error(7), "GET")
    assert dataclasses.replace(after, history=()) == policy
    assert after.clock is clock and after.sleep_function == sleeps.append
    assert after.random is draw


# --- backoff --------------------------------------------------------------------------------


def test_backoff_doubles_from_backoff_factor() -> None:
    """The wait before retry n is backoff_factor * 2 ** (n - 1)."""
    policy = make(backoff_factor=0.5)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped_by_backoff_max() -> None:
    """The wait never exceeds backoff_max."""
    policy = make(backoff_factor=1.0, backoff_max=5.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_before_the_first_attempt_is_zero() -> None:
    """There is no wait before attempt 0 (or any attempt number below 1)."""
    policy = make(backoff_factor=3.0)
    assert policy.backoff(0) == 0.0
    assert policy.backoff(-4) == 0.0


def test_backoff_of_a_huge_attempt_number_is_the_cap() -> None:
    """A very late retry waits backoff_max; the exponent does not overflow."""
    assert make(backoff_factor=0.5, backoff_max=12.0).backoff(100_000) == 12.0


def test_zero_backoff_factor_means_no_wait() -> None:
    """backoff_factor=0 retries immediately."""
    policy = make(backoff_factor=0)
    assert {policy.backoff(n) for n in range(1, 10)} == {0.0}


def test_jitter_adds_jitter_times_the_random_draw() -> None:
    """With jitter, the wait is the backoff plus jitter * random() (random() in [0, 1))."""
    policy = make(backoff_factor=1.0, jitter=2.0, random=lambda: 0.25)
    assert policy.backoff(1) == 1.0 + 0.5
    assert policy.backoff(3) == 4.0 + 0.5


@pytest.mark.parametrize("draw", [0.0, 0.999999, 1.0])
def test_jitter_stays_within_backoff_and_backoff_plus_jitter(draw: float) -> None:
    """The jittered wait lies between the backoff and the backoff plus jitter."""
    policy = make(backoff_factor=1.0, backoff_max=3.0, jitter=0.5, random=lambda: draw)
    for n in range(1, 6):
        base = min(3.0, 2.0 ** (n - 1))
        assert base <= policy.backoff(n) <= base + 0.5


def test_jitter_is_added_on_top_of_the_cap() -> None:
    """The cap applies before jitter: a capped wait is backoff_max plus the jitter drawn."""
    policy = make(backoff_factor=10.0, backoff_max=1.0, jitter=0.5, random=lambda: 1.0)
    assert policy.backoff(4) == 1.5


def test_no_jitter_draws_no_random_number() -> None:
    """With jitter=0 the injected random is never called (no_random fails the test if it is)."""
    assert make(backoff_factor=1.0, jitter=0.0).backoff(2) == 2.0


def test_backoff_is_pure() -> None:
    """backoff() neither sleeps nor changes the policy; the same attempt gives the same wait."""
    policy = make(backoff_factor=0.25)
    assert policy.backoff(3) == policy.backoff(3) == 1.0
    assert policy.history == ()


@given(
    factor=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    cap=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    attempt=st.integers(min_value=0, max_value=500),
)
def test_backoff_never_decreases_with_the_attempt(factor: float, cap: float, attempt: int) -> None:
    """Without jitter, each retry waits at least as long as the one before it."""
    policy = make(backoff_factor=factor, backoff_max=cap)
    assert policy.backoff(attempt) <= policy.backoff(attempt + 1)


@given(
    factor=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    cap=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    jitter=st.floats(min_value=0, max_value=100, allow_nan=False),
    draw=st.floats(min_value=0, max_value=1, allow_nan=False),
    attempt=st.integers(min_value=1, max_value=500),
)
def test_backoff_never_exceeds_backoff_max_plus_jitter(
    factor: float, cap: float, jitter: float, draw: float, attempt: int
) -> None:
    """The wait is never above backoff_max + jitter, nor below the jitter-free backoff."""
    plain = make(backoff_factor=factor, backoff_max=cap)
    jittered = make(backoff_factor=factor, backoff_max=cap, jitter=jitter, random=lambda: draw)
    assert plain.backoff(attempt) <= cap
    assert plain.backoff(attempt) <= jittered.backoff(attempt) <= cap + jitter


# --- parse_retry_after ----------------------------------------------------------------------


def test_retry_after_seconds() -> None:
    """A Retry-After of digits is that many seconds."""
    assert Retry.parse_retry_after("120") == 120.0
    assert Retry.parse_retry_after("0") == 0.0


def test_retry_after_seconds_ignore_surrounding_whitespace() -> None:
    """Whitespace around the value is ignored."""
    assert Retry.parse_retry_after("  7 \t") == 7.0


def test_retry_after_http_date_is_seconds_from_now() -> None:
    """An HTTP date is the seconds between `now` and that date."""
    assert Retry.parse_retry_after(http_date(30), now=NOW) == 30.0


def test_retry_after_rfc850_date_is_accepted() -> None:
    """The obsolete RFC 850 date form (two-digit year) is understood too."""
    assert Retry.parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now=784111777.0 - 5) == 5.0


def test_retry_after_asctime_date_is_accepted() -> None:
    """The asctime date form, which RFC 9110 (5.6.7) says recipients MUST accept, is GMT."""
    assert Retry.parse_retry_after("Sun Nov  6 08:49:37 1994", now=784111777.0 - 5) == 5.0


def test_retry_after_date_in_the_past_is_zero() -> None:
    """A date already past means no wait (0.0), not a negative one."""
    assert Retry.parse_retry_after(http_date(-60), now=NOW) == 0.0


@pytest.mark.parametrize("value", ["", "   ", "soon", "-5", "1.5", "1e3", "nan", "0x10"])
def test_unusable_retry_after_is_none(value: str) -> None:
    """A value that is neither digits nor an HTTP date is None (ignored)."""
    assert Retry.parse_retry_after(value, now=NOW) is None


@pytest.mark.parametrize("value", ["\xb2", "\xb9", "3\xb3"])
def test_retry_after_with_latin1_superscript_digits_is_none(value: str) -> None:
    """Header values are decoded as latin-1, so a Retry-After may hold '²'; it is unusable
    (None), never an exception."""
    assert Retry.parse_retry_after(value, now=NOW) is None


def test_parse_retry_after_uses_the_now_given() -> None:
    """parse_retry_after is pure: the same date gives delays relative to the `now` passed."""
    value = http_date(100)
    assert Retry.parse_retry_after(value, now=NOW) == 100.0
    assert Retry.parse_retry_after(value, now=NOW + 40) == 60.0


@given(st.integers(min_value=0, max_value=10**15))
def test_retry_after_seconds_round_trip(seconds: int) -> None:
    """Any whole number of seconds written as digits reads back as that number."""
    assert Retry.parse_retry_after(str(seconds)) == float(seconds)


# --- which errors are retried ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "CONNECT"])
@pytest.mark.parametrize("kind", list(SAFE_ERRORS))
def test_safe_errors_are_retried_for_any_method(kind: str, method: str) -> None:
    """A SAFE error (nothing reached the server) is retried whatever the method, POST too."""
    failure = SAFE_ERRORS[kind](method)
    assert failure.retry.kind is RetryKind.SAFE
    after = make().increment(failure, method)
    assert [event.kind for event in after.history] == ["connect"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("kind", list(IDEMPOTENT_ERRORS))
def test_idempotent_errors_are_retried_for_the_policy_methods(kind: str, method: str) -> None:
    """An IDEMPOTENT error (the request may have reached the server) is retried for the
    policy's methods."""
    failure = IDEMPOTENT_ERRORS[kind](method)
    assert failure.retry.kind is RetryKind.IDEMPOTENT
    after = make().increment(failure, method)
    assert [event.kind for event in after.history] == ["read"]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("kind", list(IDEMPOTENT_ERRORS))
def test_idempotent_errors_are_not_retried_for_other_methods(kind: str, method: str) -> None:
    """An IDEMPOTENT error is raised at once for a method outside the policy's methods."""
    failure = IDEMPOTENT_ERRORS[kind](method)
    with pytest.raises(curlx.CurlError) as caught:
        make(total=10).increment(failure, method)
    assert caught.value is failure
    assert len(failure.history) == 1


def test_idempotent_errors_follow_the_methods_setting() -> None:
    """`methods` decides: with methods={"POST"}, POST is retried after a reset and GET is not."""
    policy = make(methods={"POST"})
    assert len(policy.increment(error(56, "POST", info=SENT), "POST").history) == 1
    with pytest.raises(curlx.RecvError):
        policy.increment(error(56, "GET", info=SENT), "GET")


def test_the_method_is_matched_case_insensitively() -> None:
    """increment() compares the method upper-cased: "get" is GET."""
    assert make().increment(error(56, info=SENT), "get").history[0].method == "GET"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("kind", list(NEVER_ERRORS))
def test_never_errors_are_never_retried(kind: str, method: str) -> None:
    """A NEVER error is raised at once, with retries left and for any method."""
    failure = NEVER_ERRORS[kind](method)
    assert failure.retry.kind is RetryKind.NEVER
    with pytest.raises(curlx.CurlError) as caught:
        make(total=100).increment(failure, method)
    assert caught.value is failure


def test_exceptions_that_are_not_curlx_errors_are_not_retried() -> None:
    """A non-curlx exception has no hint, so it is raised again unchanged."""
    failure = OSError("disk on fire")
    with pytest.raises(OSError) as caught:
        make().increment(failure, "GET")
    assert caught.value is failure


def test_error_with_a_server_retry_after_is_still_retried_by_its_hint() -> None:
    """A libcurl status error (code 22, FAILONERROR) follows its hint: 503 is IDEMPOTENT."""
    failure = error(22, info=TransferInfo(effective_url=URL, response_code=503))
    assert isinstance(failure, curlx.HTTPServerError)
    assert len(make().increment(failure, "GET").history) == 1


# --- which responses are retried ------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(Retry().statuses))
def test_default_statuses_are_retried_for_get(status: int) -> None:
    """A response whose status is in `statuses` is retried for the policy's methods."""
    after = make().increment(response(status), "GET")
    assert after.history[0].kind == "status"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501, 505])
def test_statuses_outside_the_set_are_not_retried(status: int) -> None:
    """A response whose status is not in `statuses` raises its HTTPStatusError at once."""
    with pytest.raises(curlx.HTTPStatusError) as caught:
        make().increment(response(status), "GET")
    assert caught.value.status_code == status


def test_statuses_setting_decides_which_statuses_retry() -> None:
    """With statuses={404}, a 404 is retried and a 503 is not."""
    policy = make(statuses={404})
    assert len(policy.increment(response(404), "GET").history) == 1
    with pytest.raises(curlx.HTTPServerError):
        policy.increment(response(503), "GET")


def test_status_responses_are_not_retried_for_post() -> None:
    """A 503 to a POST is not retried: the server may have acted on it."""
    with pytest.raises(curlx.HTTPServerError):
        make().increment(response(503, method="POST"), "POST")


def test_status_responses_follow_the_methods_setting() -> None:
    """With methods={"POST"}, a 503 to a POST is retried."""
    after = make(methods={"POST"}).increment(response(503, method="POST"), "POST")
    assert after.history[0].failure == "HTTP 503"


def test_status_error_raised_carries_the_response() -> None:
    """The HTTPStatusError raised for a response has `.response` set to that response."""
    answer = response(429, {"Retry-After": "3"})
    with pytest.raises(curlx.HTTPClientError) as caught:
        make(total=0).increment(answer, "GET")
    assert caught.value.response is answer
    assert caught.value.status_code == 429


def test_status_error_raised_carries_the_history() -> None:
    """The HTTPStatusError raised when status retries run out has `.history`, one per try."""
    policy = make(total=1, backoff_factor=0)
    policy = policy.increment(response(503), "GET")
    with pytest.raises(curlx.HTTPServerError) as caught:
        policy.increment(response(502), "GET")
    assert [event.failure for event in caught.value.history] == ["HTTP 503", "HTTP 502"]


# --- counting -------------------------------------------------------------------------------


def test_total_is_the_number_of_retries() -> None:
    """total=3 allows three retries (four attempts); the fourth failure is raised."""
    policy = make(total=3, backoff_factor=0)
    for _ in range(3):
        policy = policy.increment(error(7), "GET")
    failure = error(7)
    with pytest.raises(curlx.ConnectError):
        policy.increment(failure, "GET")
    assert len(failure.history) == 4


def test_total_zero_allows_no_retry() -> None:
    """total=0 raises the first failure, with a history of that one attempt."""
    failure = error(7)
    with pytest.raises(curlx.ConnectError):
        make(total=0).increment(failure, "GET")
    assert [event.attempt for event in failure.history] == [1]


def test_total_counts_every_kind_together() -> None:
    """`total` counts connect, read and status retries together."""
    policy = make(total=2, backoff_factor=0)
    policy = policy.increment(error(7), "GET")
    policy = policy.increment(error(56, info=SENT), "GET")
    with pytest.raises(curlx.HTTPServerError):
        policy.increment(response(503), "GET")


def test_connect_limit_counts_safe_errors() -> None:
    """connect=1 allows one retry of a SAFE error; the second is raised, total left or not."""
    policy = make(total=10, connect=1).increment(error(6), "POST")
    with pytest.raises(curlx.ConnectError):
        policy.increment(error(7), "POST")


def test_read_limit_counts_idempotent_errors() -> None:
    """read=1 allows one retry of an IDEMPOTENT error; the second is raised."""
    policy = make(total=10, read=1, backoff_factor=0).increment(error(52, info=SENT), "GET")
    with pytest.raises(curlx.RecvError):
        policy.increment(error(56, info=SENT), "GET")


def test_status_limit_counts_status_responses() -> None:
    """status=1 allows one retry of a status response; the second is raised."""
    policy = make(total=10, status=1, backoff_factor=0).increment(response(503), "GET")
    with pytest.raises(curlx.HTTPServerError):
        policy.increment(response(503), "GET")


def test_per_kind_limits_count_only_their_own_kind() -> None:
    """A used-up connect limit does not stop read or status retries."""
    policy = make(total=10, connect=1, backoff_factor=0).increment(error(7), "GET")
    policy = policy.increment(error(56, info=SENT), "GET")
    policy = policy.increment(response(503), "GET")
    assert [event.kind for event in policy.history] == ["connect", "read", "status"]


def test_per_kind_limit_zero_disables_that_kind_only() -> None:
    """read=0 retries no IDEMPOTENT error but still retries SAFE ones."""
    policy = make(read=0, backoff_factor=0)
    assert len(policy.increment(error(7), "GET").history) == 1
    with pytest.raises(curlx.RecvError):
        policy.increment(error(56, info=SENT), "GET")


# --- history --------------------------------------------------------------------------------


def test_history_event_for_an_error() -> None:
    """An error's event records attempt, method, URL, kind, libcurl's name, the clock and the
    wait."""
    event = make(backoff_factor=0.5).increment(error(7, "post"), "post", URL).history[0]
    assert event == RetryEvent(1, "POST", URL, "connect", "CURLE_COULDNT_CONNECT", NOW, 0.5)


def test_history_event_for_a_response() -> None:
    """A response's event has kind "status" and failure "HTTP <status>"."""
    event = make(backoff_factor=1.0).increment(response(503), "GET").history[0]
    assert event == RetryEvent(1, "GET", URL, "status", "HTTP 503", NOW, 1.0)


def test_history_event_url_defaults_to_the_error_url() -> None:
    """Without a `url` argument the event takes the error's (already redacted) URL."""
    other = "http://other.test/x"
    assert make().increment(error(7, url=other), "GET").history[0].url == other


def test_history_event_url_defaults_to_the_response_url() -> None:
    """Without a `url` argument a response's event takes the URL that answered."""
    other = "http://other.test/final"
    assert make().increment(response(503, url=other), "GET").history[0].url == other


def test_history_numbers_attempts_and_uses_the_clock() -> None:
    """Attempts count from 1; `at` is the injected clock's time at each failure."""
    times = iter([10.0, 20.0, 30.0])
    policy = make(backoff_factor=0, clock=lambda: next(times))
    for _ in range(3):
        policy = policy.increment(error(7), "GET")
    assert [(event.attempt, event.at) for event in policy.history] == [
        (1, 10.0),
        (2, 20.0),
        (3, 30.0),
    ]


def test_history_records_each_backoff() -> None:
    """Each event's delay is the backoff for that retry."""
    policy = make(total=5, backoff_factor=0.25)
    for _ in range(4):
        policy = policy.increment(error(7), "GET")
    assert [event.delay for event in policy.history] == [0.25, 0.5, 1.0, 2.0]


def test_raised_error_history_ends_with_a_zero_delay_event() -> None:
    """The event of the failure that is raised has delay 0.0: nothing is waited after it."""
    policy = make(total=1, backoff_factor=1.0).increment(error(7), "GET")
    failure = error(6)
    with pytest.raises(curlx.DNSError):
        policy.increment(failure, "GET")
    assert [(event.failure, event.delay) for event in failure.history] == [
        ("CURLE_COULDNT_CONNECT", 1.0),
        ("CURLE_COULDNT_RESOLVE_HOST", 0.0),
    ]


def test_never_error_history_has_one_read_event() -> None:
    """A NEVER error raised at once carries one event, of kind "read"."""
    failure = error(60)
    with pytest.raises(curlx.CertificateError):
        make().increment(failure, "GET")
    assert [(event.kind, event.failure) for event in failure.history] == [
        ("read", "CURLE_PEER_FAILED_VERIFICATION")
    ]


def test_raised_error_is_still_caught_by_its_category() -> None:
    """The error raised when retries run out is the typed error itself (except SSLError works)."""
    with pytest.raises(curlx.SSLError):
        make().increment(error(60), "GET")


# --- Retry-After in increment ----------------------------------------------------------------


def test_retry_after_seconds_sets_the_delay() -> None:
    """A response's Retry-After (seconds) longer than the backoff is the wait."""
    after = make(backoff_factor=0.1).increment(response(503, {"Retry-After": "4"}), "GET")
    assert after.history[0].delay == 4.0


def test_retry_after_http_date_sets_the_delay() -> None:
    """A Retry-After HTTP date is read against the policy's clock."""
    answer = response(429, {"Retry-After": http_date(7)})
    assert make(backoff_factor=0).increment(answer, "GET").history[0].delay == 7.0


def test_retry_after_is_capped_by_retry_after_max() -> None:
    """A Retry-After above retry_after_max waits retry_after_max."""
    answer = response(503, {"Retry-After": "3600"})
    after = make(backoff_factor=0, retry_after_max=20.0).increment(answer, "GET")
    assert after.history[0].delay == 20.0


def test_retry_after_date_is_capped_by_retry_after_max() -> None:
    """The cap applies to HTTP dates as well."""
    answer = response(503, {"Retry-After": http_date(86400)})
    after = make(backoff_factor=0, retry_after_max=15.0).increment(answer, "GET")
    assert after.history[0].delay == 15.0


def test_retry_after_is_ignored_when_not_respected() -> None:
    """respect_retry_after=False waits the backoff whatever the server asked."""
    answer = response(503, {"Retry-After": "50"})
    after = make(backoff_factor=0.5, respect_retry_after=False).increment(answer, "GET")
    assert after.history[0].delay == 0.5


def test_backoff_longer_than_retry_after_wins() -> None:
    """Retry-After is a lower bound: a longer backoff is still waited."""
    policy = make(total=10, backoff_factor=1.0, backoff_max=100.0)
    for _ in range(3):
        policy = policy.increment(error(7), "GET")
    after = policy.increment(response(503, {"Retry-After": "2"}), "GET")
    assert after.history[-1].delay == 8.0


def test_unusable_retry_after_falls_back_to_the_backoff() -> None:
    """An unparsable Retry-After is ignored."""
    after = make(backoff_factor=0.5).increment(response(503, {"Retry-After": "later"}), "GET")
    assert after.history[0].delay == 0.5


def test_error_retry_after_sets_the_delay() -> None:
    """An error's own Retry-After (its hint's `after`) is honoured like a response's."""
    failure = error(22, info=TransferInfo(effective_url=URL, response_code=503, retry_after=6.0))
    assert failure.retry.after == 6.0
    assert make(backoff_factor=0).increment(failure, "GET").history[0].delay == 6.0


def test_error_retry_after_is_capped_by_retry_after_max() -> None:
    """An error's Retry-After is capped by retry_after_max too."""
    failure = error(22, info=TransferInfo(effective_url=URL, response_code=503, retry_after=600))
    after = make(backoff_factor=0, retry_after_max=3).increment(failure, "GET")
    assert after.history[0].delay == 3.0


# --- sleeping -------------------------------------------------------------------------------


def test_increment_never_sleeps() -> None:
    """increment() decides the wait but does not wait (no_sleep fails the test if it does)."""
    after = make(backoff_factor=5.0).increment(response(503, {"Retry-After": "9"}), "GET")
    assert after.history[0].delay == 9.0


def test_sleep_waits_the_last_delay_with_the_sleep_function() -> None:
    """sleep() calls sleep_function once with the delay the last increment() decided."""
    waits: list[float] = []
    policy = make(backoff_factor=0.5, sleep_function=waits.append)
    policy = policy.increment(error(7), "GET").increment(error(7), "GET")
    policy.sleep()
    assert waits == [1.0]


def test_sleep_without_history_does_not_wait() -> None:
    """A fresh policy's sleep() waits nothing."""
    waits: list[float] = []
    policy = make(sleep_function=waits.append)
    policy.sleep()
    assert policy.history == ()
    assert waits == []


def test_sleep_after_a_zero_delay_does_not_wait() -> None:
    """With a zero delay, sleep() does not call sleep_function at all."""
    waits: list[float] = []
    policy = make(backoff_factor=0, sleep_function=waits.append).increment(error(7), "GET")
    policy.sleep()
    assert [event.delay for event in policy.history] == [0.0]
    assert waits == []


# --- is_retryable and retry_after ------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
def test_is_retryable_safe_error_for_any_method(method: str) -> None:
    """is_retryable() is True for a SAFE error whatever the method."""
    assert curlx.is_retryable(error(7, method), method=method)


def test_is_retryable_idempotent_error_for_get_only() -> None:
    """is_retryable() allows an IDEMPOTENT error for GET, not for POST."""
    failure = error(56, info=SENT)
    assert curlx.is_retryable(failure, method="GET")
    assert not curlx.is_retryable(failure, method="POST")


def test_is_retryable_defaults_to_the_error_method() -> None:
    """Without a method, is_retryable() uses the failed request's own method."""
    assert curlx.is_retryable(error(56, "GET", info=SENT))
    assert not curlx.is_retryable(error(56, "POST", info=SENT))


def test_is_retryable_never_error() -> None:
    """is_retryable() is False for a NEVER error, even for GET."""
    assert not curlx.is_retryable(error(60), method="GET")


def test_is_retryable_foreign_exception() -> None:
    """is_retryable() is False for exceptions that are not curlx errors."""
    assert not curlx.is_retryable(ConnectionRefusedError(111, "refused"))


def test_retry_after_of_a_status_error() -> None:
    """retry_after() gives the seconds a status error's response asked for."""
    with pytest.raises(curlx.HTTPServerError) as caught:
        response(503, {"Retry-After": "11"}).raise_for_status()
    assert curlx.retry_after(caught.value) == 11.0
    assert curlx.is_retryable(caught.value)


def test_retry_after_without_one_is_none() -> None:
    """retry_after() is None when the server asked for nothing, or for a foreign exception."""
    assert curlx.retry_after(error(7)) is None
    assert curlx.retry_after(ValueError("x")) is None


def test_status_error_with_an_unusable_retry_after_has_none() -> None:
    """raise_for_status() on a 503 whose Retry-After is the latin-1 byte '²' raises the
    HTTPServerError, with retry_after() None, so tenacity and stamina can still retry it."""
    with pytest.raises(curlx.HTTPServerError) as caught:
        response(503, {"Retry-After": "\xb2"}).raise_for_status()
    assert curlx.retry_after(caught.value) is None


def test_every_status_retried_by_default_is_one_whose_hint_allows_a_retry() -> None:
    from curlx._http import DEFAULT_RETRY_STATUSES
    from curlx._translate import status_error

    for status in DEFAULT_RETRY_STATUSES:
        response = curlx.Response(
            status_code=status,
            content=b"",
            header_lines=[],
            info=curlx.TransferInfo(),
            method="GET",
            request_url="http://h/",
        )
        assert status_error(response).retry.allows("GET"), status
