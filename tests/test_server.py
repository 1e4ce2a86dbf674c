"""`serve` with one and several worker processes: every accepted connection has
TCP_NODELAY (no ~40 ms Nagle/delayed-ACK stall on keep-alive requests), and the
merged flags and environment reach every worker. Each worker is asked in turn, the
others stopped: what is asserted is what each one answers, never how fast. A worker
stopped alone is replaced (within a bound), and workers do not outlive a killed
supervisor: asserted by processes and log events."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.server import listen
from gateway.settings import Settings, SettingsError
from tests.conftest import FIXTURE, ROOT, child_env
from tests.processes import HOST, free_port, serving, serving_process


def test_listener_gives_accepted_connections_tcp_nodelay() -> None:
    """The socket `serve` hands to uvicorn: asyncio turns TCP_NODELAY on for what it accepts."""

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted = transport.get_extra_info("socket")
                seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        sock = listen(HOST, free_port())
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        try:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            result = await asyncio.wait_for(seen, 5)
            writer.close()
            return result
        finally:
            server.close()
            await server.wait_closed()

    assert asyncio.run(accepted_nodelay()) == 1


# A child process serving, with ``gateway.server.serve`` and ``argv[1]`` workers, an app
# that answers each request with the TCP_NODELAY of its own connection's socket (found
# among the worker's open sockets by the peer address) and the worker's pid. Each
# worker prints its pid as it builds the app; the parent prints the port first.
PROBE = """
import json, os, socket, sys
from gateway.server import listen, serve
from gateway.settings import Settings

def nodelay_of_connection(peer):
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = os.dup(int(name))
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            continue
        with sock:
            try:
                if sock.type == socket.SOCK_STREAM and sock.getpeername()[:2] == peer:
                    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            except OSError:
                pass
    return None

async def probe(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    answer = {"pid": os.getpid(), "nodelay": nodelay_of_connection(tuple(scope["client"]))}
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

def build():
    print(os.getpid(), flush=True)
    return probe

sock = listen("127.0.0.1", 0)
print(sock.getsockname()[1], flush=True)
sys.exit(serve(Settings(workers=int(sys.argv[1])), build, sock))
"""


def _from_each(pids: list[int], ask: Callable[[], Any]) -> dict[int, Any]:
    """``ask()`` once per worker of ``pids``, each time with the others stopped
    (SIGSTOP), so that it alone accepts the connection: ``{pid: answer}``."""
    answers = {}
    for answering in pids:
        others = [pid for pid in pids if pid != answering]
        for pid in others:
            os.kill(pid, signal.SIGSTOP)
        try:
            answers[answering] = ask()
        finally:
            for pid in others:
                os.kill(pid, signal.SIGCONT)
    return answers


def _probe(port: int) -> Any:
    """Two requests on one keep-alive connection to the probe server (once a worker
    listens): the answers."""
    deadline = time.monotonic() + 30
    while True:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            answers = []
            for _ in range(2):
                conn.request("GET", "/")
                answers.append(json.loads(conn.getresponse().read()))
            return answers
        except ConnectionRefusedError:  # no worker listens yet
            assert time.monotonic() < deadline, "no worker listened within 30 s"
            time.sleep(0.05)
        finally:
            conn.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_every_worker_sets_tcp_nodelay_on_its_connections(workers: int) -> None:
    # Without TCP_NODELAY, Nagle's algorithm against the client's delayed ACK holds every
    # keep-alive response ~40 ms (uvicorn issue 3149, see gateway/server.py): asserted
    # on the socket each worker answers on, not by timing it.
    with subprocess.Popen(
        [sys.executable, "-c", PROBE, str(workers)], stdout=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT
    ) as child:
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            pids = [int(child.stdout.readline()) for _ in range(workers)]
            answers = _from_each(pids, lambda: _probe(port))
        finally:
            child.terminate()
    assert answers == {pid: [{"pid": pid, "nodelay": 1}] * 2 for pid in pids}


def _post(base: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _logged(log: Path, message: str, count: int = 1, timeout: float = 30.0) -> list[dict]:
    """The JSON log lines of ``log`` whose message is ``message``, once there are
    ``count`` of them (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        found = [line for line in lines if line["message"] == message]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{count} x {message!r} not logged: {lines[-5:]}"
        time.sleep(0.05)


def test_flags_reach_every_worker(tmp_path: Path) -> None:
    """`--data` given on the command line is what each worker serves (a worker that read
    the environment again would serve the 3,000-job demo instead). Each worker in turn
    is the only one accepting (the other stopped), so each one answers."""
    log = tmp_path / "stderr"
    with serving("--data", str(FIXTURE), "--workers", "2", stderr=log) as base:
        (started,) = _logged(log, "started 2 worker processes")
        pids = started["pids"]
        _logged(log, "Application startup complete.", count=2)
        body = {"domain_id": "domain-58010aa2e451", "query": {}}
        totals = _from_each(pids, lambda: _post(base, "/inventory/v1/jobs/search", body)["total_count"])
    assert totals == dict.fromkeys(pids, 2)


def test_insecure_no_auth_flag_reaches_workers_against_mongodb(tmp_path: Path) -> None:
    """The flag is not in the environment; workers that re-read it would refuse to start
    (MONGODB_URI without a key) and crash-loop."""
    env = child_env(
        MONGODB_URI=f"mongodb://{HOST}:{free_port()}/?directConnection=true",
        JOB_GATEWAY_SERVER_SELECTION_TIMEOUT_MS="200",
    )
    log = tmp_path / "stderr"
    with serving("--insecure-no-auth", "--workers", "2", env=env, stderr=log) as base:
        # Both workers started (a worker refusing to start would stop the server).
        _logged(log, "Application startup complete.", count=2)
        for _ in range(5):
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as unready:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
        unready.value.close()
        assert unready.value.code == 503
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines() if line.startswith("{")]
    assert "a worker exited; started another in its place" not in messages
    assert "a worker could not start; stopping" not in messages


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie no one reaped counts)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_worker_stopped_alone_is_replaced(tmp_path: Path, signum: signal.Signals) -> None:
    log = tmp_path / "stderr"
    with serving_process("--data", str(FIXTURE), "--workers", "2", stderr=log) as (base, supervisor):
        (started,) = _logged(log, "started 2 worker processes")
        assert _logged(log, "a worker that exits is replaced, at most 10 times a minute")
        _logged(log, "Application startup complete.", count=2)
        victim, other = started["pids"]
        os.kill(victim, signum)
        (replaced,) = _logged(log, "a worker exited; started another in its place")
        assert replaced["pid"] == victim and replaced["level"] == "warning"
        # uvicorn stops gracefully on SIGINT and SIGTERM, then re-raises the signal (or not).
        assert replaced["exit"] in {f"signal {signum.name}", "status 0"}
        _logged(log, "Application startup complete.", count=3)  # the replacement serves
        assert _gone(victim) and not _gone(replaced["replacement"]) and not _gone(other)
        os.kill(other, signal.SIGSTOP)  # only the replacement accepts now
        try:
            assert _post(base, "/inventory/v1/jobs/search", {"domain_id": "domain-58010aa2e451", "query": {}})
        finally:
            os.kill(other, signal.SIGCONT)
        assert supervisor.poll() is None


