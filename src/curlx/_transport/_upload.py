"""A request body read while it is sent: a binary file, an iterator of bytes, or a multipart
form with open files, so an upload never has to sit whole in memory."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import IO, Any, Final, TypeAlias, cast

import pycurl

from .._exceptions import InvalidRequest

__all__ = ["UploadBody"]

Part: TypeAlias = "bytes | IO[bytes] | Iterator[bytes]"
_ABORT: Final[int] = pycurl.READFUNC_ABORT


def remaining_size(source: Any) -> int | None:
    """Bytes left to read in a binary file from where it stands; None if it cannot tell."""
    try:
        status = os.fstat(source.fileno())
        if status.st_size or os.path.isfile(getattr(source, "name", "") or ""):
            return max(0, int(status.st_size - source.tell()))
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        if source.seekable():
            here = source.tell()
            end = source.seek(0, io.SEEK_END)
            source.seek(here)
            return int(end - here)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return None


class UploadBody:
    """Parts read in turn as libcurl asks for bytes (its READFUNCTION).

    `size` is the total when every part's length is known (sent as Content-Length), else None
    (sent chunked). `rewind()` puts every part back where it started, for a retry; it is False
    for a part that cannot go back (an iterator, a pipe). An exception raised while reading a
    part stops the transfer and is kept in `error`, for the client to raise as itself.
    """

    __slots__ = ("_buffer", "_index", "_parts", "_starts", "error", "size", "started")

    def __init__(self, parts: list[Part]) -> None:
        self._parts = parts
        self._starts: list[int | None] = []
        size: int | None = 0
        for part in parts:
            if isinstance(part, bytes):
                self._starts.append(0)
                length: int | None = len(part)
            elif hasattr(part, "read"):
                length = remaining_size(part)
                file = cast(IO[bytes], part)
                try:
                    self._starts.append(file.tell() if file.seekable() else None)
                except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                    self._starts.append(None)
            else:
                length = None
                self._starts.append(None)
            size = None if size is None or length is None else size + length
        self.size = size
        self._index = 0
        self._buffer = b""
        self.error: BaseException | None = None
        self.started = False

    def read(self, wanted: int) -> bytes | int:
        """Up to `wanted` bytes of the body; b"" at its end."""
        self.started = True
        try:
            return self._read(wanted)
        except BaseException as exc:  # raised as itself once the transfer has stopped
            self.error = exc
            return _ABORT

    def _read(self, wanted: int) -> bytes:
        parts = self._parts
        while True:
            buffer = self._buffer
            if buffer:
                self._buffer = buffer[wanted:]
                return buffer[:wanted]
            if self._index >= len(parts):
                return b""
            part = parts[self._index]
            if isinstance(part, bytes):
                self._buffer = part
                self._index += 1
                continue
            data: Any
            if hasattr(part, "read"):
                data = cast(IO[bytes], part).read(wanted)
            else:
                data = next(part, None)
                if data is not None and not data:
                    continue  # an empty piece: the iterator goes on
            if not data:
                self._index += 1
                continue
            if isinstance(data, bytearray | memoryview):
                data = bytes(data)
            if not isinstance(data, bytes):
                raise InvalidRequest(
                    f"a streamed body gave {type(data).__name__}, not bytes: open files in "
                    "binary mode ('rb') and make iterators yield bytes (encode text first)."
                )
            self._buffer = data

    def seek(self, offset: int, origin: int) -> int:
        """libcurl's SEEKFUNCTION: back to the start, to send the body again after a 307 or
        308 redirect or an authentication challenge."""
        if offset == 0 and origin == os.SEEK_SET and self.rewind():
            return 0  # CURL_SEEKFUNC_OK
        return 2  # CURL_SEEKFUNC_CANTSEEK: libcurl then fails with SEND_FAIL_REWIND (65)

    def rewind(self) -> bool:
        """Back to the start, for sending again; False if a part cannot be read again."""
        if not self.started:
            return True
        if None in self._starts:
            return False
        for part, start in zip(self._parts, self._starts, strict=True):
            if not isinstance(part, bytes):
                cast(IO[bytes], part).seek(cast(int, start))
        self._index = 0
        self._buffer = b""
        self.error = None
        self.started = False
        return True
