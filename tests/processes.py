"""Running `job-gateway` in a child process for tests that need real sockets, real
worker processes or a clean interpreter; the one home of the free-port helper, and of
the check that a test's outside tool (Node packages, Chromium) is installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import child_env

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port that was free a moment ago on the loopback interface."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def run_gateway(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m gateway *args`` run to its end (at most 60 s) in the environment
    ``env`` (``child_env()`` when None); its exit status and output, as text."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=dict(env) if env is not None else child_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def require(ready: bool, what: str) -> None:
    """Go on when the outside tool ``what`` a test needs is ``ready``; else skip the
    test on a developer's machine, and fail it in CI (``CI`` set), where it must be."""
    if ready:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI")
    pytest.skip(f"{what} is not installed here")


@contextmanager
def serving(
    *args: str, env: Mapping[str, str] | None = None, stderr: Path | None = None, timeout: float = 30.0
) -> Iterator[str]:
    """Start ``job-gateway serve --port P *args`` (its stderr into the file ``stderr``
    when given); yield its base URL once /healthz answers; stop it (SIGTERM) on exit.
    Fails if it exits or does not answer in time."""
    with serving_process(*args, env=env, stderr=stderr, timeout=timeout) as (base, _):
        yield base


@contextmanager
def serving_process(
    *args: str, env: Mapping[str, str] | None = None, stderr: Path | None = None, timeout: float = 30.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``serving``, yielding the process too (its base URL, the process)."""
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
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
