"""The languages curlx explains errors in: message catalogs, choosing one, English as fallback.

The English code table is the source text. Each other language is a gettext catalog,
``curlx/locale/<name>/LC_MESSAGES/curlx.po``, whose msgids are the table's English texts and the
fixed words of `curlx explain`; scripts/i18n.py extracts them and compiles the ``.mo`` read here.
Adding a language is adding a catalog: no code lists the languages (a few tags of Simplified
Chinese have aliases below).

English needs no catalog and no lookup (`str(e)` stays English, at full speed, unless
`curlx.set_language()` asks otherwise). A catalog is read on its first use; a language curlx
has no catalog for falls back to English.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._codes import Category, RetryKind, _Code

if TYPE_CHECKING:
    import gettext

__all__ = ["Language"]

DOMAIN: Final = "curlx"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
ENGLISH_NAME: Final = "en"
LOCALE_VARIABLES: Final = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
"""Where the environment names the language of messages, in the order gettext reads them."""

# Tags that name a catalog by another name: Simplified Chinese is written many ways. Applied to
# the whole tag only, so that zh_TW (Traditional) never gets the Simplified catalog.
_ALIASES: Final[Mapping[str, str]] = {
    "zh": "zh_cn",
    "zh_hans": "zh_cn",
    "zh_hans_cn": "zh_cn",
    "zh_sg": "zh_cn",
    "zh_hans_sg": "zh_cn",
}


class Language:
    """The texts of one language: the table's summaries and explanations, the retry advice,
    the category names and the fixed words of explain. English passes every text through.

    Get one with `curlx.language("zh")`; ``lang.summary(curlx.CurlCode(60))``.
    """

    __slots__ = ("_catalog", "name")

    def __init__(self, name: str, catalog: gettext.NullTranslations | None = None) -> None:
        self.name = name
        """``"en"`` or the catalog's name, such as ``"zh_CN"``."""
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"Language({self.name!r})"

    @property
    def english(self) -> bool:
        """True for English, the table's own language (no catalog)."""
        return self._catalog is None

    def gettext(self, message: str) -> str:
        """`message` (an English msgid) in this language; the English if it has no entry."""
        catalog = self._catalog
        if catalog is None or not message:  # gettext("") is the catalog's header
            return message
        return catalog.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        """Like `gettext`, for a short word whose meaning depends on `context`."""
        catalog = self._catalog
        return message if catalog is None else catalog.pgettext(context, message)

    def summary(self, code: _Code) -> str:
        """The code's one-line summary."""
        return self.gettext(code.summary)

    def explanation(self, code: _Code, client: bool = False) -> str:
        """The code's "what to do" text; with `client`, in the words of curlx's clients
        where the table has them (`ForClients`)."""
        return self.gettext(code.what_to_do(client))

    def advice(self, kind: RetryKind) -> str:
        """The sentence saying whether a retry can help."""
        return self.gettext(kind.advice)

    def category(self, category: Category) -> str:
        """The category's name (``"certificate"`` in English, its value)."""
        return self.pgettext("category", category.value)

    def retry(self, kind: RetryKind) -> str:
        """The retry hint's name (``"safe"`` in English, its value)."""
        return self.pgettext("retry", kind.value)


ENGLISH: Final = Language(ENGLISH_NAME)

_lock = threading.Lock()
_loaded: dict[str, Language] = {}
_catalogs: dict[str, str] | None = None  # lower-case name -> name, read once


def available() -> dict[str, str]:
    """The catalogs installed with curlx, by lower-case name (``{"zh_cn": "zh_CN"}``)."""
    global _catalogs
    if _catalogs is None:
        found = {}
        if LOCALE_DIR.is_dir():
            for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"):
                name = path.parent.parent.name
                found[name.lower()] = name
        _catalogs = found
    return _catalogs


def _normalize(tag: str) -> str:
    """``zh-Hans.UTF-8@x`` -> ``zh_hans``: no encoding or modifier, ``_`` between parts."""
    tag = tag.strip().split("@", 1)[0].split(".", 1)[0]
    return tag.replace("-", "_").lower()


def find(tag: str) -> str | None:
    """The language `tag` names among curlx's: ``"en"``, a catalog's name, or None if none.

    Accepts locale names and language tags (``zh``, ``zh_CN.UTF-8``, ``zh-Hans``); ``C`` and
    ``POSIX`` are English. A region curlx has no catalog for falls back to the language's own
    catalog (``de_AT`` -> ``de``), or to its only one when the tag names no region.
    """
    key = _normalize(tag)
    if not key:
        return None
    if key in ("c", "posix") or key.split("_", 1)[0] == "en":
        return ENGLISH_NAME
    catalogs = available()
    key = _ALIASES.get(key, key)
    parts = key.split("_")
    for end in range(len(parts), 0, -1):
        name = catalogs.get("_".join(parts[:end]))
        if name is not None:
            return name
    if len(parts) == 1:
        same = [name for low, name in catalogs.items() if low.split("_", 1)[0] == key]
        if len(same) == 1:
            return same[0]
    return None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for: CURLX_LANG, else the first of LANGUAGE (a
    ``:``-separated list), LC_ALL, LC_MESSAGES, LANG that is set; English if curlx lacks it."""
    env = os.environ if environ is None else environ
    tags = env.get("CURLX_LANG", "")
    if not tags or tags == "auto":
        tags = next((env[var] for var in LOCALE_VARIABLES if env.get(var)), "")
    for tag in tags.split(":"):
        name = find(tag)
        if name is not None:
            return name
    return ENGLISH_NAME


def _load(name: str) -> Language:
    import gettext

    with _lock:
        loaded = _loaded.get(name)
        if loaded is None:
            path = LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.mo"
            with path.open("rb") as fp:
                loaded = _loaded[name] = Language(name, gettext.GNUTranslations(fp))
        return loaded


def lookup(lang: str) -> Language | None:
    """The catalog for `lang`, or None for English and for languages curlx lacks.

    ``"auto"`` asks the environment (`from_environment`).
    """
    name = from_environment() if lang == "auto" else find(lang)
    if name is None or name == ENGLISH_NAME:
        return None
    loaded = _loaded.get(name)
    return loaded if loaded is not None else _load(name)


def width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (CJK) characters count two."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns` terminal columns (`str.ljust` by display width)."""
    return text + " " * (columns - width(text))


def rjust(text: str, columns: int) -> str:
    """`text` right-aligned in `columns` terminal columns."""
    return " " * (columns - width(text)) + text
