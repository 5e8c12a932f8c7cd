"""pycurl's classes and curlx's drop-ins, put through the same checks.

Every check runs once for each way of using the classes (the ``impl`` fixture):

- ``pycurl``: pycurl's own classes, the reference;
- ``curlx``: ``curlx.Curl``, ``curlx.CurlMulti`` and ``curlx.CurlShare``;
- ``curlx-subclass``: an application's subclasses of those;
- ``swapped``: curlx's classes swapped into the pycurl module (``pycurl.Curl = curlx.Curl``...)
  before anything else is imported, as a codebase adopts them in one place:
  `test_the_same_checks_pass_with_the_classes_swapped_into_pycurl` runs this module again, in
  a subprocess, that way.

A check holds for all of them, except where curlx differs from pycurl on purpose (the README's
"Drop-in handles: what differs from pycurl"): those checks branch on ``impl.typed``.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import os
import pickle
import select
import socket
import subprocess
import sys
import threading
import warnings
import weakref
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pycurl
import pytest
from support.http import Exchange, HTTPApp, Reply, Request
from support.raw import closed_port
from support.threads import run_threads

import curlx
from curlx._curl import PycurlCurl, PycurlMulti, PycurlShare

ROOT = Path(__file__).resolve().parent.parent
SWAPPED = pycurl.Curl is curlx.Curl
"""True in the subprocess that swapped curlx's classes into pycurl before importing this."""
TIMEOUT_MS = 5000
"""Every transfer's time limit."""


class AppCurl(curlx.Curl):
    """An application's subclass of curlx.Curl, as pycurl codebases write them."""

    def describe(self) -> str:
        return "app handle"


class AppMulti(curlx.CurlMulti):
    """An application's subclass of curlx.CurlMulti."""


class AppShare(curlx.CurlShare):
    """An application's subclass of curlx.CurlShare."""


@dataclass(frozen=True)
class Impl:
    """One way of using the classes: what a check constructs its handles from."""

    name: str
    Curl: type[pycurl.Curl]
    CurlMulti: Callable[..., pycurl.CurlMulti]  # (pycurl's stubs omit the constructors' args)
    CurlShare: Callable[..., pycurl.CurlShare]

    @property
    def typed(self) -> bool:
        """True for curlx's classes, whose deliberate differences from pycurl apply."""
        return self.name != "pycurl"


if SWAPPED:
    IMPLS = {"swapped": Impl("swapped", pycurl.Curl, pycurl.CurlMulti, pycurl.CurlShare)}
else:
    IMPLS = {
        "pycurl": Impl("pycurl", pycurl.Curl, pycurl.CurlMulti, pycurl.CurlShare),
        "curlx": Impl("curlx", curlx.Curl, curlx.CurlMulti, curlx.CurlShare),
        "curlx-subclass": Impl("curlx-subclass", AppCurl, AppMulti, AppShare),
    }
PYCURL = Impl("pycurl", PycurlCurl, PycurlMulti, PycurlShare)
"""pycurl's own classes, whatever the pycurl module names now: the reference for messages."""


@pytest.fixture(params=list(IMPLS))
def impl(request: pytest.FixtureRequest) -> Impl:
    return IMPLS[request.param]


# --- the peers: an HTTP/1.1 keep-alive server and an FTP server, on loopback ----------------

BAD_UTF8 = b"\xff\xfe is not UTF-8"
BIG = b"x" * 300_000


def _answer(request: Request, exchange: Exchange) -> Reply:
    path = request.path
    if path == "/bad":
        return Reply(200, BAD_UTF8)
    if path == "/big":
        return Reply(200, BIG)
    if path == "/redirect":
        return Reply(307, b"", [("Location", "/")])
    if path == "/echo":  # the request target, so that every answer shows whose it is
        return Reply(200, request.target.encode())
    if path == "/set-cookie":
        return Reply(200, b"set", [("Set-Cookie", "flavour=oat; Path=/")])
    if path == "/cookie":
        return Reply(200, (request.header("Cookie") or "").encode())
    if path == "/headers":
        return Reply(200, "\n".join(f"{k}: {v}" for k, v in request.headers).encode())
    if path == "/body":
        return Reply(200, request.body)
    return Reply(200, b"hello")


@pytest.fixture(scope="module")
def app() -> Iterator[HTTPApp]:
    with HTTPApp(_answer) as server:
        yield server


def new(impl: Impl, url: str | None = None) -> pycurl.Curl:
    """A handle of `impl` with a time limit (and a URL, if given)."""
    handle = impl.Curl()
    handle.setopt(pycurl.TIMEOUT_MS, TIMEOUT_MS)
    if url is not None:
        handle.setopt(pycurl.URL, url)
    return handle


def refused_url() -> str:
    return f"http://127.0.0.1:{closed_port()}/"


@dataclass
class Reports:
    """Exceptions Python reported instead of raising: printed (pycurl's PyErr_Print goes
    through sys.excepthook) or handed to sys.unraisablehook."""

    printed: list[BaseException] = field(default_factory=list)
    unraisable: list[BaseException] = field(default_factory=list)


@contextlib.contextmanager
def reported() -> Iterator[Reports]:
    """Collect what is printed through sys.excepthook or sent to sys.unraisablehook."""
    reports = Reports()
    saved = sys.excepthook, sys.unraisablehook

    def unraisable(args: Any) -> None:
        reports.unraisable.append(args.exc_value)

    sys.excepthook = lambda kind, value, tb: reports.printed.append(value)
    sys.unraisablehook = unraisable
    try:
        yield reports
    finally:
        sys.excepthook, sys.unraisablehook = saved


def outcome(call: Callable[[], object]) -> tuple[type[BaseException] | None, tuple[Any, ...]]:
    """What `call` raised (its type and args), or (None, (its result,))."""
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - compared by the caller
        return type(exc), exc.args
    return None, (result,)


def assert_fails_as_pycurl(
    impl: Impl, call: Callable[[], object], reference: Callable[[], object], typed: bool = True
) -> None:
    """`call` fails as pycurl's own call `reference` does: the same args; the same type, or
    (curlx, for the calls it types) a curlx error where pycurl raises a bare pycurl.error."""
    got_type, got_args = outcome(call)
    want_type, want_args = outcome(reference)
    assert want_type is not None, "the reference call did not fail"
    assert got_args == want_args
    if impl.typed and typed and want_type is pycurl.error:
        assert got_type is not None and issubclass(got_type, curlx.CurlError), got_type
    else:
        assert got_type is want_type


# --- constructors ----------------------------------------------------------------------------


class Falsy:
    """False, though not a bool: pycurl takes any object's truth for its flags."""

    def __bool__(self) -> bool:
        return False


class Undecided:
    """An object whose truth cannot be told: pycurl's error for the flag is its error."""

    def __bool__(self) -> bool:
        raise ZeroDivisionError("no truth value")


CONSTRUCTOR_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("Curl", (1,), {}),
    ("Curl", (), {"close_handles": True}),
    ("Curl", (1, 2), {"x": 3}),
    ("CurlMulti", (True,), {}),
    ("CurlMulti", (), {"closehandles": True}),
    ("CurlMulti", (), {"close_handles": Undecided()}),
    ("CurlShare", (False,), {}),
    ("CurlShare", (), {"detach": False}),
    ("CurlShare", (), {"detach_on_close": Undecided()}),
]


