"""Shared fixtures: one behaviour suite over both engines (the embedded one always;
the MongoDB server at MONGODB_URI too, see tests/engines.py), and a store that counts
its calls on either."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.service import JobService
from gateway.settings import Settings
from gateway.store.base import JobStore
from gateway.store.factory import open_store
from gateway.store.memory import MemoryJobStore
from tests import engines
from tests.dataset import NOW, dataset
from tests.engines import MONGODB_URI, require_mongodb

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "gateway" / "demo" / "seed_jobs.json"
__all__ = ["BUDGET_MS", "MONGODB_URI", "ROOT", "SLACK_SECONDS", "MongoSeed", "child_env"]
# The time budget (max_time_ms) of the stores and apps the fixtures build: generous, so
# that a machine loaded by other work never turns a slow answer into a 503. The budget
# itself is tested with its own short values (test_no_stall, test_wire_faults,
# test_production, test_mongo_store).
BUDGET_MS = 60_000
# Seconds a machine loaded by other work may add to an answer that a short time budget
# bounds (tests of the budget itself): less than the 3 s a request waits for a MongoDB
# server by default (Settings), so a wait that ignored the shorter bound still fails.
SLACK_SECONDS = 2.0


def pytest_configure(config: pytest.Config) -> None:
    engines.configure(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engines.mark_deviations(config, items)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    engines.summary(terminalreporter, config)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fixed_clock() -> Any:
    return NOW


class CountingStore:
    """Wraps a store and records each data call as (method, collection)."""

    def __init__(self, inner: JobStore) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []
        self.kwargs: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name not in ("find", "count", "aggregate", "distinct"):
            return method

        async def counted(collection: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, collection))
            self.kwargs.append(kwargs)
            return await method(collection, *args, **kwargs)

        return counted


def memory_with(data: dict[str, list[dict]], max_time_ms: int = BUDGET_MS) -> MemoryJobStore:
    store = MemoryJobStore(max_time_ms=max_time_ms)
    for name, docs in data.items():
        store.insert(name, docs)  # type: ignore[arg-type]
    return store


class MongoSeed:
    """A throwaway database on the real server, seeded with pymongo's sync client."""

    def __init__(self, data: dict[str, list[dict]], uri: str | None = None) -> None:
        from pymongo import MongoClient

        self.name = f"job_gateway_test_{uuid.uuid4().hex[:12]}"
        self.uri = uri or require_mongodb()
        self.client: Any = MongoClient(self.uri, serverSelectionTimeoutMS=3000)
        self.fill(data)

    def fill(self, data: dict[str, list[dict]]) -> None:
        for coll, docs in data.items():
            if docs:
                self.client[self.name][coll].insert_many(docs)

    def drop(self) -> None:
        self.client.drop_database(self.name)
        self.client.close()


@pytest.fixture(params=[pytest.param("memory", id="memory"), engines.mongodb_param()])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def dataset_on_server() -> Iterator[MongoSeed]:
    """The test dataset on the server, seeded once for the run: the gateway only reads."""
    seed = MongoSeed(dataset())
    yield seed
    seed.drop()


@pytest.fixture
def make_client(engine: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """make_client(data=None, **settings) -> (TestClient, CountingStore) over ``engine``."""
    opened: list[Any] = []

    def make(
        data: dict[str, list[dict]] | None = None, *, raise_server_exceptions: bool = True, **overrides: Any
    ) -> tuple[TestClient, CountingStore]:
        overrides = {"max_time_ms": BUDGET_MS, **overrides}
        if engine == "memory":
            settings = Settings(**overrides)
            store = CountingStore(memory_with(dataset() if data is None else data, settings.max_time_ms))
        else:
            if data is None:
                seed = request.getfixturevalue("dataset_on_server")
            else:
                seed = MongoSeed(data)
                opened.append(seed)
            settings = Settings(mongodb_uri=seed.uri, database=seed.name, insecure_no_auth=True, **overrides)
            store = CountingStore(open_store(settings))
        client = TestClient(
            create_app(settings, store, clock=fixed_clock),  # type: ignore[arg-type]
            raise_server_exceptions=raise_server_exceptions,
        )
        client.__enter__()
        opened.append((client, store))
        return client, store

    yield make
    for item in reversed(opened):
        if isinstance(item, MongoSeed):
            item.drop()
            continue
        client, store = item
        # The app closes only the stores it opens; this one is closed on the app's loop.
        client.portal.call(store.close)
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Any) -> TestClient:
    return make_client()[0]


@pytest.fixture
async def service(engine: str, request: pytest.FixtureRequest) -> Any:
    """A JobService over the test dataset, on ``engine``, with the fixed clock."""
    if engine == "memory":
        yield JobService(memory_with(dataset()), clock=fixed_clock)
        return
    from gateway.store.mongo import MongoJobStore

    seed = request.getfixturevalue("dataset_on_server")
    store = MongoJobStore(seed.uri, database=seed.name, timeout_ms=BUDGET_MS)
    try:
        yield JobService(store, clock=fixed_clock)
    finally:
        await store.close()


# What a child process needs from the OS; everything else it gets is named by its test.
_OS_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")


def child_env(**variables: str) -> dict[str, str]:
    """The whole environment of a child process (a `job-gateway` command): the OS
    essentials, then exactly ``variables``; never the caller's MONGODB_URI or
    JOB_GATEWAY_* settings."""
    return {**{k: os.environ[k] for k in _OS_ENVIRONMENT if k in os.environ}, **variables}


@pytest.fixture(scope="session")
def published() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def gql(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()
