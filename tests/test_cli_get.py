"""`curlx get URL`: prints the body, exits as curl does (0, the CURLcode, or 2 for bad usage),
and explains a failure in two lines on stderr. Run in-process through `main()`, and once
through ``python -m curlx``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pycurl
import pytest
from support.http import Exchange, Reply, Request
from support.lab import Lab
from support.raw import closed_port

import curlx
from curlx._cli import main

TIMEOUT = ["--timeout", "5"]


def handler(request: Request, exchange: Exchange) -> Reply:
    if request.path == "/missing":
        return Reply(404, b"no such thing")
    if request.path == "/moved":
        return Reply(302, b"moved body", [("Location", "/")])
    if request.path == "/big":
        return Reply(200, b"x" * 100_000)
    return Reply(200, b"hello body", [("Content-Type", "text/plain"), ("X-Multi", "1")])


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["get", *argv, *TIMEOUT])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_explained(err: str, name: str, number: int) -> None:
    """Two lines: the headline naming the code, then the hint."""
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith(f"curlx: {name} (curl error {number})")
    assert lines[1].startswith("Hint:")


def test_prints_the_body(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    code, out, err = run([app.url("/")], capsys)
    assert (code, out, err) == (0, "hello body", "")
    assert app.requests[-1].method == "GET"


def test_output_file(lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    app = lab.app(handler)
    target = tmp_path / "body.bin"
    code, out, err = run([app.url("/"), "-o", str(target)], capsys)
    assert (code, out, err) == (0, "", "")
    assert target.read_bytes() == b"hello body"


def test_output_into_a_missing_directory_is_one_line_and_exit_23(
    lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app = lab.app(handler)
    target = tmp_path / "no" / "such" / "dir" / "x"
    code, out, err = run([app.url("/"), "-o", str(target)], capsys)
    assert (code, out) == (23, "")  # CURLE_WRITE_ERROR, as curl exits
    assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err
    assert app.url("/") in err and "directory exists" in err


def test_a_default_user_agent_names_curlx_and_libcurl(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    app = lab.app(handler)
    assert run([app.url("/")], capsys)[0] == 0
    agent = app.requests[-1].header("User-Agent")
    assert agent == f"curlx/{curlx.__version__} libcurl/{pycurl.version_info()[1]}"
    assert run([app.url("/"), "-H", "User-Agent: mine/1"], capsys)[0] == 0
    assert app.requests[-1].header("User-Agent") == "mine/1"


def test_include_prints_status_and_headers(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    code, out, _ = run(["-i", app.url("/")], capsys)
    assert code == 0
    head, _, body = out.partition("\r\n\r\n")
    assert body == "hello body"
    assert head.split("\r\n") == [
        "HTTP/1.1 200 OK",
        "Content-Type: text/plain",
        "X-Multi: 1",
        "Content-Length: 10",
    ]


def test_headers_and_bodies(lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    app = lab.app(handler)
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"from": "file"}')
    assert run([app.url("/h"), "-H", "X-One: 1", "-H", "X-Two:two words"], capsys)[0] == 0
    assert run([app.url("/d"), "-d", "a=1&b=2"], capsys)[0] == 0
    assert run([app.url("/f"), "-d", f"@{payload}"], capsys)[0] == 0
    assert run([app.url("/p"), "-X", "PUT", "-d", "put body"], capsys)[0] == 0
    assert run([app.url("/x"), "-X", "DELETE"], capsys)[0] == 0
    h, d, f, p, x = app.requests
    assert (h.method, h.header("x-one"), h.header("x-two")) == ("GET", "1", "two words")
    assert (d.method, d.body) == ("POST", b"a=1&b=2")
    assert (f.method, f.body) == ("POST", b'{"from": "file"}')
    assert (p.method, p.body) == ("PUT", b"put body")
    assert (x.method, x.body) == ("DELETE", b"")


def test_missing_data_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(["http://127.0.0.1:1/", "-d", f"@{tmp_path / 'nope'}"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("curlx get: cannot read")


def test_refused_port_exits_7(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://user:s3cret-pw@127.0.0.1:{closed_port()}/"
    code, out, err = run([url], capsys)
    assert (code, out) == (7, "")
    assert_explained(err, "COULDNT_CONNECT", 7)
    assert "s3cret-pw" not in err


def test_unresolvable_host_exits_6(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["http://curlx-tests.invalid/"], capsys)
    assert (code, out) == (6, "")
    assert_explained(err, "COULDNT_RESOLVE_HOST", 6)


def test_fail_on_404_exits_22(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    code, out, err = run(["--fail", app.url("/missing")], capsys)
    assert (code, out) == (22, "")
    assert_explained(err, "HTTP_RETURNED_ERROR", 22)
    assert "404 Not Found" in err
    code, out, err = run([app.url("/missing")], capsys)
    assert (code, out, err) == (0, "no such thing", "")


def test_self_signed_exits_60_and_insecure_works(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    app = lab.app(handler, tls=True)
    code, out, err = run([app.url("/")], capsys)
    assert (code, out) == (60, "")
    assert_explained(err, "PEER_FAILED_VERIFICATION", 60)
    code, out, err = run(["-k", app.url("/")], capsys)
    assert (code, out, err) == (0, "hello body", "")
    assert len(app.requests) == 1


@pytest.mark.parametrize("header", ["NoColonHere", "Bad Name: v", "X-Evil: a\r\nInjected: 1"])
def test_bad_header_exits_2(header: str, lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    code, out, err = run([app.url("/"), "-H", header], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(("curlx get: header", f"curlx: InvalidRequest for GET {app.url('/')}: "))
    assert app.connections == 0


def test_no_follow_max_size_and_proxy(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    proxy = lab.proxy()
    assert run(["--no-follow", app.url("/moved")], capsys)[:2] == (0, "moved body")
    assert run([app.url("/moved")], capsys)[:2] == (0, "hello body")
    code, out, err = run(["--max-size", "1000", app.url("/big")], capsys)
    assert (code, out) == (63, "")
    assert_explained(err, "FILESIZE_EXCEEDED", 63)
    assert run(["--proxy", proxy.proxy_url(), app.url("/via")], capsys)[:2] == (0, "hello body")
    assert proxy.records[-1].target == app.url("/via")


def test_unknown_http_version_exits_2(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    code, out, err = run(["--http-version", "9", app.url("/")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"curlx: InvalidRequest for GET {app.url('/')}: http_version='9' is not")
    assert app.connections == 0


def test_http_version_2_0_does_not_crash(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    app = lab.app(handler)
    code, out, err = run(["--http-version", "2.0", app.url("/")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"curlx: InvalidRequest for GET {app.url('/')}: http_version='2.0' is not"
    )
    assert app.connections == 0


def test_python_dash_m(lab: Lab) -> None:
    app = lab.app(handler)
    ok = subprocess.run(
        [sys.executable, "-m", "curlx", "get", app.url("/"), *TIMEOUT],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, b"hello body", b"")
    refused = subprocess.run(
        [sys.executable, "-m", "curlx", "get", f"http://127.0.0.1:{closed_port()}/", *TIMEOUT],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (refused.returncode, refused.stdout) == (7, b"")
    assert_explained(refused.stderr.decode(), "COULDNT_CONNECT", 7)