@pytest.mark.parametrize(("kind", "args", "kwargs"), CONSTRUCTOR_CALLS)
def test_constructors_refuse_what_pycurl_refuses(
    impl: Impl, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    cls: Callable[..., object] = getattr(impl, kind)
    reference: Callable[..., object] = getattr(PYCURL, kind)
    got_type, got_args = outcome(lambda: cls(*args, **kwargs))
    want_type, want_args = outcome(lambda: reference(*args, **kwargs))
    assert want_type in (TypeError, ZeroDivisionError)
    assert (got_type, got_args) == (want_type, want_args)


def test_constructors_take_what_pycurl_takes(impl: Impl) -> None:
    made: list[pycurl.Curl | pycurl.CurlMulti | pycurl.CurlShare] = [
        impl.Curl(),
        impl.CurlMulti(),
        impl.CurlMulti(close_handles=False),
        impl.CurlMulti(close_handles=1),
        impl.CurlShare(),
        impl.CurlShare(detach_on_close=True),
        impl.CurlShare(detach_on_close=Falsy()),
    ]
    assert [type(m) for m in made] == [impl.Curl] + [impl.CurlMulti] * 3 + [impl.CurlShare] * 3
    for handle in made:
        handle.close()
        assert handle.closed


def test_close_handles_closes_the_handles_a_multi_had(impl: Impl) -> None:
    for close_handles in (True, False):
        multi = impl.CurlMulti(close_handles=close_handles)
        handles = [impl.Curl(), impl.Curl()]
        removed = impl.Curl()
        for handle in [*handles, removed]:
            multi.add_handle(handle)
        multi.remove_handle(removed)  # removed on its own: never closed by the multi
        multi.close()
        assert [h.closed for h in handles] == [close_handles, close_handles]
        assert [h.multi() for h in handles] == [None, None]
        assert not removed.closed
        removed.close()


def test_close_handles_applies_when_the_with_block_ends(impl: Impl) -> None:
    handle = impl.Curl()
    with impl.CurlMulti(close_handles=True) as multi:
        multi.add_handle(handle)
        assert handle in multi
    assert multi.closed and handle.closed


def test_a_collected_multi_never_closes_its_handles(impl: Impl) -> None:
    """pycurl: "Automatic teardown only removes the easy handles", whatever close_handles."""
    handle = impl.Curl()
    multi = impl.CurlMulti(close_handles=True)
    multi.add_handle(handle)
    gone = weakref.ref(multi)
    del multi
    gc.collect()
    assert gone() is None
    assert not handle.closed and handle.multi() is None
    handle.close()


def test_detach_on_close_false_refuses_to_close_a_share_in_use(impl: Impl) -> None:
    share = impl.CurlShare(detach_on_close=False)
    handles = [impl.Curl(), impl.Curl()]
    for handle in handles:
        handle.setopt(pycurl.SHARE, share)
    with pytest.raises(pycurl.error) as caught:
        share.close()
    assert caught.value.args == ("cannot close CurlShare: still in use by 2 active Curl objects",)
    assert isinstance(caught.value, curlx.InvalidOperation) == impl.typed
    assert not share.closed
    handles[0].close()
    with pytest.raises(pycurl.error) as caught:
        share.close()
    assert caught.value.args == ("cannot close CurlShare: still in use by 1 active Curl object",)
    handles[1].setopt(pycurl.SHARE, None)
    share.close()
    assert share.closed and handles[1].share() is None


def test_detach_on_close_true_detaches_the_handles(impl: Impl) -> None:
    handle = impl.Curl()
    with impl.CurlShare() as share:
        handle.setopt(pycurl.SHARE, share)
        assert handle.share() is share
    assert share.closed and handle.share() is None and not handle.closed
    handle.close()


# --- duphandle -------------------------------------------------------------------------------


def test_duphandle_copies_options_but_not_the_share(impl: Impl, app: HTTPApp) -> None:
    handle = new(impl, app.url("/headers"))
    handle.setopt(pycurl.HTTPHEADER, ["X-Copied: yes"])
    share = impl.CurlShare()
    handle.setopt(pycurl.SHARE, share)
    handle.tag = "kept"  # type: ignore[attr-defined]
    copy_ = handle.duphandle()
    assert type(copy_) is type(handle)
    assert copy_.tag == "kept"  # type: ignore[attr-defined]
    copy_.tag = "changed"  # type: ignore[attr-defined]
    assert handle.tag == "kept"  # type: ignore[attr-defined]
    assert copy_.share() is None and handle.share() is share
    handle.close()  # the copy holds its own references: header list, callbacks
    assert b"X-Copied: yes" in copy_.perform_rb()
    copy_.close()
    share.close()


def test_duphandle_of_a_subclass_is_that_subclass(impl: Impl) -> None:
    if impl.name == "curlx-subclass":
        handle = impl.Curl()
        copy_ = handle.duphandle()
        assert isinstance(copy_, AppCurl) and copy_.describe() == "app handle"
    else:  # the same for an application's subclass of whatever impl.Curl is
        sub: Any = type("Sub", (impl.Curl,), {"describe": lambda self: "sub"})
        handle = sub()
        copy_ = handle.duphandle()
        assert type(copy_) is sub and copy_.describe() == "sub"
    for h in (handle, copy_):
        h.close()


def test_duphandle_copies_are_usable_on_their_own(impl: Impl, app: HTTPApp) -> None:
    handle = new(impl, app.url("/echo?one"))
    copy_ = handle.duphandle()
    copy_.setopt(pycurl.URL, app.url("/echo?two"))
    copy_.reset()
    copy_.setopt(pycurl.URL, app.url("/echo?three"))
    copy_.setopt(pycurl.TIMEOUT_MS, TIMEOUT_MS)
    assert handle.perform_rb() == b"/echo?one"
    assert copy_.perform_rb() == b"/echo?three"
    copy_.close()
    assert handle.perform_rb() == b"/echo?one"
    handle.close()


def test_duphandle_callbacks_raise_for_the_copy(impl: Impl, app: HTTPApp) -> None:
    """The copy calls the same callables; what they raise in its transfer is the copy's."""
    seen: list[bytes] = []
    boom = ValueError("from the copy's transfer")

    def write(data: bytes) -> None:
        seen.append(data)
        if len(seen) == 2:
            raise boom

    handle = new(impl, app.url("/echo?original"))
    handle.setopt(pycurl.WRITEFUNCTION, write)
    handle.perform()
    copy_ = handle.duphandle()
    with reported() as reports:
        with pytest.raises(BaseException) as caught:
            copy_.perform()
    if impl.typed:
        assert caught.value is boom and reports.printed == []
        assert isinstance(boom.__context__, curlx.WriteError)
    else:
        assert caught.value.args[0] == pycurl.E_WRITE_ERROR and reports.printed == [boom]
    handle.perform()  # nothing of the copy's failure is left on the original
    assert seen == [b"/echo?original"] * 3
    for h in (handle, copy_):
        h.close()


def test_duphandle_keeps_use_memoryview(impl: Impl, app: HTTPApp) -> None:
    chunks: list[object] = []
    handle = new(impl, app.url())
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: chunks.append(type(data)), use_memoryview=True)
    copy_ = handle.duphandle()
    handle.close()
    copy_.perform()
    copy_.close()
    assert chunks == [memoryview]


