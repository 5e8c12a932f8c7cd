"""The pycurl boundary: translate pycurl.error into typed errors, and drop-in typed handles.

`translate()` reads what the handle knew (getinfo) at the moment of failure, so the error keeps
its context after the handle is reused. `Curl`, `CurlMulti` and `CurlShare` are pycurl's own
classes with every failure typed, and with exceptions raised in callbacks kept, not printed.
"""

from __future__ import annotations

import contextlib
import gc
import io
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Generic, Protocol, TypeVar, cast

import pycurl

from ._codes import Category, CurlCode, Family
from ._exceptions import CurlError, InfoSource, InvalidOperation, InvalidRequest
from ._info import TransferInfo
from ._translate import ResolveTimeout, class_for, error_from_code, proxy_detail
from ._urls import HTTP_SCHEMES, redact_text, redact_url

__all__ = [
    "Curl",
    "CurlMulti",
    "CurlShare",
    "MultiTransport",
    "TransferFailure",
    "Transport",
    "translate",
    "translating",
]


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def read_info(
    handle: pycurl.Curl, code: int | None = None, url: str | None = None
) -> TransferInfo | None:
    """Snapshot what the handle knows about the transfer that ended; None if it is closed.

    Every fact is one libcurl resets when a transfer starts, so nothing of an earlier transfer
    shows, on a fresh connection or a kept-alive one. The few it keeps from one transfer to the
    next are read only for the failures that set them anew: the OS errno (a failed connect,
    send or receive), the TLS verify results (a TLS failure) and the CURLPX detail (97).
    `url` is the URL asked for; the effective one is read back only after a redirect.
    """
    try:
        return _read_info(handle, code, url, handle.getinfo)
    except (pycurl.error, UnicodeDecodeError):
        pass
    # A value was refused (libcurl has no effective URL after a malformed URL) or is not
    # UTF-8, or the handle is closed: read each on its own, so one refusal loses nothing else.
    try:
        handle.getinfo(pycurl.RESPONSE_CODE)
    except pycurl.error:
        return None

    def one(option: int) -> Any:
        return _get_one(handle, option, "" if option in _STRING_INFO else 0)

    return _read_info(handle, code, url, one)


def _read_info(
    handle: pycurl.Curl, code: int | None, url: str | None, get: Callable[[int], Any]
) -> TransferInfo:
    redirects = get(pycurl.REDIRECT_COUNT)
    if url is None or redirects:
        url = get(pycurl.EFFECTIVE_URL) or ""
    unknown = code is None
    tls = unknown or code in _TLS_CODES
    detail = get(pycurl.PROXY_ERROR) if unknown or code == CurlCode.PROXY else 0
    return TransferInfo(
        redact_url(url),
        get(pycurl.EFFECTIVE_METHOD) or "",
        get(pycurl.OS_ERRNO) if unknown or code in _ERRNO_CODES else 0,
        get(pycurl.SSL_VERIFYRESULT) if tls else 0,
        get(pycurl.PROXY_SSL_VERIFYRESULT) if tls else 0,
        get(pycurl.RESPONSE_CODE),
        get(pycurl.HTTP_CONNECTCODE),
        proxy_detail(detail) if detail else 0,
        get(pycurl.INFO_HTTP_VERSION),
        get(pycurl.PRIMARY_IP) or "",
        get(pycurl.PRIMARY_PORT),
        get(pycurl.NAMELOOKUP_TIME_T) / 1e6,
        get(pycurl.CONNECT_TIME_T) / 1e6,
        get(pycurl.APPCONNECT_TIME_T) / 1e6,
        get(pycurl.PRETRANSFER_TIME_T) / 1e6,
        get(pycurl.STARTTRANSFER_TIME_T) / 1e6,
        get(pycurl.TOTAL_TIME_T) / 1e6,
        get(pycurl.REQUEST_SIZE),
        get(pycurl.SIZE_UPLOAD_T),
        get(pycurl.SIZE_DOWNLOAD_T),
        redirects,
        float(get(pycurl.RETRY_AFTER)),
        get(pycurl.NUM_CONNECTS),
    )


_STRING_INFO: Final = frozenset({pycurl.EFFECTIVE_URL, pycurl.EFFECTIVE_METHOD, pycurl.PRIMARY_IP})
# Failures where the TLS verify result is this transfer's own: the table's TLS and certificate
# codes, and a failed QUIC handshake. (libcurl keeps the value until the next handshake.)
_TLS_CODES: Final = frozenset(
    member.value for member in CurlCode if member.category in (Category.TLS, Category.CERTIFICATE)
) | {CurlCode.QUIC_CONNECT_ERROR.value}
# Failures whose OS errno libcurl set in this transfer: a failed connect, bind, send or receive.
# (On a multi handle libcurl never clears it, so any other failure could show an old one.)
_ERRNO_CODES: Final = frozenset(
    {
        CurlCode.COULDNT_CONNECT.value,
        CurlCode.INTERFACE_FAILED.value,
        CurlCode.SEND_ERROR.value,
        CurlCode.RECV_ERROR.value,
    }
)


def _get_one(handle: pycurl.Curl, option: int, default: Any) -> Any:
    try:
        value = handle.getinfo(option)
    except UnicodeDecodeError:
        value = _text(handle.getinfo_raw(option))
    except pycurl.error:
        return default
    return default if value is None else value


def _read_facts(get: Callable[[int], Any], code: int, sent: int) -> TransferInfo | None:
    """What the class and the retry hint of a failure with `code` are decided from.

    Only these few values are read when the error is made (the rest of `info` on first use):
    the request bytes sent (`sent`, read already), and what the code's refinement looks at.
    None when nothing was sent and nothing else matters, the common case.
    """
    if code == _COULDNT_CONNECT:
        status = get(pycurl.HTTP_CONNECTCODE)
        return TransferInfo(http_connect_code=status, request_size=sent) if status or sent else None
    if code == _TIMEOUT:
        if sent:
            return TransferInfo(request_size=sent)
        return TransferInfo(
            namelookup_time=get(pycurl.NAMELOOKUP_TIME_T) / 1e6,
            primary_ip=get(pycurl.PRIMARY_IP) or "",
        )
    if code == _RETURNED_ERROR:
        return TransferInfo(
            response_code=get(pycurl.RESPONSE_CODE),
            retry_after=float(get(pycurl.RETRY_AFTER)),
            request_size=sent,
        )
    if code == _UNSUPPORTED_PROTOCOL:
        return TransferInfo(response_code=get(pycurl.RESPONSE_CODE), request_size=sent)
    if code == _PROXY:
        detail = get(pycurl.PROXY_ERROR)
        return TransferInfo(proxy_error=proxy_detail(detail) if detail else 0, request_size=sent)
    return TransferInfo(request_size=sent) if sent else None


_COULDNT_CONNECT: Final = CurlCode.COULDNT_CONNECT.value
_TIMEOUT: Final = CurlCode.OPERATION_TIMEDOUT.value
_RETURNED_ERROR: Final = CurlCode.HTTP_RETURNED_ERROR.value
_UNSUPPORTED_PROTOCOL: Final = CurlCode.UNSUPPORTED_PROTOCOL.value
_PROXY: Final = CurlCode.PROXY.value
_REQUEST_SIZE: Final = pycurl.REQUEST_SIZE
_HTTP_CONNECTCODE: Final = pycurl.HTTP_CONNECTCODE
_getinfo: Final = pycurl.Curl.getinfo  # bound once: the class may be swapped on the module
_NOTHING_SENT: Final = TransferInfo()
"""The facts of a failure that sent nothing and has no detail to refine by."""
# The class of each code when the facts are `_NOTHING_SENT` (None from `_read_facts`).
_QUIET_CLASSES: Final[dict[int, type[CurlError]]] = {
    member.value: class_for(member.value, "", _NOTHING_SENT, Family.EASY) for member in CurlCode
}


