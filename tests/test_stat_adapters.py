"""Statistics through both adapters: the REST stat route and GraphQL `jobStat` answer
the same rows, and bad stages are client errors naming the stage."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import gql
from tests.dataset import D1

STAT = "/inventory/v1/jobs/stat"
PER_STATUS = {
    "filter": [{"k": "status", "v": ["SUCCESS", "ERROR"], "o": "in"}],
    "aggregate": [
        {
            "group": {
                "keys": [{"key": "status", "name": "status"}],
                "fields": [
                    {"name": "n", "operator": "count"},
                    {"name": "tasks", "operator": "sum", "key": "total_tasks"},
                ],
            }
        },
        {"sort": {"key": "status"}},
    ],
    "page": {"start": 1, "limit": 1},
}
EXPECTED = {"results": [{"status": "ERROR", "n": 1, "tasks": 5}], "total_count": 2}

GQL = """
query($d: String, $q: StatisticsQueryInput!) { jobStat(domainId: $d, query: $q) }
"""
# GraphQL takes the same shape: conditions accept k/v/o, the stage keys are the same.
GQL_PER_STATUS = PER_STATUS


def test_rest_stat(client: Any) -> None:
    response = client.post(STAT, json={"domain_id": D1, "query": PER_STATUS})
    assert response.status_code == 200
    assert response.json() == EXPECTED
    distinct = client.post(STAT, json={"domain_id": D1, "query": {"distinct": "projects"}}).json()
    assert distinct == {"results": ["project-a", "project-b"]}


def test_graphql_job_stat(client: Any) -> None:
    assert gql(client, GQL, {"d": D1, "q": GQL_PER_STATUS})["data"]["jobStat"] == EXPECTED
    every_stage = {
        "aggregate": [
            {"unwind": {"path": "projects"}},
            {
                "group": {
                    "keys": [
                        {"key": "projects", "name": "project"},
                        {"key": "created_at", "name": "month", "dateFormat": "month"},
                    ],
                    "fields": [
                        {"name": "jobs", "operator": "push", "fields": [{"key": "job_id", "name": "id"}]},
                        {
                            "name": "n",
                            "operator": "count",
                            "conditions": [{"key": "total_tasks", "operator": "gt", "value": 1}],
                        },
                    ],
                }
            },
            {
                "project": {
                    "fields": [
                        {"key": "jobs", "name": "size", "operator": "size"},
                        {"name": "twice", "operator": "multiply", "fields": ["n", 2]},
                    ],
                    "excludeKeys": False,
                }
            },
            {"sort": {"keys": [{"key": "project", "desc": False}, {"key": "month"}]}},
            {"skip": 0},
            {"limit": 5},
        ]
    }
    rows = gql(client, GQL, {"d": D1, "q": every_stage})["data"]["jobStat"]["results"]
    assert rows == [
        {"project": "project-a", "month": 5, "size": 2, "twice": 4},
        {"project": "project-b", "month": 4, "size": 1, "twice": 0},
        {"project": "project-b", "month": 5, "size": 1, "twice": 2},
    ]
    count = gql(client, GQL, {"d": D1, "q": {"aggregate": [{"count": {"name": "n"}}]}})
    assert count["data"]["jobStat"] == {"results": [{"n": 7}]}


@pytest.mark.parametrize(
    ("query", "code", "mentions"),
    [
        ({"aggregate": [{"bucket": {}}]}, "ERROR_REQUIRED_PARAMETER", 'names no stage (unknown: ["bucket"])'),
        ({"aggregate": [{"group": {}}]}, "ERROR_REQUIRED_PARAMETER", "group needs keys or fields"),
        ({"aggregate": [{"limit": "x"}]}, "ERROR_INVALID_PARAMETER_TYPE", "limit"),
        ({}, "ERROR_REQUIRED_PARAMETER", "aggregate"),
    ],
)
def test_rest_stat_errors(client: Any, query: dict[str, Any], code: str, mentions: str) -> None:
    response = client.post(STAT, json={"domain_id": D1, "query": query})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and mentions in response.json()["error"]["message"]


def test_rest_stat_needs_query_and_domain(client: Any) -> None:
    assert client.post(STAT, json={"domain_id": D1}).json()["error"]["code"] == "ERROR_REQUIRED_PARAMETER"
    assert (
        client.post(STAT, json={"query": {"distinct": "status"}}).json()["error"]["code"] == "ERROR_REQUIRED_PARAMETER"
    )
    # A field the published message does not have is ignored, as the published gateway does.
    assert client.post(STAT, json={"domain_id": D1, "query": {"distinct": "status"}, "x": 1}).status_code == 200


def test_graphql_stat_errors(client: Any) -> None:
    body = gql(client, GQL, {"d": D1, "q": {"aggregate": [{"group": {"fields": [{"name": "t", "operator": "sum"}]}}]}})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_REQUIRED_PARAMETER"}
    assert 'operator "sum" needs a key' in body["errors"][0]["message"]
    # @oneOf: a stage with two keys is refused by GraphQL itself.
    body = gql(client, GQL, {"d": D1, "q": {"aggregate": [{"limit": 1, "skip": 1}]}})
    assert body["errors"] and "exactly one" in body["errors"][0]["message"].lower()
