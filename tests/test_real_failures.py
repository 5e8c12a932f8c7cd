"""Real failures: every error in this module is produced by libcurl itself, for real.

Each scenario points a `curlx.Curl` at a local peer that misbehaves on purpose (see `support.raw`):
a refused port, a server that resets, stalls, lies about its body or speaks broken FTP, TLS with
bad certificates, scripted SOCKS5 and HTTP proxies, TFTP error packets... or at a real local
condition (a missing file, a bogus interface, a callback that stops the transfer). Nothing
leaves the machine: every peer is on loopback, and DNS failures use the reserved ``.invalid``
top-level domain.

The codes and classes below are what libcurl 8.23 really returns for each scenario; they were
checked with bare pycurl before curlx existed. Where a scenario's code surprised us, the row
says why.

To add a scenario, add one `row(...)` to `SCENARIOS`: an id, a setup callable that configures
the handle against a server from the ``lab`` fixture, the expected code, class name, category
and retry kind. `assert_curl_error` checks the facts every error must have.
"""

from __future__ import annotations

import builtins
import enum
import io
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pycurl
import pytest
from pytest_httpserver import HTTPServer
from support.ftp import (
    FTP_FILE_CONTENT,
    FTP_FILE_NAME,
    FTP_PASSWORD,
    FTP_READONLY_PASSWORD,
    FTP_READONLY_USER,
    FTPReply,
    FTPSession,
    scripted_ftp,
)
from support.h2 import h2_garbage, h2_reset_stream
from support.lab import Lab
from support.raw import (
    ConnectStall,
    Handler,
    close_after_request,
    closed_port,
    endless_body,
    greet,
    ok_response,
    refuse_connect,
    reset_after_request,
    respond,
    respond_and_reset,
    respond_then_stall,
    socks5,
    socks5_reply,
    stall_after_request,
    stall_on_accept,
)

import curlx
from curlx import Category, CurlCode, MultiCode, ProxyCode, RetryKind

TIMEOUT_MS = 5000
"""Whole-transfer limit for every handle: nothing can hang."""
CONNECT_TIMEOUT_MS = 2000
STALL_MS = 300
"""The limit for scenarios that stall on purpose."""
SECRET = FTP_PASSWORD
"""A password put in URLs; it must never show in an error's text, repr or URL."""

SAFE = RetryKind.SAFE
IDEMPOTENT = RetryKind.IDEMPOTENT
NEVER = RetryKind.NEVER

Setup = Callable[[curlx.Curl, Lab], None]


# --------------------------------------------------------------------------------------------
# The facts every error must have


ACRONYMS = frozenset(
    {"SSL", "HTTP", "HTTP2", "HTTP3", "FTP", "TFTP", "LDAP", "RTSP", "SSH", "URL", "QUIC"}
    | {"ECH", "CRL", "API"}
)
# Classes that refine a code from the context; any other class is named after its code.
REFINED = {
    "ConnectTimeout": CurlCode.OPERATION_TIMEDOUT,
    "ReadTimeout": CurlCode.OPERATION_TIMEDOUT,
    "HTTPClientError": CurlCode.HTTP_RETURNED_ERROR,
    "HTTPServerError": CurlCode.HTTP_RETURNED_ERROR,
    "ProxyTunnelRefused": CurlCode.COULDNT_CONNECT,
    "NotHTTPResponse": CurlCode.UNSUPPORTED_PROTOCOL,
}
# The class each category's errors must be instances of.
CATEGORY_CLASS: dict[Category, type[curlx.CurlError]] = {
    Category.NETWORK: curlx.NetworkError,
    Category.DNS: curlx.DNSError,
    Category.CONNECT: curlx.ConnectError,
    Category.TIMEOUT: curlx.TimeoutError,
    Category.TLS: curlx.SSLError,
    Category.CERTIFICATE: curlx.CertificateError,
    Category.PROXY: curlx.ProxyError,
    Category.PROTOCOL: curlx.ProtocolError,
    Category.HTTP: curlx.HTTPError,
    Category.HTTP_STATUS: curlx.HTTPStatusError,
    Category.FTP: curlx.FTPError,
    Category.TFTP: curlx.TFTPError,
    Category.SSH: curlx.SSHError,
    Category.RTSP: curlx.RTSPError,
    Category.REMOTE: curlx.RemoteError,
    Category.AUTH: curlx.AuthError,
    Category.USAGE: curlx.UsageError,
    Category.URL: curlx.InvalidURL,
    Category.LOCAL_IO: curlx.LocalIOError,
    Category.LIMIT: curlx.LimitExceeded,
    Category.CALLBACK: curlx.CallbackError,
    Category.INTERNAL: curlx.InternalError,
}


def expected_class_name(libcurl_name: str) -> str:
    """The documented naming rule: ``CURLE_SSL_CACERT_BADFILE`` -> ``SSLCacertBadfile``."""
    prefix, _, rest = libcurl_name.partition("_")
    words = "".join(w if w in ACRONYMS else w.capitalize() for w in rest.split("_"))
    return {"CURLE": "", "CURLM": "Multi", "CURLSHE": "Share"}[prefix] + words


def assert_curl_error(
    error: BaseException,
    code: int,
    cls: str,
    category: Category,
    retry: RetryKind,
    *,
    family: type[enum.IntEnum] = CurlCode,
) -> curlx.CurlError:
    """Assert what every curlx error must carry; return it, typed, for further checks."""
    assert isinstance(error, curlx.CurlError), f"{type(error).__name__}: {error!r}"
    assert isinstance(error, pycurl.error)
    multi = family is MultiCode
    label, prefix = ("curl multi error", "CURLM_") if multi else ("curl error", "CURLE_")
    # The class, and libcurl's own name for the code.
    assert type(error).__name__ == cls, f"{type(error).__name__} != {cls}: {error.args}"
    member = family(code)
    assert error.name == prefix + member.name
    if cls in REFINED:
        assert REFINED[cls] == code
    else:
        assert expected_class_name(error.name) == cls
    # The number, as pycurl gave it and as an enum member.
    assert len(error.args) == 2, error.args
    assert error.args[0] == code
    assert isinstance(error.args[1], str) and error.args[1]
    assert error.code == code
    assert isinstance(error.code, family)
    # Category and retry.
    assert error.category is category
    assert isinstance(error, CATEGORY_CLASS[category])
    assert error.retry.kind is retry
    # Rendering.
    assert str(error).startswith(f"{member.name} ({label} {code})"), str(error)
    # No credentials anywhere.
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert SECRET not in (error.url or "")
    assert SECRET not in error.args[1]
    if error.info is not None:
        assert isinstance(error.info, curlx.TransferInfo)
        assert SECRET not in error.info.effective_url
        assert error.errno == (error.info.os_errno or None)
    return error


