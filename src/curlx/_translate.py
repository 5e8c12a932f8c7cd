"""Choosing the exception class for a code, refined by what the handle saw; finding codes by name.

`error_from_code()` is the one place a number becomes an exception: the easy path, the multi
path (`info_read()`) and the share path all call it. A code's class comes from the table; a few
codes are then refined from the handle's getinfo values (the message text is only a fallback when
no handle was given): a timeout before or after the request was sent, an HTTP status class, and a
CONNECT refused by an HTTP proxy.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from . import _code_errors as _ce
from ._codes import (
    ALIASES,
    SOURCE_COMPAT_ONLY,
    Category,
    CurlCode,
    Family,
    ProxyCode,
    RetryKind,
    _Code,
    all_codes,
)
from ._exceptions import (
    _ENUM_OF_FAMILY,
    CLASS_OF_CATEGORY,
    CLASS_OF_CODE,
    CLASS_OF_FAMILY,
    CurlError,
    DNSError,
    HTTPStatusError,
    ProtocolError,
    ProxyError,
    _lookup,
    _status_from_message,
)
from ._http import FINAL_SERVER_STATUSES, RETRYABLE_CLIENT_STATUSES, parse_retry_after
from ._info import TransferInfo

if TYPE_CHECKING:
    from ._models import Response

__all__ = [
    "REFINED_CLASSES",
    "ConnectTimeout",
    "HTTPClientError",
    "HTTPServerError",
    "NotHTTPResponse",
    "ProxyTunnelRefused",
    "ReadTimeout",
    "ResolveTimeout",
    "code_for",
    "error_class",
    "error_from_code",
    "status_error",
]


# --- refined classes: same code, more precise meaning -----------------------------------------


class ConnectTimeout(_ce.OperationTimedout):
    """Time ran out before the request was sent: while connecting or during the TLS handshake."""

    situation = "Time ran out before the request was sent (connect or TLS handshake)."
    _own_retry = RetryKind.SAFE


class ResolveTimeout(ConnectTimeout, DNSError):
    """Time ran out while resolving the host name, before any connection was tried."""

    situation = "Time ran out while resolving the host name."


class ReadTimeout(_ce.OperationTimedout):
    """Time ran out after the request was sent: no progress, or the total time limit passed."""

    situation = "Time ran out after the request was sent, waiting for the server."
    _own_retry = RetryKind.IDEMPOTENT


class HTTPClientError(_ce.HTTPReturnedError):
    """The server answered with a 4xx status: the request must change before it can succeed."""

    _own_retry = RetryKind.NEVER
    _status_retry = ((RETRYABLE_CLIENT_STATUSES, RetryKind.IDEMPOTENT),)


class HTTPServerError(_ce.HTTPReturnedError):
    """The server answered with a 5xx status: it failed to handle a request that may be valid."""

    _own_retry = RetryKind.IDEMPOTENT
    _status_retry = ((FINAL_SERVER_STATUSES, RetryKind.NEVER),)


class ProxyTunnelRefused(_ce.CouldntConnect, ProxyError):
    """An HTTP proxy answered the CONNECT request with an error status (403, 407, 502...).

    Nothing reached the server behind the proxy: a proxy failing (5xx) is worth another try.
    """

    _category = Category.PROXY
    situation = "The HTTP proxy refused to open a tunnel (see the CONNECT status)."
    _own_retry = RetryKind.NEVER
    _status_retry = ((range(500, 600), RetryKind.SAFE),)

    @property
    def status_code(self) -> int:
        """The status the proxy answered CONNECT with."""
        facts = self._facts
        return facts.http_connect_code if facts is not None else 0


class NotHTTPResponse(_ce.UnsupportedProtocol, ProtocolError):
    """The server answered with something that is not an HTTP response.

    libcurl reports it as code 1 ("Received HTTP/0.9 when not allowed"): the request was sent
    and the reply had no status line. It is the peer's fault, not a usage error, and a fixed
    property of that server (curl's own --retry does not count it as transient), so it is
    never retried. Still an `UnsupportedProtocol`, so ``except error_class(1)`` catches it.
    """

    _category = Category.PROTOCOL
    situation = "The server's reply did not start with an HTTP status line (code 1 here)."
    _own_retry = RetryKind.NEVER


# --- refinement rules --------------------------------------------------------------------------
# Each rule picks the class from the facts read when the transfer ended, or, with no handle,
# from libcurl's message. The facts hold on fresh and reused connections alike: libcurl counts
# the request bytes it wrote (CURLINFO_REQUEST_SIZE) from 0 in every transfer, while the name
# lookup and connect times stay 0 on a reused connection, where neither happened.


def _timeout_class(message: str, facts: TransferInfo | None) -> type[CurlError]:
    if facts is not None:
        if facts.request_sent:
            return ReadTimeout
        if facts.namelookup_time > 0 or facts.connect_time > 0 or facts.primary_ip:
            return ConnectTimeout  # resolved (or on a kept-alive connection), nothing sent
        return ResolveTimeout
    lowered = message.lower()
    if lowered.startswith("resolving timed out"):
        return ResolveTimeout
    if lowered.startswith(("connection timed out", "failed to connect")):
        return ConnectTimeout
    return ReadTimeout


def _status_class(message: str, facts: TransferInfo | None) -> type[CurlError]:
    status = facts.response_code if facts is not None and facts.response_code else 0
    status = status or _status_from_message(message)
    if 400 <= status < 500:
        return HTTPClientError
    if status >= 500:
        return HTTPServerError
    return _ce.HTTPReturnedError


def _connect_class(message: str, facts: TransferInfo | None) -> type[CurlError]:
    if facts is not None:
        return ProxyTunnelRefused if facts.http_connect_code >= 300 else _ce.CouldntConnect
    return ProxyTunnelRefused if "CONNECT tunnel failed" in message else _ce.CouldntConnect


def _protocol_class(message: str, facts: TransferInfo | None) -> type[CurlError]:
    # The request went out and no status came back: the reply was not HTTP. (A refused or
    # unknown scheme sends nothing; a redirect to a refused scheme has the redirect's status.)
    if facts is None:
        garbage = "HTTP/0.9" in message
    else:
        garbage = facts.request_sent and facts.response_code == 0
    return NotHTTPResponse if garbage else _ce.UnsupportedProtocol


_REFINE: Final[Mapping[_Code, Callable[[str, TransferInfo | None], type[CurlError]]]] = {
    CurlCode.UNSUPPORTED_PROTOCOL: _protocol_class,
    CurlCode.OPERATION_TIMEDOUT: _timeout_class,
    CurlCode.HTTP_RETURNED_ERROR: _status_class,
    CurlCode.COULDNT_CONNECT: _connect_class,
}


REFINED_CLASSES: Final[Mapping[_Code, tuple[type[CurlError], ...]]] = {
    CurlCode.UNSUPPORTED_PROTOCOL: (NotHTTPResponse,),
    CurlCode.OPERATION_TIMEDOUT: (ConnectTimeout, ResolveTimeout, ReadTimeout),
    CurlCode.HTTP_RETURNED_ERROR: (HTTPClientError, HTTPServerError),
    CurlCode.COULDNT_CONNECT: (ProxyTunnelRefused,),
}
"""The classes below a code's own class that its refinement rule can choose, for `explain`."""


def _class_of_member(member: _Code) -> type[CurlError]:
    cls = CLASS_OF_CODE.get((member.family, member.value))
    if cls is not None:
        return cls
    if member.family is not Family.EASY:
        # Families with no class of their own (the header API's CURLHcode) keep the base.
        return CLASS_OF_FAMILY.get(member.family, CurlError)
    return CLASS_OF_CATEGORY[member.category]


# The easy family by plain number, for the error path: the refined codes by their rule, every
# other known code by its class (a dict lookup instead of an enum lookup per error).
_REFINE_BY_NUMBER: Final = {int(member): rule for member, rule in _REFINE.items()}
_EASY_CLASSES: Final[dict[int, type[CurlError]]] = {
    int(member): _class_of_member(member) for member in CurlCode if member not in _REFINE
}


def class_for(
    number: int, message: str, facts: TransferInfo | None, family: Family
) -> type[CurlError]:
    """The class for `number` of `family`, refined from `facts` where the code needs it.

    An unknown number (a libcurl newer than this table) gives the family's base class.
    """
    if family is Family.EASY:
        cls = _EASY_CLASSES.get(number)
        if cls is not None:
            return cls
        refine = _REFINE_BY_NUMBER.get(number)
        if refine is not None:
            return refine(message, facts)
    member = _lookup(family, number)
    if not isinstance(member, _Code):
        return CLASS_OF_FAMILY.get(family, CurlError)
    return _class_of_member(member)


def error_from_code(
    number: int,
    message: str,
    *,
    family: Family = Family.EASY,
    url: str | None = None,
    method: str | None = None,
    info: TransferInfo | None = None,
    client: bool = False,
) -> CurlError:
    """The typed error for `number` of `family`, refined from `info` where the code needs it.

    An unknown number (a libcurl newer than this table) gives the family's base class, which
    keeps the number. `client`: made by a curlx client (its hint names the client's keywords).
    """
    cls = class_for(number, message, info, family)
    error = cls._made(number, message, info, None, url, method)
    if cls._family is not family:
        error._given_family = family
    if client:
        error._client = True
    return error


# --- finding codes by number or name ------------------------------------------------------------


def _names() -> dict[str, _Code]:
    """Every accepted spelling: libcurl names with and without prefix, and old aliases."""
    names: dict[str, _Code] = {}
    for member in all_codes():
        names.setdefault(member.libcurl_name, member)
    for alias, member in ALIASES.items():
        names.setdefault(alias, member)
    # Short names last, so that an easy code wins a short name shared with another family.
    for member in all_codes():
        names.setdefault(member.name, member)
    for alias, member in ALIASES.items():
        names.setdefault(alias.split("_", 1)[1], member)
    return names


_BY_NAME: Final[dict[str, _Code]] = _names()


def code_for(key: int | str, family: Family = Family.EASY) -> _Code:
    """The table's entry for a number (of `family`), a libcurl name or an old alias.

    Names are case-insensitive, with or without their prefix (``CURLE_``, ``CURLM_``...); a
    string of digits counts as a number. Raises LookupError naming the closest real names.
    """
    if isinstance(key, str):
        text = key.strip().upper().replace("-", "_")
        if text.lstrip("-").isdigit():
            key = int(text)
        else:
            found = _BY_NAME.get(text)
            if found is not None:
                return found
            if text in SOURCE_COMPAT_ONLY or "CURLE_" + text in SOURCE_COMPAT_ONLY:
                raise LookupError(
                    f"{key!r} is defined by libcurl only for source compatibility and is "
                    "never returned by any transfer."
                )
            close = difflib.get_close_matches(text, _BY_NAME, n=8, cutoff=0.6)
            names = list(dict.fromkeys(_BY_NAME[name].libcurl_name for name in close))[:3]
            suggestion = f" Did you mean {', '.join(names)}?" if names else ""
            raise LookupError(
                f"{key!r} is not a libcurl code name.{suggestion} "
                "Run `curlx explain --list` to see them all."
            )
    enum_cls = _ENUM_OF_FAMILY[family]
    member = enum_cls.lookup(key)
    if member is None:
        numbers = [int(m) for m in enum_cls]
        raise LookupError(
            f"{key!r} is not a {family.value} number known to curlx "
            f"({min(numbers)}..{max(numbers)}); a newer libcurl may define it."
        )
    return member


def error_class(key: int | str, family: Family = Family.EASY) -> type[CurlError]:
    """The exception class raised for a code: ``error_class(60)``, ``error_class("SSL_CACERT")``.

    Use it to catch one precise code: ``except curlx.error_class("CURLE_GOT_NOTHING"):``. It
    catches every error of that code, refined ones included (`ReadTimeout` is an
    `OperationTimedout`). A member of any family (``e.code``) is looked up in its own family.
    """
    if isinstance(key, _Code):
        family = key.family
    return _class_of_member(code_for(key, family))


def status_error(response: Response) -> CurlError:
    """The `HTTPClientError` or `HTTPServerError` for a response with an error status.

    Code 22, as libcurl's FAILONERROR gives, so both paths are caught and counted alike.
    """
    reason = response.reason
    message = f"{response.status_code} {reason}" if reason else f"HTTP {response.status_code}"
    info = response.info._replace(
        response_code=response.status_code,
        retry_after=parse_retry_after(response.headers.get("retry-after", "")) or 0.0,
    )
    error = error_from_code(
        int(CurlCode.HTTP_RETURNED_ERROR),
        message,
        url=response.url,
        method=response.method,
        info=info,
        client=True,
    )
    if isinstance(error, HTTPStatusError):
        error.response = response
    return error


def proxy_detail(number: int) -> ProxyCode | int:
    """The CURLPX member for a proxy detail number, or the number if it is unknown."""
    member = _lookup(Family.PROXY, number)
    return member if isinstance(member, ProxyCode) else number
