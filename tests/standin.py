"""A private MongoDB stand-in server (SecantusDB) that a test may kill, restart, freeze
and thaw: the wire fault tests' database.

Its command comes from JOB_GATEWAY_TEST_SECANTUSD, which `.ci/with-standin` sets (so CI
always has it). Without it the tests that need one (the `standin` fixture) are skipped
with that reason on a developer's machine, and fail in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from tests.engines import IN_CI
from tests.processes import free_port

STANDIN_COMMAND = os.environ.get("JOB_GATEWAY_TEST_SECANTUSD")


def _state(stat: Path) -> str:
    """A thread's state letter from its /proc stat line (after the parenthesised name)."""
    try:
        return stat.read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return "?"


class StandIn:
    """One `secantusd-py` process on a loopback port of its own, in memory."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start (again, on the same port) and wait until it answers a ping."""
        argv = [self.command, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", ":memory:"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self.process.returncode} at start")
            client: MongoClient[dict] = MongoClient(self.uri, serverSelectionTimeoutMS=200)
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError(f"{self.command} did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: the process is gone, its port refuses connections."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers. Returns once
        every thread of the process has stopped (the signal is asynchronous)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{self.process.pid}/task")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            states = [_state(stat) for stat in tasks.glob("*/stat")]
            if states and all(state in "Tt" for state in states):
                return
            time.sleep(0.01)
        raise RuntimeError(f"{self.command} did not stop within 5 s of SIGSTOP")

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.kill()


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A started private stand-in, stopped after the test whatever happened."""
    if not STANDIN_COMMAND:
        if IN_CI:
            pytest.fail("CI runs the wire fault tests: JOB_GATEWAY_TEST_SECANTUSD must name secantusd-py")
        pytest.skip("needs the stand-in server: run under .ci/with-standin (sets JOB_GATEWAY_TEST_SECANTUSD)")
    server = StandIn(STANDIN_COMMAND)
    server.start()
    try:
        yield server
    finally:
        server.stop()
