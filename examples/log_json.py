"""Log as JSON lines: curlx's own records and your failures, each error as `e.to_dict()`.

`JSONFormatter` renders every `logging` record as one JSON object. Records of the ``curlx``
logger carry the transfer's facts as attributes (method, url, status_code, http_version,
elapsed, reused, and on a failure `error`, the typed error); a record whose exc_info (or
`error`) is a curlx error gets that error's `to_dict()`: class, code, name, category, retry
kind, method, URL without credentials, libcurl's message and the transfer's facts. A log
pipeline can rebuild the error with `curlx.CurlError.from_dict(record["error"])`.

Run: python examples/log_json.py   (starts its own server on 127.0.0.1; under a second)
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import curlx

# What curlx puts on its records, besides logging's own attributes.
TRANSFER_FACTS = ("method", "url", "status_code", "http_version", "elapsed", "reused")


class JSONFormatter(logging.Formatter):
    """One JSON object per record; a curlx error (in exc_info, or curlx's `error`) as a dict."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in TRANSFER_FACTS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        error = record.exc_info[1] if record.exc_info else getattr(record, "error", None)
        if isinstance(error, curlx.CurlError):
            out["error"] = error.to_dict()
        elif record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out)


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the second request reuses the connection

    def do_GET(self) -> None:
        body = b"hello\n"
        self.send_response(200)
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
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JSONFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger("curlx").setLevel(logging.DEBUG)  # one record per transfer
    log = logging.getLogger("example")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        with curlx.Session(timeout=5) as session:
            for _ in range(2):
                session.get(f"http://user:secret@127.0.0.1:{server.server_port}/")
            try:
                session.get(f"http://user:secret@127.0.0.1:{closed_port()}/login")
            except curlx.CurlError:
                log.exception("the login server is down")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


if __name__ == "__main__":
    main()