def failed_transfer(
    args: tuple[Any, ...], handle: pycurl.Curl, source: InfoSource, url: str | None
) -> CurlError:
    """The typed error for a transfer of one of curlx's own handles, `info` read on first use.

    The class and the hint are decided now, from the few facts they need; `source` (the
    handle's curlx state) gives the rest when first asked, and freezes it before the handle
    runs another transfer. `url` is the URL if it is known to be redacted already, or None.
    This is every failure's path, so it reads two values and allocates one object. `args` are
    the `pycurl.error`'s (any shape: an odd one is translated as `translate` does).
    """
    if len(args) == 2:
        code, message = args
        if type(code) is int and type(message) is str:
            try:
                sent = _getinfo(handle, _REQUEST_SIZE)
                if code == _COULDNT_CONNECT and not sent:  # the most common failure, inline
                    status = _getinfo(handle, _HTTP_CONNECTCODE)
                    facts = TransferInfo(http_connect_code=status) if status else None
                else:
                    facts = _read_facts(handle.getinfo, code, sent)
            except pycurl.error:  # the handle is closed: nothing to read, now or later
                return translate(pycurl.error(*args), handle)
            if "@" in message:
                message = redact_text(message)
                args = (code, message)
            if facts is None:
                cls = _QUIET_CLASSES.get(code) or class_for(code, message, None, Family.EASY)
            else:
                cls = class_for(code, message, facts, Family.EASY)
            error = cls.__new__(cls)
            error.args = args
            error._source = source
            if facts is not None:
                error._facts = facts
            if url is not None:
                error._url = url
            return error
    return translate(pycurl.error(*args), handle)


def _read_response_info(handle: pycurl.Curl, method: str, url: str) -> TransferInfo:
    """The getinfo values a successful response shows (each getinfo costs 0.2 to 1.5 µs)."""
    get = handle.getinfo
    redirects = get(pycurl.REDIRECT_COUNT)
    try:
        ip = get(pycurl.PRIMARY_IP)
        if redirects:  # the URL that answered is the request's own unless redirected
            url = redact_url(get(pycurl.EFFECTIVE_URL))
    except UnicodeDecodeError:
        ip = _get_one(handle, pycurl.PRIMARY_IP, "")
        url = redact_url(_get_one(handle, pycurl.EFFECTIVE_URL, ""))
    if method not in ("GET", "HEAD"):  # a redirect may have turned it into a GET
        method = get(pycurl.EFFECTIVE_METHOD) or method
    return TransferInfo(
        url,
        method,
        0,
        0,
        0,
        get(pycurl.RESPONSE_CODE),
        0,
        0,
        get(pycurl.INFO_HTTP_VERSION),
        ip,
        0,
        get(pycurl.NAMELOOKUP_TIME_T) / 1e6,
        get(pycurl.CONNECT_TIME_T) / 1e6,
        get(pycurl.APPCONNECT_TIME_T) / 1e6,
        0.0,
        get(pycurl.STARTTRANSFER_TIME_T) / 1e6,
        get(pycurl.TOTAL_TIME_T) / 1e6,
        0,
        0,
        0,
        redirects,
        0.0,
        get(pycurl.NUM_CONNECTS),
    )


def translate(
    exc: BaseException,
    handle: pycurl.Curl | None = None,
    *,
    family: Family = Family.EASY,
    url: str | None = None,
) -> CurlError:
    """The typed curlx error for a `pycurl.error`, with the handle's context if one is given.

    `url` is the URL the transfer was asked for, when the caller knows it (it saves reading
    the effective URL back from libcurl, unless the transfer was redirected). The handle's
    facts are read now, in full: curlx cannot know when a handle it does not own moves on.

    Never raises: any shape of `pycurl.error` (no args, a bare message, odd types, unknown
    numbers) becomes a `CurlError`. An error that is already a `CurlError` is returned as is.
    """
    if isinstance(exc, CurlError):
        return exc
    args = exc.args
    first = args[0] if args else None
    code = int(first) if isinstance(first, int) and not isinstance(first, bool) else None
    if url is None:
        state = _state_of(handle)
        url = state.url if state is not None else None
    requested = url
    info = read_info(handle, code, requested) if isinstance(handle, _PycurlCurl) else None
    url = _url_of(info, requested)
    method = None
    if info is not None and url is not None and url.lower().startswith(HTTP_SCHEMES):
        method = info.effective_method or None
    if len(args) == 2 and code is not None:
        message = redact_text(_text(args[1]))
        error = error_from_code(code, message, family=family, url=url, method=method, info=info)
        if message is args[1]:
            error.args = args  # pycurl's own, as they were (error_from_code made (code, message))
        return error
    if args:
        message = redact_text(" ".join(_text(a) for a in args))
    else:
        message = "pycurl raised an error without a code or a message"
    error = InvalidOperation(message, url=url, method=method, info=info)
    return error


def _url_of(info: TransferInfo | None, requested: object) -> str | None:
    if info is not None and info.effective_url:
        return info.effective_url
    return redact_url(requested) if isinstance(requested, str) else None


class translating(contextlib.ContextDecorator):
    """Within this block (or decorated function), `pycurl.error` becomes a typed curlx error.

    ``with curlx.translating(handle): handle.perform()`` re-raises ``from`` the original, so
    tracebacks keep pycurl's error as the cause.
    """

    def __init__(self, handle: pycurl.Curl | None = None, *, family: Family = Family.EASY):
        self.handle = handle
        self.family = family

    def __enter__(self) -> translating:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, pycurl.error) and not isinstance(exc, CurlError):
            raise translate(exc, self.handle, family=self.family) from exc


# --- callbacks: keep the user's exception instead of letting pycurl print and drop it --------

# pycurl's classes and the methods curlx calls on them, bound once at import. A codebase may swap
# curlx's classes into pycurl (``pycurl.Curl = curlx.Curl``): looked up at call time, pycurl.Curl
# would then name curlx's own class and every call would recurse. (Also the fastest call.)
_PycurlCurl: Final = pycurl.Curl
_PycurlMulti: Final = pycurl.CurlMulti
_PycurlShare: Final = pycurl.CurlShare
_curl_new: Final = pycurl.Curl.__new__
_curl_setopt: Final = pycurl.Curl.setopt
_curl_setopt_string: Final = pycurl.Curl.setopt_string
_curl_unsetopt: Final = pycurl.Curl.unsetopt
_curl_perform: Final = pycurl.Curl.perform
_curl_reset: Final = pycurl.Curl.reset
_curl_close: Final = pycurl.Curl.close
_curl_duphandle: Final = pycurl.Curl.duphandle
_multi_new: Final = pycurl.CurlMulti.__new__
_multi_add_handle: Final = pycurl.CurlMulti.add_handle
_multi_remove_handle: Final = pycurl.CurlMulti.remove_handle
_multi_perform: Final = pycurl.CurlMulti.perform
_multi_socket_action: Final = pycurl.CurlMulti.socket_action
_multi_socket_all: Final = pycurl.CurlMulti.socket_all
_multi_assign: Final = pycurl.CurlMulti.assign
# (unassign came with pycurl 7.46; it is assign(sockfd, None))
_multi_unassign: Final[Callable[[pycurl.CurlMulti, int], None]] = getattr(
    pycurl.CurlMulti, "unassign", lambda multi, sockfd: _multi_assign(multi, sockfd, None)
)
_multi_setopt: Final = pycurl.CurlMulti.setopt
_multi_info_read: Final = pycurl.CurlMulti.info_read
_multi_close: Final = pycurl.CurlMulti.close
_share_setopt: Final = pycurl.CurlShare.setopt
_share_close: Final = pycurl.CurlShare.close


def _share_each(option: int) -> Callable[..., None]:
    """CurlShare.share/unshare for a pycurl without them (older than 7.47): setopt for each."""

    def each(share: pycurl.CurlShare, *lock_data: int) -> None:
        if not lock_data:
            raise TypeError("at least one LOCK_DATA_* argument required")
        for kind in lock_data:
            _share_setopt(share, option, kind)

    return each


