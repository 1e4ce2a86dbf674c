"""The embedded engine as a store: MongoDB's answers on stages whose empty or edge
inputs differ from a naive evaluation, refusals as client errors, documents stored as
MongoDB stores them."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.errors import InvalidQuery, QueryRejected, UnsupportedByEngine
from gateway.store.memory import MemoryJobStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def store() -> MemoryJobStore:
    store = MemoryJobStore()
    store.insert("job", [{"n": 1, "at": datetime(2024, 1, 2, 3, 4, 5, 67890)}, {"n": 2}])
    return store


async def test_count_of_nothing_is_no_row(store: MemoryJobStore) -> None:
    # https://www.mongodb.com/docs/manual/reference/operator/aggregation/count/: no document, no output.
    assert await store.aggregate("job", [{"$match": {"n": 9}}, {"$count": "c"}]) == []
    assert await store.aggregate("job", [{"$count": "c"}]) == [{"c": 2}]


async def test_group_by_null_of_nothing_is_no_row(store: MemoryJobStore) -> None:
    assert await store.aggregate("job", [{"$match": {"n": 9}}, {"$group": {"_id": None, "s": {"$sum": "$n"}}}]) == []
    assert await store.aggregate("job", [{"$group": {"_id": None, "s": {"$sum": "$n"}}}]) == [{"_id": None, "s": 3}]
    facet = await store.aggregate("job", [{"$match": {"n": 9}}, {"$facet": {"t": [{"$count": "c"}]}}])
    assert facet == [{"t": []}]


async def test_dates_are_stored_to_the_millisecond(store: MemoryJobStore) -> None:
    rows = await store.aggregate(
        "job", [{"$project": {"_id": 0, "s": {"$dateToString": {"format": "%L|%Y-%m-%dT%H:%M:%S.%LZ", "date": "$at"}}}}]
    )
    assert rows == [{"s": "067|2024-01-02T03:04:05.067Z"}, {"s": None}]
    (found,) = await store.find("job", {"n": 1}, projection={"_id": 0, "at": 1})
    assert found == {"at": datetime(2024, 1, 2, 3, 4, 5, 67000)}


async def test_an_id_is_given_to_each_document(store: MemoryJobStore) -> None:
    found = await store.find("job", {}, projection={"_id": 1})
    assert len({row["_id"] for row in found}) == 2


async def test_unknown_operators_are_rejected_queries(store: MemoryJobStore) -> None:
    with pytest.raises(QueryRejected) as caught:
        await store.find("job", {"n": {"$bogus": 1}})
    assert caught.value.code == "ERROR_DB_QUERY"


async def test_operators_the_engine_lacks_are_refused_by_name(store: MemoryJobStore) -> None:
    with pytest.raises(UnsupportedByEngine, match=r"\$where"):
        await store.find("job", {"$where": "true"})
    with pytest.raises(UnsupportedByEngine, match=r"\$bucket"):
        await store.aggregate("job", [{"$bucket": {"groupBy": "$n", "boundaries": [0, 5]}}])
    assert issubclass(UnsupportedByEngine, InvalidQuery)


async def test_results_are_copies(store: MemoryJobStore) -> None:
    (first,) = await store.find("job", {"n": 1}, projection={"_id": 0})
    first["n"] = 99
    assert await store.count("job", {"n": 99}) == 0
