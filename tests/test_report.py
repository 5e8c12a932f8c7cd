"""curlx.Report: counting Results, merging shards, JSON and pickle round trips, the table.

The Results here are made by hand: errors from `error_from_code` (the translator every
transfer goes through) and `curlx.Response` objects, so no network is needed.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import curlx
from curlx._translate import error_from_code


def answered(url: str, status: int, reason: str = "Reason") -> curlx.Result:
    response = curlx.Response(
        status_code=status,
        content=b"",
        header_lines=[f"HTTP/1.1 {status} {reason}\r\n".encode(), b"Content-Length: 0\r\n"],
        info=curlx.TransferInfo(effective_url=url, response_code=status),
        method="GET",
        request_url=url,
    )
    return curlx.Result(url, response, None, 1, 0.01)


def failed(url: str, code: int, message: str = "it failed", attempts: int = 1) -> curlx.Result:
    error = error_from_code(code, message, url=url, method="GET")
    return curlx.Result(url, None, error, attempts, 0.02)


def sample() -> list[curlx.Result]:
    return [
        answered("http://a.test/1", 200, "OK"),
        answered("http://a.test/2", 204, "No Content"),
        answered("http://b.test/moved", 301, "Moved Permanently"),
        answered("http://b.test/missing", 404, "Not Found"),
        answered("http://c.test/broken", 500, "Internal Server Error"),
        failed("http://a.test/r1", 7, "Failed to connect to a.test port 80"),
        failed("http://a.test/r2", 7, "Failed to connect to a.test port 80"),
        failed("http://d.test/", 6, "Could not resolve host: d.test"),
        failed("https://e.test/", 60, "SSL certificate problem: self-signed certificate"),
        failed("http://f.test/", 28, "Operation timed out after 1000 milliseconds"),
    ]


def counts(report: curlx.Report) -> dict[str, Any]:
    """The report's numbers without its examples."""
    data = report.to_dict()
    for key in ("by_category", "by_code", "by_status"):
        data[key] = {name: bucket["count"] for name, bucket in data[key].items()}
    return data


def test_counts_by_category_code_status_and_host() -> None:
    report = curlx.Report().extend(sample())
    assert (report.total, report.ok, report.http_errors, report.errors) == (10, 3, 2, 5)
    assert counts(report) == {
        "format": "curlx.Report/1",
        "total": 10,
        "ok": 3,
        "errors": 5,
        "http_errors": 2,
        "by_category": {"connect": 2, "dns": 1, "certificate": 1, "timeout": 1},
        "by_code": {
            "CURLE_COULDNT_CONNECT": 2,
            "CURLE_COULDNT_RESOLVE_HOST": 1,
            "CURLE_PEER_FAILED_VERIFICATION": 1,
            "CURLE_OPERATION_TIMEDOUT": 1,
        },
        "by_status": {"2xx": 2, "3xx": 1, "4xx": 1, "5xx": 1},
        "by_host": {
            "a.test": [4, 2],
            "b.test": [2, 1],
            "c.test": [1, 1],
            "d.test": [1, 1],
            "e.test": [1, 1],
            "f.test": [1, 1],
        },
    }


def test_buckets_keep_example_urls_and_messages() -> None:
    report = curlx.Report().extend(sample())
    assert report.by_status["4xx"].examples == [("http://b.test/missing", "404 Not Found")]
    assert report.by_status["2xx"].examples == [
        ("http://a.test/1", "200 OK"),
        ("http://a.test/2", "204 No Content"),
    ]
    connect = report.by_code["CURLE_COULDNT_CONNECT"]
    assert [url for url, _ in connect.examples] == ["http://a.test/r1", "http://a.test/r2"]
    message = connect.examples[0][1]
    assert "Failed to connect to a.test port 80" in message
    assert "\n" not in message  # the first line of the error, not its hint
    assert report.by_category["connect"].examples == connect.examples


def test_buckets_keep_the_first_three_examples() -> None:
    results = [failed(f"http://a.test/{i}", 7) for i in range(5)]
    report = curlx.Report().extend(results)
    bucket = report.by_code["CURLE_COULDNT_CONNECT"]
    assert bucket.count == 5
    assert [url for url, _ in bucket.examples] == [f"http://a.test/{i}" for i in range(3)]


def test_extend_returns_the_report() -> None:
    report = curlx.Report()
    assert report.extend(sample()) is report
    assert report.total == 10


def test_json_round_trip() -> None:
    report = curlx.Report().extend(sample())
    data = json.loads(json.dumps(report.to_dict()))
    again = curlx.Report.from_dict(data)
    assert again == report
    assert again.to_dict() == data


def test_empty_report_round_trips() -> None:
    empty = curlx.Report()
    assert curlx.Report.from_dict(json.loads(json.dumps(empty.to_dict()))) == empty
    assert empty.render() == "0 URLs: 0 ok, 0 HTTP errors, 0 failed transfers"


@pytest.mark.parametrize("data", [{}, {"format": "curlx.Report/0"}, [], "curlx.Report/1"])
def test_from_dict_refuses_what_is_not_a_report(data: Any) -> None:
    with pytest.raises(ValueError, match="not a curlx report"):
        curlx.Report.from_dict(data)


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol: int) -> None:
    report = curlx.Report().extend(sample())
    again = pickle.loads(pickle.dumps(report, protocol=protocol))
    assert again == report
    assert again.to_dict() == report.to_dict()


def test_results_pickle() -> None:
    for result in sample():
        again = pickle.loads(pickle.dumps(result))
        assert (again.url, again.ok, again.status_code, again.attempts) == (
            result.url,
            result.ok,
            result.status_code,
            result.attempts,
        )
        if result.error is not None:
            assert type(again.error) is type(result.error)
            assert again.error is not None and again.error.code == result.error.code


