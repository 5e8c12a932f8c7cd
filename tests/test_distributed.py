"""curlx.distributed on a real Dask cluster (two worker processes) against the crawl farm.

The cluster starts once for the module; the farm's three healthy servers are three hosts on
loopback (127.0.0.1, .2, .3) and count the requests in flight per host across every worker.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster
from hypothesis import given, settings
from hypothesis import strategies as st
from support.farm import HOSTS, Farm
from support.terminal import run_on_terminal

import curlx
import curlx.distributed
from curlx._cli import main
from curlx._records import url_lines
from curlx._shards import Piece, partition_key, pieces, shard_of, split_piece
from curlx._urls import redact_url

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"url", "ok", "status", "class", "category", "code", "name", "retry", "method"} | {
    "message",
    "attempts",
    "elapsed",
}
T = curlx.Timeout(connect=2, read=2, total=10)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes with one thread each, as the issue asks; ready when yielded."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as dask_client,
    ):
        dask_client.wait_for_workers(2, timeout=60)
        yield dask_client


def scheduler(client: Client) -> str:
    """The address of the client's scheduler (tcp://127.0.0.1:PORT)."""
    return str(client.scheduler_info()["address"])


def records(out: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(out.glob("shard-*.jsonl")):
        found += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return found


def numbers(report: curlx.Report) -> dict[str, Any]:
    """The report's counts without its examples (which depend on the order results came in)."""
    data = report.to_dict()
    for key in ("by_category", "by_code", "by_status"):
        data[key] = {name: bucket["count"] for name, bucket in data[key].items()}
    return data


def mixed_urls(farm: Farm) -> list[str]:
    return [
        *(farm.healthy[i % 3].url(f"/dist/{i}") for i in range(30)),
        farm.route("/status/404"),
        farm.route("/status/503"),
        farm.refused_url,
        farm.tls_url,
        farm.route("/loop"),
        farm.healthy[1].url("/private", userinfo="user:s3cret"),
    ]


# --- the shard of a URL, and the pieces of a file (no cluster) -------------------------------


def test_shard_of_is_crc32_the_same_in_every_process() -> None:
    assert [shard_of(h, 6) for h in HOSTS] == [2, 0, 4]
    code = "from curlx._shards import shard_of; print(shard_of('example.com', 1000))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.stdout.strip() == str(shard_of("example.com", 1000))


def test_partition_by_domain_keeps_a_sites_hosts_together() -> None:
    domain = partition_key("domain")
    assert domain("https://a.b.example.co.uk/x") == "example.co.uk"
    assert domain("http://www.Example.com:8080/") == domain("https://api.example.com/") != ""
    assert domain("http://user:pw@127.0.0.2:81/") == "127.0.0.2"  # an address is its own key
    assert domain("http://localhost/") == "localhost"  # no registrable domain: the host
    assert domain("http://[::1]:80/") == "::1"
    assert partition_key("host")("http://www.example.com/") == "www.example.com"
    with pytest.raises(curlx.InvalidSetting, match="partition='url' must be one of"):
        partition_key("url")


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from(["http://a.test/1", "http://b.test/22", "", "# note", "  http://c/3 "]),
        max_size=40,
    ),
    size=st.integers(min_value=1, max_value=64),
    shards=st.integers(min_value=1, max_value=5),
    newline_at_end=st.booleans(),
)
def test_pieces_and_spools_hold_every_line_exactly_once(
    lines: list[str], size: int, shards: int, newline_at_end: bool, tmp_path_factory: Any
) -> None:
    folder = tmp_path_factory.mktemp("pieces")
    source = folder / "urls.txt"
    source.write_text("\n".join(lines) + ("\n" if newline_at_end else ""), encoding="utf-8")
    parts = pieces([str(source)], size)
    assert sum(p.length for p in parts) == source.stat().st_size
    got: Counter[str] = Counter()
    for k, part in enumerate(parts):
        spool = folder / f"piece-{k}.txt"
        offsets = split_piece(part, str(spool), shards, "host")
        assert len(offsets) == shards + 1
        data = spool.read_bytes()
        assert offsets[-1] == len(data)
        for index in range(shards):
            for url in data[offsets[index] : offsets[index + 1]].decode().splitlines():
                assert shard_of(partition_key("host")(url), shards) == index
                got[url] += 1
    assert got == Counter(url_lines(lines))
    assert not list(folder.glob(".*.tmp"))


