"""The MongoDB engine when its database dies and comes back, or hangs and wakes up:
every request answers 503 (GraphQL `UNAVAILABLE`) within the one database time budget,
and the same gateway answers again once the database does. Over the wire, against a
private stand-in process (tests/standin.py) that these tests kill, restart, freeze and
thaw. The answer times measured are listed at the end of the run."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.errors import QueryTimedOut, StoreUnavailable
from gateway.settings import Settings
from gateway.store.mongo import MongoJobStore
from gateway.store.request_budget import request_budget
from tests.conftest import SLACK_SECONDS, MongoSeed, fixed_clock
from tests.dataset import D1, dataset
from tests.standin import StandIn, standin

__all__ = ["standin"]  # the fixture, for the tests below

BUDGET_MS = 500  # JOB_GATEWAY_MAX_TIME_MS here: short, so the run stays short
SELECTION_MS = 300  # JOB_GATEWAY_SERVER_SELECTION_TIMEOUT_MS: the wait while no server is known

Send = Callable[[TestClient], Any]
REQUESTS: dict[str, Send] = {
    "REST list": lambda c: c.post("/inventory/v1/jobs/search", json={"domain_id": D1}),
    "REST stat": lambda c: c.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": {"distinct": "status"}}),
    "GraphQL jobs": lambda c: c.post(
        "/graphql",
        json={"query": f'{{ jobs(domainId: "{D1}") {{ totalCount results {{ jobId collectorInfo {{ name }} }} }} }}'},
    ),
    "readiness": lambda c: c.get("/readyz"),
}


# What a caller may be told, in the API's words (gateway/errors.py), never a driver's:
# no server found, the connection dropped mid-query, or the budget ran out.
CAUSES = {
    StoreUnavailable.unreachable(min(BUDGET_MS, SELECTION_MS)).message,
    StoreUnavailable.connection_lost().message,
    QueryTimedOut(BUDGET_MS).message,
}


def _unavailable(name: str, response: Any) -> bool:
    """The answer is unavailable, with one of the known causes as its message."""
    if name == "GraphQL jobs":
        (error,) = response.json()["errors"]
        code, message = error["extensions"]["code"], error["message"]
        return response.status_code == 200 and code == "UNAVAILABLE" and message in CAUSES
    if name == "readiness":
        body = response.json()
        return response.status_code == 503 and body["status"] == "unavailable" and body["reason"] in CAUSES
    error = response.json()["error"]
    return response.status_code == 503 and error["code"] == "ERROR_DB_UNAVAILABLE" and error["message"] in CAUSES


def _answers_unavailable_within(client: TestClient, bound: float) -> dict[str, float]:
    """Each kind of request, then the list again (no stuck state), each unavailable
    within ``bound`` seconds (and some slack): seconds each took."""
    seconds: dict[str, float] = {}
    for name, send in [*REQUESTS.items(), ("REST list", REQUESTS["REST list"])]:
        started = time.perf_counter()
        response = send(client)
        elapsed = time.perf_counter() - started
        assert _unavailable(name, response), (name, response.status_code, response.text)
        assert elapsed < bound + SLACK_SECONDS, (name, elapsed)
        seconds[name] = max(elapsed, seconds.get(name, 0.0))
    return seconds


def _recovers(client: TestClient, within: float = 20.0) -> float:
    """Seconds until the list answers the known jobs again."""
    started = time.perf_counter()
    while time.perf_counter() - started < within:
        response = REQUESTS["REST list"](client)
        if response.status_code == 200:
            assert response.json()["total_count"] == 7
            return time.perf_counter() - started
        time.sleep(0.1)
    pytest.fail(f"the gateway did not answer again within {within} s of the database's return")


@pytest.fixture
def gateway(standin: StandIn) -> Iterator[tuple[TestClient, MongoSeed]]:
    """The app over the stand-in as in production (it opens and closes its own store)."""
    seed = MongoSeed(dataset(), uri=standin.uri)
    settings = Settings(
        mongodb_uri=standin.uri,
        database=seed.name,
        max_time_ms=BUDGET_MS,
        server_selection_timeout_ms=SELECTION_MS,
        insecure_no_auth=True,
    )
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        assert REQUESTS["REST list"](client).json()["total_count"] == 7
        yield client, seed
    seed.client.close()


def _record(record_property: Callable[[str, object], None], what: str, seconds: dict[str, float]) -> None:
    worst = max(seconds, key=lambda k: seconds[k])
    record_property(
        "measured",
        f"{what}: worst {seconds[worst]:.2f} s ({worst}); budget {BUDGET_MS} ms, server selection {SELECTION_MS} ms",
    )


def test_dead_database_answers_503_within_budget_then_recovers(
    gateway: tuple[TestClient, MongoSeed], standin: StandIn, record_property: Any
) -> None:
    client, seed = gateway
    standin.kill()
    # Its connections break at once: the gateway knows there is no server, and waits for
    # one only the server selection timeout.
    _record(record_property, "database killed", _answers_unavailable_within(client, SELECTION_MS / 1000))
    standin.start()  # the same address, empty (in memory): fill it again
    seed.fill(dataset())
    record_property("measured", f"restarted: answering again after {_recovers(client):.2f} s")


def test_frozen_database_answers_503_within_budget_then_recovers(
    gateway: tuple[TestClient, MongoSeed], standin: StandIn, record_property: Any
) -> None:
    client, _ = gateway
    standin.freeze()
    _record(record_property, "database frozen", _answers_unavailable_within(client, BUDGET_MS / 1000))
    standin.thaw()
    record_property("measured", f"thawed: answering again after {_recovers(client):.2f} s")


# A longer budget for the test below: calls that did not share it would each wait all
# of it, calls that do fail at once; half of it tells the two apart on a busy machine.
SHARED_BUDGET_MS = 2000


@pytest.mark.anyio
async def test_the_calls_of_one_request_share_one_budget(standin: StandIn) -> None:
    seed = MongoSeed(dataset(), uri=standin.uri)
    budget = SHARED_BUDGET_MS / 1000
    store = MongoJobStore(
        standin.uri, database=seed.name, timeout_ms=SHARED_BUDGET_MS, server_selection_timeout_ms=5000
    )
    try:
        await store.ping()
        standin.freeze()
        started = time.perf_counter()
        with request_budget():
            with pytest.raises(StoreUnavailable):
                await store.find("job", {})
            spent = time.perf_counter()
            # What is left after a call that waited the whole budget: nothing.
            for outcome in await asyncio.gather(store.count("job", {}), store.find("job", {}), return_exceptions=True):
                assert isinstance(outcome, StoreUnavailable)
            assert time.perf_counter() - spent < budget / 2
        assert time.perf_counter() - started < budget + SLACK_SECONDS
        # Outside a request, a call has the whole budget again.
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable):
            await store.count("job", {})
        assert budget - 0.1 < time.perf_counter() - started < budget + SLACK_SECONDS
    finally:
        standin.thaw()
        await store.close()
        seed.drop()


async def _task_stacks() -> str:
    """Where each task of the running event loop is waiting."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(file=out)
    return out.getvalue()


