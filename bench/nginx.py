"""A throw-away local nginx for the benchmarks: static files on a free loopback port.

``Nginx(files)`` writes a minimal config and the files into a fresh temp dir, starts nginx in
the foreground (``daemon off``) as a child process listening on 127.0.0.1 only, waits until it
accepts connections, and stops it by its pid (and removes the temp dir) on ``stop()`` or when
the ``with`` block ends, also on Ctrl-C or an exception. ``ensure_nginx()`` finds the nginx
binary, installing Debian's ``nginx-light`` (or ``nginx``) with apt-get when run as root.

``worker_connections`` above the default 256 also raise the workers' file limit to twice that
and the listen backlog to that; ``open_file_cache`` (entries, 0 for none) caches open files.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from _common import free_port

__all__ = ["Nginx", "NginxError", "ensure_nginx", "nginx_version"]

_SBIN_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
DEFAULT_WORKER_CONNECTIONS = 256

CONFIG = """\
daemon off;
master_process on;
worker_processes {workers};
{rlimit}pid {root}/nginx.pid;
error_log {root}/error.log warn;

events {{
    worker_connections {worker_connections};
}}

http {{
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nodelay on;
    gzip off;
    etag off;
    keepalive_requests 100000;
    keepalive_timeout 300s;
{file_cache}    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    types {{ }}
    default_type application/octet-stream;

    server {{
        listen 127.0.0.1:{port}{backlog};
        root {root}/www;
        # The connection's serial number, so a client can be seen to reuse its connection.
        add_header X-Connection $connection always;
        location / {{ }}
    }}
}}
"""


class NginxError(RuntimeError):
    """nginx could not be found, installed, started or stopped."""


def ensure_nginx() -> str:
    """The nginx binary's path; if there is none, install Debian's package (needs root)."""
    found = _find()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise NginxError(
            "nginx is not installed, and installing it needs root and apt-get: "
            "run `apt-get update && apt-get install -y nginx-light` (or nginx)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("nginx not found: installing it with apt-get ...", file=sys.stderr, flush=True)
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    for package in ("nginx-light", "nginx"):
        done = subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        found = _find()
        if done.returncode == 0 and found:
            return found
    raise NginxError("apt-get could not install nginx-light or nginx")


def _find() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    for path in _SBIN_PATHS:
        if os.access(path, os.X_OK):
            return path
    return None


def nginx_version(binary: str) -> str:
    """``nginx/1.22.1``, from ``nginx -v`` (which prints to stderr)."""
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True)
    text = (done.stderr or done.stdout).strip()
    return text.removeprefix("nginx version: ")


class Nginx:
    """nginx serving `files` (name -> content) from a temp dir on ``127.0.0.1:<free port>``."""

    def __init__(
        self,
        binary: str,
        files: Mapping[str, bytes],
        *,
        workers: int = 1,
        worker_connections: int = DEFAULT_WORKER_CONNECTIONS,
        open_file_cache: int = 0,
    ) -> None:
        self.binary = binary
        self.files = dict(files)
        self.workers = workers
        self.worker_connections = worker_connections
        self.open_file_cache = open_file_cache
        self.port = 0
        self.root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The master process's pid while it runs."""
        return self._process.pid if self._process is not None else None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def config(self) -> str:
        """nginx.conf for this server (its root and port must be set)."""
        connections = self.worker_connections
        many = connections > DEFAULT_WORKER_CONNECTIONS
        cache = self.open_file_cache
        return CONFIG.format(
            workers=self.workers,
            worker_connections=connections,
            rlimit=f"worker_rlimit_nofile {2 * connections};\n" if many else "",
            file_cache=f"    open_file_cache max={cache} inactive=300s;\n" if cache else "",
            backlog=f" backlog={connections}" if many else "",
            root=self.root,
            port=self.port,
        )

    def start(self) -> None:
        if self._process is not None:
            raise NginxError("this nginx is already running")
        try:
            self._start()
        except BaseException:
            self.stop()  # also on Ctrl-C while it starts
            raise

    def _start(self) -> None:
        root = Path(tempfile.mkdtemp(prefix="curlx-bench-nginx-"))
        self.root = root
        # Worker processes run as an unprivileged user when nginx is started as root.
        root.chmod(0o755)
        (root / "tmp").mkdir()
        www = root / "www"
        www.mkdir(mode=0o755)
        for name, content in self.files.items():
            path = www / name
            path.write_bytes(content)
            path.chmod(0o644)
        last_error = ""
        for _ in range(3):  # another process may take the free port before nginx binds it
            self.port = free_port()
            conf = root / "nginx.conf"
            conf.write_text(self.config())
            self._process = subprocess.Popen(
                [self.binary, "-p", f"{root}/", "-c", str(conf), "-e", str(root / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # Ctrl-C reaches only Python, which then stops nginx
            )
            if self._wait_ready():
                return
            last_error = self._reap()
            if "Address already in use" not in last_error:
                break
        self._cleanup()
        raise NginxError(f"nginx did not start: {last_error.strip() or 'no error output'}")

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.01)
        return False

    def _reap(self) -> str:
        """Stop the process if it still runs; its stderr and error log."""
        process, self._process = self._process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(_STOP_TIMEOUT)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        log = ""
        if self.root is not None and (self.root / "error.log").exists():
            log = (self.root / "error.log").read_text(errors="replace")
        return stderr + log

    def _cleanup(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def stop(self) -> None:
        """Stop nginx by its pid (SIGTERM, then SIGKILL) and remove its temp dir."""
        try:
            self._reap()
        finally:
            self._cleanup()

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
