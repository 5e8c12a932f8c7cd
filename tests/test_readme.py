"""The README stays true: CI runs its test command, and its hierarchy is the module's."""

from __future__ import annotations

import re
from pathlib import Path

import curlx._exceptions

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    return re.findall(r"^    (python3 -m venv .*)$", README, flags=re.MULTILINE)


def test_readme_has_two_set_up_commands() -> None:
    install, test = _commands()
    assert "curlx " in install and "pytest" in test


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci


def test_readme_hierarchy_is_the_exceptions_module_tree() -> None:
    doc = curlx._exceptions.__doc__
    assert doc is not None
    tree = [line[4:] for line in doc.splitlines() if line.startswith("    ") and line.strip()]
    block = README.split("```\npycurl.error", 1)[1].split("```", 1)[0]
    readme_tree = ("pycurl.error" + block).strip().splitlines()
    assert readme_tree == tree


# Classes the tree shows with the code they refine, not with codes raised as themselves.
_REFINEMENTS = {"ProxyTunnelRefused", "NotHTTPResponse"}


def test_codes_the_tree_names_are_raised_as_their_class() -> None:
    doc = curlx._exceptions.__doc__
    assert doc is not None
    checked = 0
    for line in doc.splitlines():
        match = re.match(r"\s+[│├└─ ]*([A-Z]\w+)\s+[^(]*\(([^)]*)\)", line)
        if match is None or match.group(1) in _REFINEMENTS:
            continue
        cls = getattr(curlx, match.group(1))
        for number in re.findall(r"\b\d+\b", match.group(2)):
            assert issubclass(curlx.error_class(int(number)), cls), (match.group(1), number)
            checked += 1
    assert checked >= 40


def test_every_test_the_readme_cites_exists() -> None:
    cited = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", README))
    assert len(cited) > 20
    for path, name in cited:
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, flags=re.MULTILINE), f"{path}::{name}"
