"""Just enough HTTP/2 framing to play a server over a raw socket: healthy or misbehaving.

The frames are built and read by hand (no HTTP/2 library): `h2_frame()` and `hpack_literal()`
make them, the ``H2_*`` constants name them. The handlers run in a `support.raw.RawServer`:
`h2c_ok` (a healthy cleartext prior-knowledge server), `h2_reset_stream`, `h2_garbage` and
`h2_garbage_after_preface`.
"""

from __future__ import annotations

import socket
import struct

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


def _read_h2_frame(sock: socket.socket) -> tuple[int, int, int]:
    header = recv_exact(sock, 9)
    length = int.from_bytes(header[:3], "big")
    kind, flags, stream = struct.unpack(">BBI", header[3:])
    recv_exact(sock, length)
    return kind, flags, stream & 0x7FFFFFFF


def h2_reset_stream(error_code: int = 0x2) -> Handler:
    """An HTTP/2 (prior knowledge, cleartext) server that resets the first request's stream.

    It reads the client preface, exchanges SETTINGS, and answers the first HEADERS frame with
    RST_STREAM carrying `error_code` (default INTERNAL_ERROR), then waits for the client to
    hang up.
    """

    def handler(sock: socket.socket, server: RawServer) -> None:
        if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
            return
        sock.sendall(h2_frame(H2_SETTINGS, 0, 0))
        while True:
            kind, flags, stream = _read_h2_frame(sock)
            if kind == H2_SETTINGS and not flags & H2_FLAG_ACK:
                sock.sendall(h2_frame(H2_SETTINGS, H2_FLAG_ACK, 0))
            elif kind == H2_HEADERS:
                sock.sendall(h2_frame(H2_RST_STREAM, 0, stream, struct.pack(">I", error_code)))
                break
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


def h2c_ok(body: bytes = b"ok") -> Handler:
    """A healthy cleartext HTTP/2 (prior knowledge) server: 200 and `body` for every stream."""

    def handler(sock: socket.socket, server: RawServer) -> None:
        if recv_exact(sock, len(H2_PREFACE)) != H2_PREFACE:
            return
        sock.sendall(h2_frame(H2_SETTINGS, 0, 0))
        while not server.stopping.is_set():
            header = recv_exact(sock, 9)
            length = int.from_bytes(header[:3], "big")
            kind, flags = header[3], header[4]
            stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
            recv_exact(sock, length)
            if kind == H2_SETTINGS and not flags & H2_FLAG_ACK:
                sock.sendall(h2_frame(H2_SETTINGS, H2_FLAG_ACK, 0))
            elif kind == H2_HEADERS:
                block = b"\x88" + hpack_literal(b"content-length", str(len(body)).encode())
                sock.sendall(
                    h2_frame(H2_HEADERS, H2_FLAG_END_HEADERS, stream, block)
                    + h2_frame(H2_DATA, H2_FLAG_END_STREAM, stream, body)
                )
            elif kind == H2_GOAWAY:
                return

    return handler