_share_share: Final[Callable[..., None]] = getattr(
    pycurl.CurlShare, "share", _share_each(pycurl.SH_SHARE)
)
_share_unshare: Final[Callable[..., None]] = getattr(
    pycurl.CurlShare, "unshare", _share_each(pycurl.SH_UNSHARE)
)


def _options(values: dict[str, object]) -> dict[int, object]:
    """`values` keyed by pycurl's option numbers, for the options this pycurl has."""
    return {getattr(pycurl, name): value for name, value in values.items() if hasattr(pycurl, name)}


# What each callback returns to libcurl to stop the transfer after the user's code raised:
# pycurl passes each of these on without a word. None where there is no such value (libcurl
# ignores what the debug callback returns; pycurl prints anything but None or a list from the
# trailer and HSTS-read callbacks): the transfer then stops at the next callback of any kind.
_ABORT: Final[dict[int, object]] = _options(
    {
        "WRITEFUNCTION": 0,
        "HEADERFUNCTION": 0,
        "READFUNCTION": pycurl.READFUNC_ABORT,
        "PROGRESSFUNCTION": 1,
        "XFERINFOFUNCTION": 1,
        "SEEKFUNCTION": 1,  # CURL_SEEKFUNC_FAIL
        "IOCTLFUNCTION": 2,  # CURLIOE_FAILRESTART
        "DEBUGFUNCTION": None,
        "OPENSOCKETFUNCTION": -1,  # CURL_SOCKET_BAD
        "SOCKOPTFUNCTION": 1,  # CURL_SOCKOPT_ERROR
        "CLOSESOCKETFUNCTION": 1,
        "PREREQFUNCTION": 1,  # CURL_PREREQFUNC_ABORT
        "TRAILERFUNCTION": None,
        "RESOLVER_START_FUNCTION": 1,
        "HSTSREADFUNCTION": None,
        "HSTSWRITEFUNCTION": 2,  # CURLSTS_FAIL
        "FNMATCH_FUNCTION": 2,  # CURL_FNMATCHFUNC_FAIL
        "SSH_KEYFUNCTION": 2,  # CURLKHSTAT_REJECT
        "SSH_HOSTKEYFUNCTION": 1,  # CURLKHMATCH_MISMATCH
    }
)
# The same for the multi handle's callbacks: -1 makes libcurl stop (CURLM_ABORTED_BY_CALLBACK).
_MULTI_ABORT: Final[dict[int, object]] = _options(
    {"M_SOCKETFUNCTION": -1, "M_TIMERFUNCTION": -1, "M_NOTIFYFUNCTION": None}
)
# Objects with a write/read method that pycurl would call for these options.
_DATA_OPTIONS: Final[dict[int, tuple[int, str]]] = {
    pycurl.WRITEDATA: (pycurl.WRITEFUNCTION, "write"),
    pycurl.WRITEHEADER: (pycurl.HEADERFUNCTION, "write"),
    pycurl.READDATA: (pycurl.READFUNCTION, "read"),
}
# Options `Curl.setopt` looks at before handing them to pycurl (every other one goes straight on).
_URL_OPTION: Final = pycurl.URL
_CURLU_OPTION: Final[int] = getattr(pycurl, "CURLU", -1)
_WATCHED: Final = frozenset(_ABORT) | frozenset(_DATA_OPTIONS) | {_URL_OPTION, _CURLU_OPTION}


class Guarded(Protocol):
    """A callback as curlx hands it to pycurl; the application's own is its ``__wrapped__``."""

    __wrapped__: Callable[..., Any]

    def __call__(self, *args: Any) -> Any: ...


class _CurlState:
    """What a `Curl` remembers beside libcurl: the URL asked for, the callbacks it was given
    (to guard them again on a `duphandle()` copy), whether a curlx call is running its
    transfer, which then keeps the first exception a callback raised (`pending`), and its last
    error while that error's `info` is still to be read from the handle (`unread`)."""

    __slots__ = ("callbacks", "handle", "multi", "pending", "performing", "unread", "url")

    def __init__(self, handle: pycurl.Curl) -> None:
        self.handle = weakref.ref(handle)
        self.pending: Exception | None = None
        self.url: str | None = None
        self.performing = False  # inside Curl.perform()
        self.multi: _MultiState | None = None  # added to this curlx CurlMulti
        self.unread: weakref.ref[CurlError] | None = None
        # option -> (the guarded callable pycurl holds, setopt's keyword arguments), once one
        # is set. Weakly: this module's dicts must not keep an application's objects alive,
        # or a reference cycle through a callback could never be collected.
        self.callbacks: dict[int, tuple[weakref.ref[Guarded], dict[str, Any]]] | None = None

    def snapshot(self, code: int | None) -> tuple[TransferInfo | None, str | None]:
        """The full info of the failed transfer (`InfoSource`), read from the handle now."""
        handle = self.handle()
        info = read_info(handle, code, self.url) if handle is not None else None
        return info, _url_of(info, self.url)


class _MultiState:
    """What a `CurlMulti` remembers: its constructor's `close_handles` (with the handles to
    close), whether a curlx call is driving it, and a multi callback's exception."""

    __slots__ = ("driving", "handles", "pending")

    def __init__(self) -> None:
        self.pending: BaseException | None = None
        self.driving = False
        self.handles: weakref.WeakSet[pycurl.Curl] | None = None  # set if close_handles=True


_weak: Final = weakref.ref


# Kept outside the handles: an attribute of a pycurl.Curl subclass costs about 1 µs to read,
# because pycurl looks names up in its own tables first. Entries leave with their handle.
_STATES: dict[int, _CurlState] = {}
_MULTI_STATES: dict[int, _MultiState] = {}
_KEEP_ATTACHED: set[int] = set()  # ids of the CurlShares made with detach_on_close=False


def _state_of(handle: object) -> _CurlState | None:
    return _STATES.get(id(handle)) if isinstance(handle, Curl) else None


def _register(handle: Curl) -> _CurlState:
    state = _STATES[id(handle)] = _CurlState(handle)
    weakref.finalize(handle, _STATES.pop, id(handle), None)
    return state


def _settle(state: _CurlState) -> None:
    """Freeze a failed transfer's info before the handle moves on (if its error still lives)."""
    unread = state.unread
    if unread is not None:
        state.unread = None
        error = unread()
        if error is not None:
            error._freeze()


def _collecting(state: _CurlState) -> bool:
    """True while a curlx call runs this handle's transfer and will raise what a callback
    raised: `Curl.perform()`, or a `CurlMulti` call driving the multi handle it is on."""
    return state.performing or (state.multi is not None and state.multi.driving)


def _guard(state: _CurlState, callback: Callable[..., Any], abort: object) -> Guarded:
    """`callback` as curlx hands it to pycurl: an `Exception` it raises during a transfer that
    a curlx call runs is kept (and raised by that call) while libcurl is told to stop, and no
    callback of that transfer is called again. Anything else goes on to pycurl as it came:
    KeyboardInterrupt and SystemExit (pycurl then stops the transfer at once, calls no callback
    until the call that runs it raises them), and exceptions at teardown (close, garbage
    collection), which pycurl reports through `sys.unraisablehook`."""

    def guarded(*args: Any) -> Any:
        if state.pending is not None and _collecting(state):
            return abort
        try:
            return callback(*args)
        except Exception as exc:
            if not _collecting(state):
                raise
            state.pending = exc
            return abort

    guarded.__wrapped__ = callback  # type: ignore[attr-defined]
    return cast(Guarded, guarded)


def _multi_guard(
    state: _MultiState, callback: Callable[..., Any], abort: object
) -> Callable[..., Any]:
    """A multi handle's callback as curlx hands it to pycurl, kept as `_guard` does: what it
    raises while a curlx call drives the multi handle leaves that call as itself."""

    def guarded(*args: Any) -> Any:
        if state.pending is not None and state.driving:
            return abort
        try:
            return callback(*args)
        except BaseException as exc:
            if not state.driving:
                raise
            if state.pending is None:
                state.pending = exc
            if isinstance(exc, Exception):
                return abort
            raise

    guarded.__wrapped__ = callback  # type: ignore[attr-defined]
    return guarded


