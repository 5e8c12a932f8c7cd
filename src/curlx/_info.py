"""TransferInfo: what a curl handle knew about a transfer when it ended (read via getinfo)."""

from __future__ import annotations

import threading
from typing import Final, NamedTuple

from ._codes import ProxyCode

__all__ = ["READING", "TransferInfo"]

READING: Final = threading.RLock()
"""Held while facts of a finished transfer are read from its handle (an error's or a
response's, on first use or before the handle moves on): a reader in another thread then
waits instead of reading the next transfer. Re-entrant, as a `__del__` may settle another."""


class TransferInfo(NamedTuple):
    """A snapshot of a handle's getinfo values, taken when the transfer ended.

    Times are seconds from the start of the transfer to the end of each phase, 0.0 if the phase
    was never reached (a reused connection has no name lookup or connect time). URLs have
    their credentials removed. Numbers libcurl did not set are 0.
    A successful request's `Response.info` carries the status, the URL, the version, the peer
    and the phase times; a failure's carries every field. (A NamedTuple: immutable, cheap to
    build on every request, and picklable.)
    """

    effective_url: str = ""
    effective_method: str = ""
    os_errno: int = 0
    ssl_verify_result: int = 0
    proxy_ssl_verify_result: int = 0
    response_code: int = 0
    http_connect_code: int = 0
    proxy_error: ProxyCode | int = 0
    http_version: int = 0
    primary_ip: str = ""
    primary_port: int = 0
    namelookup_time: float = 0.0
    connect_time: float = 0.0
    appconnect_time: float = 0.0
    pretransfer_time: float = 0.0
    starttransfer_time: float = 0.0
    total_time: float = 0.0
    request_size: int = 0
    size_upload: int = 0
    size_download: int = 0
    redirect_count: int = 0
    retry_after: float = 0.0
    num_connects: int = 0

    @property
    def request_sent(self) -> bool:
        """True if bytes of the request were written to the connection in this transfer.

        libcurl counts them as they are sent (CURLINFO_REQUEST_SIZE), on fresh and reused
        connections alike, and starts again from 0 with every transfer. It counts what goes
        through the transfer (HTTP requests, redirects included), not a proxy's CONNECT.
        """
        return self.request_size > 0

    @property
    def connection_reused(self) -> bool:
        """True if the transfer ran on a connection kept alive from an earlier one."""
        return self.num_connects == 0 and bool(self.primary_ip)
