"""AsyncSession streaming on real loopback servers (asyncio's loop and uvloop's): the same
shape as httpx's `client.stream()`, on the transfer machinery the sync streams use."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import threading
from collections.abc import Iterator

import pytest
from support.http import Exchange, Reply, Request
from support.lab import Lab
from support.measure import rss_kib
from support.raw import RawServer, endless_body, read_head

import curlx

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

T = 5.0
BODY = bytes(range(256)) * 4096  # 1 MiB


class Gate:
    """Head and a first part of the body, then the rest once `open` is set."""

    def __init__(self, lab: Lab, first: bytes, rest: bytes) -> None:
        self.open = threading.Event()
        size = len(first) + len(rest)

        def handler(sock: socket.socket, server: RawServer) -> None:
            read_head(sock)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + first)
            if self.open.wait(T) and not server.stopping.is_set():
                sock.sendall(rest)

        self.server = lab.raw(handler)


def routes(lab: Lab, table: dict[str, Reply]) -> str:
    app = lab.app(lambda request, exchange: table.get(request.path, Reply(404)))
    return app.url("")


async def test_aiter_bytes_text_and_lines(lab: Lab) -> None:
    base = routes(
        lab,
        {
            "/big": Reply(200, BODY),
            "/t": Reply(200, "α\r\nβ\nγ".encode(), [("Content-Type", "text/plain; charset=utf-8")]),
        },
    )
    async with curlx.AsyncSession(timeout=T) as s:
        async with s.stream("GET", base + "/big") as r:
            assert isinstance(r, curlx.AsyncStreamedResponse) and r.status_code == 200
            chunks = [c async for c in r.aiter_bytes(chunk_size=1000)]
        assert b"".join(chunks) == BODY and {len(c) for c in chunks[:-1]} == {1000}
        assert r.is_closed
        async with s.stream("GET", base + "/t") as r:
            assert [line async for line in r.aiter_lines()] == ["α", "β", "γ"]
        async with s.stream("GET", base + "/t") as r:
            assert "".join([t async for t in r.aiter_text(chunk_size=1)]) == "α\r\nβ\nγ"
        whole = await s.get(base + "/big", stream=True)
        assert isinstance(whole, curlx.AsyncStreamedResponse)
        r = whole
        with pytest.raises(curlx.InvalidOperation, match="aread"):
            r.content  # noqa: B018
        assert await r.aread() == BODY and r.content == BODY


async def test_headers_first_and_other_requests_meanwhile(lab: Lab) -> None:
    gate = Gate(lab, b"first-", b"second")
    base = routes(lab, {"/": Reply(200, b"ok")})
    async with curlx.AsyncSession(timeout=T) as s:
        async with s.stream("GET", gate.server.url()) as r:
            assert r.headers["content-length"] == "12"
            pieces = r.aiter_bytes()
            assert await pieces.__anext__() == b"first-"
            assert (await s.get(base + "/")).text == "ok"  # the session goes on meanwhile
            gate.open.set()
            assert b"".join([p async for p in pieces]) == b"second"


async def test_leaving_early_frees_the_slot(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    base = routes(lab, {"/": Reply(200, b"ok")})
    async with curlx.AsyncSession(timeout=T, max_connections=1) as s:
        for _ in range(3):  # one slot: each stream must give it back when left
            async with s.stream("GET", endless.url()) as r:
                async for _piece in r.aiter_bytes():
                    break
        assert (await asyncio.wait_for(s.get(base + "/"), T)).text == "ok"


async def test_a_failure_mid_body_raises_the_typed_error(lab: Lab) -> None:
    gate = Gate(lab, b"x" * 100, b"never")
    async with curlx.AsyncSession(timeout=curlx.Timeout(connect=T, read=1)) as s:
        async with s.stream("GET", gate.server.url()) as r:
            pieces = r.aiter_bytes()
            assert await pieces.__anext__() == b"x" * 100
            with pytest.raises(curlx.ReadTimeout):
                await pieces.__anext__()
    gate.open.set()


async def test_max_size_and_bounded_memory(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    async with curlx.AsyncSession(timeout=T) as s:
        async with s.stream("GET", endless.url()) as r:
            before = rss_kib()
            read = 0
            async for piece in r.aiter_bytes():
                read += len(piece)
                if read >= 200 * 1024 * 1024:
                    break
            assert rss_kib() - before < 50 * 1024
        with pytest.raises(curlx.FilesizeExceeded):
            async with s.stream("GET", endless.url(), max_size=100_000) as r:
                async for _piece in r.aiter_bytes():
                    pass


async def test_a_slow_reader_is_not_a_stalled_server(lab: Lab) -> None:
    base = routes(lab, {"/big": Reply(200, BODY * 4)})
    async with curlx.AsyncSession(timeout=curlx.Timeout(connect=T, read=1)) as s:
        async with s.stream("GET", base + "/big") as r:
            pieces = r.aiter_bytes()
            got = await pieces.__anext__()
            await asyncio.sleep(2.5)  # the reader is busy, longer than read=1
            got += b"".join([p async for p in pieces])
    assert got == BODY * 4


async def test_uploads_stream_and_hooks_are_awaited(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    app = lab.app(lambda request, exchange: Reply(200, b"%d" % len(request.body)))
    seen: list[str] = []

    async def on_response(response: curlx.Response) -> None:
        seen.append(f"{response.request.method} {response.status_code}")

    def pieces() -> Iterator[bytes]:
        yield from (b"ab", b"cd")

    async with curlx.AsyncSession(timeout=T, event_hooks={"response": [on_response]}) as s:
        assert (await s.post(app.url("/"), data=io.BytesIO(b"z" * 70000))).text == "70000"
        assert (await s.put(app.url("/"), content=pieces())).text == "4"
        with caplog.at_level(logging.DEBUG, logger="curlx"):
            async with s.stream("GET", app.url("/")) as r:
                assert await r.aread() == b"0"
    assert seen == ["POST 200", "PUT 200", "GET 200"]
    assert any(rec.name == "curlx" for rec in caplog.records)


async def test_a_stream_cut_off_by_aclose(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    s = curlx.AsyncSession(timeout=T)
    r = await s.get(endless.url(), stream=True)
    assert isinstance(r, curlx.AsyncStreamedResponse)
    await r.aiter_bytes().__anext__()
    await s.aclose()
    with pytest.raises(curlx.InvalidOperation):
        await r.aread()


async def test_keywords_of_requests_and_httpx(lab: Lab) -> None:
    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path == "/api/old":
            return Reply(302, b"", [("Location", "/api/new")])
        return Reply(200, request.target.encode())

    app = lab.app(handler)
    async with curlx.AsyncSession(base_url=app.url("/api"), timeout=(2, 3)) as s:
        assert (await s.get("/old", allow_redirects=False)).status_code == 302
        assert (await s.get("/x", params="a=1")).text == "/api/x?a=1"
        with pytest.raises(curlx.InvalidRequest, match='http_version="2"'):
            await s.get("/x", http2=True)
        with pytest.raises(curlx.InvalidRequest, match=r"\(user, password\)"):
            await s.get("/x", auth="u:p")


async def test_streams_after_a_cancelled_stream_and_after_a_failed_one(lab: Lab) -> None:
    gate = Gate(lab, b"x" * 100, b"never")
    base = routes(lab, {"/big": Reply(200, BODY)})
    timeout = curlx.Timeout(connect=T, read=1)
    async with curlx.AsyncSession(timeout=timeout, max_connections=1) as s:
        inside = asyncio.Event()

        async def read_forever() -> None:
            async with s.stream("GET", gate.server.url()) as r:
                async for _piece in r.aiter_bytes():
                    inside.set()

        task = asyncio.ensure_future(read_forever())
        await asyncio.wait_for(inside.wait(), T)  # reading: now cancel it mid-body
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with s.stream("GET", base + "/big") as r:  # the one slot was given back
            assert await r.aread() == BODY
        with pytest.raises(curlx.ReadTimeout):
            async with s.stream("GET", gate.server.url()) as r:
                await r.aread()
        async with s.stream("GET", base + "/big") as r:
            assert b"".join([p async for p in r.aiter_bytes()]) == BODY
    gate.open.set()
