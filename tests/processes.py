"""Running `job-gateway serve` in a child process for tests that need real sockets and
real worker processes; the one home of the free-port helper."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import child_env

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port that was free a moment ago on the loopback interface."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def serving(
    *args: str, env: Mapping[str, str] | None = None, stderr: Path | None = None, timeout: float = 30.0
) -> Iterator[str]:
    """Start ``job-gateway serve --port P *args`` (its stderr into the file ``stderr``
    when given); yield its base URL once /healthz answers; stop it (SIGTERM) on exit.
    Fails if it exits or does not answer in time."""
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port), *args]
    base = f"http://{HOST}:{port}"
    environ = dict(env) if env is not None else child_env()
    # A file, not a pipe: a chatty server must never block on a full pipe.
    with (
        open(stderr, "w+b") if stderr else tempfile.TemporaryFile() as log,
        subprocess.Popen(command, env=environ, stdout=log, stderr=log) as proc,
    ):
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"serve exited with {proc.returncode}: {log.read()[-2000:].decode()}")
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
