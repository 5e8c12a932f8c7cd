"""The `curlx` command line: ``curlx get URL`` and ``curlx explain 60`` (or a name, or --list).

`curlx get` exits as curl does: 0 on success (whatever the HTTP status, unless --fail), the
CURLcode of a failed transfer otherwise, and 2 for a command line curlx cannot run.
Explanations are in the language of ``--lang``, else CURLX_LANG, else the locale (LANGUAGE,
LC_ALL, LC_MESSAGES, LANG); English when curlx has no catalog for it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from . import _explain, _i18n
from ._api import request
from ._codes import ALIASES, CurlCode, Family, _Code, all_codes
from ._crawl_cli import crawl
from ._exceptions import CLASS_OF_CODE, CurlError
from ._fetch import CONCURRENCY as _CONCURRENCY
from ._i18n import Language
from ._prepare import DEFAULT_TIMEOUT
from ._translate import REFINED_CLASSES, code_for
from ._transport import HTTP_VERSIONS
from ._urls import redact_url

__all__ = ["main"]

_FAMILIES = {family.name.lower(): family for family in Family}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curlx",
        description="Make libcurl's errors understandable.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lang = argparse.ArgumentParser(add_help=False)
    lang.add_argument(
        "--lang",
        help="language of the explanations, such as zh or en (default: CURLX_LANG, else the "
        "locale: LANGUAGE, LC_ALL, LC_MESSAGES, LANG)",
    )
    explain = commands.add_parser(
        "explain",
        parents=[lang],
        help="explain a libcurl error code",
        description=(
            "Explain a libcurl code: a number (60), a name (PEER_FAILED_VERIFICATION, "
            "CURLE_PEER_FAILED_VERIFICATION, CURLM_ADDED_ALREADY) or an old alias (SSL_CACERT)."
        ),
    )
    explain.add_argument("code", nargs="?", help="a number, a libcurl name or an old alias")
    explain.add_argument(
        "--family",
        choices=sorted(_FAMILIES),
        default="easy",
        help="which libcurl enum a number belongs to (default: easy, the CURLcode)",
    )
    explain.add_argument("--list", action="store_true", help="print the whole table")

    get = commands.add_parser(
        "get",
        parents=[lang],
        help="fetch a URL; errors are explained, and the exit status is the CURLcode",
        description="Fetch a URL and print the body. A failure prints a two-line explanation "
        "to stderr and exits with libcurl's code (7 refused, 6 DNS, 60 certificate...).",
    )
    get.add_argument("url")
    get.add_argument("-X", "--request", dest="method", help="method (default GET, POST with -d)")
    get.add_argument(
        "-H", "--header", action="append", default=[], help="'Name: value' (repeatable)"
    )
    get.add_argument("-d", "--data", help="request body; @FILE reads it from a file")
    get.add_argument("-o", "--output", help="write the body to this file instead of stdout")
    get.add_argument("-i", "--include", action="store_true", help="print status and headers")
    get.add_argument("-k", "--insecure", action="store_true", help="do not verify TLS")
    get.add_argument("-f", "--fail", action="store_true", help="exit 22 on HTTP status >= 400")
    get.add_argument("--timeout", type=float, help="seconds allowed for each phase")
    get.add_argument("--max-size", type=int, help="largest body accepted, in bytes")
    get.add_argument("--proxy", help="proxy URL (http, https, socks5, socks5h)")
    get.add_argument("--http-version", help=f"one of {', '.join(HTTP_VERSIONS)}")
    get.add_argument("--no-follow", action="store_true", help="do not follow redirects")
    get.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print libcurl's trace to stderr, as curl -v does (credentials and cookies redacted)",
    )

    crawl = commands.add_parser(
        "crawl",
        parents=[lang],
        help="fetch many URLs concurrently and report the failures by category",
        description="Fetch every URL of FILE (one per line; - for stdin) concurrently, write "
        "one JSON object per URL with --jsonl, and print a summary of what failed and why. "
        "Exits 0 when the crawl ran, whatever the URLs did.",
    )
    crawl.add_argument("file", help="a file of URLs, one per line, or - for stdin")
    crawl.add_argument(
        "--concurrency", type=_positive, default=_CONCURRENCY, help=f"default {_CONCURRENCY}"
    )
    crawl.add_argument("--per-host", type=_positive, help="most transfers at once per host")
    crawl.add_argument(
        "--timeout",
        type=float,
        help="seconds allowed for each phase (default: curlx's, connect "
        f"{DEFAULT_TIMEOUT.connect:g} and no progress {DEFAULT_TIMEOUT.read:g})",
    )
    crawl.add_argument("--retries", type=int, default=0, help="retries per URL (default 0)")
    crawl.add_argument("--jsonl", help="write one JSON line per URL to this file (- = stdout)")
    crawl.add_argument("-k", "--insecure", action="store_true", help="do not verify TLS")
    dask = crawl.add_argument_group(
        "distributed crawl",
        "Run the crawl on a Dask cluster (the dask extra: pip install 'pycurlx[dask]'), "
        "sharded by host, one JSON lines file per shard in --out DIR.",
    )
    dask.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler: tcp://HOST:8786")
    dask.add_argument(
        "--workers", type=_positive, metavar="N", help="start a cluster of N processes here"
    )
    dask.add_argument("--shards", type=_positive, metavar="N", help="default: 4 per worker thread")
    dask.add_argument("--out", metavar="DIR", help="where the shards' JSON lines go")
    dask.add_argument(
        "--partition",
        choices=("host", "domain"),
        default="host",
        help="keep URLs together by host (default) or by registrable domain",
    )
    dask.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to try reaching --scheduler (default 10)",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number >= 1")
    return value


def _aliases(code: _Code) -> list[str]:
    return sorted(name for name, member in ALIASES.items() if member is code)


def _language(option: str | None) -> Language:
    """--lang, else CURLX_LANG, else the locale. A language asked for by name (--lang,
    CURLX_LANG) that curlx lacks gets English and one line on stderr saying so."""
    asked = option if option is not None else os.environ.get("CURLX_LANG", "")
    if not asked or asked == "auto":
        return _explain.language("auto")
    name = next(filter(None, map(_i18n.find, asked.split(":"))), None)
    if name is None:
        known = ", ".join(sorted({_i18n.ENGLISH_NAME, *_i18n.available().values()}))
        sys.stderr.write(
            f"curlx: no {asked!r} translation, showing English (curlx speaks {known})\n"
        )
        return _i18n.ENGLISH
    return _explain.language(name)


def _explain_one(key: str, family: Family, out: TextIO, t: Language) -> None:
    code = code_for(key, family)
    cls = CLASS_OF_CODE.get((code.family, code.value))
    class_name = cls.__name__ if cls is not None else None
    refined = REFINED_CLASSES.get(code, ()) if code.family is Family.EASY else ()
    out.write(_explain.render_code(code, class_name, _aliases(code), refined, t) + "\n")


def _list(out: TextIO, t: Language) -> None:
    family = None
    for code in all_codes():
        if code.family is not family:
            family = code.family
            out.write(f"\n{family.value}\n")
        out.write(
            f"{int(code):>5}  {code.libcurl_name:<40} {code.category.value:<12} "
            f"{code.retry.value:<10} {t.summary(code)}\n"
        )


def _get(args: argparse.Namespace, t: Language) -> int:
    headers = []
    for raw in args.header:
        name, sep, value = raw.partition(":")
        if not sep:
            sys.stderr.write(f"curlx get: header {raw!r} is not 'Name: value'\n")
            return 2
        headers.append((name.strip(), value.strip()))
    data: Any = None
    if args.data is not None:
        if args.data.startswith("@"):
            try:
                data = open(args.data[1:], "rb")  # noqa: SIM115 - closed below; sent as read
            except OSError as exc:
                sys.stderr.write(f"curlx get: cannot read {args.data[1:]!r}: {exc.strerror}\n")
                return 2
        else:
            data = args.data.encode()
    method = args.method or ("POST" if data is not None else "GET")
    options: dict[str, Any] = {}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.max_size is not None:
        options["max_size"] = args.max_size
    if args.proxy is not None:
        options["proxy"] = args.proxy
    if args.http_version is not None:
        options["http_version"] = args.http_version
    if args.verbose:
        options["debug"] = True
    with _verbose(args.verbose):
        return _fetch(args, t, method, headers, data, options)


@contextlib.contextmanager
def _verbose(on: bool) -> Iterator[None]:
    """With `on`, the `curlx` logger's records (the trace included) go to stderr meanwhile."""
    if not on:
        yield
        return
    logger = logging.getLogger("curlx")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _fetch(
    args: argparse.Namespace,
    t: Language,
    method: str,
    headers: list[tuple[str, str]],
    data: Any,  # bytes, an open file (sent as it is read), or None
    options: dict[str, Any],
) -> int:
    try:
        response = request(
            method,
            args.url,
            headers=headers,
            data=data,
            verify=not args.insecure,
            follow_redirects=not args.no_follow,
            stream=bool(args.output),  # to a file: written as it arrives, never held whole
            **options,
        )
        with response:
            if args.fail:
                response.raise_for_status()
            head = b""
            if args.include:
                version = response.http_version or "1.1"
                status = f"HTTP/{version} {response.status_code} {response.reason}".rstrip()
                lines = [status, *(f"{k}: {v}" for k, v in response.headers.multi_items())]
                head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            if args.output:
                try:
                    with open(args.output, "wb") as f:
                        for piece in response.iter_bytes():
                            f.write(piece)
                except OSError as exc:  # as curl: one line, and the exit status of a write error
                    sys.stderr.write(
                        f"curlx get: cannot write the body of {redact_url(args.url)} to "
                        f"{args.output!r}: {exc.strerror} (check that the directory exists and "
                        "can be written)\n"
                    )
                    return int(CurlCode.WRITE_ERROR)
                sys.stdout.buffer.write(head)
            else:
                sys.stdout.buffer.write(head + response.content)
    except CurlError as exc:
        text = (
            str(exc)
            if t.english
            else f"{_explain.headline(exc)}\n{_explain.hint_line(exc, t.name)}"
        )
        sys.stderr.write(f"curlx: {text}\n")
        return int(exc.code) if exc.code is not None else 2
    finally:
        if hasattr(data, "close"):
            data.close()
    sys.stdout.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        return _run(argv)
    except BrokenPipeError:  # `curlx explain --list | head`: the reader left, not an error
        sys.stderr.close()
        return 0


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out = sys.stdout
    if args.command == "explain" and not args.list and not args.code:
        parser.error("explain needs a code, or --list")
    t = args.language = _language(args.lang)
    if args.command == "get":
        return _get(args, t)
    if args.command == "crawl":
        return crawl(args)
    if args.command == "explain":
        if args.list:
            _list(out, t)
            return 0
        try:
            _explain_one(args.code, _FAMILIES[args.family], out, t)
        except LookupError as exc:
            sys.stderr.write(f"curlx explain: {exc.args[0]}\n")
            return 2
        return 0
    return 2  # pragma: no cover  (argparse rejects unknown commands)
