"""Streaming both ways against real loopback servers: bodies read as they arrive (requests'
`stream=True` and httpx's `Session.stream()`, one implementation), and request bodies read from
files and iterators while they are sent.

Memory is checked by RSS on an endless body read for a bounded number of bytes; the 1 GiB
figure is the benchmark's (bench/bench_stream.py).
"""

from __future__ import annotations

import gc
import io
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.http import Exchange, HTTPApp, Reply, Request
from support.lab import Lab
from support.measure import rss_kib
from support.raw import RawServer, endless_body, read_head

import curlx
from curlx import Session

T = 5.0
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BODY = bytes(range(256)) * 4096  # 1 MiB, every byte value


def app_of(lab: Lab, routes: dict[str, Reply]) -> HTTPApp:
    def handler(request: Request, exchange: Exchange) -> Reply:
        return routes.get(request.path, Reply(404, b"no such path"))

    return lab.app(handler)


def echo_body(request: Request, exchange: Exchange) -> Reply:
    """Describes the body it got: its length, Content-Length and Transfer-Encoding, and it."""
    facts = [
        str(len(request.body)),
        request.header("content-length") or "-",
        request.header("transfer-encoding") or "-",
        request.method,
    ]
    return Reply(200, " ".join(facts).encode() + b"\n" + request.body)


class Gate:
    """A raw server that sends the head and a first part of the body, then waits for `open`
    before it sends the rest: a response whose body is not all there when its headers are."""

    def __init__(self, lab: Lab, first: bytes, rest: bytes) -> None:
        self.open = threading.Event()
        size = len(first) + len(rest)

        def handler(sock: socket.socket, server: RawServer) -> None:
            read_head(sock)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + first)
            if self.open.wait(T) and not server.stopping.is_set():
                sock.sendall(rest)

        self.server = lab.raw(handler)


# --- downloads ---------------------------------------------------------------------------------


def test_iter_content_gives_the_body_in_chunks_of_the_size_asked(lab: Lab) -> None:
    app = app_of(lab, {"/big": Reply(200, BODY)})
    with Session(timeout=T) as s:
        r = s.get(app.url("/big"), stream=True)
        assert isinstance(r, curlx.StreamedResponse) and r.status_code == 200
        assert r.headers["content-length"] == str(len(BODY))
        chunks = list(r.iter_content(chunk_size=1000))
    assert b"".join(chunks) == BODY
    assert {len(c) for c in chunks[:-1]} == {1000} and len(chunks[-1]) == len(BODY) % 1000
    assert r.is_closed and r.is_stream_consumed


def test_headers_come_before_the_body_is_all_there(lab: Lab) -> None:
    gate = Gate(lab, b"first-", b"second")
    with Session(timeout=T) as s, s.stream("GET", gate.server.url()) as r:
        assert r.status_code == 200 and r.headers["content-length"] == "12"
        pieces = r.iter_bytes()
        assert next(pieces) == b"first-"  # the rest has not been sent yet
        gate.open.set()
        assert b"".join(pieces) == b"second"


def test_iter_text_and_iter_lines_decode_across_piece_boundaries(lab: Lab) -> None:
    text = "première ligne\r\nzweite Zeile\nτρίτη\rlast"
    app = app_of(
        lab, {"/t": Reply(200, text.encode(), [("Content-Type", "text/plain; charset=utf-8")])}
    )
    with Session(timeout=T) as s:
        r: curlx.Response
        with s.stream("GET", app.url("/t")) as r:
            assert "".join(r.iter_text(chunk_size=1)) == text  # 1 byte at a time: split chars
        with s.stream("GET", app.url("/t")) as r:
            assert list(r.iter_lines(chunk_size=3)) == [
                "première ligne",
                "zweite Zeile",
                "τρίτη",
                "last",
            ]
        with s.stream("GET", app.url("/t")) as r:  # requests' bytes lines
            assert list(r.iter_lines(decode_unicode=False))[0] == "première ligne".encode()
        r = s.get(app.url("/t"), stream=True)
        r.encoding = "latin-1"
        assert "".join(r.iter_content(decode_unicode=True)) == text.encode().decode("latin-1")


