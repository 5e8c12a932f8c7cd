"""Translation from pycurl.error: any shape in, a typed CurlError out; refinement; lookup."""

from __future__ import annotations

import pycurl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import curlx
from curlx import Category, CurlCode, Family, ProxyCode, RetryKind, TransferInfo
from curlx._codes import all_codes
from curlx._translate import error_from_code
from curlx._urls import redact_text

any_arg = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(),
    st.binary(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.tuples(st.integers()),
)


@given(st.lists(any_arg, max_size=4), st.sampled_from(list(Family)))
def test_translate_never_raises_and_always_returns_a_curl_error(
    args: list[object], family: Family
) -> None:
    error = curlx.translate(pycurl.error(*args), family=family)
    assert isinstance(error, curlx.CurlError)
    assert str(error).split("\n")[0] and repr(error).startswith(type(error).__name__)
    assert isinstance(error.explain(), str)
    assert isinstance(error.retry.kind, RetryKind)


@pytest.mark.parametrize("family", list(Family))
def test_every_small_number_of_every_family_translates(family: Family) -> None:
    # Each family's whole table and its neighbours, every time (the property test above
    # samples them; it once found the header family with no class of its own).
    for number in range(-2, 130):
        error = curlx.translate(pycurl.error(number, "message"), family=family)
        assert isinstance(error, curlx.CurlError) and error.args == (number, "message")
        assert str(error) and isinstance(error.explain(), str)
        assert isinstance(error.retry.kind, RetryKind)


@given(st.integers(min_value=-(2**63), max_value=2**63), st.text())
def test_any_number_translates_keeping_the_number(number: int, message: str) -> None:
    error = curlx.translate(pycurl.error(number, message))
    assert error.args == (number, redact_text(message))
    assert int(error.code) == number  # type: ignore[arg-type]
    if CurlCode.lookup(number) is None:
        assert type(error) is curlx.CurlError
        assert error.category is Category.UNKNOWN
        assert error.name == f"CURLE_UNKNOWN_{number}"
        assert f"(curl error {number})" in str(error)


# pycurl raises no header-API or CURLPX codes of its own: those families have no classes.
RAISED_CODES = [c for c in all_codes() if c.family not in (Family.HEADER, Family.PROXY)]


@pytest.mark.parametrize("code", RAISED_CODES, ids=lambda c: c.libcurl_name)
def test_every_code_translates_to_its_family_and_category(code: curlx.CurlCode) -> None:
    error = curlx.translate(pycurl.error(int(code), "message"), family=code.family)
    assert error.code is code
    assert error.family is code.family
    assert error.name == code.libcurl_name
    if code.category not in (Category.OK, Category.RETIRED):
        assert error.category is code.category or code is CurlCode.COULDNT_CONNECT


def test_the_same_number_means_different_things_in_each_family() -> None:
    assert type(curlx.translate(pycurl.error(7, "x"))) is curlx.CouldntConnect
    multi = curlx.translate(pycurl.error(7, "x"), family=Family.MULTI)
    assert type(multi) is curlx.MultiAddedAlready and not isinstance(multi, curlx.ConnectError)
    assert type(curlx.translate(pycurl.error(2, "x"), family=Family.SHARE)) is curlx.ShareInUse


@pytest.mark.parametrize(
    "args",
    [(), ("cannot invoke perform() - no curl handle",), (b"bytes message",), ("a", "b")],
)
def test_code_less_errors_become_invalid_operation(args: tuple[object, ...]) -> None:
    error = curlx.translate(pycurl.error(*args))
    assert type(error) is curlx.InvalidOperation
    assert error.code is None and isinstance(error, RuntimeError)
    assert error.args == (error.message,)
    assert "See: curlx explain" not in str(error)


def test_translate_returns_curlx_errors_unchanged() -> None:
    error = error_from_code(6, "Could not resolve host")
    assert curlx.translate(error) is error


def test_credentials_in_the_message_are_removed() -> None:
    error = curlx.translate(pycurl.error(5, "Could not resolve proxy: http://u:pw@proxy.invalid"))
    assert "pw" not in str(error) and "pw" not in repr(error)
    assert error.args == (5, "Could not resolve proxy: http://proxy.invalid")


# --- refinement from what the handle saw --------------------------------------------------------


def test_timeout_after_the_request_was_sent_is_a_read_timeout() -> None:
    info = TransferInfo(namelookup_time=0.001, connect_time=0.002, request_size=90)
    error = error_from_code(28, "Operation timed out", info=info)
    assert type(error) is curlx.ReadTimeout and error.retry.kind is RetryKind.IDEMPOTENT


def test_timeout_before_connecting_is_a_connect_timeout() -> None:
    info = TransferInfo(namelookup_time=0.001, pretransfer_time=0.4)
    error = error_from_code(28, "Connection timed out", info=info)
    assert type(error) is curlx.ConnectTimeout and error.retry.kind is RetryKind.SAFE


def test_timeout_in_the_tls_handshake_is_a_connect_timeout() -> None:
    info = TransferInfo(
        effective_url="https://h/", namelookup_time=0.001, connect_time=0.002, total_time=0.4
    )
    assert type(error_from_code(28, "x", info=info)) is curlx.ConnectTimeout


