"""The exception hierarchy: one class per category users catch, then one per libcurl code.

Our exception hierarchy (category classes; every libcurl code also has its own class below its
categories, generated from the code table into `_code_errors.py`). The numbers are examples of
codes raised as that class (a test checks them); `curlx explain --list` gives every code's::

    pycurl.error                   `except pycurl.error` and `e.args[0]` keep working
    └── CurlError                  every failure libcurl reports; .code .name .category .retry .info
        ├── NetworkError           the network or the peer's transport failed (52, 55, 56, 81)
        │   ├── DNSError           a host name did not resolve (6, 15; 5 is also a ProxyError)
        │   └── ConnectError       no connection could be made (7, 45, 89); builtins.ConnectionError
        ├── TimeoutError           a time limit ran out (28, 12); builtins.TimeoutError
        │   └── OperationTimedout  (28)
        │       ├── ConnectTimeout nothing was sent yet: the connect or TLS phase ran out of time
        │       │   └── ResolveTimeout  the name lookup itself ran out of time (also a DNSError)
        │       └── ReadTimeout    the request was sent: no progress, or the total time ran out
        ├── SSLError               TLS could not be set up or used (35, 53, 54, 58, 59, 64, ...)
        │   └── CertificateError   the peer's certificate was refused (60, 83, 90, 91)
        ├── ProxyError             the proxy failed (5, 97 with its CURLPX detail)
        │   └── ProxyTunnelRefused an HTTP proxy answered CONNECT with an error (7)
        ├── ProtocolError          the peer broke the protocol (8, 16, 18, 61, 92, 95, 96)
        │   └── NotHTTPResponse    the reply was not HTTP at all (1 once the request was sent;
        │                          also an UnsupportedProtocol, so error_class(1) catches it)
        ├── HTTPError              HTTP-level failures
        │   ├── HTTPStatusError    an error status (22): HTTPClientError 4xx, HTTPServerError 5xx
        │   └── TooManyRedirects   (47)
        ├── FTPError, TFTPError, SSHError, LDAPError, RTSPError      protocol-specific failures
        ├── RemoteError            the server refused the operation: access, missing file, disk full
        ├── AuthError              the credentials were refused (67, 94)
        ├── UsageError             the request or the call is wrong; also ValueError, never retried
        │   ├── InvalidURL         the URL is malformed (3, every CURLUcode)
        │   ├── InvalidRequest     curlx refused the request before sending it (CR/LF in a header)
        │   │   └── InvalidSetting a policy or limit was given a bad value (a negative retry count)
        │   └── InvalidOperation   a call the handle cannot take in its state; also RuntimeError
        ├── LocalIOError           reading or writing local data failed (23, 26, 37, 65)
        ├── LimitExceeded          a size limit was exceeded (63, 100)
        ├── CallbackError          an application callback stopped the transfer (42, 88)
        ├── InternalError          libcurl or the system broke or ran out of memory (2, 27, 99)
        ├── MultiError             a CURLMcode from the multi interface
        ├── ShareError             a CURLSHcode from the share interface
        └── URLError               a CURLUcode from the URL API

Codes that belong to two categories have both as bases (`CouldntResolveProxy(DNSError,
ProxyError)`); the multi, share and URL families put their family class first
(`MultiAddedAlready(MultiError, UsageError)`), so numbers of different families never collide.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, TypeVar

import pycurl

from . import _explain
from ._codes import _FAMILY_OF, Category, CurlCode, Family, ProxyCode, RetryKind, _Code
from ._hints import RetryEvent, RetryHint
from ._info import READING, TransferInfo
from ._urls import is_http

if TYPE_CHECKING:
    from ._models import Response

__all__ = [
    "AuthError",
    "CallbackError",
    "CertificateError",
    "ConnectError",
    "CurlError",
    "DNSError",
    "FTPError",
    "HTTPError",
    "HTTPStatusError",
    "InternalError",
    "InvalidOperation",
    "InvalidRequest",
    "InvalidSetting",
    "InvalidURL",
    "LDAPError",
    "LimitExceeded",
    "LocalIOError",
    "MultiError",
    "NetworkError",
    "ProtocolError",
    "ProxyError",
    "RTSPError",
    "RemoteError",
    "SSHError",
    "SSLError",
    "ShareError",
    "TFTPError",
    "TimeoutError",
    "URLError",
    "UsageError",
]

_ENUM_OF_FAMILY: Final[dict[Family, type[_Code]]] = {fam: cls for cls, fam in _FAMILY_OF.items()}

# Filled as classes are defined: the class of each code, and the class of each category.
# Keys are (family, number): members of different families compare equal when their numbers do.
CLASS_OF_CODE: Final[dict[tuple[Family, int], type[CurlError]]] = {}
CLASS_OF_CATEGORY: Final[dict[Category, type[CurlError]]] = {}
CLASS_OF_FAMILY: Final[dict[Family, type[CurlError]]] = {}


def _restore(cls: type[CurlError], args: tuple[Any, ...], state: dict[str, Any]) -> CurlError:
    """Unpickle an error without calling __init__, so every attribute comes back as it was."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InfoSource(Protocol):
    """Where a failed transfer's full `TransferInfo` is read from, until the error is frozen.

    The handle that failed (`curlx.Curl`, or a Session's or crawl's own) is the source: it
    reads the rest of the facts on first use, and freezes every error still unread before it
    starts another transfer, so `.info` always shows the error's own transfer.
    """

    def snapshot(self, code: int | None) -> tuple[TransferInfo | None, str | None]:
        """The full info of the transfer that failed with `code`, and its URL (redacted)."""
        ...

    def where(self) -> tuple[str | None, str | None]:
        """Just the URL (redacted, the effective one) and the HTTP method of that transfer."""
        ...


