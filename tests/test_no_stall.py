"""No request can stall the process: the embedded engine runs queries off the event
loop, under the time budget (JOB_GATEWAY_MAX_TIME_MS, MongoDB's maxTimeMS), with a
regular-expression matcher that cannot backtrack."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.memory import MemoryJobStore
from tests.conftest import fixed_clock

DOMAIN = "domain-stall000000"
# `^(\w+\s?)+$` against these ids backtracks exponentially in a backtracking matcher
# (Python's `re` takes seconds on one 30-character id, doubling with each word).
CATASTROPHIC = "^(\\w+\\s?)+$"
JOBS = 20_000


def _jobs() -> dict[str, list[dict[str, Any]]]:
    words = " ".join(["word"] * 60)
    return {
        "job": [
            {
                "_id": ObjectId(),
                "job_id": f"{words} {i}!",
                "status": "ERROR",
                "domain_id": DOMAIN,
                "created_at": datetime(2024, 5, 1),
            }
            for i in range(JOBS)
        ],
        "collector": [],
    }


DATA = _jobs()


def _client(max_time_ms: int = 5000) -> TestClient:
    store = MemoryJobStore(max_time_ms=max_time_ms)
    for name, docs in DATA.items():
        store.insert(name, [dict(d) for d in docs])  # type: ignore[arg-type]
    return TestClient(create_app(Settings(max_time_ms=max_time_ms), store, clock=fixed_clock))


def _search(client: TestClient) -> Any:
    body = {"domain_id": DOMAIN, "query": {"filter": [{"k": "job_id", "v": CATASTROPHIC, "o": "regex"}]}}
    return client.post("/inventory/v1/jobs/search", json=body)


def responsive(latencies: list[float]) -> bool:
    """/healthz answered within 100 ms while the query ran: many probes, nine in ten
    within 100 ms (one can lose the CPU to another process on a loaded machine). Were
    the query on the event loop, the first probe would wait for all of it: one probe."""
    return len(latencies) >= 5 and sorted(latencies)[len(latencies) * 9 // 10 - 1] < 0.1


def _while_running(client: TestClient, call: Any) -> tuple[Any, float, list[float]]:
    """Run ``call`` on another thread; probe /healthz until it returns. Gives its
    answer, its duration and every probe's latency."""
    answer: list[Any] = []
    started = time.perf_counter()
    worker = threading.Thread(target=lambda: answer.append(call()))
    worker.start()
    latencies = []
    while worker.is_alive():
        probe = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        latencies.append(time.perf_counter() - probe)
        time.sleep(0.01)
    worker.join()
    return answer[0], time.perf_counter() - started, latencies


def test_a_catastrophic_pattern_leaves_the_server_responsive() -> None:
    with _client() as client:
        response, took, latencies = _while_running(client, lambda: _search(client))
    assert response.status_code == 200, response.text
    assert response.json()["total_count"] == 0  # no id ends in a word character
    # Linear in the data: about 2 MB of ids is read in well under the 5 s budget.
    assert took < 5
    assert responsive(latencies), latencies


@pytest.fixture
def without_collector_pauses() -> Iterator[None]:
    """No cyclic garbage collection while timing: in a test process holding the whole
    suite's objects one full collection can take longer than the query measured."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("without_collector_pauses")
def test_a_query_over_its_budget_stops_with_the_maxtimems_error() -> None:
    with _client() as client:  # the same query run to its end, here and now, probed alike
        answered, whole, _ = _while_running(client, lambda: _search(client))
        assert answered.status_code == 200
    with _client(max_time_ms=50) as client:
        response, took, latencies = _while_running(client, lambda: _search(client))
        # The worker is free again: the next query runs (and is answered) at once.
        assert client.post(
            "/inventory/v1/jobs/search", json={"domain_id": DOMAIN, "query": {"count_only": True}}
        ).json() == {
            "results": [],
            "total_count": JOBS,
        }
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    # The error a MongoDB time-out gives (gateway/store/mongo.py): 503, the same words.
    assert error == {
        "code": "ERROR_DB_UNAVAILABLE",
        "message": "the database did not answer within the request's time budget of 50 ms.",
    }
    # Stopped at its 50 ms budget (the page's and the count's queries, one after the
    # other), not at the end of the scan; loose, for machines loaded by other work.
    assert took < whole, (took, whole)
    assert latencies  # /healthz was answered meanwhile (its latency: the test above)