_R = TypeVar("_R")
# Options whose setopt makes pycurl warn (DeprecationWarning) about the line that called it.
_DEPRECATED: Final[frozenset[int]] = frozenset(
    _options({"PROGRESSFUNCTION": 0, "IOCTLFUNCTION": 0})
)


def _warning_to_caller(stacklevel: int, call: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
    """`call(*args, **kwargs)`, with the warnings pycurl issues about the line that called it
    (curlx's, here) issued again about the application's line, `stacklevel` frames up."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            return call(*args, **kwargs)
    finally:
        for message in caught:
            warnings.warn(message.message, message.category, stacklevel=stacklevel + 1)


class _Unraisable:
    """Hands an exception to `sys.unraisablehook` the way Python itself does: from `__del__`."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __del__(self) -> None:
        raise self.exc


def _drop_pending(state: _CurlState) -> None:
    """Report an exception a callback raised in a transfer on a multi handle whose failure was
    never read (the handle was removed or closed first): through `sys.unraisablehook`, as
    pycurl reports callback exceptions nobody can catch."""
    pending, state.pending = state.pending, None
    if pending is not None:
        _Unraisable(pending)


_C = TypeVar("_C", bound="Curl")
_M = TypeVar("_M", bound="CurlMulti")


class Curl(pycurl.Curl):
    """`pycurl.Curl` whose failures are typed curlx errors (still `pycurl.error` subclasses).

    An exception raised inside any callback leaves `perform()` as itself, with the curl error
    it caused as its ``__context__``. Everything else is pycurl's behaviour, also when this
    class is swapped into pycurl (``pycurl.Curl = curlx.Curl``) or subclassed.
    """

    def __new__(cls: type[_C], *args: object, **kwargs: object) -> _C:
        handle = _curl_new(cls)
        _register(handle)
        return handle

    def __init__(self, *args: object, **kwargs: object) -> None:
        if args or kwargs:
            _PycurlCurl(*args, **kwargs)  # raises pycurl's own TypeError for them

    def __del__(self) -> None:
        state = _STATES.get(id(self))
        if state is not None and state.unread is not None:
            _settle(state)  # the last error reads its info while the handle still exists

    def setopt(self, option: int, value: Any, **kwargs: Any) -> None:
        """pycurl's setopt; callbacks are guarded, and a refused option raises a typed error."""
        if option in _WATCHED:
            _setopt_watched(self, option, value, kwargs)
            return
        try:
            _curl_setopt(self, option, value, **kwargs)
        except pycurl.error as exc:
            raise translate(exc) from exc

    def setopt_string(self, option: int, value: str) -> None:
        """pycurl's setopt_string, with a typed error if libcurl refuses."""
        try:
            _curl_setopt_string(self, option, value)
        except pycurl.error as exc:
            raise translate(exc) from exc
        if option == _URL_OPTION:
            state = _STATES[id(self)]
            if state.unread is not None:
                _settle(state)
            state.url = _text(value)

    def unsetopt(self, option: int) -> None:
        """pycurl's unsetopt, with a typed error if libcurl refuses."""
        try:
            _curl_unsetopt(self, option)
        except pycurl.error as exc:
            raise translate(exc) from exc
        _forget_callback(_STATES[id(self)], option)

    def perform(self) -> None:
        """Run the transfer; raise the typed error, or the exception a callback raised."""
        state = _STATES[id(self)]
        if state.unread is not None:
            _settle(state)
        if state.performing:  # called from one of its own callbacks: pycurl refuses
            _perform_refused(self)
        if state.pending is not None:  # kept for a multi transfer whose failure nobody read
            _drop_pending(state)
        state.performing = True
        try:
            _curl_perform(self)
        except pycurl.error as exc:
            original = exc
            error = failed_transfer(exc.args, self, state, None)
            state.unread = _weak(error)
        except BaseException:  # KeyboardInterrupt, SystemExit... (from a callback or not)
            state.performing = False
            raise
        else:
            state.performing = False
            if state.pending is not None:
                _raise_pending(state, None)
            return
        state.performing = False
        if state.pending is not None:
            _raise_pending(state, error)  # outside the except block, to keep this context
        try:
            raise error from original
        finally:  # the traceback keeps this frame: it must not keep the error alive too
            error = original = None  # type: ignore[assignment]

    def perform_rb(self) -> bytes:
        """Run the transfer and return the body as bytes (typed errors as `perform()`)."""
        buffer = io.BytesIO()
        _setopt_watched(self, pycurl.WRITEDATA, buffer, {})
        Curl.perform(self)  # as pycurl's: not a subclass's override
        return buffer.getvalue()

    def perform_rs(self) -> str:
        """Run the transfer and return the body decoded as UTF-8 (UnicodeDecodeError if it
        is not, as pycurl)."""
        return Curl.perform_rb(self).decode()

    def reset(self) -> None:
        """pycurl's reset; also forgets the remembered URL and callbacks."""
        state = _STATES[id(self)]
        if state.unread is not None:
            _settle(state)
        try:
            _curl_reset(self)
        except pycurl.error as exc:
            raise translate(exc) from exc
        _drop_pending(state)
        state.url = None
        state.callbacks = None

    def duphandle(self: _C) -> _C:
        """pycurl's duphandle: a copy with the same options, whose callbacks keep their
        exceptions for the copy's own transfers."""
        state = _STATES[id(self)]
        _settle(state)
        try:
            copy = _curl_duphandle(self)
        except pycurl.error as exc:
            raise translate(exc) from exc
        # pycurl makes the copy without calling __new__ or __init__, and hands it the very
        # callables given to this handle, which keep their exceptions for this handle.
        copied = _register(copy)
        copied.url = state.url
        if state.callbacks:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # said when they were set
                for option, (ref, kwargs) in state.callbacks.items():
                    given = ref()
                    if given is not None:
                        guarded = _guard(copied, given.__wrapped__, _ABORT[option])
                        _curl_setopt(copy, option, guarded, **kwargs)
                        _remember(copied, option, guarded, kwargs)
        return copy

    def close(self) -> None:
        """pycurl's close (a callback's exception at teardown goes to `sys.unraisablehook`)."""
        state = _STATES[id(self)]
        _settle(state)
        try:
            _curl_close(self)
        except pycurl.error as exc:
            raise translate(exc) from exc
        _leave_multi(self, state)
        _drop_pending(state)

    def __exit__(self, *exc_info: object) -> None:
        Curl.close(self)  # as pycurl's: not a subclass's override


def _setopt_watched(handle: Curl, option: int, value: Any, kwargs: dict[str, Any]) -> None:
    """`Curl.setopt` for a callback, a data object, or the URL."""
    state = _STATES[id(handle)]
    data = _DATA_OPTIONS.get(option)
    if data is not None and hasattr(value, data[1]):
        option, value = data[0], getattr(value, data[1])
    guarded = None
    given = value
    if option in _ABORT and callable(value):
        value = guarded = _guard(state, value, _ABORT[option])
    try:
        if option in _DEPRECATED:  # the warning is about the application's setopt line
            _warning_to_caller(3, _curl_setopt, handle, option, value, **kwargs)
        else:
            _curl_setopt(handle, option, value, **kwargs)
    except pycurl.error as exc:
        raise translate(exc) from exc
    if guarded is not None:
        _remember(state, option, guarded, kwargs)
    elif given is None:
        _forget_callback(state, option)
    if option == _URL_OPTION or option == _CURLU_OPTION:
        if state.unread is not None:
            _settle(state)  # the last error keeps the URL it failed on
        # A CurlUrl object gives libcurl the URL: curlx then reads it back when it needs it.
        state.url = (
            _text(value) if option == _URL_OPTION and isinstance(value, str | bytes) else None
        )


def _remember(state: _CurlState, option: int, guarded: Guarded, kwargs: dict[str, Any]) -> None:
    """Note the callback pycurl now holds for `option`, for `duphandle()`."""
    if state.callbacks is None:
        state.callbacks = {}
    state.callbacks[option] = (weakref.ref(guarded), kwargs)


def _forget_callback(state: _CurlState, option: int) -> None:
    if state.callbacks is not None:
        state.callbacks.pop(_DATA_OPTIONS.get(option, (option,))[0], None)


def _perform_refused(handle: Curl) -> None:
    """pycurl's refusal of a perform() nested in the same handle's transfer, typed."""
    try:
        _curl_perform(handle)
    except pycurl.error as exc:
        raise translate(exc) from exc


def _leave_multi(handle: pycurl.Curl, state: _CurlState) -> None:
    multi, state.multi = state.multi, None
    if multi is not None and multi.handles is not None:
        multi.handles.discard(handle)


def _raise_pending(state: _CurlState | _MultiState, error: CurlError | None) -> None:
    """Raise the exception a callback kept, with the curl error it caused as its context."""
    pending = state.pending
    state.pending = None
    if pending is not None:
        if error is not None:
            pending.__context__ = error
        raise pending


class TransferFailure(tuple[Any, int, str]):
    """One failed transfer from `CurlMulti.info_read()`: unpacks as ``(handle, code, message)``.

    `error` is the typed curlx error (or, if the handle's callback raised, that exception).
    """

    error: BaseException

    def __new__(cls, handle: Any, code: int, message: str, error: BaseException) -> TransferFailure:
        failure = super().__new__(cls, (handle, code, message))
        failure.error = error
        return failure


class CurlMulti(pycurl.CurlMulti):
    """`pycurl.CurlMulti` with typed call failures (`MultiError`) and typed failed transfers.

    `info_read()` returns ``(queued, ok_list, failures)`` as pycurl does; each failure still
    unpacks as ``(handle, code, message)`` and carries the typed error as `.error`. An
    exception raised in a socket, timer or notify callback leaves the call that ran it as
    itself, with the `MultiError` it caused as its ``__context__``.
    """

    def __new__(cls: type[_M], *args: object, **kwargs: object) -> _M:
        multi = _multi_new(cls)
        _MULTI_STATES[id(multi)] = _MultiState()
        weakref.finalize(multi, _MULTI_STATES.pop, id(multi), None)
        return multi

    def __init__(self, *args: object, **kwargs: object) -> None:
        # pycurl reads its constructor's arguments only for its own class, not a subclass.
        if args or kwargs:
            _PycurlMulti(*args, **kwargs).close()  # pycurl's own TypeError for what it refuses
            if kwargs.get("close_handles"):
                _MULTI_STATES[id(self)].handles = weakref.WeakSet()

    def add_handle(self, handle: pycurl.Curl) -> None:
        """Add an easy handle (a `MultiAddedAlready` if it is on a multi handle already)."""
        try:
            _drive(self, _multi_add_handle, handle)
        except CurlError as error:
            cause = error.__cause__
            if isinstance(cause, pycurl.error) and "already on" in str(cause.args[-1:]):
                # pycurl checks this itself and raises without a code; libcurl's answer to
                # the same call is CURLM_ADDED_ALREADY, so that is the error it gets.
                already = pycurl.error(pycurl.E_MULTI_ADDED_ALREADY, str(cause.args[-1]))
                raise translate(already, family=Family.MULTI) from cause
            raise
        state = _MULTI_STATES[id(self)]
        if state.handles is not None:
            state.handles.add(handle)
        easy = _state_of(handle)
        if easy is not None:
            _drop_pending(easy)
            easy.multi = state

    def remove_handle(self, handle: pycurl.Curl) -> None:
        """Remove an easy handle."""
        _drive(self, _multi_remove_handle, handle)
        easy = _state_of(handle)
        if easy is not None:
            _leave_multi(handle, easy)
            _drop_pending(easy)
        else:
            handles = _MULTI_STATES[id(self)].handles
            if handles is not None:
                handles.discard(handle)

    def perform(self) -> tuple[int, int]:
        """Drive the transfers; returns ``(ret, running)`` as pycurl does."""
        result: tuple[int, int] = _drive(self, _multi_perform)
        return result

    def socket_action(self, sockfd: int, ev_bitmask: int) -> tuple[int, int]:
        """pycurl's socket_action, with a typed error."""
        result: tuple[int, int] = _drive(self, _multi_socket_action, sockfd, ev_bitmask)
        return result

    def socket_all(self) -> tuple[int, int]:
        """pycurl's socket_all, with a typed error (and pycurl's DeprecationWarning)."""
        result: tuple[int, int] = _warning_to_caller(2, _drive, self, _multi_socket_all)
        return result

    def assign(self, sockfd: int, socket_data: Any) -> None:
        """pycurl's assign (a `MultiBadSocket` for a socket libcurl does not know)."""
        _multi_call(self, _multi_assign, sockfd, socket_data)

    def unassign(self, sockfd: int) -> None:
        """pycurl's unassign, with a typed error."""
        _multi_call(self, _multi_unassign, sockfd)

    def setopt(self, option: int, value: Any) -> None:
        """pycurl's multi setopt, with a typed error; callbacks are guarded."""
        if option in _MULTI_ABORT and callable(value):
            state = _MULTI_STATES[id(self)]
            value = _multi_guard(state, value, _MULTI_ABORT[option])
        _multi_call(self, _multi_setopt, option, value)

    def info_read(self, max_objects: int | None = None) -> tuple[int, list[Any], list[Any]]:
        """Completed transfers: ``(queued, ok_list, failures)``; failures carry typed errors.

        A transfer that libcurl finished although a callback raised (the debug callback cannot
        stop it) is a failure too, with that exception as its error.
        """
        if max_objects is None:
            queued, ok_list, err_list = _multi_call(self, _multi_info_read)
        else:
            queued, ok_list, err_list = _multi_call(self, _multi_info_read, max_objects)
        failures = [_failure(handle, code, message) for handle, code, message in err_list]
        for handle in [h for h in ok_list if _kept(h) is not None]:
            ok_list.remove(handle)
            failures.append(_failure(handle, pycurl.E_ABORTED_BY_CALLBACK, _CALLBACK_RAISED))
        return queued, ok_list, failures

    def close(self) -> None:
        """pycurl's close; with ``close_handles=True`` the easy handles are closed too."""
        handles = _MULTI_STATES[id(self)].handles
        attached = [h for h in handles if h.multi() is self] if handles is not None else []
        _multi_call(self, _multi_close)
        for handle in attached:
            handle.close()

    def __exit__(self, *exc_info: object) -> None:
        CurlMulti.close(self)  # as pycurl's: not a subclass's override


def _drive(multi: CurlMulti, method: Callable[..., Any], *args: Any) -> Any:
    """Call `method` (which may run callbacks) with typed errors, keeping what the callbacks
    of this multi handle and of its curlx easy handles raise."""
    state = _MULTI_STATES[id(multi)]
    if state.driving:  # called from one of its callbacks: pycurl refuses
        return _multi_call(multi, method, *args)
    state.driving = True
    try:
        result = method(multi, *args)
    except pycurl.error as exc:
        original = exc
    except BaseException:
        state.driving = False
        state.pending = None
        raise
    else:
        state.driving = False
        if state.pending is not None:
            _raise_pending(state, None)
        return result
    state.driving = False
    error = translate(original, family=Family.MULTI)
    if state.pending is not None:
        _raise_pending(state, error)  # outside the except block, to keep this context
    raise error from original


def _multi_call(multi: CurlMulti, method: Callable[..., Any], *args: Any) -> Any:
    try:
        return method(multi, *args)
    except pycurl.error as exc:
        raise translate(exc, family=Family.MULTI) from exc


def _kept(handle: object) -> Exception | None:
    """The exception a callback of `handle`'s transfer raised and curlx kept, if any."""
    state = _state_of(handle)
    return state.pending if state is not None else None


_CALLBACK_RAISED: Final = "a callback raised an exception (libcurl had finished the transfer)"


def _failure(handle: pycurl.Curl, code: int, message: str) -> TransferFailure:
    error: BaseException = translate(pycurl.error(code, message), handle)
    state = _state_of(handle)
    if state is not None and state.pending is not None:
        pending, state.pending = state.pending, None
        pending.__context__ = error
        error = pending
    return TransferFailure(handle, code, message, error)


class CurlShare(pycurl.CurlShare):
    """`pycurl.CurlShare` whose failures are `ShareError`s (or `InvalidOperation`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        # pycurl reads its constructor's arguments only for its own class, not a subclass.
        if args or kwargs:
            _PycurlShare(*args, **kwargs).close()  # pycurl's own TypeError for what it refuses
            if not kwargs.get("detach_on_close", True):
                _KEEP_ATTACHED.add(id(self))
                weakref.finalize(self, _KEEP_ATTACHED.discard, id(self))

    def setopt(self, option: int, value: Any) -> None:
        """pycurl's share setopt, with a typed error."""
        _share_call(self, _share_setopt, option, value)

    def share(self, *lock_data: int) -> None:
        """pycurl's share, with a typed error."""
        _share_call(self, _share_share, *lock_data)

    def unshare(self, *lock_data: int) -> None:
        """pycurl's unshare, with a typed error."""
        _share_call(self, _share_unshare, *lock_data)

    def close(self) -> None:
        """pycurl's close (refused while Curl handles use it, if made with
        ``detach_on_close=False``)."""
        if id(self) in _KEEP_ATTACHED:
            users = [r for r in gc.get_referrers(self) if _uses_share(r, self)]
            if users:
                plural = "" if len(users) == 1 else "s"
                raise translate(
                    pycurl.error(
                        f"cannot close CurlShare: still in use by {len(users)} active "
                        f"Curl object{plural}"
                    ),
                    family=Family.SHARE,
                )
        _share_call(self, _share_close)

    def __exit__(self, *exc_info: object) -> None:
        CurlShare.close(self)  # as pycurl's: not a subclass's override


def _uses_share(referrer: object, share: CurlShare) -> bool:
    """True if `referrer` is an open Curl handle that uses `share` (pycurl's handles keep a
    reference to their share, so those are among its referrers)."""
    return isinstance(referrer, _PycurlCurl) and referrer.share() is share


def _share_call(share: CurlShare, method: Callable[..., Any], *args: Any) -> None:
    try:
        method(share, *args)
    except pycurl.error as exc:
        raise translate(exc, family=Family.SHARE) from exc


# --- the HTTP transports behind Session and fetch_many: reused easy handles -----------------

# CURLPROTO_* bits by scheme (curl.h): pycurl names all but the two newest. Schemes with no bit
# (ws, wss, mqtts) cannot be allowed through CURLOPT_PROTOCOLS, and pycurl refuses the _STR form.
_PROTOCOL_BITS: Final[dict[str, int]] = {
    name.removeprefix("PROTO_").lower(): getattr(pycurl, name)
    for name in dir(pycurl)
    if name.startswith("PROTO_") and name != "PROTO_ALL"
} | {"mqtt": 1 << 28, "gophers": 1 << 29}
_HTTP_VERSION_OPTIONS: Final[dict[str, int]] = {
    "1.0": pycurl.CURL_HTTP_VERSION_1_0,
    "1.1": pycurl.CURL_HTTP_VERSION_1_1,
    "2": pycurl.CURL_HTTP_VERSION_2TLS,
    "2-prior-knowledge": pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
    "3": pycurl.CURL_HTTP_VERSION_3,
    "3-only": pycurl.CURL_HTTP_VERSION_3ONLY,
}
_FEATURES: Final[int] = pycurl.version_info()[4]
_LIBCURL_VERSION: Final[int] = pycurl.version_info()[2]
# FOLLOWLOCATION=2 (CURLFOLLOW_OBEYCODE, libcurl 8.13): a custom method (PUT, PATCH,
# DELETE...) is not kept where the status says to switch: it becomes GET on 301, 302 and 303.
_FOLLOW_CUSTOM: Final[int] = 2 if _LIBCURL_VERSION >= 0x080D00 else 1


# Schemes a redirect may lead to, at most (libcurl's own default): never file, scp or sftp, so
# no server can make a client read local files or start SSH sessions by answering a redirect.
_REDIRECT_SAFE: Final = frozenset({"http", "https", "ftp", "ftps"})
# CURLOPT_SUPPRESS_CONNECT_HEADERS (libcurl 7.54): pycurl has no name for it, but passes it on.
_SUPPRESS_CONNECT_HEADERS: Final = 265
# CURLOPT_QUICK_EXIT (libcurl 7.87): closing does not wait for a hung system resolver thread.
_QUICK_EXIT: Final = 322


def supported_protocols() -> frozenset[str]:
    """The URL schemes a Session can allow: built into this libcurl, and with a CURLPROTO bit."""
    return frozenset(_text(p) for p in pycurl.version_info()[8]) & _PROTOCOL_BITS.keys()


HTTP_VERSIONS: Final = tuple(_HTTP_VERSION_OPTIONS)


def http_version_supported(version: str) -> bool:
    """True if this libcurl can speak that HTTP version (one of `HTTP_VERSIONS`)."""
    if version not in _HTTP_VERSION_OPTIONS:
        return False
    if version.startswith("3"):
        return bool(_FEATURES & pycurl.VERSION_HTTP3)
    if version.startswith("2"):
        return bool(_FEATURES & pycurl.VERSION_HTTP2)
    return True


def protocol_mask(schemes: frozenset[str]) -> int:
    """libcurl's PROTOCOLS bitmask for a set of scheme names."""
    mask = 0
    for scheme in schemes:
        mask |= _PROTOCOL_BITS[scheme]  # Session allows only supported_protocols()
    return mask


# Options a request may add that are undone by setting them back, without a reset.
_RESTORABLE: Final = frozenset({pycurl.HTTPHEADER, pycurl.COOKIE})


def _base_value(base: list[tuple[int, Any]], option: int) -> Any:
    """The value `base` gives `option`, or None if it leaves it unset."""
    for name, value in base:
        if name == option:
            return value
    return None


Outcome = tuple[bytes, list[bytes], TransferInfo]
"""What a finished transfer gives: (body, raw header lines, info)."""


class _Slot:
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
        "applied",
        "buffer_size",
        "chunks",
        "dirty",
        "handle",
        "header_lines",
        "method",
        "safe_url",
        "stalled",
        "undo",
        "unread",
        "url",
        "watching",
        "watch_limit",
        "watch_progress",
        "watch_since",
    )

    def __init__(self, buffer_size: int | None = None) -> None:
        self.handle = _PycurlCurl()
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
        self.safe_url = ""
        self.url = ""
        self.stalled = False
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
        url: str,
        method: str,
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
        if self.unread is not None:
            self.settle()
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
        self.watch_limit = watchdog or 0.0
        self.watch_progress = -1  # nothing seen yet
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
        moved = len(self.chunks) + len(self.header_lines)  # grow as body and headers arrive
        return self._stalled(moved + self.handle.getinfo(pycurl.SIZE_UPLOAD_T), now)

    def outcome(self) -> Outcome:
        return (
            *self.take(),
            _read_response_info(self.handle, self.method, self.safe_url),
        )

    def failed(self, args: tuple[Any, ...]) -> CurlError:
        """The typed error for the failure (the `pycurl.error` args) of this slot's transfer."""
        if self.stalled and args[:1] == (pycurl.E_ABORTED_BY_CALLBACK,):
            args = (
                pycurl.E_OPERATION_TIMEDOUT,
                f"Operation too slow: no data moved for {self.watch_limit:g} seconds",
            )
        self.stalled = False
        error = failed_transfer(args, self.handle, self, None)
        self.unread = _weak(error)
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
        return info, _url_of(info, self.safe_url)

    def settle(self) -> None:
        """Freeze the last failure's info before the handle moves on, if its error lives."""
        unread, self.unread = self.unread, None
        error = unread() if unread is not None else None
        if error is not None:
            error._freeze()

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
        "_info_lock",
        "_lookup_abandoned",
        "_multi",
        "_ref",
        "_response",
        "_selectable",
        "_slot",
        "_unread",
    )

    def __init__(self, response: Callable[[str, str], _Attached]) -> None:
        self._slot = _Slot(_SESSION_BUFFER)
        self._multi = _PycurlMulti()
        # Idle connections kept: as many as an easy handle keeps (without it, a multi handle
        # with no transfer running keeps every connection it ever opened).
        self._multi.setopt(pycurl.M_MAXCONNECTS, _SESSION_CONNECTIONS)
        self._response = response  # makes an empty response for (method, URL), filled in here
        # False once libcurl had no socket select() could wait on (a descriptor above
        # FD_SETSIZE): from then on transfers run in libcurl's own loop (easy perform).
        self._selectable = True
        self._lookup_abandoned = False  # a transfer ended before its name lookup did
        self._unread: weakref.ref[_Attached] | None = None
        self._info_lock = threading.Lock()
        self._ref = weakref.ref(self)

    def close(self) -> None:
        """Close the handle and its connections (the last Response and error keep their info)."""
        self._settle()
        self._slot.settle()
        self._slot.handle.close()
        self._slot.applied = None
        self._close_multi()

    def __del__(self) -> None:
        try:  # no module-level names here: at interpreter exit they may be gone already
            self._settle()
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
        if multi.closed:
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
        if self._unread is not None:
            self._settle()
        slot = self._slot
        try:
            if self._selectable:
                slot.prepare(url, method, base, extra, watchdog, False, safe_url)
                response = self._run(slot, method)  # raises the typed error itself
            else:
                slot.prepare(url, method, base, extra, watchdog, True, safe_url)
                slot.handle.perform()
                response = self._attached(method, slot.safe_url)
        except CurlError:
            raise
        except pycurl.error as exc:
            raise self._failed(slot, exc.args) from exc  # no local: a traceback keeps the frame
        except UnicodeEncodeError as exc:
            raise slot.refused(exc) from exc
        except BaseException:
            self._unread = None
            self._lookup_abandoned = True  # interrupted, maybe while looking up a name
            slot.discard()
            raise
        response.status_code = slot.handle.getinfo(pycurl.RESPONSE_CODE)
        response.content, response._header_lines = slot.take()
        return response

    def _failed(self, slot: _Slot, args: tuple[Any, ...]) -> CurlError:
        """The typed error of a failed transfer (the `pycurl.error` args)."""
        error = slot.failed(args)
        if isinstance(error, ResolveTimeout):
            self._lookup_abandoned = True
        return error

    def _run(self, slot: _Slot, method: str) -> _Attached:
        """Drive one transfer on the multi handle; the response, filled in by the caller.

        A failed transfer raises its typed error from here, made at once (no pycurl.error
        raised and caught on the way).
        """
        multi = self._multi
        handle = slot.handle
        try:
            multi.add_handle(handle)
        except pycurl.error as exc:
            raise translate(exc, family=Family.MULTI) from exc
        try:
            _, running = multi.perform()
            limit = slot.watch_limit
            while running:
                wait_ms = multi.timeout()  # libcurl's next deadline (-1: none); 0: "run now"
                wait = wait_ms / 1000 if 0 <= wait_ms < _MAX_WAIT_MS else _MAX_WAIT
                if slot.watch_progress > 0:  # data moved: wake when the limit would run out
                    wait = max(0.0, min(wait, slot.watch_since + limit - time.monotonic()))
                if wait and multi.select(wait) <= 0 and not any(multi.fdset()):
                    # Nothing to wait on: libcurl's socket is beyond what select() takes.
                    self._selectable = False
                    time.sleep(min(wait, _NO_SOCKET_NAP))
                _, running = multi.perform()
                if running and limit and slot.stalled_for(time.monotonic()):
                    failed = [(handle, pycurl.E_ABORTED_BY_CALLBACK, "")]
                    break
            else:
                _, _, failed = multi.info_read()
        except pycurl.error as exc:  # the multi handle's own failure (CURLM), not the transfer's
            raise translate(exc, family=Family.MULTI) from exc
        finally:
            multi.remove_handle(handle)
        if failed:
            _, code, message = failed[0]
            raise self._failed(slot, (code, message))
        return self._attached(method, slot.safe_url)

    def _attached(self, method: str, safe_url: str) -> _Attached:
        """An empty response for this transfer, which reads its info from this transport."""
        response = self._response(method, safe_url)
        response._source = self._ref
        self._unread = weakref.ref(response)
        return response

    def info_of(self, response: _Attached) -> TransferInfo:
        """The info of the last transfer, for `response` (read once, then kept by it)."""
        with self._info_lock:
            info = response._info
            if info is None:
                info = _read_response_info(self._slot.handle, response.method, response.request_url)
                response._info = info
                response._source = None
            return info

    def _settle(self) -> None:
        """Give the last Response its info now, if it is still alive and has none."""
        unread, self._unread = self._unread, None
        response = unread() if unread is not None else None
        if response is not None and response._info is None:
            self.info_of(response)

    def cookies(self) -> list[str]:
        """The cookies libcurl's engine holds, as Netscape cookie-file lines."""
        lines: list[str] = self._slot.handle.getinfo(pycurl.INFO_COOKIELIST)
        return lines