def test_duphandle_keeps_the_mime_body(impl: Impl, app: HTTPApp) -> None:
    handle = new(impl, app.url("/body"))
    mime = pycurl.CurlMime(handle)
    part = mime.addpart()
    part.name("field")
    part.data("value from the form")
    handle.setopt(pycurl.MIMEPOST, mime)
    copy_ = handle.duphandle()
    del mime, part
    handle.close()
    body = copy_.perform_rb()
    copy_.close()
    assert b'name="field"' in body and b"value from the form" in body


def test_duphandle_of_a_closed_handle(impl: Impl) -> None:
    handle = impl.Curl()
    handle.close()
    reference = PYCURL.Curl()
    reference.close()
    assert_fails_as_pycurl(impl, handle.duphandle, reference.duphandle)


# --- reset, close, use after close -----------------------------------------------------------


def test_reset_forgets_options_and_callbacks(impl: Impl, app: HTTPApp) -> None:
    headers: list[bytes] = []
    handle = new(impl, app.url())
    handle.setopt(pycurl.HEADERFUNCTION, headers.append)
    share = impl.CurlShare()
    handle.setopt(pycurl.SHARE, share)
    handle.reset()
    assert handle.share() is share  # libcurl keeps the share over a reset
    reference = PYCURL.Curl()
    assert_fails_as_pycurl(impl, handle.perform, reference.perform)  # no URL any more
    handle.setopt(pycurl.URL, app.url())
    handle.setopt(pycurl.TIMEOUT_MS, TIMEOUT_MS)
    assert handle.perform_rb() == b"hello"
    assert headers == []
    handle.close()
    share.close()
    reference.close()


def test_errstr_is_the_last_error_until_reset(impl: Impl) -> None:
    handle = new(impl, refused_url())
    assert handle.errstr() == ""
    with pytest.raises(pycurl.error) as caught:
        handle.perform()
    assert caught.value.args[0] == pycurl.E_COULDNT_CONNECT
    assert isinstance(caught.value, curlx.CouldntConnect) == impl.typed
    assert handle.errstr() == caught.value.args[1]
    assert handle.errstr_raw() == caught.value.args[1].encode()
    handle.reset()
    assert handle.errstr() == ""
    handle.close()


def _set_url(handle: pycurl.Curl, url: str, way: str) -> pycurl.Curl:
    """`handle` (or, for "duphandle", a copy of it) with `url` set the given way."""
    if way == "setopt with bytes":
        handle.setopt(pycurl.URL, url.encode())
    elif way == "setopt_string":
        handle.setopt_string(pycurl.URL, url)
    elif way == "CURLU":
        handle.setopt(pycurl.CURLU, pycurl.CurlUrl(url))
    else:
        handle.setopt(pycurl.URL, url)
    return handle.duphandle() if way == "duphandle" else handle


URL_SETTERS = ["setopt", "setopt with bytes", "setopt_string", "CURLU", "duphandle"]


@pytest.mark.parametrize("way", URL_SETTERS)
def test_the_error_is_about_the_url_however_it_was_set(impl: Impl, way: str) -> None:
    url = refused_url()
    handle = new(impl, f"http://127.0.0.1:{closed_port()}/an-earlier-url")
    handle = _set_url(handle, url, way)
    with pytest.raises(pycurl.error) as caught:
        handle.perform()
    assert caught.value.args[0] == pycurl.E_COULDNT_CONNECT
    assert f":{url.split(':')[2].rstrip('/')} " in caught.value.args[1]  # its port
    if impl.typed:
        assert isinstance(caught.value, curlx.CouldntConnect) and caught.value.url == url
    handle.close()


CLOSED_CALLS: dict[str, Callable[[pycurl.Curl], object]] = {
    "perform": lambda h: h.perform(),
    "perform_rb": lambda h: h.perform_rb(),
    "perform_rs": lambda h: h.perform_rs(),
    "setopt": lambda h: h.setopt(pycurl.URL, "http://127.0.0.1/"),
    "setopt callback": lambda h: h.setopt(pycurl.WRITEFUNCTION, print),
    "setopt_string": lambda h: h.setopt_string(pycurl.URL, "http://127.0.0.1/"),
    "unsetopt": lambda h: h.unsetopt(pycurl.WRITEFUNCTION),
    "reset": lambda h: h.reset(),
    "duphandle": lambda h: h.duphandle(),
    "errstr": lambda h: h.errstr(),
    "getinfo": lambda h: h.getinfo(pycurl.RESPONSE_CODE),
    "pause": lambda h: h.pause(pycurl.PAUSE_ALL),
}
UNTYPED_CALLS = {"errstr", "getinfo", "pause"}
"""Methods curlx leaves as pycurl's, at pycurl's speed: their errors are pycurl's own."""


@pytest.mark.parametrize("call", list(CLOSED_CALLS))
def test_use_after_close(impl: Impl, call: str) -> None:
    handle = impl.Curl()
    handle.close()
    handle.close()  # closing twice is fine
    reference = PYCURL.Curl()
    reference.close()
    assert_fails_as_pycurl(
        impl,
        lambda: CLOSED_CALLS[call](handle),
        lambda: CLOSED_CALLS[call](reference),
        typed=call not in UNTYPED_CALLS,
    )
    assert handle.closed and handle.multi() is None and handle.share() is None


def test_with_closes_the_handle_and_lets_exceptions_through(impl: Impl) -> None:
    with pytest.raises(LookupError):
        with impl.Curl() as handle:
            assert not handle.closed
            raise LookupError("inside the block")
    assert handle.closed
    with impl.CurlMulti() as multi, impl.CurlShare() as share:
        assert not multi.closed and not share.closed
    assert multi.closed and share.closed


@pytest.mark.parametrize("kind", ["Curl", "CurlMulti", "CurlShare"])
def test_pickling_and_copying_are_refused(impl: Impl, kind: str) -> None:
    obj = getattr(impl, kind)()
    reference = getattr(PYCURL, kind)()
    for call in (pickle.dumps, copy.copy, copy.deepcopy):
        got_type, got_args = outcome(lambda: call(obj))  # noqa: B023
        assert (got_type, got_args) == outcome(lambda: call(reference))  # noqa: B023
        assert got_type is TypeError
    obj.close()
    reference.close()


# --- perform_rb, perform_rs, setopt ----------------------------------------------------------


def test_perform_rb_and_perform_rs(impl: Impl, app: HTTPApp) -> None:
    handle = new(impl, app.url())
    assert handle.perform_rb() == b"hello"
    assert handle.perform_rs() == "hello"
    handle.setopt(pycurl.URL, app.url("/bad"))
    assert handle.perform_rb() == BAD_UTF8
    with pytest.raises(UnicodeDecodeError) as caught:
        handle.perform_rs()
    assert caught.value.object == BAD_UTF8 and caught.value.start == 0
    handle.setopt(pycurl.URL, refused_url())
    for method in (handle.perform_rb, handle.perform_rs):
        with pytest.raises(pycurl.error) as refused:
            method()
        assert refused.value.args[0] == pycurl.E_COULDNT_CONNECT
        assert isinstance(refused.value, curlx.CouldntConnect) == impl.typed
    handle.close()