def perform_error(c: curlx.Curl, *, require_info: bool = True) -> curlx.CurlError:
    """Run the transfer, which must fail with a curlx error, and return that error."""
    with pytest.raises(curlx.CurlError) as caught:
        c.perform()
    error = caught.value
    if require_info:
        assert error.info is not None, "a perform() error carries the handle's transfer info"
    assert len(error.args) == 2, error.args
    buffer = c.errstr()  # libcurl's error buffer; empty when it only has the generic text
    if buffer and SECRET not in buffer:
        assert error.args[1] == buffer, "args[1] is libcurl's own message"
    return error


# --------------------------------------------------------------------------------------------
# Helpers for setups


@pytest.fixture
def curl() -> Iterator[curlx.Curl]:
    """A handle that cannot hang, never writes to stdout, and ignores proxy variables."""
    c = curlx.Curl()
    c.setopt(pycurl.TIMEOUT_MS, TIMEOUT_MS)
    c.setopt(pycurl.CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS)
    c.setopt(pycurl.PROXY, "")
    c.setopt(pycurl.WRITEFUNCTION, _discard)
    try:
        yield c
    finally:
        c.close()


def _discard(data: bytes) -> None:
    return None


def setopts(c: curlx.Curl, **options: Any) -> None:
    """``setopts(c, URL=..., FOLLOWLOCATION=1)``: set options by their pycurl names."""
    for name, value in options.items():
        c.setopt(getattr(pycurl, name), value)


def refused_url(path: str = "/") -> str:
    """An HTTP URL on a loopback port nothing listens on."""
    return f"http://127.0.0.1:{closed_port()}{path}"


