"""The multi engine, without I/O: transfers on one multi handle, and what to wait for.

It starts transfers on slots, drives libcurl, hands back the transfers that ended and says how
long a waiter may sleep before it must look again (libcurl's own next deadline, and the
no-progress limits it watches for); it never waits itself. Waiting is a waiter's job: the sync
one below sleeps in select(); the asyncio one (`_async.AsyncWaiter`) watches the same multi
handle's sockets from its event loop and calls `act()` where the sync one calls `drive()`. As
psycopg keeps its connection logic in generators and its waiting apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Final, Generic, TypeVar

import pycurl

from .._curl import PycurlMulti
from .._exceptions import CurlError
from ._slot import Slot

__all__ = ["STALLED", "Finished", "MultiEngine", "next_wait", "wait_sync"]

_T = TypeVar("_T")

Finished = tuple[_T, Slot, int, str]
"""A transfer that ended: its token, its slot, and 0 with "" or libcurl's code and message."""

STALL_CHECK_EVERY: Final = 0.1  # seconds between looks at many transfers for lost progress
MAX_WAIT: Final = 1.0  # seconds a waiter sleeps at most before looking again
_MAX_WAIT_MS: Final = MAX_WAIT * 1000
_NO_SOCKET_NAP: Final = 0.001  # seconds to sleep when select() has no socket to wait on
STALLED: Final = (pycurl.E_ABORTED_BY_CALLBACK, "")
"""The outcome of a transfer abandoned for lack of progress (`Slot.failed` makes it a timeout)."""
_CALL_MULTI_PERFORM: Final = pycurl.E_CALL_MULTI_PERFORM
SUCCEEDED: Final = (0, "")
"""The `(code, message)` of a transfer that succeeded."""


