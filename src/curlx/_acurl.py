"""`AsyncCurlMulti`: pycurl's asyncio multi handle, with typed failures and its rough edges
mended.

pycurl 7.49's `pycurl.AsyncCurlMulti` drives a `CurlMulti` from the event loop and gives each
transfer a future that fails with a raw `pycurl.error`. Here the multi handle underneath is
curlx's `CurlMulti`, so each future fails with the error `translate` gives for its easy handle
(class refined by the phase, hint, redacted URL, `.info`), or with the exception a callback of
a `curlx.Curl` raised, as itself. What pycurl's class leaves undone (checked on real runs):

- a `curlx.Curl` closed while its transfer runs: its future fails with `InvalidOperation` at
  once (pycurl's stays pending forever; a plain `pycurl.Curl` still does, so close such a
  handle only after removing it);
- `aclose()` with transfers in flight: their futures fail with `InvalidOperation` (pycurl's
  are cancelled, so a task awaiting one ends as if it had been cancelled itself);
- ``close_handles=True``: `aclose()` closes the handles still in flight too (pycurl's removes
  them first, so they stay open);
- a failure of the multi handle itself (`socket_action`) gives each pending future its own
  `MultiError` (pycurl's gives them all one instance, whose traceback then grows in each task
  that raises it).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import pycurl

from ._codes import Family
from ._curl import CurlMulti, translate, when_easy_closed
from ._exceptions import InvalidOperation

__all__ = ["AsyncCurlMulti"]


class _Missing:
    """What `AsyncCurlMulti` is with a pycurl older than 7.49: it says so when made."""

    def __init__(self, close_handles: bool = False) -> None:
        raise InvalidOperation(
            f"curlx.AsyncCurlMulti needs pycurl 7.49 or later, which ships "
            f"pycurl.AsyncCurlMulti (this is {pycurl.version.split()[0]}): "
            "pip install -U pycurl. curlx.AsyncSession and curlx.afetch_many work without it."
        )


try:
    from pycurl import async_multi as _pycurl_async
except ImportError:  # pycurl before 7.49
    _pycurl_async = None  # type: ignore[assignment]
# True if pycurl's AsyncCurlMulti drains on libcurl's notifications (libcurl 8.17+): then its
# waiter reads finished transfers when told to, not after every socket event.
_NOTIFY: Final = bool(getattr(_pycurl_async, "_NOTIFY_SUPPORTED", False))

if TYPE_CHECKING:
    _Base = pycurl.AsyncCurlMulti
else:
    _Base = getattr(pycurl, "AsyncCurlMulti", None) or _Missing

_CLOSED_IN_FLIGHT: Final = (
    "The AsyncCurlMulti was closed (aclose) while this transfer ran: it was stopped. Await "
    "the transfers before closing it."
)
_EASY_CLOSED: Final = (
    "The Curl handle was closed while its transfer ran on an AsyncCurlMulti: the transfer "
    "was stopped. Close a handle only after its transfer ended (or after remove_handle())."
)


def _closed_error(message: str) -> InvalidOperation:
    return InvalidOperation(message)


class AsyncCurlMulti(_Base):
    """`pycurl.AsyncCurlMulti` whose futures fail with typed curlx errors.

    ```python
    async with curlx.AsyncCurlMulti() as multi:
        curl = curlx.Curl()
        curl.setopt(pycurl.URL, "https://example.org/")
        try:
            await multi.perform(curl)
        except curlx.ConnectError as e:
            print(e.retry, e.info.primary_ip)
    ```

    Use `curlx.Curl` handles to have an exception raised in a callback come out of the
    future as itself (a raw `pycurl.Curl`'s callback exception is printed by pycurl, as
    ever). Misuse (after `aclose()`, a handle added twice or not added) raises
    `InvalidOperation`, still a `RuntimeError` as pycurl's. See the module notes for what
    differs from pycurl's class.
    """

    def __init__(self, close_handles: bool = False) -> None:
        # pycurl's __init__, on curlx's CurlMulti (typed failures, callback exceptions kept).
        self._multi: CurlMulti = CurlMulti()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._futures: dict[pycurl.Curl, asyncio.Future[pycurl.Curl]] = {}
        self._assigned_fds: set[int] = set()
        self._timer: asyncio.Handle | None = None
        self._closing = False
        self._notify_handle: asyncio.Handle | None = None
        self._close_handles = close_handles
        # pycurl's own callbacks (not in its type stubs): the socket, timer, notify machinery.
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)  # type: ignore[attr-defined]
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)  # type: ignore[attr-defined]
        notify: int | None = getattr(pycurl, "M_NOTIFYFUNCTION", None)
        if notify is not None and _NOTIFY:
            self._multi.setopt(notify, self._on_notify)  # type: ignore[attr-defined]
            self._multi.notify_enable(pycurl.M_NOTIFY_INFO_READ)
        when_easy_closed(self._multi, self._easy_closed)

    def add_handle(self, curl: pycurl.Curl) -> asyncio.Future[pycurl.Curl]:
        """Start `curl`'s transfer: a future that resolves to `curl`, or fails with the typed
        error of the transfer."""
        try:
            future: asyncio.Future[pycurl.Curl] = super().add_handle(curl)
        except InvalidOperation:
            raise
        except RuntimeError as exc:
            raise InvalidOperation(f"{exc}.") from exc
        return future

    def remove_handle(self, curl: pycurl.Curl) -> None:
        """Stop `curl`'s transfer; its future is cancelled."""
        try:
            super().remove_handle(curl)
        except InvalidOperation:
            raise
        except RuntimeError as exc:
            raise InvalidOperation(f"{exc}.") from exc

    def _drain(self) -> None:
        _, ok, failures = self._multi.info_read()
        for curl in ok:
            self._resolve(curl, None)
        for failure in failures:  # each with its typed error (or a callback's exception)
            self._resolve(failure[0], failure.error)

    def _fail_all_pending(self, exc: BaseException) -> None:
        for curl in list(self._futures):
            own = translate(pycurl.error(*exc.args), family=Family.MULTI) if exc.args else exc
            self._resolve(curl, own)

    def _resolve(self, curl: pycurl.Curl, exc: BaseException | None) -> None:
        future = self._futures.pop(curl, None)
        if future is None:
            return
        try:
            self._multi.remove_handle(curl)
        except pycurl.error:
            pass
        if future.done():
            return
        if exc is None:
            future.set_result(curl)
        else:
            future.set_exception(exc)

    def _easy_closed(self, curl: pycurl.Curl) -> None:
        """A curlx Curl on this multi handle was closed: its transfer is gone with it."""
        future = self._futures.pop(curl, None)
        if future is not None and not future.done():
            future.set_exception(_closed_error(_EASY_CLOSED))

    async def aclose(self) -> None:
        """Stop every transfer (their futures fail with InvalidOperation), stop watching
        their sockets, close the multi handle, and with ``close_handles=True`` the easy
        handles that were still in flight. Idempotent."""
        if self.closed:
            return
        in_flight = list(self._futures.items())
        self._futures.clear()
        for curl, future in in_flight:
            if not future.done():
                future.set_exception(_closed_error(_CLOSED_IN_FLIGHT))
            self._futures[curl] = future  # pycurl's aclose removes the handles it lists
        when_easy_closed(self._multi, None)
        await super().aclose()
        if self._close_handles:
            for curl, _ in in_flight:
                curl.close()
