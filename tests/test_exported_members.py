"""The public surface is exactly `curlx.__all__`, and every name in it says `curlx.`."""

from __future__ import annotations

import curlx

# Public submodules: an attribute of the package once imported, never in its __all__.
SUBMODULES = {"distributed"}  # the dask extra's: `import curlx.distributed`


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(curlx) if not name.startswith("_")} - SUBMODULES
    assert set(curlx.__all__) == public
    assert len(curlx.__all__) == len(set(curlx.__all__))


def test_hand_written_part_of_all_is_sorted() -> None:
    from curlx._code_errors import __all__ as generated

    hand = [name for name in curlx.__all__ if name not in generated]
    assert hand == sorted(hand)
    assert list(generated) == sorted(generated)


def test_every_public_name_reports_module_curlx() -> None:
    for name in curlx.__all__:
        assert getattr(curlx, name).__module__ == "curlx", name