UNKNOWN_KEYWORD: dict[str, Any] = {"junk": True}
SETOPT_CALLS: dict[str, Callable[[pycurl.Curl], object]] = {
    "integer for a string option": lambda h: h.setopt(pycurl.URL, 1),
    "unknown option": lambda h: h.setopt(999_999, 1),
    "value libcurl refuses": lambda h: h.setopt(pycurl.SSLVERSION, 9999),
    "use_memoryview elsewhere": lambda h: h.setopt(pycurl.URL, "x", use_memoryview=True),
    "unknown keyword": lambda h: h.setopt(pycurl.URL, "x", **UNKNOWN_KEYWORD),
    "WRITEDATA without write": lambda h: h.setopt(pycurl.WRITEDATA, object()),
    "READDATA without read": lambda h: h.setopt(pycurl.READDATA, object()),
    "callable expected": lambda h: h.setopt(pycurl.WRITEFUNCTION, 1),
    "unsetopt of a non-resettable option": lambda h: h.unsetopt(pycurl.VERBOSE),
    "non-ASCII text": lambda h: h.setopt(pycurl.USERAGENT, "é"),
}


@pytest.mark.parametrize("call", list(SETOPT_CALLS))
def test_setopt_refuses_what_pycurl_refuses(impl: Impl, call: str) -> None:
    handle = impl.Curl()
    reference = PYCURL.Curl()
    assert_fails_as_pycurl(
        impl, lambda: SETOPT_CALLS[call](handle), lambda: SETOPT_CALLS[call](reference)
    )
    handle.close()
    reference.close()


def test_callbacks_can_be_unset(impl: Impl, app: HTTPApp) -> None:
    calls: list[bytes] = []
    handle = new(impl, app.url())
    handle.setopt(pycurl.HEADERFUNCTION, calls.append)
    handle.setopt(pycurl.HEADERFUNCTION, None)
    handle.setopt(pycurl.XFERINFOFUNCTION, lambda *a: calls.append(b"progress"))
    handle.unsetopt(pycurl.XFERINFOFUNCTION)
    handle.setopt(pycurl.NOPROGRESS, 0)
    assert handle.perform_rb() == b"hello"
    copy_ = handle.duphandle()
    assert copy_.perform_rb() == b"hello"
    assert calls == []
    for h in (handle, copy_):
        h.close()


