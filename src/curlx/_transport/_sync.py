"""The transports behind Session and fetch_many: slots on a multi handle, driven here, with
the waiting done by select() (a thread waits; the asyncio waiter comes beside it)."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

import pycurl

from .._codes import Family
from .._curl import translate
from .._exceptions import CurlError, InvalidOperation
from .._models import StreamedResponse
from .._translate import ResolveTimeout
from ._engine import MAX_WAIT, STALLED, SUCCEEDED, MultiEngine, next_wait, wait_sync
from ._slot import Answer, Slot
from ._stream import StreamState

__all__ = ["MultiTransport", "Transport"]


class Transport:
    """One reused easy handle performing HTTP requests for a Session; not thread-safe.

    Each transfer runs on a private multi handle driven from here (select, then perform), so
    the no-progress limit is checked between waits at no cost per byte, where a progress
    callback would cost a call into Python for every chunk. The multi handle keeps the
    connections, DNS answers and TLS sessions from one request to the next.

    A Response's `info` is read from the handle only when asked for: the transport remembers
    the last Response, and its info is read before the handle is used again (or closed) if that
    Response is still alive, so it never shows another transfer's values.
    """

    __slots__ = (
        "__weakref__",
        "_engine",
        "_lookup_abandoned",
        "_multi",
        "_mailbox",
        "_response",
        "_selectable",
        "_slot",
        "_spare",
        "_streams",
    )

    def __init__(self, response: Callable[[str, str], Answer]) -> None:
        # The handles are made for the first request: a Session used only for its settings
        # (a crawl's) opens none.
        self._slot: Slot | None = None
        self._engine: MultiEngine[None] | None = None
        self._multi: pycurl.CurlMulti | None = None
        self._response = response  # makes an empty response for (method, URL), filled in here
        # False once libcurl had no socket select() could wait on (a descriptor above
        # FD_SETSIZE): from then on transfers run in libcurl's own loop (easy perform).
        self._selectable = True
        self._lookup_abandoned = False  # a transfer ended before its name lookup did
        # Streamed responses still being read, each on a slot of its own on the same multi
        # handle (their connections pooled with the rest); while one is open, transfers end
        # through `_mailbox` (libcurl's done messages, by handle), as any of them may read one.
        self._streams: set[BodyTransfer] = set()
        self._spare: list[Slot] = []  # the slots of streams that ended, for the next ones
        self._mailbox: dict[pycurl.Curl, tuple[int, str]] = {}

    def _open(self) -> Slot:
        """Make the handle and the multi handle, for the first request."""
        slot = Slot(_SESSION_BUFFER)
        # Idle connections kept: as many as an easy handle keeps.
        self._engine = MultiEngine([slot], _SESSION_CONNECTIONS)
        self._multi = self._engine.multi
        self._slot = slot
        return slot

    def close(self) -> None:
        """Close the handle and its connections (the last Response and error keep their info);
        streamed responses still open are cut off: reading them raises InvalidOperation."""
        for transfer in list(self._streams):
            transfer.close()
        for spare in self._spare:
            spare.settle()
            spare.handle.close()
        self._spare.clear()
        slot = self._slot
        if slot is not None:
            slot.settle()
            slot.handle.close()
            slot.applied = None
            self._close_multi()

    def __del__(self) -> None:
        try:  # no module-level names here: at interpreter exit they may be gone already
            if self._slot is not None:
                self._slot.settle()
                self._close_multi()
        except Exception:  # noqa: S110 - nothing to report to, and nothing left to do
            pass

    def _close_multi(self) -> None:
        """Close the multi handle, without waiting for a name lookup that never ended.

        Closing a multi handle joins libcurl's resolver threads (easy perform's own multi
        handle is told not to, an option pycurl cannot set), and a lookup abandoned by a
        timeout or an interruption may take the system resolver's full time to end; so
        then the closing is left to a daemon thread.
        """
        multi = self._multi
        if multi is None or multi.closed:
            return
        if self._lookup_abandoned:
            threading.Thread(target=multi.close, name="curlx-multi-close", daemon=True).start()
        else:
            multi.close()

    def perform(
        self,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> Any:
        """Run one transfer and return its response (built by the `response` factory).

        `watchdog`: abandon the transfer (a ReadTimeout) when no byte moved for that long.
        Failures raise the typed error.
        """
        slot = self._slot or self._open()
        if self._streams:
            self._reap()
        try:
            if self._streams:  # a streamed response is open on the same multi handle
                slot.prepare(method, url, base, extra, watchdog, False, safe_url)
                failure = self._run_shared(slot)
            elif self._selectable:
                slot.prepare(method, url, base, extra, watchdog, False, safe_url)
                failure = self._run(slot)
            else:
                slot.prepare(method, url, base, extra, watchdog, True, safe_url)
                slot.handle.perform()
                failure = SUCCEEDED
        except CurlError:  # the multi handle's own failure, typed already
            raise
        except pycurl.error as exc:
            raise self._failed(slot, exc.args) from exc  # no local: a traceback keeps the frame
        except UnicodeEncodeError as exc:
            raise slot.refused(exc) from exc
        except BaseException:
            self._lookup_abandoned = True  # interrupted, maybe while looking up a name
            slot.discard()
            raise
        if failure[0]:  # the typed error, made at once: no pycurl.error raised on the way
            error = self._failed(slot, failure)
            try:
                raise error
            finally:  # the traceback keeps this frame: it must not keep the error alive too
                error = None  # type: ignore[assignment]
        return slot.respond(self._response(method, slot.safe_url))

    def _failed(self, slot: Slot, args: tuple[Any, ...]) -> CurlError:
        """The typed error of a failed transfer (the `pycurl.error` args)."""
        error = slot.failed(args)
        if isinstance(error, ResolveTimeout):
            self._lookup_abandoned = True
        return error

    def _run(self, slot: Slot) -> tuple[int, str]:
        """Drive the prepared transfer on the engine, waiting in select(); libcurl's
        ``(code, message)`` for it, ``(0, "")`` when it succeeded."""
        multi, engine = self._multi, self._engine
        assert multi is not None and engine is not None  # made with the slot
        try:
            for step in engine.run_one(slot):
                if type(step) is float:
                    if not wait_sync(multi, step):
                        self._selectable = False  # no socket select() takes: easy perform next
                else:
                    outcome = step
        except pycurl.error as exc:  # the multi handle's own failure (CURLM), not the transfer's
            raise translate(exc, family=Family.MULTI) from exc
        return outcome  # type: ignore[return-value]

    def _pump(self) -> None:
        """Drive every transfer on the multi handle, and post the ended ones to `_mailbox`."""
        multi = self._multi
        assert multi is not None
        try:
            multi.perform()
            mailbox = self._mailbox
            while True:
                queued, ok_list, err_list = multi.info_read()
                for handle in ok_list:
                    mailbox[handle] = SUCCEEDED
                for handle, code, message in err_list:
                    mailbox[handle] = (code, message)
                if not queued:
                    return
        except pycurl.error as exc:  # the multi handle's own failure (CURLM)
            raise translate(exc, family=Family.MULTI) from exc

    def _run_shared(self, slot: Slot) -> tuple[int, str]:
        """As `_run`, while streamed responses share the multi handle."""
        multi = self._multi
        assert multi is not None
        handle = slot.handle
        multi.add_handle(handle)
        try:
            while True:
                self._pump()
                outcome = self._mailbox.pop(handle, None)
                if outcome is not None:
                    return outcome
                if slot.watch_limit and slot.stalled_for(time.monotonic()):
                    return STALLED
                wait_sync(multi, next_wait(multi, MAX_WAIT, slot if slot.watch_limit else None))
        finally:
            multi.remove_handle(handle)

    def open_stream(
        self,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> StreamedResponse:
        """Start a transfer and return its response as soon as its headers are in; the body
        is read from the response as it arrives. Failures before that raise the typed error."""
        if self._slot is None:
            self._open()
        if self._streams:
            self._reap()
        multi = self._multi
        assert multi is not None
        slot = self._spare.pop() if self._spare else Slot(_SESSION_BUFFER)
        try:
            slot.prepare(method, url, base, extra, watchdog, False, safe_url)
        except pycurl.error as exc:
            self._spare.append(slot)
            raise slot.failed(exc.args) from exc
        except UnicodeEncodeError as exc:
            self._spare.append(slot)
            raise slot.refused(exc) from exc
        transfer = BodyTransfer(self, slot)
        self._streams.add(transfer)
        try:
            multi.add_handle(slot.handle)
            transfer.added = True
            while not transfer.headers_done and transfer.outcome is None:
                transfer.step()
        except BaseException:
            self._lookup_abandoned = True  # interrupted, maybe while looking up a name
            transfer.close()
            raise
        response = transfer.respond(StreamedResponse, method)
        if transfer.info is None:
            # A response dropped unread and unclosed leaves its transfer to be closed by the
            # next request (in the thread that owns the handles, not the garbage collector's).
            weakref.finalize(response, transfer.abandon)
        return response

    def _reap(self) -> None:
        """Close the transfers of streamed responses that were dropped without closing."""
        for transfer in [t for t in self._streams if t.abandoned]:
            transfer.close()

    def cookies(self) -> list[str]:
        """The cookies libcurl's engine holds, as Netscape cookie-file lines."""
        if self._slot is None:
            return []
        lines: list[str] = self._slot.handle.getinfo(pycurl.INFO_COOKIELIST)
        return lines