_E = TypeVar("_E", bound="CurlError")
_UNSET: Final = object()


class CurlError(pycurl.error):
    """A failure libcurl reported, with its code, its category, a retry hint and the context.

    `args` is ``(code, message)`` exactly as pycurl raised it, so code written for
    `pycurl.error` keeps working.
    """

    # Class-level facts: set on category and family classes, and on each per-code class.
    _family: ClassVar[Family] = Family.EASY
    _category: ClassVar[Category] = Category.UNKNOWN
    _code: ClassVar[_Code | None] = None
    situation: ClassVar[str] = ""
    """A sentence a refined class puts before the code's explanation (see ConnectTimeout)."""
    _own_retry: ClassVar[RetryKind | None] = None
    """A refined class's own retry hint, in place of its code's (see ConnectTimeout)."""
    _status_retry: ClassVar[tuple[tuple[Container[int], RetryKind], ...]] = ()
    """Statuses that give a refined class another hint than its own (see HTTPServerError)."""

    # Per-error state, with class defaults so that the error path sets only what it has.
    _facts: TransferInfo | None = None
    """What the class and the retry hint were decided from (read when the error was made)."""
    _info: TransferInfo | None = None
    _source: InfoSource | None = None
    _url: str | None = None
    _method: str | None = None
    _given_family: Family | None = None  # a family with no class of its own (CURLHcode)
    _client = False
    """True when a curlx client (Session, curlx.get, fetch_many) made it: its hint then names
    the client's keywords (``verify=``, ``max_size=``) where libcurl's would name a CURLOPT."""
    history: tuple[RetryEvent, ...] = ()
    """The attempts a Retry policy made before giving up with this error (oldest first)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        code = own.get("_code")
        if isinstance(code, _Code):
            cls._category = code.category
            cls._family = code.family
            CLASS_OF_CODE[code.family, code.value] = cls
        elif "_category" in own:
            CLASS_OF_CATEGORY.setdefault(cls._category, cls)
        if "_family" in own:
            CLASS_OF_FAMILY.setdefault(cls._family, cls)

    def __init__(
        self,
        code: int | None,
        message: str,
        *,
        url: str | None = None,
        method: str | None = None,
        info: TransferInfo | None = None,
    ) -> None:
        super().__init__(code, message)
        if url is not None:
            self._url = url
        if method is not None:
            self._method = method
        if info is not None:
            self._info = self._facts = info

    @classmethod
    def _made(
        cls: type[_E],
        code: int,
        message: str,
        facts: TransferInfo | None,
        source: InfoSource | None,
        url: str | None,
        method: str | None,
    ) -> _E:
        """The error path's constructor: no keyword parsing, only what is known is set.

        With a `source`, `info` (and the URL and method it gives) is read on first use.
        """
        error = cls.__new__(cls)
        error.args = (code, message)
        if facts is not None:
            error._facts = facts
        if source is not None:
            error._source = source
        else:
            error._info = facts
        if url is not None:
            error._url = url
        if method is not None:
            error._method = method
        return error

    def _locate(self) -> None:
        """Read just the URL and method from the handle (what a message needs): cheaper than
        the whole `info`, which is still read before the handle moves on."""
        with READING:
            source = self._source
            if source is not None:
                url, method = source.where()
                if self._url is None:
                    self._url = url
                if self._method is None:
                    self._method = method

    def _freeze(self) -> None:
        """Read the rest of the transfer's facts from the handle now, and let it go.

        Under one lock: a thread reading an error's info while the handle's own thread
        freezes it before moving on waits for that, and never reads the next transfer.
        """
        with READING:
            source = self._source
            if source is None:
                return
            number = self.args[0] if self.args else None
            info, url = source.snapshot(number if isinstance(number, int) else None)
            self._info = info
            if self._url is None:
                self._url = url
            if self._method is None and info is not None and url is not None and is_http(url):
                self._method = info.effective_method or None
            self._source = None

    # --- what users read --------------------------------------------------------------------

    @property
    def code(self) -> _Code | int | None:
        """The table's member for the number (an int), a plain int if unknown, None if absent."""
        args = self.args
        number = args[0] if len(args) == 2 else None
        if not isinstance(number, int):
            return None
        own = self._code
        if own is not None and own == number:
            return own
        return _lookup(self.family, number)

    @property
    def message(self) -> str:
        """libcurl's own text, verbatim (credentials removed)."""
        args = self.args
        text = args[-1] if args else ""
        return text if isinstance(text, str) else str(text)

    @property
    def url(self) -> str | None:
        """The URL of the failed transfer (the effective one after redirects), no credentials."""
        if self._url is None and self._source is not None:
            self._locate()
        return self._url

    @url.setter
    def url(self, value: str | None) -> None:
        self._url = value

    @property
    def method(self) -> str | None:
        """The request method for HTTP(S) transfers, None for other protocols."""
        if self._method is None and self._source is not None:
            self._locate()
        return self._method

    @method.setter
    def method(self, value: str | None) -> None:
        self._method = value

    @property
    def info(self) -> TransferInfo | None:
        """What the handle knew when the transfer ended, or None if no handle was given."""
        if self._source is not None:
            self._freeze()
        return self._info

    @property
    def errno(self) -> int | None:
        """The OS errno libcurl saw (ECONNREFUSED...), or None; never the curl code."""
        given: int | None | object = self.__dict__.get("_errno", _UNSET)
        if given is not _UNSET:
            return given if isinstance(given, int) else None
        info = self.info
        return info.os_errno or None if info is not None else None

    @errno.setter
    def errno(self, value: int | None) -> None:
        self._errno = value

    @property
    def strerror(self) -> str | None:
        """libcurl's message again, under OSError's name for it."""
        given: str | None | object = self.__dict__.get("_strerror", _UNSET)
        if given is _UNSET:
            return self.message
        return given if isinstance(given, str) else None

    @strerror.setter
    def strerror(self, value: str | None) -> None:
        self._strerror = value

    @property
    def family(self) -> Family:
        """Which libcurl enum the code belongs to (easy, multi, share, URL or header)."""
        return self._given_family or self._family

    @property
    def category(self) -> Category:
        """The kind of failure, for counting and for choosing what to do."""
        return self._category

    @property
    def name(self) -> str:
        """libcurl's name for the code, such as ``CURLE_COULDNT_CONNECT``."""
        code = self.code
        if isinstance(code, _Code):
            return code.libcurl_name
        if code is None:
            return "(no code)"
        return f"{self.family.prefix}UNKNOWN_{code}"

    @property
    def retry(self) -> RetryHint:
        """Whether repeating the request can help, for which methods, and after how long."""
        kind = self._retry_kind()
        facts = self._facts
        if kind is RetryKind.SAFE and facts is not None and facts.request_size:
            # Bytes of the request went out (a redirect, or a connection that died after
            # the request was written): whatever the code, the server may have it.
            kind = RetryKind.IDEMPOTENT
        after = facts.retry_after if facts is not None else 0.0
        return RetryHint(kind, kind.advice, after if after > 0 else None)

    @property
    def retryable(self) -> bool:
        """True if this request (with its own method) may be repeated."""
        return self.retry.allows(self.method)

    @property
    def proxy_code(self) -> ProxyCode | int | None:
        """The CURLPX detail behind a proxy failure (97), or None."""
        facts = self._facts
        if facts is None or not facts.proxy_error or self.code is not CurlCode.PROXY:
            return None
        return facts.proxy_error

    def _retry_kind(self) -> RetryKind:
        own = self._own_retry
        if own is not None:
            if self._status_retry:
                status = getattr(self, "status_code", 0)
                for statuses, kind in self._status_retry:
                    if status in statuses:
                        return kind
            return own
        code = self.code
        if not isinstance(code, _Code):
            return RetryKind.NEVER
        detail = self.proxy_code
        if isinstance(detail, ProxyCode) and detail.category is not Category.OK:
            return detail.retry
        return code.retry

    # --- rendering --------------------------------------------------------------------------

    @property
    def hint(self) -> str:
        """The second line of `str()`: what to do, whether a retry helps, where to read more."""
        return _explain.hint_line(self)

    # --- records ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe record of this error, for logs, queues and other processes.

        Class, code, family, name, category, retry kind (and Retry-After), method, URL and
        message (credentials removed), the `.info` facts, the retry history, and whether a
        curlx client made it (`client`: its hint then names the client's keywords).
        `CurlError.from_dict` makes the same error back.
        """
        code = self.code
        info = self.info
        hint = self.retry
        return {
            "class": type(self).__name__,
            "code": int(code) if code is not None else None,
            "family": self.family.value,
            "name": self.name,
            "category": self.category.value,
            "retry": hint.kind.value,
            "retry_after": hint.after,
            "method": self.method,
            "url": self.url,
            "message": self.message,
            "info": None if info is None else {k: _plain(v) for k, v in info._asdict().items()},
            "history": [event._asdict() for event in self.history],
            "client": self._client,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CurlError:
        """The error a `to_dict()` record describes: the same class, code, hint and facts.

        A class this curlx does not have (a record from a newer one) gives the class of its
        code, or its family's base class. A record that is not one raises `InvalidRequest`.
        """
        try:
            name, code, message = record["class"], record["code"], record["message"]
            family = Family(record.get("family", Family.EASY.value))
            facts = record.get("info")
            info = None if facts is None else TransferInfo(**facts)
            history = tuple(RetryEvent(**event) for event in record.get("history", ()))
            url, method = record.get("url"), record.get("method")
            if not isinstance(message, str) or not (code is None or type(code) is int):
                raise TypeError("code must be an int or None, and message a str")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidRequest(
                f"CurlError.from_dict() needs a record made by CurlError.to_dict() (its class, "
                f"code and message at least); this one is not: {exc}"
            ) from None
        klass = _class_named(name)
        if klass is None or (code is not None and klass._code is not None and klass._code != code):
            member = _lookup(family, code) if code is not None else None
            klass = CLASS_OF_CODE.get((family, int(member))) if isinstance(member, _Code) else None
            klass = klass or CLASS_OF_FAMILY.get(family, CurlError)
        if code is None:
            error: CurlError = klass.__new__(klass)
            error.args = (message,)
            error._info = error._facts = info
            error._url, error._method = url, method
        else:
            error = klass._made(code, message, info, None, url, method)
            if klass._family is not family:
                error._given_family = family
        if history:
            error.history = history
        if record.get("client") is True:
            error._client = True
        return error

    def explain(self, lang: str | None = None) -> str:
        """The long form: what happened, the context the handle reported, and what to do.

        `lang` picks the language (``"zh"``); by default the one `curlx.set_language()` chose,
        English unless it was called. The first line stays English in every language.
        """
        return _explain.explain_error(self, lang)

    def __str__(self) -> str:
        return f"{_explain.headline(self)}\n{self.hint}"

    def __repr__(self) -> str:
        url = self.url
        where = f", url={url!r}" if url else ""
        return f"{type(self).__name__}({self.code!r}, {self.message!r}{where})"

    def __reduce__(self) -> tuple[Any, ...]:
        self._freeze()  # a pickle carries the facts, never the handle
        state = {k: v for k, v in self.__dict__.items() if k != "_source"}
        return (_restore, (type(self), self.args, state))


def _plain(value: object) -> object:
    """A TransferInfo field as JSON has it (an enum member as its number)."""
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _class_named(name: object) -> type[CurlError] | None:
    """The CurlError subclass with that name, among those defined (curlx's own and any)."""
    if not isinstance(name, str):
        return None
    pending: list[type[CurlError]] = [CurlError]
    while pending:
        klass = pending.pop()
        if klass.__name__ == name:
            return klass
        pending.extend(klass.__subclasses__())
    return None


def _lookup(family: Family, number: int) -> _Code | int:
    """The table's member for `number` in `family`, or the number itself if it is unknown."""
    enum_cls = _ENUM_OF_FAMILY.get(family)
    member = enum_cls.lookup(number) if enum_cls is not None else None
    return number if member is None else member


# --- the category classes ---------------------------------------------------------------------


class NetworkError(CurlError):
    """The network or the peer's transport failed after the transfer started."""

    _category = Category.NETWORK


class DNSError(NetworkError):
    """A host name (the server's or the proxy's) could not be resolved."""

    _category = Category.DNS


class ConnectError(NetworkError, builtins.ConnectionError):
    """No connection could be made to the host or the proxy."""

    _category = Category.CONNECT


class TimeoutError(CurlError, builtins.TimeoutError):
    """A time limit ran out (also a `builtins.TimeoutError`)."""

    _category = Category.TIMEOUT


class SSLError(CurlError):
    """TLS could not be set up or used: handshake, local certificate, key or CA file problems."""

    _category = Category.TLS


class CertificateError(SSLError):
    """The peer's certificate was refused: untrusted, expired, wrong host or pinned key."""

    _category = Category.CERTIFICATE


class ProxyError(CurlError):
    """The proxy could not be resolved, failed its handshake or refused the request."""

    _category = Category.PROXY


class ProtocolError(CurlError):
    """The peer broke the protocol: an unparsable reply, a truncated body, a bad encoding."""

    _category = Category.PROTOCOL


class HTTPError(CurlError):
    """An HTTP-level failure: an error status or too many redirects."""

    _category = Category.HTTP


class HTTPStatusError(HTTPError):
    """The server answered with an HTTP error status (4xx or 5xx).

    `status_code` is the status; `response` is the whole `Response` when the error came from
    `Response.raise_for_status()` (None when libcurl's FAILONERROR stopped the transfer).
    """

    _category = Category.HTTP_STATUS
    response: Response | None = None

    @property
    def status_code(self) -> int:
        """The HTTP status the server answered with (0 if unknown)."""
        if self.response is not None:
            return self.response.status_code
        facts = self._facts
        if facts is not None and facts.response_code:
            return facts.response_code
        return _status_from_message(self.message)


_STATUS_IN_MESSAGE: Final = re.compile(r"returned error: (\d{3})")


def _status_from_message(message: str) -> int:
    """The status in libcurl's FAILONERROR message ("...returned error: 404"), or 0."""
    match = _STATUS_IN_MESSAGE.search(message)
    return int(match.group(1)) if match else 0


class FTPError(CurlError):
    """An FTP command or data connection failed."""

    _category = Category.FTP


class TFTPError(CurlError):
    """A TFTP transfer failed."""

    _category = Category.TFTP


class SSHError(CurlError):
    """An SCP or SFTP session failed."""

    _category = Category.SSH


class LDAPError(CurlError):
    """An LDAP bind or search failed."""

    _category = Category.LDAP


class RTSPError(CurlError):
    """An RTSP session or sequence check failed."""

    _category = Category.RTSP


class RemoteError(CurlError):
    """The server refused the operation on the resource: access denied, not found, disk full."""

    _category = Category.REMOTE


class AuthError(CurlError):
    """The server refused the credentials, or no offered authentication method worked."""

    _category = Category.AUTH


class UsageError(CurlError, ValueError):
    """The request or the call is wrong (bad URL, option, argument); retrying cannot help."""

    _category = Category.USAGE


class InvalidURL(UsageError):
    """The URL could not be parsed or is not acceptable."""

    _category = Category.URL


class LocalIOError(CurlError):
    """Reading the data to send or writing the data received failed on this side."""

    _category = Category.LOCAL_IO


class LimitExceeded(CurlError):
    """A size limit was exceeded: the file, the headers or another part was too large."""

    _category = Category.LIMIT


class CallbackError(CurlError):
    """An application callback asked libcurl to stop the transfer."""

    _category = Category.CALLBACK


class InternalError(CurlError):
    """libcurl or the system broke: out of memory, failed initialisation, an unusable poll."""

    _category = Category.INTERNAL


class _CodelessError(UsageError):
    """A usage error found before libcurl ran: ``args == (message,)`` and `code` is None."""

    hint_text: ClassVar[str] = ""
    """What to do, for the second line of the message (codeless errors have no table entry)."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(None, message, **context)
        self.args = (message,)


class InvalidOperation(_CodelessError, RuntimeError):
    """A call the handle or Session cannot take in its state (closed, or busy in a transfer).

    For example calling `perform()` on a pycurl handle after `close()`, or using a Session
    after `close()`. Its `args` is ``(message,)``, as pycurl raises it, and its `code` is None.
    """

    hint_text = (
        "The handle or Session cannot take this call now: it is closed, busy in another call "
        "or thread, or was given an argument it cannot take. Create a new one, or make the "
        "call after the running transfer has returned."
    )


class InvalidRequest(_CodelessError):
    """A request curlx refused before sending it: a bad header, method, URL or argument.

    For example a header value containing CR or LF. The message names the field and what to
    change; `code` is None because libcurl never saw the request.
    """

    hint_text = "Nothing was sent. Change the value the message names, then send it again."


class InvalidSetting(InvalidRequest):
    """A setting was given a value it cannot take: ``Retry(total=-1)``, ``Timeout(read=0)``.

    Raised where the policy, timeout or crawl is configured, before any request exists.
    """

    hint_text = (
        "A setting holds a value it cannot take. Change it where it is configured (the message "
        "names the setting and the values it accepts); no request was made with it."
    )


# --- the family classes: numbers of these families never mix with CURLcode numbers ----------


class MultiError(CurlError):
    """A multi-interface call failed (a CURLMcode)."""

    _family = Family.MULTI


class ShareError(CurlError):
    """A share-interface call failed (a CURLSHcode)."""

    _family = Family.SHARE


class URLError(CurlError):
    """The URL API refused a URL or a part of it (a CURLUcode)."""

    _family = Family.URL


CLASS_OF_CATEGORY[Category.RETIRED] = InternalError
CLASS_OF_CATEGORY[Category.OK] = CurlError
CLASS_OF_CATEGORY[Category.UNKNOWN] = CurlError
CLASS_OF_FAMILY[Family.EASY] = CurlError
