"""The embedded engine's rewrites: where mongomock differs from MongoDB, the adapter
rewrites the pipeline so both engines answer the same."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.store.memory import MemoryJobStore, rewrite_pipeline

pytestmark = pytest.mark.anyio


@pytest.fixture
def store() -> MemoryJobStore:
    store = MemoryJobStore()
    store.insert("job", [{"n": 1, "at": datetime(2024, 1, 2, 3, 4, 5, 67000)}, {"n": 2}])
    return store


async def test_count_of_nothing_is_no_row(store: MemoryJobStore) -> None:
    assert await store.aggregate("job", [{"$match": {"n": 9}}, {"$count": "c"}]) == []
    assert await store.aggregate("job", [{"$count": "c"}]) == [{"c": 2}]


async def test_group_by_null_of_nothing_is_no_row(store: MemoryJobStore) -> None:
    assert await store.aggregate("job", [{"$match": {"n": 9}}, {"$group": {"_id": None, "s": {"$sum": "$n"}}}]) == []
    assert await store.aggregate("job", [{"$group": {"_id": None, "s": {"$sum": "$n"}}}]) == [{"_id": None, "s": 3}]
    facet = await store.aggregate("job", [{"$match": {"n": 9}}, {"$facet": {"t": [{"$count": "c"}]}}])
    assert facet == [{"t": []}]


async def test_milliseconds_in_date_formats(store: MemoryJobStore) -> None:
    rows = await store.aggregate(
        "job", [{"$project": {"_id": 0, "s": {"$dateToString": {"format": "%L|%Y-%m-%dT%H:%M:%S.%LZ", "date": "$at"}}}}]
    )
    assert rows == [{"s": "067|2024-01-02T03:04:05.067Z"}, {"s": None}]


def test_rewrite_leaves_other_stages_alone() -> None:
    stages = [{"$match": {"a": 1}}, {"$group": {"_id": "$a", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}]
    assert rewrite_pipeline(stages) == stages


async def test_rejected_queries_are_client_errors(store: MemoryJobStore) -> None:
    from gateway.errors import InvalidQuery

    with pytest.raises(InvalidQuery) as caught:
        await store.find("job", {"n": {"$bogus": 1}})
    assert caught.value.code == "ERROR_DB_QUERY"


def test_null_range_rewrite_leaves_literals_alone() -> None:
    from gateway.store.memory import rewrite_filter

    query = {"$and": [{"a": {"$lte": None}}, {"b": {"$eq": {"$lte": None}}}, {"c": {"$in": [{"$gte": None}]}}]}
    assert rewrite_filter(query) == {
        "$and": [{"a": {"$eq": None}}, {"b": {"$eq": {"$lte": None}}}, {"c": {"$in": [{"$gte": None}]}}]
    }
