"""Retry hints: the values an error carries about repeating it (no policy lives here).

The decision is urllib3's argument made into data: an error that happened before the request
reached the server is safe to retry for any method; one that happened after is safe only for
idempotent methods; some errors repeat until something is changed.
"""

from __future__ import annotations

import dataclasses
from typing import Final, NamedTuple

from . import _codes
from ._codes import RetryKind

__all__ = [
    "IDEMPOTENT_METHODS",
    "RetryEvent",
    "RetryHint",
    "is_retryable",
    "retry_after",
]

IDEMPOTENT_METHODS: Final[frozenset[str]] = frozenset(_codes.IDEMPOTENT_METHODS)


@dataclasses.dataclass(frozen=True, slots=True)
class RetryHint:
    """What an error says about retrying: the kind, the server's Retry-After, and why.

    `kind` is SAFE (the request never reached the server), IDEMPOTENT (retry only idempotent
    methods) or NEVER (it fails again until something changes). `after` is the delay in seconds
    the server asked for with Retry-After, or None.
    """

    kind: RetryKind
    reason: str
    after: float | None = None

    def allows(self, method: str | None = "GET") -> bool:
        """True if a request with `method` may be repeated after this failure.

        A None method (a non-HTTP transfer whose method is unknown) counts as idempotent:
        libcurl's FTP, SFTP and file transfers are downloads unless an upload was asked for.
        """
        if self.kind is RetryKind.SAFE:
            return True
        if self.kind is RetryKind.IDEMPOTENT:
            return method is None or method.upper() in IDEMPOTENT_METHODS
        return False


def is_retryable(exc: BaseException, method: str | None = None) -> bool:
    """True if `exc` is a curlx error whose retry hint allows repeating `method`.

    `method` defaults to the method of the failed request (or GET if it is unknown), so
    ``retry_if_exception(curlx.is_retryable)`` works as a tenacity predicate as it is.
    Exceptions that are not curlx errors are never retryable.
    """
    hint: RetryHint | None = getattr(exc, "retry", None)
    if not isinstance(hint, RetryHint):
        return False
    if method is None:
        method = getattr(exc, "method", None) or "GET"
    return hint.allows(method)


def retry_after(exc: BaseException) -> float | None:
    """The delay in seconds the server asked for (Retry-After) on this error, or None."""
    hint = getattr(exc, "retry", None)
    return hint.after if isinstance(hint, RetryHint) else None


class RetryEvent(NamedTuple):
    """One failed attempt in a retry history: what failed, when, and how long we then waited."""

    attempt: int
    method: str
    url: str
    kind: str  # "connect" (a SAFE error), "read" (an IDEMPOTENT or NEVER error) or "status"
    failure: str  # "CURLE_COULDNT_CONNECT", or "HTTP 503"
    at: float  # wall-clock time of the failure (the policy's clock, time.time() by default)
    delay: float  # seconds waited before the next attempt (0.0 after the last one)
