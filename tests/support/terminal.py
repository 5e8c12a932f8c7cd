"""Running the `curlx` command with its stderr on a pseudo-terminal, as a user sees it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]


class TerminalRun(NamedTuple):
    shown: str  # what stderr drew on the terminal
    stdout: str
    returncode: int


def run_on_terminal(argv: list[str], columns: int = 100, timeout: float = 60.0) -> TerminalRun:
    """Run ``python -m curlx ARGV`` with stderr on a terminal, stdout piped; fail the test if
    the terminal output does not end within `timeout` seconds."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "curlx", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        cwd=ROOT,
        env=env,
    ) as process:
        os.close(terminal)
        shown = b""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                readable, _, _ = select.select([controller], [], [], max(left, 0))
                if not readable:
                    process.kill()
                    pytest.fail(f"no end of the terminal output after {timeout:g} s: {shown!r}")
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: the process closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
        finally:
            os.close(controller)
        assert process.stdout is not None
        stdout = process.stdout.read().decode()
        returncode = process.wait(timeout=timeout)
    return TerminalRun(shown.decode("utf-8", "replace"), stdout, returncode)
