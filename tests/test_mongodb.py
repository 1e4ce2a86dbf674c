"""What only a real MongoDB server can show. The behaviour suite itself (operators,
query fields, statistics, both adapters) runs on a real server too, through the
`engine` parameter; this module adds the server-only checks. Skipped, with the reason,
when MONGODB_URI is not set."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.store.indexes import INDEXES, ensure_indexes
from gateway.store.mongo import MongoJobStore
from tests.conftest import MONGODB_URI, MongoSeed
from tests.dataset import dataset

pytestmark = [
    pytest.mark.mongodb,
    pytest.mark.anyio,
    pytest.mark.skipif(not MONGODB_URI, reason="needs a real MongoDB: set MONGODB_URI to run"),
]


@pytest.fixture
async def store() -> Any:
    seed = MongoSeed(dataset())
    store = MongoJobStore(MONGODB_URI or "", database=seed.name, max_time_ms=2000)
    try:
        yield store
    finally:
        await store.close()
        seed.drop()


async def test_ping_and_indexes_are_idempotent(store: MongoJobStore) -> None:
    await store.ping()
    names = {"job": "job", "collector": "collector"}
    first = await ensure_indexes(store.database, names)
    assert sum(line.startswith("created") for line in first) == len(INDEXES)
    assert all(line.startswith("exists") for line in await ensure_indexes(store.database, names))
