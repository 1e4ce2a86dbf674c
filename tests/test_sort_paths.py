"""Sorts on positional and dotted paths order as MongoDB orders them, on both engines.

A sort key is the index key of its path: a numeric part over an array indexes it and
nothing else (``a.0.b`` is the ``b`` of the first element only), an array found at that
index is one value compared whole, an array found as a field's value contributes its
smallest element ascending and its largest descending, and a path finding nothing
sorts as null. Expected orders are those of MongoDB's own jstests
(jstests/core/query/sort/sort_dotted_paths_numeric.js, without its ``undefined``
documents, a deprecated BSON type), and job-shaped cases derived from the same rule
(https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#arrays).
A part written with a leading zero (``a.00``) is a field name, never an index
(jstests/core/query/match_numeric_components.js; SERVER-31977).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gateway.store.memory import MemoryJobStore
from tests.conftest import MongoSeed, memory_with
from tests.engines import LEADING_ZERO_INDEX, mongodb_param

pytestmark = pytest.mark.anyio

MIXED = [  # sort_dotted_paths_numeric.js, first collection
    {"_id": 1, "a": 1},
    {"_id": 3, "a": None},
    {"_id": 4, "a": {}},
    {"_id": 5, "a": []},
    {"_id": 6, "a": [1]},
    {"_id": 7, "a": [[1]]},
    {"_id": 8},
]
PAIRS = [  # sort_dotted_paths_numeric.js, second collection
    {"_id": 1, "a": [{"b": [4, 1], "c": 1}, {"b": [1, 5], "c": 2}]},
    {"_id": 2, "a": [{"b": 2, "c": [1, 3]}, {"b": 4, "c": [2, 4]}]},
    {"_id": 3, "a": [{"b": [6, 4], "c": 1}, {"b": [9, 7], "c": 2}]},
    {"_id": 4, "a": [{"b": 4, "c": [1, 2]}, {"b": 5, "c": [3, 2]}]},
    {"_id": 5, "a": [{"b": [2, 3], "c": 1}, {"b": [7, 6], "c": 3}]},
    {"_id": 6, "a": [{"b": 5, "c": []}, {"b": 3, "c": 3}]},
    {"_id": 7, "a": [{"b": [], "c": 2}, {"b": 2, "c": 3}]},
    {"_id": 8, "a": [{"b": 3, "c": [2]}, {"b": 8, "c": [3]}]},
    {"_id": 9, "a": [{"b": [8], "c": 2}, {"b": [6], "c": 3}]},
]
ERRORS = [  # jobs' errors: the first error's code decides, whatever the others hold
    {"_id": 1, "errors": [{"error_code": "B"}, {"error_code": "A"}]},
    {"_id": 2, "errors": [{"message": "no code"}, {"error_code": "A"}]},
    {"_id": 3, "errors": []},
    {"_id": 4, "errors": None},
    {"_id": 5},
    {"_id": 6, "errors": [{"error_code": "C"}]},
    {"_id": 7, "errors": [{"error_code": ["D", "0"]}]},
]
ZEROS = [  # "a.00" names a field "00"
    {"_id": 1, "a": [5, 1]},
    {"_id": 2, "a": {"00": 3}},
    {"_id": 3, "a": [{"00": 2}, {"00": 9}]},
    {"_id": 4, "a": {"0": 1}},
]

CASES = [
    ("MIXED", {"a.0": 1, "_id": 1}, [1, 3, 4, 5, 8, 6, 7]),
    ("MIXED", {"a.0": -1, "_id": 1}, [7, 6, 1, 3, 4, 5, 8]),
    ("PAIRS", {"a.0.b": 1, "_id": 1}, [7, 1, 2, 5, 8, 3, 4, 6, 9]),
    ("PAIRS", {"a.0.b": 1, "_id": -1}, [7, 1, 5, 2, 8, 4, 3, 6, 9]),
    ("PAIRS", {"a.0.b": -1, "_id": 1}, [9, 3, 6, 1, 4, 5, 8, 2, 7]),
    ("PAIRS", {"a.0.b": -1, "_id": -1}, [9, 3, 6, 4, 1, 8, 5, 2, 7]),
    # Without the index every element's b counts: 6 holds 3, 1 holds 1.
    ("PAIRS", {"a.b": 1, "_id": 1}, [7, 1, 2, 5, 6, 8, 3, 4, 9]),
    # 2's first error has no code (null), below every string; 3, 4, 5 have no first error.
    ("ERRORS", {"errors.0.error_code": 1, "_id": 1}, [2, 3, 4, 5, 7, 1, 6]),
    ("ERRORS", {"errors.0.error_code": -1, "_id": 1}, [7, 6, 1, 2, 3, 4, 5]),
    ("ZEROS", {"a.00": 1, "_id": 1}, [1, 4, 3, 2], LEADING_ZERO_INDEX),
    ("ZEROS", {"a.00": -1, "_id": 1}, [3, 2, 1, 4], LEADING_ZERO_INDEX),
]
DATA = {"MIXED": MIXED, "PAIRS": PAIRS, "ERRORS": ERRORS, "ZEROS": ZEROS}


@pytest.fixture(scope="module", params=[pytest.param("memory", id="memory"), mongodb_param()])
def stores(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """One store per collection of documents above, on the engine."""
    if request.param == "memory":
        yield {name: memory_with({"job": [dict(d) for d in docs]}) for name, docs in DATA.items()}
        return
    seeds = {name: MongoSeed({"job": [dict(d) for d in docs]}) for name, docs in DATA.items()}
    try:
        yield {name: seed for name, seed in seeds.items()}
    finally:
        for seed in seeds.values():
            seed.drop()


@asynccontextmanager
async def _store(stores: dict[str, Any], name: str) -> AsyncIterator[Any]:
    """The engine's store over collection ``name`` (a wire client closed after)."""
    seed = stores[name]
    if isinstance(seed, MemoryJobStore):
        yield seed
        return
    from gateway.store.mongo import MongoJobStore

    wire = MongoJobStore(seed.uri, database=seed.name)
    try:
        yield wire
    finally:
        await wire.close()


