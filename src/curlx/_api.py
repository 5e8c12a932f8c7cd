"""Module-level requests: `curlx.get(url)` and friends, each a one-shot use of a Session.

The Sessions behind them are pooled (one per concurrent caller), so consecutive calls reuse
connections, DNS answers and TLS sessions as a Session would. They keep no cookies between
calls: each call sends only the cookies it is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final

from ._models import Response, StreamedResponse
from ._session import Session

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request", "stream"]

_POOL_LIMIT: Final = 8  # idle Sessions kept; more concurrent callers get fresh ones
_idle: list[Session] = []


def request(method: str, url: str, **kwargs: Any) -> Response:
    """Send one request with a pooled Session; keywords as for `Session.request()`.

    ```python
    r = curlx.get("https://example.org/", params={"q": "x"}, timeout=5)
    r.raise_for_status()
    ```
    """
    return _pooled(method, url, kwargs)


@contextlib.contextmanager
def stream(method: str, url: str, **kwargs: Any) -> Iterator[StreamedResponse]:
    """httpx's `httpx.stream()`: a response whose body is read as it arrives, closed when
    the block ends; keywords as for `Session.request()`.

    ```python
    with curlx.stream("GET", url) as r:
        for chunk in r.iter_bytes():
            ...
    ```
    """
    response = _pooled(method, url, {**kwargs, "stream": True})
    try:
        yield response  # type: ignore[misc]
    finally:
        response.close()


def _pooled(method: str, url: str, kwargs: dict[str, Any]) -> Response:
    allowed_protocols = kwargs.pop("allowed_protocols", None)
    if allowed_protocols is not None or kwargs.get("stream"):
        # A streamed body is read after this call returns: its Session is its own (it goes
        # when the response is closed), not one another caller could take from the pool.
        own = Session(
            allowed_protocols=allowed_protocols or ("http", "https"), _cookie_engine=False
        )
        if kwargs.get("stream"):
            return own.request(method, url, **kwargs)
        with own:
            return own.request(method, url, **kwargs)
    try:
        session = _idle.pop()  # list.pop and append are atomic: no lock needed
    except IndexError:
        session = Session(_cookie_engine=False)
    try:
        return session._call(method, url, kwargs)
    finally:
        if len(_idle) < _POOL_LIMIT:
            _idle.append(session)
        else:
            session.close()


def get(url: str, **kwargs: Any) -> Response:
    """GET `url`: ``curlx.get(url, params=..., headers=..., timeout=...)``."""
    return _pooled("GET", url, kwargs)


def head(url: str, **kwargs: Any) -> Response:
    """HEAD `url` (redirects are not followed unless follow_redirects=True)."""
    return _pooled("HEAD", url, kwargs)


def options(url: str, **kwargs: Any) -> Response:
    """OPTIONS `url`."""
    return _pooled("OPTIONS", url, kwargs)


def post(url: str, **kwargs: Any) -> Response:
    """POST `url` with data=, json= or files=."""
    return _pooled("POST", url, kwargs)


def put(url: str, **kwargs: Any) -> Response:
    """PUT `url`."""
    return _pooled("PUT", url, kwargs)


def patch(url: str, **kwargs: Any) -> Response:
    """PATCH `url`."""
    return _pooled("PATCH", url, kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """DELETE `url`."""
    return _pooled("DELETE", url, kwargs)