def test_leaving_the_block_early_closes_the_transfer_and_the_session_goes_on(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    app = app_of(lab, {"/": Reply(200, b"ok")})
    with Session(timeout=T) as s:
        with s.stream("GET", endless.url()) as r:
            for _ in r.iter_bytes():
                break
        assert r.is_closed
        assert s.get(app.url("/")).text == "ok"
        second = s.get(endless.url(), stream=True)
        next(second.iter_bytes())
        second.close()
        assert s.get(app.url("/")).text == "ok"


def test_other_requests_run_while_a_stream_is_open(lab: Lab) -> None:
    gate = Gate(lab, b"a" * 1000, b"b" * 1000)
    app = app_of(lab, {"/": Reply(200, b"ok"), "/big": Reply(200, BODY)})
    with Session(timeout=T) as s, s.stream("GET", gate.server.url()) as r:
        pieces = r.iter_bytes()
        first = next(pieces)
        assert s.get(app.url("/")).text == "ok"
        assert s.get(app.url("/big")).content == BODY
        with s.stream("GET", app.url("/big")) as second:  # two streams at once
            assert second.read() == BODY
        gate.open.set()
        assert first + b"".join(pieces) == b"a" * 1000 + b"b" * 1000


def test_content_reads_the_rest_and_a_stream_reads_once(lab: Lab) -> None:
    app = app_of(lab, {"/big": Reply(200, BODY)})
    r: curlx.Response
    with Session(timeout=T) as s:
        r = s.get(app.url("/big"), stream=True)
        assert r.content == BODY and r.read() == BODY and r.json is not None
        assert list(r.iter_bytes()) == [BODY]  # read already: the body, in one piece
        r = s.get(app.url("/big"), stream=True)
        assert b"".join(r.iter_bytes()) == BODY
        with pytest.raises(curlx.InvalidOperation, match="already read"):
            list(r.iter_bytes())
        r = s.get(app.url("/big"), stream=True)
        r.close()
        with pytest.raises(curlx.InvalidOperation, match="closed before its body was read"):
            r.content  # noqa: B018


def test_a_reset_mid_body_raises_the_typed_error_from_the_iterator(lab: Lab) -> None:
    def handler(sock: socket.socket, server: RawServer) -> None:
        read_head(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()

    server = lab.raw(handler)
    app = app_of(lab, {"/": Reply(200, b"ok")})
    got = bytearray()
    with Session(timeout=T) as s:
        with pytest.raises((curlx.RecvError, curlx.PartialFile)) as caught:
            with s.stream("GET", server.url("/file")) as r:
                for piece in r.iter_bytes():
                    got += piece
        assert got == b"x" * len(got) and len(got) <= 5000
        error = caught.value
        assert error.url == server.url("/file") and error.retry.kind is curlx.RetryKind.IDEMPOTENT
        assert s.get(app.url("/")).text == "ok"


def test_a_stall_mid_body_is_a_read_timeout_from_the_iterator(lab: Lab) -> None:
    gate = Gate(lab, b"x" * 100, b"never")
    with Session(timeout=curlx.Timeout(connect=T, read=1)) as s:
        with s.stream("GET", gate.server.url()) as r:
            pieces = r.iter_bytes()
            assert next(pieces) == b"x" * 100
            with pytest.raises(curlx.ReadTimeout) as caught:
                next(pieces)
        info = caught.value.info
        assert info is not None and info.request_sent
    gate.open.set()  # let the server's handler end


def test_max_size_stops_an_endless_stream_with_its_typed_error(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    with Session(timeout=T, max_size=200_000) as s:
        read = 0
        with pytest.raises(curlx.FilesizeExceeded):
            with s.stream("GET", endless.url()) as r:
                for piece in r.iter_bytes():
                    read += len(piece)
        assert read <= 200_000


def test_a_slow_reader_is_not_a_stalled_server(lab: Lab) -> None:
    """The transfer is paused while the reader is busy: that pause is no lack of progress."""
    app = app_of(lab, {"/big": Reply(200, BODY * 4)})
    with Session(timeout=curlx.Timeout(connect=T, read=1)) as s:
        with s.stream("GET", app.url("/big")) as r:
            pieces = r.iter_bytes()
            got = next(pieces)
            threading.Event().wait(2.5)  # the reader is busy elsewhere, longer than read=1
            got += b"".join(pieces)
    assert got == BODY * 4


def test_memory_stays_bounded_on_an_endless_body(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    with Session(timeout=T) as s, s.stream("GET", endless.url()) as r:
        before = rss_kib()
        read = 0
        for piece in r.iter_bytes():
            read += len(piece)
            if read >= 300 * 1024 * 1024:
                break
        grown = rss_kib() - before
    assert read >= 300 * 1024 * 1024
    assert grown < 50 * 1024, f"RSS grew by {grown} KiB while streaming 300 MiB"


def test_retries_happen_before_the_stream_is_handed_over(lab: Lab) -> None:
    answers = iter([Reply(503, b"busy"), Reply(200, BODY)])
    app = lab.app(lambda request, exchange: next(answers))
    retry = curlx.Retry(total=2, backoff_factor=0)
    with Session(timeout=T, retry=retry) as s, s.stream("GET", app.url("/")) as r:
        assert r.status_code == 200 and r.read() == BODY
    assert len(app.requests) == 2


def test_closing_the_session_cuts_an_open_stream_off(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    s = Session(timeout=T)
    r = s.get(endless.url(), stream=True)
    pieces = r.iter_bytes()
    next(pieces)
    s.close()
    with pytest.raises(curlx.InvalidOperation, match="its Session was closed") as caught:
        list(pieces)  # what had arrived, then the error
    assert caught.value.url == endless.url()


def test_module_level_stream_and_stream_true(lab: Lab) -> None:
    app = app_of(lab, {"/big": Reply(200, BODY)})
    r: curlx.Response
    with curlx.stream("GET", app.url("/big"), timeout=T) as r:
        assert b"".join(r.iter_bytes()) == BODY
    r = curlx.get(app.url("/big"), stream=True, timeout=T)
    assert isinstance(r, curlx.StreamedResponse) and r.content == BODY
    assert curlx.get(app.url("/big"), timeout=T).content == BODY  # the pool is fine after


def test_a_plain_response_offers_the_same_iterators(lab: Lab) -> None:
    app = app_of(lab, {"/t": Reply(200, b"one\ntwo\n")})
    r = curlx.get(app.url("/t"), timeout=T)
    assert list(r.iter_lines()) == ["one", "two"]
    assert list(r.iter_content(3)) == [b"one", b"\ntw", b"o\n"]
    with r:
        assert r.read() == b"one\ntwo\n"


def test_streaming_over_http2(lab: Lab) -> None:
    server = lab.h2(body=b"h2 body " * 1000)
    with (
        Session(timeout=T, verify=str(lab.pki.ca_file), http_version="2") as s,
        s.stream("GET", server.url()) as r,
    ):
        assert r.http_version == "2"
        assert b"".join(r.iter_bytes()) == b"h2 body " * 1000


def test_get_o_streams_to_the_file(lab: Lab, tmp_path: Path) -> None:
    from curlx._cli import main

    app = app_of(lab, {"/big": Reply(200, BODY * 5)})
    target = tmp_path / "out.bin"
    assert main(["get", app.url("/big"), "-o", str(target)]) == 0
    assert target.read_bytes() == BODY * 5


# --- uploads -----------------------------------------------------------------------------------


def test_a_binary_file_is_sent_with_its_length(lab: Lab, tmp_path: Path) -> None:
    app = lab.app(echo_body)
    path = tmp_path / "upload.bin"
    path.write_bytes(BODY)
    with Session(timeout=T) as s:
        with path.open("rb") as f:
            r = s.post(app.url("/"), data=f)
        assert r.content.split(b"\n", 1)[0] == b"%d %d - POST" % (len(BODY), len(BODY))
        assert app.requests[-1].body == BODY
        with path.open("rb") as f:
            f.seek(1000)  # from where the file stands, as requests does
            r = s.put(app.url("/"), content=f)
        assert r.content.split(b"\n", 1)[0] == b"%d %d - PUT" % (len(BODY) - 1000, len(BODY) - 1000)
        assert app.requests[-1].body == BODY[1000:]


def test_an_iterator_is_sent_chunked(lab: Lab) -> None:
    app = lab.app(echo_body)

    def pieces() -> Iterator[bytes]:
        for i in range(50):
            yield b"%03d," % i

    with Session(timeout=T) as s:
        r = s.post(app.url("/"), data=pieces())
        head = r.content.split(b"\n", 1)[0]
        assert head == b"200 - chunked POST"
        assert app.requests[-1].body == b"".join(b"%03d," % i for i in range(50))
        r = s.patch(app.url("/"), content=iter([b"a", b"", b"bc"]))
        assert r.content.split(b"\n", 1)[0] == b"3 - chunked PATCH"


def test_files_are_streamed_into_the_multipart_body(lab: Lab, tmp_path: Path) -> None:
    app = lab.app(echo_body)
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n" * 10000)
    with Session(timeout=T) as s, path.open("rb") as f:
        r = s.post(app.url("/"), files={"report": f}, data={"kind": "csv"})
    sent = app.requests[-1]
    assert sent.header("content-length") == str(len(sent.body))  # the size was known
    assert b'name="report"; filename="report.csv"' in sent.body
    assert b"a,b\n1,2\n" * 10000 in sent.body and b'name="kind"\r\n\r\ncsv' in sent.body
    assert r.status_code == 200


def test_a_retry_reads_a_seekable_body_again(lab: Lab) -> None:
    answers = iter([Reply(503, b"busy"), Reply(200, b"done")])
    app = lab.app(lambda request, exchange: next(answers))
    with Session(timeout=T, retry=curlx.Retry(total=2, backoff_factor=0)) as s:
        r = s.put(app.url("/"), data=io.BytesIO(b"payload" * 1000))
    assert r.text == "done"
    assert [q.body for q in app.requests] == [b"payload" * 1000] * 2


def test_a_retry_of_a_one_shot_body_is_refused_clearly(lab: Lab) -> None:
    app = lab.app(lambda request, exchange: Reply(503, b"busy"))
    with Session(timeout=T, retry=curlx.Retry(total=2, backoff_factor=0)) as s:
        with pytest.raises(curlx.InvalidRequest, match="cannot be read twice") as caught:
            s.put(app.url("/"), data=iter([b"once"]))
    assert "HTTP 503" in str(caught.value) and len(app.requests) == 1


def test_an_exception_raised_by_the_body_iterator_propagates_as_itself(lab: Lab) -> None:
    app = lab.app(echo_body)

    def broken() -> Iterator[bytes]:
        yield b"start"
        raise LookupError("the source went away")

    with Session(timeout=T) as s:
        with pytest.raises(LookupError, match="the source went away") as caught:
            s.post(app.url("/"), data=broken())
        assert isinstance(caught.value.__cause__, curlx.CurlError)
        assert s.get(app.url("/")).status_code == 200  # and the Session goes on


def test_a_text_mode_file_is_refused_before_sending(lab: Lab, tmp_path: Path) -> None:
    app = lab.app(echo_body)
    path = tmp_path / "t.txt"
    path.write_text("text")
    with Session(timeout=T) as s, path.open() as f:
        with pytest.raises(curlx.InvalidRequest, match="binary mode"):
            s.post(app.url("/"), data=f)
    assert app.requests == []


def test_a_307_sends_a_streamed_body_again(lab: Lab) -> None:
    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.path == "/old":
            return Reply(307, b"", [("Location", "/new")])
        return echo_body(request, exchange)

    app = lab.app(handler)
    with Session(timeout=T) as s:
        r = s.post(app.url("/old"), data=io.BytesIO(b"z" * 5000))
    assert r.url.endswith("/new") and app.requests[-1].body == b"z" * 5000


def test_a_stream_dropped_unclosed_is_closed_by_the_next_request(lab: Lab) -> None:
    endless = lab.raw(endless_body())
    app = app_of(lab, {"/": Reply(200, b"ok")})
    with Session(timeout=T) as s:
        r = s.get(endless.url(), stream=True)
        next(r.iter_bytes())
        transport = s._transport
        assert len(transport._streams) == 1
        del r
        gc.collect()
        assert s.get(app.url("/")).text == "ok"
        assert not transport._streams  # the dropped transfer was closed, its slot kept
        assert len(transport._spare) == 1


def test_a_second_iterator_goes_on_where_the_first_stopped(lab: Lab) -> None:
    app = app_of(lab, {"/big": Reply(200, BODY)})
    with Session(timeout=T) as s, s.stream("GET", app.url("/big")) as r:
        got = b""
        for piece in r.iter_bytes():  # pieces as they arrive: nothing held back when left
            got += piece
            break
        got += b"".join(r.iter_bytes())
        assert got == BODY and r.is_closed
        with pytest.raises(curlx.InvalidOperation, match="being or was read"):
            r.content  # noqa: B018


def test_example_stream_download_round_trip(lab: Lab, tmp_path: Path) -> None:
    received: list[bytes] = []

    def handler(request: Request, exchange: Exchange) -> Reply:
        if request.method == "PUT":
            received.append(request.body)
            return Reply(201, b"")
        return Reply(200, BODY * 3)

    app = lab.app(handler)
    out = tmp_path / "copy.bin"
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "stream_download.py"),
            app.url("/file"),
            str(out),
            "--upload-to",
            app.url("/put"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == BODY * 3 and received == [BODY * 3]
    assert f"{len(BODY) * 3} bytes sha256=" in done.stdout and "HTTP 201" in done.stdout
    refused = subprocess.run(
        [sys.executable, str(EXAMPLES / "stream_download.py"), app.url("/x"), "/no/such/dir/x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1 and "cannot write /no/such/dir/x" in refused.stderr


def test_a_stream_is_logged_when_its_headers_are_in(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate(lab, b"head-", b"tail")
    with caplog.at_level(logging.DEBUG, logger="curlx"):
        with Session(timeout=T) as s, s.stream("GET", gate.server.url("/s")) as r:
            records = [rec for rec in caplog.records if rec.name == "curlx"]
            assert len(records) == 1  # before the body is all there
            assert records[0].status_code == 200 and records[0].url == gate.server.url("/s")  # type: ignore[attr-defined]
            gate.open.set()
            assert r.read() == b"head-tail"


def test_streams_after_a_failed_stream_and_on_a_kept_alive_connection(lab: Lab) -> None:
    """The situations a stream meets on a Session in use: after a stream that failed
    mid-body on the same Session, and on a connection a plain request kept alive."""
    gate = Gate(lab, b"x" * 100, b"never")
    app = app_of(lab, {"/big": Reply(200, BODY), "/": Reply(200, b"ok")})
    with Session(timeout=curlx.Timeout(connect=T, read=1)) as s:
        with pytest.raises(curlx.ReadTimeout), s.stream("GET", gate.server.url()) as r:
            r.read()
        assert s.get(app.url("/")).text == "ok"  # opens the connection the stream reuses
        with s.stream("GET", app.url("/big")) as r:
            assert r.read() == BODY
            assert r.info.num_connects == 0  # the kept-alive connection, not a new one
        with s.stream("GET", app.url("/big")) as r:  # and again, after a stream that ended
            assert b"".join(r.iter_bytes()) == BODY
    gate.open.set()
