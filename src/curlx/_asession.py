"""AsyncSession: the Session's keywords, defaults, Response and errors, awaited.

The requests are checked and turned into handle options by a `Session` that only holds the
settings (it never opens a handle), so both clients prepare alike; the transfers run on the
asyncio transport (`_transport._async`), whose slots read responses and type failures as the
sync transport's do; retries follow the same `Retry.step`, waiting with `asyncio.sleep`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar, overload

from ._exceptions import CurlError, InvalidOperation, InvalidRequest, InvalidSetting
from ._models import AsyncStreamedResponse, HeaderItems, Headers, Response, Timeout
from ._prepare import (
    _DEFAULT_PROTOCOLS,
    DEFAULT_TIMEOUT,
    UNSET,
    AuthTypes,
    FileTypes,
    ParamItems,
    Prepared,
    TimeoutTypes,
    _located,
    _Unset,
)
from ._retry import Retry
from ._session import Session, _Overrides, _unrewindable
from ._transport import upload_in
from ._transport._async import AsyncTransport
from ._urls import redact_url

__all__ = ["AsyncSession"]

_G = TypeVar("_G")
_S = TypeVar("_S")

MAX_CONNECTIONS: Final = 100
"""AsyncSession's default number of requests (so connections) at once."""


class _Setting(Generic[_G, _S]):
    """An AsyncSession setting, kept on the Session that prepares its requests (which checks
    and converts what is assigned, and drops its cached options)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Setting[_G, _S]: ...
    @overload
    def __get__(self, obj: AsyncSession, owner: type | None = None) -> _G: ...
    def __get__(self, obj: AsyncSession | None, owner: type | None = None) -> _G | _Setting[_G, _S]:
        if obj is None:
            return self
        value: _G = getattr(obj._config, self.name)
        return value

    def __set__(self, obj: AsyncSession, value: _S) -> None:
        setattr(obj._config, self.name, value)


class AsyncSessionState(enum.Enum):
    """Where an AsyncSession is in its life."""

    OPEN = "open"  # requests can be sent
    CLOSED = "closed"  # aclose() was called: the handles and their connections are gone


class AsyncSession:
    """The Session's requests, awaited: many at once on one event loop.

    ```python
    async with curlx.AsyncSession(timeout=10) as s:
        r = await s.get("https://example.org/", params={"q": "curl"})
        pages = await asyncio.gather(*(s.get(url) for url in urls))
    ```

    **Parameters:** the Session's (`headers cookies params auth timeout follow_redirects
    max_redirects verify cert proxy proxies max_size http_version allowed_protocols retry
    base_url hooks event_hooks debug`), with the
    same defaults, plus `max_connections` (requests at once, so connections; default 100: the
    ones beyond wait their turn) and `max_connections_per_host` (default None: no limit;
    libcurl queues the requests beyond it). Each request may override the Session keywords,
    as `Session.request` takes them. Retries wait with `asyncio.sleep`, never blocking the
    loop (a `Retry`'s `sleep_function` is for the sync clients only).

    Cancelling a request (`task.cancel()`, `asyncio.timeout()`, `asyncio.wait_for()`) stops its
    transfer at once and frees its slot; the session stays usable. An AsyncSession belongs to
    the event loop of its first request; `aclose()` it (or use `async with`) when done. asyncio
    and uvloop loops work; trio does not (yet).
    """

    headers: _Setting[Headers, HeaderItems | None] = _Setting()
    params: _Setting[ParamItems | None, ParamItems | None] = _Setting()
    auth: _Setting[AuthTypes, AuthTypes] = _Setting()
    timeout: _Setting[Timeout, TimeoutTypes] = _Setting()
    follow_redirects: _Setting[bool, bool] = _Setting()
    max_redirects: _Setting[int, int] = _Setting()
    verify: _Setting[bool | str, bool | str] = _Setting()
    cert: _Setting[str | tuple[str, str] | None, str | tuple[str, str] | None] = _Setting()
    proxy: _Setting[str | None, str | None] = _Setting()
    max_size: _Setting[int | None, int | None] = _Setting()
    http_version: _Setting[str | None, str | None] = _Setting()
    allowed_protocols: _Setting[frozenset[str], Iterable[str]] = _Setting()
    retry: _Setting[Retry | None, Retry | int | None] = _Setting()

    def __init__(
        self,
        *,
        headers: HeaderItems | None = None,
        cookies: Mapping[str, str] | None = None,
        params: ParamItems | None = None,
        auth: AuthTypes = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        follow_redirects: bool = True,
        max_redirects: int = 30,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        max_size: int | None = None,
        http_version: str | None = None,
        allowed_protocols: Iterable[str] = _DEFAULT_PROTOCOLS,
        retry: Retry | int | None = None,
        max_connections: int = MAX_CONNECTIONS,
        max_connections_per_host: int | None = None,
        base_url: str | None = None,
        proxies: Mapping[str, str | None] | None = None,
        hooks: Mapping[str, Any] | None = None,
        event_hooks: Mapping[str, Any] | None = None,
        debug: bool = False,
        **unknown: Any,
    ) -> None:
        for name, value, least in (
            ("max_connections", max_connections, 1),
            ("max_connections_per_host", max_connections_per_host, 1),
        ):
            if value is None and name == "max_connections_per_host":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                hint = ", or None for no limit" if name == "max_connections_per_host" else ""
                raise InvalidSetting(f"{name}={value!r} must be a whole number >= 1{hint}.")
        self._config = Session(
            headers=headers,
            cookies=cookies,
            params=params,
            auth=auth,
            timeout=timeout,
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            verify=verify,
            cert=cert,
            proxy=proxy,
            max_size=max_size,
            http_version=http_version,
            allowed_protocols=allowed_protocols,
            retry=retry,
            base_url=base_url,
            proxies=proxies,
            hooks=hooks,
            event_hooks=event_hooks,
            debug=debug,
            _cookie_engine=True,
            **unknown,
        )
        self._limits = (max_connections, max_connections_per_host)
        self._transport = AsyncTransport(
            Response._pending, max_connections, max_connections_per_host, share_cookies=True
        )
        self.state = AsyncSessionState.OPEN

    @property
    def max_connections(self) -> int:
        """Requests (so connections) at once; the ones beyond wait their turn."""
        return self._limits[0]

    @property
    def max_connections_per_host(self) -> int | None:
        """Connections to one host at once (None: no limit)."""
        return self._limits[1]

    # --- lifecycle ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the handles and their connections; later requests raise InvalidOperation.

        Requests still running raise InvalidOperation. Never waits for a name lookup a
        cancelled request left behind (that closing happens in a daemon thread).
        """
        if self.state is AsyncSessionState.OPEN:
            self.state = AsyncSessionState.CLOSED
            self._transport.close()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _loop(self, method: object, url: object) -> asyncio.AbstractEventLoop:
        """The running loop, if this session may run requests on it; else InvalidOperation."""
        if self.state is AsyncSessionState.CLOSED:
            raise _located(
                InvalidOperation(
                    "Cannot send a request, as the AsyncSession has been closed. Create a new "
                    "AsyncSession (async with curlx.AsyncSession() as s: ...)."
                ),
                method,
                url,
            )
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise _located(
                InvalidOperation(
                    "AsyncSession requests must be awaited in a running event loop "
                    "(asyncio.run(main())); outside one, use curlx.Session."
                ),
                method,
                url,
            ) from None
        own = self._transport.loop
        if own is not None and own is not loop:
            raise _located(
                InvalidOperation(
                    "This AsyncSession belongs to the event loop of its first request, not "
                    "this one: its connections live there. Create an AsyncSession in each "
                    "event loop (or thread running one)."
                ),
                method,
                url,
            )
        return loop

    # --- cookies --------------------------------------------------------------------------

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies this session sends: those given to it and those servers have set."""
        jar = dict(self._config._cookies)
        if self.state is AsyncSessionState.OPEN:
            for line in self._transport.cookies():
                parts = line.split("\t")
                if len(parts) >= 7:
                    jar[parts[5]] = parts[6]
        return jar

    # --- requests -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: ParamItems | None = None,
        headers: HeaderItems | None = None,
        data: Any = None,
        json: Any = None,
        files: Mapping[str, FileTypes] | None = None,
        content: Any = None,
        auth: AuthTypes | _Unset = UNSET,
        cookies: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | _Unset = UNSET,
        follow_redirects: bool | _Unset = UNSET,
        max_redirects: int | _Unset = UNSET,
        verify: bool | str | _Unset = UNSET,
        cert: str | tuple[str, str] | None | _Unset = UNSET,
        proxy: str | None | _Unset = UNSET,
        max_size: int | None | _Unset = UNSET,
        http_version: str | None | _Unset = UNSET,
        retry: Retry | int | None | _Unset = UNSET,
        debug: bool | _Unset = UNSET,
        stream: bool = False,
        allow_redirects: bool | _Unset = UNSET,
        proxies: Mapping[str, str | None] | None | _Unset = UNSET,
        hooks: Mapping[str, Any] | None = None,
        **unknown: Any,
    ) -> Response:
        """Send one request and return its Response; failures raise typed curlx errors.

        Keywords as for `Session.request` (prepared by the same code); with a Retry policy,
        failures it allows are repeated after its backoff (awaited with asyncio.sleep).
        `stream=True` returns once the headers are in; read the body with `aiter_bytes()`
        (or `aread()`), and `aclose()` the response if you stop early (or use `stream()`).
        Hooks may be plain or async functions.
        """
        loop = self._loop(method, url)
        config = self._config
        try:
            plan = config._plan(
                method,
                url,
                params,
                headers,
                data,
                json,
                files,
                content,
                cookies,
                _Overrides(
                    auth,
                    timeout,
                    follow_redirects,
                    max_redirects,
                    verify,
                    cert,
                    proxy,
                    max_size,
                    http_version,
                    debug,
                ),
                retry,
                stream,
                allow_redirects,
                proxies,
                hooks,
                unknown,
                "AsyncSession.request()",
            )
        except (InvalidOperation, InvalidRequest) as error:
            _located(error, method, url)
            raise
        for hook in plan.events.get("request", ()):
            called = hook(config._sent_request(plan.prepared))
            if inspect.isawaitable(called):
                await called
        if plan.policy is None:
            response = await self._send(loop, plan.prepared, stream)
        else:
            response = await self._send_with_retries(loop, plan.policy, plan.prepared, stream)
        for hook in plan.events.get("response", ()):
            replaced = hook(response)
            if inspect.isawaitable(replaced):
                replaced = await replaced
            if isinstance(replaced, Response):
                response = replaced
        return response

    @contextlib.asynccontextmanager
    async def stream(
        self, method: str, url: str, **kwargs: Any
    ) -> AsyncIterator[AsyncStreamedResponse]:
        """httpx's `client.stream()`: the response, closed when the block ends.

        ```python
        async with session.stream("GET", url) as r:
            async for chunk in r.aiter_bytes():
                ...
        ```
        """
        response = await self.request(method, url, stream=True, **kwargs)
        try:
            yield response  # type: ignore[misc]
        finally:
            response.close()

    async def _call(self, method: str, url: str, kwargs: dict[str, Any]) -> Response:
        """`request(method, url, **kwargs)`, reusing the options of the last plain request
        (the Session's memo: same method, no keywords, only the URL checked)."""
        config = self._config
        memo = config._plain_memo()
        if kwargs or memo is None or memo.method != method or memo.kwargs:
            return await self.request(method, url, **kwargs)
        loop = self._loop(method, url)
        prepared = memo.prepared
        if url != memo.url:
            try:
                target = config._target(url)
            except InvalidRequest as error:
                _located(error, method, url)
                raise
            prepared = prepared._replace(url=target, safe_url=redact_url(target))
        policy = config.retry
        if policy is None:
            return await self._send(loop, prepared)
        return await self._send_with_retries(loop, policy, prepared)

    async def _send(
        self, loop: asyncio.AbstractEventLoop, prepared: Prepared, stream: bool = False
    ) -> Response:
        """Run one prepared request: a whole response, or a streamed one."""
        try:
            if stream:
                opened: Response = await self._transport.open_stream(loop, *prepared)
                return opened
            response: Response = await self._transport.perform(loop, *prepared)
            return response
        except CurlError as error:
            body = upload_in(prepared.extra) if prepared.extra else None
            if body is not None and body.error is not None:  # raised reading the body
                raise body.error from error
            raise

    async def _send_with_retries(
        self,
        loop: asyncio.AbstractEventLoop,
        policy: Retry,
        prepared: Prepared,
        stream: bool = False,
    ) -> Response:
        method, safe_url = prepared.method, prepared.safe_url
        body = upload_in(prepared.extra) if prepared.extra else None
        while True:
            outcome: Response | CurlError
            try:
                outcome = await self._send(loop, prepared, stream)
            except InvalidOperation:
                raise  # closed under it: nothing to retry
            except CurlError as error:
                outcome = error
            step = policy.step(outcome, method, safe_url)
            if step.retry is None:
                if isinstance(step.result, BaseException):
                    raise step.result
                return step.result  # type: ignore[return-value]
            if isinstance(outcome, AsyncStreamedResponse):
                await outcome.aclose()
            if body is not None and not body.rewind():
                raise _unrewindable(outcome, method, safe_url)
            policy = step.retry
            if step.delay > 0:
                await asyncio.sleep(step.delay)
            self._loop(method, safe_url)  # closed while it waited: say so

    async def get(self, url: str, **kwargs: Any) -> Response:
        """GET `url`; keywords as for `request()`."""
        return await self._call("GET", url, kwargs)

    async def head(self, url: str, **kwargs: Any) -> Response:
        """HEAD `url` (redirects are not followed unless follow_redirects=True)."""
        return await self._call("HEAD", url, kwargs)

    async def options(self, url: str, **kwargs: Any) -> Response:
        """OPTIONS `url`."""
        return await self._call("OPTIONS", url, kwargs)

    async def post(self, url: str, **kwargs: Any) -> Response:
        """POST `url` with data=, json= or files=."""
        return await self._call("POST", url, kwargs)

    async def put(self, url: str, **kwargs: Any) -> Response:
        """PUT `url`."""
        return await self._call("PUT", url, kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Response:
        """PATCH `url`."""
        return await self._call("PATCH", url, kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Response:
        """DELETE `url`."""
        return await self._call("DELETE", url, kwargs)

    def __repr__(self) -> str:
        return f"<curlx.AsyncSession {self.state.value}>"
