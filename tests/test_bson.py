"""Everything the compiler hands the store must be encodable as BSON, as pymongo will
send it to a real server (the embedded engine would accept Python objects BSON cannot
carry, so this is checked here, on every operator and stage)."""

from __future__ import annotations

from typing import Any

import bson
import pytest

from gateway.service import JobService
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset
from tests.operator_cases import CASES, COLLECTOR_CASES
from tests.stages import COUNT, group

pytestmark = pytest.mark.anyio


class BSONCheckingStore:
    def __init__(self) -> None:
        self.inner = memory_with(dataset())
        self.encoded = 0

    def _check(self, **parts: Any) -> None:
        bson.encode({k: list(v) if isinstance(v, tuple) else v for k, v in parts.items() if v is not None})
        self.encoded += 1

    async def find(self, collection: str, filter: Any, **kwargs: Any) -> Any:
        self._check(
            filter=filter, projection=kwargs.get("projection"), sort=[list(s) for s in kwargs.get("sort") or ()]
        )
        return await self.inner.find(collection, filter, **kwargs)  # type: ignore[arg-type]

    async def count(self, collection: str, filter: Any) -> Any:
        self._check(filter=filter)
        return await self.inner.count(collection, filter)  # type: ignore[arg-type]

    async def aggregate(self, collection: str, pipeline: Any, **kwargs: Any) -> Any:
        self._check(pipeline=pipeline)
        return await self.inner.aggregate(collection, pipeline, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def checked() -> tuple[JobService, BSONCheckingStore]:
    store = BSONCheckingStore()
    return JobService(store, clock=fixed_clock), store  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "operator", "value", "expected"), CASES + COLLECTOR_CASES)
async def test_every_operator_encodes(checked: Any, key: str, operator: str, value: Any, expected: set[str]) -> None:
    service, store = checked
    request = {
        "domain_id": D1,
        "query": {
            "filter": [{"k": key, "v": value, "o": operator}],
            "sort": {"key": "created_at"},
            "only": ["job_id", "filter.region"],
        },
    }
    page = await service.list_jobs(request)
    assert {j["job_id"] for j in page.jobs} == expected
    assert store.encoded >= 2


async def test_statistics_pipelines_encode(checked: Any) -> None:
    service, store = checked
    queries = [
        {
            "filter": [{"k": "collector_info.provider", "v": "aws", "o": "not"}],
            "aggregate": [
                group(
                    [
                        {"key": "collector_info.provider", "name": "p"},
                        {"key": "created_at", "name": "d", "date_format": "%Y-%m-%d"},
                    ],
                    [
                        COUNT,
                        {
                            "name": "c",
                            "operator": "sum",
                            "key": "total_tasks",
                            "conditions": [{"key": "status", "value": "$x", "operator": "eq"}],
                        },
                    ],
                ),
                {
                    "project": {
                        "fields": [
                            {
                                "name": "r",
                                "operator": "divide",
                                "fields": ["c", {"operator": "add", "fields": ["count", 1.5]}],
                            }
                        ]
                    }
                },
                {"sort": {"key": "r", "desc": True}},
                {"skip": 1},
                {"limit": 2},
            ],
            "page": {"start": 1, "limit": 5},
        },
        {"keyword": "job", "distinct": "errors.error_code", "page": {"limit": 2}},
        {"aggregate": [{"unwind": {"path": "errors"}}, {"count": {"name": "n"}}]},
    ]
    for query in queries:
        await service.stat({"query": query, "domain_id": D1})
    # One pipeline per query, and one collector query for the `collector_info` condition.
    assert store.encoded == len(queries) + 1


async def test_list_sorted_by_a_collector_field_encodes(checked: Any) -> None:
    service, store = checked
    page = await service.list_jobs(
        {"domain_id": D1, "query": {"sort": {"key": "collector_info.name", "desc": True}, "page": {"limit": 2}}}
    )
    assert [j["job_id"] for j in page.jobs] == ["job-0000000old04", "job-000000000002"]
    assert store.encoded == 2
