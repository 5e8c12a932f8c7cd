"""Hints in curlx's own words: an error from a curlx client (Session, curlx.get, fetch_many)
names the client's keyword to change (``verify=``, ``max_size=``, ``timeout=``, ``proxy=``,
``http_version=``); the same failure on a raw `curlx.Curl` keeps libcurl's option names. Both
wordings are rows of the code table (`ForClients`), so translations and `curlx explain` have
them too. Real loopback servers for every failure.
"""

from __future__ import annotations

import io
import pickle
import re
from collections.abc import Callable

import pycurl
import pytest
from support.http import Reply, stall
from support.lab import Lab
from support.raw import closed_port, socks5

import curlx
from curlx import CurlCode
from curlx._cli import main
from curlx._codes import all_codes
from curlx._transport import http_version_supported

T = 5.0


def raw_error(url: str, *options: tuple[int, object]) -> curlx.CurlError:
    """The error of one transfer of `url` on a raw `curlx.Curl` with `options`."""
    handle = curlx.Curl()
    handle.setopt(pycurl.URL, url)
    handle.setopt(pycurl.WRITEDATA, io.BytesIO())
    handle.setopt(pycurl.CONNECTTIMEOUT, int(T))
    for option, value in options:
        handle.setopt(option, value)
    try:
        with pytest.raises(curlx.CurlError) as caught:
            handle.perform()
    finally:
        handle.close()
    return caught.value


def client_error(call: Callable[[], object]) -> curlx.CurlError:
    with pytest.raises(curlx.CurlError) as caught:
        call()
    return caught.value


def assert_client_words(error: curlx.CurlError, keyword: str) -> None:
    assert keyword in error.hint and keyword in str(error)
    assert "CURLOPT_" not in error.hint and "CAINFO" not in error.hint
    assert error.to_dict()["client"] is True


def test_verify(lab: Lab) -> None:
    app = lab.app(tls=True)  # signed by the test CA, which certifi's bundle does not hold
    error = client_error(lambda: curlx.get(app.url(), timeout=T))
    assert error.code is CurlCode.PEER_FAILED_VERIFICATION
    assert_client_words(error, "verify=")
    raw = raw_error(app.url())
    assert raw.code is CurlCode.PEER_FAILED_VERIFICATION
    assert "CAINFO" in raw.hint and "verify=" not in raw.hint
    assert raw.to_dict()["client"] is False


def test_verify_with_a_bad_ca_file(lab: Lab) -> None:
    app = lab.app(tls=True)
    garbage = str(lab.pki.garbage_file)
    with curlx.Session(timeout=T, verify=garbage) as s:
        error = client_error(lambda: s.get(app.url()))
    assert error.code is CurlCode.SSL_CACERT_BADFILE
    assert_client_words(error, "verify=")
    raw = raw_error(app.url(), (pycurl.CAINFO, garbage))
    assert raw.code is CurlCode.SSL_CACERT_BADFILE
    assert "CAINFO" in raw.hint and "verify=" not in raw.hint


def test_max_size(lab: Lab) -> None:
    app = lab.app(lambda request, exchange: Reply(200, b"x" * 5000))
    with curlx.Session(timeout=T, max_size=1000) as s:
        error = client_error(lambda: s.get(app.url()))
    assert error.code is CurlCode.FILESIZE_EXCEEDED
    assert_client_words(error, "max_size=")
    raw = raw_error(app.url(), (pycurl.MAXFILESIZE, 1000))
    assert raw.code is CurlCode.FILESIZE_EXCEEDED
    assert "CURLOPT_MAXFILESIZE" in raw.hint and "max_size=" not in raw.hint


def test_timeout(lab: Lab) -> None:
    app = lab.app(stall)
    timeout = curlx.Timeout(connect=T, read=None, total=0.3)
    error = client_error(lambda: curlx.get(app.url(), timeout=timeout))
    assert isinstance(error, curlx.ReadTimeout)
    assert_client_words(error, "timeout=")
    assert error.hint.startswith("Hint: Time ran out after the request was sent")  # situation
    raw = raw_error(app.url(), (pycurl.TIMEOUT_MS, 300))
    assert isinstance(raw, curlx.ReadTimeout)
    assert "CURLOPT_TIMEOUT" in raw.hint and "timeout=" not in raw.hint


def test_dead_proxy(lab: Lab) -> None:
    app = lab.app()
    proxy = f"http://127.0.0.1:{closed_port()}"
    error = client_error(lambda: curlx.get(app.url(), proxy=proxy, timeout=T))
    assert error.code is CurlCode.COULDNT_CONNECT
    assert_client_words(error, "proxy=")
    raw = raw_error(app.url(), (pycurl.PROXY, proxy))
    assert raw.code is CurlCode.COULDNT_CONNECT and "proxy=" not in raw.hint


