"""The asyncio waiter: the multi engine driven from an event loop, and the transports of
AsyncSession and afetch_many on it.

libcurl says which sockets to watch for what (its socket callback) and when to look again
(its timer callback); the waiter turns that into `loop.add_reader` / `add_writer` and one
`loop.call_later` timer, and on each event calls `MultiEngine.act()` and hands the transfers
that ended to its owner's callback. No thread, no task per transfer, no polling: the same
engine, slots, option tables and response reading as the sync transports, only the waiting
differs. A loop with `add_reader` is needed (any selector loop, and uvloop; not Windows'
proactor loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

import pycurl

from .._codes import Family
from .._curl import translate
from .._exceptions import CurlError, InvalidOperation
from .._models import AsyncStreamedResponse
from ._engine import STALL_CHECK_EVERY, Finished, MultiEngine
from ._slot import Answer, Slot
from ._stream import StreamState

__all__ = ["AsyncTransport", "AsyncWaiter", "closing_multi"]

_T = TypeVar("_T")

_IN: Final = pycurl.POLL_IN
_OUT: Final = pycurl.POLL_OUT
_REMOVE: Final = pycurl.POLL_REMOVE
_CSELECT_IN: Final = pycurl.CSELECT_IN
_CSELECT_OUT: Final = pycurl.CSELECT_OUT
_TIMEOUT: Final = pycurl.SOCKET_TIMEOUT


class AsyncWaiter(Generic[_T]):
    """Drives `engine` from `loop`: what libcurl asks to watch is watched there, and every
    transfer that ends (or stalls) is passed to `ended` at once, from the loop's callback.

    `failed` gets libcurl's own failure of the multi handle (a typed `MultiError`), after which
    the engine has stopped every transfer; it is given the tokens of the transfers stopped.
    """

    __slots__ = ("_ended", "_failed", "_fds", "_stall_timer", "_timer", "engine", "loop")

    def __init__(
        self,
        engine: MultiEngine[_T],
        loop: asyncio.AbstractEventLoop,
        ended: Callable[[list[Finished[_T]]], None],
        failed: Callable[[list[_T], CurlError], None],
    ) -> None:
        self.engine = engine
        self.loop = loop
        self._ended = ended
        self._failed = failed
        self._fds: dict[int, int] = {}  # socket -> what the loop watches it for (POLL_IN|OUT)
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        multi = engine.multi
        multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)

    def _on_socket(self, what: int, fd: int, multi: object, socketp: object) -> None:
        """libcurl's socket callback: watch `fd` for what it asks (nothing on POLL_REMOVE)."""
        want = 0 if what == _REMOVE else what & (_IN | _OUT)
        have = self._fds.get(fd, 0)
        if want == have:
            return
        loop = self.loop
        if want & _IN and not have & _IN:
            loop.add_reader(fd, self._act, fd, _CSELECT_IN)
        elif have & _IN and not want & _IN:
            loop.remove_reader(fd)
        if want & _OUT and not have & _OUT:
            loop.add_writer(fd, self._act, fd, _CSELECT_OUT)
        elif have & _OUT and not want & _OUT:
            loop.remove_writer(fd)
        if want:
            self._fds[fd] = want
        else:
            del self._fds[fd]

    def _on_timer(self, timeout_ms: int) -> None:
        """libcurl's timer callback: look again in `timeout_ms` (-1: no timer wanted).

        Scheduled, never run here: libcurl may not be called from inside its own callback.
        """
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        if timeout_ms == 0:
            self._timer = self.loop.call_soon(self._act, _TIMEOUT, 0)
        elif timeout_ms > 0:
            self._timer = self.loop.call_later(timeout_ms / 1000, self._act, _TIMEOUT, 0)

    def _act(self, fd: int, events: int) -> None:
        engine = self.engine
        if fd == _TIMEOUT:
            self._timer = None
        try:
            engine.act(fd, events)
        except pycurl.error as exc:  # the multi handle's own failure (CURLM)
            stopped = engine.cancel()
            self._failed(stopped, translate(exc, family=Family.MULTI))
            return
        done = engine.finished()
        if engine.watching:
            if self._stall_timer is None:
                self._stall_timer = self.loop.call_later(STALL_CHECK_EVERY, self._check_stalls)
        if done:
            self._ended(done)

    def _check_stalls(self) -> None:
        """Every tenth of a second while a transfer has a no-progress limit: end the stalled."""
        self._stall_timer = None
        engine = self.engine
        done = engine.stalls(time.monotonic(), 0.0)
        if engine.watching:
            self._stall_timer = self.loop.call_later(STALL_CHECK_EVERY, self._check_stalls)
        if done:
            self._ended(done)

    def kick(self) -> None:
        """Make sure the stall check runs for transfers just started."""
        if self._stall_timer is None and self.engine.watching:
            self._stall_timer = self.loop.call_later(STALL_CHECK_EVERY, self._check_stalls)

    def close(self) -> None:
        """Stop watching: timers cancelled, sockets no longer watched (the engine stays)."""
        for timer in (self._timer, self._stall_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._stall_timer = None
        loop = self.loop
        if not loop.is_closed():
            for fd, have in self._fds.items():
                if have & _IN:
                    loop.remove_reader(fd)
                if have & _OUT:
                    loop.remove_writer(fd)
        self._fds.clear()
        multi = self.engine.multi
        if not multi.closed:
            multi.setopt(pycurl.M_SOCKETFUNCTION, _ignore_socket)
            multi.setopt(pycurl.M_TIMERFUNCTION, _ignore_timer)


def _ignore_socket(what: int, fd: int, multi: object, socketp: object) -> None:
    """The socket callback once nothing is watched any more (while the handles close)."""


def _ignore_timer(timeout_ms: int) -> None:
    """The timer callback once nothing is watched any more."""


def closing_multi(engine: MultiEngine[Any], abandoned: bool) -> None:
    """Close the engine's handles. Closing a multi handle joins libcurl's resolver threads,
    and a name lookup abandoned (a cancelled request, a resolve timeout) may take the system
    resolver's full time to end: then the multi handle is closed by a daemon thread, so the
    event loop never waits for it."""
    engine.close(close_multi=not abandoned)
    if abandoned:
        threading.Thread(target=engine.multi.close, name="curlx-multi-close", daemon=True).start()


_CLOSED_WHILE_RUNNING: Final = (
    "The {owner} was closed while this request ran: the transfer was stopped. Close it only "
    "once its requests are done (await them, or leave `async with` after them)."
)


class AsyncTransport:
    """The requests of an AsyncSession: up to `size` transfers at once on one multi engine,
    waited for from the event loop the first request ran on.

    A request takes an idle slot (or makes one, up to `size`; beyond, it waits its turn in
    order), starts, and awaits a future the waiter resolves when the transfer ends. Cancelled,
    it removes its transfer at once and frees the slot. `per_host` caps the connections to
    one host (libcurl queues the transfers beyond it).
    """

    __slots__ = (
        "_abandoned",
        "_engine",
        "_owner",
        "_per_host",
        "_queue",
        "_reserved",
        "_response",
        "_share",
        "_size",
        "_slots",
        "_streams",
        "_waiter",
        "closed",
        "loop",
    )

    def __init__(
        self,
        response: Callable[[str, str], Answer],
        size: int,
        per_host: int | None,
        share_cookies: bool,
        owner: str = "AsyncSession",
    ) -> None:
        self._response = response
        self._size = size
        self._per_host = per_host
        self._share: pycurl.CurlShare | None = None
        if share_cookies:  # one cookie jar for all the slots, as a Session's one handle has
            self._share = pycurl.CurlShare()
            self._share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_COOKIE)
        self._engine: MultiEngine[asyncio.Future[Any]] | None = None
        self._waiter: AsyncWaiter[asyncio.Future[Any]] | None = None
        self._slots = 0
        self._queue: deque[asyncio.Future[None]] = deque()  # requests waiting for a slot
        self._reserved = 0  # idle slots promised to requests woken from the queue
        self._abandoned = False  # a transfer was stopped before it ended (maybe in a lookup)
        self._owner = owner
        # The transfers of streamed responses not yet read to the end, by their engine token.
        self._streams: dict[Any, AsyncBodyTransfer] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def _open(self, loop: asyncio.AbstractEventLoop) -> MultiEngine[asyncio.Future[Any]]:
        engine: MultiEngine[asyncio.Future[Any]] = MultiEngine([], self._size)
        if self._per_host is not None:
            engine.multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, self._per_host)
        self._waiter = AsyncWaiter(engine, loop, self._ended, self._multi_failed)
        self._engine = engine
        self.loop = loop
        return engine

    def _new_slot(self, engine: MultiEngine[Any]) -> None:
        slot = Slot()
        if self._share is not None:  # kept by libcurl across the slot's resets
            slot.handle.setopt(pycurl.SHARE, self._share)
        engine.add_slot(slot)
        self._slots += 1

    async def perform(
        self,
        loop: asyncio.AbstractEventLoop,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> Any:
        """Run one transfer and return its response; failures raise the typed error."""
        engine = await self._slot_for(loop)
        future: asyncio.Future[Any] = loop.create_future()
        try:
            failure = engine.start(future, method, url, base, extra, watchdog, safe_url)
        except pycurl.error as exc:  # the multi handle's own failure
            self._pass_turn()
            raise translate(exc, family=Family.MULTI) from exc
        if failure is not None:
            self._pass_turn()
            raise failure
        waiter = self._waiter
        assert waiter is not None  # made with the engine
        waiter.kick()
        try:
            return await future
        except asyncio.CancelledError:
            if engine.abandon(future):  # still running: stopped now, its slot idle again
                self._abandoned = True
            elif future.done() and not future.cancelled():
                future.exception()  # ended as it was cancelled: its outcome goes unread
            raise
        finally:
            self._pass_turn()

    async def _slot_for(self, loop: asyncio.AbstractEventLoop) -> MultiEngine[Any]:
        """The engine, with an idle slot for this request: one made (up to `size`), or one
        freed, in the order requests asked (a request woken for a slot has it promised)."""
        engine = self._engine or self._open(loop)
        if engine.free <= self._reserved or self._queue:  # no idle slot that is not promised
            if self._slots < self._size and not self._queue:
                self._new_slot(engine)
            else:
                await self._turn(loop)
        return engine

    async def _turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait until a slot is idle (requests get them in the order they asked)."""
        turn: asyncio.Future[None] = loop.create_future()
        self._queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given a slot, then cancelled: pass it on
                self._reserved -= 1
                self._pass_turn()
            else:
                self._queue.remove(turn)
            raise
        self._reserved -= 1  # the slot promised to this request is taken now
        if self.closed:
            raise InvalidOperation(_CLOSED_WHILE_RUNNING.format(owner=self._owner))

    def _pass_turn(self) -> None:
        """A slot is idle: the longest-waiting request gets it."""
        queue = self._queue
        while queue:
            turn = queue.popleft()
            if not turn.done():
                self._reserved += 1  # no request that comes later may take this slot first
                turn.set_result(None)
                return

    async def open_stream(
        self,
        loop: asyncio.AbstractEventLoop,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> AsyncStreamedResponse:
        """Start a transfer and return its response once its headers are in; the body is
        read from the response as it arrives. Its slot is taken until the body ends or the
        response is closed. Failures before the headers raise the typed error."""
        engine = await self._slot_for(loop)
        transfer: AsyncBodyTransfer | None = None
        try:
            token: Any = object()
            try:
                failure = engine.start(token, method, url, base, extra, watchdog, safe_url)
            except pycurl.error as exc:  # the multi handle's own failure
                raise translate(exc, family=Family.MULTI) from exc
            if failure is not None:
                raise failure
            slot = engine.last
            assert slot is not None
            transfer = AsyncBodyTransfer(self, loop, slot, token)
            waiter = self._waiter
            assert waiter is not None  # made with the engine
            waiter.kick()
            while not transfer.headers_done and transfer.outcome is None:
                await transfer.wait()
        except BaseException:
            if transfer is None:
                self._pass_turn()
            else:
                transfer.close()
            raise
        response = transfer.respond(AsyncStreamedResponse, method)
        if transfer.info is None:  # dropped unread and unclosed: its slot is given back
            weakref.finalize(response, _close_soon, loop, transfer)
        return response

    def _ended(self, done: list[Finished[asyncio.Future[Any]]]) -> None:
        respond = self._response
        streams = self._streams
        for future, slot, code, message in done:
            transfer = streams.get(future)
            if transfer is not None:  # a streamed body's transfer ended
                transfer.finished((code, message))
                continue
            if future.done():  # cancelled as it ended: the response has nobody to go to
                if code:
                    slot.failed((code, message))
                else:
                    slot.take()
                continue
            try:
                if code:
                    error = slot.failed((code, message))
                    future.set_exception(error)
                    del error  # the future holds it; no frame here must keep it alive too
                else:
                    future.set_result(slot.respond(respond(slot.method, slot.safe_url)))
            except Exception as exc:  # reading the outcome failed: that request gets why
                if not future.done():
                    future.set_exception(exc)

    def _multi_failed(self, stopped: list[asyncio.Future[Any]], error: CurlError) -> None:
        self._abandoned = True
        for future in stopped:
            transfer = self._streams.get(future)
            if transfer is not None:
                transfer.finished((int(error.code or 0), error.message), stopped=True)
                continue
            if not future.done():
                # Each request its own error: one instance raised in many tasks would share
                # (and keep growing) one traceback.
                future.set_exception(translate(pycurl.error(*error.args), family=Family.MULTI))

    def cookies(self) -> list[str]:
        """The cookies libcurl's engine holds, as Netscape cookie-file lines."""
        engine = self._engine
        if engine is None or not self._slots:
            return []
        slot = Slot()  # a fresh handle on the shared jar: reading it disturbs no transfer
        try:
            if self._share is not None:
                slot.handle.setopt(pycurl.SHARE, self._share)
            lines: list[str] = slot.handle.getinfo(pycurl.INFO_COOKIELIST)
        finally:
            slot.handle.close()
        return lines

    def close(self) -> None:
        """Stop every transfer (their requests raise InvalidOperation) and close every
        handle and connection, without waiting for an abandoned name lookup."""
        if self.closed:
            return
        self.closed = True
        for turn in self._queue:
            if not turn.done():
                self._reserved += 1
                turn.set_result(None)  # it wakes to the closed transport and says so
        self._queue.clear()
        engine, waiter = self._engine, self._waiter
        if engine is None or waiter is None:
            if self._share is not None:
                self._share.close()
            return
        stopped = engine.cancel()
        if stopped:
            self._abandoned = True
        for transfer in list(self._streams.values()):
            transfer.cut_off()
        for future in stopped:
            if future in self._streams:
                continue
            if not future.done():
                future.set_exception(
                    InvalidOperation(_CLOSED_WHILE_RUNNING.format(owner=self._owner))
                )
        waiter.close()
        closing_multi(engine, self._abandoned)
        if self._share is not None:
            self._share.close()


def _close_soon(loop: asyncio.AbstractEventLoop, transfer: AsyncBodyTransfer) -> None:
    """Close a dropped stream's transfer from its loop (the collector may run anywhere)."""
    if not loop.is_closed():
        loop.call_soon_threadsafe(transfer.close)


class AsyncBodyTransfer(StreamState):
    """A streamed response's transfer on an AsyncSession's slot: the waiter's callbacks
    gather its pieces, and a reader awaits them (`read`); paused while the reader is behind."""

    __slots__ = ("_loop", "_token", "_waiting", "transport")

    def __init__(
        self, transport: AsyncTransport, loop: asyncio.AbstractEventLoop, slot: Slot, token: Any
    ) -> None:
        super().__init__(slot)
        self.transport: AsyncTransport | None = transport
        self._loop = loop
        self._token = token
        self._waiting: asyncio.Future[None] | None = None
        transport._streams[token] = self

    def arrived(self) -> None:
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def wait(self) -> None:
        """Until pieces arrive, the headers are complete, or the transfer ends."""
        self._waiting = self._loop.create_future()
        try:
            await self._waiting
        finally:
            self._waiting = None

    async def read(self) -> list[bytes]:
        """The next pieces of the body; [] at its end; the typed error if it failed."""
        while not self.pieces and self.outcome is None:
            if self.transport is None:
                raise InvalidOperation(
                    "This streamed response's transfer was closed (by aclose(), or by closing "
                    "its AsyncSession) before its body was read to the end."
                )
            await self.wait()
        if self.pieces:
            return self.take()
        return self.end_of_body()

    def finished(self, outcome: tuple[int, str], stopped: bool = False) -> None:
        """The engine says the transfer ended (its slot is idle again)."""
        if stopped:  # the multi handle failed: there is no info to read, only the error
            self.outcome = outcome
            self.error = InvalidOperation(outcome[1] or "the multi handle failed")
            self.arrived()
        else:
            self.ended(outcome)
        self._release()

    def cut_off(self) -> None:
        """Its session closed under it: reading on raises InvalidOperation."""
        if self.outcome is None:
            self.outcome = (0, "")
            self.error = InvalidOperation(_CLOSED_WHILE_RUNNING.format(owner="AsyncSession"))
        self.arrived()
        self.transport = None

    def _release(self) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            transport._streams.pop(self._token, None)
            transport._pass_turn()

    def close(self) -> None:
        """Stop the transfer if it still runs (its connection is closed, not reused)."""
        transport = self.transport
        if transport is None:
            return
        engine = transport._engine
        if self.outcome is None and engine is not None and engine.abandon(self._token):
            transport._abandoned = True
        self.pieces = []
        self._release()
