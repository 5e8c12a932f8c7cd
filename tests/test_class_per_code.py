"""The per-code class is the catch-all: `isinstance(e, error_class(e.code))` for every error.

Properties over every number of every family and every set of facts a refinement reads (request
bytes, statuses, the CONNECT status, a name lookup, a peer address), for errors made from the
facts (`error_from_code`), from a hand-made `pycurl.error` (`translate`) and after pickling; and
the hint never says SAFE once request bytes went out.
"""

from __future__ import annotations

import pickle

import pycurl
from hypothesis import given, settings
from hypothesis import strategies as st

import curlx
from curlx import Family, RetryKind
from curlx._info import TransferInfo
from curlx._translate import REFINED_CLASSES, error_from_code

FAMILIES = [Family.EASY, Family.MULTI, Family.SHARE, Family.URL, Family.HEADER]
KNOWN = {
    family: sorted(int(m) for m in curlx.CurlCode.__members__.values())
    if family is Family.EASY
    else sorted(
        int(m)
        for m in {
            Family.MULTI: curlx.MultiCode,
            Family.SHARE: curlx.ShareCode,
            Family.URL: curlx.URLCode,
            Family.HEADER: curlx.HeaderCode,
        }[family]
    )
    for family in FAMILIES
}

facts = st.builds(
    TransferInfo,
    effective_url=st.sampled_from(["", "http://h/", "https://h/", "ftp://h/"]),
    response_code=st.sampled_from([0, 200, 302, 404, 408, 429, 500, 501, 503]),
    http_connect_code=st.sampled_from([0, 200, 403, 407, 502]),
    primary_ip=st.sampled_from(["", "127.0.0.1"]),
    namelookup_time=st.sampled_from([0.0, 0.001]),
    connect_time=st.sampled_from([0.0, 0.002]),
    request_size=st.sampled_from([0, 1, 300]),
    retry_after=st.sampled_from([0.0, 2.0]),
)
messages = st.sampled_from(
    [
        "",
        "Received HTTP/0.9 when not allowed",
        "Resolving timed out after 300 milliseconds",
        "Connection timed out after 300 milliseconds",
        "Operation timed out after 300 milliseconds with 0 bytes received",
        "CONNECT tunnel failed, response 403",
        "The requested URL returned error: 503",
    ]
)


def _numbers(family: Family) -> st.SearchStrategy[int]:
    known = KNOWN[family]
    return st.one_of(st.sampled_from(known), st.integers(min_value=-5, max_value=max(known) + 50))


def _check(error: curlx.CurlError) -> None:
    code = error.code
    if isinstance(code, curlx.CurlCode | curlx.MultiCode | curlx.ShareCode | curlx.URLCode):
        assert isinstance(error, curlx.error_class(code)), (type(error), code)
        assert isinstance(error, curlx.error_class(int(code), code.family))
    info = error.info
    if info is not None and info.request_sent:
        assert error.retry.kind is not RetryKind.SAFE, (type(error), info)


@settings(max_examples=400, deadline=None)
@given(
    family=st.sampled_from(FAMILIES),
    data=st.data(),
    message=messages,
    info=st.one_of(st.none(), facts),
)
def test_every_error_is_an_instance_of_its_codes_class(
    family: Family, data: st.DataObject, message: str, info: TransferInfo | None
) -> None:
    number = data.draw(_numbers(family))
    error = error_from_code(number, message, family=family, info=info)
    _check(error)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error) and clone.retry == error.retry
    _check(clone)


@settings(max_examples=300, deadline=None)
@given(number=_numbers(Family.EASY), message=messages)
def test_translated_pycurl_errors_are_instances_of_their_codes_class(
    number: int, message: str
) -> None:
    _check(curlx.translate(pycurl.error(number, message)))


def test_every_refined_class_is_below_its_codes_class() -> None:
    for code, classes in REFINED_CLASSES.items():
        for cls in classes:
            assert issubclass(cls, curlx.error_class(code)), cls
            assert cls._own_retry is not None, f"{cls.__name__} states its own hint"


@given(info=facts, message=messages)
@settings(max_examples=300, deadline=None)
def test_refinements_choose_only_their_listed_classes(info: TransferInfo, message: str) -> None:
    for code, classes in REFINED_CLASSES.items():
        for facts_given in (info, None):
            cls = type(error_from_code(int(code), message, info=facts_given))
            assert cls in classes or cls is curlx.error_class(code), (code, cls)
