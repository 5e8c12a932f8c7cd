"""FTP and TFTP peers on loopback: a real FTP server, a scripted one, and TFTP errors.

- `FTPServer`: a real pyftpdlib server with a read-write and a read-only user.
- `scripted_ftp()`: a `support.raw.RawServer` handler that answers each FTP command from a
  script (weird greetings, refused commands, broken passive replies...).
- `TFTPErrorServer`: a UDP server answering every TFTP request with an ERROR packet.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer as _PyFTPServer

from .raw import (
    IO_TIMEOUT,
    JOIN_TIMEOUT,
    LOOPBACK,
    POLL_INTERVAL,
    Handler,
    RawServer,
    listening_socket,
    reset,
)

FTPReply = str | Callable[["FTPSession", str], str]
"""A scripted FTP reply: the literal reply line(s), or a function of (session, argument)."""


class FTPSession:
    """State of one scripted-FTP control connection: its socket and passive data listener."""

    def __init__(self, sock: socket.socket, server: RawServer, data: bytes) -> None:
        self.sock = sock
        self.server = server
        self.data = data
        self.listener: socket.socket | None = None

    def passive(self, _argument: str) -> str:
        """Open a loopback data listener and describe it in a 227 reply."""
        self.close_listener()
        self.listener = listening_socket(LOOPBACK, backlog=1)
        self.listener.settimeout(IO_TIMEOUT)  # one accept, which waits for the client
        port = self.listener.getsockname()[1]
        return f"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 0xFF})"

    def send_data(self, _argument: str) -> str:
        """Send `data` over the data connection opened by PASV; reply 226 (or 425 without)."""
        if self.listener is None:
            return "425 Use PASV first"
        self.reply("150 Opening data connection")
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(self.data)
        self.close_listener()
        return "226 Transfer complete"

    def reset_data(self, _argument: str) -> str:
        """Accept the data connection opened by PASV and reset it, then say 150 as if all was
        well: a client uploading on it fails to send."""
        if self.listener is None:
            return "425 Use PASV first"
        conn, _ = self.listener.accept()
        reset(conn)
        self.close_listener()
        return "150 Ok to send data"

    def reply(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None


_FTP_DEFAULTS: Mapping[str, FTPReply] = {
    "USER": "331 Password required",
    "PASS": "230 Logged in",
    "PWD": '257 "/" is the current directory',
    "CWD": "250 OK",
    "TYPE": "200 Type set",
    "MDTM": "550 No modification time",
    "SIZE": "213 10",
    "REST": "350 Restarting",
    "EPSV": "500 EPSV not understood",
    "PASV": FTPSession.passive,
    "RETR": FTPSession.send_data,
    "LIST": FTPSession.send_data,
    "NLST": FTPSession.send_data,
    "QUIT": "221 Bye",
}


def scripted_ftp(
    replies: Mapping[str, FTPReply] | None = None,
    *,
    greeting: str = "220 Scripted FTP ready",
    data: bytes = b"0123456789",
) -> Handler:
    """A fake FTP server: answers each command from `replies`, keyed by the command verb.

    Verbs not in `replies` get a sane default (log in, PWD ``/``, no EPSV so clients fall back
    to PASV, a working PASV + RETR/LIST that sends `data`); unknown verbs get ``502``. A reply
    is the literal text (CRLF is added) or a function of the session and the argument. Use it
    for weird greetings, PASS/PASV/227 replies, refused TYPE/PRET/REST/PORT and the like.
    """
    script = {**_FTP_DEFAULTS, **(replies or {})}

    def handler(sock: socket.socket, server: RawServer) -> None:
        session = FTPSession(sock, server, data)
        try:
            session.reply(greeting)
            buffer = b""
            while not server.stopping.is_set():
                while b"\r\n" not in buffer:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                line, buffer = buffer.split(b"\r\n", 1)
                verb, _, argument = line.decode("latin-1").partition(" ")
                verb = verb.upper()
                answer = script.get(verb, "502 Command not implemented")
                session.reply(answer if isinstance(answer, str) else answer(session, argument))
                if verb == "QUIT":
                    return
        finally:
            session.close_listener()

    return handler


FTP_USER = "user"
FTP_PASSWORD = "s3cret"
FTP_READONLY_USER = "reader"
FTP_READONLY_PASSWORD = "reader-pw"
FTP_FILE_NAME = "hello.txt"
FTP_FILE_CONTENT = b"hello from the FTP server\n"


_Polling = TypeVar("_Polling", bound="_PollingServer")


class _PollingServer:
    """A server whose `_poll()` runs over and over in a daemon thread until `stop()`, which
    then joins the thread and calls `_close()` to free its sockets."""

    def __init__(self, name: str) -> None:
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def _poll(self) -> None:
        """Serve what came in the last `POLL_INTERVAL` at most."""
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self.stopping.is_set():
            self._poll()

    def start(self: _Polling) -> _Polling:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._started:
            self._thread.join(JOIN_TIMEOUT)
        self._close()

    def __enter__(self: _Polling) -> _Polling:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class FTPServer(_PollingServer):
    """A real pyftpdlib FTP server on loopback, in a thread, with its own I/O loop.

    Users: `FTP_USER`/`FTP_PASSWORD` may read and write; `FTP_READONLY_USER` may only read.
    Both share `home`, which holds `FTP_FILE_NAME` with `FTP_FILE_CONTENT`.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        (home / FTP_FILE_NAME).write_bytes(FTP_FILE_CONTENT)
        authorizer = DummyAuthorizer()
        authorizer.add_user(FTP_USER, FTP_PASSWORD, str(home), perm="elradfmwMT")
        authorizer.add_user(FTP_READONLY_USER, FTP_READONLY_PASSWORD, str(home), perm="elr")
        handler = type(
            "_Handler",
            (FTPHandler,),
            {"authorizer": authorizer, "timeout": 10, "auth_failed_timeout": 0},
        )
        self._ioloop = IOLoop()
        self._server = _PyFTPServer((LOOPBACK, 0), handler, ioloop=self._ioloop)
        self.port: int = self._server.address[1]
        super().__init__(f"FTP:{self.port}")

    def url(self, path: str = "/", user: str = FTP_USER, password: str = FTP_PASSWORD) -> str:
        """An ``ftp://user:password@127.0.0.1:PORT/path`` URL."""
        return f"ftp://{user}:{password}@{LOOPBACK}:{self.port}{path}"

    def _poll(self) -> None:
        self._ioloop.loop(timeout=POLL_INTERVAL, blocking=False)

    def _close(self) -> None:
        self._server.close_all()


class TFTPErrorServer(_PollingServer):
    """A UDP server on loopback answering every TFTP request with an ERROR packet.

    TFTP error codes: 1 file not found, 2 access violation, 3 disk full, 4 illegal operation,
    5 unknown transfer id, 6 file exists, 7 no such user.
    """

    def __init__(self, error_code: int, message: str = "scripted error") -> None:
        self.packet = struct.pack(">HH", 5, error_code) + message.encode() + b"\0"
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.settimeout(POLL_INTERVAL)
        self.port: int = self._sock.getsockname()[1]
        self.requests = 0
        super().__init__(f"TFTP:{self.port}")

    def url(self, path: str = "/file") -> str:
        return f"tftp://{LOOPBACK}:{self.port}{path}"

    def _poll(self) -> None:
        try:
            _packet, peer = self._sock.recvfrom(65536)
        except TimeoutError:
            return
        self.requests += 1
        self._sock.sendto(self.packet, peer)

    def _close(self) -> None:
        self._sock.close()
