"""Condition values are data: an object with `$`-prefixed keys, at any depth, is matched
as that literal object by every operator that takes objects - `eq`, `not`, `in`,
`not_in`, `match`, in `filter` and `filter_or`, in a statistics query's filter and its
stage conditions, and in GraphQL's typed `where` - on both engines (docs/mongodb.md,
"Object and list values in conditions are literals"; contract section 3.2: "an object
value matches that exact object, never acts as an operator")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import gql
from tests.dataset import D1, D1_JOB_IDS, dataset
from tests.engines import OBJECT_FIELD_ORDER, WHERE_IN_MATCH

J1, J2, JABCD, JOLD, J7 = (
    "job-000000000001",
    "job-000000000002",
    "job-00000000abcd",
    "job-0000000old04",
    "job-000000000007",
)

# Names MongoDB reads as operators somewhere (query, expression, stage); none may act as one.
KEYS = ["$where", "$expr", "$text", "$ne", "$in", "$function", "$jsonSchema", "$comment", "$near", "$literal"]
# The same, for a test whose values reach an aggregation `$match` (a list's count, a statistics filter).
IN_MATCH = [pytest.param(k, marks=WHERE_IN_MATCH.mark) if k == "$where" else k for k in KEYS]


def _data(key: str) -> dict[str, list[dict[str, Any]]]:
    """The test dataset with `key` stored as data: first, later, nested, in an array, in a sub-document."""
    stored = {
        J1: {"filters": {key: "1"}},
        J2: {"filters": {"region": "eu", key: "1"}},
        JABCD: {"filters": {"inner": {key: "1"}}},
        J7: {"filters": {"labels": [{key: "1"}, "x"]}},
        JOLD: {"errors": [{"error_code": "ERROR_TIMEOUT", "message": "m", "additional": {key: "1"}}]},
    }
    data = dataset()
    for job in data["job"]:
        job.update(stored.get(job["job_id"], {}))
    return data


def _counted(name: str, operator: str, value: Any) -> dict[str, Any]:
    """A `count` field over the rows whose `filters` satisfy one condition."""
    condition = {"key": "filters", "value": value, "operator": operator}
    return {"name": name, "operator": "count", "conditions": [condition]}


def _search(client: Any, query: dict[str, Any]) -> set[str]:
    response = client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == len(body["results"])  # counted by the database too
    return {job["job_id"] for job in body["results"]}


@pytest.mark.parametrize("key", IN_MATCH)
def test_filters_match_operator_like_objects_literally(make_client: Any, key: str) -> None:
    client, _ = make_client(_data(key))

    def ids(k: str, operator: str, value: Any) -> set[str]:
        return _search(client, {"filter": [{"k": k, "v": value, "o": operator}]})

    literal = {key: "1"}
    assert ids("filters", "eq", literal) == {J1}
    assert ids("filters", "eq", {"region": "eu", key: "1"}) == {J2}
    assert ids("filters", "eq", {key: "1", "region": "eu"}) == set()  # fields compare in order
    assert ids("filters", "not", literal) == D1_JOB_IDS - {J1}
    assert ids("filters", "in", ["x", literal]) == {J1}
    assert ids("filters", "in", [{"region": "eu", key: "1"}, {key: "2"}]) == {J2}
    assert ids("filters", "not_in", [literal, {"region": "eu", key: "1"}]) == D1_JOB_IDS - {J1, J2}
    assert ids("filter.inner", "eq", literal) == {JABCD}
    assert ids("filters", "eq", {"inner": literal}) == {JABCD}
    assert ids("filter.labels", "eq", literal) == ids("filter.labels", "in", [literal]) == {J7}
    assert ids("errors", "match", {"additional": literal}) == {JOLD}
    assert ids("errors", "match", {"additional": {key: "2"}}) == set()
    either = [{"k": "filters", "v": literal, "o": "eq"}, {"k": "status", "v": "ERROR", "o": "eq"}]
    assert _search(client, {"filter_or": either}) == {J1, J2}


@pytest.mark.parametrize("key", IN_MATCH)
def test_a_statistics_filter_matches_operator_like_objects_literally(make_client: Any, key: str) -> None:
    client, _ = make_client(_data(key))
    query = {
        "filter": [{"k": "filters", "v": [{key: "1"}, {"inner": {key: "1"}}], "o": "in"}],
        "aggregate": [{"group": {"keys": [{"key": "job_id", "name": "job"}]}}, {"sort": {"key": "job"}}],
    }
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"job": J1}, {"job": JABCD}]


@pytest.mark.parametrize("key", KEYS)
def test_statistics_conditions_compare_operator_like_objects_literally(make_client: Any, key: str) -> None:
    # Stage conditions are expressions over {"$literal": value}, never inside a $match.
    client, _ = make_client(_data(key))

    fields = [
        _counted("same", "eq", {key: "1"}),
        _counted("other", "not", {key: "1"}),
        _counted("later", "eq", {"region": "eu", key: "1"}),
        _counted("nested", "eq", {"inner": {key: "1"}}),
        _counted("none", "eq", {key: "2"}),
    ]
    query = {"aggregate": [{"group": {"fields": fields}}]}
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"same": 1, "other": 6, "later": 1, "nested": 1, "none": 0}]


@pytest.mark.parametrize("key", IN_MATCH)
def test_graphql_where_matches_operator_like_objects_literally(make_client: Any, key: str) -> None:
    client, _ = make_client(_data(key))

    def ids(comparison: dict[str, Any]) -> set[str]:
        body = gql(
            client,
            f'query($w: JobWhere) {{ jobs(domainId: "{D1}", where: $w) {{ totalCount results {{ jobId }} }} }}',
            {"w": {"filter": [{"path": "inner", **comparison}]}},
        )
        assert "errors" not in body, body
        jobs = body["data"]["jobs"]
        assert jobs["totalCount"] == len(jobs["results"])
        return {r["jobId"] for r in jobs["results"]}

    literal = {key: "1"}
    assert ids({"eq": literal}) == ids({"in": [literal, "x"]}) == {JABCD}
    assert ids({"ne": literal}) == ids({"notIn": [literal]}) == D1_JOB_IDS - {JABCD}


@OBJECT_FIELD_ORDER.mark
def test_statistics_conditions_compare_object_fields_in_order(make_client: Any) -> None:
    """MongoDB compares two objects field by field, in order: {"b": 2, "$ne": 1} is not
    {"$ne": 1, "b": 2} (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#objects)."""
    data = dataset()
    for job in data["job"]:
        if job["job_id"] == J1:
            job["filters"] = {"$ne": 1, "b": 2}
    client, _ = make_client(data)

    fields = [
        _counted("stored_order", "eq", {"$ne": 1, "b": 2}),
        _counted("other_order", "eq", {"b": 2, "$ne": 1}),
        _counted("not_other_order", "not", {"b": 2, "$ne": 1}),
    ]
    query = {"aggregate": [{"group": {"fields": fields}}]}
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"stored_order": 1, "other_order": 0, "not_other_order": 7}]
