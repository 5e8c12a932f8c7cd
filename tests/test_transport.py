"""How a Session drives libcurl, against real local servers: Response.info read on demand but
never another transfer's, the remembered last request, Ctrl-C in the middle of a transfer,
close() from another thread, and sockets beyond what select() can wait on.
"""

from __future__ import annotations

import gc
import os
import pickle
import resource
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

import pytest
from support.http import Exchange, Reply, Request, stall
from support.lab import Lab
from support.raw import closed_port

import curlx
from curlx import Session

T = 5.0
"""The timeout of every request that is not about timeouts."""


def redirecting(request: Request, exchange: Exchange) -> Reply:
    """``/hop`` redirects to ``/end``; every other path answers 200 with its own path."""
    if request.path == "/hop":
        return Reply(302, b"", [("Location", "/end")])
    return Reply(200, request.path.encode())


# --- Response.info is the response's own ----------------------------------------------------


def test_info_of_a_kept_response_is_its_own_after_later_requests(lab: Lab) -> None:
    app = lab.app(redirecting)
    with Session(timeout=T) as s:
        first = s.get(app.url("/hop"))
        second = s.get(app.url("/plain"))
        third = s.post(app.url("/posted"), data=b"x")
    assert (first.url, first.info.redirect_count, first.redirect_count) == (app.url("/end"), 1, 1)
    assert first.info.response_code == 200 and first.http_version == "1.1"
    assert (second.url, second.info.redirect_count) == (app.url("/plain"), 0)
    assert third.info.effective_method == "POST" and third.url == app.url("/posted")
    for response in (first, second, third):
        assert response.primary_ip == "127.0.0.1"
        assert response.info.total_time >= response.info.starttransfer_time > 0


def test_info_survives_the_session_being_closed_or_dropped(lab: Lab) -> None:
    app = lab.app(redirecting)
    s = Session(timeout=T)
    closed = s.get(app.url("/hop"))
    s.close()
    assert closed.url == app.url("/end") and closed.info.redirect_count == 1

    dropped = Session(timeout=T).get(app.url("/hop"))
    gc.collect()  # the Session and its handle are gone: the info was read before
    assert dropped.url == app.url("/end") and dropped.info.response_code == 200


def test_pending_response_pickles_with_its_info(lab: Lab) -> None:
    app = lab.app(redirecting)
    with Session(timeout=T) as s:
        response = s.get(app.url("/hop"))
        copy = pickle.loads(pickle.dumps(response))
        s.get(app.url("/other"))
    assert copy.info == response.info and copy.url == app.url("/end")
    assert (copy.status_code, copy.content, copy.headers) == (200, b"/end", response.headers)


def test_info_read_from_another_thread_is_the_responses_own(lab: Lab) -> None:
    app = lab.app(redirecting)
    with Session(timeout=T) as s:
        kept = s.get(app.url("/hop"))
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.append(kept.url))
        reader.start()
        for _ in range(20):
            s.get(app.url("/other"))
        reader.join(T)
    assert seen == [app.url("/end")] and kept.url == app.url("/end")


def test_session_keeps_no_reference_to_a_body_it_handed_over(lab: Lab) -> None:
    body = os.urandom(4 * 1024 * 1024)
    app = lab.app(lambda request, exchange: Reply(200, body))
    with Session(timeout=T) as s:
        response = s.get(app.url("/big"))
        slot = s._transport._slot  # what the Session holds between requests
        assert slot is not None
        assert (slot.chunks, slot.header_lines) == ([], [])
        references = sys.getrefcount(response.content)  # the Response's, and the argument's
        assert response.content == body  # it came in several chunks, joined
        assert references == 2


# --- the remembered last request ------------------------------------------------------------


def test_repeated_request_sees_changed_settings_and_params(lab: Lab) -> None:
    app = lab.app(redirecting)
    params: dict[str, str] = {}
    with Session(timeout=T, params=params) as s:
        s.get(app.url("/a"))
        s.get(app.url("/a"))
        params["p"] = "1"  # changed in place: still applied
        s.get(app.url("/a"))
        s.headers = curlx.Headers({"X-Later": "yes"})
        s.get(app.url("/a"))
        s.follow_redirects = False
        assert s.get(app.url("/hop")).status_code == 302
        s.follow_redirects = True
        assert s.get(app.url("/hop")).status_code == 200
    targets = [r.target for r in app.requests]
    assert targets == ["/a", "/a", "/a?p=1", "/a?p=1", "/hop?p=1", "/hop?p=1", "/end"]
    assert [r.header("x-later") for r in app.requests[2:4]] == [None, "yes"]


