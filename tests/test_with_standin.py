"""`.ci/with-standin COMMAND`: a TERM or INT sent to the script reaches COMMAND, and
the stand-in it started stops right after, rather than both running on until COMMAND
ends by itself (bash runs a trap only once its foreground command has ended)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, child_env
from tests.engines import IN_CI
from tests.standin import STANDIN_COMMAND

SCRIPT = ROOT / ".ci" / "with-standin"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(path: Path, pattern: str, timeout: float = 60.0) -> int:
    """The number ``pattern`` finds in the file ``path``, once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text()) if path.exists() else None
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    pytest.fail(f"{path} never showed {pattern!r}: {path.read_text() if path.exists() else ''}")


def _stop(wrapper: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """Whatever the test found: TERM (the script then stops its stand-in), then KILL
    what is left of the script's session, its command's group and any stand-in logged."""
    if wrapper.poll() is None:
        wrapper.terminate()
        try:
            wrapper.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(wrapper.pid, signal.SIGKILL)
            wrapper.wait()
    for found in (tmp_path / name for name in os.listdir(tmp_path)):
        for pid in re.findall(r"^(\d+)$|\(pid (\d+)\)", found.read_text(), re.M):
            number = int(pid[0] or pid[1])
            if _alive(number):
                os.kill(number, signal.SIGKILL)


def test_signals_reach_the_command_the_standin_stops_promptly_and_the_status_is_the_commands(tmp_path: Path) -> None:
    if not STANDIN_COMMAND:
        if IN_CI:
            pytest.fail("CI runs under .ci/with-standin: JOB_GATEWAY_TEST_SECANTUSD must name secantusd-py")
        pytest.skip("needs the stand-in installed: run under .ci/with-standin (sets JOB_GATEWAY_TEST_SECANTUSD)")
    # The script's virtualenv is <cache>/job-gateway/<version>/bin/secantusd-py: the same
    # cache, so nothing is installed again.
    env = child_env(XDG_CACHE_HOME=str(Path(STANDIN_COMMAND).parents[3]))

    def run(name: str, command: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("w") as out:
            # A session of its own, as a terminal's foreground job has.
            argv = [str(SCRIPT), "sh", "-c", command]
            return subprocess.Popen(argv, env=env, stdout=out, stderr=out, start_new_session=True), log

    # Side by side, to wait for one stand-in start-up only.
    signalled = {
        signum: run(signum.name, f"echo $$ > {tmp_path / signum.name}.pid; exec sleep 60")
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    exiting, _ = run("exit", 'test -n "$MONGODB_URI" && exit 3')
    try:
        pids = {
            signum: (_wait_for(tmp_path / f"{signum.name}.pid", r"(\d+)"), _wait_for(log, r"\(pid (\d+)\)"))
            for signum, (_, log) in signalled.items()
        }
        signalled[signal.SIGTERM][0].send_signal(signal.SIGTERM)  # `kill PID`
        os.killpg(signalled[signal.SIGINT][0].pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        sent = time.monotonic()
        for signum, (wrapper, log) in signalled.items():
            status = wrapper.wait(timeout=10)
            command, standin = pids[signum]
            assert status == 128 + signum, (signum.name, status, log.read_text())
            assert not _alive(command) and not _alive(standin), signum.name
        assert time.monotonic() - sent < 3.0
        assert exiting.wait(timeout=60) == 3
    finally:
        for wrapper in [exiting, *(w for w, _ in signalled.values())]:
            _stop(wrapper, tmp_path)
