"""What only a MongoDB server can show. The behaviour suite itself (operators, query
fields, statistics, both adapters) runs on the server too, through the `engine`
parameter; this module adds the server-only checks (see tests/engines.py for when they
run)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.store.indexes import INDEXES, ensure_indexes
from gateway.store.mongo import MongoJobStore
from tests.conftest import BUDGET_MS, MongoSeed, child_env
from tests.dataset import dataset
from tests.engines import MONGODB_MARKS
from tests.processes import run_gateway

pytestmark = [*MONGODB_MARKS, pytest.mark.anyio]


@pytest.fixture
def seed() -> Any:
    seed = MongoSeed(dataset())
    yield seed
    seed.drop()


@pytest.fixture
async def store(seed: MongoSeed) -> Any:
    store = MongoJobStore(seed.uri, database=seed.name, timeout_ms=BUDGET_MS)
    yield store
    await store.close()


async def test_ping_and_indexes_are_idempotent(store: MongoJobStore) -> None:
    await store.ping()
    names = {"job": "job", "collector": "collector"}
    first = await ensure_indexes(store.database, names)
    assert sum(line.startswith("created") for line in first) == len(INDEXES)
    assert all(line.startswith("exists") for line in await ensure_indexes(store.database, names))


def _create_indexes(seed: MongoSeed) -> list[str]:
    """`job-gateway create-indexes` against ``seed``'s database: its report's lines."""
    env = child_env(MONGODB_URI=seed.uri, JOB_GATEWAY_DATABASE=seed.name, JOB_GATEWAY_INSECURE_NO_AUTH="1")
    done = run_gateway("create-indexes", env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_create_indexes_command_is_idempotent(seed: MongoSeed) -> None:
    first = _create_indexes(seed)
    assert [line.split()[0] for line in first] == ["created"] * len(INDEXES)
    on_server = {
        (spec.collection, spec.keys)
        for spec in INDEXES
        for info in seed.client[seed.name][spec.collection].index_information().values()
        if tuple(tuple(k) for k in info["key"]) == spec.keys and info.get("unique", False) == spec.unique
    }
    assert len(on_server) == len(INDEXES)
    assert [line.split()[0] for line in _create_indexes(seed)] == ["exists"] * len(INDEXES)


def test_create_indexes_says_when_an_index_on_the_same_keys_is_not_unique(seed: MongoSeed) -> None:
    """An existing non-unique job_id index serves queries but is not the unique index the
    README's table lists: a warning, on every run, and the index is left as it is."""
    jobs = seed.client[seed.name]["job"]
    jobs.create_index([("job_id", 1)], name="job_id_1")
    for others in ("created", "exists"):
        lines = _create_indexes(seed)
        assert lines[0].startswith("warning  job (job_id asc) as job_id_1 is not unique;"), lines
        assert [line.split()[0] for line in lines[1:]] == [others] * (len(INDEXES) - 1)
    assert not jobs.index_information()["job_id_1"].get("unique")
