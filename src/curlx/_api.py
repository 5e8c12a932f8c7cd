"""Module-level requests: `curlx.get(url)` and friends, each a one-shot use of a Session.

The Sessions behind them are pooled (one per concurrent caller), so consecutive calls reuse
connections, DNS answers and TLS sessions as a Session would. They keep no cookies between
calls: each call sends only the cookies it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from ._models import Response
from ._session import Session

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request"]

_POOL_LIMIT: Final = 8  # idle Sessions kept; more concurrent callers get fresh ones
_idle: list[Session] = []
_idle_lock = threading.Lock()


@contextmanager
def _one_shot(allowed_protocols: Any) -> Iterator[Session]:
    """An idle pooled Session (or a new one); back to the pool afterwards."""
    if allowed_protocols is not None:
        session = Session(allowed_protocols=allowed_protocols, _cookie_engine=False)
        try:
            yield session
        finally:
            session.close()
        return
    with _idle_lock:
        pooled = _idle.pop() if _idle else None
    session = pooled if pooled is not None else Session(_cookie_engine=False)
    try:
        yield session
    finally:
        with _idle_lock:
            keep = len(_idle) < _POOL_LIMIT
            if keep:
                _idle.append(session)
        if not keep:
            session.close()


def request(method: str, url: str, *, allowed_protocols: Any = None, **kwargs: Any) -> Response:
    """Send one request with a pooled Session; keywords as for `Session.request()`.

    ```python
    r = curlx.get("https://example.org/", params={"q": "x"}, timeout=5)
    r.raise_for_status()
    ```
    """
    with _one_shot(allowed_protocols) as session:
        return session.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> Response:
    """GET `url`: ``curlx.get(url, params=..., headers=..., timeout=...)``."""
    return request("GET", url, **kwargs)


def head(url: str, **kwargs: Any) -> Response:
    """HEAD `url` (redirects are not followed unless follow_redirects=True)."""
    kwargs.setdefault("follow_redirects", False)
    return request("HEAD", url, **kwargs)


def options(url: str, **kwargs: Any) -> Response:
    """OPTIONS `url`."""
    return request("OPTIONS", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    """POST `url` with data=, json= or files=."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> Response:
    """PUT `url`."""
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> Response:
    """PATCH `url`."""
    return request("PATCH", url, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """DELETE `url`."""
    return request("DELETE", url, **kwargs)
