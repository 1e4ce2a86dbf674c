"""What only a MongoDB server can show. The behaviour suite itself (operators, query
fields, statistics, both adapters) runs on the server too, through the `engine`
parameter; this module adds the server-only checks (see tests/engines.py for when they
run)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from gateway.store.indexes import INDEXES, ensure_indexes
from gateway.store.mongo import MongoJobStore
from tests.conftest import MongoSeed, child_env
from tests.dataset import dataset
from tests.engines import MONGODB_MARKS

pytestmark = [*MONGODB_MARKS, pytest.mark.anyio]


@pytest.fixture
def seed() -> Any:
    seed = MongoSeed(dataset())
    yield seed
    seed.drop()


@pytest.fixture
async def store(seed: MongoSeed) -> Any:
    store = MongoJobStore(seed.uri, database=seed.name)
    yield store
    await store.close()


async def test_ping_and_indexes_are_idempotent(store: MongoJobStore) -> None:
    await store.ping()
    names = {"job": "job", "collector": "collector"}
    first = await ensure_indexes(store.database, names)
    assert sum(line.startswith("created") for line in first) == len(INDEXES)
    assert all(line.startswith("exists") for line in await ensure_indexes(store.database, names))


def test_create_indexes_command_is_idempotent(seed: MongoSeed) -> None:
    env = child_env(MONGODB_URI=seed.uri, JOB_GATEWAY_DATABASE=seed.name, JOB_GATEWAY_INSECURE_NO_AUTH="1")

    def create_indexes() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "create-indexes"],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    first = create_indexes()
    assert [line.split()[0] for line in first] == ["created"] * len(INDEXES)
    on_server = {
        (spec.collection, spec.keys)
        for spec in INDEXES
        for info in seed.client[seed.name][spec.collection].index_information().values()
        if tuple(tuple(k) for k in info["key"]) == spec.keys and info.get("unique", False) == spec.unique
    }
    assert len(on_server) == len(INDEXES)
    assert [line.split()[0] for line in create_indexes()] == ["exists"] * len(INDEXES)