def test_a_piece_reads_whole_lines_only(tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_bytes(b"http://a/1\nhttp://b/2\nhttp://c/3\n")
    spool = tmp_path / "spool.txt"
    split_piece(Piece(str(source), 5, 10), str(spool), 1, "host")
    assert spool.read_text() == "http://b/2\n"  # the line whose start follows byte 5's newline


# --- crawls on the cluster -------------------------------------------------------------------


def test_per_host_holds_across_the_cluster(client: Client, farm: Farm, tmp_path: Path) -> None:
    # 30 URLs per host, 2 at a time, 50 ms each: each host's shard runs for 0.75 s.
    urls = [farm.healthy[i % 3].url(f"/slow?ms=50&peak={i}") for i in range(90)]
    farm.reset_peaks()
    report = curlx.distributed.crawl(
        urls, client=client, shards=6, per_host=2, concurrency=8, out=tmp_path, timeout=T
    )
    assert (report.total, report.ok) == (90, 90)
    assert {h: farm.host_max_active[h] for h in HOSTS} == {h: 2 for h in HOSTS}
    assert farm.max_active > 2  # the hosts' shards ran side by side, on both workers
    assert Counter(r["url"] for r in records(tmp_path)) == Counter(urls)


def test_merged_report_equals_a_single_process_crawl(
    client: Client, farm: Farm, tmp_path: Path
) -> None:
    urls = mixed_urls(farm)
    alone = curlx.Report().extend(curlx.fetch_many(urls, concurrency=8, timeout=T))
    shards = list(
        curlx.distributed.crawl_shards(urls, client=client, shards=5, out=tmp_path, timeout=T)
    )
    assert sorted(s.index for s in shards) == list(range(5))
    merged = sum((s.report for s in shards), curlx.Report())
    assert numbers(merged) == numbers(alone)
    assert merged.total == len(urls)
    assert merged.by_code["CURLE_PEER_FAILED_VERIFICATION"].count == 1
    found = records(tmp_path)
    assert all(set(r) == KEYS for r in found)
    assert Counter(r["url"] for r in found) == Counter(map(redact_url, urls))
    assert {Path(s.path).name for s in shards} == {f"shard-{i:05d}.jsonl" for i in range(5)}
    text = "".join(p.read_text() for p in tmp_path.glob("shard-*.jsonl"))
    assert "s3cret" not in text and "s3cret" not in json.dumps(merged.to_dict())
    assert sorted(os.listdir(tmp_path)) == [f"shard-{i:05d}.jsonl" for i in range(5)]


def test_a_file_source_travels_as_paths_and_byte_ranges(
    client: Client, farm: Farm, tmp_path: Path
) -> None:
    urls = [farm.healthy[i % 3].url(f"/file/{i}") for i in range(90)] + [farm.refused_url]
    source = tmp_path / "urls.txt"
    source.write_text("# the farm\n\n" + "\n".join(urls) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    report = curlx.distributed.crawl(
        curlx.distributed.files(source, piece_size=500),
        client=client,
        shards=4,
        out=out,
        timeout=T,
    )
    assert (report.total, report.ok, report.errors) == (91, 90, 1)
    assert Counter(r["url"] for r in records(out)) == Counter(urls)
    assert sorted(os.listdir(out)) == [f"shard-{i:05d}.jsonl" for i in range(4)]  # no spool


def test_several_files_with_crlf_and_an_empty_one(
    client: Client, farm: Farm, tmp_path: Path
) -> None:
    first = [farm.healthy[i % 3].url(f"/first/{i}") for i in range(10)]
    second = [farm.healthy[i % 3].url(f"/second/{i}") for i in range(7)]
    (tmp_path / "a.txt").write_bytes("\r\n".join(first).encode())  # no newline at the end
    (tmp_path / "b.txt").write_text("\n".join(second) + "\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    source = curlx.distributed.files(
        tmp_path / "a.txt", tmp_path / "empty.txt", tmp_path / "b.txt", piece_size=64
    )
    report = curlx.distributed.crawl(
        source, client=client, shards=3, out=tmp_path / "out", timeout=T
    )
    assert (report.total, report.ok) == (17, 17)
    assert Counter(r["url"] for r in records(tmp_path / "out")) == Counter(first + second)


def test_a_worker_killed_mid_crawl_leaves_every_url_exactly_once(
    client: Client, farm: Farm, tmp_path: Path
) -> None:
    # Each host's shard runs for 1.5 s (30 URLs, 2 at a time, 100 ms each).
    urls = [farm.healthy[i % 3].url(f"/slow?ms=100&kill={i}") for i in range(90)]
    before = sum(s.stats.requests for s in farm.healthy)
    outcome: list[curlx.Report | BaseException] = []

    def run() -> None:
        try:
            outcome.append(
                curlx.distributed.crawl(
                    urls, client=client, shards=6, per_host=2, out=tmp_path, timeout=T
                )
            )
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    crawler = threading.Thread(target=run)
    crawler.start()
    try:
        # Wait until both workers crawl, then kill one's process: its shard runs again.
        deadline = time.monotonic() + 30
        busy: dict[str, Any] = {}
        while time.monotonic() < deadline:
            busy = client.run(lambda dask_worker: (os.getpid(), len(dask_worker.state.executing)))
            with farm.changed:
                started = sum(s.stats.requests for s in farm.healthy) - before
            if started >= 10 and all(n for _, n in busy.values()):
                break
            with farm.changed:
                farm.changed.wait(0.02)
        pid = next(pid for pid, n in busy.values() if n)
        os.kill(pid, signal.SIGKILL)
    finally:
        crawler.join(timeout=60)
    [report] = outcome
    assert isinstance(report, curlx.Report), report
    assert (report.total, report.ok) == (90, 90)
    assert Counter(r["url"] for r in records(tmp_path)) == Counter(urls)
    assert sum(s.stats.requests for s in farm.healthy) - before > 90  # a shard ran twice
    assert not list(tmp_path.glob(".*"))  # the killed run's temporary file is gone too
    client.wait_for_workers(2, timeout=60)  # the nanny started a new worker process


def test_errors_and_reports_cross_processes_intact(client: Client, farm: Farm) -> None:
    url = f"http://user:s3cret@{HOSTS[0]}:{farm.closed_port}/x"
    error = client.submit(curlx.get, url, timeout=T, pure=False).exception(timeout=60)
    assert type(error) is curlx.error_class(7)
    assert isinstance(error, curlx.ConnectError)
    assert error.retry.kind is curlx.RetryKind.SAFE and error.retryable
    assert error.info is not None and error.info.os_errno == errno.ECONNREFUSED
    assert error.url == f"http://{HOSTS[0]}:{farm.closed_port}/x"
    for text in (str(error), repr(error), error.explain(), pickle.dumps(error).decode("latin-1")):
        assert "s3cret" not in text
    report = client.submit(
        lambda u: curlx.Report().extend(curlx.fetch_many([u], timeout=T)), url, pure=False
    ).result(timeout=60)
    assert report.by_code["CURLE_COULDNT_CONNECT"].count == 1
    assert "s3cret" not in repr(report)


# --- bad input ------------------------------------------------------------------------------


def test_bad_settings_are_refused_before_any_task(client: Client, tmp_path: Path) -> None:
    with pytest.raises(curlx.InvalidSetting, match="shards=0 must be"):
        curlx.distributed.crawl([], client=client, shards=0, out=tmp_path)
    with pytest.raises(curlx.InvalidSetting, match="concurrency=0"):
        curlx.distributed.crawl([], client=client, shards=1, out=tmp_path, concurrency=0)
    with pytest.raises(curlx.InvalidRequest, match="one string"):
        curlx.distributed.crawl("http://a/", client=client, shards=1, out=tmp_path)
    with pytest.raises(curlx.InvalidSetting, match="shards=-1 must be"):
        curlx.distributed.crawl_shards([], client=client, shards=-1, out=tmp_path)  # at the call
    with pytest.raises(curlx.InvalidRequest, match=r"source holds b'http://a/' \(bytes\)"):
        curlx.distributed.crawl([b"http://a/"], client=client, shards=1, out=tmp_path)  # type: ignore[list-item]
    with pytest.raises(curlx.InvalidSetting, match="piece_size=0"):
        curlx.distributed.files("urls.txt", piece_size=0)
    (tmp_path / "shard-00000.jsonl").write_text("")
    with pytest.raises(curlx.InvalidSetting, match="already holds 1 shard file"):
        curlx.distributed.crawl([], client=client, shards=1, out=tmp_path)


def test_empty_source_writes_empty_shards(client: Client, tmp_path: Path) -> None:
    report = curlx.distributed.crawl([], client=client, shards=2, out=tmp_path / "new")
    assert report.total == 0
    assert sorted(os.listdir(tmp_path / "new")) == ["shard-00000.jsonl", "shard-00001.jsonl"]


# --- the command line -----------------------------------------------------------------------


def url_file(tmp_path: Path, urls: list[str]) -> Path:
    path = tmp_path / "urls.txt"
    path.write_text("# urls\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return path


def test_cli_crawls_on_a_scheduler(
    client: Client, farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = mixed_urls(farm)
    out = tmp_path / "out"
    argv = ["crawl", str(url_file(tmp_path, urls)), "--scheduler", scheduler(client)]
    assert main([*argv, "--shards", "3", "--out", str(out), "--timeout", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "36 URLs: 31 ok, 2 HTTP errors, 3 failed transfers"
    assert "CURLE_COULDNT_CONNECT" in captured.out
    assert captured.err == ""
    assert len(records(out)) == 36 and sorted(os.listdir(out))[0] == "shard-00000.jsonl"


def test_cli_partition_by_domain(
    client: Client, farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [farm.healthy[i % 3].url(f"/domain/{i}") for i in range(9)]
    argv = ["crawl", str(url_file(tmp_path, urls)), "--scheduler", scheduler(client)]
    assert main([*argv, "--partition", "domain", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith("9 URLs: 9 ok")
    assert Counter(r["url"] for r in records(tmp_path / "out")) == Counter(urls)


def test_cli_progress_counts_shards_and_urls_on_a_terminal(
    client: Client, farm: Farm, tmp_path: Path
) -> None:
    urls = [farm.healthy[i % 3].url(f"/tty/{i}") for i in range(20)] + [farm.refused_url]
    argv = ["crawl", str(url_file(tmp_path, urls)), "--scheduler", scheduler(client)]
    argv += ["--shards", "3", "--out", str(tmp_path / "out"), "--timeout", "2"]
    run = run_on_terminal(argv, columns=120)
    assert run.returncode == 0
    assert "3/3 shards  21/21 URLs" in run.shown
    assert run.stdout.startswith("21 URLs: 20 ok, 0 HTTP errors, 1 failed transfers")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "1", "--out", "o"], "not both"),
        (["--workers", "1"], "add --out DIR"),
        (["--workers", "1", "--out", "o", "--jsonl", "x"], "--jsonl is for a crawl"),
        (["--shards", "4"], "--shards is for a distributed crawl"),
        (["--out", "o"], "--out is for a distributed crawl"),
    ],
)
def test_cli_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], says: str
) -> None:
    assert main(["crawl", str(url_file(tmp_path, ["http://127.0.0.1:9/"])), *options]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and captured.out == ""
    assert len(captured.err.splitlines()) == 1


def test_cli_refuses_an_out_dir_with_shard_files(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "shard-00003.jsonl").write_text("")
    argv = ["crawl", str(url_file(tmp_path, ["http://127.0.0.1:9/"])), "--out", str(out)]
    assert main([*argv, "--scheduler", scheduler(client)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"curlx crawl: --out '{out}' already holds 1 shard file(s) (shard-00003.jsonl...) of "
        "another crawl: choose an empty directory, or move those files away.\n"
    )
    assert captured.out == ""


def test_cli_unreachable_scheduler(
    farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"tcp://{HOSTS[0]}:{farm.closed_port}"
    argv = ["crawl", str(url_file(tmp_path, [farm.refused_url])), "--scheduler", address]
    assert main([*argv, "--out", str(tmp_path / "o"), "--connect-timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert "Traceback" not in err


def test_cli_without_dask_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    monkeypatch.delitem(sys.modules, "curlx.distributed")
    argv = ["crawl", str(url_file(tmp_path, ["http://127.0.0.1:9/"])), "--workers", "2"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and "pip install 'pycurlx[dask]'" in err


def test_cli_workers_starts_a_local_cluster(
    farm: Farm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [farm.healthy[i % 3].url(f"/local/{i}") for i in range(12)]
    argv = ["crawl", str(url_file(tmp_path, urls)), "--workers", "1", "--shards", "2"]
    assert main([*argv, "--out", str(tmp_path / "out"), "--per-host", "2"]) == 0
    assert capsys.readouterr().out.startswith("12 URLs: 12 ok")
    assert Counter(r["url"] for r in records(tmp_path / "out")) == Counter(urls)


def test_example_distributed_crawl(client: Client, farm: Farm, tmp_path: Path) -> None:
    urls = [farm.healthy[i % 3].url(f"/example/{i}") for i in range(20)] + [farm.tls_url]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "distributed_crawl.py"),
            str(url_file(tmp_path, urls)),
            "--scheduler",
            scheduler(client),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "21 URLs in 21 JSON lines, each URL once"
    assert "21 URLs: 20 ok, 0 HTTP errors, 1 failed transfers" in done.stdout
    assert len(glob.glob(str(tmp_path / "out" / "shard-*.jsonl"))) >= 1
