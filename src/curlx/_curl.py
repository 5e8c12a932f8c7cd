"""The pycurl boundary: translate pycurl.error into typed errors, and drop-in typed handles.

(The transports that drive pycurl's handles for the clients live above, in `_transport`.)

`translate()` reads what the handle knew (getinfo) at the moment of failure, so the error keeps
its context after the handle is reused. `Curl`, `CurlMulti` and `CurlShare` are pycurl's own
classes with every failure typed, and with exceptions raised in callbacks kept, not printed.
"""

from __future__ import annotations

import contextlib
import gc
import io
import warnings
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Protocol, TypeVar, cast

import pycurl

from ._codes import Category, CurlCode, Family
from ._exceptions import CurlError, InfoSource, InvalidOperation
from ._info import TransferInfo
from ._translate import class_for, error_from_code, proxy_detail
from ._urls import is_http, redact_text, redact_url

__all__ = [
    "Curl",
    "CurlMulti",
    "CurlShare",
    "TransferFailure",
    "translate",
    "translating",
]


def text(value: object) -> str:
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
        value = text(handle.getinfo_raw(option))
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


def read_response_info(handle: pycurl.Curl, method: str, url: str) -> TransferInfo:
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
    info = read_info(handle, code, requested) if isinstance(handle, PycurlCurl) else None
    url = url_of(info, requested)
    method = None
    if info is not None and url is not None and is_http(url):
        method = info.effective_method or None
    if len(args) == 2 and code is not None:
        message = redact_text(text(args[1]))
        error = error_from_code(code, message, family=family, url=url, method=method, info=info)
        if message is args[1]:
            error.args = args  # pycurl's own, as they were (error_from_code made (code, message))
        return error
    if args:
        message = redact_text(" ".join(text(a) for a in args))
    else:
        message = "pycurl raised an error without a code or a message"
    error = InvalidOperation(message, url=url, method=method, info=info)
    return error


def locate(handle: pycurl.Curl | None, url: str | None) -> tuple[str | None, str | None]:
    """The URL (redacted; the effective one after a redirect) and, for HTTP(S), the method of
    the transfer that just ended on `handle`: two or three getinfo calls."""
    if handle is None:
        return (redact_url(url) if url is not None else None), None
    try:
        if url is None or _getinfo(handle, pycurl.REDIRECT_COUNT):
            url = text(_getinfo(handle, pycurl.EFFECTIVE_URL) or "") or url
        method = None
        if url is not None and is_http(url):
            method = _getinfo(handle, pycurl.EFFECTIVE_METHOD) or None
    except (pycurl.error, UnicodeDecodeError):
        method = None
    return (redact_url(url) if url is not None else None), method


def url_of(info: TransferInfo | None, requested: object) -> str | None:
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
PycurlCurl: Final = pycurl.Curl
PycurlMulti: Final = pycurl.CurlMulti
PycurlShare: Final = pycurl.CurlShare
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
        return info, url_of(info, self.url)

    def where(self) -> tuple[str | None, str | None]:
        """The URL and method of the failed transfer (`InfoSource`), read from the handle."""
        return locate(self.handle(), self.url)


class _MultiState:
    """What a `CurlMulti` remembers: its constructor's `close_handles` (with the handles to
    close), whether a curlx call is driving it, and a multi callback's exception."""

    __slots__ = ("closed_easy", "driving", "handles", "pending")

    def __init__(self) -> None:
        self.pending: BaseException | None = None
        self.driving = False
        self.handles: weakref.WeakSet[pycurl.Curl] | None = None  # set if close_handles=True
        # Told when a curlx Curl on this multi handle is closed (AsyncCurlMulti: its future).
        self.closed_easy: Callable[[pycurl.Curl], None] | None = None


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
            PycurlCurl(*args, **kwargs)  # raises pycurl's own TypeError for them

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
            state.url = text(value)

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
        unread = state.unread
        if unread is not None and unread() is not None:  # the last error lives: freeze it
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
        multi = state.multi
        _leave_multi(self, state)
        _drop_pending(state)
        if multi is not None and multi.closed_easy is not None:
            multi.closed_easy(self)

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
            text(value) if option == _URL_OPTION and isinstance(value, str | bytes) else None
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
            PycurlMulti(*args, **kwargs).close()  # pycurl's own TypeError for what it refuses
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


def when_easy_closed(multi: CurlMulti, callback: Callable[[pycurl.Curl], None] | None) -> None:
    """Have `callback` told of each curlx `Curl` closed while on `multi` (after the close)."""
    _MULTI_STATES[id(multi)].closed_easy = callback


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
            PycurlShare(*args, **kwargs).close()  # pycurl's own TypeError for what it refuses
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
    return isinstance(referrer, PycurlCurl) and referrer.share() is share


def _share_call(share: CurlShare, method: Callable[..., Any], *args: Any) -> None:
    try:
        method(share, *args)
    except pycurl.error as exc:
        raise translate(exc, family=Family.SHARE) from exc
