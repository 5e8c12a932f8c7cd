"""The public API is pinned: every name in `curlx.__all__` and every public signature.

`tests/snapshots/public_api.txt` is the API as it was before the modules were re-laid in layers;
a change to it must be deliberate: regenerate it with
``python tests/test_public_api.py > tests/snapshots/public_api.txt`` and say why in the commit.
"""

from __future__ import annotations

import enum
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import curlx
import curlx.distributed

SNAPSHOT = Path(__file__).parent / "snapshots" / "public_api.txt"


class _Sorted:
    """A set default shown in a stable order (a frozenset's repr depends on string hashing)."""

    def __init__(self, values: frozenset[object]) -> None:
        self.values = values

    def __repr__(self) -> str:
        return f"frozenset({sorted(self.values, key=repr)!r})"


def _signature(obj: object) -> str:
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    parameters = [
        p.replace(default=_Sorted(p.default)) if isinstance(p.default, frozenset) else p
        for p in signature.parameters.values()
    ]
    # Defaults that are objects show their address: keep only what they are.
    return re.sub(r" at 0x[0-9a-f]+", "", str(signature.replace(parameters=parameters)))


def _members(cls: type) -> list[str]:
    lines = []
    for name, value in sorted(vars(cls).items()):
        if name.startswith("_") and name not in ("__init__", "__call__", "__iter__", "__enter__"):
            continue
        if isinstance(value, property):
            lines.append(f"  .{name} property")
        elif isinstance(value, staticmethod | classmethod):
            lines.append(f"  .{name}{_signature(value.__func__)} {type(value).__name__}")
        elif inspect.isfunction(value):
            lines.append(f"  .{name}{_signature(value)}")
        elif not callable(value) and not isinstance(value, enum.Enum):
            lines.append(f"  .{name} = {type(value).__name__}")
    return lines


def describe() -> list[str]:
    """One line per public name (kind and signature), then a line per public member; then
    the same for `curlx.distributed` (the dask extra), its names prefixed with the module's."""
    lines = [f"__version__ {type(curlx.__version__).__name__}"]
    lines += _describe(curlx, "")
    lines += _describe(curlx.distributed, "distributed.")
    return lines


def _describe(module: ModuleType, prefix: str) -> list[str]:
    lines = []
    for name in sorted(module.__all__):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            bases = ", ".join(b.__name__ for b in obj.__bases__)
            if issubclass(obj, enum.Enum):
                lines.append(f"{prefix}{name} enum({bases}) {len(obj.__members__)} members")
                continue
            lines.append(f"{prefix}{name} class({bases}){_signature(obj)}")
            if not issubclass(obj, BaseException) or obj.__module__ == "curlx":
                lines += _members(obj)
        elif callable(obj):
            lines.append(f"{prefix}{name} function{_signature(obj)}")
        else:
            lines.append(f"{prefix}{name} {type(obj).__name__}")
    return lines


def test_the_public_api_is_the_pinned_one() -> None:
    assert describe() == SNAPSHOT.read_text().splitlines()


@pytest.mark.parametrize("module", [curlx, curlx.distributed])
def test_every_exported_name_exists_once(module: ModuleType) -> None:
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name), name


if __name__ == "__main__":
    print("\n".join(describe()))
