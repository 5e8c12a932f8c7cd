"""Threads: one Session per thread, answers never cross, a shared Session is refused, not raced.

The server echoes each request's target, which carries a token unique to the request, so a
response that reached the wrong thread (or the wrong request) would show at once.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from support.http import Exchange, HTTPApp, Reply, Request
from support.lab import Lab
from support.raw import closed_port
from support.threads import run_threads

import curlx

T = curlx.Timeout(connect=5, read=5, total=10)
THREADS = 8
JOIN = 30.0


def echo_target(request: Request, exchange: Exchange) -> Reply:
    return Reply(200, request.target.encode(), [("Content-Type", "text/plain")])


def tokens(thread: int, count: int) -> list[str]:
    return [f"t{thread}-{i}-{secrets.token_hex(6)}" for i in range(count)]


def test_eight_threads_with_a_session_each_get_their_own_answers(lab: Lab) -> None:
    app = lab.app(echo_target)
    per_thread = 500

    def work(index: int) -> int:
        matched = 0
        with curlx.Session(timeout=T) as session:
            for token in tokens(index, per_thread):
                response = session.get(app.url("/echo"), params={"token": token})
                assert response.status_code == 200
                assert response.text == f"/echo?token={token}"
                matched += 1
        return matched

    outcomes = run_threads(THREADS, work)
    assert outcomes == [per_thread] * THREADS
    assert len(app.requests) == THREADS * per_thread
    assert len({r.target for r in app.requests}) == THREADS * per_thread
    assert app.connections == THREADS  # each Session kept its one connection


def test_a_shared_session_refuses_a_second_concurrent_request(lab: Lab) -> None:
    entered = threading.Event()
    release = threading.Event()

    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path == "/slow":
            entered.set()
            release.wait(JOIN)
        return Reply(200, request.target.encode())

    app = lab.app(handler)
    with curlx.Session(timeout=T) as session:
        first: list[object] = []
        slow = threading.Thread(target=lambda: first.append(session.get(app.url("/slow")).text))
        slow.start()
        try:
            assert entered.wait(JOIN)
            refusals = run_threads(3, lambda i: session.get(app.url(f"/concurrent/{i}")))
            with pytest.raises(curlx.InvalidOperation, match="another thread") as caught:
                session.get(app.url("/from-the-main-thread"))
        finally:
            release.set()
            slow.join(JOIN)
        assert first == ["/slow"]
        for refusal in refusals:
            assert isinstance(refusal, curlx.InvalidOperation) and refusal.code is None
            assert isinstance(refusal, RuntimeError) and "another thread" in str(refusal)
        assert caught.value.code is None
        # Used by one thread at a time, the same Session works from any thread.
        for i in range(4):
            path = f"/turn/{i}"

            def turn(_: int, path: str = path) -> str:
                return session.get(app.url(path)).text

            assert run_threads(1, turn) == [path]
        assert session.get(app.url("/main")).text == "/main"
    assert [r.path for r in app.requests] == ["/slow", *(f"/turn/{i}" for i in range(4)), "/main"]
    assert app.connections == 1  # the handle, and its connection, went from thread to thread


def test_module_level_get_from_eight_threads_at_once(lab: Lab) -> None:
    app = lab.app(echo_target)
    per_thread = 500

    def work(index: int) -> int:
        for token in tokens(index, per_thread):
            response = curlx.get(app.url("/get"), params={"token": token}, timeout=T)
            assert response.text == f"/get?token={token}"
        return per_thread

    assert run_threads(THREADS, work) == [per_thread] * THREADS
    assert len(app.requests) == THREADS * per_thread
    # Pooled Sessions: never more than one per concurrent caller, each keeping its connection.
    assert app.connections <= THREADS


def test_an_errors_info_read_in_another_thread_is_its_own_transfers() -> None:
    refused = f"http://127.0.0.1:{closed_port()}/refused"
    with (
        HTTPApp(lambda request, exchange: Reply(200, b"ok")) as app,
        curlx.Session(timeout=curlx.Timeout(connect=2, read=2, total=5)) as session,
    ):
        for _ in range(30):
            try:
                session.get(refused)
            except curlx.CouldntConnect as error:
                caught = error
            seen: list[curlx.TransferInfo | None] = []

            def read(
                error: curlx.CurlError = caught, into: list[curlx.TransferInfo | None] = seen
            ) -> None:
                into.append(error.info)

            reader = threading.Thread(target=read)
            reader.start()
            assert session.get(app.url("/ok")).status_code == 200  # the handle moves on
            reader.join(5)
            info = caught.info
            assert seen == [info] and info is not None
            assert info.effective_url == refused and info.os_errno == 111