def test_workers_exiting_over_the_bound_stop_the_server(tmp_path: Path) -> None:
    """A crash loop is not restarted for ever: the 11th exit within a minute stops the
    server with status 1, said in the log."""
    log = tmp_path / "stderr"
    with serving_process("--data", str(FIXTURE), "--workers", "2", stderr=log) as (_, supervisor):
        (started,) = _logged(log, "started 2 worker processes")
        pid = started["pids"][0]
        for restarts in range(1, 11):
            os.kill(pid, signal.SIGKILL)
            pid = _logged(log, "a worker exited; started another in its place", count=restarts)[-1]["replacement"]
        os.kill(pid, signal.SIGKILL)
        assert supervisor.wait(30) == 1
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    (stopping,) = [line for line in lines if line["message"].startswith("workers exited more than 10 times")]
    assert stopping["level"] == "error" and stopping["message"].endswith("within a minute; stopping")
    assert all(_gone(pid) for pid in started["pids"])


def test_workers_exit_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """kill -9 of the supervisor, which cannot clean up: its workers stop too
    (PR_SET_PDEATHSIG), and the port is free again."""
    log = tmp_path / "stderr"
    with serving_process("--data", str(FIXTURE), "--workers", "2", stderr=log) as (base, supervisor):
        (started,) = _logged(log, "started 2 worker processes")
        _logged(log, "Application startup complete.", count=2)
        supervisor.kill()
        supervisor.wait()
        deadline = time.monotonic() + 30
        while not all(_gone(pid) for pid in started["pids"]):
            assert time.monotonic() < deadline, "workers outlived their supervisor"
            time.sleep(0.05)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((HOST, urlsplit(base).port or 0), timeout=5).close()


def test_settings_validate_on_construction() -> None:
    with pytest.raises(SettingsError, match="JOB_GATEWAY_WORKERS must be a positive integer"):
        Settings(workers=0)
    with pytest.raises(SettingsError, match="cannot be combined with MONGODB_URI"):
        Settings(mongodb_uri="mongodb://db", insecure_no_auth=True, data_files=("a.json",))
    with pytest.raises(SettingsError, match="no token key"):
        Settings(mongodb_uri="mongodb://db")
