"""Write src/curlx/_code_errors.py: one exception class per libcurl code, from the code table.

Run it after changing `_codes.py`:  python scripts/generate_code_errors.py
`tests/test_code_errors.py` fails while the committed module differs from what this writes.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "curlx" / "_code_errors.py"
DOCS = ROOT / "docs" / "codes.md"

# Words kept upper-case in class names, as libcurl users know them.
ACRONYMS = frozenset(
    {"SSL", "HTTP", "HTTP2", "HTTP3", "FTP", "TFTP", "LDAP", "RTSP", "SSH", "URL", "QUIC", "ECH"}
    | {"CRL", "API"}
)
FAMILY_PREFIX = {"EASY": "", "MULTI": "Multi", "SHARE": "Share", "URL": "URL"}


def class_name(member_name: str, family_name: str) -> str:
    """CamelCase with acronyms kept: ``SSL_CACERT_BADFILE`` -> ``SSLCacertBadfile``."""
    words = [w if w in ACRONYMS else w.capitalize() for w in member_name.split("_")]
    return FAMILY_PREFIX[family_name] + "".join(words)


def render() -> str:
    """The text of the generated module."""
    if "curlx" not in sys.modules:
        # Load the table and the category classes without curlx/__init__.py, which imports
        # the module this script writes (it may be missing or stale).
        package = types.ModuleType("curlx")
        package.__path__ = [str(ROOT / "src" / "curlx")]
        sys.modules["curlx"] = package
    _codes = importlib.import_module("curlx._codes")
    _exceptions = importlib.import_module("curlx._exceptions")

    families = {
        _codes.Family.EASY: _codes.CurlCode,
        _codes.Family.MULTI: _codes.MultiCode,
        _codes.Family.SHARE: _codes.ShareCode,
        _codes.Family.URL: _codes.URLCode,
    }
    skip = {_codes.Category.OK, _codes.Category.RETIRED}
    classes: list[tuple[str, list[str], object]] = []
    for family, enum_cls in families.items():
        family_base = (
            [] if family is _codes.Family.EASY else [_exceptions.CLASS_OF_FAMILY[family].__name__]
        )
        for member in enum_cls:
            if member.category in skip:
                continue
            bases = family_base + [
                _exceptions.CLASS_OF_CATEGORY[c].__name__ for c in member.categories
            ]
            name = class_name(member.name, family.name)
            if name in bases:
                continue  # CURLE_AUTH_ERROR is AuthError itself: its category class is its class
            classes.append((name, bases, member))

    names = sorted(name for name, _, _ in classes)
    base_names = sorted({b for _, bases, _ in classes for b in bases}, key=str.lower)
    enums = sorted({type(m).__name__ for _, _, m in classes})
    out = [
        '"""One exception class per libcurl code, generated from the code table.',
        "",
        "Written by scripts/generate_code_errors.py from `_codes.py`: do not edit by hand;",
        "tests/test_code_errors.py fails while this file is out of date.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f"from ._codes import {', '.join(enums)}",
        "from ._exceptions import (",
        *[f"    {b}," for b in base_names],
        ")",
        "",
        "__all__ = [",
        *[f'    "{n}",' for n in names],
        "]",
    ]
    for name, bases, member in classes:
        m = member
        doc = f"{m.summary[:-1]} ({m.libcurl_name}, {int(m)})."  # type: ignore[attr-defined]
        doc_lines = [f'    """{doc}"""']
        if len(doc_lines[0]) > 100:
            wrapped = textwrap.wrap(doc, width=min(92, len(doc) - 8))
            doc_lines = [f'    """{wrapped[0]}', *[f"    {w}" for w in wrapped[1:]], '    """']
        out += [
            "",
            "",
            f"class {name}({', '.join(bases)}):",
            *doc_lines,
            "",
            f"    _code = {type(m).__name__}.{m.name}",  # type: ignore[attr-defined]
        ]
    return "\n".join(out) + "\n"


def render_docs() -> str:
    """docs/codes.md: the whole table as Markdown, one section per family."""
    _codes = importlib.import_module("curlx._codes")
    _exceptions = importlib.import_module("curlx._exceptions")
    importlib.import_module("curlx._code_errors")  # registers the per-code classes
    out = [
        "# libcurl codes in curlx",
        "",
        "Generated from `src/curlx/_codes.py` by `scripts/generate_code_errors.py`; do not edit.",
        "`curlx explain CODE` prints any entry in full. Retry: **safe** = the request never",
        "reached the server (retry any method); **idempotent** = retry only idempotent methods;",
        "**never** = it fails again until something is changed.",
    ]
    family = None
    for code in _codes.all_codes():
        if code.family is not family:
            family = code.family
            out += [
                "",
                f"## {family.value}",
                "",
                "| number | name | raised as | category | retry | what happened |",
                "|---:|---|---|---|---|---|",
            ]
        cls = _exceptions.CLASS_OF_CODE.get((code.family, code.value))
        if cls is None and code.family in (_codes.Family.EASY, _codes.Family.MULTI):
            if code.category not in (_codes.Category.OK, _codes.Category.RETIRED):
                cls = _exceptions.CLASS_OF_CATEGORY[code.category]
        raised = f"`{cls.__name__}`" if cls is not None else ""
        categories = ", ".join(c.value for c in code.categories)
        out.append(
            f"| {int(code)} | `{code.libcurl_name}` | {raised} | {categories} "
            f"| {code.retry.value} | {code.summary} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = [
            path
            for path, text in ((TARGET, render), (DOCS, render_docs))
            if not path.exists() or path.read_text() != text()
        ]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run {Path(__file__).name}")
        if not stale:
            print(f"{TARGET.relative_to(ROOT)} and {DOCS.relative_to(ROOT)} are current")
        return 1 if stale else 0
    if not TARGET.exists():
        TARGET.write_text("")
    text = render()
    TARGET.write_text(text)
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(render_docs())
    print(f"wrote {TARGET.relative_to(ROOT)} ({text.count('class ')} classes) and {DOCS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
