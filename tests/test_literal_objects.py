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

J1, J2, JABCD, JOLD, JC6, J7 = (
    "job-000000000001",
    "job-000000000002",
    "job-00000000abcd",
    "job-0000000old04",
    "job-0000000000c6",
    "job-000000000007",
)
AWS_JOBS = {J1, JABCD, JC6, J7}  # D1's jobs of its AWS collector

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
    data["collector"][0]["tags"] = {key: "1"}  # D1's AWS collector
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
    # Conditions on a job's collector select among the collectors first (contract section 3.2).
    assert ids("collector_info.tags", "eq", literal) == ids("collector_info.tags", "in", [literal]) == AWS_JOBS
    assert ids("collector_info.tags", "not", literal) == D1_JOB_IDS - AWS_JOBS
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


def _in_two_orders() -> dict[str, list[dict[str, Any]]]:
    """The dataset with J1's and J2's `filters` the same fields in two orders."""
    data = dataset()
    for job in data["job"]:
        if job["job_id"] in (J1, J2):
            job["filters"] = {"a": 1, "b": 2} if job["job_id"] == J1 else {"b": 2, "a": 1}
    return data


BOTH = [{"k": "job_id", "v": [J1, J2], "o": "in"}]


@OBJECT_FIELD_ORDER.mark
def test_group_keys_that_are_objects_differ_by_field_order(make_client: Any) -> None:
    """Two group keys are the same value only when equal as BSON, fields in order."""
    client, _ = make_client(_in_two_orders())
    group = {"keys": [{"key": "filters", "name": "f"}], "fields": [{"name": "n", "operator": "count"}]}
    query = {"filter": BOTH, "aggregate": [{"group": group}, {"sort": {"key": "f"}}]}
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"f": {"a": 1, "b": 2}, "n": 1}, {"f": {"b": 2, "a": 1}, "n": 1}]


@OBJECT_FIELD_ORDER.mark
def test_distinct_objects_differ_by_field_order(make_client: Any) -> None:
    client, _ = make_client(_in_two_orders())
    query = {"filter": BOTH, "distinct": "filters"}
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"a": 1, "b": 2}, {"b": 2, "a": 1}]