def test_socks_proxy_detail(lab: Lab) -> None:
    """The CURLPX detail of a SOCKS failure (no acceptable authentication) in either words."""
    refusing = lab.raw(socks5(b"\x05\xff"))  # SOCKS5: no acceptable authentication method
    proxy = f"socks5://127.0.0.1:{refusing.port}"
    url = f"http://127.0.0.1:{closed_port()}/"
    error = client_error(lambda: curlx.get(url, proxy=proxy, timeout=T))
    assert error.code is CurlCode.PROXY and error.proxy_code is curlx.ProxyCode.NO_AUTH
    assert_client_words(error, 'proxy="socks5://user:password@host:port"')
    raw = raw_error(url, (pycurl.PROXY, proxy))
    assert raw.proxy_code is curlx.ProxyCode.NO_AUTH
    assert "CURLOPT_PROXYUSERPWD" in raw.hint and "proxy=" not in raw.hint


def test_client_certificate(lab: Lab) -> None:
    app = lab.app(tls=True)
    garbage = str(lab.pki.garbage_file)
    with curlx.Session(timeout=T, verify=str(lab.pki.ca_file), cert=garbage) as s:
        error = client_error(lambda: s.get(app.url()))
    assert error.code is CurlCode.SSL_CERTPROBLEM
    assert_client_words(error, "cert=")
    raw = raw_error(app.url(), (pycurl.CAINFO, str(lab.pki.ca_file)), (pycurl.SSLCERT, garbage))
    assert raw.code is CurlCode.SSL_CERTPROBLEM and "CURLOPT_SSLCERT" in raw.hint


def test_too_many_redirects(lab: Lab) -> None:
    app = lab.app(lambda request, exchange: Reply(302, headers=[("Location", "/loop")]))
    error = client_error(lambda: curlx.get(app.url(), max_redirects=2, timeout=T))
    assert error.code is CurlCode.TOO_MANY_REDIRECTS
    assert_client_words(error, "max_redirects=")
    assert "follow_redirects=False" in error.hint
    raw = raw_error(app.url(), (pycurl.FOLLOWLOCATION, 1), (pycurl.MAXREDIRS, 2))
    assert "CURLOPT_MAXREDIRS" in raw.hint


@pytest.mark.skipif(not http_version_supported("3-only"), reason="libcurl without HTTP/3")
def test_http_version(lab: Lab) -> None:
    app = lab.app()
    error = client_error(lambda: curlx.get(app.url(), http_version="3-only", timeout=T))
    assert error.code is CurlCode.URL_MALFORMAT  # "HTTP/3 requested for non-HTTPS URL"
    assert_client_words(error, 'http_version="3-only"')
    raw = raw_error(app.url(), (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_3ONLY))
    assert raw.code is CurlCode.URL_MALFORMAT
    assert "CURLOPT_URL" in raw.hint and "http_version" not in raw.hint


def test_crawl_errors_speak_as_clients(lab: Lab) -> None:
    app = lab.app(tls=True)
    (result,) = curlx.fetch_many([app.url()], timeout=T)
    assert result.error is not None
    assert_client_words(result.error, "verify=")


def test_status_errors_name_raise_for_status_not_failonerror(lab: Lab) -> None:
    app = lab.app(lambda request, exchange: Reply(404, b"no"))
    response = curlx.get(app.url(), timeout=T)
    error = client_error(response.raise_for_status)
    assert "raise_for_status()" in error.hint and "CURLOPT_" not in error.hint


def test_the_origin_survives_pickle_and_records(lab: Lab) -> None:
    app = lab.app(tls=True)
    error = client_error(lambda: curlx.get(app.url(), timeout=T))
    for copy in (pickle.loads(pickle.dumps(error)), curlx.CurlError.from_dict(error.to_dict())):
        assert copy.hint == error.hint and "verify=" in copy.hint
    assert "verify=" in error.explain() and "verify=" in error.explain(lang="zh")
    old = dict(error.to_dict())
    del old["client"]  # a record from before the field existed: libcurl's words
    assert "CAINFO" in curlx.CurlError.from_dict(old).hint


def test_translated_hints_keep_the_keyword(lab: Lab) -> None:
    app = lab.app(lambda request, exchange: Reply(200, b"x" * 5000))
    error = client_error(lambda: curlx.get(app.url(), max_size=10, timeout=T))
    hint = curlx.language("zh").explanation(error.code, client=True)  # type: ignore[arg-type]
    assert "max_size=" in hint and hint != CurlCode.FILESIZE_EXCEEDED.for_clients


def test_explain_shows_both_wordings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "63"]) == 0
    out = capsys.readouterr().out
    assert CurlCode.FILESIZE_EXCEEDED.explanation in out
    assert "In curlx clients: " + CurlCode.FILESIZE_EXCEEDED.for_clients + "\n" in out
    assert main(["explain", "2"]) == 0  # a row with one wording shows one
    assert "In curlx clients" not in capsys.readouterr().out


def test_client_wording_is_curlx_own() -> None:
    """Every client wording names no libcurl option, ends a sentence, and says something the
    libcurl wording does not; raw-handle names stay out of it."""
    rows = [code for code in all_codes() if code.for_clients]
    assert len(rows) >= 20
    for code in rows:
        text = code.for_clients
        assert not re.search(r"CURL(OPT|INFO)_|\bCA(INFO|PATH)\b", text), code
        assert text.endswith(".") and text != code.explanation, code
