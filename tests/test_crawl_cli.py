"""`curlx crawl` and examples/crawl_report.py against the local server farm (see `support.farm`)."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support.farm import HOSTS, Farm
from support.terminal import run_on_terminal

import curlx
from curlx._cli import main
from curlx._crawl_cli import _Status

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "url",
    "ok",
    "status",
    "class",
    "category",
    "code",
    "name",
    "retry",
    "method",
    "message",
} | {
    "attempts",
    "elapsed",
}
PROGRESS = "URLs  "  # the live line reads "7/21 URLs  31/s  failures: ..."


def mixed_urls(farm: Farm) -> list[str]:
    """Ten URLs, one of each kind the summary groups: 5 pages, a 404, a 503, three failures."""
    return [
        *(farm.healthy[i % 3].url(f"/cli/{i}") for i in range(5)),
        farm.route("/status/404"),
        farm.route("/status/503"),
        farm.refused_url,
        farm.tls_url,
        farm.route("/loop"),
    ]


def url_file(tmp_path: Path, urls: list[str], name: str = "urls.txt") -> Path:
    path = tmp_path / name
    lines = ["# a comment, skipped", "", *urls[:3], "   ", *urls[3:], "  # indented comment"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def by_url(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["url"]: record for record in records}


def test_crawl_writes_one_json_line_per_url_and_a_summary(
    farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = mixed_urls(farm)
    out = tmp_path / "out.jsonl"
    argv = ["crawl", str(url_file(tmp_path, urls)), "--jsonl", str(out), "--timeout", "2"]
    assert main([*argv, "--concurrency", "4"]) == 0
    records = read_jsonl(out.read_text(encoding="utf-8"))
    assert all(set(record) == KEYS for record in records)
    assert Counter(r["url"] for r in records) == Counter(urls)
    found = by_url(records)

    page = found[urls[0]]
    assert (page["ok"], page["status"], page["category"], page["code"], page["name"]) == (
        True,
        200,
        None,
        None,
        None,
    )
    assert page["message"] is None and page["attempts"] == 1
    assert isinstance(page["elapsed"], float) and page["elapsed"] > 0
    missing = found[farm.route("/status/404")]
    assert (missing["ok"], missing["status"], missing["category"]) == (False, 404, None)
    refused = found[farm.refused_url]
    assert (refused["ok"], refused["status"], refused["category"], refused["code"]) == (
        False,
        None,
        "connect",
        7,
    )
    assert refused["name"] == "CURLE_COULDNT_CONNECT"
    assert (refused["class"], refused["retry"], refused["method"]) == (
        "CouldntConnect",
        "safe",
        "GET",
    )
    assert "Failed to connect" in refused["message"]
    tls = found[farm.tls_url]
    assert (tls["category"], tls["code"], tls["name"]) == (
        "certificate",
        60,
        "CURLE_PEER_FAILED_VERIFICATION",
    )
    loop = found[farm.route("/loop")]
    assert (loop["category"], loop["code"]) == ("http", 47)

    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "10 URLs: 5 ok, 2 HTTP errors, 3 failed transfers"
    assert "CURLE_COULDNT_CONNECT" in captured.out
    assert captured.err == ""  # stderr is not a terminal: no progress display


def test_crawl_reads_stdin_and_writes_jsonl_to_stdout(
    farm: Farm, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [farm.healthy[1].url(f"/stdin/{i}") for i in range(6)] + [farm.refused_url]
    monkeypatch.setattr(sys, "stdin", io.StringIO("# urls\n" + "\n".join(urls) + "\n\n"))
    assert main(["crawl", "-", "--jsonl", "-", "--timeout", "2"]) == 0
    captured = capsys.readouterr()
    records = read_jsonl(captured.out)
    assert Counter(r["url"] for r in records) == Counter(urls)
    assert sum(r["ok"] for r in records) == 6
    # With the records on stdout, the summary goes to stderr; still no progress line.
    assert captured.err.splitlines()[0] == "7 URLs: 6 ok, 0 HTTP errors, 1 failed transfers"
    assert PROGRESS not in captured.err.replace("7 URLs: ", "")


def test_crawl_retries(farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flaky = farm.route("/flaky/cli-retry?fail=1")
    urls = [flaky, farm.refused_url, farm.route("/status/404")]
    out = tmp_path / "retries.jsonl"
    argv = ["crawl", str(url_file(tmp_path, urls)), "--retries", "1", "--timeout", "2"]
    assert main([*argv, "--jsonl", str(out)]) == 0
    found = by_url(read_jsonl(out.read_text(encoding="utf-8")))
    assert (found[flaky]["ok"], found[flaky]["attempts"]) == (True, 2)
    assert (found[farm.refused_url]["ok"], found[farm.refused_url]["attempts"]) == (False, 2)
    assert found[farm.route("/status/404")]["attempts"] == 1  # a 404 is not retried
    assert farm.flaky["cli-retry"] == 2
    capsys.readouterr()


def test_crawl_honours_per_host(
    farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [farm.healthy[2].url(f"/slow?ms=20&n={i}") for i in range(8)]
    farm.reset_peaks()
    argv = ["crawl", str(url_file(tmp_path, urls)), "--per-host", "1", "--concurrency", "8"]
    assert main([*argv, "--timeout", "2"]) == 0
    assert farm.host_max_active[HOSTS[2]] == 1
    assert capsys.readouterr().out.startswith("8 URLs: 8 ok")


def test_crawl_exits_0_when_every_url_fails(
    farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [farm.refused_url, farm.tls_url, "http://" + "x" * 64 + ".invalid/"]
    assert main(["crawl", str(url_file(tmp_path, urls)), "--timeout", "2"]) == 0
    assert capsys.readouterr().out.startswith("3 URLs: 0 ok, 0 HTTP errors, 3 failed transfers")


def test_crawl_insecure_accepts_the_untrusted_certificate(
    farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "insecure.jsonl"
    argv = ["crawl", str(url_file(tmp_path, [farm.tls_url])), "-k", "--jsonl", str(out)]
    assert main([*argv, "--timeout", "2"]) == 0
    [record] = read_jsonl(out.read_text(encoding="utf-8"))
    assert (record["ok"], record["status"]) == (True, 200)
    capsys.readouterr()


# --- usage errors: exit 2 ------------------------------------------------------------------


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err
    assert "nope.txt" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "option",
    [
        ["--concurrency", "0"],
        ["--concurrency", "-3"],
        ["--concurrency", "many"],
        ["--per-host", "0"],
        ["--timeout", "soon"],
        ["--retries", "1.5"],
    ],
)
def test_argparse_refuses_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    path = url_file(tmp_path, ["http://127.0.0.1:9/"])
    with pytest.raises(SystemExit) as exited:
        main(["crawl", str(path), *option])
    assert exited.value.code == 2
    assert option[0] in capsys.readouterr().err


@pytest.mark.parametrize(
    "option",
    [
        ["--timeout", "0"],
        ["--timeout", "-1"],
        ["--timeout", "nan"],
        ["--retries", "-1"],
        ["--timeout", "inf"],
    ],
)
def test_bad_timeout_or_retries_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    path = url_file(tmp_path, ["http://127.0.0.1:9/"])
    assert main(["crawl", str(path), *option]) == 2
    captured = capsys.readouterr()
    assert option[0] in captured.err
    assert captured.out == ""  # refused before crawling: no summary


def test_unwritable_jsonl_path_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = url_file(tmp_path, ["http://127.0.0.1:9/"])
    assert main(["crawl", str(path), "--jsonl", str(tmp_path / "no" / "such" / "dir.jsonl")]) == 2
    assert "dir.jsonl" in capsys.readouterr().err


# --- the real command, as a process ---------------------------------------------------------


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,
    )


def test_python_m_curlx_crawl(farm: Farm, tmp_path: Path) -> None:
    urls = mixed_urls(farm)
    out = tmp_path / "process.jsonl"
    path = url_file(tmp_path, urls)
    done = run(["-m", "curlx", "crawl", str(path), "--jsonl", str(out), "--timeout", "2"])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # piped: no progress display, no traceback
    assert done.stdout.splitlines()[0] == "10 URLs: 5 ok, 2 HTTP errors, 3 failed transfers"
    records = read_jsonl(out.read_text(encoding="utf-8"))
    assert Counter(r["url"] for r in records) == Counter(urls)
    assert all(set(r) == KEYS for r in records)


def test_progress_is_shown_on_a_terminal(farm: Farm, tmp_path: Path) -> None:
    urls = [farm.healthy[0].url(f"/tty/{i}") for i in range(20)] + [farm.refused_url]
    run = run_on_terminal(["crawl", str(url_file(tmp_path, urls)), "--timeout", "2"])
    assert run.returncode == 0
    assert "21/21 URLs" in run.shown
    assert "failures: connect 1" in run.shown
    assert run.stdout.startswith("21 URLs: 20 ok")


def test_example_crawl_report_writes_a_shard_report(farm: Farm, tmp_path: Path) -> None:
    urls = [
        *(farm.healthy[i % 3].url(f"/example/{i}") for i in range(12)),
        farm.route("/status/404"),
        farm.refused_url,
        farm.tls_url,
    ]
    shard = tmp_path / "shard.json"
    done = run(
        [
            str(ROOT / "examples" / "crawl_report.py"),
            str(url_file(tmp_path, urls)),
            "--shard-report",
            str(shard),
        ]
    )
    assert done.returncode == 0, done.stderr
    report = curlx.Report.from_dict(json.loads(shard.read_text(encoding="utf-8")))
    assert (report.total, report.ok, report.http_errors, report.errors) == (15, 12, 1, 2)
    assert report.by_code["CURLE_COULDNT_CONNECT"].count == 1
    assert report.by_code["CURLE_PEER_FAILED_VERIFICATION"].count == 1
    assert sum(line.startswith("200 ") for line in done.stdout.splitlines()) == 12
    assert f"FAIL connect      CURLE_COULDNT_CONNECT {farm.refused_url}" in done.stderr
    # A second shard adds up with it.
    assert (report + report).total == 30


def test_the_progress_line_moves_while_nothing_finishes(farm: Farm) -> None:
    """Drawn at two times with no result in between (a stall), the line shows the same
    counts, a later elapsed time and a lower rate; no terminal needed."""
    from rich.console import Console

    now = [100.0]
    status = _Status(total=50, clock=lambda: now[0])
    urls = status.track(iter([farm.healthy[0].url(f"/p/{i}") for i in range(12)]))
    report = curlx.Report()
    results = curlx.fetch_many(urls, concurrency=3, timeout=5)
    for result in itertools.islice(results, 4):
        now[0] += 0.5
        report.add(result)
        status.update(report)
    results.close()  # the crawl stops: 12 - 4 taken from the input at most, a few in flight
    assert status.pulled >= 4
    flying = status.pulled - 4
    first = status.line()
    assert first.startswith(f"4/50 URLs  {flying} in flight  0:00:02  ")
    early = status.rate(now[0])
    assert 1.0 < early < 4.0  # 4 URLs in 2 s, recent ones weighing most
    now[0] += 58.0
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(status)  # what rich's timer draws: the same line, computed now
    drawn = console.file.getvalue().strip()  # type: ignore[attr-defined]
    assert drawn == status.line()
    assert drawn.startswith(f"4/50 URLs  {flying} in flight  0:01:00  ")
    assert status.rate(now[0]) < early / 100  # decayed while nothing finished
    assert drawn.endswith("failures: none")
