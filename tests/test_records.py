"""Errors as records: `e.to_dict()` is JSON-safe and `CurlError.from_dict` makes the same error
back, for real failures (with their facts and retry history) and for every code of every
family; a record that is not one is refused with a clear, typed error."""

from __future__ import annotations

import json
from typing import Any

import pycurl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.http import HTTPApp, Reply
from support.raw import closed_port

import curlx
from curlx import Family
from curlx._translate import error_from_code

T = curlx.Timeout(connect=2, read=2, total=5)


def _same(a: curlx.CurlError, b: curlx.CurlError) -> None:
    assert type(a) is type(b)
    assert (a.code, a.family, a.name, a.category) == (b.code, b.family, b.name, b.category)
    assert (a.retry, a.method, a.url, a.message, a.args) == (
        b.retry,
        b.method,
        b.url,
        b.message,
        b.args,
    )
    assert a.info == b.info and a.history == b.history and a.errno == b.errno


def _round_trip(error: curlx.CurlError) -> curlx.CurlError:
    record = json.loads(json.dumps(error.to_dict()))  # JSON-safe as it is
    return curlx.CurlError.from_dict(record)


def test_a_real_refused_connection_with_its_retry_history() -> None:
    url = f"http://user:secret@127.0.0.1:{closed_port()}/x"
    with curlx.Session(timeout=T) as session, pytest.raises(curlx.CouldntConnect) as caught:
        session.post(url, data=b"a=1", retry=curlx.Retry(total=1, backoff_factor=0))
    error = caught.value
    record = error.to_dict()
    assert record["class"] == "CouldntConnect" and record["retry"] == "safe"
    assert record["method"] == "POST" and len(record["history"]) == 2
    assert "secret" not in json.dumps(record)
    _same(error, _round_trip(error))


def test_a_real_http_error_status_keeps_its_refined_class_and_hint() -> None:
    with HTTPApp(lambda request, exchange: Reply(503, headers=[("Retry-After", "7")])) as app:
        handle = curlx.Curl()
        handle.setopt(pycurl.URL, app.url("/busy"))
        handle.setopt(pycurl.FAILONERROR, 1)
        handle.setopt(pycurl.TIMEOUT_MS, 5000)
        handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
        with pytest.raises(curlx.HTTPServerError) as caught:
            handle.perform()
        handle.close()
    error = caught.value
    clone = _round_trip(error)
    _same(error, clone)
    assert isinstance(clone, curlx.HTTPServerError)
    assert clone.retry.after == 7.0 and clone.status_code == 503


@settings(max_examples=200, deadline=None)
@given(
    family=st.sampled_from([Family.EASY, Family.MULTI, Family.SHARE, Family.URL]),
    number=st.integers(min_value=0, max_value=120),
    sent=st.sampled_from([0, 300]),
)
def test_every_code_of_every_family_comes_back_the_same(
    family: Family, number: int, sent: int
) -> None:
    error = error_from_code(
        number, "text", family=family, url="http://h/", info=curlx.TransferInfo(request_size=sent)
    )
    _same(error, _round_trip(error))


def test_a_codeless_error_comes_back_too() -> None:
    error = curlx.InvalidRequest("header value has CR", url="http://h/", method="GET")
    _same(error, _round_trip(error))


@pytest.mark.parametrize(
    "record",
    [{}, {"class": "CouldntConnect"}, {"class": "X", "code": "7", "message": "m"}, []],
)
def test_what_is_not_a_record_is_refused_with_a_typed_error(record: Any) -> None:
    with pytest.raises(curlx.InvalidRequest, match="to_dict"):
        curlx.CurlError.from_dict(record)


def test_a_class_this_curlx_lacks_falls_back_to_the_class_of_its_code() -> None:
    record = error_from_code(7, "refused").to_dict() | {"class": "SomeFutureClass"}
    assert type(curlx.CurlError.from_dict(record)) is curlx.CouldntConnect