_SPARE_SLOTS: Final = 4  # slots of ended streams kept for the next ones


class BodyTransfer(StreamState):
    """A streamed response's transfer, on a slot of its own on a Session's multi handle.

    Read piece by piece (`read`), which drives the multi handle until pieces arrive; paused
    while the reader is behind (`StreamState`), which also keeps other requests on the
    Session from filling memory with it. Closing it early removes the transfer (its
    connection is not reused).
    """

    __slots__ = ("abandoned", "added", "transport")

    def __init__(self, transport: Transport, slot: Slot) -> None:
        super().__init__(slot)
        self.transport: Transport | None = transport
        self.added = False
        self.abandoned = False

    def step(self) -> None:
        """Drive the multi handle until this transfer has pieces or ended, or a wait passed."""
        transport = self.transport
        if transport is None:
            return
        slot = self.slot
        transport._pump()
        outcome = transport._mailbox.pop(slot.handle, None)
        if outcome is not None:
            self._end(outcome)
            return
        if self.pieces:
            return
        multi = transport._multi
        assert multi is not None
        if slot.watch_limit and slot.stalled_for(time.monotonic()):
            self._end(STALLED)
            return
        watched = slot if slot.watch_limit and not slot.paused else None
        wait_sync(multi, next_wait(multi, MAX_WAIT, watched))

    def read(self) -> list[bytes]:
        """The next pieces of the body; [] at its end; the typed error if it failed."""
        while not self.pieces and self.outcome is None:
            if self.transport is None:
                raise InvalidOperation(
                    "This streamed response's transfer was closed (by close(), or by closing "
                    "its Session) before its body was read to the end."
                )
            self.step()
        if self.pieces:
            return self.take()
        return self.end_of_body()

    def _end(self, outcome: tuple[int, str]) -> None:
        """The transfer ended: its error or final info made now, its slot free again."""
        transport = self.transport
        if transport is not None and transport._multi is not None and self.added:
            transport._multi.remove_handle(self.slot.handle)
            self.added = False
        self.ended(outcome)
        self._release()

    def _release(self) -> None:
        transport, self.transport = self.transport, None
        slot = self.slot
        slot.discard()
        if transport is None:
            return
        transport._streams.discard(self)
        multi = transport._multi
        if multi is not None and not multi.closed and len(transport._spare) < _SPARE_SLOTS:
            transport._spare.append(slot)
        else:
            slot.settle()
            slot.handle.close()

    def abandon(self) -> None:
        """Its response was dropped: the transport closes this at its next request."""
        self.abandoned = True

    def close(self) -> None:
        """Stop the transfer if it still runs (its connection is closed, not reused)."""
        transport = self.transport
        if transport is None:
            return
        if self.added and transport._multi is not None:
            transport._multi.remove_handle(self.slot.handle)
            self.added = False
        transport._mailbox.pop(self.slot.handle, None)
        self.pieces = []
        self._release()