def test_timeout_while_resolving_is_a_resolve_timeout() -> None:
    error = error_from_code(28, "Resolving timed out", info=TransferInfo(total_time=0.4))
    assert type(error) is curlx.ResolveTimeout
    assert isinstance(error, curlx.DNSError) and isinstance(error, curlx.ConnectTimeout)


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("Resolving timed out after 300 milliseconds", curlx.ResolveTimeout),
        ("Connection timed out after 300 milliseconds", curlx.ConnectTimeout),
        ("Operation timed out after 300 milliseconds with 0 bytes received", curlx.ReadTimeout),
    ],
)
def test_without_a_handle_the_message_decides_the_timeout_phase(
    message: str, cls: type[curlx.CurlError]
) -> None:
    assert type(error_from_code(28, message)) is cls


@pytest.mark.parametrize(
    ("status", "cls", "kind"),
    [
        (404, curlx.HTTPClientError, RetryKind.NEVER),
        (429, curlx.HTTPClientError, RetryKind.IDEMPOTENT),
        (408, curlx.HTTPClientError, RetryKind.IDEMPOTENT),
        (500, curlx.HTTPServerError, RetryKind.IDEMPOTENT),
        (503, curlx.HTTPServerError, RetryKind.IDEMPOTENT),
        (501, curlx.HTTPServerError, RetryKind.NEVER),
    ],
)
def test_http_status_refines_class_and_retry(
    status: int, cls: type[curlx.CurlError], kind: RetryKind
) -> None:
    from_info = error_from_code(22, "x", info=TransferInfo(response_code=status))
    from_text = error_from_code(22, f"The requested URL returned error: {status}")
    for error in (from_info, from_text):
        assert type(error) is cls and error.retry.kind is kind
        assert isinstance(error, curlx.HTTPStatusError)
        assert error.status_code == status


def test_connect_refused_by_http_proxy_is_a_proxy_error() -> None:
    error = error_from_code(7, "CONNECT tunnel failed", info=TransferInfo(http_connect_code=407))
    assert type(error) is curlx.ProxyTunnelRefused and isinstance(error, curlx.ProxyError)
    assert error.category is Category.PROXY and error.retry.kind is RetryKind.NEVER
    bad_gateway = error_from_code(7, "x", info=TransferInfo(http_connect_code=502))
    assert bad_gateway.retry.kind is RetryKind.SAFE


def test_proxy_detail_decides_the_retry_of_code_97() -> None:
    refused = TransferInfo(proxy_error=ProxyCode.REPLY_CONNECTION_REFUSED)
    error = error_from_code(97, "SOCKS5 failed", info=refused)
    assert error.proxy_code is ProxyCode.REPLY_CONNECTION_REFUSED
    assert error.retry.kind is RetryKind.SAFE
    assert "CURLPX_REPLY_CONNECTION_REFUSED" in str(error)
    rejected = TransferInfo(proxy_error=ProxyCode.USER_REJECTED)
    assert error_from_code(97, "x", info=rejected).retry.kind is RetryKind.NEVER


# --- finding codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "cls"),
    [
        (60, curlx.PeerFailedVerification),
        ("60", curlx.PeerFailedVerification),
        ("PEER_FAILED_VERIFICATION", curlx.PeerFailedVerification),
        ("curle_peer_failed_verification", curlx.PeerFailedVerification),
        ("SSL_CACERT", curlx.PeerFailedVerification),
        ("CURLE_SSL_CACERT", curlx.PeerFailedVerification),
        ("OPERATION_TIMEOUTED", curlx.OperationTimedout),
        ("CURLM_ADDED_ALREADY", curlx.MultiAddedAlready),
        ("ADDED_ALREADY", curlx.MultiAddedAlready),
        ("AUTH_ERROR", curlx.AuthError),
        (20, curlx.InternalError),
    ],
)
def test_error_class_accepts_numbers_names_and_aliases(
    key: int | str, cls: type[curlx.CurlError]
) -> None:
    assert curlx.error_class(key) is cls


def test_error_class_of_another_family() -> None:
    assert curlx.error_class(7, Family.MULTI) is curlx.MultiAddedAlready
    assert curlx.error_class(4, Family.URL) is curlx.URLBadPortNumber


def test_error_class_rejects_nonsense_naming_the_closest_names() -> None:
    with pytest.raises(LookupError, match="COULDNT_CONNECT"):
        curlx.error_class("COULDNT_CONECT")
    with pytest.raises(LookupError, match="not a libcurl code name"):
        curlx.error_class("nonsense")
    with pytest.raises(LookupError, match="999"):
        curlx.error_class(999)
    with pytest.raises(LookupError, match="source compatibility"):
        curlx.error_class("ALREADY_COMPLETE")


def test_error_class_catches_exactly_that_code() -> None:
    with pytest.raises(curlx.error_class("GOT_NOTHING")):
        raise curlx.translate(pycurl.error(52, "Empty reply from server"))
