"""Shared fixtures: one behaviour suite over both engines (the embedded one always;
a real MongoDB when MONGODB_URI is set), and a store that counts its calls."""

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
from gateway.store.memory import MemoryJobStore
from tests.dataset import NOW, dataset

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "gateway" / "demo" / "seed_jobs.json"
MONGODB_URI = os.environ.get("MONGODB_URI")


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


def memory_with(data: dict[str, list[dict]]) -> MemoryJobStore:
    store = MemoryJobStore()
    for name, docs in data.items():
        store.insert(name, docs)  # type: ignore[arg-type]
    return store


class MongoSeed:
    """A throwaway database on the real server, seeded with pymongo's sync client."""

    def __init__(self, data: dict[str, list[dict]]) -> None:
        from pymongo import MongoClient

        self.name = f"job_gateway_test_{uuid.uuid4().hex[:12]}"
        self.client: Any = MongoClient(MONGODB_URI, serverSelectionTimeoutMS=3000)
        for coll, docs in data.items():
            if docs:
                self.client[self.name][coll].insert_many(docs)

    def drop(self) -> None:
        self.client.drop_database(self.name)
        self.client.close()


ENGINES = [
    pytest.param("memory", id="memory"),
    pytest.param(
        "mongodb",
        id="mongodb",
        marks=[
            pytest.mark.mongodb,
            pytest.mark.skipif(not MONGODB_URI, reason="needs a real MongoDB: set MONGODB_URI to run"),
        ],
    ),
]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_client(engine: str) -> Iterator[Any]:
    """make_client(data=None, **settings) -> (TestClient, CountingStore | None) over ``engine``."""
    opened: list[Any] = []

    def make(
        data: dict[str, list[dict]] | None = None, *, raise_server_exceptions: bool = True, **overrides: Any
    ) -> tuple[TestClient, CountingStore | None]:
        data = dataset() if data is None else data
        if engine == "memory":
            store = CountingStore(memory_with(data))
            app = create_app(Settings(**overrides), store, clock=fixed_clock)  # type: ignore[arg-type]
        else:
            seed = MongoSeed(data)
            opened.append(seed)
            settings = Settings(mongodb_uri=MONGODB_URI, database=seed.name, insecure_no_auth=True, **overrides)
            app, store = create_app(settings, clock=fixed_clock), None
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        opened.append(client)
        return client, store

    yield make
    for item in reversed(opened):
        if isinstance(item, TestClient):
            item.__exit__(None, None, None)
        else:
            item.drop()


@pytest.fixture
def client(make_client: Any) -> TestClient:
    return make_client()[0]


@pytest.fixture
async def service(engine: str) -> Any:
    """A JobService over the test dataset, on ``engine``, with the fixed clock."""
    if engine == "memory":
        yield JobService(memory_with(dataset()), clock=fixed_clock)
        return
    from gateway.store.mongo import MongoJobStore

    seed = MongoSeed(dataset())
    store = MongoJobStore(MONGODB_URI or "", database=seed.name)
    try:
        yield JobService(store, clock=fixed_clock)
    finally:
        await store.close()
        seed.drop()


@pytest.fixture(scope="session")
def published() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def gql(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()