def test_a_new_url_after_a_plain_request_is_checked_as_any_other(lab: Lab) -> None:
    app = lab.app(redirecting)
    with Session(timeout=T) as s:
        assert s.get(app.url("/first")).content == b"/first"
        with pytest.raises(curlx.InvalidRequest, match="url="):
            s.get(app.url("/x\r\nX-Evil: 1"))
        with pytest.raises(curlx.UnsupportedProtocol):
            s.get("file:///etc/passwd")
        assert s.get(app.url("/ünï")).url == app.url("/%C3%BCn%C3%AF")
        with pytest.raises(curlx.ConnectError) as caught:
            s.get(f"http://user:secret@127.0.0.1:{closed_port()}/")
        assert "secret" not in str(caught.value) and caught.value.url is not None
        assert s.get(app.url("/last")).content == b"/last"
    assert [r.target for r in app.requests] == ["/first", "/%C3%BCn%C3%AF", "/last"]


def test_a_bad_override_equal_to_a_good_one_is_still_refused(lab: Lab) -> None:
    app = lab.app()
    with Session() as s:
        s.get(app.url("/"), timeout=1)
        with pytest.raises(TypeError, match="number of seconds"):
            s.get(app.url("/"), timeout=True)  # True == 1, but it is not a timeout
        curlx.get(app.url("/"), timeout=1)
        with pytest.raises(TypeError, match="number of seconds"):
            curlx.get(app.url("/"), timeout=True)
    assert len(app.requests) == 2


def _connections_to(ports: set[int]) -> int:
    """How many established TCP connections this process has open to one of `ports`."""
    inodes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    with open("/proc/self/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and remote_port in ports and fields[9] in inodes:
                count += 1
    return count


def test_idle_connections_kept_are_bounded(lab: Lab) -> None:
    apps = [lab.app() for _ in range(9)]
    ports = {app.port for app in apps}
    with Session(timeout=T) as s:
        for app in apps:
            assert s.get(app.url("/")).status_code == 200
        kept = _connections_to(ports)
        assert s.get(apps[-1].url("/")).status_code == 200  # the newest is still kept
    assert 1 <= kept <= 5  # as many as libcurl's easy handle keeps, not one per server
    assert apps[-1].connections == 1
    assert _connections_to(ports) == 0


# --- interruption and closing -----------------------------------------------------------------


@pytest.fixture
def alarm() -> Iterator[None]:
    """SIGALRM raises KeyboardInterrupt, as Ctrl-C would; the old handler is put back."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("alarm")
def test_ctrl_c_stops_a_waiting_request_at_once_and_the_session_goes_on(lab: Lab) -> None:
    silent = lab.app(stall)
    app = lab.app()
    with Session(timeout=30) as s:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            s.get(silent.url("/stall"))
        assert time.monotonic() - started < 2  # not the 30 s read timeout
        assert s.get(app.url("/after")).status_code == 200
    assert [r.path for r in app.requests] == ["/after"]
    # An interrupted transfer may have left a name lookup running: close() does not wait
    # for it, and the multi handle is still closed (by a daemon thread).
    multi = s._transport._multi
    assert multi is not None
    deadline = time.monotonic() + T
    while not multi.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert multi.closed


def test_close_from_another_thread_takes_effect_when_the_request_ends(lab: Lab) -> None:
    entered = threading.Event()
    release = threading.Event()

    def handler(request: Request, exchange: Exchange) -> Reply:
        entered.set()
        release.wait(T)
        return Reply(200, b"done")

    app = lab.app(handler)
    s = Session(timeout=T)
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(s.get(app.url("/slow")).content))
    worker.start()
    try:
        assert entered.wait(T)
        s.close()  # returns at once; the running request finishes first
        assert repr(s) == "<curlx.Session closed>"
    finally:
        release.set()
        worker.join(T)
    assert results == [b"done"]
    with pytest.raises(curlx.InvalidOperation, match="closed"):
        s.get(app.url("/again"))
    assert len(app.requests) == 1


# --- sockets select() cannot wait on ----------------------------------------------------------


@pytest.fixture
def low_descriptors_taken() -> Iterator[None]:
    """Descriptors up to past 1024 held open, so new sockets get numbers select() cannot take."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the file descriptor limit ({hard}) is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held: list[int] = []
    try:
        while not held or held[-1] < 1030:
            held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("low_descriptors_taken")
def test_requests_work_on_sockets_beyond_fd_setsize(lab: Lab) -> None:
    app = lab.app(redirecting)
    silent = lab.app(stall)
    with Session(timeout=T) as s:
        started = time.monotonic()
        responses = [s.get(app.url(f"/{i}")) for i in range(5)]
        assert time.monotonic() - started < 2
        with pytest.raises(curlx.ReadTimeout):
            s.get(silent.url("/stall"), timeout=1)
        assert s.get(app.url("/hop")).url == app.url("/end")
        assert not s._transport._selectable  # it did fall back to libcurl's own loop
    assert [r.content for r in responses] == [f"/{i}".encode() for i in range(5)]
