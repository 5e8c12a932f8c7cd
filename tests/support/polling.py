"""Waiting for a state in async tests by polling it, never by a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_EVERY = 0.005  # seconds between looks


async def until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Return once `check()` is true; fail the test saying `what` if it is not in time."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so after {timeout:g} s: {what}")
        await asyncio.sleep(POLL_EVERY)
