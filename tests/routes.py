"""One request through each of the four routes that read the language - REST list,
REST stat, GraphQL `jobs`, GraphQL `jobStat` - answered in one shape, so tests can
check that the routes accept, refuse and select alike."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.dataset import D1

ROUTES = ("rest-list", "rest-stat", "gql-list", "gql-stat")
JOBS_GQL = """query($q: JobQueryInput, $jobId: [String!], $status: [JobStatusFilter!], $collectorId: [String!],
  $projectId: [String!]) { jobs(domainId: "%s", query: $q, jobId: $jobId, status: $status, collectorId: $collectorId,
  projectId: $projectId) { totalCount results { jobId } } }"""
STAT_GQL = """query($q: StatisticsQueryInput!) { jobStat(domainId: "%s", query: $q) }"""
# Published names whose GraphQL input field is camelCase (Strawberry's naming).
_CAMEL = {
    "filter_or": "filterOr",
    "count_only": "countOnly",
    "date_format": "dateFormat",
    "time_zone": "timeZone",
    "exclude_keys": "excludeKeys",
}
_LITERALS = frozenset({"v", "value"})  # JSON values: written as they are


def graphql_names(value: Any) -> Any:
    """A published request object with the GraphQL input names (JSON values untouched)."""
    if isinstance(value, list):
        return [graphql_names(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {_CAMEL.get(k, k): (v if k in _LITERALS else graphql_names(v)) for k, v in value.items()}


def answer(client: TestClient, route: str, query: dict[str, Any], **shortcuts: Any) -> tuple[str | None, Any]:
    """(error code or None, the job ids selected) of ``query`` (a Query; for stat, a
    StatisticsQuery: ``distinct: job_id`` is added when it names no rows) on ``route``.
    The GraphQL error code is ``extensions.reason``."""
    stat = route.endswith("stat")
    if stat and "aggregate" not in query and "distinct" not in query:
        query = {**query, "distinct": "job_id"}
    if route.startswith("rest"):
        path = "/inventory/v1/jobs/stat" if stat else "/inventory/v1/jobs/search"
        response = client.post(path, json={"domain_id": D1, "query": query, **shortcuts})
        assert response.status_code < 500, response.text
        body = response.json()
        if response.status_code != 200:
            return body["error"]["code"], None
        return None, _ids(body, stat)
    document = (STAT_GQL if stat else JOBS_GQL) % D1
    variables = {"q": graphql_names(query), **{_graphql_argument(k): v for k, v in shortcuts.items()}}
    response = client.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    if body.get("errors"):
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        return error["extensions"]["reason"], None
    if stat:
        return None, _ids(body["data"]["jobStat"], stat)
    return None, [r["jobId"] for r in body["data"]["jobs"]["results"]]


def _graphql_argument(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _ids(body: dict[str, Any], stat: bool) -> Any:
    if stat:
        return body["results"]
    return [r["job_id"] for r in body["results"]]
