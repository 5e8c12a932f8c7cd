"""The layers hold: no module imports curlx code inside a function (`lint-imports` checks the
order of the layers; a function-level import would hide a dependency from it)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "curlx"


def _imports_in_functions(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (
                    inner.level > 0 or (inner.module or "").startswith("curlx")
                ):
                    found.append((inner.lineno, inner.module or "."))
                elif isinstance(inner, ast.Import):
                    found += [
                        (inner.lineno, a.name) for a in inner.names if a.name.startswith("curlx")
                    ]
    return found


def test_no_module_imports_curlx_code_inside_a_function() -> None:
    offenders = {
        str(path.relative_to(SRC)): found
        for path in sorted(SRC.rglob("*.py"))
        if (found := _imports_in_functions(ast.parse(path.read_text())))
    }
    assert offenders == {}


def test_the_check_sees_a_function_level_import() -> None:
    tree = ast.parse("def f():\n    from ._codes import CurlCode\n    import curlx._urls\n")
    assert _imports_in_functions(tree) == [(2, "_codes"), (3, "curlx._urls")]
