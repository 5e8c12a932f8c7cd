"""curlx's message catalogs: extract the msgids, update the .po files, compile, check.

    python scripts/i18n.py             after changing an English text: rewrites curlx.pot, merges
                                       it into every .po (new texts untranslated, changed ones
                                       fuzzy), compiles the .mo files, writes docs/codes.LANG.md
    python scripts/i18n.py init LANG   starts the catalog of a new language (such as ``de``)
    python scripts/i18n.py --check     fails while a catalog is stale against the table, has a
                                       fuzzy, untranslated or obsolete entry, drops a placeholder
                                       or a code name, or a .mo or doc is not what it compiles to

The msgids are the code table's English texts (every summary and "what to do" of every family),
the retry advice, the category and retry names, the refined classes' texts and every string the
renderers pass to ``gettext``/``pgettext`` (found by Babel's Python extractor). Babel is needed
here only (the dev extra); at run time curlx reads the compiled .mo with the stdlib's gettext.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import curlx  # noqa: E402
from curlx import _code_errors, _codes, _exceptions, _explain, _i18n, _translate  # noqa: E402

LOCALE = ROOT / "src" / "curlx" / "locale"
TEMPLATE = LOCALE / f"{_i18n.DOMAIN}.pot"
DOCS = ROOT / "docs"
# Files whose gettext/pgettext/N_ calls hold msgids.
SOURCES = [
    ROOT / "src" / "curlx" / "_explain.py",
    ROOT / "src" / "curlx" / "_cli.py",
    ROOT / "src" / "curlx" / "_crawl_cli.py",
    ROOT / "src" / "curlx" / "_report.py",
    Path(__file__).resolve(),
]
KEYWORDS = {"gettext": None, "pgettext": ((1, "c"), 2), "N_": None}

HEADER = """\
Messages of curlx: libcurl's error codes explained (summaries, what to do, retry advice).
The msgids are the English texts of src/curlx/_codes.py and of the renderers;
scripts/i18n.py extracts them. Keep {placeholders}, libcurl names (CURLOPT_*, CURLE_*),
option names, `code` in backticks and numbers exactly as they are."""


def N_(message: str) -> str:
    """Marks a msgid of the generated docs (Babel's extractor finds the calls)."""
    return message


# --- collecting the msgids ----------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str
    context: str | None = None
    comments: list[str] = field(default_factory=list)
    location: str = ""


def _rel(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def _defined_in(cls: type) -> str:
    """The module file that defines `cls` (curlx sets every public class's __module__ to curlx)."""
    for module in (_exceptions, _translate, _code_errors):
        if vars(module).get(cls.__name__) is cls:
            return _rel(Path(module.__file__ or ""))
    return _rel(Path(sys.modules[cls.__module__].__file__ or ""))


def _class_texts() -> Iterator[Entry]:
    """The texts classes show: refined classes' situations and summaries, codeless hints."""
    seen: set[type] = set()
    todo: list[type] = [_exceptions.CurlError]
    classes: list[type[_exceptions.CurlError]] = []
    while todo:
        cls = todo.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        classes.append(cls)
        todo.extend(sorted(cls.__subclasses__(), key=lambda c: (c.__module__, c.__qualname__)))
    for cls in classes:
        where = _defined_in(cls)
        for attr in ("situation", "hint_text"):
            text = vars(cls).get(attr)
            if isinstance(text, str) and text:
                yield Entry(text, None, [f"{cls.__name__}.{attr}"], where)
    for refined in _translate.REFINED_CLASSES.values():
        for cls in refined:
            summary = (cls.__doc__ or "").strip().splitlines()[0]
            comment = f"{cls.__name__}: first line of its docstring"
            yield Entry(summary, None, [comment], _defined_in(cls))


def _extracted() -> Iterator[Entry]:
    """The literal msgids of ``gettext``/``pgettext``/``N_`` calls in the renderers' source."""
    for path in SOURCES:
        for _lineno, message, comments, context in extract_from_file(
            "python",
            str(path),
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            assert isinstance(message, str), (path, message)
            yield Entry(message, context, list(comments), _rel(path))


def entries() -> list[Entry]:
    """Every msgid, in the order the catalog lists them: the table first."""
    codes_py = _rel(Path(_codes.__file__))
    out: list[Entry] = []
    for code in _codes.all_codes():
        name = f"{code.libcurl_name} ({int(code)})"
        out.append(Entry(code.summary, None, [f"{name}: what happened"], codes_py))
        out.append(Entry(code.explanation, None, [f"{name}: what to do"], codes_py))
        if code.for_clients:
            comment = f"{name}: what to do, in the words of curlx's clients (their keywords)"
            out.append(Entry(code.for_clients, None, [comment], codes_py))
    for kind in _codes.RetryKind:
        out.append(Entry(kind.advice, None, [f"advice for retry {kind.value}"], codes_py))
        out.append(Entry(kind.value, "retry", ["name of a retry hint"], codes_py))
    for category in _codes.Category:
        out.append(Entry(category.value, "category", ["name of a category"], codes_py))
    for family in _codes.Family:
        out.append(Entry(family.label, None, [f"how a {family.value} number is named"], codes_py))
    out.extend(_class_texts())
    explain_py = _rel(Path(_explain.__file__))
    out.extend(Entry(text, None, [], explain_py) for text in _explain.MESSAGES)
    out.extend(_extracted())
    return out


def template() -> Catalog:
    """The .pot: every msgid with where it comes from."""
    catalog = Catalog(
        project="curlx",
        version=curlx.__version__,
        copyright_holder="curlx developers",
        header_comment="# " + HEADER.replace("\n", "\n# "),
        fuzzy=False,
    )
    for entry in entries():
        catalog.add(
            entry.msgid,
            context=entry.context,
            auto_comments=entry.comments,
            locations=[(entry.location, None)] if entry.location else (),
        )
    return catalog


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id
    assert isinstance(msgid, str)
    return msgid, message.context


def _listing(catalog: Catalog) -> list[tuple[object, ...]]:
    """What a catalog says, without its dates: to compare a file with what it should be."""
    return [
        (
            m.id,
            m.context,
            m.string or "",
            m.fuzzy,
            tuple(m.auto_comments),
            tuple(sorted(m.locations)),
        )
        for m in catalog
        if m.id
    ]


def _po_text(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(
        out,
        catalog,
        width=100,
        include_lineno=False,
        ignore_obsolete=True,
        sort_output=False,
        omit_header=False,
        include_previous=True,
    )
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale, domain=_i18n.DOMAIN)


def catalogs() -> list[Path]:
    """Every language's .po file."""
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{_i18n.DOMAIN}.po"))


def _language_of(po: Path) -> str:
    return po.parent.parent.name


# --- what a translation must keep -----------------------------------------------------------------

_KEPT_EXACTLY = [
    re.compile(r"\{[^{}]*\}"),  # str.format fields
    re.compile(r"%(?:\([a-z_]+\))?[sdrf]"),  # printf conversions
    re.compile(r"\bCURL[A-Z0-9]*_[A-Z0-9_]+\b"),  # libcurl names: CURLOPT_URL, CURLE_OK
    re.compile(r"`[^`]+`"),  # code in backticks
]
_KEPT = [
    re.compile(r"\b[A-Za-z_][\w.]*\(\)"),  # calls: pycurl.version_info()
    re.compile(r"\b[a-z_]+="),  # keywords: verify=
    re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"),  # names: http_proxy
    re.compile(r"\b[a-z][a-z0-9+]*://"),  # schemes: file://
    re.compile(r"(?<![\w.])[A-Z][A-Z0-9_/.]*[A-Z0-9]{2}\b"),  # acronyms, commands: PASV, TLS
    re.compile(r"(?<![\w.])[A-Z][a-z]+[A-Z]\w*"),  # CamelCase: Response.raise_for_status
    re.compile(r"(?<![\w.])/[\w./~]*[\w/~]"),  # paths: /etc/hosts
    re.compile(r"\d+(?:\.\d+)*"),  # numbers and versions: 407, 7.17.0
    re.compile(r"curlx explain \S+"),
]


def problems(catalog: Catalog, expected: Catalog) -> list[str]:
    """Why a language's catalog is not ready, one line per problem (empty: it is)."""
    found: list[str] = []
    want = {_key(m) for m in expected if m.id}
    have = {_key(m) for m in catalog if m.id}
    for msgid, _ in sorted(want - have, key=str):
        found.append(f"missing: {msgid!r} (run scripts/i18n.py)")
    for msgid, _ in sorted(have - want, key=str):
        found.append(f"obsolete: {msgid!r} is no longer a msgid (run scripts/i18n.py)")
    for msgid, _ in sorted(_key(m) for m in catalog.obsolete.values()):
        found.append(f"obsolete: {msgid!r} kept as #~ (run scripts/i18n.py)")
    for message in catalog:
        if not message.id:
            continue
        msgid, text = message.id, message.string
        assert isinstance(msgid, str)
        if message.fuzzy:
            found.append(f"fuzzy: {msgid!r}: check the translation, then remove the fuzzy flag")
        if not isinstance(text, str) or not text.strip():
            found.append(f"untranslated: {msgid!r}")
            continue
        if text == msgid:
            found.append(f"untranslated: {msgid!r} is the English text")
        for pattern in _KEPT_EXACTLY:
            if sorted(set(pattern.findall(msgid))) != sorted(set(pattern.findall(text))):
                lost = set(pattern.findall(msgid)) ^ set(pattern.findall(text))
                found.append(f"placeholder: {msgid!r}: {sorted(lost)} differ from the English")
        for pattern in _KEPT if message.context is None else ():  # a context marks a word
            lost = set(pattern.findall(msgid)) - set(pattern.findall(text))
            if lost:
                found.append(f"dropped: {msgid!r}: {sorted(lost)} must stay as written")
    return found


# --- the generated docs ----------------------------------------------------------------------


def doc_path(name: str) -> Path:
    """docs/codes.zh.md for zh_CN: the language part, unless two catalogs share it."""
    short = name.split("_", 1)[0]
    same = [po for po in catalogs() if _language_of(po).split("_", 1)[0] == short]
    return DOCS / f"codes.{short if len(same) == 1 else name}.md"


def render_docs(name: str) -> str:
    """docs/codes.LANG.md: the table in one language, as docs/codes.md has it in English."""
    t = _i18n.lookup(name)
    assert t is not None, name
    _ = t.gettext
    out = [
        "# " + _(N_("libcurl codes in curlx")),
        "",
        _(
            N_(
                "Generated from `src/curlx/_codes.py` and the catalog `{catalog}` by "
                "`scripts/i18n.py`; do not edit. `curlx explain CODE --lang {lang}` prints any "
                "entry in full. Retry: **safe** = the request never reached the server (retry any "
                "method); **idempotent** = retry only idempotent methods; **never** = it fails "
                "again until something is changed."
            )
        ).format(
            catalog=f"src/curlx/locale/{name}/LC_MESSAGES/{_i18n.DOMAIN}.po",
            lang=name.split("_", 1)[0],
        ),
    ]
    columns = [
        _(N_("number")),
        _(N_("name")),
        _(N_("raised as")),
        _(N_("category")),
        _(N_("retry")),
        _(N_("what happened")),
        _(N_("what to do")),
    ]
    family = None
    for code in _codes.all_codes():
        if code.family is not family:
            family = code.family
            out += ["", f"## {family.value}", "", "| " + " | ".join(columns) + " |"]
            out.append("|---:|---|---|---|---|---|---|")
        cls = _exceptions.CLASS_OF_CODE.get((code.family, code.value))
        if cls is None and code.family in (_codes.Family.EASY, _codes.Family.MULTI):
            if code.category not in (_codes.Category.OK, _codes.Category.RETIRED):
                cls = _exceptions.CLASS_OF_CATEGORY[code.category]
        raised = f"`{cls.__name__}`" if cls is not None else ""
        categories = t.pgettext("list separator", ", ").join(t.category(c) for c in code.categories)
        cells = [
            str(int(code)),
            f"`{code.libcurl_name}`",
            raised,
            categories,
            t.retry(code.retry),
            t.summary(code),
            t.explanation(code),
        ]
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(out) + "\n"


# --- commands --------------------------------------------------------------------------------


def update() -> int:
    """Rewrite the .pot, merge it into every .po, compile them, write the docs."""
    pot = template()
    LOCALE.mkdir(parents=True, exist_ok=True)
    if not TEMPLATE.exists() or _listing(_read(TEMPLATE)) != _listing(pot):
        TEMPLATE.write_bytes(_po_text(pot))
        print(f"wrote {_rel(TEMPLATE)} ({len(pot)} msgids)")
    for po in catalogs():
        name = _language_of(po)
        catalog = _read(po, name)
        before = _listing(catalog)
        catalog.update(pot, update_header_comment=False)
        catalog.obsolete.clear()
        if _listing(catalog) != before:
            po.write_bytes(_po_text(catalog))
            print(f"updated {_rel(po)}")
        mo = po.with_suffix(".mo")
        data = _mo_bytes(_read(po, name))  # the file as written: its header is in the .mo too
        if not mo.exists() or mo.read_bytes() != data:
            mo.write_bytes(data)
            print(f"compiled {_rel(mo)}")
    _i18n._catalogs = None  # a new catalog may have appeared
    for po in catalogs():
        name = _language_of(po)
        path = doc_path(name)
        text = render_docs(name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {_rel(path)}")
        left = problems(_read(po, name), pot)
        if left:
            print(f"{_rel(po)}: {len(left)} entries to translate or fix (see --check)")
    return 0


def init(name: str) -> int:
    """Start the catalog of a new language from the template."""
    po = LOCALE / name / "LC_MESSAGES" / f"{_i18n.DOMAIN}.po"
    if po.exists():
        print(f"{_rel(po)} exists already")
        return 1
    pot = template()
    catalog = Catalog(locale=name, domain=_i18n.DOMAIN, project="curlx", fuzzy=False)
    catalog.update(pot)
    po.parent.mkdir(parents=True)
    po.write_bytes(_po_text(catalog))
    print(f"wrote {_rel(po)}: translate it (Poedit, Weblate), then run scripts/i18n.py")
    return 0


def check() -> int:
    """Every problem, one line each; exit 1 if there is any."""
    pot = template()
    found: list[str] = []
    if not TEMPLATE.exists() or _listing(_read(TEMPLATE)) != _listing(pot):
        found.append(f"{_rel(TEMPLATE)} is stale against the table: run scripts/i18n.py")
    pos = catalogs()
    for po in pos:
        name = _language_of(po)
        catalog = _read(po, name)
        found += [f"{_rel(po)}: {problem}" for problem in problems(catalog, pot)]
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
            found.append(f"{_rel(mo)} is not the compiled {po.name}: run scripts/i18n.py")
            continue
        path = doc_path(name)
        if not path.exists() or path.read_text(encoding="utf-8") != render_docs(name):
            found.append(f"{_rel(path)} is out of date: run scripts/i18n.py")
    for line in found:
        print(line)
    if not found:
        print(f"{len(pot)} msgids; {len(pos)} catalogs complete, compiled and documented")
    return 1 if found else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        return check()
    if argv[:1] == ["init"] and len(argv) == 2:
        return init(argv[1])
    if argv:
        print(__doc__)
        return 2
    return update()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