def test_render_is_a_table_of_totals_failures_and_hosts() -> None:
    text = curlx.Report().extend(sample()).render()
    lines = text.splitlines()
    assert lines[0] == "10 URLs: 3 ok, 2 HTTP errors, 5 failed transfers"
    connect = next(line for line in lines if line.startswith("CURLE_COULDNT_CONNECT"))
    assert connect.split() == ["CURLE_COULDNT_CONNECT", "2", "http://a.test/r1"]
    category = next(line for line in lines if line.startswith("connect "))
    assert category.split() == ["connect", "2", "http://a.test/r1"]
    status = next(line for line in lines if line.startswith("2xx"))
    assert status.split() == ["2xx", "2", "http://a.test/1"]
    host = next(line for line in lines if line.startswith("a.test"))
    assert host.split() == ["a.test", "4", "2"]
    assert "by status class" in text and "failures by code" in text


def test_render_lists_the_hosts_with_most_failures_first() -> None:
    text = curlx.Report().extend(sample()).render(hosts=1)
    host_lines = [line for line in text.splitlines() if line.split()[:1] == ["a.test"]]
    assert host_lines == [f"{'a.test':<32} {4:>8} {2:>8}"]
    assert "b.test" not in text.split("host ")[-1]


def test_adding_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = curlx.Report() + 1  # type: ignore[operator]


def test_sum_of_shards_equals_the_whole() -> None:
    results = sample() * 3
    whole = curlx.Report().extend(results)
    for cut in range(len(results) + 1):
        left = curlx.Report().extend(results[:cut])
        right = curlx.Report().extend(results[cut:])
        assert left + right == whole


def test_adding_to_a_sum_leaves_its_operands_alone() -> None:
    left = curlx.Report().extend([answered("http://a.test/", 200)])
    right = curlx.Report().extend([failed("http://b.test/1", 7)])
    before = right.to_dict()
    total = left + right
    total.add(failed("http://b.test/2", 7))
    assert right.to_dict() == before


def test_report_examples_never_hold_credentials() -> None:
    report = curlx.Report().extend(
        [answered("http://user:s3cret@a.test/x", 200), failed("http://user:s3cret@b.test/", 7)]
    )
    assert "s3cret" not in json.dumps(report.to_dict())
    assert "s3cret" not in report.render()


# --- merging, for any list of results -------------------------------------------------------

HOSTS = ("a.test", "b.test", "c.test")
CODES = (6, 7, 18, 28, 35, 47, 52, 56, 60)
STATUSES = (200, 204, 301, 404, 429, 500, 503)


@st.composite
def results(draw: st.DrawFn) -> curlx.Result:
    url = f"http://{draw(st.sampled_from(HOSTS))}/{draw(st.integers(0, 9))}"
    if draw(st.booleans()):
        return failed(url, draw(st.sampled_from(CODES)), attempts=draw(st.integers(1, 3)))
    return answered(url, draw(st.sampled_from(STATUSES)))


def report_of(items: list[curlx.Result]) -> curlx.Report:
    return curlx.Report().extend(items)


lists = st.lists(results(), max_size=12)


@settings(max_examples=60, deadline=None)
@given(lists, lists)
def test_merging_is_commutative_in_counts(a: list[curlx.Result], b: list[curlx.Result]) -> None:
    assert counts(report_of(a) + report_of(b)) == counts(report_of(b) + report_of(a))
    assert counts(report_of(a) + report_of(b)) == counts(report_of(a + b))


@settings(max_examples=60, deadline=None)
@given(lists, lists, lists)
def test_merging_is_associative(
    a: list[curlx.Result], b: list[curlx.Result], c: list[curlx.Result]
) -> None:
    ra, rb, rc = report_of(a), report_of(b), report_of(c)
    assert (ra + rb) + rc == ra + (rb + rc)
    assert (ra + rb) + rc == report_of(a + b + c)  # examples included: the first three


@settings(max_examples=60, deadline=None)
@given(lists)
def test_the_empty_report_is_neutral(a: list[curlx.Result]) -> None:
    report = report_of(a)
    before = report.to_dict()
    assert curlx.Report() + report == report
    assert report + curlx.Report() == report
    assert report.to_dict() == before  # adding changes neither operand
    assert curlx.Report.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_render_lists_hosts_without_failures_too() -> None:
    """Healthy hosts are listed after the failing ones (busiest first), each group up to
    `hosts`; what is left out is summed up in one line, never dropped silently."""
    results = [failed(f"http://bad{i}.test/", 7) for i in range(3)]
    results += [answered("http://busy.test/1", 200), answered("http://busy.test/2", 200)]
    results += [answered("http://quiet.test/", 200), answered("http://quiet2.test/", 200)]
    text = curlx.Report().extend(results).render(hosts=2)
    hosts = text.split("\nhost ")[-1].splitlines()[1:]
    assert [line.split()[0] for line in hosts[:4]] == [
        "bad0.test",
        "bad1.test",
        "busy.test",
        "quiet.test",
    ]
    assert hosts[2].split() == ["busy.test", "2", "0"]
    assert hosts[4:] == ["... 2 more hosts: 2 URLs, 1 failed"]
    everything = curlx.Report().extend(results).render()
    assert "quiet2.test" in everything and "more hosts" not in everything
    assert "……另有 2 个主机：2 个 URL，1 个失败" in curlx.Report().extend(results).render(
        hosts=2, lang="zh"
    )
