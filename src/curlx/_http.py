"""HTTP facts curlx decides by, each stated once: methods, statuses, Retry-After.

The retry hint of a status (`HTTPClientError`, `HTTPServerError`) and the statuses a `Retry`
policy repeats by default are both read from here; a test checks that every default status is
one whose hint allows a retry.
"""

from __future__ import annotations

import datetime
import time
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "FINAL_SERVER_STATUSES",
    "KNOWN_METHODS",
    "REDIRECT_STATUSES",
    "RETRYABLE_CLIENT_STATUSES",
    "SECRET_HEADERS",
    "parse_retry_after",
]

# Methods a policy may name: RFC 9110's, PATCH, and WebDAV's (anything else is likely a typo).
KNOWN_METHODS: Final[frozenset[str]] = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
    | {"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "QUERY"}
)
SECRET_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
"""Headers whose values are credentials: never shown in a message, a record or a log line."""
RETRYABLE_CLIENT_STATUSES: Final = frozenset({408, 425, 429})
"""4xx statuses a repeat can cure: a timeout, too early, too many requests."""
FINAL_SERVER_STATUSES: Final = frozenset({501, 505})
"""5xx statuses a repeat cannot cure: not implemented, version not supported."""
DEFAULT_RETRY_STATUSES: Final = RETRYABLE_CLIENT_STATUSES | frozenset(
    {500, 502, 503, 504, 522, 524}
)
"""What `Retry` repeats by default: the curable 4xx, and the 5xx that are passing faults of a
server or its gateway (Cloudflare's 522 and 524 included)."""
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (a number of seconds or an HTTP date), or None.

    A date in the past gives 0.0; anything unparsable gives None.
    """
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime form: HTTP dates are always GMT (RFC 9110 5.6.7)
        when = when.replace(tzinfo=datetime.timezone.utc)
    delay = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, delay)
