"""The generated per-code classes match the code table (run the generator after editing it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "generate_code_errors.py"


def test_generated_module_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_class_names_follow_libcurl_names() -> None:
    spec = importlib.util.spec_from_file_location("generate_code_errors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.class_name("SSL_CACERT_BADFILE", "EASY") == "SSLCacertBadfile"
    assert module.class_name("HTTP2_STREAM", "EASY") == "HTTP2Stream"
    assert module.class_name("FTP_WEIRD_227_FORMAT", "EASY") == "FTPWeird227Format"
    assert module.class_name("ADDED_ALREADY", "MULTI") == "MultiAddedAlready"
