"""The hierarchy users catch, the attributes every error carries, its message, and pickling."""

from __future__ import annotations

import builtins
import pickle
import re

import pycurl
import pytest

import curlx
from curlx import Category, CurlCode, Family, MultiCode, RetryKind, TransferInfo
from curlx._exceptions import CLASS_OF_CATEGORY, CLASS_OF_CODE, CurlError
from curlx._translate import error_from_code

INFO = TransferInfo(
    effective_url="https://example.test/path?q=1",
    effective_method="GET",
    os_errno=111,
    response_code=503,
    primary_ip="127.0.0.1",
    primary_port=443,
    namelookup_time=0.001,
    connect_time=0.002,
    total_time=0.01,
    request_size=78,
    retry_after=3.0,
)


def _all_classes() -> list[type[CurlError]]:
    found: set[type[CurlError]] = {CurlError, *CLASS_OF_CODE.values()}
    found |= set(CLASS_OF_CATEGORY.values())
    found |= {curlx.MultiError, curlx.ShareError, curlx.URLError, curlx.InvalidOperation}
    found |= {curlx.ConnectTimeout, curlx.ReadTimeout, curlx.ResolveTimeout}
    found |= {curlx.HTTPClientError, curlx.HTTPServerError, curlx.ProxyTunnelRefused}
    return sorted(found, key=lambda c: c.__name__)


def _instance(cls: type[CurlError]) -> CurlError:
    if cls is curlx.InvalidOperation:
        return curlx.InvalidOperation("cannot invoke perform() - no curl handle")
    code = cls._code
    number = int(code) if code is not None else 28
    return cls(number, "something failed", url="https://example.test/path", method="GET", info=INFO)


@pytest.mark.parametrize("cls", _all_classes(), ids=lambda c: c.__name__)
def test_every_class_pickles_with_every_attribute(cls: type[CurlError]) -> None:
    error = _instance(cls)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is cls
    assert clone.args == error.args
    assert vars(clone) == vars(error)
    assert (clone.code, clone.name, clone.category, clone.family) == (
        error.code,
        error.name,
        error.category,
        error.family,
    )
    assert (clone.errno, clone.strerror, clone.retry) == (error.errno, error.strerror, error.retry)
    assert str(clone) == str(error)
    assert repr(clone) == repr(error)


@pytest.mark.parametrize("cls", _all_classes(), ids=lambda c: c.__name__)
def test_every_class_is_a_pycurl_error_with_pycurl_args(cls: type[CurlError]) -> None:
    error = _instance(cls)
    assert isinstance(error, pycurl.error)
    if cls is not curlx.InvalidOperation:
        assert error.args == (error.code, "something failed")
        assert isinstance(error.args[0], int)


def test_hierarchy_matches_the_design() -> None:
    expect = {
        curlx.CouldntResolveHost: (curlx.DNSError, curlx.NetworkError),
        curlx.CouldntResolveProxy: (curlx.DNSError, curlx.ProxyError),
        curlx.CouldntConnect: (curlx.ConnectError, builtins.ConnectionError),
        curlx.InterfaceFailed: (curlx.ConnectError,),
        curlx.GotNothing: (curlx.NetworkError,),
        curlx.SendError: (curlx.NetworkError,),
        curlx.RecvError: (curlx.NetworkError,),
        curlx.OperationTimedout: (curlx.TimeoutError, builtins.TimeoutError),
        curlx.FTPAcceptTimeout: (curlx.TimeoutError, curlx.FTPError),
        curlx.ConnectTimeout: (curlx.OperationTimedout,),
        curlx.ReadTimeout: (curlx.OperationTimedout,),
        curlx.ResolveTimeout: (curlx.ConnectTimeout, curlx.DNSError),
        curlx.SSLConnectError: (curlx.SSLError,),
        curlx.PeerFailedVerification: (curlx.CertificateError, curlx.SSLError),
        curlx.SSLPinnedpubkeynotmatch: (curlx.CertificateError,),
        curlx.Proxy: (curlx.ProxyError,),
        curlx.ProxyTunnelRefused: (curlx.ProxyError, curlx.CouldntConnect),
        curlx.WeirdServerReply: (curlx.ProtocolError,),
        curlx.HTTP2Stream: (curlx.ProtocolError,),
        curlx.PartialFile: (curlx.ProtocolError,),
        curlx.HTTPReturnedError: (curlx.HTTPStatusError, curlx.HTTPError),
        curlx.HTTPClientError: (curlx.HTTPStatusError,),
        curlx.HTTPServerError: (curlx.HTTPStatusError,),
        curlx.TooManyRedirects: (curlx.HTTPError,),
        curlx.LoginDenied: (curlx.AuthError,),
        curlx.RemoteFileNotFound: (curlx.RemoteError,),
        curlx.URLMalformat: (curlx.InvalidURL, curlx.UsageError, ValueError),
        curlx.UnsupportedProtocol: (curlx.UsageError, ValueError),
        curlx.NotBuiltIn: (curlx.UsageError,),
        curlx.InvalidOperation: (curlx.UsageError, RuntimeError),
        curlx.FilesizeExceeded: (curlx.LimitExceeded,),
        curlx.TooLarge: (curlx.LimitExceeded,),
        curlx.AbortedByCallback: (curlx.CallbackError,),
        curlx.WriteError: (curlx.LocalIOError,),
        curlx.OutOfMemory: (curlx.InternalError,),
        curlx.MultiAddedAlready: (curlx.MultiError, curlx.UsageError),
        curlx.ShareInUse: (curlx.ShareError,),
        curlx.URLBadPortNumber: (curlx.URLError, curlx.InvalidURL),
    }
    for cls, bases in expect.items():
        for base in bases:
            assert issubclass(cls, base), (cls, base)
        assert issubclass(cls, curlx.CurlError)


