"""The transports' own reference clients against a live gateway: graphql-sse's client
(GraphQL over Server-Sent Events, distinct connections mode) on /graphql/stream and
graphql-ws's (graphql-transport-ws) on /graphql, each run by
``tests/node-live/subscribe.mjs``; and GraphiQL in headless Chromium showing a
subscription live (``graphiql.mjs``). Needs ``npm ci`` in tests/node-live (``.ci/run``
does it) and Chromium: skipped without them here, a failure in CI."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import ROOT, fixed_clock, memory_with
from tests.dataset import D1, D2, dataset
from tests.live import live_server
from tests.processes import require

pytestmark = pytest.mark.anyio
CLIENTS = ROOT / "tests" / "node-live"
SECRET = "s" * 40
TRANSPORTS = ["sse", "ws"]

CHANGED = """subscription($ids: [String!]) {
  jobChanged(jobId: $ids) { kind job { jobId remainedTasks collectorInfo { provider } } }
}"""
LIVE = """subscription {
  jobsLive(first: 1, orderBy: [{field: JOB_ID}]) { results { jobId remainedTasks } }
}"""


def _ready() -> None:
    require(bool(shutil.which("node")) and (CLIENTS / "node_modules").is_dir(), "Node with tests/node-live's packages")


def _serving(**settings: Any) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    data = dataset()
    store = memory_with(data)
    with live_server(create_app(Settings(**settings), store, clock=fixed_clock)) as url:
        yield url, store, data


@pytest.fixture
def gateway() -> Iterator[tuple[str, Any, dict[str, Any]]]:
    yield from _serving(jwt_secret=SECRET)


@pytest.fixture
def open_gateway() -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Without authentication, as the demo runs (GraphiQL's page sends no token)."""
    yield from _serving()


def _token(domain: str) -> str:
    return jwt.encode({"did": domain, "exp": int(time.time() + 3600)}, SECRET, algorithm="HS256")


def _endpoint(url: str, transport: str) -> str:
    return url.replace("http://", "ws://") + "/graphql" if transport == "ws" else url + "/graphql/stream"


@asynccontextmanager
async def subscribed(
    url: str, transport: str, token: str, query: str, variables: dict[str, Any], count: int
) -> AsyncIterator[asyncio.Queue[Any]]:
    """The client's results (parsed), as it prints them."""
    _ready()
    process = await asyncio.create_subprocess_exec(
        "node",
        "subscribe.mjs",
        transport,
        _endpoint(url, transport),
        token,
        query,
        json.dumps(variables),
        str(count),
        cwd=CLIENTS,
        stdout=asyncio.subprocess.PIPE,
    )
    results: asyncio.Queue[Any] = asyncio.Queue()

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            results.put_nowait(json.loads(line))

    reader = asyncio.create_task(read())
    try:
        yield results
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        reader.cancel()


async def _until_received(results: asyncio.Queue[Any], write: Any, within: float = 15.0) -> Any:
    """Write (again and again: when the client has subscribed is not observable) until
    the client prints a result; that result."""
    async with asyncio.timeout(within):
        attempt = 0
        while True:
            attempt += 1
            await write(attempt)
            try:
                return await asyncio.wait_for(results.get(), 0.5)
            except TimeoutError:
                continue


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_reference_client_receives_job_changes(
    gateway: tuple[str, Any, dict[str, Any]], transport: str
) -> None:
    url, store, data = gateway
    key = next(j["_id"] for j in data["job"] if j["job_id"] == "job-000000000001")
    variables = {"ids": ["job-000000000001"]}
    async with subscribed(url, transport, _token(D1), CHANGED, variables, 2) as results:

        async def write(n: int) -> None:
            await store.update_one("job", key, {"remained_tasks": 100 + n})

        first = await _until_received(results, write)
        written = first["data"]["jobChanged"]["job"]["remainedTasks"]
        assert first == {
            "data": {
                "jobChanged": {
                    "kind": "UPDATED",
                    "job": {
                        "jobId": "job-000000000001",
                        "remainedTasks": written,
                        "collectorInfo": {"provider": "aws"},
                    },
                }
            }
        }
        await store.update_one("job", key, {"remained_tasks": 7})
        second = await asyncio.wait_for(results.get(), 5)
        assert second["data"]["jobChanged"]["job"]["remainedTasks"] == 7


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_reference_client_follows_a_live_list(
    gateway: tuple[str, Any, dict[str, Any]], transport: str
) -> None:
    url, store, data = gateway
    key = next(j["_id"] for j in data["job"] if j["job_id"] == "job-000000000001")
    async with subscribed(url, transport, _token(D1), LIVE, {}, 2) as results:
        first = await asyncio.wait_for(results.get(), 10)
        assert first == {"data": {"jobsLive": {"results": [{"jobId": "job-000000000001", "remainedTasks": 0}]}}}
        await store.update_one("job", key, {"remained_tasks": 3})
        second = await asyncio.wait_for(results.get(), 5)
        assert second == {"data": {"jobsLive": {"results": [{"jobId": "job-000000000001", "remainedTasks": 3}]}}}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_reference_client_is_told_another_domain_is_forbidden(
    gateway: tuple[str, Any, dict[str, Any]], transport: str
) -> None:
    url, _, _ = gateway
    query = "subscription($d: String) { jobChanged(domainId: $d) { job { jobId } } }"
    async with subscribed(url, transport, _token(D1), query, {"d": D2}, 1) as results:
        answer = await asyncio.wait_for(results.get(), 10)
    errors = answer["error"] if "error" in answer else answer["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], answer


async def test_graphiql_shows_a_subscription_live(open_gateway: tuple[str, Any, dict[str, Any]]) -> None:
    """GraphiQL (the page /graphql serves browsers) runs subscriptions over WebSocket,
    offline: each result replaces the last in its result pane."""
    _ready()
    require(os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")), "Chromium")
    url, store, data = open_gateway
    key = next(j["_id"] for j in data["job"] if j["job_id"] == "job-000000000001")
    query = f'subscription {{ jobChanged(domainId: "{D1}", jobId: ["job-000000000001"]) {{ job {{ jobId remainedTasks }} }} }}'

    async def progress() -> None:
        for remained in range(200, 0, -1):
            await store.update_one("job", key, {"remained_tasks": remained})
            await asyncio.sleep(0.3)

    writer = asyncio.create_task(progress())
    try:
        process = await asyncio.create_subprocess_exec(
            "node", "graphiql.mjs", url, query, "2", cwd=CLIENTS, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(process.communicate(), 90)
    finally:
        writer.cancel()
    report = json.loads(out)
    assert not report["blocked"] and not report["consoleErrors"], report
    assert "WS /graphql" in report["requests"], report
    jobs = [r["data"]["jobChanged"]["job"] for r in report["results"]]
    assert len(jobs) == 2 and {j["jobId"] for j in jobs} == {"job-000000000001"}, report["results"]
    assert jobs[0]["remainedTasks"] > jobs[1]["remainedTasks"]
