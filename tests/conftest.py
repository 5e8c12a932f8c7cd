"""The root conftest: registers the shared fixtures of `support.fixtures` for every module, and
runs every asyncio test on each event loop curlx supports (asyncio's own, and uvloop).

Only here: pytest loads plugins named in ``pytest_plugins`` from the root conftest alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

pytest_plugins = ["support.fixtures"]


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Each `@pytest.mark.asyncio` test runs twice: on asyncio's loop and on uvloop's."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    try:
        import uvloop
    except ImportError:  # uvloop is a test extra: without it, asyncio's loop only
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories
