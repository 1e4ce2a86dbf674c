"""Keys are stored paths of a job (or of its collector under `collector_info.`), or any
path below a free-form object: every other key is a 400 naming it with the stored
spelling, in every place a key is read, through REST and GraphQL (gateway.query.fields)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidQuery
from gateway.query.fields import COLLECTOR_DOCUMENT, JOB_DOCUMENT, Kind, field_at, stored_key, suggestion
from tests.conftest import gql
from tests.dataset import D1

SEARCH, STAT = "/inventory/v1/jobs/search", "/inventory/v1/jobs/stat"
JOBS_GQL = f'query($q: JobQueryInput) {{ jobs(domainId: "{D1}", query: $q) {{ totalCount results {{ jobId }} }} }}'
STAT_GQL = f'query($q: StatisticsQueryInput!) {{ jobStat(domainId: "{D1}", query: $q) }}'


def _list_queries(key: str) -> list[dict[str, Any]]:
    return [
        {"filter": [{"k": key, "v": "x", "o": "eq"}]},
        {"filter_or": [{"k": key, "v": "x", "o": "eq"}]},
        {"sort": {"key": key}},
        {"sort": {"keys": [{"key": "status"}, {"key": key, "desc": True}]}},
        {"only": [key]},
    ]


def _stat_queries(key: str) -> list[dict[str, Any]]:
    return [
        {"filter": [{"k": key, "v": "x", "o": "eq"}], "distinct": "status"},
        {"distinct": key},
        {"aggregate": [{"group": {"keys": [{"key": key, "name": "k"}]}}]},
        {"aggregate": [{"group": {"fields": [{"key": key, "name": "f", "operator": "max"}]}}]},
        {
            "aggregate": [
                {"group": {"fields": [{"name": "n", "operator": "push", "fields": [{"key": key, "name": "a"}]}]}}
            ]
        },
        {"aggregate": [{"unwind": {"path": key}}, {"count": {"name": "n"}}]},
        {"aggregate": [{"sort": {"key": key}}, {"count": {"name": "n"}}]},
        {"aggregate": [{"project": {"fields": [{"key": key, "name": "p"}]}}]},
    ]


def _camel(query: dict[str, Any]) -> dict[str, Any]:
    return {"filterOr" if k == "filter_or" else k: v for k, v in query.items()}


# (a key as a client might write it, the stored spelling the error suggests)
MISSPELT = [
    ("createdAt", "created_at"),
    ("collectorInfo.provider", "collector_info.provider"),
    ("errors.errorCode", "errors.error_code"),
    ("collector_info.pluginInfo.pluginId", "collector_info.plugin_info.plugin_id"),
    ("finshed_at", "finished_at"),
    ("status.name", None),  # below a string: nothing to suggest
    ("_id", None),
]


def _refused(response: Any, key: str, hint: str | None) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "ERROR_INVALID_PARAMETER"
    assert f'"{key}"' in error["message"]
    if hint is not None:
        assert f'Did you mean "{hint}"?' in error["message"]


def _gql_refused(body: dict[str, Any], key: str, hint: str | None) -> None:
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_PARAMETER"}, error
    assert f'"{key}"' in error["message"]
    if hint is not None:
        assert f'Did you mean "{hint}"?' in error["message"]


@pytest.mark.parametrize(("key", "hint"), MISSPELT)
def test_a_key_that_is_no_stored_path_is_refused_everywhere(client: Any, key: str, hint: str | None) -> None:
    for query in _list_queries(key):
        _refused(client.post(SEARCH, json={"domain_id": D1, "query": query}), key, hint)
        _gql_refused(gql(client, JOBS_GQL, {"q": _camel(query)}), key, hint)
    for query in _stat_queries(key):
        _refused(client.post(STAT, json={"domain_id": D1, "query": query}), key, hint)
        _gql_refused(gql(client, STAT_GQL, {"q": query}), key, hint)


FREE_FORM = ["filter.anything.below", "filters.region", "errors.additional.task", "collector_info.tags.team",
             "collector_info.capability.supported_schema", "collector_info.plugin_info.options.x",
             "collector_info.plugin_info.metadata.y", "errors.0.error_code"]  # fmt: skip


@pytest.mark.parametrize("key", FREE_FORM)
def test_paths_below_free_form_objects_and_array_indexes_are_accepted(client: Any, key: str) -> None:
    for query in _list_queries(key)[:4]:
        assert client.post(SEARCH, json={"domain_id": D1, "query": query}).status_code == 200
        assert "errors" not in gql(client, JOBS_GQL, {"q": _camel(query)})
    for query in _stat_queries(key):
        assert client.post(STAT, json={"domain_id": D1, "query": query}).status_code == 200


def test_the_legacy_collector_reference_reads_the_collector(client: Any) -> None:
    """`collector.provider` (the reference server's name for the job's collector) is
    served as `collector_info.provider`: the same jobs, never an empty answer."""

    def ids(key: str) -> list[str]:
        query = {"filter": [{"k": key, "v": "aws", "o": "eq"}], "sort": {"key": key.replace("provider", "name")}}
        response = client.post(SEARCH, json={"domain_id": D1, "query": query})
        assert response.status_code == 200, response.text
        return [job["job_id"] for job in response.json()["results"]]

    assert ids("collector.provider") == ids("collector_info.provider") != []
    by_gql = gql(client, JOBS_GQL, {"q": {"filter": [{"k": "collector.provider", "v": "aws", "o": "eq"}]}})
    assert {j["jobId"] for j in by_gql["data"]["jobs"]["results"]} == set(ids("collector_info.provider"))
    stat = {"filter": [{"k": "collector.provider", "v": "aws", "o": "eq"}], "distinct": "job_id"}
    assert set(client.post(STAT, json={"domain_id": D1, "query": stat}).json()["results"]) == set(
        ids("collector_info.provider")
    )


def test_the_table_names_every_field_of_the_contract() -> None:
    names = [f.name for f in JOB_DOCUMENT]
    assert names[:12] == ["job_id", "status", "filters", "total_tasks", "remained_tasks", "errors",
                          "collector_info", "project_id", "domain_id", "created_at", "updated_at", "finished_at"]  # fmt: skip
    assert {f.name for f in COLLECTOR_DOCUMENT} >= {"collector_id", "name", "state", "plugin_info", "provider", "tags"}
    assert field_at("filter") is field_at("filters")
    assert field_at("filter.region") is None
    errors = field_at("errors")
    assert errors is not None and errors.array and errors.kind is Kind.DOCUMENT
    upgrade = field_at("collector_info.plugin_info.upgrade_mode")
    assert upgrade is not None and upgrade.values == ("NONE", "MANUAL", "AUTO")
    assert stored_key("filter.region", "key") == "filters.region"
    assert stored_key("collector.plugin_info.provider", "key") == "collector_info.plugin_info.provider"
    assert suggestion("remainedTasks") == "remained_tasks"
    for bad in ("collector_info", "tags", "status.x", "$where", ""):
        with pytest.raises(InvalidQuery):
            stored_key(bad, "key")


def test_match_fields_are_keys_too(client: Any) -> None:
    ok = {"filter": [{"k": "errors", "v": {"error_code": "ERROR_AUTH"}, "o": "match"}]}
    response = client.post(SEARCH, json={"domain_id": D1, "query": ok})
    assert [j["job_id"] for j in response.json()["results"]] == ["job-000000000002"]
    for key, value, written in (
        ("errors", {"errorCode": "ERROR_AUTH"}, "errors.errorCode"),
        ("projects", {"name": "project-a"}, "projects.name"),
    ):
        query = {"filter": [{"k": key, "v": value, "o": "match"}]}
        _refused(client.post(SEARCH, json={"domain_id": D1, "query": query}), written, None)
        body = client.post(SEARCH, json={"domain_id": D1, "query": query}).json()
        assert "query.filter[0].value field" in body["error"]["message"]
    misspelt = {"filter": [{"k": "errors", "v": {"errorCode": "x"}, "o": "match"}]}
    _refused(client.post(STAT, json={"domain_id": D1, "query": {**misspelt, "distinct": "status"}}),
             "errors.errorCode", "errors.error_code")  # fmt: skip
    assert client.post(SEARCH, json={"domain_id": D1, "query": {"filter": [
        {"k": "filter", "v": {"anything": 1}, "o": "match"}]}}).status_code == 200  # fmt: skip
