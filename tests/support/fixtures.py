"""The shared fixtures, registered once for every test module by the root conftest.

- ``pki`` (session): the throw-away CA and its certificates (`support.pki.PKI`).
- ``lab``: servers on demand for one test, all stopped after it (`support.lab.Lab`).
- ``farm`` (module): the crawl farm (`support.farm.Farm`).
- ``ftp_server`` (module): a real FTP server with a read-write and a read-only user.
- ``connect_stall``: a loopback port whose TCP connects never complete.
- ``httpserver``, pytest-httpserver's own fixture, listens on 127.0.0.1 (not "localhost")
  through ``httpserver_listen_address``.
- No proxy from the environment applies to any test.

This module imports only the standard library, pytest and the test servers, never curlx, so
that every test module can use it even while curlx itself does not import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .farm import Farm
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


@pytest.fixture(scope="module")
def farm(pki: PKI) -> Iterator[Farm]:
    """The crawl farm, shared by the tests of a module (see `support.farm`)."""
    with Farm(pki) as servers:
        yield servers


@pytest.fixture(scope="module")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FTPServer]:
    """A real FTP server (pyftpdlib) on loopback with a read-write and a read-only user."""
    with FTPServer(tmp_path_factory.mktemp("ftp") / "home") as server:
        yield server


@pytest.fixture
def connect_stall() -> Iterator[ConnectStall]:
    """A loopback port whose TCP connects never complete."""
    with ConnectStall() as stall:
        yield stall


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """Where pytest-httpserver's ``httpserver`` listens: 127.0.0.1, on a fresh port."""
    return (LOOPBACK, 0)


@pytest.fixture(autouse=True, scope="session")
def _no_proxy_from_the_environment() -> Iterator[None]:
    """Tests reach loopback servers directly: a proxy set in the environment must not apply."""
    names = ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    yield
    os.environ.update(saved)
