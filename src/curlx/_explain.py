"""Text for people, rendered from the code table: error messages, `explain()`, `curlx explain`."""

from __future__ import annotations

import errno as _errno
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._codes import Family, ProxyCode, RetryKind, _Code

if TYPE_CHECKING:
    from ._exceptions import CurlError
    from ._info import TransferInfo

__all__ = ["explain_error", "headline", "hint_line", "render_code", "retry_rule"]

_NO_CODE_HINT = "pycurl refused the call before libcurl ran; see the message for why."
_UNKNOWN_HINT = (
    "This libcurl is newer than curlx's table of codes; look the number up in libcurl's list "
    "of error codes (libcurl-errors) and consider upgrading curlx."
)


def reference(code: _Code | int, family: Family) -> str:
    """What to type after `curlx explain` for this code."""
    if family is Family.EASY or not isinstance(code, _Code):
        return str(int(code))
    return code.libcurl_name


def headline(error: CurlError) -> str:
    """Line 1: ``NAME (curl error N) for METHOD URL: libcurl's text``."""
    code = error.code
    where = ""
    if error.url:
        where = f" for {error.method} {error.url}" if error.method else f" for {error.url}"
    if code is None:
        return f"{type(error).__name__}{where}: {error.message}"
    short = code.name if isinstance(code, _Code) else f"UNKNOWN_{code}"
    return f"{short} ({error.family.label} {int(code)}){where}: {error.message}"


def _retry_sentence(error: CurlError) -> str:
    hint = error.retry
    sentence = hint.kind.advice
    if hint.after is not None and hint.kind is not RetryKind.NEVER:
        sentence += f" The server asked to wait {hint.after:g} s (Retry-After)."
    return sentence


def _what_to_do(error: CurlError) -> str:
    code = error.code
    if code is None:
        text = getattr(error, "hint_text", "")
        return text if isinstance(text, str) and text else _NO_CODE_HINT
    if not isinstance(code, _Code):
        return _UNKNOWN_HINT
    detail = error.proxy_code
    if isinstance(detail, ProxyCode):
        return f"{detail.libcurl_name}: {detail.explanation}"
    situation = error.situation
    return f"{situation} {code.explanation}" if situation else code.explanation


def hint_line(error: CurlError) -> str:
    """Line 2: what to do, whether a retry can help, and ``See: curlx explain N``."""
    text = f"Hint: {_what_to_do(error)} {_retry_sentence(error)}"
    code = error.code
    if code is None:
        return text
    return f"{text} See: curlx explain {reference(code, error.family)}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def describe_info(info: TransferInfo) -> list[str]:
    """The facts a handle reported, as short lines (empty facts are left out)."""
    lines: list[str] = []
    if info.primary_ip:
        lines.append(f"peer {info.primary_ip} port {info.primary_port}")
    # libcurl also stamps the later phases on transfers that never connected: skip those.
    phases = [("resolved", info.namelookup_time), ("connected", info.connect_time)]
    if info.connect_time > 0:
        phases += [("TLS done", info.appconnect_time), ("first byte", info.starttransfer_time)]
    reached = [f"{label} {_ms(t)}" for label, t in phases if t > 0]
    reached.append(f"ended {_ms(info.total_time)}")
    lines.append("times: " + ", ".join(reached))
    if info.os_errno:
        name = _errno.errorcode.get(info.os_errno, "?")
        lines.append(f"OS error {name} ({info.os_errno})")
    if info.response_code:
        lines.append(f"response status {info.response_code}")
    if info.http_connect_code:
        lines.append(f"proxy answered CONNECT with {info.http_connect_code}")
    if info.proxy_error:
        detail = info.proxy_error
        label = detail.libcurl_name if isinstance(detail, ProxyCode) else str(detail)
        lines.append(f"proxy detail {label}")
    if info.ssl_verify_result:
        lines.append(f"TLS verify result {info.ssl_verify_result}")
    if info.redirect_count:
        lines.append(f"after {info.redirect_count} redirects")
    lines.append(
        f"request bytes {info.request_size}, body bytes sent {info.size_upload}, "
        f"received {info.size_download}"
    )
    return lines


def explain_error(error: CurlError) -> str:
    """The long form of an error: the headline, the table's entry and the transfer's facts."""
    lines = [headline(error), ""]
    code = error.code
    if isinstance(code, _Code):
        lines.append(f"What happened: {code.summary}")
    lines.append(f"What to do:    {_what_to_do(error)}")
    lines.append(f"Retry:         {error.retry.kind.value}. {_retry_sentence(error)}")
    lines.append(f"Category:      {error.category.value} (catch curlx.{type(error).__name__})")
    if error.info is not None:
        facts = describe_info(error.info)
        lines.append("Transfer:      " + facts[0])
        lines.extend("               " + fact for fact in facts[1:])
    if code is not None:
        lines.append(f"See:           curlx explain {reference(code, error.family)}")
    return "\n".join(lines)


def retry_rule(cls: type[CurlError]) -> str:
    """A refined class's retry hint in words: ``never; idempotent for 408, 425, 429``."""
    own = cls._own_retry
    text = own.value if own is not None else ""
    for statuses, kind in cls._status_retry:
        if isinstance(statuses, range) and statuses.step == 1 and len(statuses) == 100:
            which = f"{statuses.start // 100}xx"
        else:
            which = ", ".join(str(s) for s in sorted(statuses))  # type: ignore[call-overload]
        text += f"; {kind.value} for {which}"
    return text


def render_refinements(base: str | None, classes: Sequence[type[CurlError]]) -> list[str]:
    """Lines naming the classes a code's errors are refined into, each with its own hint."""
    if not classes:
        return []
    also = f"curlx.{base}" if base else "the code's own class"
    lines = ["", f"Refined by what the handle saw (each one is also a {also}):"]
    for cls in classes:
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        rule = retry_rule(cls)
        lines.append(f"  curlx.{cls.__name__} ({cls._category.value}; retry {rule})")
        lines.append(f"      {summary}")
    return lines


def render_code(
    code: _Code,
    class_name: str | None,
    aliases: list[str],
    refined: Sequence[type[CurlError]] = (),
) -> str:
    """The entry of `curlx explain`: everything the table knows about one code, and the
    classes its errors are refined into (with their own category and hint)."""
    lines = [
        f"{code.libcurl_name} ({code.family.label} {int(code)}, since libcurl {code.since})",
        f"  {code.summary}",
        "",
        f"What to do: {code.explanation}",
        f"Retry:      {code.retry.value}. {code.retry.advice}",
        "Category:   " + ", ".join(c.value for c in code.categories),
    ]
    if class_name:
        lines.append(f"Raised as:  curlx.{class_name}")
    if aliases:
        lines.append("Old names:  " + ", ".join(aliases))
    lines += render_refinements(class_name, refined)
    return "\n".join(lines)