class _Attached(Protocol):
    """What `Transport` fills in on the responses it makes."""

    status_code: int
    content: bytes
    _header_lines: list[bytes]
    _info: TransferInfo | None
    _source: Callable[[], Any] | None  # a weak reference to the transport
    method: str
    request_url: str


# A Session's one handle reads up to this much per receive, so a body reaches Python in a few
# large chunks (fewer calls into Python, often no join); a crawl's many handles keep 16 KiB.
_SESSION_BUFFER: Final = 256 * 1024
_SESSION_CONNECTIONS: Final = 5  # libcurl's default for an easy handle (DEFAULT_CONNCACHE_SIZE)
_MAX_WAIT: Final = 1.0  # seconds: the longest wait in select() before looking again
_MAX_WAIT_MS: Final = _MAX_WAIT * 1000
_NO_SOCKET_NAP: Final = 0.001  # seconds to wait when select() has no socket to wait on


_T = TypeVar("_T")
_STALL_CHECK_EVERY: Final = 0.1  # seconds between looks for transfers that stopped moving


class MultiTransport(Generic[_T]):
    """Up to `size` concurrent HTTP transfers on one multi handle, with reused easy handles.

    Connections are pooled by the multi handle, so transfers to the same host reuse them.
    `start()` begins a transfer tagged with a token; `poll()` waits for progress and returns
    the finished ones as (token, outcome or typed error). Not thread-safe.
    """

    def __init__(self, size: int) -> None:
        self._multi = _PycurlMulti()
        self._idle = [_Slot() for _ in range(size)]
        self._running: dict[pycurl.Curl, tuple[_Slot, _T]] = {}
        self._watched = 0  # running transfers with a no-progress limit
        self._checked = 0.0  # when stalls were last looked for

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
        url: str,
        method: str,
        base: list[tuple[int, Any]],
        extra: list[tuple[int, Any]],
        watchdog: float | None = None,
        safe_url: str | None = None,
    ) -> CurlError | None:
        """Begin a transfer; a typed error if it could not even start (a refused option)."""
        slot = self._idle.pop()
        try:
            slot.prepare(url, method, base, extra, watchdog, False, safe_url)
            self._multi.add_handle(slot.handle)
        except pycurl.error as exc:
            self._idle.append(slot)
            return slot.failed(exc.args)
        except UnicodeEncodeError as exc:
            self._idle.append(slot)
            return slot.refused(exc)
        self._running[slot.handle] = (slot, token)
        if slot.watch_limit:
            self._watched += 1
        return None

    def poll(self, timeout: float) -> list[tuple[_T, Outcome | CurlError]]:
        """Wait up to `timeout` seconds for activity; return the transfers that finished.

        Transfers just started are driven at once (before any waiting), and the wait is cut
        short to libcurl's own next deadline, so one stalled transfer never slows the rest.
        Transfers with a no-progress limit are looked at every tenth of a second from here,
        not from a progress callback, so the limit costs nothing per transfer.
        """
        multi = self._multi
        self._drive()
        done = self._collect()
        if not done and self._running:
            deadline_ms = multi.timeout()
            if deadline_ms >= 0:
                timeout = min(timeout, deadline_ms / 1000)
            if self._watched:
                timeout = min(timeout, _STALL_CHECK_EVERY)
            if timeout > 0 and multi.select(timeout) <= 0 and not any(multi.fdset()):
                # No socket select() can take (a descriptor above FD_SETSIZE): do not spin.
                time.sleep(min(timeout, _NO_SOCKET_NAP))
            self._drive()
            done = self._collect()
        if self._watched:
            now = time.monotonic()
            if now - self._checked >= _STALL_CHECK_EVERY:
                self._checked = now
                done += self._stalls(now)
        return done

    def _stalls(self, now: float) -> list[tuple[_T, Outcome | CurlError]]:
        stalled = [
            handle
            for handle, (slot, _) in self._running.items()
            if slot.watch_limit and slot.stalled_for(now)
        ]
        done: list[tuple[_T, Outcome | CurlError]] = []
        for handle in stalled:
            slot, token = self._release(handle)
            done.append((token, slot.failed((pycurl.E_ABORTED_BY_CALLBACK, ""))))
        return done

    def _drive(self) -> None:
        while True:
            status, _ = self._multi.perform()
            if status != pycurl.E_CALL_MULTI_PERFORM:
                return

    def _collect(self) -> list[tuple[_T, Outcome | CurlError]]:
        multi = self._multi
        done: list[tuple[_T, Outcome | CurlError]] = []
        while True:
            queued, ok_list, err_list = multi.info_read()
            for handle in ok_list:
                slot, token = self._release(handle)
                done.append((token, slot.outcome()))
            for handle, code, message in err_list:
                slot, token = self._release(handle)
                done.append((token, slot.failed((code, message))))
            if not queued:
                return done

    def _release(self, handle: pycurl.Curl) -> tuple[_Slot, _T]:
        slot, token = self._running.pop(handle)
        self._multi.remove_handle(handle)
        self._idle.append(slot)
        if slot.watch_limit:
            self._watched -= 1
        return slot, token

    def close(self) -> None:
        """Stop every transfer and close all handles and connections."""
        for handle in list(self._running):
            self._release(handle)
        for slot in self._idle:
            slot.settle()
            slot.handle.close()
        self._idle.clear()
        self._multi.close()


