"""Retry curlx.get with tenacity: retry what curlx calls retryable, wait what the server asks.

`curlx.is_retryable` decides from each error's retry hint (a refused connection: any method;
a reset or a 503: idempotent methods only; a bad certificate: never), and `curlx.retry_after`
gives the server's Retry-After, which the wait below honours before falling back to
exponential backoff.

Run: python examples/tenacity_retry.py   (starts its own server on 127.0.0.1; about 2 seconds)
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import tenacity

import curlx

backoff = tenacity.wait_exponential(multiplier=0.2, max=5)


def wait_retry_after(state: tenacity.RetryCallState) -> float:
    """The server's Retry-After (at most 30 s) if it sent one, else exponential backoff."""
    error = state.outcome.exception() if state.outcome is not None else None
    asked = curlx.retry_after(error) if error is not None else None
    return min(asked, 30.0) if asked is not None else backoff(state)


def report(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    print(f"attempt {state.attempt_number} failed: {error!r}; retrying in {state.upcoming_sleep} s")


@tenacity.retry(
    retry=tenacity.retry_if_exception(curlx.is_retryable),
    stop=tenacity.stop_after_attempt(5),
    wait=wait_retry_after,
    before_sleep=report,
    reraise=True,
)
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
