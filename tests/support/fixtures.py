"""The shared fixtures, registered once for every test module by the root conftest.

This module imports only the standard library, pytest and the test servers, never curlx, so
that every test module can use it even while curlx itself does not import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from .ftp import FTPServer
from .lab import Lab
from .pki import PKI
from .raw import LOOPBACK, ConnectStall


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    """A throw-away CA with server, wrong-host, expired and client certificates in PEM files."""
    return PKI.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def lab(tmp_path: Path, pki: PKI) -> Iterator[Lab]:
    """Starts servers on demand (``lab.raw(handler)``, ``lab.app()``, ``lab.ftp()``...); stops
    them all."""
    servers = Lab(tmp_path, pki)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[FTPServer]:
    """A real FTP server (pyftpdlib) on loopback with a read-write and a read-only user."""
    with FTPServer(tmp_path / "ftp-home") as server:
        yield server


@pytest.fixture
def connect_stall() -> Iterator[ConnectStall]:
    """A loopback port whose TCP connects never complete."""
    with ConnectStall() as stall:
        yield stall


@pytest.fixture(scope="module")
def _httpd_for_module() -> Iterator[HTTPServer]:
    server = HTTPServer(host=LOOPBACK, port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def httpd(_httpd_for_module: HTTPServer) -> Iterator[HTTPServer]:
    """pytest-httpserver on 127.0.0.1 (HTTP/1.0, one connection per request), cleared after."""
    try:
        yield _httpd_for_module
    finally:
        _httpd_for_module.clear()


@pytest.fixture(autouse=True, scope="session")
def _no_proxy_from_the_environment() -> Iterator[None]:
    """Tests reach loopback servers directly: a proxy set in the environment must not apply."""
    names = ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    yield
    os.environ.update(saved)
