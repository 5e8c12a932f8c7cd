"""Text for people, rendered from the code table: error messages, `explain()`, `curlx explain`.

English is the table's own text. The other languages come from `_i18n`'s catalogs: every fixed
English string below that goes through ``t.gettext()`` is a msgid (scripts/i18n.py extracts
them), and the first line of `str(e)` (code name, URL, libcurl's message) stays English in every
language, so it can be searched for. `hint_line` keeps a path of its own for English, with no
catalog call, because it runs for every `str(e)`.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import _i18n
from ._codes import Family, ProxyCode, RetryKind, _Code
from ._i18n import Language

if TYPE_CHECKING:
    from ._exceptions import CurlError
    from ._info import TransferInfo

__all__ = [
    "explain_error",
    "headline",
    "hint_line",
    "language",
    "render_code",
    "retry_rule",
    "set_language",
]

_NO_CODE_HINT = "pycurl refused the call before libcurl ran; see the message for why."
_UNKNOWN_HINT = (
    "This libcurl is newer than curlx's table of codes; look the number up in libcurl's list "
    "of error codes (libcurl-errors) and consider upgrading curlx."
)
MESSAGES = (_NO_CODE_HINT, _UNKNOWN_HINT)
"""Fixed texts kept in constants, for the catalog (the others are ``t.gettext()`` calls)."""


_default: Language | None = None
"""The language of `str(e)`, `e.hint` and `e.explain()`; None is English (the fast path)."""


def language(lang: str | None = None) -> Language:
    """The texts in `lang` (``"zh"``, ``"zh_CN.UTF-8"``, ``"auto"`` for the environment's).

    None gives the language `set_language()` chose (English unless it was called). A language
    curlx has no catalog for gives English: check ``.name``.
    """
    if lang is None:
        return _default or _i18n.ENGLISH
    return _i18n.lookup(lang) or _i18n.ENGLISH


def set_language(lang: str | None) -> Language:
    """Make `lang` the language of `str(e)`, `e.hint` and `e.explain()` in this process.

    English by default, so that logs stay searchable; ``set_language("zh")`` switches,
    ``set_language(None)`` or ``"en"`` switches back, ``"auto"`` follows the environment
    (CURLX_LANG, LANGUAGE, LC_ALL, LC_MESSAGES, LANG). The first line of `str(e)` stays
    English in every language. Returns the language now in use (English if curlx has no
    catalog for `lang`).
    """
    global _default
    _default = None if lang is None else _i18n.lookup(lang)
    return _default or _i18n.ENGLISH


def _language(lang: str | Language | None) -> Language:
    """The texts for `lang`: None is the process's language (`set_language`)."""
    return lang if isinstance(lang, Language) else language(lang)


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
        return f"{detail.libcurl_name}: {detail.what_to_do(error._client)}"
    situation, text = error.situation, code.what_to_do(error._client)
    return f"{situation} {text}" if situation else text


def _retry_sentence_in(error: CurlError, t: Language) -> str:
    """`_retry_sentence` in the language `t`."""
    hint = error.retry
    sentence = t.advice(hint.kind)
    if hint.after is not None and hint.kind is not RetryKind.NEVER:
        wait = t.gettext("{sentence} The server asked to wait {seconds} s (Retry-After).")
        sentence = wait.format(sentence=sentence, seconds=f"{hint.after:g}")
    return sentence


def _what_to_do_in(error: CurlError, t: Language) -> str:
    """`_what_to_do` in the language `t`."""
    code = error.code
    if code is None:
        text = getattr(error, "hint_text", "")
        return t.gettext(text if isinstance(text, str) and text else _NO_CODE_HINT)
    if not isinstance(code, _Code):
        return t.gettext(_UNKNOWN_HINT)
    detail = error.proxy_code
    if isinstance(detail, ProxyCode):
        text = t.gettext("{name}: {explanation}")
        explanation = t.explanation(detail, error._client)
        return text.format(name=detail.libcurl_name, explanation=explanation)
    situation, explanation = error.situation, t.explanation(code, error._client)
    if not situation:
        return explanation
    text = t.gettext("{situation} {explanation}")
    return text.format(situation=t.gettext(situation), explanation=explanation)


def hint_line(error: CurlError, lang: str | None = None) -> str:
    """Line 2: what to do, whether a retry can help, and ``See: curlx explain N``."""
    t = _default if lang is None else _i18n.lookup(lang)
    if t is not None:
        return _hint_line_in(error, t)
    text = f"Hint: {_what_to_do(error)} {_retry_sentence(error)}"
    code = error.code
    if code is None:
        return text
    return f"{text} See: curlx explain {reference(code, error.family)}"


def _hint_line_in(error: CurlError, t: Language) -> str:
    """`hint_line` in the language `t` (English gives the same text, through the catalog path)."""
    what, retry = _what_to_do_in(error, t), _retry_sentence_in(error, t)
    code = error.code
    if code is None:
        return t.gettext("Hint: {what_to_do} {retry}").format(what_to_do=what, retry=retry)
    text = t.gettext("Hint: {what_to_do} {retry} See: curlx explain {code}")
    return text.format(what_to_do=what, retry=retry, code=reference(code, error.family))


def _ms(seconds: float, t: Language) -> str:
    return t.gettext("{milliseconds} ms").format(milliseconds=f"{seconds * 1000:.1f}")


def _join(items: Sequence[str], t: Language) -> str:
    return t.pgettext("list separator", ", ").join(items)


def describe_info(info: TransferInfo, lang: str | Language | None = None) -> list[str]:
    """The facts a handle reported, as short lines (empty facts are left out)."""
    t = _language(lang)
    lines: list[str] = []
    if info.primary_ip:
        text = t.gettext("peer {ip} port {port}")
        lines.append(text.format(ip=info.primary_ip, port=info.primary_port))
    # libcurl also stamps the later phases on transfers that never connected: skip those.
    phases = [
        (t.gettext("resolved {time}"), info.namelookup_time),
        (t.gettext("connected {time}"), info.connect_time),
    ]
    if info.connect_time > 0:
        phases += [
            (t.gettext("TLS done {time}"), info.appconnect_time),
            (t.gettext("first byte {time}"), info.starttransfer_time),
        ]
    reached = [label.format(time=_ms(s, t)) for label, s in phases if s > 0]
    reached.append(t.gettext("ended {time}").format(time=_ms(info.total_time, t)))
    lines.append(t.gettext("times: {phases}").format(phases=_join(reached, t)))
    if info.os_errno:
        name = _errno.errorcode.get(info.os_errno, "?")
        lines.append(
            t.gettext("OS error {name} ({number})").format(name=name, number=info.os_errno)
        )
    if info.response_code:
        lines.append(t.gettext("response status {status}").format(status=info.response_code))
    if info.http_connect_code:
        text = t.gettext("proxy answered CONNECT with {status}")
        lines.append(text.format(status=info.http_connect_code))
    if info.proxy_error:
        detail = info.proxy_error
        label = detail.libcurl_name if isinstance(detail, ProxyCode) else str(detail)
        lines.append(t.gettext("proxy detail {name}").format(name=label))
    if info.ssl_verify_result:
        text = t.gettext("TLS verify result {number}")
        lines.append(text.format(number=info.ssl_verify_result))
    if info.redirect_count:
        lines.append(t.gettext("after {count} redirects").format(count=info.redirect_count))
    text = t.gettext("request bytes {request}, body bytes sent {sent}, received {received}")
    lines.append(
        text.format(request=info.request_size, sent=info.size_upload, received=info.size_download)
    )
    return lines


def _labels(*texts: str) -> list[str]:
    """The labels padded to one width (terminal columns), followed by a blank indent."""
    columns = max(_i18n.width(text) for text in texts) + 1
    return [_i18n.ljust(text, columns) for text in texts] + [" " * columns]


def _named(t: Language, translated: str, identifier: str) -> str:
    """A translated name followed by the identifier code uses (English: the identifier)."""
    if translated == identifier:
        return identifier
    return t.gettext("{name} ({identifier})").format(name=translated, identifier=identifier)


def explain_error(error: CurlError, lang: str | Language | None = None) -> str:
    """The long form of an error: the headline, the table's entry and the transfer's facts."""
    t = _language(lang)
    happened, what, retry, category, transfer, see, indent = _labels(
        t.gettext("What happened:"),
        t.gettext("What to do:"),
        t.gettext("Retry:"),
        t.gettext("Category:"),
        t.gettext("Transfer:"),
        t.gettext("See:"),
    )
    lines = [headline(error), ""]
    code = error.code
    if isinstance(code, _Code):
        lines.append(happened + t.summary(code))
    lines.append(what + _what_to_do_in(error, t))
    kind = error.retry.kind
    text = t.gettext("{kind}. {advice}")
    lines.append(
        retry
        + text.format(
            kind=_named(t, t.retry(kind), kind.value), advice=_retry_sentence_in(error, t)
        )
    )
    text = t.gettext("{category} (catch curlx.{name})")
    name = _named(t, t.category(error.category), error.category.value)
    lines.append(category + text.format(category=name, name=type(error).__name__))
    if error.info is not None:
        facts = describe_info(error.info, t)
        lines.append(transfer + facts[0])
        lines.extend(indent + fact for fact in facts[1:])
    if code is not None:
        lines.append(see + f"curlx explain {reference(code, error.family)}")
    return "\n".join(lines)


def retry_rule(cls: type[CurlError], lang: str | Language | None = None) -> str:
    """A refined class's retry hint in words: ``never; idempotent for 408, 425, 429``."""
    t = _language(lang)
    own = cls._own_retry
    parts = [t.retry(own)] if own is not None else []
    for statuses, kind in cls._status_retry:
        if isinstance(statuses, range) and statuses.step == 1 and len(statuses) == 100:
            which = f"{statuses.start // 100}xx"
        else:
            which = _join([str(s) for s in sorted(statuses)], t)  # type: ignore[call-overload]
        parts.append(t.gettext("{kind} for {statuses}").format(kind=t.retry(kind), statuses=which))
    return t.pgettext("rule separator", "; ").join(parts)


def render_refinements(
    base: str | None, classes: Sequence[type[CurlError]], lang: str | Language | None = None
) -> list[str]:
    """Lines naming the classes a code's errors are refined into, each with its own hint."""
    if not classes:
        return []
    t = _language(lang)
    if base:
        also = t.gettext("Refined by what the handle saw (each one is also a curlx.{name}):")
    else:
        also = t.gettext("Refined by what the handle saw (each one is also the code's own class):")
    lines = ["", also.format(name=base)]
    for cls in classes:
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        text = t.gettext("  curlx.{name} ({category}; retry {rule})")
        lines.append(
            text.format(
                name=cls.__name__, category=t.category(cls._category), rule=retry_rule(cls, t)
            )
        )
        lines.append("      " + t.gettext(summary))
    return lines


def render_code(
    code: _Code,
    class_name: str | None,
    aliases: list[str],
    refined: Sequence[type[CurlError]] = (),
    lang: str | Language | None = None,
) -> str:
    """The entry of `curlx explain`: everything the table knows about one code, and the
    classes its errors are refined into (with their own category and hint)."""
    t = _language(lang)
    what, retry, category, raised, old, indent = _labels(
        t.gettext("What to do:"),
        t.gettext("Retry:"),
        t.gettext("Category:"),
        t.gettext("Raised as:"),
        t.gettext("Old names:"),
    )
    title = t.gettext("{name} ({family} {number}, since libcurl {version})")
    kind = code.retry
    lines = [
        title.format(
            name=code.libcurl_name,
            family=t.gettext(code.family.label),
            number=int(code),
            version=code.since,
        ),
        "  " + t.summary(code),
        "",
        what + t.explanation(code),
        *(
            [indent + t.gettext("In curlx clients: {explanation}").format(explanation=own)]
            if (own := t.explanation(code, client=True)) != t.explanation(code)
            else []
        ),
        retry
        + t.gettext("{kind}. {advice}").format(
            kind=_named(t, t.retry(kind), kind.value), advice=t.advice(kind)
        ),
        category + _join([_named(t, t.category(c), c.value) for c in code.categories], t),
    ]
    if class_name:
        lines.append(raised + f"curlx.{class_name}")
    if aliases:
        lines.append(old + _join(aliases, t))
    lines += render_refinements(class_name, refined, t)
    return "\n".join(lines)
