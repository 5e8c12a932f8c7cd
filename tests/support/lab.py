"""Servers on demand for one test, all stopped when it ends: `Lab` (the ``lab`` fixture)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

import trustme

from .ftp import FTPReply, FTPServer, TFTPErrorServer, scripted_ftp
from .http import ForwardProxy, H2Server, HTTPApp, RequestHandler, echo
from .pki import PKI
from .raw import LOOPBACK, ConnectStall, Handler, RawServer, tls


class Lab:
    """Starts servers on demand and stops them all on `close` (the ``lab`` fixture).

    Raw fault servers (`raw`, `https`, `connect_stall`), FTP and TFTP peers (`ftp`,
    `scripted_ftp`, `tftp_error`) and HTTP peers (`app`, `proxy`, `h2`); every TLS one presents
    a certificate of `pki`. Scenario tables use it so that one row can ask for whatever server
    it needs::

        lambda c, lab: c.setopt(pycurl.URL, lab.raw(raw.close_after_request).url())
    """

    def __init__(self, tmp_path: Path, pki: PKI) -> None:
        self.tmp_path = tmp_path
        self.pki = pki
        self.proxies: list[ForwardProxy] = []
        """Every proxy started, to check that no request went through one unasked."""
        self._stack = contextlib.ExitStack()
        self._ftp: FTPServer | None = None

    def raw(self, handler: Handler, *, host: str = LOOPBACK) -> RawServer:
        """A started `RawServer` running `handler`."""
        return self._stack.enter_context(RawServer(handler, host=host))

    def https(
        self,
        then: Handler,
        cert: trustme.LeafCert | None = None,
        *,
        require_client_cert: bool = False,
    ) -> RawServer:
        """A started TLS server presenting `cert` (default: a valid one), then running `then`."""
        context = self.pki.server_context(cert, require_client_cert=require_client_cert)
        return self.raw(tls(context, then))

    def connect_stall(self) -> ConnectStall:
        return self._stack.enter_context(ConnectStall())

    def ftp(self) -> FTPServer:
        """The (one, shared) real FTP server, started on first use."""
        if self._ftp is None:
            self._ftp = self._stack.enter_context(FTPServer(self.tmp_path / "ftp-home"))
        return self._ftp

    def scripted_ftp(
        self,
        replies: Mapping[str, FTPReply] | None = None,
        *,
        greeting: str = "220 Scripted FTP ready",
        data: bytes = b"0123456789",
    ) -> RawServer:
        """A started `scripted_ftp` server (see there)."""
        return self.raw(scripted_ftp(replies, greeting=greeting, data=data))

    def tftp_error(self, error_code: int) -> TFTPErrorServer:
        return self._stack.enter_context(TFTPErrorServer(error_code))

    def app(
        self,
        handler: RequestHandler = echo,
        *,
        tls: bool = False,
        alpn: list[str] | None = None,
        port: int = 0,
    ) -> HTTPApp:
        """A started `HTTPApp` (HTTPS with the PKI's certificate if `tls`), on `port` if given."""
        context = self.pki.server_context(alpn=alpn) if tls else None
        return self._stack.enter_context(HTTPApp(handler, context, port=port))

    def proxy(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        refuse_connect: bool = False,
        tls: bool = False,
    ) -> ForwardProxy:
        """A started `ForwardProxy` (an ``https://`` one with the PKI's certificate if `tls`)."""
        context = self.pki.server_context() if tls else None
        server = ForwardProxy(
            credentials=credentials, refuse_connect=refuse_connect, ssl_context=context
        )
        self.proxies.append(self._stack.enter_context(server))
        return server

    def h2(self, body: bytes = b"hello over h2") -> H2Server:
        """A started `H2Server` (HTTP/2 over TLS, ALPN h2) answering `body`."""
        return self._stack.enter_context(H2Server(self.pki.server_context(alpn=["h2"]), body))

    def close(self) -> None:
        self._stack.close()