def test_file_objects_as_write_and_read_data(impl: Impl, app: HTTPApp, tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.write_bytes(b"from a file")
    handle = new(impl, app.url("/body"))
    with upload.open("rb") as source, (tmp_path / "download").open("wb") as sink:
        handle.setopt(pycurl.UPLOAD, 1)
        handle.setopt(pycurl.INFILESIZE, upload.stat().st_size)
        handle.setopt(pycurl.READDATA, source)
        handle.setopt(pycurl.WRITEDATA, sink)
        handle.perform()
    assert (tmp_path / "download").read_bytes() == b"from a file"
    handle.close()


def test_deprecation_warnings_point_at_the_callers_line(impl: Impl) -> None:
    handle = impl.Curl()
    multi = impl.CurlMulti()
    with pytest.warns(DeprecationWarning) as caught:
        handle.setopt(pycurl.PROGRESSFUNCTION, lambda *args: 0)
        multi.socket_all()
    assert [str(w.message).split(" ")[0] for w in caught] == ["PROGRESSFUNCTION", "socket_all"]
    assert [w.filename for w in caught] == [__file__, __file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        handle.duphandle().close()  # the copy takes its callbacks without a word, as pycurl's
    handle.close()
    multi.close()


# --- callbacks that raise ----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A callback option, how to make a transfer call it, and how each side ends when the
    callback raises an Exception: pycurl's error code (`ITSELF`: the exception leaves
    perform(); 0: the transfer succeeds), and the code of the curl error curlx gives the
    exception as its context (None: no curl error, the transfer had succeeded)."""

    option: str
    normal: Callable[..., object]
    """What the callback returns when it does not raise."""
    setup: Callable[[pycurl.Curl, str], None]
    pycurl_code: int
    curlx_context: int | None
    server: str = "app"
    """The fixture of the server the transfer goes to."""


ITSELF = -1


def _plain(handle: pycurl.Curl, base: str) -> None:
    handle.setopt(pycurl.URL, base + "/")


def _upload(handle: pycurl.Curl, base: str, path: str = "/body", sized: bool = True) -> None:
    handle.setopt(pycurl.URL, base + path)
    handle.setopt(pycurl.UPLOAD, 1)
    if sized:
        handle.setopt(pycurl.INFILESIZE, 5)
    handle.setopt(pycurl.READFUNCTION, io.BytesIO(b"abcde").read)


def _redirected_upload(handle: pycurl.Curl, base: str) -> None:
    """A PUT answered with 307: libcurl rewinds the body (seek or ioctl) to send it again."""
    _upload(handle, base, "/redirect")
    handle.setopt(pycurl.FOLLOWLOCATION, 1)


def _open_socket(purpose: int, address: Any) -> socket.socket:
    return socket.socket(address.family, address.socktype, address.protocol)


def _close_socket(fd: int) -> int:
    os.close(fd)
    return 0


def _setting(option: str, value: object) -> Callable[[pycurl.Curl, str], None]:
    def setup(handle: pycurl.Curl, base: str) -> None:
        _plain(handle, base)
        handle.setopt(getattr(pycurl, option), value)

    return setup


def _wildcard(handle: pycurl.Curl, base: str) -> None:
    handle.setopt(pycurl.URL, base + "/*.txt")
    handle.setopt(pycurl.WILDCARDMATCH, 1)


KINDS = [
    Kind("WRITEFUNCTION", lambda data: None, _plain, pycurl.E_WRITE_ERROR, 23),
    Kind("HEADERFUNCTION", lambda data: None, _plain, pycurl.E_WRITE_ERROR, 23),
    Kind("READFUNCTION", lambda size: b"", _upload, pycurl.E_ABORTED_BY_CALLBACK, 42),
    Kind("PROGRESSFUNCTION", lambda *a: 0, _setting("NOPROGRESS", 0), 42, 42),
    Kind("XFERINFOFUNCTION", lambda *a: 0, _setting("NOPROGRESS", 0), 42, 42),
    Kind("SEEKFUNCTION", lambda *a: 0, _redirected_upload, pycurl.E_SEND_FAIL_REWIND, 65),
    Kind("IOCTLFUNCTION", lambda *a: 0, _redirected_upload, pycurl.E_SEND_FAIL_REWIND, 65),
    Kind("DEBUGFUNCTION", lambda *a: None, _setting("VERBOSE", 1), 0, 23),
    Kind("OPENSOCKETFUNCTION", _open_socket, _plain, pycurl.E_COULDNT_CONNECT, 7),
    Kind("SOCKOPTFUNCTION", lambda *a: 0, _plain, ITSELF, 42),
    Kind("CLOSESOCKETFUNCTION", _close_socket, _setting("FORBID_REUSE", 1), ITSELF, None),
    Kind("PREREQFUNCTION", lambda *a: 0, _plain, ITSELF, 42),
    Kind("TRAILERFUNCTION", list, lambda h, b: _upload(h, b, sized=False), 42, 23),
    Kind("RESOLVER_START_FUNCTION", lambda *a: 0, _plain, 42, 42),
    Kind("HSTSREADFUNCTION", lambda: None, _setting("HSTS_CTRL", pycurl.CURLHSTS_ENABLE), 42, 23),
    Kind("FNMATCH_FUNCTION", lambda *a: 0, _wildcard, ITSELF, 78, server="ftp_server"),
]
"""Every callback a transfer on loopback can call (the SSH key callbacks need an SSH server)."""


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("kind", KINDS, ids=[k.option for k in KINDS])
def test_a_callback_that_raises(
    impl: Impl, kind: Kind, exc_type: type[BaseException], request: pytest.FixtureRequest
) -> None:
    """KeyboardInterrupt and SystemExit stop the transfer at once and leave perform() as
    themselves, with no callback called again, in every callback, on both sides. An Exception
    does too with curlx (with the curl error as its context, nothing printed); pycurl prints
    it and raises its curl error, or (some callbacks) raises it, or goes on."""
    server = request.getfixturevalue(kind.server)
    calls: list[str] = []  # every callback call of the transfer, in order
    raised = exc_type(f"raised in {kind.option}")

    def callback(*args: Any) -> object:
        calls.append(kind.option)
        if calls.count(kind.option) == 1:
            if kind.option == "CLOSESOCKETFUNCTION":
                os.close(args[0])  # the socket is closed; then the callback fails
            raise raised
        return kind.normal(*args)

    handle = new(impl)
    kind.setup(
        handle, server.url("").rstrip("/") if kind.server == "ftp_server" else server.url("")
    )
    if kind.option != "WRITEFUNCTION":
        handle.setopt(pycurl.WRITEFUNCTION, lambda data: calls.append("write"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PROGRESS-, IOCTLFUNCTION
        handle.setopt(getattr(pycurl, kind.option), callback)
    with reported() as reports:
        try:
            handle.perform()
            left: BaseException | None = None
        except BaseException as exc:  # noqa: B036 - what left perform() is the point
            left = exc
    handle.close()
    after = calls[calls.index(kind.option) + 1 :]  # callback calls once it had raised
    if exc_type is not ValueError or impl.typed:
        assert left is raised
        assert after == []
        assert reports == Reports()  # nothing printed, nothing unraisable
        if exc_type is ValueError:  # curlx: with the curl error it caused as its context
            context = left.__context__
            if kind.curlx_context is None:
                assert context is None
            else:
                assert isinstance(context, curlx.CurlError), repr(context)
                assert context.args[0] == kind.curlx_context
    elif kind.pycurl_code == ITSELF:  # pycurl leaves the exception pending: it leaves perform
        assert left is raised and reports == Reports()
    else:  # pycurl prints it, and goes on to fail with its curl error, or to succeed
        assert reports == Reports(printed=[raised])
        if kind.pycurl_code:
            assert isinstance(left, pycurl.error) and left.args[0] == kind.pycurl_code
        else:
            assert left is None and after  # the debug callback: called on and on


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt])
def test_a_mime_part_callback_that_raises_stays_pycurls(
    impl: Impl, exc_type: type[BaseException], app: HTTPApp
) -> None:
    """A CurlMime part's data_cb callbacks never pass through curlx: pycurl prints an
    Exception (the error 42 that follows is typed); a KeyboardInterrupt leaves perform()."""
    handle = new(impl, app.url("/body"))
    mime = pycurl.CurlMime(handle)
    part = mime.addpart()
    part.name("field")
    raised = exc_type("raised in a mime read callback")

    def read(userdata: object, size: int) -> bytes:
        raise raised

    part.data_cb(5, read)
    handle.setopt(pycurl.MIMEPOST, mime)
    with reported() as reports:
        with pytest.raises(BaseException) as caught:
            handle.perform()
    if exc_type is ValueError:
        assert caught.value.args[0] == pycurl.E_ABORTED_BY_CALLBACK
        assert isinstance(caught.value, curlx.AbortedByCallback) == impl.typed
        assert reports == Reports(printed=[raised])
    else:
        assert caught.value is raised and reports == Reports()
    handle.close()


# --- the multi interface ---------------------------------------------------------------------


def drive(multi: pycurl.CurlMulti) -> None:
    """Run the multi handle's transfers to their end (select, then perform)."""
    running = 1
    for _ in range(10_000):  # bounded: each transfer has its own time limit
        if not running:
            return
        multi.select(0.05)
        _, running = multi.perform()
    raise AssertionError("the transfers did not end")


def test_multi_add_remove_and_info_read(impl: Impl, app: HTTPApp) -> None:
    multi = impl.CurlMulti()
    good, bad = new(impl, app.url()), new(impl, refused_url())
    good.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    for handle in (good, bad):
        multi.add_handle(handle)
        assert handle in multi and handle.multi() is multi
    drive(multi)
    queued, ok_list, failed = multi.info_read(1)
    more, ok_more, failed_more = multi.info_read()
    assert (queued, more) == (1, 0)
    assert ok_list + ok_more == [good]
    [(handle, code, message)] = failed + failed_more
    assert handle is bad and code == pycurl.E_COULDNT_CONNECT and message == bad.errstr()
    if impl.typed:
        [failure] = cast(list[curlx.TransferFailure], failed + failed_more)
        assert isinstance(failure.error, curlx.CouldntConnect) and failure.error.args == (
            code,
            message,
        )
    for handle in (good, bad):
        multi.remove_handle(handle)
        assert handle not in multi and handle.multi() is None
        handle.close()
    multi.close()


def _add_closed(multi: pycurl.CurlMulti, handle: pycurl.Curl) -> None:
    handle.close()
    multi.add_handle(handle)


def _closed_multi(call: Callable[[pycurl.CurlMulti], object]) -> Callable[..., object]:
    def calling(multi: pycurl.CurlMulti, handle: pycurl.Curl) -> object:
        multi.close()
        return call(multi)

    return calling


MULTI_CALLS: dict[str, Callable[[pycurl.CurlMulti, pycurl.Curl], object]] = {
    "remove a handle not added": lambda m, h: m.remove_handle(h),
    "add a closed handle": _add_closed,
    "add something else": lambda m, h: m.add_handle(cast(pycurl.Curl, object())),
    "assign an unknown socket": lambda m, h: m.assign(12345, None),
    "unassign an unknown socket": lambda m, h: m.unassign(12345),
    "setopt an unknown option": lambda m, h: m.setopt(999_999, 1),
    "setopt a bad value": lambda m, h: m.setopt(pycurl.M_MAXCONNECTS, cast(int, "many")),
    "info_read of a closed multi": _closed_multi(lambda m: m.info_read()),
    "perform on a closed multi": _closed_multi(lambda m: m.perform()),
}


@pytest.mark.parametrize("call", list(MULTI_CALLS))
def test_multi_refuses_what_pycurl_refuses(impl: Impl, call: str) -> None:
    multi, handle = impl.CurlMulti(), impl.Curl()
    ref_multi, ref_handle = PYCURL.CurlMulti(), PYCURL.Curl()
    assert_fails_as_pycurl(
        impl,
        lambda: MULTI_CALLS[call](multi, handle),
        lambda: MULTI_CALLS[call](ref_multi, ref_handle),
    )
    for obj in (multi, handle, ref_multi, ref_handle):
        obj.close()


def test_adding_a_handle_twice(impl: Impl) -> None:
    """curlx gives pycurl's own refusal the code libcurl answers the same call with."""
    multi, handle = impl.CurlMulti(), impl.Curl()
    multi.add_handle(handle)
    with pytest.raises(pycurl.error) as caught:
        multi.add_handle(handle)
    message = "curl object already on this multi-stack"
    if impl.typed:
        assert isinstance(caught.value, curlx.MultiAddedAlready)
        assert caught.value.args == (pycurl.E_MULTI_ADDED_ALREADY, message)
    else:
        assert caught.value.args == (message,)
    multi.close()
    handle.close()


class SocketLoop:
    """An application's event loop for the multi socket interface: socket and timer
    callbacks, assign(), select.select() on the sockets, socket_action()."""

    def __init__(self, multi: pycurl.CurlMulti) -> None:
        self.multi = multi
        self.watched: dict[int, int] = {}  # fd -> CURL_POLL_* events
        self.timeout_ms = -1
        self.assigned: list[object] = []  # the socketp values the callback got back
        multi.setopt(pycurl.M_SOCKETFUNCTION, self.on_socket)
        multi.setopt(pycurl.M_TIMERFUNCTION, self.on_timer)

    def on_socket(self, what: int, fd: int, multi: pycurl.CurlMulti, data: object) -> None:
        assert multi is self.multi
        if data is not None:
            self.assigned.append(data)
        if what == pycurl.POLL_REMOVE:
            self.watched.pop(fd, None)
        else:
            if data is None:
                multi.assign(fd, f"socket {fd}")
            self.watched[fd] = what

    def on_timer(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms

    def run(self) -> None:
        running = self.multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)[1]
        for _ in range(10_000):  # bounded: each transfer has its own time limit
            if not running:
                return
            reads = [fd for fd, what in self.watched.items() if what & pycurl.POLL_IN]
            writes = [fd for fd, what in self.watched.items() if what & pycurl.POLL_OUT]
            wait = 0.05 if self.timeout_ms < 0 else min(self.timeout_ms / 1000, 0.05)
            readable, writable, _ = select.select(reads, writes, [], wait)
            if not readable and not writable:
                running = self.multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)[1]
            for fd in set(readable) | set(writable):
                mask = (pycurl.CSELECT_IN if fd in readable else 0) | (
                    pycurl.CSELECT_OUT if fd in writable else 0
                )
                running = self.multi.socket_action(fd, mask)[1]
        raise AssertionError("the transfers did not end")


