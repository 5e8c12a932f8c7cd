"""The safe defaults, checked against real loopback peers through every way of asking.

- TLS is verified by default, for the target and for an ``https://`` proxy; only an explicit
  ``verify=False`` turns it off (falsy look-alikes such as None or 0 do not).
- Only http and https are spoken by default: every other scheme libcurl was built with is
  refused before a connection is made, by URL, by scheme guessing and through redirects.
- Authorization and Cookie headers (from ``headers=``, ``auth=`` or ``cookies=``, per request or
  per Session) are not forwarded when a redirect leads to another host or another port.
- ``max_size`` stops an endless body at once, with bounded memory.

Ways of asking: ``curlx.get`` (pooled Sessions), a ``curlx.Session`` and ``curlx.fetch_many``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pycurl
import pytest
from support.http import Exchange, ForwardProxy, HTTPApp, Reply, Request
from support.lab import Lab
from support.measure import peak_rss_kib, reset_peak_rss, rss_kib
from support.pki import PKI
from support.raw import RawServer, Stream, close_after_request, passwd_fragments

import curlx

T = curlx.Timeout(connect=2, read=2, total=5)
"""The timeout of every request here: nothing can hang."""
MODES = ["get", "session", "fetch_many"]


def ask(mode: str, url: str | curlx.Request, **options: Any) -> curlx.Response:
    """One request through `mode`; the typed error is raised, whichever way was used."""
    options.setdefault("timeout", T)
    if mode == "fetch_many":
        [result] = curlx.fetch_many([url], concurrency=1, **options)
        if result.error is not None:
            raise result.error
        assert result.response is not None
        return result.response
    if isinstance(url, curlx.Request):
        options["headers"] = url.headers
        url = url.url
    if mode == "get":
        return curlx.get(url, **options)
    session_options = {
        k: options.pop(k) for k in ("timeout", "verify", "proxy", "max_size") if k in options
    }
    with curlx.Session(**session_options) as session:
        return session.get(url, **options)


# --- TLS is verified by default ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_tls_is_verified_by_default_and_off_only_when_asked(mode: str, lab: Lab, pki: PKI) -> None:
    app = lab.app(tls=True)
    with pytest.raises(curlx.PeerFailedVerification) as caught:
        ask(mode, app.url("/default"))
    error = caught.value
    assert isinstance(error, curlx.CertificateError) and error.code == 60
    assert error.info is not None and error.info.ssl_verify_result == 20  # unknown issuer
    assert app.requests == []  # the handshake was refused: no request was sent
    assert ask(mode, app.url("/trusted"), verify=str(pki.ca_file)).text == "ok"
    assert ask(mode, app.url("/unverified"), verify=False).text == "ok"
    assert [r.path for r in app.requests] == ["/trusted", "/unverified"]


@pytest.mark.parametrize("value", [None, 0, ""], ids=["None", "0", "empty-string"])
def test_only_verify_false_turns_verification_off(value: Any, lab: Lab) -> None:
    app = lab.app(tls=True)
    with pytest.raises(curlx.SSLError):  # CertificateError, or a CA file that cannot load
        ask("session", app.url("/"), verify=value)
    with curlx.Session() as default:
        assert default.verify is True
    assert app.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_https_proxy_certificate_is_verified_by_default(mode: str, lab: Lab, pki: PKI) -> None:
    app = lab.app()
    with ForwardProxy(ssl_context=pki.server_context()) as proxy:
        with pytest.raises(curlx.PeerFailedVerification) as caught:
            ask(mode, app.url("/via-proxy"), proxy=proxy.proxy_url())
        error = caught.value
        # libcurl reports the proxy's certificate as code 60 with the proxy's verify result.
        assert isinstance(error, curlx.CertificateError) and error.code == 60
        assert error.info is not None
        assert (error.info.proxy_ssl_verify_result, error.info.ssl_verify_result) == (20, 0)
        assert proxy.records == [] and app.requests == []
        trusted = ask(mode, app.url("/trusted"), proxy=proxy.proxy_url(), verify=str(pki.ca_file))
        unverified = ask(mode, app.url("/unverified"), proxy=proxy.proxy_url(), verify=False)
        assert (trusted.text, unverified.text) == ("ok", "ok")
        assert [r.target for r in proxy.records] == [app.url("/trusted"), app.url("/unverified")]
    assert [r.path for r in app.requests] == ["/trusted", "/unverified"]


# --- http and https only ------------------------------------------------------------------------

# Every other scheme this libcurl was built with, also those a Session could never allow (ws).
BUILT_IN = {p.decode() if isinstance(p, bytes) else p for p in pycurl.version_info()[8]}
OTHER_SCHEMES = sorted(BUILT_IN - {"http", "https"})


@pytest.fixture
def listener(lab: Lab) -> RawServer:
    """A live port: any connection made to it by mistake is counted in ``accepted``."""
    return lab.raw(close_after_request)


@pytest.mark.parametrize("scheme", OTHER_SCHEMES)
def test_other_schemes_are_refused_before_connecting(scheme: str, listener: RawServer) -> None:
    url = f"{scheme}://127.0.0.1:{listener.port}/x"
    if scheme == "file":
        url = "file:///etc/passwd"
    for mode in MODES:
        with pytest.raises(curlx.UnsupportedProtocol) as caught:
            ask(mode, url)
        assert caught.value.code == 1, mode
        for fragment in passwd_fragments():
            assert fragment not in str(caught.value)
    assert listener.accepted == 0


def test_a_widened_scheme_is_really_allowed(listener: RawServer) -> None:
    # dict has a CURLPROTO bit but was missing from curlx's own list of bits once, which made
    # libcurl refuse what the Session had allowed.
    # The listener waits for an HTTP head a dict client never sends: the transfer ends by the
    # client's own limit (1 s), well before the server gives up (5 s), never by a race.
    limit = curlx.Timeout(connect=2, read=1, total=1)
    with curlx.Session(allowed_protocols=["http", "dict"], timeout=limit) as s:
        with pytest.raises(curlx.CurlError) as caught:
            s.get(f"dict://127.0.0.1:{listener.port}/d:word")
        assert not isinstance(caught.value, curlx.UnsupportedProtocol)
    assert listener.accepted == 1


# Built in, but with no CURLPROTO bit to allow them by (ws, wss, mqtts with this libcurl).
UNALLOWABLE = sorted(BUILT_IN - curlx._transport.supported_protocols())


@pytest.mark.parametrize("scheme", UNALLOWABLE)
def test_schemes_a_session_cannot_allow_are_refused_up_front(scheme: str) -> None:
    with pytest.raises(curlx.InvalidRequest, match=f"names \\['{scheme}'\\]"):
        curlx.Session(allowed_protocols=["http", scheme])
    session = curlx.Session()
    with pytest.raises(curlx.InvalidRequest):
        session.allowed_protocols = frozenset({scheme})
    assert session.allowed_protocols == {"http", "https"}
    session.close()


@pytest.mark.parametrize("guessed", ["ftp", "dict", "imap", "smtp", "pop3", "ldap"])
def test_scheme_guessed_from_the_host_name_is_refused(guessed: str) -> None:
    url = f"{guessed}.curlx-tests.invalid/x"  # libcurl guesses the scheme from "ftp." etc.
    for mode in MODES:
        with pytest.raises(curlx.CurlError) as caught:
            ask(mode, url)
        assert isinstance(caught.value, curlx.UnsupportedProtocol), (mode, caught.value)


def redirector(targets: dict[str, str]) -> Callable[[Request, Exchange], Reply]:
    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path in targets:
            return Reply(302, headers=[("Location", targets[request.path])])
        return Reply(200, b"landed")

    return handler


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scheme", ["file", "ftp", "gopher", "dict", "telnet", "scp", "ws"])
def test_redirects_to_other_schemes_are_refused(
    scheme: str, mode: str, lab: Lab, listener: RawServer
) -> None:
    target = f"{scheme}://127.0.0.1:{listener.port}/x"
    if scheme == "file":
        target = "file:///etc/passwd"
    app = lab.app(redirector({"/go": target}))
    with pytest.raises(curlx.UnsupportedProtocol) as caught:
        ask(mode, app.url("/go"))
    error = caught.value
    assert error.code == 1 and "in redirect" in error.message
    assert error.info is not None and error.info.size_download == 0
    for fragment in passwd_fragments():
        assert fragment not in str(error) and fragment not in error.explain()
    assert listener.accepted == 0
    assert [r.path for r in app.requests] == ["/go"]


@pytest.mark.parametrize("mode", ["session", "fetch_many"])
def test_widened_protocols_still_never_redirect_to_file(
    mode: str, lab: Lab, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n")
    app = lab.app(redirector({"/go": secret.as_uri()}))
    widened = {"http", "https", "file"}
    if mode == "session":
        with curlx.Session(timeout=T, allowed_protocols=widened) as session:
            with pytest.raises(curlx.UnsupportedProtocol) as caught:
                session.get(app.url("/go"))
            error = caught.value
    else:
        [result] = curlx.fetch_many([app.url("/go")], timeout=T, allowed_protocols=widened)
        assert isinstance(result.error, curlx.UnsupportedProtocol)
        error = result.error
    assert "TOP SECRET" not in str(error) and error.info is not None
    assert error.info.size_download == 0


# --- credentials stay with their host ---------------------------------------------------------

CREDENTIALS: dict[str, tuple[dict[str, Any], str]] = {
    "Authorization-header": ({"headers": {"Authorization": "Bearer t0ken"}}, "authorization"),
    "auth=": ({"auth": ("user", "pa55")}, "authorization"),
    "Cookie-header": ({"headers": {"Cookie": "sid=c00kie"}}, "cookie"),
    "cookies=": ({"cookies": {"sid": "c00kie"}}, "cookie"),
}
DESTINATIONS = ["other-host-name", "other-port", "other-host-and-port"]
CREDENTIAL_MODES = ["get", "session", "session-settings", "fetch_many"]


class TwoServers:
    """A redirecting server and a second one on another port; both record requests."""

    def __init__(self, lab: Lab) -> None:
        self.other: HTTPApp = lab.app()
        self.first: HTTPApp = lab.app(self.handler)

    def handler(self, request: Request, exchange: Exchange) -> Reply:
        port, other = exchange.server.port, self.other.port
        targets = {
            "/other-host-name": f"http://localhost:{port}/landed",
            "/other-port": f"http://127.0.0.1:{other}/landed",
            "/other-host-and-port": f"http://localhost:{other}/landed",
            "/same-origin": f"http://127.0.0.1:{port}/landed",
        }
        return redirector(targets)(request, exchange)

    def landed(self) -> list[Request]:
        return [r for r in self.first.requests + self.other.requests if r.path == "/landed"]


def send_with_credentials(mode: str, url: str, options: dict[str, Any]) -> curlx.Response:
    options = dict(options)
    if mode == "get":
        return curlx.get(url, timeout=T, **options)
    if mode == "session":
        with curlx.Session(timeout=T) as session:
            return session.get(url, **options)
    if mode == "session-settings":
        with curlx.Session(timeout=T, **options) as session:
            return session.get(url)
    headers = options.pop("headers", None)
    [result] = curlx.fetch_many([curlx.Request(url, headers=headers)], timeout=T, **options)
    assert result.error is None and result.response is not None, result.error
    return result.response


@pytest.mark.parametrize("mode", CREDENTIAL_MODES)
@pytest.mark.parametrize("destination", DESTINATIONS)
@pytest.mark.parametrize("kind", list(CREDENTIALS))
def test_credentials_are_not_forwarded_to_another_host_or_port(
    kind: str, destination: str, mode: str, lab: Lab
) -> None:
    options, header = CREDENTIALS[kind]
    servers = TwoServers(lab)
    response = send_with_credentials(mode, servers.first.url(f"/{destination}"), options)
    assert response.status_code == 200 and response.url.endswith("/landed")
    [leaked] = servers.landed()
    same = send_with_credentials(mode, servers.first.url("/same-origin"), options)
    assert same.status_code == 200
    [control] = [r for r in servers.landed() if r is not leaked]
    first = servers.first.requests[0]
    assert first.header(header)  # sent to the origin it was meant for
    assert leaked.header("host") != first.header("host")
    assert leaked.header(header) is None
    assert control.header(header) == first.header(header)  # same origin: still sent


# --- max_size bounds memory ---------------------------------------------------------------------

LIMIT = 1_000_000
ENDLESS = 200_000_000
GROWTH_KIB = 4 * 1024


@pytest.fixture(scope="module")
def warmed_up() -> None:
    """One small transfer each way first, so that first-use allocations are not counted."""
    with RawServer(Stream(1000)) as server:
        ask("get", server.url(), max_size=LIMIT)
        ask("session", server.url(), max_size=LIMIT)
        ask("fetch_many", server.url(), max_size=LIMIT)


@pytest.mark.parametrize("mode", MODES)
def test_max_size_stops_an_endless_body_with_bounded_memory(mode: str, warmed_up: None) -> None:
    stream = Stream(ENDLESS)
    with RawServer(stream) as server:
        before = rss_kib()
        reset_peak_rss()
        with pytest.raises(curlx.FilesizeExceeded) as caught:
            ask(mode, server.url("/endless"), max_size=LIMIT)
        growth = peak_rss_kib() - before
        assert stream.done.wait(5)
    error = caught.value
    assert isinstance(error, curlx.LimitExceeded) and error.code == 63
    assert error.info is not None and error.info.size_download <= LIMIT
    assert growth < GROWTH_KIB, f"peak RSS grew {growth} KiB"
    assert stream.sent < 32_000_000  # the client stopped reading; it did not drain 200 MB


def test_the_memory_measure_sees_a_large_body(warmed_up: None) -> None:
    """Control for the test above: without max_size, 30 MB received do show in peak RSS."""
    stream = Stream(30_000_000)
    with RawServer(stream) as server:
        before = rss_kib()
        reset_peak_rss()
        response = ask("session", server.url("/big"))
        growth = peak_rss_kib() - before
    assert len(response.content) == stream.sent == -(-30_000_000 // 65536) * 65536
    assert growth > 25 * 1024
