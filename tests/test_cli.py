"""`curlx explain`: every spelling of a code renders the table's entry; bad input exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

import curlx
from curlx import CurlCode, MultiCode
from curlx._cli import main
from curlx._codes import all_codes


@pytest.mark.parametrize(
    "key", ["60", "PEER_FAILED_VERIFICATION", "CURLE_PEER_FAILED_VERIFICATION", "ssl_cacert"]
)
def test_explain_renders_the_entry_from_the_table(
    key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", key]) == 0
    out = capsys.readouterr().out
    code = CurlCode.PEER_FAILED_VERIFICATION
    assert out.startswith("CURLE_PEER_FAILED_VERIFICATION (curl error 60, since libcurl 7.17.1)")
    assert code.summary in out and code.explanation in out and code.retry.advice in out
    assert "curlx.PeerFailedVerification" in out
    assert "CURLE_SSL_CACERT" in out  # old names are listed


def test_explain_a_number_of_another_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "7", "--family", "multi"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CURLM_ADDED_ALREADY (curl multi error 7")
    assert MultiCode.ADDED_ALREADY.explanation in out
    assert "curlx.MultiAddedAlready" in out


def test_unknown_name_exits_2_and_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "COULDNT_CONECT"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Did you mean CURLE_COULDNT_CONNECT" in captured.err


def test_unknown_number_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "4242"]) == 2
    assert "4242" in capsys.readouterr().err


def test_explain_without_a_code_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["explain"])
    assert caught.value.code == 2
    assert "needs a code" in capsys.readouterr().err


def test_list_prints_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--list"]) == 0
    out = capsys.readouterr().out
    for code in all_codes():
        assert code.libcurl_name in out
        assert code.summary in out


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "curlx", "explain", "28"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("CURLE_OPERATION_TIMEDOUT (curl error 28")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "28",
            [
                "curlx.ConnectTimeout (timeout; retry safe)",
                "curlx.ResolveTimeout (timeout; retry safe)",
                "curlx.ReadTimeout (timeout; retry idempotent)",
            ],
        ),
        (
            "22",
            [
                "curlx.HTTPClientError (http_status; retry never; idempotent for 408, 425, 429)",
                "curlx.HTTPServerError (http_status; retry idempotent; never for 501, 505)",
            ],
        ),
        ("7", ["curlx.ProxyTunnelRefused (proxy; retry never; safe for 5xx)"]),
        ("1", ["curlx.NotHTTPResponse (protocol; retry never)"]),
    ],
)
def test_explain_shows_each_refined_class_with_its_own_hint(
    code: str, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", code]) == 0
    out = capsys.readouterr().out
    assert "Refined by what the handle saw" in out
    for line in expected:
        assert line in out


def test_a_bad_setting_gets_a_hint_about_the_setting() -> None:
    with pytest.raises(curlx.InvalidSetting) as caught:
        curlx.Retry(total=-1)
    assert isinstance(caught.value, curlx.InvalidRequest)
    assert "Nothing was sent" not in caught.value.hint
    assert "setting" in caught.value.hint and "Retry(total=-1)" in str(caught.value)


@pytest.mark.parametrize("name", ["CURLHE_BADINDEX", "CURLM_ADDED_ALREADY", "CURLPX_IDENTD"])
def test_codes_of_other_families_show_no_refinements_of_the_easy_code(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # CURLHE_BADINDEX is 1 and CURLM_ADDED_ALREADY is 7, as are two refined CURLcodes.
    assert main(["explain", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(name)
    assert "Refined by" not in out