def _cases() -> list[Any]:
    return [
        pytest.param(data, sort, expected, id=f"{data} {sort}", marks=[d.mark for d in deviations])
        for data, sort, expected, *deviations in CASES
    ]


@pytest.mark.parametrize(("data", "sort", "expected"), _cases())
async def test_sort_order(stores: dict[str, Any], data: str, sort: dict[str, int], expected: list[int]) -> None:
    async with _store(stores, data) as store:
        found = await store.find("job", {}, projection={"_id": 1}, sort=list(sort.items()))
        assert [d["_id"] for d in found] == expected
        piped = await store.aggregate("job", [{"$sort": sort}, {"$project": {"_id": 1}}])
        assert [d["_id"] for d in piped] == expected
        limited = await store.find("job", {}, projection={"_id": 1}, sort=list(sort.items()), limit=3)
        assert [d["_id"] for d in limited] == expected[:3]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"a.0": 5}, [1]),  # an index
        pytest.param({"a.00": 5}, [], marks=LEADING_ZERO_INDEX.mark),  # a field name no element of [5, 1] has
        ({"a.00": 2}, [3]),
        ({"a.00": 3}, [2]),
        ({"a.0": 1}, [4]),  # a field named "0" of a sub-document; [5, 1]'s first element is 5
    ],
    ids=str,
)
async def test_leading_zero_is_a_field_name_in_a_filter(
    stores: dict[str, Any], filter: dict[str, Any], expected: list[int]
) -> None:
    async with _store(stores, "ZEROS") as store:
        found = await store.find("job", filter, projection={"_id": 1})
        assert sorted(d["_id"] for d in found) == expected
        assert await store.count("job", filter) == len(expected)
