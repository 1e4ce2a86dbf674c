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
# Enough jobs that reading them all costs several times the over-budget test's 50 ms
# budget in processor time (about 0.35 s here), whatever the machine's speed.
JOBS = 40_000
# Time enough for the whole scan on a machine loaded by other work: the first test is
# about the matcher and the event loop, not the budget.
GENEROUS_MS = 30_000


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


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    return _jobs()


def _client(data: dict[str, list[dict[str, Any]]], max_time_ms: int) -> tuple[TestClient, _NoticingStore]:
    store = _NoticingStore(max_time_ms=max_time_ms)
    for name, docs in data.items():
        store.insert(name, [dict(d) for d in docs])  # type: ignore[arg-type]
    return TestClient(create_app(Settings(max_time_ms=max_time_ms), store, clock=fixed_clock)), store


def _search(client: TestClient) -> Any:
    body = {"domain_id": DOMAIN, "query": {"filter": [{"k": "job_id", "v": CATASTROPHIC, "o": "regex"}]}}
    return client.post("/inventory/v1/jobs/search", json=body)


class _NoticingStore(MemoryJobStore):
    """The embedded engine, noting when a ``find`` is called (``reading``) and when it
    has returned (``read``), both on the event loop's thread."""

    def __init__(self, *, max_time_ms: int) -> None:
        super().__init__(max_time_ms=max_time_ms)
        self.reading = threading.Event()
        self.read = threading.Event()

    async def find(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        self.reading.set()
        try:
            return await super().find(*args, **kwargs)
        finally:
            self.read.set()


def _probes_while_reading(client: TestClient, store: _NoticingStore, call: Any) -> tuple[Any, int]:
    """Run ``call`` on another thread; probe /healthz until it returns. Gives its
    answer and how many probes, sent once the store's ``find`` began, were answered
    before it returned. Were the query run on the event loop, none could be: the loop
    answers /healthz only after the query's end. An order of events, which a loaded
    machine does not change."""
    answer: list[Any] = []
    worker = threading.Thread(target=lambda: answer.append(call()))
    worker.start()
    assert store.reading.wait(60), "the query never reached the store"
    during = 0
    while worker.is_alive():
        assert client.get("/healthz").status_code == 200
        during += not store.read.is_set()
        time.sleep(0.01)
    worker.join()
    return answer[0], during


def _processor_time(call: Any) -> tuple[Any, float]:
    """``call()`` and the processor time this process spent on it, in seconds: what
    other processes take from a loaded machine is not counted."""
    started = time.process_time()
    answer = call()
    return answer, time.process_time() - started


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
def test_a_catastrophic_pattern_leaves_the_server_responsive(data: dict[str, list[dict[str, Any]]]) -> None:
    client, store = _client(data, GENEROUS_MS)
    with client:
        (response, during), spent = _processor_time(
            lambda: _probes_while_reading(client, store, lambda: _search(client))
        )
    assert response.status_code == 200, response.text
    assert response.json()["total_count"] == 0  # no id ends in a word character
    # Linear in the data: 40,000 ids of 300 characters are read in a fraction of a
    # second of processor time (a backtracking matcher takes seconds on each one).
    assert spent < 3, spent
    assert during > 0, "no /healthz probe was answered while the query ran"


@pytest.mark.usefixtures("without_collector_pauses")
def test_a_query_over_its_budget_stops_with_the_maxtimems_error(data: dict[str, list[dict[str, Any]]]) -> None:
    with _client(data, GENEROUS_MS)[0] as client:  # the same query, run to its end
        answered, whole = _processor_time(lambda: _search(client))
        assert answered.status_code == 200
    with _client(data, 50)[0] as client:
        response, took = _processor_time(lambda: _search(client))
        # The domain is released (one query at a time per domain: a slot the stopped scan
        # kept would stall it for good): its next query is answered once the scan has
        # reached its next budget check - polled, as a loaded machine delays that check.
        cheap = {
            "domain_id": DOMAIN,
            "query": {"filter": [{"k": "job_id", "v": "job-nowhere", "o": "eq"}], "count_only": True},
        }
        answers = []
        for _ in range(100):
            answers.append(client.post("/inventory/v1/jobs/search", json=cheap).json())
            if "error" not in answers[-1]:
                break
            time.sleep(0.1)
        assert answers[-1] == {"results": [], "total_count": 0}, answers[-3:]
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    # The error a MongoDB time-out gives (gateway/store/mongo.py): 503, the same words.
    assert error == {
        "code": "ERROR_DB_UNAVAILABLE",
        "message": "the database did not answer within the request's time budget of 50 ms.",
    }
    # Stopped at its 50 ms budget (the page's and the count's queries, one after the
    # other), not at the end of the scan: a fraction of the whole scan's processor time
    # (a ratio of processor times, which other processes' load does not change).
    assert took < whole / 2, (took, whole)
