"""The slot: one reused easy handle, set up for one HTTP request after another, and the
reading of its response (body, header lines, info) or its typed failure."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from logging import DEBUG
from typing import Any, Final, Protocol, TypeVar

import pycurl

from .._curl import (
    PycurlCurl,
    failed_transfer,
    locate,
    read_info,
    read_response_info,
    url_of,
)
from .._exceptions import CurlError, InvalidRequest
from .._info import READING, TransferInfo
from .._urls import redact_url
from ._log import enabled, log_failure, log_response
from ._options import SentHeaders

__all__ = ["Answer", "Slot"]


class Answer(Protocol):
    """What a slot fills in on the responses made for its transfers (`curlx.Response`)."""

    status_code: int
    content: bytes
    _header_lines: list[bytes]
    _info: TransferInfo | None
    _source: Callable[[], Any] | None  # a weak reference to the slot, till the info is read
    method: str
    request_url: str
    _sent: Any  # the SentHeaders of its request


_A = TypeVar("_A", bound=Answer)

_RESTORABLE: Final = frozenset({pycurl.HTTPHEADER, pycurl.COOKIE})


def _base_value(base: list[tuple[int, Any]], option: int) -> Any:
    """The value `base` gives `option`, or None if it leaves it unset."""
    for name, value in base:
        if name == option:
            return value
    return None


class Slot:
    """One reused easy handle and what it needs to run HTTP requests one after another.

    Options come in two lists: `base` (the settings of a Session or a crawl, the same list
    object for as long as they do not change) and `extra` (what one request adds: method,
    body, headers). The handle is reset and the base re-applied whenever the base changed,
    the previous request changed its method or body, or the previous transfer failed; headers
    and cookies of one request are undone by setting the base's values again. So nothing from
    a failed or unusual request leaks into the next, while consecutive plain requests cost no
    more than with raw pycurl. libcurl keeps what is worth keeping across resets: open
    connections, the DNS cache, TLS sessions and cookies.
    """

    __slots__ = (
        "__weakref__",
        "answered",
        "applied",
        "buffer_size",
        "chunks",
        "dirty",
        "handle",
        "header_lines",
        "method",
        "safe_url",
        "sent",
        "paused",
        "stalled",
        "streamed",
        "undo",
        "unread",
        "url",
        "watching",
        "watch_limit",
        "watch_progress",
        "watch_since",
    )

    def __init__(self, buffer_size: int | None = None) -> None:
        self.handle = PycurlCurl()
        self.answered: weakref.ref[Any] | None = None  # the last Response, till it has its info
        self.buffer_size = buffer_size  # libcurl's receive buffer; None: its default (16 KiB)
        self.applied: list[tuple[int, Any]] | None = None
        self.dirty = False  # the last request set options only a reset undoes
        self.undo: list[tuple[int, Any]] | None = None  # (option, base value or None) to set
        # The body arrives in `chunks` and the header lines in `header_lines`: the same two
        # lists for every transfer (emptied when handed over or when a transfer fails), so the
        # callbacks that fill them are set only after a reset, not once per request.
        self.chunks: list[bytes] = []
        self.header_lines: list[bytes] = []
        self.method = "GET"
        self.sent: SentHeaders | None = None  # the headers the last request's options send
        self.safe_url = ""
        self.url = ""
        self.stalled = False
        self.streamed = 0  # bytes a stream's own callbacks took in (they fill no `chunks`)
        self.paused = False  # a stream paused because its reader is behind: no stall
        self.unread: weakref.ref[CurlError] | None = None  # the last error, till it is frozen
        self.watching = False
        self.watch_limit = 0.0
        self.watch_progress = 0
        self.watch_since = 0.0

    def _stalled(self, progress: int, now: float) -> bool:
        """True once `progress` (a count that grows as bytes move) stayed the same for
        `watch_limit` seconds. Before anything moved it is False: connecting, or waiting for
        the first byte, is the low-speed limit's to time (exactly, there)."""
        if not progress:
            return False
        if progress != self.watch_progress:
            self.watch_progress, self.watch_since = progress, now
            return False
        self.stalled = now - self.watch_since >= self.watch_limit
        return self.stalled

    def _watch(self, dltotal: int, dlnow: int, ultotal: int, ulnow: int) -> int:
        """The progress callback (easy perform only): stop a stalled transfer."""
        return 1 if self._stalled(dlnow + ulnow + len(self.header_lines), time.monotonic()) else 0

    def prepare(
        self,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        callback: bool = True,
        safe_url: str | None = None,
    ) -> None:
        """Set the handle up for one request; `watchdog` as for `Transport.perform`.

        With `callback` the watchdog is libcurl's progress callback; without, the caller (a
        multi loop) looks at the progress between its waits, which costs nothing per chunk.
        """
        unread = self.unread
        if (unread is not None and unread() is not None) or self.answered is not None:
            self.settle()
        self.unread = None
        handle = self.handle
        setopt = handle.setopt
        watching = watchdog is not None and callback
        if self.applied is not base or self.dirty or self.watching is not watching:
            self.applied = None
            self.url = ""  # a reset clears the URL too
            handle.reset()
            for option, value in base:
                setopt(option, value)
            if watching:
                # libcurl's low-speed limit averages the speed over about 5 s, so once data
                # has moved it notices a silent server seconds late; from the first byte on,
                # this watches for "no byte moved for `read` seconds" itself (before it, the
                # low-speed limit is exact). It stays set while the base does.
                setopt(pycurl.NOPROGRESS, 0)
                setopt(pycurl.XFERINFOFUNCTION, self._watch)
            if self.buffer_size is not None:
                setopt(pycurl.BUFFERSIZE, self.buffer_size)
            setopt(pycurl.WRITEFUNCTION, self.chunks.append)
            setopt(pycurl.HEADERFUNCTION, self.header_lines.append)
            self.watching = watching
            self.applied = base
            self.undo = None
        elif self.undo is not None:  # the last request's own headers or cookies: put back
            for option, value in self.undo:
                if value is None:
                    handle.unsetopt(option)
                else:
                    setopt(option, value)
            self.undo = None
        if extra:
            for option, value in extra:
                setopt(option, value)
            # Headers and cookies of one request are undone by setting the base's values
            # again; anything else (a method, a body) by a reset before the next request.
            if all(option in _RESTORABLE for option, _ in extra):
                self.dirty = False
                self.undo = [(option, _base_value(base, option)) for option, _ in extra]
            else:
                self.dirty = True
        else:
            self.dirty = False
        sent = self.sent
        if sent is None or sent.base is not base or sent.extra is not extra:
            self.sent = SentHeaders(base, extra)
        self.watch_limit = watchdog or 0.0
        self.watch_progress = -1  # nothing seen yet
        if self.streamed:  # the last transfer was a stream's
            self.streamed = 0
            self.paused = False
        # `chunks` and `header_lines` are empty here: take(), failed() and an interrupted
        # transfer each leave them so.
        self.method = method
        if url != self.url:  # libcurl keeps the URL option from one transfer to the next
            self.safe_url = redact_url(url) if safe_url is None else safe_url
            setopt(pycurl.URL, url)
            self.url = url

    def take(self) -> tuple[bytes, list[bytes]]:
        """The body and header lines received, handed over: the slot keeps no reference.

        A body that came in one chunk is that chunk, not a copy.
        """
        chunks, lines = self.chunks, self.header_lines
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        taken = lines.copy()
        lines.clear()
        return body, taken

    def stalled_for(self, now: float) -> bool:
        """True if no byte moved for `watch_limit` seconds (checked from a multi loop)."""
        if self.paused:  # the reader asked for the pause: time the silence afresh after it
            self.watch_progress = -1
            return False
        moved = len(self.chunks) + len(self.header_lines) + self.streamed  # grow as data comes
        return self._stalled(moved + self.handle.getinfo(pycurl.SIZE_UPLOAD_T), now)

    def respond(self, response: _A) -> _A:
        """Fill `response` (made for this transfer) in: status, body and header lines now,
        its `info` from this handle on first use, and in any case before the next transfer."""
        response.status_code = self.handle.getinfo(pycurl.RESPONSE_CODE)
        response.content, response._header_lines = self.take()
        response._sent = self.sent
        response._source = weakref.ref(self)
        self.answered = weakref.ref(response)
        if enabled(DEBUG):
            log_response(self.handle, self.method, self.safe_url, response)
        return response

    def info_of(self, response: Answer) -> TransferInfo:
        """The info of this slot's last transfer, for `response` (read once, kept by it)."""
        with READING:  # another thread may read it while this one settles it
            info = response._info
            if info is None:
                info = read_response_info(self.handle, response.method, response.request_url)
                response._info = info
                response._source = None
            return info

    def failed(self, args: tuple[Any, ...]) -> CurlError:
        """The typed error for the failure (the `pycurl.error` args) of this slot's transfer."""
        if self.stalled and args[:1] == (pycurl.E_ABORTED_BY_CALLBACK,):
            args = (
                pycurl.E_OPERATION_TIMEDOUT,
                f"Operation too slow: no data moved for {self.watch_limit:g} seconds",
            )
        self.stalled = False
        error = failed_transfer(args, self.handle, self, None)
        error._client = True  # its hint names the client's keywords, not libcurl's options
        self.unread = weakref.ref(error)
        if enabled(DEBUG):
            log_failure(self.handle, self.method, self.safe_url, error)
        # The partial data goes; the options stay (a failure changes none of them), so the
        # next request on this handle costs no reset and no setting of options again.
        if self.chunks:
            self.chunks.clear()
        if self.header_lines:
            self.header_lines.clear()
        return error

    def snapshot(self, code: int | None) -> tuple[TransferInfo | None, str | None]:
        """The full info of the failed transfer (`InfoSource`), read from the handle now."""
        info = read_info(self.handle, code, self.safe_url)
        return info, url_of(info, self.safe_url)

    def where(self) -> tuple[str | None, str | None]:
        """The URL and method of the failed transfer (`InfoSource`), read from the handle."""
        return locate(self.handle, self.safe_url)

    def settle(self) -> None:
        """Give the last Response or error its info now, before the handle moves on, if it
        is still alive and has none."""
        unread, self.unread = self.unread, None
        error = unread() if unread is not None else None
        if error is not None:
            error._freeze()
        answered, self.answered = self.answered, None
        response = answered() if answered is not None else None
        if response is not None and response._info is None:
            self.info_of(response)

    def discard(self) -> None:
        """Drop what a failed or cut-short transfer left: its partial data, and its options
        (the next request starts from a reset handle)."""
        self.applied = None
        self.chunks.clear()
        self.header_lines.clear()

    def refused(self, exc: UnicodeEncodeError) -> CurlError:
        """The error for text libcurl cannot take (pycurl sends str options as ASCII)."""
        self.applied = None
        self.handle.reset()
        return InvalidRequest(
            f"an option of this request has text pycurl can only pass as ASCII "
            f"({exc.object[exc.start : exc.end]!r}: {exc.reason}). For a file path (verify=, "
            "cert=) use an ASCII path or bytes (os.fsencode); percent-encode anything else."
        )