IN_FLIGHT = 16
# What the README states a caller waits beyond the budget, database frozen, IN_FLIGHT
# requests in flight: the driver's give-up backstop (gateway/store/mongo.py, 50 ms), then
# the gateway answering the requests that all timed out at once, one after the other on
# its one event loop. Measured with the default budget (README, Deploying).
OVERSHOOT = 0.25


def test_a_frozen_database_answers_every_request_in_flight_within_the_stated_bound(
    gateway: tuple[TestClient, MongoSeed], standin: StandIn, record_property: Any
) -> None:
    client, _ = gateway
    send = REQUESTS["REST list"]

    def timed(_: int) -> tuple[float, Any]:
        started = time.perf_counter()
        response = send(client)
        return time.perf_counter() - started, response

    pool = ThreadPoolExecutor(IN_FLIGHT)
    try:
        list(pool.map(timed, range(IN_FLIGHT)))  # a pooled connection each, most likely
        standin.freeze()
        # Bounded, so that a request that never answers fails the test rather than stalls it.
        answers = list(pool.map(timed, range(IN_FLIGHT), timeout=30))
    except TimeoutError:
        stacks = client.portal.call(_task_stacks)
        sys.__stderr__.write(stacks)  # now: the teardown may not end either
        pytest.fail(f"requests in flight did not answer within 30 s; the app's tasks:\n{stacks}")
    finally:
        standin.thaw()
        pool.shutdown(wait=False, cancel_futures=True)
    assert all(_unavailable("REST list", response) for _, response in answers)
    worst = max(seconds for seconds, _ in answers)
    record_property(
        "measured",
        f"database frozen, {IN_FLIGHT} requests in flight: worst {worst:.3f} s, "
        f"{(worst - BUDGET_MS / 1000) * 1000:.0f} ms over the {BUDGET_MS} ms budget",
    )
    assert worst < BUDGET_MS / 1000 + OVERSHOOT, worst
