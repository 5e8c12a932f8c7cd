"""The `curlx` command line: ``curlx explain 60``, ``curlx explain SSL_CACERT``, ``--list``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from . import _explain
from ._codes import ALIASES, Family, _Code, all_codes
from ._exceptions import CLASS_OF_CODE
from ._translate import code_for

__all__ = ["main"]

_FAMILIES = {
    "easy": Family.EASY,
    "multi": Family.MULTI,
    "share": Family.SHARE,
    "url": Family.URL,
    "header": Family.HEADER,
    "proxy": Family.PROXY,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curlx",
        description="Make libcurl's errors understandable.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    explain = commands.add_parser(
        "explain",
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
    return parser


def _aliases(code: _Code) -> list[str]:
    return sorted(name for name, member in ALIASES.items() if member is code)


def _explain_one(key: str, family: Family, out: TextIO) -> None:
    code = code_for(key, family)
    cls = CLASS_OF_CODE.get((code.family, code.value))
    class_name = cls.__name__ if cls is not None else None
    out.write(_explain.render_code(code, class_name, _aliases(code)) + "\n")


def _list(out: TextIO) -> None:
    family = None
    for code in all_codes():
        if code.family is not family:
            family = code.family
            out.write(f"\n{family.value}\n")
        out.write(
            f"{int(code):>5}  {code.libcurl_name:<40} {code.category.value:<12} "
            f"{code.retry.value:<10} {code.summary}\n"
        )


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
    if args.command == "explain":
        if args.list:
            _list(out)
            return 0
        if not args.code:
            parser.error("explain needs a code, or --list")
        try:
            _explain_one(args.code, _FAMILIES[args.family], out)
        except LookupError as exc:
            sys.stderr.write(f"curlx explain: {exc.args[0]}\n")
            return 2
        return 0
    return 2  # pragma: no cover  (argparse rejects unknown commands)