def test_multi_socket_interface(impl: Impl, app: HTTPApp) -> None:
    multi = impl.CurlMulti()
    loop = SocketLoop(multi)
    bodies: dict[int, list[bytes]] = {}
    handles = [new(impl, app.url(f"/echo?{n}")) for n in range(3)] + [new(impl, refused_url())]
    for n, handle in enumerate(handles):
        handle.setopt(pycurl.WRITEFUNCTION, bodies.setdefault(n, []).append)
        multi.add_handle(handle)
    assert isinstance(multi.timeout(), int)
    assert multi.fdset() == ([], [], [])  # no connection yet
    assert multi.select(0.001) >= 0
    loop.run()
    _, ok_list, failed = multi.info_read()
    assert sorted(handles.index(h) for h in ok_list) == [0, 1, 2]
    assert [(h, code) for h, code, _ in failed] == [(handles[3], pycurl.E_COULDNT_CONNECT)]
    assert [b"".join(bodies[n]) for n in range(3)] == [f"/echo?{n}".encode() for n in range(3)]
    assert loop.assigned and all(str(a).startswith("socket ") for a in loop.assigned)
    for handle in handles:
        multi.remove_handle(handle)
        handle.close()
    multi.close()
    assert loop.watched == {}


MULTI_OPTIONS = ["M_TIMERFUNCTION", "M_SOCKETFUNCTION", "M_NOTIFYFUNCTION"]


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("option", MULTI_OPTIONS)
def test_a_multi_callback_that_raises(
    impl: Impl, option: str, exc_type: type[BaseException], app: HTTPApp
) -> None:
    """curlx: what a socket, timer or notify callback raises leaves the call that ran it as
    itself (add_handle for the first timer call, socket_action for the others), with the
    MultiError it caused as its context, and no callback is called again in that call. pycurl
    prints an Exception (then raises error 11 from the socket or timer callback, or goes on
    after the notify callback); it lets a KeyboardInterrupt from the socket or notify callback
    leave, but loses one from the timer callback behind error 11."""
    multi = impl.CurlMulti()
    loop = SocketLoop(multi)
    raised = exc_type(f"raised in {option}")
    calls: list[object] = []
    normals: dict[str, Callable[..., object]] = {
        "M_TIMERFUNCTION": loop.on_timer,
        "M_SOCKETFUNCTION": loop.on_socket,
        "M_NOTIFYFUNCTION": lambda notification, handle: None,
    }
    normal = normals[option]

    def callback(*args: Any) -> object:
        calls.append(args)
        if len(calls) == 1:
            raise raised
        return normal(*args)

    multi.setopt(getattr(pycurl, option), callback)
    if option == "M_NOTIFYFUNCTION":
        multi.notify_enable(pycurl.M_NOTIFY_INFO_READ, pycurl.M_NOTIFY_EASY_DONE)
    handle = new(impl, app.url())
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    with reported() as reports:
        try:
            multi.add_handle(handle)
            loop.run()
            left: BaseException | None = None
        except BaseException as exc:  # noqa: B036 - what left the call is the point
            left = exc
    if impl.typed:
        assert left is raised and reports == Reports() and len(calls) == 1
        if exc_type is ValueError and option != "M_NOTIFYFUNCTION":
            assert isinstance(left.__context__, curlx.MultiError)
            assert left.__context__.args[0] == curlx.MultiCode.ABORTED_BY_CALLBACK
    elif exc_type is ValueError:
        assert reports == Reports(printed=[raised])
        if option == "M_NOTIFYFUNCTION":
            assert left is None and len(calls) > 1
        else:
            assert isinstance(left, pycurl.error) and left.args[0] == 11 and len(calls) == 1
    elif option == "M_TIMERFUNCTION":
        assert isinstance(left, pycurl.error) and left.args[0] == 11 and len(calls) == 1
        assert reports == Reports()
    else:
        assert left is raised and reports == Reports() and len(calls) == 1
    with contextlib.suppress(pycurl.error):
        multi.remove_handle(handle)
    handle.close()
    multi.close()


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt])
def test_an_easy_callback_that_raises_in_a_multi_transfer(
    impl: Impl, exc_type: type[BaseException], app: HTTPApp
) -> None:
    """curlx: the failure info_read() reports carries the exception as its error; a
    KeyboardInterrupt leaves multi.perform() as itself (on both sides)."""
    multi = impl.CurlMulti()
    handle, other = new(impl, app.url("/big")), new(impl, app.url())
    raised = exc_type("raised in a write callback")
    calls: list[bytes] = []

    def write(data: bytes) -> None:
        calls.append(data)
        raise raised

    handle.setopt(pycurl.WRITEFUNCTION, write)
    other.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    for h in (handle, other):
        multi.add_handle(h)
    with reported() as reports:
        try:
            drive(multi)
            left: BaseException | None = None
        except BaseException as exc:  # noqa: B036
            left = exc
        if left is not None:  # a KeyboardInterrupt: the application may go on
            drive(multi)
    assert len(calls) == 1
    _, ok_list, failed = multi.info_read()
    if exc_type is not ValueError:  # it stopped every transfer that multi.perform() ran
        assert left is raised and reports == Reports()
        assert handle in [h for h, _, _ in failed]
    else:
        assert ok_list == [other]
        [(failed_handle, code, _)] = failed
        assert failed_handle is handle and code == pycurl.E_WRITE_ERROR
    if exc_type is not ValueError:
        pass
    elif impl.typed:
        assert left is None and reports == Reports()
        error = cast(curlx.TransferFailure, failed[0]).error
        assert error is raised and isinstance(raised.__context__, curlx.WriteError)
    else:
        assert left is None and reports == Reports(printed=[raised])
    for h in (handle, other):
        multi.remove_handle(h)
        h.close()
    multi.close()