# A Session's one handle reads up to this much per receive, so a body reaches Python in a few
# large chunks (fewer calls into Python, often no join); a crawl's many handles keep 16 KiB.
_SESSION_BUFFER: Final = 256 * 1024
_SESSION_CONNECTIONS: Final = 5  # libcurl's default for an easy handle (DEFAULT_CONNCACHE_SIZE)
_T = TypeVar("_T")


class MultiTransport(Generic[_T]):
    """Up to `size` concurrent HTTP transfers on one multi engine, waiting in select().

    Connections are pooled by the multi handle, so transfers to the same host reuse them.
    `start()` begins a transfer tagged with a token; `poll()` waits for progress and returns
    the finished ones as (token, response or typed error); a response's `info` is read from
    its slot on first use, or before the slot's next transfer. Not thread-safe.
    """

    def __init__(self, size: int, response: Callable[[str, str], Answer]) -> None:
        self.size = size
        self._response = response  # makes an empty response for (method, URL), filled in here
        self._engine: MultiEngine[_T] = MultiEngine([Slot() for _ in range(size)])
        self.start = self._engine.start

    def cancel(self) -> None:
        """Stop every running transfer; the handles and their connections stay for reuse."""
        self._engine.cancel()

    @property
    def free(self) -> int:
        """How many more transfers can start now."""
        return self._engine.free

    @property
    def running(self) -> int:
        """How many transfers are under way."""
        return self._engine.running

    def poll(self, timeout: float) -> list[tuple[_T, Any]]:
        """Wait up to `timeout` seconds for activity; return the transfers that finished.

        Transfers just started are driven at once (before any waiting), and the wait is cut
        short to libcurl's own next deadline, so one stalled transfer never slows the rest.
        """
        engine = self._engine
        engine.drive()
        done = engine.finished()
        if not done and engine.running:
            wait_sync(engine.multi, engine.wait_time(timeout))
            engine.drive()
            done = engine.finished()
        done += engine.stalls(time.monotonic())
        respond = self._response
        return [
            (
                token,
                slot.failed((code, message))
                if code
                else slot.respond(respond(slot.method, slot.safe_url)),
            )
            for token, slot, code, message in done
        ]

    def close(self) -> None:
        """Stop every transfer and close all handles and connections."""
        self._engine.close()
