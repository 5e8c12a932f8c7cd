"""Session: requests-style HTTP on one reused libcurl handle, with safe defaults.

A Session keeps one easy handle, so connections, the DNS cache, TLS sessions and cookies are
reused; after an error (or a request that changed its method or body) the handle is reset, so
it keeps working after any error. Defaults
are the safe ones: TLS verified with certifi's CA bundle, http and https only (also on
redirects), a connect timeout and a no-progress timeout, and request fields checked for CR, LF
and NUL before anything is sent.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import json as _json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, NamedTuple
from urllib.parse import urlencode

from ._codes import CurlCode
from ._exceptions import CurlError, InvalidOperation, InvalidRequest
from ._models import (
    BodyStream,
    DigestAuth,
    HeaderItems,
    Headers,
    Request,
    Response,
    StreamedResponse,
    Timeout,
    sent_request,
)
from ._prepare import (
    _DEFAULT_PROTOCOLS,
    _FORBIDDEN,
    _NO_EXTRAS,
    _PLAIN_METHODS,
    _SCHEME,
    _TOKEN,
    DEFAULT_TIMEOUT,
    UNSET,
    AuthTypes,
    FileTypes,
    ParamItems,
    Prepared,
    TimeoutTypes,
    _allowed_protocols,
    _certifi_bundle,
    _check_auth,
    _check_hooks,
    _check_text,
    _cookie_header,
    _header_lines,
    _join_base,
    _located,
    _multipart,
    _name,
    _names,
    _proxy_for,
    _raw_body,
    _refuse_unknown,
    _secret,
    _Unset,
    _url_shown,
    _with_params,
)
from ._retry import Retry
from ._translate import error_from_code
from ._transport import (
    HTTP_VERSIONS,
    MultiTransport,
    SentHeaders,
    Transport,
    UploadBody,
    base_options,
    http_version_supported,
    request_extras,
    upload_in,
)
from ._urls import ascii_url, redact_url

__all__ = ["Session"]

_CACHED_BASES: Final = 32  # distinct per-request override sets kept
_UNCACHED: Final = object()


class _Overrides(NamedTuple):
    """The settings one request may override (UNSET where it does not)."""

    auth: Any
    timeout: Any
    follow_redirects: Any
    max_redirects: Any
    verify: Any
    cert: Any
    proxy: Any
    max_size: Any
    http_version: Any
    debug: Any


# Session attributes the handle options are built from: assigning one drops the cached options.
_SETTINGS: Final = frozenset(_Overrides._fields) | {
    "headers",
    "allowed_protocols",
    "_cookies",
    "base_url",
    "_proxies",
    "_hooks",
}


class Plan(NamedTuple):
    """A request ready to send: prepared, with its retry policy and its hooks."""

    prepared: Prepared
    policy: Retry | None
    events: dict[str, list[Callable[..., Any]]]


class _Memo(NamedTuple):
    """The last plain request (no params, headers, body or cookies) and what it became."""

    method: str
    url: str
    kwargs: dict[str, Any]  # the overrides it was given
    prepared: Prepared


_MISSING: Final = object()


def _same_items(given: dict[str, Any], known: dict[str, Any]) -> bool:
    """True if both have the same keys with the very same (identical) values."""
    if len(given) != len(known):
        return False
    for name, value in given.items():
        if known.get(name, _MISSING) is not value:
            return False
    return True


class SessionState(enum.Enum):
    """Where a Session is in its life."""

    OPEN = "open"  # requests can be sent
    CLOSED = "closed"  # close() was called: the handle and its connections are gone


_OPEN: Final = SessionState.OPEN  # module constants: an Enum's class attribute is slow to read
_CLOSED: Final = SessionState.CLOSED


class Session:
    """A reusable HTTP client on one libcurl handle.

    ```python
    with curlx.Session(headers={"User-Agent": "my-crawler/1.0"}, timeout=10) as s:
        r = s.get("https://example.org/", params={"q": "curl"})
        r.raise_for_status()
    ```

    **Parameters** (all optional; each request may override them, None meaning "not set"):
    `headers`, `cookies` and `params` sent with every request; `auth` ((user, password) for
    Basic, `DigestAuth` for Digest); `timeout` (seconds for each phase, or a `Timeout`);
    `follow_redirects` (default True) and `max_redirects` (30); `verify` (True: certifi's CA
    bundle; False: no verification; or a CA file or directory); `cert` (a client certificate
    file, or (cert, key)); `proxy` (http, https, socks5 or socks5h URL); `max_size` (largest
    body in bytes); `http_version` ("1.1", "2", "3"); `allowed_protocols` (default http and
    https; add "ftp", "file"... only on purpose); `retry` (a `Retry` policy, or a number of
    retries; default None: no retries); `base_url` (relative request URLs are joined to it,
    as in httpx); `proxies` (requests' {"http": URL, "https": URL} form of `proxy`); `hooks` /
    `event_hooks` ({"request": [fn], "response": [fn]}: called with each request before it is
    sent, and with each response); `debug` (True: libcurl's trace, credentials and cookies
    redacted, to the ``curlx.trace`` logger at DEBUG).

    A Session is for one thread at a time: a second thread using it while a request runs gets
    `InvalidOperation`. Give each thread its own Session.
    """

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
        base_url: str | None = None,
        proxies: Mapping[str, str | None] | None = None,
        hooks: Mapping[str, Any] | None = None,
        event_hooks: Mapping[str, Any] | None = None,
        debug: bool = False,
        _cookie_engine: bool = True,
        **unknown: Any,
    ) -> None:
        _refuse_unknown(unknown, "Session()", _keywords(Session.__init__))
        if proxies is not None and proxy is not None:
            raise InvalidRequest("pass proxy= (one proxy) or proxies= (by scheme), not both.")
        _proxy_for(proxies, "http://")  # refuse a bad mapping now, not at the first request
        _check_auth(auth)
        self._proxies = proxies
        found = _check_hooks(hooks, "hooks")
        for event, functions in _check_hooks(event_hooks, "event_hooks").items():
            found[event] = found.get(event, []) + functions
        self._hooks = found
        self.base_url = None if base_url is None else _check_text("base_url", base_url, _url_shown)
        self.headers = Headers(headers)
        self.params = params
        self.auth = auth
        self.timeout = Timeout.of(timeout)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.verify = verify
        self.cert = cert
        self.proxy = proxy
        self.max_size = max_size
        self.http_version = http_version
        self.retry = Retry.of(retry)
        self.debug = debug
        self.allowed_protocols = _allowed_protocols(allowed_protocols)
        self._cookies: dict[str, str] = dict(cookies or {})
        _cookie_header(self._cookies)  # refuse bad cookies now, not at the first request
        self._cookie_engine = _cookie_engine
        self._bases: dict[Any, list[tuple[int, Any]]] = {}
        self._memo: _Memo | None = None
        self._transport = Transport(Response._pending)
        self._crawler: MultiTransport[Any] | None = None  # fetch_many(session=...)'s handles
        self._crawling = False
        # One item while no request runs: taking it (list.pop and append are atomic) is how a
        # request claims the Session, and close() keeps it, so a closed Session stays claimed.
        self._turn = [True]
        self.state = SessionState.OPEN

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the handle and its connections; later requests raise InvalidOperation.

        Called while another thread's request runs, the close happens when that request ends.
        """
        if self.state is _OPEN:
            self.state = _CLOSED
            self._close_if_idle()

    def _close_if_idle(self) -> None:
        try:
            self._turn.pop()
        except IndexError:
            return  # a request runs: it closes the transport when it ends
        self._transport.close()
        if self._crawler is not None and not self._crawling:
            self._crawler.close()

    def _crawl_transport(self, concurrency: int) -> MultiTransport[Any]:
        """The handles a crawl on this Session runs on, kept between crawls (with their
        connections); the crawl gives them back with `_crawl_ended`."""
        if self.state is _CLOSED:
            raise InvalidOperation(
                "Cannot crawl with a closed Session. Create a new Session, or call "
                "curlx.fetch_many() without session=."
            )
        if self._crawling:
            raise InvalidOperation(
                "A crawl already runs on this Session: finish it (or break out of its loop) "
                "first, or give the second crawl a Session of its own."
            )
        crawler = self._crawler
        if crawler is None or crawler.size != concurrency:
            if crawler is not None:
                crawler.close()
            crawler = self.__dict__["_crawler"] = MultiTransport(concurrency, Response._pending)
        self.__dict__["_crawling"] = True
        return crawler

    def _crawl_ended(self) -> None:
        self.__dict__["_crawling"] = False
        if self.state is _CLOSED and self._crawler is not None:
            self._crawler.close()

    def _claim(self, method: object, url: object) -> None:
        """Take the Session for one request; InvalidOperation if closed or in use."""
        try:
            self._turn.pop()
        except IndexError:
            if self.state is _CLOSED:
                raise _located(
                    InvalidOperation(
                        "Cannot send a request, as the Session has been closed. Create a new "
                        "Session, or use curlx.get() for a one-off request."
                    ),
                    method,
                    url,
                ) from None
            raise _located(
                InvalidOperation(
                    "This Session is already running a request in another thread (or in a "
                    "callback of this one). A Session serves one thread at a time: give each "
                    "thread its own Session."
                ),
                method,
                url,
            ) from None

    def _release(self) -> None:
        self._turn.append(True)
        if self.state is _CLOSED:  # closed by another thread while this request ran
            self._close_if_idle()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- cookies --------------------------------------------------------------------------

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies this Session sends: those given to it and those servers have set."""
        jar = dict(self._cookies)
        if self.state is _OPEN and self._cookie_engine:
            self._claim("GET", None)
            try:
                for line in self._transport.cookies():
                    parts = line.split("\t")
                    if len(parts) >= 7:
                        jar[parts[5]] = parts[6]
            finally:
                self._release()
        return jar

    # --- requests -------------------------------------------------------------------------

    def request(
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

        With a Retry policy (the Session's, or `retry=`), failures its rules allow are repeated
        after its backoff; when it gives up, the last typed error is raised with `.history`
        (or, for status retries, the last response is returned unless `raise_on_status`).

        `stream=True` returns as soon as the headers are in: read the body with
        `iter_bytes()` / `iter_content()` (or `content`), and close the response if you stop
        early (or use `Session.stream()`). `content=` is httpx's name for a raw body;
        `data=` also takes a binary file or an iterator of bytes, sent as they are read.
        `allow_redirects` and `proxies` are requests' names for `follow_redirects` and
        `proxy`.
        """
        self._claim(method, url)
        try:
            plan = self._plan(
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
                "Session.request()",
            )
            for hook in plan.events.get("request", ()):
                hook(self._sent_request(plan.prepared))
            if plan.policy is None:
                response = self._send(plan.prepared, stream)
            else:
                response = self._send_with_retries(plan.policy, plan.prepared, stream)
            for hook in plan.events.get("response", ()):
                replaced = hook(response)
                if isinstance(replaced, Response):  # requests lets a hook replace it
                    response = replaced
            return response
        except (InvalidOperation, InvalidRequest) as error:
            _located(error, method, url)
            raise
        finally:
            self._release()

    def _plan(
        self,
        method: str,
        url: str,
        params: ParamItems | None,
        headers: HeaderItems | None,
        data: Any,
        json: Any,
        files: Mapping[str, FileTypes] | None,
        content: Any,
        cookies: Mapping[str, str] | None,
        given: _Overrides,
        retry: Retry | int | None | _Unset,
        stream: bool,
        allow_redirects: bool | _Unset,
        proxies: Mapping[str, str | None] | None | _Unset,
        hooks: Mapping[str, Any] | None,
        unknown: Mapping[str, Any],
        where: str,
    ) -> Plan:
        """Everything a client (this Session, or an AsyncSession on its settings) does before
        sending: keywords checked and mapped (requests' names too), the request prepared, the
        retry policy and the hooks chosen (the client calls them: an async one awaits them)."""
        _refuse_unknown(unknown, where, _keywords(Session.request))
        if allow_redirects is not UNSET:
            if given.follow_redirects is not UNSET and given.follow_redirects != allow_redirects:
                raise InvalidRequest(
                    "pass follow_redirects= or requests' allow_redirects=, not both."
                )
            given = given._replace(follow_redirects=allow_redirects)
        if proxies is not UNSET:
            if given.proxy is not UNSET:
                raise InvalidRequest("pass proxy= (one proxy) or proxies= (by scheme), not both.")
            given = given._replace(proxy=_proxy_for(proxies, self._scheme_url(url)))
        elif given.proxy is UNSET and self._proxies is not None:
            given = given._replace(proxy=_proxy_for(self._proxies, self._scheme_url(url)))
        if given.auth is not UNSET:
            _check_auth(given.auth)
        prepared = self._prepare_request(
            method,
            url,
            params,
            headers,
            data,
            json,
            files,
            cookies,
            given,
            retry is UNSET and not stream,
            content,
        )
        policy = self.retry if retry is UNSET else Retry.of(retry)
        events = self._hooks
        if hooks:
            events = {**events}
            for event, functions in _check_hooks(hooks, "hooks").items():
                events[event] = events.get(event, []) + functions
        return Plan(prepared, policy, events)

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[StreamedResponse]:
        """httpx's shape of `stream=True`: the response, closed when the block ends.

        ```python
        with session.stream("GET", url) as r:
            for chunk in r.iter_bytes():
                ...
        ```
        """
        response = self.request(method, url, stream=True, **kwargs)
        try:
            yield response  # type: ignore[misc]
        finally:
            response.close()

    def _scheme_url(self, url: object) -> str:
        """`url` as far as its scheme goes, for choosing a proxy by scheme."""
        if not isinstance(url, str):
            return ""
        return _join_base(self.base_url, url) if self.base_url else url

    def _sent_request(self, prepared: Prepared) -> Request:
        """The request a hook is shown: method, URL and headers, credentials redacted."""
        sent = SentHeaders(prepared.base, prepared.extra)
        return sent_request(prepared.method, prepared.safe_url, sent)

    def _call(self, method: str, url: str, kwargs: dict[str, Any]) -> Response:
        """`request(method, url, **kwargs)`, reusing the options of the last plain request.

        A plain request (no params, headers, body or cookies) with the very same override
        objects as the last one needs the same handle options: only a new URL is checked.
        """
        memo = self._plain_memo()
        if memo is None:
            return self.request(method, url, **kwargs)
        known_method, known_url, known_kwargs, prepared = memo
        if known_method != method or not (
            (not kwargs and not known_kwargs) or _same_items(kwargs, known_kwargs)
        ):
            return self.request(method, url, **kwargs)
        turn = self._turn
        try:
            turn.pop()  # as _claim() does, but the error is request()'s to raise
        except IndexError:
            return self.request(method, url, **kwargs)  # closed or busy: it says which
        try:
            policy = self.retry
            if url != known_url:
                target = self._target(url)
                if policy is None:
                    response: Response = self._transport.perform(
                        prepared.method,
                        target,
                        prepared.base,
                        prepared.extra,
                        prepared.watchdog,
                        redact_url(target),
                    )
                    return response
                prepared = prepared._replace(url=target, safe_url=redact_url(target))
            elif policy is None:
                response = self._transport.perform(*prepared)
                return response
            return self._send_with_retries(policy, prepared)
        except (InvalidOperation, InvalidRequest) as error:
            _located(error, method, url)
            raise
        finally:
            turn.append(True)  # _release(), inline: this is every request's path
            if self.state is _CLOSED:
                self._close_if_idle()

    def _plain_memo(self) -> _Memo | None:
        """The last plain request's options, if the next plain one may reuse them (no params,
        hooks or proxies by scheme to apply on the way)."""
        if self.params or self._hooks or self._proxies is not None:
            return None
        return self._memo

    def _prepare_request(
        self,
        method: str,
        url: str,
        params: ParamItems | None,
        headers: HeaderItems | None,
        data: Any,
        json: Any,
        files: Mapping[str, FileTypes] | None,
        cookies: Mapping[str, str] | None,
        given: _Overrides,
        memoable: bool,
        content: Any = None,
    ) -> Prepared:
        """`_prepare` with the per-request overrides; remembers a plain request's result."""
        overrides = {
            name: value
            for name, value in zip(_Overrides._fields, given, strict=True)
            if value is not UNSET
        }
        prepared = self._prepare(
            method,
            url,
            headers,
            data,
            json,
            params=params,
            files=files,
            cookies=cookies,
            overrides=overrides or None,
            content=content,
        )
        plain = (
            memoable
            and params is None
            and headers is None
            and data is None
            and json is None
            and files is None
            and content is None
            and cookies is None
            and not self.params
        )
        # Straight into __dict__: this is no setting (see __setattr__), and it runs often.
        self.__dict__["_memo"] = _Memo(method, url, overrides, prepared) if plain else None
        return prepared

    def _send(self, prepared: Prepared, stream: bool = False) -> Response:
        try:
            if stream:
                opened = self._transport.open_stream(*prepared)
                opened._stream = _Claimed(self, opened._stream, prepared)
                return opened
            response: Response = self._transport.perform(*prepared)
            return response
        except CurlError as error:
            body = upload_in(prepared.extra) if prepared.extra else None
            if body is not None and body.error is not None:  # raised reading the body
                raise body.error from error
            raise

    def _send_with_retries(
        self, policy: Retry, prepared: Prepared, stream: bool = False
    ) -> Response:
        method, safe_url = prepared.method, prepared.safe_url
        body = upload_in(prepared.extra) if prepared.extra else None
        while True:
            outcome: Response | CurlError
            try:
                outcome = self._send(prepared, stream)
            except CurlError as error:
                outcome = error
            step = policy.step(outcome, method, safe_url)
            if step.retry is None:
                if isinstance(step.result, BaseException):
                    raise step.result
                return step.result  # type: ignore[return-value]
            if isinstance(outcome, StreamedResponse):
                outcome.close()
            if body is not None and not body.rewind():
                raise _unrewindable(outcome, method, safe_url)
            policy = step.retry
            policy.sleep()

    def _prepare(
        self,
        method: str,
        url: str,
        headers: HeaderItems | None = None,
        data: Any = None,
        json: Any = None,
        *,
        params: ParamItems | None = None,
        files: Mapping[str, FileTypes] | None = None,
        cookies: Mapping[str, str] | None = None,
        overrides: dict[str, Any] | None = None,
        content: Any = None,
    ) -> Prepared:
        """Check one request and turn it into what a transport needs to run it."""
        if method not in _PLAIN_METHODS:
            method = _check_text("method", method).upper()
            if not _TOKEN.fullmatch(method):
                raise InvalidRequest(
                    f"method={method!r} is not an HTTP method token: use letters, digits and "
                    "!#$%&'*+-.^_`|~ only, as in 'GET' or 'PROPFIND'."
                )
        url = self._target(url, params)
        if method == "HEAD" and not (overrides and "follow_redirects" in overrides):
            # HEAD does not follow redirects unless asked to, whatever the Session's setting.
            overrides = {**(overrides or {}), "follow_redirects": False}
        base = self._base(overrides, url)
        overrides = overrides or {}
        follow = overrides.get("follow_redirects", self.follow_redirects)
        extra = self._extras(method, headers, data, json, files, cookies, bool(follow), content)
        timeout = overrides.get("timeout", self.timeout)
        watchdog = Timeout.of(timeout).read
        return Prepared(method, url, base, extra, watchdog, redact_url(url))

    def _target(self, url: str, params: ParamItems | None = None) -> str:
        """The URL to ask libcurl for: free of CR, LF and NUL, with the Session's and the
        request's params, in ASCII, and of a scheme this Session allows."""
        if type(url) is not str or (not url.isprintable() and _FORBIDDEN.search(url)):
            _check_text("url", url, _url_shown)
        if self.base_url is not None:
            url = _join_base(self.base_url, url)
        if self.params:
            url = _with_params(url, self.params)
        if params:
            url = _with_params(url, params)
        if not url.isascii():
            url = ascii_url(url)
        self._check_scheme(url)
        return url

    def _check_scheme(self, url: str) -> None:
        if url.startswith("https://"):
            scheme = "https"
        elif url.startswith("http://"):
            scheme = "http"
        else:
            match = _SCHEME.match(url)
            if match is None:
                return  # no scheme: libcurl guesses one, within the allowed protocols
            scheme = match.group(1).lower()
        if scheme not in self.allowed_protocols:
            raise error_from_code(
                CurlCode.UNSUPPORTED_PROTOCOL,
                f'Protocol "{scheme}" is not allowed: this Session allows only '
                f"{', '.join(sorted(self.allowed_protocols))} "
                "(widen it with Session(allowed_protocols=...))",
                url=redact_url(url),
                client=True,
            )

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "headers" and not isinstance(value, Headers):
            value = Headers(value)
        elif name == "timeout" and not isinstance(value, Timeout):
            value = Timeout.of(value)
        elif name == "retry":
            value = Retry.of(value)
        elif name == "allowed_protocols":
            value = _allowed_protocols(value)
        elif name == "auth":
            _check_auth(value)
        object.__setattr__(self, name, value)
        if name in _SETTINGS:  # the cached handle options describe the old settings
            self.__dict__.get("_bases", {}).clear()
            self.__dict__["_memo"] = None
            self.__dict__["_header_cache"] = None
            self.__dict__["_plain_get"] = None  # a crawl's plain GET options

    def _base(self, overrides: dict[str, Any] | None, url: str) -> list[tuple[int, Any]]:
        """The handle options for the Session's settings with `overrides` applied.

        Cached per distinct set of overrides (cleared when a setting is assigned), so the same
        list object comes back for the same settings and the handle is not reset for nothing.
        """
        key: Any = None
        if overrides:
            try:
                key = tuple(sorted(overrides.items()))
                hash(key)
            except TypeError:  # an unhashable override (a list of certs...): build, no cache
                key = _UNCACHED
        cached = self._bases.get(key) if key is not _UNCACHED else None
        if cached is not None:
            return cached
        settings = {name: getattr(self, name) for name in _Overrides._fields}
        if overrides:
            settings.update(overrides)
        options = self._build_base(url, **settings)
        if key is not _UNCACHED:
            if len(self._bases) >= _CACHED_BASES:
                self._bases.clear()
            self._bases[key] = options
        return options

    def _build_base(
        self,
        url: str,
        *,
        auth: AuthTypes,
        timeout: TimeoutTypes,
        follow_redirects: bool,
        max_redirects: int,
        verify: bool | str,
        cert: str | tuple[str, str] | None,
        proxy: str | None,
        max_size: int | None,
        http_version: str | None,
        debug: bool,
    ) -> list[tuple[int, Any]]:
        limits = Timeout.of(timeout)
        auth_spec = None
        _check_auth(auth)
        if isinstance(auth, DigestAuth):
            auth_spec = ("digest", auth.username, auth.password)
        elif auth is not None:
            user, password = auth
            auth_spec = (
                "basic",
                _check_text("auth user", user),
                _check_text("auth password", password, _secret),
            )
        if (
            isinstance(max_redirects, bool)
            or not isinstance(max_redirects, int)
            or max_redirects < 0
        ):
            raise InvalidRequest(
                f"max_redirects={max_redirects!r} must be a whole number >= 0 (0: follow none)."
            )
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0
        ):
            raise InvalidRequest(
                f"max_size={max_size!r} must be a whole number of bytes >= 0, or None for no limit."
            )
        if http_version is not None and http_version not in HTTP_VERSIONS:
            raise InvalidRequest(
                f"http_version={http_version!r} is not one of {', '.join(HTTP_VERSIONS)}."
            )
        if http_version is not None and not http_version_supported(http_version):
            available = [v for v in HTTP_VERSIONS if http_version_supported(v)]
            raise error_from_code(
                CurlCode.NOT_BUILT_IN,
                f"http_version={http_version!r} is not available in this libcurl (it has "
                f"{', '.join(available)}; HTTP/2 and HTTP/3 need a libcurl built with them)",
                url=redact_url(url),
                client=True,
            )
        if proxy is not None:
            proxy = ascii_url(_check_text("proxy", proxy, _url_shown))
        if verify is True:
            verify = _certifi_bundle()
        cert_spec: tuple[str, str | None] | None = (cert, None) if isinstance(cert, str) else cert
        return base_options(
            headers=[line for _, line in self._header_list()],
            auth=auth_spec,
            cookie=_cookie_header(self._cookies),
            cookie_engine=self._cookie_engine,
            connect_timeout=limits.connect,
            read_timeout=limits.read,
            total_timeout=limits.total,
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            verify=verify,
            ca_is_dir=isinstance(verify, str) and os.path.isdir(verify),
            cert=cert_spec,
            proxy=proxy,
            max_size=max_size,
            http_version=http_version,
            protocols=self.allowed_protocols,
            debug=bool(debug),
        )

    def _header_list(self) -> list[tuple[str, str]]:
        """The Session's header lines, checked, each with its lower-case name (cached)."""
        cached: list[tuple[str, str]] | None = self.__dict__.get("_header_cache")
        if cached is None:
            lines = _header_lines(self.headers.multi_items())
            cached = [(_name(line), line) for line in lines]
            self.__dict__["_header_cache"] = cached
        return cached

    def _extras(
        self,
        method: str,
        headers: HeaderItems | None,
        data: Any,
        json: Any,
        files: Mapping[str, FileTypes] | None,
        cookies: Mapping[str, str] | None,
        follow_redirects: bool,
        content: Any = None,
    ) -> list[tuple[int, Any]]:
        """What this request adds to the Session's options: method, body, headers, cookies."""
        if method == "GET" and headers is None and data is None and json is None:
            if not files and not cookies and content is None:
                return _NO_EXTRAS
        default_type = None
        body: bytes | UploadBody | None = None
        if sum(given is not None for given in (None if files else data, json, content)) > 1:
            raise InvalidRequest("pass either data= or json= (or content=), not two of them.")
        if files:
            body, default_type = _multipart(data, files)
        elif json is not None:
            body = _json.dumps(json, separators=(",", ":")).encode()
            default_type = "application/json"
        elif content is not None:
            body = _raw_body(content)
        elif isinstance(data, bytes | bytearray | memoryview):
            body = bytes(data)
        elif isinstance(data, str):
            body = data.encode()
        elif data is not None and (hasattr(data, "read") or isinstance(data, Iterator)):
            body = _raw_body(data)  # a file or a generator: sent as it is read
        elif data is not None:
            pairs = data.items() if isinstance(data, Mapping) else data
            body = urlencode(list(pairs), doseq=True).encode()
            default_type = "application/x-www-form-urlencoded"
        if not body and method in ("GET", "HEAD"):
            body, default_type = None, None
        lines = None
        streamed = isinstance(body, UploadBody)
        if headers or default_type or streamed:
            own = _header_lines(headers) if headers else []
            mine = _names(own)
            lines = [line for name, line in self._header_list() if name not in mine] + own
            if default_type and "content-type" not in _names(lines):
                lines.append(f"Content-Type: {default_type}")
            if streamed and "expect" not in _names(lines):
                lines.append("Expect:")  # no 100-continue round trip (requests sends none)
        cookie = None
        if cookies:
            cookie = _cookie_header({**self._cookies, **cookies})
        return request_extras(
            method=method,
            body=body,
            headers=lines,
            cookie=cookie,
            follow_redirects=follow_redirects,
        )

    def get(self, url: str, **kwargs: Any) -> Response:
        """GET `url`; keywords as for `request()`."""
        return self._call("GET", url, kwargs)

    def head(self, url: str, **kwargs: Any) -> Response:
        """HEAD `url` (redirects are not followed unless follow_redirects=True)."""
        return self._call("HEAD", url, kwargs)

    def options(self, url: str, **kwargs: Any) -> Response:
        """OPTIONS `url`."""
        return self._call("OPTIONS", url, kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        """POST `url` with data=, json= or files=."""
        return self._call("POST", url, kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        """PUT `url`."""
        return self._call("PUT", url, kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        """PATCH `url`."""
        return self._call("PATCH", url, kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        """DELETE `url`."""
        return self._call("DELETE", url, kwargs)

    def __repr__(self) -> str:
        return f"<curlx.Session {self.state.value}>"


def _keywords(function: Callable[..., Any]) -> list[str]:
    """The public keywords `function` takes (its signature: the one place they are listed)."""
    return [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_")
    ]


class _Claimed:
    """A streamed body read under its Session's turn (one thread at a time, as every call).
    Its info is read from the transfer itself (the response's `_source`)."""

    __slots__ = ("_prepared", "_session", "_transfer")

    def __init__(self, session: Session, transfer: BodyStream, prepared: Prepared) -> None:
        self._session = session
        self._transfer = transfer
        self._prepared = prepared

    def read(self) -> list[bytes]:
        session = self._session
        if session.state is _CLOSED:
            raise InvalidOperation(
                "Cannot read the rest of this streamed body: its Session was closed, which "
                "cut the transfer off. Read the body before closing the Session (inside its "
                "`with` block), or read `content` at once."
            )
        session._claim(self._prepared.method, self._prepared.safe_url)
        try:
            return self._transfer.read()
        finally:
            session._release()

    def close(self) -> None:
        self._transfer.close()


def _unrewindable(outcome: Response | CurlError, method: str, url: str) -> InvalidRequest:
    """The error for a retry its streamed body cannot have: it was read once already."""
    what = (
        f"HTTP {outcome.status_code}"
        if isinstance(outcome, Response)
        else f"{type(outcome).__name__}: {outcome.message}"
    )
    error = InvalidRequest(
        f"{method} {url} failed ({what}) and its retry policy would send it again, but its "
        "body was read from an iterator or an unseekable file, which cannot be read twice. "
        "Pass bytes or a seekable file (open(path, 'rb')) to allow retries."
    )
    if isinstance(outcome, BaseException):
        error.__cause__ = outcome
    return error