def test_category_classes_do_not_overlap_where_users_would_be_surprised() -> None:
    assert not issubclass(curlx.TimeoutError, curlx.NetworkError)
    assert not issubclass(curlx.CertificateError, curlx.NetworkError)
    assert not issubclass(curlx.UsageError, curlx.NetworkError)
    assert not issubclass(curlx.MultiAddedAlready, curlx.ConnectError)


def test_every_category_of_a_failure_has_a_class() -> None:
    for category in Category:
        assert category in CLASS_OF_CATEGORY, category


def test_per_code_class_category_agrees_with_the_table() -> None:
    for (family, number), cls in CLASS_OF_CODE.items():
        code = cls._code
        assert code is not None and code.family is family and int(code) == number
        assert cls(number, "x").category is code.category
        for category in code.categories:
            assert issubclass(cls, CLASS_OF_CATEGORY[category]), (cls, category)


def test_timeout_error_errno_is_the_os_errno_not_the_curl_code() -> None:
    error = error_from_code(28, "Operation timed out", info=INFO)
    assert isinstance(error, builtins.TimeoutError)
    assert error.errno == 111
    bare = error_from_code(28, "Operation timed out")
    assert bare.errno is None
    assert bare.args == (28, "Operation timed out")


def test_connect_error_errno_is_the_os_errno() -> None:
    error = error_from_code(7, "Failed to connect", info=INFO)
    assert isinstance(error, ConnectionError) and error.errno == 111


def test_message_has_name_code_method_url_text_then_hint() -> None:
    error = error_from_code(
        60,
        "SSL certificate problem: self-signed certificate",
        url="https://host/path",
        method="GET",
    )
    line1, line2 = str(error).split("\n")
    assert line1 == (
        "PEER_FAILED_VERIFICATION (curl error 60) for GET https://host/path: "
        "SSL certificate problem: self-signed certificate"
    )
    assert line2.startswith("Hint: ") and line2.endswith("See: curlx explain 60")
    assert RetryKind.NEVER.advice in line2
    assert CurlCode.PEER_FAILED_VERIFICATION.explanation in line2


def test_multi_error_message_names_its_family() -> None:
    error = error_from_code(7, "added already", family=Family.MULTI)
    assert type(error) is curlx.MultiAddedAlready
    assert error.code is MultiCode.ADDED_ALREADY
    assert str(error).startswith("ADDED_ALREADY (curl multi error 7): added already")
    assert str(error).endswith("See: curlx explain CURLM_ADDED_ALREADY")


def test_retry_after_appears_in_hint_and_message() -> None:
    error = error_from_code(22, "The requested URL returned error: 503", info=INFO)
    assert isinstance(error, curlx.HTTPServerError)
    assert error.retry.after == 3.0 and error.retry.kind is RetryKind.IDEMPOTENT
    assert "wait 3 s (Retry-After)" in str(error)
    assert curlx.retry_after(error) == 3.0


def test_explain_long_form_includes_the_transfer_facts() -> None:
    error = error_from_code(7, "Failed to connect", url="http://h/", method="GET", info=INFO)
    text = error.explain()
    assert text.startswith("COULDNT_CONNECT (curl error 7) for GET http://h/: Failed to connect")
    assert "ECONNREFUSED" in text and "127.0.0.1 port 443" in text
    assert "See:           curlx explain 7" in text
    assert re.search(r"Category: +connect", text)


def test_retryable_uses_the_errors_own_method() -> None:
    sent = TransferInfo(request_size=100, connect_time=0.001)
    read_timeout = error_from_code(28, "Operation timed out", method="POST", info=sent)
    assert isinstance(read_timeout, curlx.ReadTimeout)
    assert not read_timeout.retryable
    assert curlx.is_retryable(read_timeout, method="GET")
    get_timeout = error_from_code(28, "Operation timed out", method="GET", info=sent)
    assert get_timeout.retryable
    assert not curlx.is_retryable(ValueError("not ours"))
