"""Three real failures through curlx.Curl, printed as curlx reports them.

A refused connection, a name that does not resolve, and a server that accepts the connection
but never answers (a read timeout: the request was sent, so only idempotent methods may retry).

Run: python examples/show_errors.py   (touches only loopback and the reserved .invalid domain)
"""

from __future__ import annotations

import socket

import pycurl

import curlx


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def attempt(url: str, **options: int) -> None:
    handle = curlx.Curl()
    handle.setopt(pycurl.URL, url)
    handle.setopt(pycurl.TIMEOUT_MS, 3000)
    for name, value in options.items():
        handle.setopt(getattr(pycurl, name), value)
    try:
        handle.perform()
    except curlx.CurlError as error:
        print(f"--- {type(error).__name__} (category {error.category.value})")
        print(error)
        print(f"retry: {error.retry.kind.value}; retryable for GET: {error.retryable}\n")
    finally:
        handle.close()


if __name__ == "__main__":
    attempt(f"http://user:secret@127.0.0.1:{closed_port()}/login")
    attempt("https://nonexistent.invalid/")
    with socket.socket() as silent:  # the kernel accepts connections; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        attempt(f"http://127.0.0.1:{silent.getsockname()[1]}/slow", TIMEOUT_MS=300)