def with_secret(url: str) -> str:
    """`url` with ``user:SECRET@`` inserted before the host."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://user:{SECRET}@{rest}"


def http(lab: Lab, raw: bytes, path: str = "/") -> str:
    """The URL of a fresh server that answers every request with `raw` verbatim."""
    return lab.raw(respond(raw)).url(path)


def ok_url(lab: Lab) -> str:
    """The URL of a fresh server that answers 200 with the body ``0123456789``."""
    return http(lab, ok_response(b"0123456789"))


# Setup factories: each returns a `Setup`, so a table row stays short.


def opts(**options: Any) -> Setup:
    """Just set options (for URLs that need no server)."""
    return lambda c, lab: setopts(c, **options)


def serve(raw: bytes, **options: Any) -> Setup:
    """A server answering `raw` verbatim to every request; the options on top."""
    return lambda c, lab: setopts(c, URL=http(lab, raw), **options)


def serve_ok(**options: Any) -> Setup:
    """A server answering a valid 200; the options on top."""
    return lambda c, lab: setopts(c, URL=ok_url(lab), **options)


def handler(h: Handler, scheme: str = "http", path: str = "/", **options: Any) -> Setup:
    """A server running handler `h` on each connection, reached with `scheme`."""
    return lambda c, lab: setopts(c, URL=lab.raw(h).url(path, scheme=scheme), **options)


def tls(cert: str = "server", *, client_cert: bool = False, **options: Any) -> Setup:
    """A TLS server presenting the PKI's `cert` (``server``, ``wrong_host`` or ``expired``),
    optionally requiring a client certificate; the handle trusts the CA and has the secret in
    its URL. Option values ``"pki:NAME"`` stand for the PKI's file NAME (``pki:garbage_file``).
    """

    def setup(c: curlx.Curl, lab: Lab) -> None:
        server = lab.https(
            respond(ok_response()), getattr(lab.pki, cert), require_client_cert=client_cert
        )
        resolved = {
            name: str(getattr(lab.pki, value[4:]))
            if isinstance(value, str) and value.startswith("pki:")
            else value
            for name, value in options.items()
        }
        url = with_secret(server.url(scheme="https"))
        setopts(c, URL=url, **{"CAINFO": str(lab.pki.ca_file), **resolved})

    return setup


def ftp(path: str = "/" + FTP_FILE_NAME, **options: Any) -> Setup:
    """The real FTP server (pyftpdlib), logged in as the read-write user (secret password)."""
    return lambda c, lab: setopts(c, URL=lab.ftp().url(path), **options)


def ftp_readonly(path: str, **options: Any) -> Setup:
    """The real FTP server, logged in as the read-only user."""

    def setup(c: curlx.Curl, lab: Lab) -> None:
        url = lab.ftp().url(path, user=FTP_READONLY_USER, password=FTP_READONLY_PASSWORD)
        setopts(c, URL=url, **options)

    return setup


def script(replies: dict[str, FTPReply], path: str = "/file.txt", **options: Any) -> Setup:
    """A fake FTP server answering the given command verbs as scripted (`scripted_ftp`)."""
    return lambda c, lab: setopts(c, URL=lab.scripted_ftp(replies).url(path, "ftp"), **options)


def tftp(error_code: int, **options: Any) -> Setup:
    """A TFTP server answering with an ERROR packet carrying `error_code`."""
    return lambda c, lab: setopts(c, URL=lab.tftp_error(error_code).url(), **options)


def rtsp(raw: bytes, request: int, **options: Any) -> Setup:
    """An RTSP request of kind `request` to a server answering `raw`."""
    return lambda c, lab: setopts(
        c,
        URL=http(lab, raw, "/stream").replace("http", "rtsp", 1),
        OPT_RTSP_REQUEST=request,
        **options,
    )


def socks(method_reply: bytes, connect_reply: bytes = b"") -> Setup:
    """A request to a refused port through a scripted SOCKS5 proxy (see `support.raw.socks5`)."""

    def setup(c: curlx.Curl, lab: Lab) -> None:
        proxy = lab.raw(socks5(method_reply, connect_reply))
        setopts(c, URL=refused_url(), PROXY=proxy.url("", scheme="socks5"))

    return setup


def upload(data: bytes = b"upload me") -> dict[str, Any]:
    """Options for uploading `data`."""
    return {"UPLOAD": 1, "READDATA": io.BytesIO(data)}


def post_redirected(**options: Any) -> Setup:
    """A POST fed by a read callback and redirected with 307: libcurl must rewind the body."""

    def setup(c: curlx.Curl, lab: Lab) -> None:
        body = io.BytesIO(b"x" * 1000)
        url = http(lab, REDIRECT_307)
        setopts(c, URL=url, POST=1, READFUNCTION=body.read, POSTFIELDSIZE=1000, **options)
        setopts(c, FOLLOWLOCATION=1)  # the 307 makes libcurl send the body again

    return setup


TLS12 = pycurl.SSLVERSION_TLSv1_2 | pycurl.SSLVERSION_MAX_TLSv1_2
H2 = pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
UNAVAILABLE = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
SHORT_BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10
BAD_GZIP = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzipped!"
BIG_LENGTH = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
REDIRECT_LOOP = b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"
REDIRECT_307 = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"
NO_COLON = b"HTTP/1.1 200 OK\r\nthis header has no colon\r\n\r\n"
RTSP_OK = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"
RTSP_WRONG_CSEQ = b"RTSP/1.0 200 OK\r\nCSeq: 99\r\n\r\n"
RTSP_WRONG_SESSION = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: theirs\r\n\r\n"
SSH_BAD_KEX = b"SSH-2.0-curlx_fake\r\n" + bytes(64)
MANY_HEADERS = b"HTTP/1.1 200 OK\r\n" + b"X-Many: y\r\n" * 5100 + b"\r\n"
HUGE_HEADER = b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * (110 * 1024) + b"\r\n\r\n"
HEADERS_OVER_300K = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 1000) for i in range(400))
    + b"\r\n"
)
ACTIVE = {"FTPPORT": "127.0.0.1"}
NOWHERE = "/nonexistent-curlx-dir"


# --------------------------------------------------------------------------------------------
# The scenario table


@dataclass(frozen=True)
class Scenario:
    code: int
    cls: str
    category: Category
    retry: RetryKind
    setup: Setup


def row(id: str, code: int, cls: str, category: Category, retry: RetryKind, setup: Setup) -> Any:
    """One scenario: what libcurl 8.23 really returns, then how to set the handle up."""
    return pytest.param(Scenario(code, cls, category, retry, setup), id=id)


C = Category
SCENARIOS = [
    # 1: a scheme this libcurl does not speak; an HTTP/0.9 reply (refused by default).
    row("foo-scheme", 1, "UnsupportedProtocol", C.USAGE, NEVER,
        opts(URL="foo://x")),
    row("http09-reply", 1, "NotHTTPResponse", C.PROTOCOL, NEVER,
        serve(b"garbage\r\n\r\n")),
    # 2: libssh2 cannot set up a session when the peer's key exchange is garbage.
    row("ssh-bad-key-exchange", 2, "FailedInit", C.INTERNAL, NEVER,
        handler(greet(SSH_BAD_KEX), "sftp", "/file", USERPWD="u:p")),
    row("malformed-url", 3, "URLMalformat", C.URL, NEVER,
        opts(URL=f"http://user:{SECRET}@[::1")),
    row("proxy-dns", 5, "CouldntResolveProxy", C.DNS, SAFE,
        lambda c, lab: setopts(c, URL=refused_url(), PROXY="http://proxy.invalid:3128")),
    row("host-dns", 6, "CouldntResolveHost", C.DNS, SAFE,
        opts(URL=f"http://user:{SECRET}@nonexistent.invalid/")),
    row("refused-port", 7, "CouldntConnect", C.CONNECT, SAFE,
        lambda c, lab: setopts(c, URL=with_secret(refused_url()))),
    row("refused-port-ipv6", 7, "CouldntConnect", C.CONNECT, SAFE,
        lambda c, lab: setopts(c, URL=f"http://[::1]:{closed_port('::1')}/")),
    row("http-header-without-colon", 8, "WeirdServerReply", C.PROTOCOL, IDEMPOTENT,
        serve(NO_COLON)),
    row("ftp-greeting-500", 8, "WeirdServerReply", C.PROTOCOL, IDEMPOTENT,
        handler(scripted_ftp(greeting="500 go away"), "ftp", "/file.txt")),
    row("ftp-cwd-refused", 9, "RemoteAccessDenied", C.REMOTE, NEVER,
        ftp("/no-such-dir/" + FTP_FILE_NAME)),
    row("ftp-scripted-cwd-550", 9, "RemoteAccessDenied", C.REMOTE, NEVER,
        script({"CWD": "550 no"}, "/dir/file.txt")),
    # 10/12: active FTP; the server reports that it failed, or never connects back.
    row("ftp-active-425", 10, "FTPAcceptFailed", C.FTP, IDEMPOTENT,
        script({"EPRT": "200 ok", "RETR": "150 opening\r\n425 no connection"}, **ACTIVE)),
    row("ftp-active-no-connect", 12, "FTPAcceptTimeout", C.TIMEOUT, IDEMPOTENT,
        script({"EPRT": "200 ok", "RETR": "150 opening"}, ACCEPTTIMEOUT_MS=STALL_MS, **ACTIVE)),
    row("ftp-pasv-500", 13, "FTPWeirdPasvReply", C.FTP, NEVER,
        script({"PASV": "500 no passive"})),
    row("ftp-epsv-garbled", 13, "FTPWeirdPasvReply", C.FTP, NEVER,
        script({"EPSV": "229 Entering Extended Passive Mode (|||x|)"})),
    row("ftp-227-garbled", 14, "FTPWeird227Format", C.FTP, NEVER,
        script({"PASV": "227 no numbers here"})),
    row("h2-prior-knowledge-to-http1", 16, "HTTP2", C.PROTOCOL, IDEMPOTENT,
        handler(h2_garbage, HTTP_VERSION=H2)),
    row("ftp-type-refused", 17, "FTPCouldntSetType", C.FTP, NEVER,
        script({"TYPE": "504 no binary"})),
    row("http-short-body", 18, "PartialFile", C.PROTOCOL, IDEMPOTENT,
        serve(SHORT_BODY)),
    row("ftp-retr-450", 19, "FTPCouldntRetrFile", C.FTP, NEVER,
        script({"RETR": "450 busy"})),
    row("ftp-quote-refused", 21, "QuoteError", C.REMOTE, NEVER,
        ftp(QUOTE=["BOGUS command"])),
    row("ftp-postquote-refused", 21, "QuoteError", C.REMOTE, NEVER,
        ftp(POSTQUOTE=["DELE no-such-file"])),
    row("http-404", 22, "HTTPClientError", C.HTTP_STATUS, NEVER,
        serve(NOT_FOUND, FAILONERROR=1)),
    row("http-503", 22, "HTTPServerError", C.HTTP_STATUS, IDEMPOTENT,
        serve(UNAVAILABLE, FAILONERROR=1)),
    row("write-callback-short", 23, "WriteError", C.LOCAL_IO, NEVER,
        serve_ok(WRITEFUNCTION=lambda data: 0)),
    row("file-upload-missing-dir", 23, "WriteError", C.LOCAL_IO, NEVER,
        lambda c, lab: setopts(c, URL=f"file://{NOWHERE}/out.txt", **upload())),
    row("ftp-upload-read-only", 25, "UploadFailed", C.REMOTE, NEVER,
        lambda c, lab: ftp_readonly("/new.txt", **upload())(c, lab)),
    row("ftp-stor-553", 25, "UploadFailed", C.REMOTE, NEVER,
        lambda c, lab: script({"STOR": "553 not allowed"}, **upload())(c, lab)),
    row("read-callback-early-eof", 26, "ReadError", C.LOCAL_IO, NEVER,
        handler(stall_after_request, UPLOAD=1, READFUNCTION=lambda n: b"", INFILESIZE=100)),
    row("file-upload-read-pause", 26, "ReadError", C.LOCAL_IO, NEVER,
        lambda c, lab: setopts(c, URL=(lab.tmp_path / "out").as_uri(), UPLOAD=1,
                               READFUNCTION=lambda n: pycurl.READFUNC_PAUSE)),
    # 28: nothing was sent yet (connect phase), or the request was sent and the server is silent.
    row("tcp-connect-stall", 28, "ConnectTimeout", C.TIMEOUT, SAFE,
        lambda c, lab: setopts(c, URL=lab.connect_stall().url(), CONNECTTIMEOUT_MS=STALL_MS)),
    row("tls-handshake-stall", 28, "ConnectTimeout", C.TIMEOUT, SAFE,
        handler(stall_on_accept, "https", CONNECTTIMEOUT_MS=STALL_MS)),
    row("http-silent-after-request", 28, "ReadTimeout", C.TIMEOUT, IDEMPOTENT,
        handler(stall_after_request, TIMEOUT_MS=STALL_MS)),
    row("ftp-port-refused", 30, "FTPPortFailed", C.FTP, NEVER,
        script({"EPRT": "500 no", "PORT": "500 no"}, **ACTIVE)),
    row("ftp-rest-refused", 31, "FTPCouldntUseRest", C.FTP, NEVER,
        script({"REST": "500 no", "SIZE": "213 100"}, RESUME_FROM=5)),
    row("http-resume-ignored", 33, "RangeError", C.REMOTE, NEVER,
        serve_ok(RESUME_FROM=5)),
    row("tls-to-plain-http", 35, "SSLConnectError", C.TLS, SAFE,
        handler(greet(b"HTTP/1.1 400 Bad Request\r\n\r\n"), "https")),
    row("tls12-client-cert-required", 35, "SSLConnectError", C.TLS, SAFE,
        tls(client_cert=True, SSLVERSION=TLS12)),
    row("tls-min-above-max", 35, "SSLConnectError", C.TLS, SAFE,
        tls(SSLVERSION=pycurl.SSLVERSION_TLSv1_3 | pycurl.SSLVERSION_MAX_TLSv1_2)),
    row("ftp-resume-beyond-end", 36, "BadDownloadResume", C.USAGE, NEVER,
        ftp(RESUME_FROM=len(FTP_FILE_CONTENT) + 100)),
    row("file-missing", 37, "FileCouldntReadFile", C.LOCAL_IO, NEVER,
        opts(URL=f"file://{NOWHERE}/file.txt")),
    row("xferinfo-abort", 42, "AbortedByCallback", C.CALLBACK, NEVER,
        serve_ok(NOPROGRESS=0, XFERINFOFUNCTION=lambda *progress: 1)),
    row("client-key-garbage", 43, "BadFunctionArgument", C.USAGE, NEVER,
        tls(SSLKEY="pki:garbage_file", SSLCERT="pki:client_cert_file")),
    row("rtsp-setup-without-transport", 43, "BadFunctionArgument", C.USAGE, NEVER,
        rtsp(RTSP_OK, pycurl.RTSPREQ_SETUP)),
    row("interface-missing", 45, "InterfaceFailed", C.CONNECT, NEVER,
        serve_ok(INTERFACE="curlx-no-such-if0")),
    row("redirect-loop", 47, "TooManyRedirects", C.HTTP, NEVER,
        serve(REDIRECT_LOOP, FOLLOWLOCATION=1, MAXREDIRS=3)),
    row("telnet-unknown-option", 48, "UnknownOption", C.USAGE, NEVER,
        handler(greet(b""), "telnet", "", TELNETOPTIONS=["BOGUS=1"])),
    row("telnet-option-syntax", 49, "SetoptOptionSyntax", C.USAGE, NEVER,
        handler(greet(b""), "telnet", "", TELNETOPTIONS=["TTYPE"])),
    row("empty-reply", 52, "GotNothing", C.NETWORK, IDEMPOTENT,
        handler(close_after_request)),
    # 55: the server resets the FTP data connection the upload is being sent on.
    row("ftp-upload-data-reset", 55, "SendError", C.NETWORK, IDEMPOTENT,
        lambda c, lab: script({"STOR": FTPSession.reset_data}, **upload(bytes(8 << 20)))(c, lab)),
    row("reset-after-request", 56, "RecvError", C.NETWORK, IDEMPOTENT,
        handler(reset_after_request)),
    row("reset-mid-body", 56, "RecvError", C.NETWORK, IDEMPOTENT,
        handler(respond_and_reset(SHORT_BODY))),
    # libcurl 8.23 reports more than 300 KiB of response headers as a receive error.
    row("headers-over-300k", 56, "RecvError", C.NETWORK, IDEMPOTENT,
        serve(HEADERS_OVER_300K)),
    # TLS 1.3: the server's "certificate required" alert only arrives on the first read.
    row("tls13-client-cert-required", 56, "RecvError", C.NETWORK, IDEMPOTENT,
        tls(client_cert=True)),
    row("client-cert-garbage", 58, "SSLCertproblem", C.TLS, NEVER,
        tls(SSLCERT="pki:garbage_file")),
    row("client-cert-missing", 58, "SSLCertproblem", C.TLS, NEVER,
        tls(SSLCERT=f"{NOWHERE}/cert.pem")),
    row("cipher-list-bogus", 59, "SSLCipher", C.TLS, NEVER,
        tls(SSL_CIPHER_LIST="NO-SUCH-CIPHER", SSLVERSION=TLS12)),
    row("tls13-ciphers-bogus", 59, "SSLCipher", C.TLS, NEVER,
        tls(TLS13_CIPHERS="NO_SUCH_CIPHER")),
    row("ec-curves-bogus", 59, "SSLCipher", C.TLS, NEVER,
        tls(SSL_EC_CURVES="no-such-curve")),
    row("cert-unknown-ca", 60, "PeerFailedVerification", C.CERTIFICATE, NEVER,
        tls(CAINFO="pki:other_ca_file")),
    row("cert-wrong-host", 60, "PeerFailedVerification", C.CERTIFICATE, NEVER,
        tls("wrong_host")),
    row("cert-expired", 60, "PeerFailedVerification", C.CERTIFICATE, NEVER,
        tls("expired")),
    row("gzip-garbage", 61, "BadContentEncoding", C.PROTOCOL, NEVER,
        serve(BAD_GZIP, ACCEPT_ENCODING="")),
    row("maxfilesize-content-length", 63, "FilesizeExceeded", C.LIMIT, NEVER,
        serve(BIG_LENGTH, MAXFILESIZE=1000)),
    row("maxfilesize-endless-body", 63, "FilesizeExceeded", C.LIMIT, NEVER,
        handler(endless_body(), MAXFILESIZE=1000)),
    row("ftp-maxfilesize", 63, "FilesizeExceeded", C.LIMIT, NEVER,
        ftp(MAXFILESIZE=5)),
    row("ftp-ssl-required-no-tls", 64, "UseSSLFailed", C.TLS, NEVER,
        ftp(USE_SSL=pycurl.USESSL_ALL)),
    row("ftp-auth-tls-refused", 64, "UseSSLFailed", C.TLS, NEVER,
        script({"AUTH": "500 no TLS here"}, USE_SSL=pycurl.USESSL_ALL)),
    row("post-redirect-without-rewind", 65, "SendFailRewind", C.LOCAL_IO, NEVER,
        post_redirected()),
    row("post-redirect-seek-fails", 65, "SendFailRewind", C.LOCAL_IO, NEVER,
        post_redirected(SEEKFUNCTION=lambda offset, origin: pycurl.SEEKFUNC_FAIL)),
    row("ftp-bad-password", 67, "LoginDenied", C.AUTH, NEVER,
        lambda c, lab: setopts(c, URL=lab.ftp().url("/", password=SECRET + "-wrong"))),
    row("ftp-user-refused", 67, "LoginDenied", C.AUTH, NEVER,
        script({"USER": "530 go away"})),
    row("tftp-not-found", 68, "TFTPNotfound", C.TFTP, NEVER, tftp(1)),
    row("tftp-access-violation", 69, "TFTPPerm", C.TFTP, NEVER, tftp(2)),
    row("tftp-disk-full", 70, "RemoteDiskFull", C.REMOTE, NEVER, tftp(3)),
    row("tftp-illegal-operation", 71, "TFTPIllegal", C.TFTP, NEVER, tftp(4)),
    row("tftp-unknown-tid", 72, "TFTPUnknownid", C.TFTP, NEVER, tftp(5)),
    row("tftp-file-exists", 73, "RemoteFileExists", C.REMOTE, NEVER,
        lambda c, lab: tftp(6, **upload())(c, lab)),
    row("tftp-no-such-user", 74, "TFTPNosuchuser", C.TFTP, NEVER, tftp(7)),
    row("ca-file-garbage", 77, "SSLCacertBadfile", C.TLS, NEVER,
        tls(CAINFO="pki:garbage_file")),
    row("ca-file-missing", 77, "SSLCacertBadfile", C.TLS, NEVER,
        tls(CAINFO=f"{NOWHERE}/ca.pem")),
    row("ftp-missing-file", 78, "RemoteFileNotFound", C.REMOTE, NEVER,
        ftp("/no-such-file.txt")),
    row("ftp-retr-550", 78, "RemoteFileNotFound", C.REMOTE, NEVER,
        script({"RETR": "550 no such file"})),
    row("crl-file-garbage", 82, "SSLCRLBadfile", C.TLS, NEVER,
        tls(CRLFILE="pki:garbage_file")),
    row("issuer-mismatch", 83, "SSLIssuerError", C.CERTIFICATE, NEVER,
        tls(ISSUERCERT="pki:other_ca_file")),
    row("ftp-pret-refused", 84, "FTPPretFailed", C.FTP, NEVER,
        script({"PRET": "500 no PRET"}, FTP_USE_PRET=1)),
    row("rtsp-cseq-mismatch", 85, "RTSPCseqError", C.RTSP, NEVER,
        rtsp(RTSP_WRONG_CSEQ, pycurl.RTSPREQ_OPTIONS)),
    row("rtsp-session-mismatch", 86, "RTSPSessionError", C.RTSP, NEVER,
        rtsp(RTSP_WRONG_SESSION, pycurl.RTSPREQ_OPTIONS, OPT_RTSP_SESSION_ID="ours")),
    row("ftp-unparsable-list", 87, "FTPBadFileList", C.FTP, NEVER,
        handler(scripted_ftp(data=b"no LIST line\r\n"), "ftp", "/*.txt", WILDCARDMATCH=1)),
    row("pinned-key-mismatch", 90, "SSLPinnedpubkeynotmatch", C.CERTIFICATE, NEVER,
        tls(PINNEDPUBLICKEY="sha256//" + "A" * 43 + "=")),
    row("ocsp-status-missing", 91, "SSLInvalidcertstatus", C.CERTIFICATE, NEVER,
        tls(SSL_VERIFYSTATUS=1)),
    row("h2-stream-reset", 92, "HTTP2Stream", C.PROTOCOL, IDEMPOTENT,
        handler(h2_reset_stream(), HTTP_VERSION=H2)),
    row("socks5-refused", 97, "Proxy", C.PROXY, SAFE,
        socks(b"\x05\x00", socks5_reply(5))),
    row("socks5-no-acceptable-auth", 97, "Proxy", C.PROXY, NEVER,
        socks(b"\x05\xff")),
    row("header-over-100k", 100, "TooLarge", C.LIMIT, NEVER,
        serve(HUGE_HEADER)),
    row("over-5000-headers", 100, "TooLarge", C.LIMIT, NEVER,
        serve(MANY_HEADERS)),
]  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_real_failure(curl: curlx.Curl, lab: Lab, scenario: Scenario) -> None:
    scenario.setup(curl, lab)
    error = perform_error(curl)
    assert_curl_error(error, scenario.code, scenario.cls, scenario.category, scenario.retry)
    assert error.url, "a perform() error knows its URL"


def test_the_table_covers_enough_distinct_codes() -> None:
    codes = {param.values[0].code for param in SCENARIOS}
    assert len(codes) >= 35, sorted(codes)


# --------------------------------------------------------------------------------------------
# Errors raised by setopt() itself: libcurl refuses the option value.

SETOPT_CASES = [
    pytest.param(pycurl.HTTP_VERSION, 1000, 1, "UnsupportedProtocol", C.USAGE, NEVER,
                 id="http-version-unknown"),
    # This build's OpenSSL has no Encrypted Client Hello.
    pytest.param(pycurl.ECH, "true", 4, "NotBuiltIn", C.USAGE, NEVER,
                 id="ech-not-built-in"),
    pytest.param(pycurl.MAXREDIRS, -5, 43, "BadFunctionArgument", C.USAGE, NEVER,
                 id="maxredirs-negative"),
    pytest.param(pycurl.PROXYTYPE, 99, 43, "BadFunctionArgument", C.USAGE, NEVER,
                 id="proxytype-unknown"),
    pytest.param(pycurl.SSLENGINE, "curlx-no-such-engine", 53, "SSLEngineNotfound", C.TLS, NEVER,
                 id="ssl-engine-missing"),
]  # fmt: skip


@pytest.mark.parametrize(("option", "value", "code", "cls", "category", "retry"), SETOPT_CASES)
def test_setopt_refused(
    curl: curlx.Curl,
    option: int,
    value: object,
    code: int,
    cls: str,
    category: Category,
    retry: RetryKind,
) -> None:
    curl.setopt(pycurl.URL, f"http://user:{SECRET}@127.0.0.1:{closed_port()}/")
    with pytest.raises(curlx.CurlError) as caught:
        curl.setopt(option, value)
    assert_curl_error(caught.value, code, cls, category, retry)


# --------------------------------------------------------------------------------------------
# Timeouts: which phase ran out of time


def test_connect_timeout_before_anything_was_sent(
    curl: curlx.Curl, connect_stall: ConnectStall
) -> None:
    curl.setopt(pycurl.URL, connect_stall.url("/path"))
    curl.setopt(pycurl.CONNECTTIMEOUT_MS, STALL_MS)
    started = time.monotonic()
    error = perform_error(curl)
    elapsed = time.monotonic() - started
    assert_curl_error(error, 28, "ConnectTimeout", Category.TIMEOUT, SAFE)
    assert isinstance(error, curlx.ConnectTimeout)
    assert isinstance(error, builtins.TimeoutError)
    assert 0.2 <= elapsed < 2.0
    assert error.info is not None
    assert error.info.connect_time == 0.0  # the TCP handshake never completed
    assert error.info.size_download == 0
    assert error.info.response_code == 0
    assert error.url == connect_stall.url("/path")


def test_connect_timeout_in_the_tls_handshake(curl: curlx.Curl, lab: Lab) -> None:
    server = lab.raw(stall_on_accept)
    curl.setopt(pycurl.URL, server.url(scheme="https"))
    curl.setopt(pycurl.CONNECTTIMEOUT_MS, STALL_MS)
    error = perform_error(curl)
    assert_curl_error(error, 28, "ConnectTimeout", Category.TIMEOUT, SAFE)
    assert error.info is not None
    assert error.info.connect_time > 0.0  # TCP connected...
    assert error.info.appconnect_time == 0.0  # ...but TLS never finished
    assert error.info.primary_port == server.port
    assert server.accepted == 1


def test_read_timeout_after_the_request_was_sent(curl: curlx.Curl, lab: Lab) -> None:
    server = lab.raw(stall_after_request)
    curl.setopt(pycurl.URL, server.url("/slow"))
    curl.setopt(pycurl.TIMEOUT_MS, STALL_MS)
    started = time.monotonic()
    error = perform_error(curl)
    assert time.monotonic() - started < 2.0
    assert_curl_error(error, 28, "ReadTimeout", Category.TIMEOUT, IDEMPOTENT)
    assert isinstance(error, builtins.TimeoutError)
    assert error.info is not None
    assert error.info.connect_time > 0.0
    assert error.info.pretransfer_time > 0.0
    assert error.info.primary_ip == "127.0.0.1"
    assert error.info.primary_port == server.port
    assert error.info.size_download == 0
    assert error.info.response_code == 0
    assert error.url == server.url("/slow")


def test_read_timeout_in_the_middle_of_the_body(curl: curlx.Curl, lab: Lab) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    server = lab.raw(respond_then_stall(head + b"x" * 10))
    curl.setopt(pycurl.URL, server.url())
    curl.setopt(pycurl.TIMEOUT_MS, STALL_MS)
    error = perform_error(curl)
    assert_curl_error(error, 28, "ReadTimeout", Category.TIMEOUT, IDEMPOTENT)
    assert error.info is not None
    assert error.info.response_code == 200
    assert error.info.size_download == 10
    assert error.info.starttransfer_time > 0.0


# --------------------------------------------------------------------------------------------
# Proxies: the CURLPX detail, and a CONNECT refused by an HTTP proxy

PX = ProxyCode
NO_AUTH_NEEDED = b"\x05\x00"
SOCKS_CASES = [
    pytest.param(b"\x05\xff", b"", PX.NO_AUTH, NEVER, id="no-acceptable-auth"),
    pytest.param(b"\x04\x00", b"", PX.BAD_VERSION, NEVER, id="bad-version"),
    pytest.param(b"\x05\x07", b"", PX.UNKNOWN_MODE, NEVER, id="unknown-auth-mode"),
    pytest.param(b"", b"", PX.RECV_CONNECT, SAFE, id="hang-up-after-greeting"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(1), PX.REPLY_GENERAL_SERVER_FAILURE, SAFE,
                 id="reply-general-failure"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(2), PX.REPLY_NOT_ALLOWED, NEVER,
                 id="reply-not-allowed"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(3), PX.REPLY_NETWORK_UNREACHABLE, SAFE,
                 id="reply-network-unreachable"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(4), PX.REPLY_HOST_UNREACHABLE, SAFE,
                 id="reply-host-unreachable"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(5), PX.REPLY_CONNECTION_REFUSED, SAFE,
                 id="reply-connection-refused"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(6), PX.REPLY_TTL_EXPIRED, SAFE,
                 id="reply-ttl-expired"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(7), PX.REPLY_COMMAND_NOT_SUPPORTED, NEVER,
                 id="reply-command-not-supported"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(8), PX.REPLY_ADDRESS_TYPE_NOT_SUPPORTED, NEVER,
                 id="reply-address-type-not-supported"),
    pytest.param(NO_AUTH_NEEDED, socks5_reply(9), PX.REPLY_UNASSIGNED, NEVER,
                 id="reply-unassigned"),
    pytest.param(NO_AUTH_NEEDED, b"\x04\x00\x00\x01" + bytes(6), PX.BAD_VERSION, NEVER,
                 id="reply-bad-version"),
    pytest.param(NO_AUTH_NEEDED, b"\x05\x00\x00\x09" + bytes(6), PX.BAD_ADDRESS_TYPE, NEVER,
                 id="reply-bad-address-type"),
]  # fmt: skip


@pytest.mark.parametrize(("method_reply", "connect_reply", "detail", "retry"), SOCKS_CASES)
def test_socks5_proxy_failure_detail(
    curl: curlx.Curl,
    lab: Lab,
    method_reply: bytes,
    connect_reply: bytes,
    detail: ProxyCode,
    retry: RetryKind,
) -> None:
    proxy = lab.raw(socks5(method_reply, connect_reply))
    curl.setopt(pycurl.URL, refused_url("/behind-proxy"))
    curl.setopt(pycurl.PROXY, f"socks5://127.0.0.1:{proxy.port}")
    error = perform_error(curl)
    assert_curl_error(error, 97, "Proxy", Category.PROXY, retry)
    assert isinstance(error, curlx.ProxyError)
    assert error.info is not None
    assert error.info.proxy_error == detail
    assert error.info.proxy_error is detail  # the CURLPX member, not a bare number
    assert proxy.accepted == 1


def test_socks4_request_rejected(curl: curlx.Curl, lab: Lab) -> None:
    proxy = lab.raw(greet(b"\x00\x5b" + bytes(6)))  # SOCKS4 reply 91: request rejected
    curl.setopt(pycurl.URL, refused_url())
    curl.setopt(pycurl.PROXY, f"socks4://127.0.0.1:{proxy.port}")
    error = perform_error(curl)
    assert_curl_error(error, 97, "Proxy", Category.PROXY, SAFE)
    assert error.info is not None
    assert error.info.proxy_error is ProxyCode.REQUEST_FAILED


@pytest.mark.parametrize("status", [403, 407])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_http_proxy_refuses_connect(curl: curlx.Curl, lab: Lab, status: int, scheme: str) -> None:
    proxy = lab.raw(refuse_connect(status))
    curl.setopt(pycurl.URL, f"{scheme}://user:{SECRET}@127.0.0.1:{closed_port()}/")
    curl.setopt(pycurl.PROXY, f"http://127.0.0.1:{proxy.port}")
    curl.setopt(pycurl.HTTPPROXYTUNNEL, 1)
    error = perform_error(curl)
    # libcurl 8.23 reports a refused CONNECT as CURLE_COULDNT_CONNECT with the status on the side.
    assert_curl_error(error, 7, "ProxyTunnelRefused", Category.PROXY, NEVER)
    assert isinstance(error, curlx.ProxyTunnelRefused)
    assert isinstance(error, curlx.ProxyError)
    assert error.info is not None
    assert error.info.http_connect_code == status
    assert error.info.response_code == 0
    assert proxy.accepted == 1


def test_plain_refused_port_is_not_a_proxy_error(curl: curlx.Curl) -> None:
    port = closed_port()
    curl.setopt(pycurl.URL, f"http://user:{SECRET}@127.0.0.1:{port}/x")
    error = perform_error(curl)
    assert_curl_error(error, 7, "CouldntConnect", Category.CONNECT, SAFE)
    assert not isinstance(error, curlx.ProxyError)
    assert isinstance(error, builtins.ConnectionError)
    assert error.info is not None
    assert error.info.http_connect_code == 0
    assert error.errno == 111  # ECONNREFUSED
    assert error.url == f"http://127.0.0.1:{port}/x"


def test_unresolvable_proxy_is_dns_and_proxy_error(curl: curlx.Curl) -> None:
    curl.setopt(pycurl.URL, refused_url())
    curl.setopt(pycurl.PROXY, "http://proxy.invalid:3128")
    error = perform_error(curl)
    assert_curl_error(error, 5, "CouldntResolveProxy", Category.DNS, SAFE)
    assert isinstance(error, curlx.DNSError)
    assert isinstance(error, curlx.ProxyError)


# --------------------------------------------------------------------------------------------
# HTTP status errors and redirects (pytest-httpserver)


def test_http_404_is_a_client_error(curl: curlx.Curl, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing").respond_with_data("gone", status=404)
    url = httpserver.url_for("/missing")
    curl.setopt(pycurl.URL, url.replace("http://", f"http://user:{SECRET}@"))
    curl.setopt(pycurl.FAILONERROR, 1)
    error = perform_error(curl)
    assert_curl_error(error, 22, "HTTPClientError", Category.HTTP_STATUS, NEVER)
    assert isinstance(error, curlx.HTTPStatusError)
    assert error.info is not None
    assert error.info.response_code == 404
    assert error.url == url


def test_http_503_is_a_server_error_with_retry_after(
    curl: curlx.Curl, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/busy").respond_with_data(
        "later", status=503, headers={"Retry-After": "7"}
    )
    curl.setopt(pycurl.URL, httpserver.url_for("/busy"))
    curl.setopt(pycurl.FAILONERROR, 1)
    error = perform_error(curl)
    assert_curl_error(error, 22, "HTTPServerError", Category.HTTP_STATUS, IDEMPOTENT)
    assert error.info is not None
    assert error.info.response_code == 503
    assert error.info.retry_after == 7
    assert error.retry.after == 7


def test_redirect_loop_stops_at_maxredirs(curl: curlx.Curl, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    curl.setopt(pycurl.URL, httpserver.url_for("/loop"))
    curl.setopt(pycurl.FOLLOWLOCATION, 1)
    curl.setopt(pycurl.MAXREDIRS, 3)
    error = perform_error(curl)
    assert_curl_error(error, 47, "TooManyRedirects", Category.HTTP, NEVER)
    assert error.info is not None
    assert error.info.redirect_count == 3
    assert error.info.response_code == 302


# --------------------------------------------------------------------------------------------
# Credentials never show: in the text, the repr or the URL of an error


CREDENTIAL_CASES = [
    pytest.param(lambda c, lab: setopts(c, URL=with_secret(refused_url())), 7,
                 id="refused-port"),
    pytest.param(opts(URL=f"http://user:{SECRET}@nonexistent.invalid/"), 6,
                 id="dns"),
    pytest.param(lambda c, lab: setopts(c, URL=with_secret(http(lab, NOT_FOUND)), FAILONERROR=1),
                 22, id="http-404"),
    pytest.param(tls(CAINFO="pki:other_ca_file"), 60,
                 id="tls-unknown-ca"),
    pytest.param(opts(URL=f"http://user:{SECRET}@[::1"), 3,
                 id="malformed-url"),
    pytest.param(ftp("/no-such-file.txt"), 78,
                 id="ftp-missing-file"),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "code"), CREDENTIAL_CASES)
def test_credentials_are_never_shown(curl: curlx.Curl, lab: Lab, setup: Setup, code: int) -> None:
    setup(curl, lab)
    error = perform_error(curl, require_info=False)  # this test is about credentials only
    assert error.code == code
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert error.url is not None
    assert SECRET not in error.url
    assert "user:" not in error.url


# --------------------------------------------------------------------------------------------
# A Python exception raised in a callback leaves perform() as itself


def _boom(*args: object) -> None:
    raise ZeroDivisionError("boom in a callback")


CALLBACK_CASES = [
    pytest.param({"WRITEFUNCTION": _boom}, 23, "WriteError", id="write"),
    pytest.param({"HEADERFUNCTION": _boom}, 23, "WriteError", id="header"),
    pytest.param({"NOPROGRESS": 0, "XFERINFOFUNCTION": _boom}, 42, "AbortedByCallback",
                 id="xferinfo"),
    pytest.param({"UPLOAD": 1, "READFUNCTION": _boom, "INFILESIZE": 10}, 42, "AbortedByCallback",
                 id="read"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "code", "cls"), CALLBACK_CASES)
def test_callback_exception_propagates_with_curl_error_as_context(
    curl: curlx.Curl, lab: Lab, options: dict[str, Any], code: int, cls: str
) -> None:
    setopts(curl, URL=ok_url(lab), **options)
    with pytest.raises(ZeroDivisionError, match="boom in a callback") as caught:
        curl.perform()
    context = caught.value.__context__
    assert context is not None
    category = Category.LOCAL_IO if code == 23 else Category.CALLBACK
    assert_curl_error(context, code, cls, category, NEVER)


def test_callback_exception_does_not_leak_into_the_next_transfer(
    curl: curlx.Curl, lab: Lab
) -> None:
    setopts(curl, URL=ok_url(lab), WRITEFUNCTION=_boom)
    with pytest.raises(ZeroDivisionError):
        curl.perform()
    body = io.BytesIO()
    setopts(curl, URL=ok_url(lab), WRITEFUNCTION=body.write)
    curl.perform()
    assert body.getvalue() == b"0123456789"


# --------------------------------------------------------------------------------------------
# The multi interface


def test_multi_add_handle_twice() -> None:
    multi = curlx.CurlMulti()
    handle = curlx.Curl()
    try:
        multi.add_handle(handle)
        with pytest.raises(curlx.MultiError) as caught:
            multi.add_handle(handle)
        multi.remove_handle(handle)
    finally:
        handle.close()
        multi.close()
    error = assert_curl_error(
        caught.value, 7, "MultiAddedAlready", Category.USAGE, NEVER, family=MultiCode
    )
    assert error.code is MultiCode.ADDED_ALREADY
    assert error.name == "CURLM_ADDED_ALREADY"


def test_multi_assign_unknown_socket() -> None:
    multi = curlx.CurlMulti()
    with socket.socket() as sock:
        try:
            with pytest.raises(curlx.MultiError) as caught:
                multi.assign(sock.fileno(), None)
        finally:
            multi.close()
    error = assert_curl_error(
        caught.value, 5, "MultiBadSocket", Category.USAGE, NEVER, family=MultiCode
    )
    assert error.code is MultiCode.BAD_SOCKET


def test_multi_transfer_failure_is_typed(lab: Lab) -> None:
    multi = curlx.CurlMulti()
    handle = curlx.Curl()
    try:
        setopts(handle, URL=lab.raw(close_after_request).url(), TIMEOUT_MS=TIMEOUT_MS)
        multi.add_handle(handle)
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        running = 1
        while running and time.monotonic() < deadline:
            _, running = multi.perform()
            if running:
                multi.select(0.1)
        _, ok, failures = multi.info_read()
        multi.remove_handle(handle)
    finally:
        handle.close()
        multi.close()
    assert ok == []
    assert len(failures) == 1
    failed_handle, code, message = failures[0]
    assert failed_handle is handle
    assert code == 52
    assert "Empty reply" in message
    assert_curl_error(failures[0].error, 52, "GotNothing", Category.NETWORK, IDEMPOTENT)
