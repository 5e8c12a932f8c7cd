"""A structlog processor that turns a curlx error in exc_info into a record: `e.to_dict()`.

``log.exception("...")`` (or ``exc_info=True``, or ``exc_info=error``) with a curlx error puts
the error's facts in the event dict under "error" (class, code, name, category, retry kind,
method, URL without credentials, libcurl's message, the transfer's facts) instead of a
traceback; other exceptions keep structlog's usual traceback.

Run: python examples/structlog_errors.py   (needs structlog; starts its own server on
127.0.0.1; under a second)
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

import curlx


def curl_error_as_record(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace a curlx error in ``exc_info`` by its `to_dict()` record under "error"."""
    exc_info = event_dict.get("exc_info")
    if exc_info is True:
        exc_info = sys.exc_info()
    error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if isinstance(error, curlx.CurlError):
        del event_dict["exc_info"]
        event_dict["error"] = error.to_dict()
    return event_dict


structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        curl_error_as_record,  # before format_exc_info, which would render a traceback
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.PrintLoggerFactory(sys.stdout),
)


class Busy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"busy\n"
        self.send_response(503)
        self.send_header("Retry-After", "30")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def main() -> None:
    log = structlog.get_logger()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        for url in (
            f"http://127.0.0.1:{server.server_port}/report",
            f"http://user:secret@127.0.0.1:{closed_port()}/login",
        ):
            try:
                curlx.get(url, timeout=5).raise_for_status()
            except curlx.CurlError:
                log.exception("fetch failed")
        try:
            raise ValueError("not a curlx error")
        except ValueError:
            log.exception("something else failed")  # keeps structlog's traceback
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


if __name__ == "__main__":
    main()
