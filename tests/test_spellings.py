"""The published language as its clients write it (proto3 JSON): short names wherever
the published messages declare them, lowerCamelCase field names, numbers as strings
or integral floats, enums by number, booleans as JSON booleans only, and unknown
fields ignored (logged once each) unless the strict setting refuses them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.dataset import D1, J1, J2, J7, JABCD, JC6, JGONE, JOLD
from tests.routes import answer

NEWEST_FIRST = [JC6, J1, J7, J2, JABCD, JGONE, JOLD]
SEARCH, STAT = "/inventory/v1/jobs/search", "/inventory/v1/jobs/stat"

LONG = {
    "aggregate": [
        {
            "group": {
                "keys": [{"key": "status", "name": "status"}],
                "fields": [
                    {"name": "n", "operator": "count", "conditions": [{"key": "total_tasks", "value": 1, "operator": "gte"}]},
                    {"name": "tasks", "operator": "sum", "key": "total_tasks"},
                    {"name": "jobs", "operator": "push", "fields": [{"key": "job_id", "name": "id"}]},
                ],
            }
        },
        {"project": {"fields": [{"key": "status", "name": "s"}, {"key": "jobs", "name": "size", "operator": "size"},
                                {"key": "tasks", "name": "t"}, {"key": "n", "name": "n"}], "exclude_keys": True}},
        {"sort": {"keys": [{"key": "s"}]}},
    ]
}  # fmt: skip
SHORT = {
    "aggregate": [
        {
            "group": {
                "keys": [{"k": "status", "n": "status"}],
                "fields": [
                    {"n": "n", "o": "count", "conditions": [{"k": "total_tasks", "v": 1, "o": "gte"}]},
                    {"n": "tasks", "o": "sum", "k": "total_tasks"},
                    {"n": "jobs", "o": "push", "fields": [{"k": "job_id", "n": "id"}]},
                ],
            }
        },
        {"project": {"fields": [{"k": "status", "n": "s"}, {"k": "jobs", "n": "size", "o": "size"},
                                {"k": "tasks", "n": "t"}, {"k": "n", "n": "n"}], "excludeKeys": True}},
        {"sort": {"keys": [{"key": "s"}]}},
    ]
}  # fmt: skip


@pytest.mark.parametrize("route", ["rest-stat", "gql-stat"])
def test_short_names_wherever_the_messages_declare_them(client: Any, route: str) -> None:
    long = answer(client, route, LONG)
    assert long[0] is None and long[1][0] == {"s": "CANCELED", "size": 1, "t": 1, "n": 1}
    assert answer(client, route, SHORT) == long
    both = {"aggregate": [{"group": {"keys": [{"k": "status", "key": "status", "n": "s"}]}}]}
    assert answer(client, route, both) == ("ERROR_INVALID_PARAMETER_TYPE", None)  # fmt: skip


def test_camel_case_field_names(client: Any) -> None:
    snake = {"filter_or": [{"k": "status", "v": "ERROR", "o": "eq"}], "count_only": True}
    camel = {"filterOr": [{"k": "status", "v": "ERROR", "o": "eq"}], "countOnly": True}
    one = client.post(SEARCH, json={"domain_id": D1, "query": snake}).json()
    assert one == {"results": [], "total_count": 1}
    assert client.post(SEARCH, json={"domainId": D1, "query": camel}).json() == one
    assert client.post(SEARCH, json={"domain_id": D1, "jobId": J2}).json()["total_count"] == 1
    by_day = {"aggregate": [{"group": {"keys": [{"key": "created_at", "name": "d", "dateFormat": "day"}]}}]}
    assert client.post(STAT, json={"domainId": D1, "query": by_day}).status_code == 200
    twice = client.post(SEARCH, json={"domain_id": D1, "query": {**snake, "filterOr": []}})
    assert twice.status_code == 200  # `filterOr: []` is unset, so not a second filter_or
    clash = client.post(SEARCH, json={"domain_id": D1, "query": {**snake, "filterOr": snake["filter_or"]}})
    assert clash.json()["error"]["code"] == "ERROR_INVALID_PARAMETER_TYPE"


@pytest.mark.parametrize("route", ["rest-list", "rest-stat"])
def test_numbers_as_proto3_json_writes_them(client: Any, route: str) -> None:
    expected = answer(client, route, {"page": {"start": 2, "limit": 3}})
    for start, limit in (("2", "3"), (2.0, 3.0), ("2.0", "3e0"), ("2", 3)):
        assert answer(client, route, {"page": {"start": start, "limit": limit}}) == expected
    for bad in (" 3", "3x", "1.5", 1.5, "0x10", True, [3], {"n": 3}, "-1"):
        assert answer(client, route, {"page": {"limit": bad}})[0] == "ERROR_INVALID_PARAMETER_TYPE", bad


def test_stage_numbers_as_strings(client: Any) -> None:
    grouped = {"group": {"keys": [{"key": "job_id", "name": "id"}]}}
    sort = {"sort": {"key": "id"}}
    expected = answer(client, "rest-stat", {"aggregate": [grouped, sort, {"skip": 1}, {"limit": 2}]})
    assert expected[1] == [{"id": i} for i in sorted(NEWEST_FIRST)[1:3]]
    as_text = {"aggregate": [grouped, sort, {"skip": "1"}, {"limit": "2.0"}]}
    assert answer(client, "rest-stat", as_text) == expected


def test_enums_by_number(client: Any) -> None:
    success = {J1, J7}
    for status in ("SUCCESS", 4, 4.0, "4"):
        body = client.post(SEARCH, json={"domain_id": D1, "status": status}).json()
        assert {j["job_id"] for j in body["results"]} == success, status
    listed = client.get("/inventory/v1/jobs", params={"domain_id": D1, "status": "4"}).json()
    assert {j["job_id"] for j in listed["results"]} == success
    several = client.post(SEARCH, json={"domain_id": D1, "status": [5, "TIMEOUT"]}).json()
    assert {j["job_id"] for j in several["results"]} == {J2, JOLD}
    for bad in (7, -1, "RUNNING", 4.5, True):
        response = client.post(SEARCH, json={"domain_id": D1, "status": bad})
        assert response.json()["error"]["code"] == "ERROR_INVALID_PARAMETER_TYPE", bad
        assert "SUCCESS (4)" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"minimal": "true"},
        {"count_only": "false"},
        {"sort": {"key": "created_at", "desc": "true"}},
        {"sort": {"key": "created_at", "desc": 1}},
    ],
)
def test_booleans_are_json_booleans(client: Any, query: dict[str, Any]) -> None:
    code, _ = answer(client, "rest-list", query)
    assert code == "ERROR_INVALID_PARAMETER_TYPE"


def test_quoted_booleans_refused_in_stat_too(client: Any) -> None:
    project = {"project": {"fields": [{"key": "job_id", "name": "id"}], "exclude_keys": "true"}}
    assert answer(client, "rest-stat", {"aggregate": [project]})[0] == "ERROR_INVALID_PARAMETER_TYPE"


def test_unknown_fields_are_ignored_and_logged_once(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    newer = {"domain_id": D1, "workspace_id": "ws-1", "query": {"page": {"limit": 2, "cursor": "x"},
             "filter": [{"k": "status", "v": "SUCCESS", "o": "eq", "comment": "why"}]}}  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="gateway.request"):
        for _ in range(3):
            body = client.post(SEARCH, json=newer).json()
            assert [j["job_id"] for j in body["results"]] == [J1, J7]
        stat = client.post(STAT, json={"domain_id": D1, "workspace_id": "ws-1", "query": {"distinct": "status"}})
        assert stat.status_code == 200
    logged = [r.getMessage() for r in caplog.records if "unknown request field" in r.getMessage()]
    assert sorted(logged) == [
        "unknown request field ignored: query.filter[].comment",
        "unknown request field ignored: query.page.cursor",
        "unknown request field ignored: workspace_id",
    ]


def test_the_unknown_names_logged_are_bounded(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    """An attacker's millions of distinct unknown keys: a request notes at most 20 of
    them, the process remembers and logs at most 1,000 names (then says so once), and
    each logged name is cut to 120 characters, control characters escaped."""
    long_name = "x\n" * 500
    with caplog.at_level(logging.WARNING, logger="gateway.request"):
        for batch in range(60):
            junk = {f"k{batch}-{i}-{long_name}": 1 for i in range(200)}
            response = client.post(SEARCH, json={"domain_id": D1, "query": {"page": {"limit": 1}, **junk}})
            assert response.status_code == 200
    logged = [r.getMessage() for r in caplog.records if "unknown request field" in r.getMessage()]
    assert len(logged) == 1_001  # 60 requests x 20 names kept, logged up to 1,000, then one line
    assert logged[-1] == "unknown request fields: 1000 names logged, no more will be (the limit of this process)"
    assert max(len(line) for line in logged) < 200
    assert all("\n" not in line for line in logged)


def test_strict_mode_refuses_unknown_fields(make_client: Any) -> None:
    client, _ = make_client(strict_request_fields=True)
    response = client.post(SEARCH, json={"domain_id": D1, "workspace_id": "ws-1"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "ERROR_INVALID_PARAMETER_TYPE",
        "message": 'the request has no field "workspace_id"; its fields: query, job_id, status, collector_id, '
        "project_id, domain_id.",
    }
    stage = client.post(STAT, json={"domain_id": D1, "query": {"aggregate": [{"bucket": {}}]}})
    assert stage.json()["error"]["code"] == "ERROR_INVALID_PARAMETER_TYPE"
    assert 'query.aggregate[0] has no field "bucket"' in stage.json()["error"]["message"]


def test_graphql_stays_strict(client: Any) -> None:
    from tests.conftest import gql

    document = f'query($q: JobQueryInput) {{ jobs(domainId: "{D1}", query: $q) {{ totalCount }} }}'
    body = gql(client, document, {"q": {"workspaceId": "ws-1"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
