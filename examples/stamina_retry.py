"""Retry curlx.get with stamina: retry what curlx calls retryable, wait what the server asks.

stamina's `on=` takes a backoff hook: it returns False to give up, True to retry after
stamina's own jittered backoff, or a number of seconds to wait instead. `curlx.is_retryable`
decides from each error's retry hint and `curlx.retry_after` gives the server's Retry-After.
(For tests, `stamina.set_testing(True)` turns every wait off.)

Run: python examples/stamina_retry.py   (starts its own server on 127.0.0.1; about 2 seconds)
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stamina

import curlx


def retry_hook(error: Exception) -> bool | float:
    """stamina backoff hook: give up, wait the server's Retry-After (at most 30 s), or back off."""
    if not curlx.is_retryable(error):
        return False
    asked = curlx.retry_after(error)
    if asked is not None:
        print(f"{error.__class__.__name__}: the server asked to wait {asked} s")
        return min(asked, 30.0)
    return True


@stamina.retry(on=retry_hook, attempts=5, timeout=30)
def fetch(url: str) -> curlx.Response:
    # raise_for_status() turns a 503 into curlx.HTTPServerError, carrying its Retry-After.
    return curlx.get(url, timeout=5).raise_for_status()


class Busy(BaseHTTPRequestHandler):
    """Answers the first two requests with 503 and Retry-After: 1, then 200."""

    busy_left = 2
    lock = threading.Lock()

    def do_GET(self) -> None:
        with Busy.lock:
            busy = Busy.busy_left > 0
            Busy.busy_left -= busy
        body = b"busy\n" if busy else b"hello\n"
        self.send_response(503 if busy else 200)
        if busy:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the output to what the client sees


def main() -> None:
    stamina.instrumentation.set_on_retry_hooks([])  # no log lines: the hook prints instead
    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        response = fetch(f"http://127.0.0.1:{server.server_port}/")
        print(response.status_code, response.text.strip())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


if __name__ == "__main__":
    main()
