"""`serve` with one and several worker processes: every accepted connection has
TCP_NODELAY (no ~40 ms Nagle/delayed-ACK stall on keep-alive requests), and the
merged flags and environment reach every worker."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import statistics
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gateway.server import listen
from gateway.settings import Settings, SettingsError
from tests.conftest import FIXTURE, child_env
from tests.processes import HOST, free_port, serving

PAGE_20 = json.dumps(
    {"query": '{ jobs(domainId: "domain-58010aa2e451", query: {page: {limit: 20}}) { totalCount results { jobId } } }'}
)


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


def _keep_alive_medians_ms(*bases: str, requests: int = 25) -> list[float]:
    """Median latency of GraphQL page-20 requests sent one after another on one
    connection to each of ``bases``, the servers taking turns: whatever else loads the
    machine meanwhile slows them alike."""
    connections = []
    for base in bases:
        url = urlsplit(base)
        connections.append(http.client.HTTPConnection(url.hostname or HOST, url.port, timeout=10))
    timings: list[list[float]] = [[] for _ in bases]
    try:
        for _ in range(requests + 1):  # the first one opens the connection: not counted
            for conn, timed in zip(connections, timings, strict=True):
                started = time.perf_counter()
                conn.request("POST", "/graphql", body=PAGE_20, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                assert response.status == 200 and b'"jobId"' in response.read()
                timed.append(time.perf_counter() - started)
    finally:
        for conn in connections:
            conn.close()
    return [statistics.median(timed[1:]) * 1000 for timed in timings]


def test_two_workers_answer_keep_alive_requests_as_fast_as_one() -> None:
    # Nagle's algorithm against the client's delayed ACK adds ~40 ms per request
    # (20-100 times a loopback request); a small ratio means no stall.
    with (
        serving("--data", str(FIXTURE), "--workers", "1") as single,
        serving("--data", str(FIXTURE), "--workers", "2") as double,
    ):
        one, two = _keep_alive_medians_ms(single, double)
    assert two / one < 4, f"2 workers {two:.2f} ms vs 1 worker {one:.2f} ms"


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
        totals = {}
        for answering in pids:
            others = [pid for pid in pids if pid != answering]
            for pid in others:
                os.kill(pid, signal.SIGSTOP)
            try:
                body = {"domain_id": "domain-58010aa2e451", "query": {}}
                totals[answering] = _post(base, "/inventory/v1/jobs/search", body)["total_count"]
            finally:
                for pid in others:
                    os.kill(pid, signal.SIGCONT)
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
    assert "worker exited; starting another" not in messages
    assert "a worker could not start; stopping" not in messages


def test_settings_validate_on_construction() -> None:
    with pytest.raises(SettingsError, match="JOB_GATEWAY_WORKERS must be a positive integer"):
        Settings(workers=0)
    with pytest.raises(SettingsError, match="cannot be combined with MONGODB_URI"):
        Settings(mongodb_uri="mongodb://db", insecure_no_auth=True, data_files=("a.json",))
    with pytest.raises(SettingsError, match="no token key"):
        Settings(mongodb_uri="mongodb://db")