def test_a_callback_error_in_a_transfer_libcurl_finished(impl: Impl, app: HTTPApp) -> None:
    """The debug callback cannot stop a transfer: when it raised at its very end, curlx
    reports the transfer among the failures, with the exception (pycurl prints it)."""
    multi = impl.CurlMulti()
    handle = new(impl, app.url())
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    handle.setopt(pycurl.VERBOSE, 1)
    raised = ValueError("raised by the last debug message")

    def debug(kind: int, message: bytes) -> None:
        if b"left intact" in message:
            raise raised

    handle.setopt(pycurl.DEBUGFUNCTION, debug)
    multi.add_handle(handle)
    with reported() as reports:
        drive(multi)
    _, ok_list, failed = multi.info_read()
    if impl.typed:
        assert ok_list == [] and reports == Reports()
        [failure] = cast(list[curlx.TransferFailure], failed)
        assert failure[:2] == (handle, pycurl.E_ABORTED_BY_CALLBACK) and failure.error is raised
    else:
        assert ok_list == [handle] and failed == [] and reports == Reports(printed=[raised])
    multi.remove_handle(handle)
    handle.close()
    multi.close()


def test_a_callback_error_nobody_read_is_reported(impl: Impl, app: HTTPApp) -> None:
    """A multi transfer whose callback raised, removed before info_read() read its failure:
    curlx reports the exception through sys.unraisablehook (pycurl printed it)."""
    multi = impl.CurlMulti()
    handle = new(impl, app.url())
    raised = ValueError("never read")

    def write(data: bytes) -> None:
        raise raised

    handle.setopt(pycurl.WRITEFUNCTION, write)
    multi.add_handle(handle)
    with reported() as reports:
        drive(multi)
        multi.remove_handle(handle)
    if impl.typed:
        assert reports == Reports(unraisable=[raised])
    else:
        assert reports == Reports(printed=[raised])
    handle.close()
    multi.close()


# --- teardown: close, collection, cycles -------------------------------------------------------


def _hsts_entries(handle: pycurl.Curl) -> None:
    """Give the handle one HSTS entry, so that libcurl writes it out (HSTSWRITEFUNCTION) when
    the handle is closed."""
    entries = [("example.test", None, False)]
    handle.setopt(pycurl.HSTS_CTRL, pycurl.CURLHSTS_ENABLE)
    handle.setopt(pycurl.HSTSREADFUNCTION, lambda: entries.pop() if entries else None)


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt])
@pytest.mark.parametrize("option", ["CLOSESOCKETFUNCTION", "HSTSWRITEFUNCTION"])
def test_a_callback_error_at_close_goes_to_the_unraisable_hook(
    impl: Impl, option: str, exc_type: type[BaseException], app: HTTPApp
) -> None:
    handle = new(impl, app.url())
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    if option == "HSTSWRITEFUNCTION":
        _hsts_entries(handle)
    armed: list[BaseException] = []

    def callback(*args: Any) -> int:
        if option == "CLOSESOCKETFUNCTION":
            os.close(args[0])
        if armed:
            raise armed[0]
        return 0

    handle.setopt(getattr(pycurl, option), callback)
    handle.perform()  # the connection stays open, the HSTS entry in the cache
    armed.append(exc_type(f"raised in {option} at close"))
    with reported() as reports:
        handle.close()
    assert reports == Reports(unraisable=armed)


def test_a_callback_error_while_closing_a_transfer_in_flight(impl: Impl, app: HTTPApp) -> None:
    multi = impl.CurlMulti()
    handle = new(impl, app.url("/big"))
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    handle.setopt(pycurl.VERBOSE, 1)
    armed: list[BaseException] = []
    raised: list[BaseException] = []

    def debug(kind: int, message: bytes) -> None:
        if armed:
            raised.append(armed[0])
            raise armed[0]

    handle.setopt(pycurl.DEBUGFUNCTION, debug)
    multi.add_handle(handle)
    multi.perform()  # connected, the request sent: the transfer is under way
    armed.append(ValueError("raised while the handle closes"))
    with reported() as reports:
        handle.close()
    assert raised and reports == Reports(unraisable=raised)
    multi.close()


def test_handles_in_a_reference_cycle_are_collected(impl: Impl, app: HTTPApp) -> None:
    """A multi handle and an easy handle in the middle of a transfer, referring to each other
    through their callbacks, are collected by the GC: nothing raised out of gc.collect(), and
    every exception their callbacks raised on the way reported through sys.unraisablehook."""

    class Callbacks:
        """Callbacks holding on to the handles that call them: a reference cycle."""

        def __init__(self) -> None:
            self.handles: tuple[object, ...] = ()
            self.armed = False
            self.raised: list[BaseException] = []

        def debug(self, kind: int, message: bytes) -> None:
            if self.armed:
                self.raised.append(ValueError(f"raised in the collection ({len(self.raised)})"))
                raise self.raised[-1]

        def timer(self, timeout_ms: int) -> None:
            pass

    callbacks = Callbacks()
    multi = impl.CurlMulti()
    handle = new(impl, app.url("/big"))
    callbacks.handles = (multi, handle)
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    handle.setopt(pycurl.VERBOSE, 1)
    handle.setopt(pycurl.DEBUGFUNCTION, callbacks.debug)
    multi.setopt(pycurl.M_TIMERFUNCTION, callbacks.timer)
    multi.add_handle(handle)
    multi.perform()
    callbacks.armed = True
    raised = callbacks.raised
    gone: list[weakref.ref[Any]] = [weakref.ref(multi), weakref.ref(handle), weakref.ref(callbacks)]
    del multi, handle, callbacks
    with reported() as reports:
        gc.collect()
    assert [ref() for ref in gone] == [None, None, None]
    assert reports == Reports(unraisable=raised)


def test_a_multi_callback_error_at_close_goes_to_the_unraisable_hook(
    impl: Impl, app: HTTPApp
) -> None:
    multi = impl.CurlMulti()
    loop = SocketLoop(multi)
    raised = ValueError("raised as the multi handle closes")

    def on_socket(what: int, fd: int, m: pycurl.CurlMulti, data: object) -> None:
        if what == pycurl.POLL_REMOVE and closing:
            closing.clear()
            raise raised
        loop.on_socket(what, fd, m, data)

    closing: list[bool] = []
    multi.setopt(pycurl.M_SOCKETFUNCTION, on_socket)
    handle = new(impl, app.url("/big"))
    handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    multi.add_handle(handle)
    multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)  # connecting: a socket is watched
    assert loop.watched
    closing.append(True)
    with reported() as reports:
        multi.close()
    assert reports == Reports(unraisable=[raised])
    handle.close()


# --- threads, as pycurl allows them ------------------------------------------------------------

THREADS = 6
JOIN = 30.0


