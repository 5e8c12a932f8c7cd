"""Just enough HTTP/2 framing to play a server over a raw socket: healthy or misbehaving.

The frames are built and read by hand (no HTTP/2 library): `h2_frame()` and `hpack_literal()`
make them, `read_frame()` reads one, the ``H2_*`` constants name them, and `serve_frames()`
plays the server side of a connection. The handlers run in a `support.raw.RawServer`:
`H2Responder` (a healthy server, which can leave one request unanswered), `h2_reset_stream`,
`h2_garbage` and `h2_garbage_after_preface`.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable, Sequence

from .raw import Handler, RawServer, drain, recv_exact

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA = 0x0
H2_HEADERS = 0x1
H2_RST_STREAM = 0x3
H2_SETTINGS = 0x4
H2_GOAWAY = 0x7
H2_FLAG_ACK = 0x1  # on SETTINGS
H2_FLAG_END_STREAM = 0x1  # on DATA and HEADERS
H2_FLAG_END_HEADERS = 0x4


def h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def hpack_literal(name: bytes, value: bytes) -> bytes:
    """An HPACK literal header field without indexing, new name, no Huffman coding.

    Only for names and values shorter than 127 bytes (their length fits the 7-bit prefix).
    """
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_frame(sock: socket.socket) -> tuple[int, int, int, bytes]:
    """The next frame from `sock`: its type, flags, stream id and payload."""
    header = recv_exact(sock, 9)
    length = int.from_bytes(header[:3], "big")
    kind, flags, stream = struct.unpack(">BBI", header[3:])
    return kind, flags, stream & 0x7FFFFFFF, recv_exact(sock, length)


def serve_frames(sock: socket.socket, server: RawServer, on_request: Callable[[int], bool]) -> bool:
    """Play the server side of an HTTP/2 connection at the frame layer.

    Reads the client preface, sends our SETTINGS, acknowledges the client's, and calls
    `on_request` with the stream id of each HEADERS frame (a request; its HPACK block is not
    read) until it returns False, the client sends GOAWAY or the server stops. Every other
    frame is read and ignored. Returns False if the client did not open with the preface.
    """
    if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
        return False
    sock.sendall(h2_frame(H2_SETTINGS, 0, 0))
    while not server.stopping.is_set():
        kind, flags, stream, _ = read_frame(sock)
        if kind == H2_SETTINGS and not flags & H2_FLAG_ACK:
            sock.sendall(h2_frame(H2_SETTINGS, H2_FLAG_ACK, 0))
        elif kind == H2_HEADERS:
            if not on_request(stream):
                break
        elif kind == H2_GOAWAY:
            break
    return True


class H2Responder:
    """A handler playing a healthy HTTP/2 server: cleartext with prior knowledge, or over TLS
    when run behind `support.raw.tls` (see `support.http.H2Server`).

    Every request stream gets ``:status 200`` (HPACK static index 8), the `headers` given, a
    content-length and `body` in one DATA frame ending the stream; request number `silent`
    (1, 2... over all connections), if given, is never answered. `requests` counts the
    requests (HEADERS frames) received; `alpn` records the protocol ALPN selected on each TLS
    connection.
    """

    def __init__(
        self,
        body: bytes = b"ok",
        *,
        headers: Sequence[tuple[bytes, bytes]] = (),
        silent: int | None = None,
    ) -> None:
        self.body = body
        self.headers = headers
        self.silent = silent
        self.requests = 0
        self.alpn: list[str | None] = []
        self._lock = threading.Lock()

    def __call__(self, sock: socket.socket, server: RawServer) -> None:
        if isinstance(sock, ssl.SSLSocket):
            self.alpn.append(sock.selected_alpn_protocol())
        fields = [*self.headers, (b"content-length", str(len(self.body)).encode())]
        block = b"\x88" + b"".join(hpack_literal(name, value) for name, value in fields)

        def answer(stream: int) -> bool:
            with self._lock:
                self.requests += 1
                number = self.requests
            if number != self.silent:
                sock.sendall(
                    h2_frame(H2_HEADERS, H2_FLAG_END_HEADERS, stream, block)
                    + h2_frame(H2_DATA, H2_FLAG_END_STREAM, stream, self.body)
                )
            return True

        serve_frames(sock, server, answer)


def h2_reset_stream(error_code: int = 0x2) -> Handler:
    """An HTTP/2 (prior knowledge, cleartext) server that resets the first request's stream.

    It reads the client preface, exchanges SETTINGS, and answers the first HEADERS frame with
    RST_STREAM carrying `error_code` (default INTERNAL_ERROR), then waits for the client to
    hang up.
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        def reset_stream(stream: int) -> bool:
            sock.sendall(h2_frame(H2_RST_STREAM, 0, stream, struct.pack(">I", error_code)))
            return False

        if serve_frames(sock, server, reset_stream):
            drain(sock, server)

    return handler


def h2_garbage(sock: socket.socket, server: RawServer) -> None:
    """Answer an HTTP/2 prior-knowledge client like an HTTP/1.1 server: not HTTP/2 frames."""
    recv_exact(sock, len(H2_PREFACE))
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    sock.shutdown(socket.SHUT_WR)
    drain(sock, server)


def h2_garbage_after_preface(sock: socket.socket, server: RawServer) -> None:
    """An HTTP/2 prior-knowledge peer: read the client preface, send our SETTINGS, then bytes
    that are no HTTP/2 frame (a frame header announcing 16 MB), and wait for the hang-up."""
    if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
        raise AssertionError("expected the HTTP/2 client preface")
    sock.sendall(h2_frame(H2_SETTINGS, 0, 0) + b"\xff" * 64)
    drain(sock, server)
