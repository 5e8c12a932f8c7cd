"""The retry policy: `Retry`, an immutable value that decides, one failed attempt at a time,
whether to try again and after how long (`Retry.step`), for every client alike.
"""

from __future__ import annotations

import dataclasses
import difflib
import random as _random
import time
from collections.abc import Callable, Collection
from typing import NamedTuple

from ._codes import RetryKind
from ._exceptions import CurlError, HTTPStatusError, InvalidSetting
from ._hints import IDEMPOTENT_METHODS, RetryEvent, RetryHint
from ._http import DEFAULT_RETRY_STATUSES, KNOWN_METHODS, parse_retry_after
from ._models import Response
from ._translate import status_error

__all__ = ["Retry", "Step"]

# --- the Retry policy ----------------------------------------------------------------------


class Step(NamedTuple):
    """What `Retry.step` decided: the next policy and the delay before it, or the result."""

    retry: Retry | None
    """The policy for the next attempt; None when the request is done."""
    delay: float
    """Seconds to wait before the next attempt (0.0 when done)."""
    result: Response | BaseException | None
    """When done: the Response to give back, or the error to raise."""


@dataclasses.dataclass(frozen=True, slots=True)
class Retry:
    """An immutable retry policy: which failures to repeat, how often, and how long to wait.

    ```python
    session = curlx.Session(retry=curlx.Retry(total=5, backoff_factor=0.2))
    ```

    The decision comes from each error's hint: SAFE errors (nothing reached the server: DNS
    failure, refused connection, connect timeout) are retried for any method; IDEMPOTENT ones
    (reset after sending, read timeout, empty reply, partial body, HTTP/2 stream errors) only
    for `methods`; NEVER ones (bad URL, refused certificate, unsupported protocol) never.
    Responses are retried when their status is in `statuses` and the method in `methods`.

    **Parameters:** `total` retries at most (0: none); `connect`, `read`, `status` optional
    limits per kind (SAFE errors, IDEMPOTENT errors, status responses; None: only `total`
    counts); the wait before retry n is ``backoff_factor * 2 ** (n - 1)`` seconds, at most
    `backoff_max`, plus up to `jitter` random seconds; a server's Retry-After (seconds or an
    HTTP date) is honoured when `respect_retry_after`, up to `retry_after_max` seconds;
    `raise_on_status`: when status retries run out, raise the `HTTPStatusError` instead of
    returning the last response (a status this policy does not retry, such as a 503 to a
    POST, is returned as it is). `increment()` returns the next policy (with `history`) or
    raises; `backoff()` and `parse_retry_after()` are pure; only `sleep()` waits.
    """

    total: int = 3
    connect: int | None = None
    read: int | None = None
    status: int | None = None
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.0
    statuses: Collection[int] = DEFAULT_RETRY_STATUSES
    methods: Collection[str] = IDEMPOTENT_METHODS
    respect_retry_after: bool = True
    retry_after_max: float = 120.0
    raise_on_status: bool = False
    history: tuple[RetryEvent, ...] = ()
    sleep_function: Callable[[float], None] = dataclasses.field(
        default=time.sleep, repr=False, compare=False
    )
    clock: Callable[[], float] = dataclasses.field(default=time.time, repr=False, compare=False)
    random: Callable[[], float] = dataclasses.field(
        default=_random.random, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _count("total", self.total)
        for name in ("connect", "read", "status"):
            value = getattr(self, name)
            if value is not None:
                _count(name, value)
        for name in ("backoff_factor", "backoff_max", "jitter", "retry_after_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise _invalid(f"Retry({name}={value!r}) must be a number of seconds >= 0.")
        statuses = frozenset(self.statuses)
        for code in statuses:
            if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
                raise _invalid(f"Retry(statuses=...) holds {code!r}, not an HTTP status.")
        methods = frozenset(m.upper() if isinstance(m, str) else m for m in self.methods)
        for method in methods:
            if method not in KNOWN_METHODS:
                close = difflib.get_close_matches(str(method), KNOWN_METHODS, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise _invalid(f"Retry(methods=...) holds {method!r}, not an HTTP method.{hint}")
        object.__setattr__(self, "statuses", statuses)
        object.__setattr__(self, "methods", methods)

    # --- pure parts -----------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based), jitter included."""
        if attempt < 1:
            return 0.0
        base = min(self.backoff_max, self.backoff_factor * 2.0 ** min(attempt - 1, 62))
        return float(base + (self.jitter * self.random() if self.jitter else 0.0))

    @staticmethod
    def parse_retry_after(value: str, now: float | None = None) -> float | None:
        """Seconds asked for by a Retry-After value (seconds or HTTP date), None if unusable."""
        return parse_retry_after(value, now)

    def _counts(self, kind: str) -> int:
        return sum(1 for event in self.history if event.kind == kind)

    def _limit_reached(self, kind: str) -> bool:
        if len(self.history) >= self.total:
            return True
        limit = {"connect": self.connect, "read": self.read, "status": self.status}[kind]
        return limit is not None and self._counts(kind) >= limit

    def allows(self, error: BaseException, method: str) -> bool:
        """True if this policy would retry `error` for `method` (ignoring the counts)."""
        hint = getattr(error, "retry", None)
        if not isinstance(hint, RetryHint):
            return False
        if hint.kind is RetryKind.SAFE:
            return True
        return hint.kind is RetryKind.IDEMPOTENT and method.upper() in self.methods

    def retries_status(self, status: int, method: str) -> bool:
        """True if a response with `status` to `method` is one this policy repeats."""
        return status in self.statuses and method.upper() in self.methods

    def step(self, outcome: BaseException | Response, method: str, url: str = "") -> Step:
        """The one decision every client makes after an attempt: try again, or finish.

        `outcome` is the attempt's Response or its error. A response whose status this policy
        does not retry finishes at once (no history); otherwise the step says the policy for
        the next attempt and the delay before it, or finishes with what the client gives back:
        the last Response (its status retries ran out), or the error to raise (with `.history`;
        an `HTTPStatusError` when `raise_on_status`). Pure: nothing waits here.
        """
        if isinstance(outcome, Response) and not self.retries_status(outcome.status_code, method):
            return Step(None, 0.0, outcome)
        try:
            following = self.increment(outcome, method, url)
        except HTTPStatusError as error:
            if isinstance(outcome, Response) and not self.raise_on_status:
                return Step(None, 0.0, outcome)
            return Step(None, 0.0, error)
        except Exception as error:  # the error itself, with its history
            return Step(None, 0.0, error)
        return Step(following, following.history[-1].delay, None)

    def increment(self, failure: BaseException | Response, method: str, url: str = "") -> Retry:
        """The policy for the next attempt after `failure`, or raise if there is none.

        For an error: re-raises that same typed error (with `.history` set) when it must not
        or can no longer be retried. For a response: raises its `HTTPStatusError` (with
        `.response` and `.history`) when its status is not retried or retries ran out.
        """
        method = method.upper()
        now = self.clock()
        if isinstance(failure, Response):
            error: BaseException = status_error(failure)
            url = url or failure.url
            retryable = self.retries_status(failure.status_code, method)
            kind, label = "status", f"HTTP {failure.status_code}"
            asked = failure.headers.get("retry-after", "")
            wait_asked = self.parse_retry_after(asked, now) if asked else None
        else:
            error = failure
            retryable = self.allows(failure, method)
            hint = getattr(failure, "retry", None)
            is_safe = isinstance(hint, RetryHint) and hint.kind is RetryKind.SAFE
            kind = "connect" if is_safe else "read"
            label = failure.name if isinstance(failure, CurlError) else type(failure).__name__
            url = url or (getattr(failure, "url", None) or "")
            wait_asked = hint.after if isinstance(hint, RetryHint) else None
        attempt = len(self.history) + 1
        delay = self.backoff(attempt)
        if wait_asked is not None and self.respect_retry_after:
            delay = max(delay, min(wait_asked, self.retry_after_max))
        event = RetryEvent(attempt, method, url, kind, label, now, delay)
        if not retryable or self._limit_reached(kind):
            done = dataclasses.replace(self, history=(*self.history, event._replace(delay=0.0)))
            if isinstance(error, CurlError):
                error.history = done.history
            if isinstance(error, HTTPStatusError) and isinstance(failure, Response):
                error.response = failure
            raise error
        return dataclasses.replace(self, history=(*self.history, event))

    # --- the one place that waits ---------------------------------------------------------

    def sleep(self) -> None:
        """Wait the delay the last `increment()` decided (nothing if there is none)."""
        if self.history and self.history[-1].delay > 0:
            self.sleep_function(self.history[-1].delay)

    @classmethod
    def of(cls, value: Retry | int | None) -> Retry | None:
        """A policy from what users pass: a Retry, a number of retries, or None (no retries)."""
        if value is None or isinstance(value, Retry):
            return value
        return cls(total=value)


def _count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(f"Retry({name}={value!r}) must be a whole number >= 0.")


def _invalid(message: str) -> ValueError:
    """`InvalidSetting` (a UsageError and a ValueError): the policy was given a bad value."""
    return InvalidSetting(message)