def base_options(
    *,
    headers: list[str],
    auth: tuple[str, str, str] | None,
    cookie: str | None,
    cookie_engine: bool,
    connect_timeout: float | None,
    read_timeout: float | None,
    total_timeout: float | None,
    follow_redirects: bool,
    max_redirects: int,
    verify: bool | str,
    ca_is_dir: bool,
    cert: tuple[str, str | None] | None,
    proxy: str | None,
    max_size: int | None,
    http_version: str | None,
    protocols: frozenset[str],
) -> list[tuple[int, Any]]:
    """The pycurl options for a Session's settings (values already validated by Session)."""
    options: list[tuple[int, Any]] = [
        (pycurl.NOSIGNAL, 1),
        (pycurl.PROTOCOLS, protocol_mask(protocols)),
        (pycurl.REDIR_PROTOCOLS, protocol_mask(protocols & _REDIRECT_SAFE)),
        (pycurl.ACCEPT_ENCODING, ""),
        (_SUPPRESS_CONNECT_HEADERS, 1),
        (_QUICK_EXIT, 1),
    ]
    add = options.append
    if headers:
        add((pycurl.HTTPHEADER, _header_bytes(headers)))
    if follow_redirects:
        add((pycurl.FOLLOWLOCATION, 1))
        add((pycurl.MAXREDIRS, max_redirects))
    if connect_timeout is not None:
        add((pycurl.CONNECTTIMEOUT_MS, max(1, int(connect_timeout * 1000))))
    if read_timeout is not None:
        add((pycurl.LOW_SPEED_LIMIT, 1))
        add((pycurl.LOW_SPEED_TIME, max(1, -int(-read_timeout // 1))))
    if total_timeout is not None:
        add((pycurl.TIMEOUT_MS, max(1, int(total_timeout * 1000))))
    if verify is False:
        options += [
            (pycurl.SSL_VERIFYPEER, 0),
            (pycurl.SSL_VERIFYHOST, 0),
            (pycurl.PROXY_SSL_VERIFYPEER, 0),
            (pycurl.PROXY_SSL_VERIFYHOST, 0),
        ]
    elif isinstance(verify, str):
        if ca_is_dir:
            options += [(pycurl.CAPATH, verify), (pycurl.PROXY_CAPATH, verify)]
        else:
            options += [(pycurl.CAINFO, verify), (pycurl.PROXY_CAINFO, verify)]
    if cert is not None:
        add((pycurl.SSLCERT, cert[0]))
        if cert[1] is not None:
            add((pycurl.SSLKEY, cert[1]))
    if auth is not None:
        kind, user, password = auth
        scheme = pycurl.HTTPAUTH_DIGEST if kind == "digest" else pycurl.HTTPAUTH_BASIC
        add((pycurl.HTTPAUTH, scheme))
        add((pycurl.USERNAME, user.encode()))
        add((pycurl.PASSWORD, password.encode()))
    if cookie_engine:
        add((pycurl.COOKIEFILE, ""))
    if cookie:
        add((pycurl.COOKIE, cookie.encode()))
    if proxy is not None:
        add((pycurl.PROXY, proxy))
    if max_size is not None:
        add((pycurl.MAXFILESIZE_LARGE, max_size))
    if http_version is not None:
        add((pycurl.HTTP_VERSION, _HTTP_VERSION_OPTIONS[http_version]))
    return options


def request_extras(
    *,
    method: str,
    body: bytes | None,
    headers: list[str] | None,
    cookie: str | None,
    follow_redirects: bool,
) -> list[tuple[int, Any]]:
    """The options one request adds to its Session's base: method, body, headers, cookies."""
    extra: list[tuple[int, Any]] = []
    add = extra.append
    custom = method not in ("GET", "HEAD", "POST")
    if method == "HEAD":
        add((pycurl.NOBODY, 1))
    elif custom:
        add((pycurl.CUSTOMREQUEST, method))
        if follow_redirects:
            add((pycurl.FOLLOWLOCATION, _FOLLOW_CUSTOM))
    if body is not None:
        # POSTFIELDS, not COPYPOSTFIELDS: pycurl keeps a reference, and NUL bytes survive.
        add((pycurl.POSTFIELDSIZE_LARGE, len(body)))
        add((pycurl.POSTFIELDS, body))
        if method == "GET":
            add((pycurl.CUSTOMREQUEST, "GET"))
    elif method == "POST":
        add((pycurl.POST, 1))
        add((pycurl.POSTFIELDSIZE, 0))
    if headers is not None:
        add((pycurl.HTTPHEADER, _header_bytes(headers)))
    if cookie is not None:
        add((pycurl.COOKIE, cookie.encode()))
    return extra


def _header_bytes(lines: list[str]) -> list[bytes]:
    """Header lines as HTTP/1.1 carries them: Latin-1 octets (Session checked they fit)."""
    return [line.encode("latin-1") for line in lines]
