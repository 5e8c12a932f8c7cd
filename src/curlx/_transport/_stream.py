"""A streamed body's transfer, as its callbacks see it: the pieces gathered, the pause while
the reader is behind, the end of the final response's headers, and the outcome. The sync
transport (`BodyTransfer`) and the asyncio one (`AsyncBodyTransfer`) differ only in how a
reader waits for the next pieces."""

from __future__ import annotations

from logging import DEBUG
from typing import Final, TypeVar

import pycurl

from .._curl import read_response_info
from .._exceptions import CurlError
from .._info import TransferInfo
from .._models import Response, _Streaming
from ._log import enabled, log_response
from ._slot import Slot

_R = TypeVar("_R", bound=_Streaming)

__all__ = ["STREAM_BUFFERED", "StreamState"]

STREAM_BUFFERED: Final = 1 << 20
"""Bytes of a streamed body held unread before its transfer is paused (libcurl's
CURL_WRITEFUNC_PAUSE) until the reader catches up: memory stays bounded, whatever the size."""
_PAUSE: Final[int] = pycurl.WRITEFUNC_PAUSE


class StreamState:
    """The callbacks of a streamed transfer on `slot`, and what they gathered.

    While more than `STREAM_BUFFERED` bytes wait unread, the transfer is paused (the slot
    says so, and its no-progress watch does not count a pause the reader asked for).
    """

    __slots__ = (
        "buffered",
        "error",
        "header_lines",
        "headers_done",
        "info",
        "outcome",
        "pieces",
        "slot",
        "status",
    )

    def __init__(self, slot: Slot) -> None:
        self.slot = slot
        self.pieces: list[bytes] = []
        self.header_lines: list[bytes] = []
        self.buffered = 0
        self.headers_done = False
        self.status = 0
        self.outcome: tuple[int, str] | None = None
        self.error: CurlError | None = None
        self.info: TransferInfo | None = None  # the final info, once the transfer ended
        setopt = slot.handle.setopt
        setopt(pycurl.WRITEFUNCTION, self._write)
        setopt(pycurl.HEADERFUNCTION, self._header)
        slot.applied = None  # these callbacks are the stream's: the next use resets the handle
        slot.streamed = 0
        slot.paused = False

    def arrived(self) -> None:
        """Pieces arrived, or the headers are complete: a reader may go on (async wakes it)."""

    def _write(self, data: bytes) -> int | None:
        if self.buffered >= STREAM_BUFFERED:
            self.slot.paused = True  # libcurl keeps `data` and hands it over again on resuming
            return _PAUSE
        self.pieces.append(data)
        self.buffered += len(data)
        self.slot.streamed += len(data)
        self.headers_done = True
        self.arrived()
        return None

    def _header(self, line: bytes) -> None:
        self.header_lines.append(line)
        self.slot.streamed += len(line)
        if line.startswith(b"HTTP/"):
            parts = line.split(None, 2)
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        elif line in (b"\r\n", b"\n"):
            # The end of a response's headers. A final one unless libcurl may go on to
            # another (a redirect it follows, an authentication it answers): those show
            # with their first body byte, or the end of the transfer.
            status = self.status
            if status >= 200 and not (300 <= status < 400 or status in (401, 407)):
                self.headers_done = True
                self.arrived()

    def take(self) -> list[bytes]:
        """The pieces gathered, handed over; a paused transfer resumes (the reader caught up).

        Call it outside libcurl's callbacks: resuming may deliver the held data at once.
        """
        pieces = self.pieces
        self.pieces = []
        self.buffered = 0
        slot = self.slot
        if slot.paused and self.outcome is None:
            slot.paused = False
            slot.handle.pause(pycurl.PAUSE_CONT)
        return pieces

    def ended(self, outcome: tuple[int, str]) -> None:
        """The transfer ended: its final info read and its typed error made now, before the
        slot goes to another transfer."""
        self.outcome = outcome
        slot = self.slot
        self.info = read_response_info(slot.handle, slot.method, slot.safe_url)
        if outcome[0]:
            self.error = slot.failed(outcome)
        slot.paused = False
        self.arrived()

    def respond(self, cls: type[_R], method: str) -> _R:
        """The response, once the headers are in (or the typed error of a transfer that
        failed before): made, logged as httpx logs it, with its final info if it ended."""
        error = self.error
        if error is not None and not self.pieces:
            self.error = None
            try:
                raise error
            finally:
                error = None
        slot = self.slot
        info = self.info
        response = cls._open(
            self,
            slot.handle.getinfo(pycurl.RESPONSE_CODE) if info is None else info.response_code,
            self.header_lines.copy(),
            method,
            slot.safe_url,
            slot.sent,
        )
        if enabled(DEBUG):
            log_response(slot.handle, method, slot.safe_url, response)
        if info is not None:  # ended already: the whole body is in
            response._info = info
        return response

    def info_of(self, response: Response) -> TransferInfo:
        """The streamed response's info: final once the transfer ended, the facts so far before."""
        if self.info is not None:
            response._info = self.info
            return self.info
        return read_response_info(self.slot.handle, response.method, response.request_url)

    def end_of_body(self) -> list[bytes]:
        """[] for a body that ended well; its typed error (raised once) for one that did not."""
        error, self.error = self.error, None
        if error is not None:
            try:
                raise error
            finally:
                error = None
        return []