class MultiEngine(Generic[_T]):
    """Transfers on reused slots of one multi handle, each tagged with a token. Not
    thread-safe. The multi handle pools connections, DNS answers and TLS sessions."""

    __slots__ = ("_checked", "_idle", "_running", "_watched", "last", "multi")

    def __init__(self, slots: list[Slot], max_connections: int | None = None) -> None:
        self.multi = PycurlMulti()
        if max_connections is not None:
            # Without it, a multi handle with nothing running keeps every connection it made.
            self.multi.setopt(pycurl.M_MAXCONNECTS, max_connections)
        self._idle = slots
        self.last: Slot | None = None  # the slot of the transfer started last
        self._running: dict[pycurl.Curl, tuple[Slot, _T]] = {}
        self._watched = 0  # running transfers with a no-progress limit
        self._checked = 0.0  # when the stalls were last looked for

    @property
    def free(self) -> int:
        """How many more transfers can start now."""
        return len(self._idle)

    @property
    def running(self) -> int:
        """How many transfers are under way."""
        return len(self._running)

    def start(
        self,
        token: _T,
        method: str,
        url: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> CurlError | None:
        """Begin a transfer on an idle slot (the arguments of a `Prepared` request, in its
        order); a typed error if it cannot even start.

        A failure of the multi handle itself (a CURLMcode) propagates as a `pycurl.error`.
        """
        slot = self._idle.pop()
        try:
            slot.prepare(method, url, base, extra, watchdog, False, safe_url)
        except pycurl.error as exc:
            self._idle.append(slot)
            return slot.failed(exc.args)
        except UnicodeEncodeError as exc:
            self._idle.append(slot)
            return slot.refused(exc)
        try:
            self.multi.add_handle(slot.handle)
        except BaseException:
            self._idle.append(slot)
            raise
        self._running[slot.handle] = (slot, token)
        self.last = slot
        if slot.watch_limit:
            self._watched += 1
        return None

    def drive(self) -> int:
        """Let libcurl move every transfer as far as it can now; how many still run."""
        status, running = self.multi.perform()
        while status == _CALL_MULTI_PERFORM:  # libcurl before 7.20 only
            status, running = self.multi.perform()
        return int(running)

    def act(self, fd: int, events: int) -> int:
        """Let libcurl move what a socket event (or, for `pycurl.SOCKET_TIMEOUT`, its timer)
        concerns: libcurl's socket interface, for a waiter told of sockets by callbacks."""
        _, running = self.multi.socket_action(fd, events)
        return int(running)

    @property
    def watching(self) -> bool:
        """True while a running transfer has a no-progress limit (see `stalls`)."""
        return self._watched > 0

    def finished(self) -> list[Finished[_T]]:
        """The transfers that ended since the last call, their slots idle again."""
        done: list[Finished[_T]] = []
        info_read = self.multi.info_read
        while True:
            queued, ok_list, err_list = info_read()
            for handle in ok_list:
                slot, token = self._release(handle)
                done.append((token, slot, 0, ""))
            for handle, code, message in err_list:
                slot, token = self._release(handle)
                done.append((token, slot, code, message))
            if not queued:
                return done

    def run_one(self, slot: Slot) -> Iterator[float | tuple[int, str]]:
        """Run one transfer on `slot` (prepared, not started), for a waiter to drive.

        Yields how long the waiter may sleep (a float: it then sleeps until a socket is
        ready or that time passed, and asks for the next step), and last ``(code, message)``:
        ``(0, "")`` when the transfer succeeded. The path of every request a Session sends,
        so the slot bypasses the running set and libcurl is called directly.
        """
        multi = self.multi
        perform = multi.perform
        multi.add_handle(slot.handle)
        try:
            _, running = perform()
            while running:
                yield next_wait(multi, MAX_WAIT, slot)
                status, running = perform()
                while status == _CALL_MULTI_PERFORM:
                    status, running = perform()
                if running and slot.watch_limit and slot.stalled_for(time.monotonic()):
                    yield STALLED
                    return
            _, _, failed = multi.info_read()
            yield (failed[0][1], failed[0][2]) if failed else SUCCEEDED
        finally:
            multi.remove_handle(slot.handle)

    def wait_time(self, ceiling: float) -> float:
        """How long a waiter may sleep before the engine must look again, at most `ceiling`.

        libcurl's own next deadline comes first; with no-progress limits to watch, one
        transfer's exact moment its limit would run out, or, with many, every tenth of a
        second (no progress callback, so the limits cost nothing per chunk).
        """
        watched = self._watched
        if watched == 1 and len(self._running) == 1:
            for slot, _ in self._running.values():
                return next_wait(self.multi, ceiling, slot)
        wait = next_wait(self.multi, ceiling, None)
        return min(wait, STALL_CHECK_EVERY) if watched else wait

    def stalls(self, now: float, every: float = STALL_CHECK_EVERY) -> list[Finished[_T]]:
        """The transfers whose no-progress limit ran out, ended (at most every `every` s)."""
        if not self._watched or now - self._checked < every:
            return []
        self._checked = now
        stalled = [
            handle
            for handle, (slot, _) in self._running.items()
            if slot.watch_limit and slot.stalled_for(now)
        ]
        done: list[Finished[_T]] = []
        for handle in stalled:
            slot, token = self._release(handle)
            done.append((token, slot, *STALLED))
        return done

    def _release(self, handle: pycurl.Curl) -> tuple[Slot, _T]:
        slot, token = self._running.pop(handle)
        self.multi.remove_handle(handle)
        self._idle.append(slot)
        if slot.watch_limit:
            self._watched -= 1
        return slot, token

    def abandon(self, token: _T) -> bool:
        """Stop the running transfer tagged `token` (its caller gave up on it): its slot is
        idle again. False if no transfer with that token runs."""
        for handle, (slot, running) in self._running.items():
            if running is token:
                self._release(handle)
                slot.discard()
                return True
        return False

    def cancel(self) -> list[_T]:
        """Stop every running transfer (interrupted, or abandoned): the slots are idle again.
        The tokens of the transfers stopped."""
        stopped: list[_T] = []
        for handle in list(self._running):
            slot, token = self._release(handle)
            slot.discard()
            stopped.append(token)
        return stopped

    def add_slot(self, slot: Slot) -> None:
        """One more idle slot (a pool that grows on demand)."""
        self._idle.append(slot)

    def close(self, close_multi: bool = True) -> None:
        """Stop every transfer and close the slots' handles (and the multi handle)."""
        self.cancel()
        for slot in self._idle:
            slot.settle()
            slot.handle.close()
        self._idle.clear()
        if close_multi:
            self.multi.close()


def next_wait(multi: pycurl.CurlMulti, ceiling: float, slot: Slot | None) -> float:
    """libcurl's next deadline, at most `ceiling`; for one watched `slot` whose data moved,
    the moment its no-progress limit would run out, if sooner."""
    wait_ms = multi.timeout()  # -1: no deadline; 0: drive now
    wait = min(ceiling, wait_ms / 1000) if 0 <= wait_ms < _MAX_WAIT_MS else ceiling
    if slot is not None and slot.watch_progress > 0:
        wait = max(0.0, min(wait, slot.watch_since + slot.watch_limit - time.monotonic()))
    return wait


def wait_sync(multi: pycurl.CurlMulti, seconds: float) -> bool:
    """Sleep in select() until a socket of `multi` is ready or `seconds` passed.

    False when libcurl had no socket select() can take (a descriptor above FD_SETSIZE): it
    then naps instead of spinning, and the caller should drive the transfer another way.
    """
    if seconds > 0 and multi.select(seconds) <= 0 and not any(multi.fdset()):
        time.sleep(min(seconds, _NO_SOCKET_NAP))
        return False
    return True