def test_independent_handles_in_parallel_threads(impl: Impl, app: HTTPApp) -> None:
    refused = refused_url()

    def work(n: int) -> list[object]:
        handle = new(impl)
        seen: list[object] = []
        for i in range(10):
            handle.setopt(pycurl.URL, app.url(f"/echo?thread={n}&i={i}"))
            seen.append(handle.perform_rb())
        handle.setopt(pycurl.URL, refused)
        try:
            handle.perform()
        except pycurl.error as exc:
            seen.append(type(exc) if impl.typed else exc.args[0])
        handle.close()
        return seen

    results = run_threads(THREADS, work)
    failure = curlx.CouldntConnect if impl.typed else pycurl.E_COULDNT_CONNECT
    for n, seen in enumerate(results):
        assert seen == [f"/echo?thread={n}&i={i}".encode() for i in range(10)] + [failure]


def test_one_handle_shared_by_threads_under_a_lock(impl: Impl, app: HTTPApp) -> None:
    handle = new(impl)
    lock = threading.Lock()

    def work(n: int) -> list[bytes]:
        bodies = []
        for i in range(10):
            with lock:
                handle.setopt(pycurl.URL, app.url(f"/echo?thread={n}&i={i}"))
                bodies.append(handle.perform_rb())
        return bodies

    results = run_threads(THREADS, work)
    handle.close()
    for n, bodies in enumerate(results):
        assert bodies == [f"/echo?thread={n}&i={i}".encode() for i in range(10)]


def test_a_handle_running_in_one_thread_refuses_perform_from_another(
    impl: Impl, app: HTTPApp
) -> None:
    handle = new(impl, app.url("/big"))
    writing, tried = threading.Event(), threading.Event()

    def write(data: bytes) -> None:
        writing.set()
        tried.wait(JOIN)

    handle.setopt(pycurl.WRITEFUNCTION, write)
    thread = threading.Thread(target=handle.perform)
    thread.start()
    try:
        assert writing.wait(JOIN)
        reference = PYCURL.Curl()
        expected = ("cannot invoke perform() - perform() is currently running",)
        for call in (handle.perform, handle.reset, handle.close):
            with pytest.raises(pycurl.error) as caught:
                call()
            assert caught.value.args == (expected[0].replace("perform()", f"{call.__name__}()", 1),)
            assert isinstance(caught.value, curlx.InvalidOperation) == impl.typed
        reference.close()
    finally:
        tried.set()
        thread.join(JOIN)
    assert not thread.is_alive()
    assert handle.perform_rb() == BIG  # the handle works on
    handle.close()


def test_a_share_used_by_handles_in_many_threads(impl: Impl, app: HTTPApp) -> None:
    share = impl.CurlShare()
    share.share(pycurl.LOCK_DATA_COOKIE, pycurl.LOCK_DATA_DNS)
    share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_SSL_SESSION)
    share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_CONNECT)

    def sharing() -> pycurl.Curl:
        handle = new(impl)
        handle.setopt(pycurl.SHARE, share)
        handle.setopt(pycurl.COOKIEFILE, "")  # the cookie engine, with the shared jar
        return handle

    first = sharing()
    first.setopt(pycurl.URL, app.url("/set-cookie"))
    assert first.perform_rb() == b"set"

    def work(n: int) -> list[bytes]:
        handle = sharing()
        handle.setopt(pycurl.URL, app.url("/cookie"))
        bodies = [handle.perform_rb() for _ in range(5)]
        handle.close()
        return bodies

    results = run_threads(THREADS, work)
    assert results == [[b"flavour=oat"] * 5] * THREADS
    first.close()
    share.close()


def _setopt_after_close(share: pycurl.CurlShare) -> None:
    share.close()
    share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_DNS)


SHARE_CALLS: dict[str, Callable[[pycurl.CurlShare], object]] = {
    "an unknown lock data": lambda s: s.setopt(pycurl.SH_SHARE, 999),
    "an unknown option": lambda s: s.setopt(999, pycurl.LOCK_DATA_DNS),
    "share() of nothing": lambda s: s.share(),
    "unshare the PSL": lambda s: s.unshare(pycurl.LOCK_DATA_PSL),  # libcurl refuses
    "setopt while in use": lambda s: s.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_DNS),
    "setopt after close": lambda s: _setopt_after_close(s),
}


@pytest.mark.parametrize("call", list(SHARE_CALLS))
def test_share_refuses_what_pycurl_refuses(impl: Impl, call: str) -> None:
    share, user = impl.CurlShare(), impl.Curl()
    ref_share, ref_user = PYCURL.CurlShare(), PYCURL.Curl()
    user.setopt(pycurl.SHARE, share)
    ref_user.setopt(pycurl.SHARE, ref_share)
    if call != "setopt while in use":
        user.setopt(pycurl.SHARE, None)
        ref_user.setopt(pycurl.SHARE, None)
    assert_fails_as_pycurl(
        impl, lambda: SHARE_CALLS[call](share), lambda: SHARE_CALLS[call](ref_share)
    )
    for obj in (user, ref_user, share, ref_share):
        obj.close()


def test_every_lock_data_can_be_shared_and_unshared(impl: Impl) -> None:
    share = impl.CurlShare()
    names = ["COOKIE", "DNS", "SSL_SESSION", "CONNECT", "HSTS"]  # PSL: see SHARE_CALLS
    kinds = [getattr(pycurl, f"LOCK_DATA_{name}") for name in names]
    for kind in kinds:
        share.setopt(pycurl.SH_SHARE, kind)
        share.setopt(pycurl.SH_UNSHARE, kind)
    share.share(*kinds, pycurl.LOCK_DATA_PSL)
    share.unshare(*kinds)
    share.close()


# --- the same checks with curlx's classes swapped into pycurl --------------------------------

SWAP = """\
import sys
import pycurl
import curlx

pycurl.Curl, pycurl.CurlMulti, pycurl.CurlShare = curlx.Curl, curlx.CurlMulti, curlx.CurlShare
import pytest

sys.exit(pytest.main(sys.argv[1:]))
"""
"""The swapped run: the classes swapped in one place, before pytest imports anything else."""


def _cases(report: Path) -> dict[str, str]:
    """Each test case of a JUnit XML report: "passed", "skipped" or "failed"."""
    cases = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        verdict = (
            "skipped"
            if "skipped" in kinds
            else "failed"
            if kinds & {"failure", "error"}
            else "passed"
        )
        cases[case.attrib["name"]] = verdict
    return cases


def _impl_of(item: pytest.Item) -> str | None:
    """The ``impl`` a test of this module runs with (None for other items)."""
    if getattr(item, "module", None) is not sys.modules[__name__]:
        return None
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("impl") if callspec is not None else None


@pytest.mark.skipif(SWAPPED, reason="this is the swapped run")
def test_the_same_checks_pass_with_the_classes_swapped_into_pycurl(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    report = tmp_path / "swapped.xml"
    command = [sys.executable, "-c", SWAP, __file__, "-q", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [*command, f"--junit-xml={report}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    swapped = {
        name.replace("swapped", "curlx"): verdict
        for name, verdict in _cases(report).items()
        if "[swapped" in name
    }
    assert swapped and set(swapped.values()) == {"passed"}
    here = [item.name for item in request.session.items if _impl_of(item) == "curlx"]
    if here:  # this whole module is being run: the swapped run ran exactly its curlx checks
        assert sorted(swapped) == sorted(here)
