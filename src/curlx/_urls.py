"""Removing credentials from URLs and messages before they reach a log or a traceback."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["HTTP_SCHEMES", "redact_text", "redact_url"]

# URL prefixes of the protocols that have a request method (HTTP and WebSocket).
HTTP_SCHEMES: Final = ("http://", "https://", "ws://", "wss://")

# The authority runs from "//" to the next "/", "?" or "#"; its userinfo ends at its last "@".
_USERINFO_AT_START: Final = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)?[^/?#\s]*@")
_USERINFO_ANYWHERE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s@]*(?:@[^/?#\s@]*)*@")


def redact_url(url: str) -> str:
    """`url` without its ``user:password@`` part; anything else is left as it was.

    Works on URLs libcurl accepts without a scheme (``user:pw@host/path``) as well.
    """
    if "@" not in url:
        return url
    return _USERINFO_AT_START.sub(lambda m: m.group(1) or "", url, count=1)


def redact_text(text: str) -> str:
    """`text` with the userinfo of every ``scheme://user:pw@host`` URL inside it removed."""
    if "@" not in text:
        return text
    return _USERINFO_ANYWHERE.sub(r"\1", text)
