"""The code table: complete, consistent with pycurl and with libcurl's list, and well written."""

from __future__ import annotations

import csv
from pathlib import Path

import pycurl
import pytest

from curlx import (
    Category,
    CurlCode,
    Family,
    HeaderCode,
    MultiCode,
    ProxyCode,
    RetryKind,
    ShareCode,
    URLCode,
)
from curlx._codes import ALIASES, SOURCE_COMPAT_ONLY, _Code, all_codes

TSV = Path(__file__).resolve().parents[2] / "shared" / "libcurl_codes.tsv"

RANGES: list[tuple[type[_Code], range]] = [
    (CurlCode, range(102)),
    (MultiCode, range(-1, 13)),
    (ShareCode, range(6)),
    (URLCode, range(33)),
    (HeaderCode, range(8)),
    (ProxyCode, range(34)),
]


@pytest.mark.parametrize(("enum_cls", "numbers"), RANGES, ids=lambda x: getattr(x, "__name__", ""))
def test_every_number_has_an_entry(enum_cls: type[_Code], numbers: range) -> None:
    assert sorted(int(m) for m in enum_cls) == list(numbers)


def _table_names() -> dict[str, int]:
    names = {code.libcurl_name: int(code) for code in all_codes()}
    names.update({alias: int(code) for alias, code in ALIASES.items()})
    names.update(SOURCE_COMPAT_ONLY)
    return names


def _pycurl_constants() -> list[tuple[str, str, int]]:
    """pycurl's E_* constants as (pycurl name, libcurl name, number)."""
    found = []
    for name in dir(pycurl):
        if not name.startswith("E_"):
            continue
        if name.startswith("E_MULTI_"):
            libcurl = "CURLM_" + name.removeprefix("E_MULTI_")
        elif name == "E_CALL_MULTI_PERFORM":
            libcurl = "CURLM_CALL_MULTI_PERFORM"
        else:
            libcurl = "CURLE_" + name.removeprefix("E_")
        found.append((name, libcurl, getattr(pycurl, name)))
    return found


@pytest.mark.parametrize(("pycurl_name", "libcurl_name", "number"), _pycurl_constants())
def test_pycurl_constant_agrees_with_the_table(
    pycurl_name: str, libcurl_name: str, number: int
) -> None:
    assert _table_names().get(libcurl_name) == number, pycurl_name


def test_pycurl_has_no_code_the_table_lacks() -> None:
    assert len(_pycurl_constants()) >= 120  # pycurl 7.49 has 122 E_* names


@pytest.mark.skipif(not TSV.exists(), reason="shared/libcurl_codes.tsv is not beside the repo")
def test_table_agrees_with_libcurl_list() -> None:
    """Every row of the facts file is in the table with the same number and version."""
    families = {f.value: f for f in Family}
    by_name = {code.libcurl_name: code for code in all_codes()}
    with TSV.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) > 200
    for row in rows:
        number = int(row["number"])
        if row["family"].endswith("-alias"):
            if row["name"] in SOURCE_COMPAT_ONLY:
                assert SOURCE_COMPAT_ONLY[row["name"]] == number
            else:
                assert int(ALIASES[row["name"]]) == number, row["name"]
            continue
        code = by_name[row["name"]]
        assert code.family is families[row["family"]]
        assert int(code) == number
        assert code.since == row["added_in"]
        assert code.obsolete == (row["obsolete"] == "yes")


@pytest.mark.parametrize("code", list(all_codes()), ids=lambda c: c.libcurl_name)
def test_entry_is_written_for_people(code: _Code) -> None:
    for text in (code.summary, code.explanation):
        assert text.strip() == text and text.endswith(".") and "\n" not in text
        assert len(text) > 15
    assert code.summary != code.explanation


def test_names_are_unique_within_each_family() -> None:
    names = [c.libcurl_name for c in all_codes()]
    assert len(names) == len(set(names))


def test_aliases_point_to_members_of_the_family_their_prefix_names() -> None:
    for alias, code in ALIASES.items():
        assert alias.startswith(code.family.prefix), alias
        assert alias not in {c.libcurl_name for c in all_codes()}


def test_lookup_returns_none_for_numbers_newer_than_the_table() -> None:
    assert CurlCode.lookup(60) is CurlCode.PEER_FAILED_VERIFICATION
    assert CurlCode.lookup(999) is None
    assert MultiCode.lookup(7) is MultiCode.ADDED_ALREADY


def test_curl_cli_transient_codes_are_retryable() -> None:
    """curl's --retry treats 5, 6, 12 and 28 as transient: the table must not say NEVER."""
    for number in (5, 6, 12, 28):
        code = CurlCode.lookup(number)
        assert code is not None and code.retry is not RetryKind.NEVER


def test_errors_before_the_request_are_safe_to_retry() -> None:
    for code in (CurlCode.COULDNT_RESOLVE_HOST, CurlCode.COULDNT_CONNECT):
        assert code.retry is RetryKind.SAFE


def test_retired_slots_are_marked_and_never_retried() -> None:
    retired = [c for c in CurlCode if c.obsolete]
    assert {int(c) for c in retired} >= {20, 24, 29, 32, 34, 40, 41, 44, 46, 50, 51, 57, 62, 75, 76}
    assert all(c.category is Category.RETIRED and c.retry is RetryKind.NEVER for c in retired)


def test_codes_of_different_families_are_different_types() -> None:
    assert MultiCode.ADDED_ALREADY.family is Family.MULTI
    assert CurlCode.COULDNT_CONNECT.family is Family.EASY
    assert MultiCode.ADDED_ALREADY.libcurl_name == "CURLM_ADDED_ALREADY"
    assert MultiCode.ADDED_ALREADY.libcurl_name != CurlCode.COULDNT_CONNECT.libcurl_name
