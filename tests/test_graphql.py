"""GraphQL: the types of section 6, typed inputs, errors with extensions, and reading
only what the selection asks for (counted store calls)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.store.datafile import read_data_file
from tests.conftest import FIXTURE, gql
from tests.dataset import D1

ALL_FIELDS = """
  jobId status filter totalTasks remainedTasks projectId domainId createdAt updatedAt finishedAt
  errors { errorCode message additional }
  collectorInfo {
    collectorId name state priority tags provider capability isPublic projectId domainId createdAt lastCollectedAt
    pluginInfo { pluginId version options secretId secretGroupId provider serviceAccountId metadata upgradeMode }
  }
"""


def test_published_example_with_every_field(make_client: Any, published: dict[str, Any]) -> None:
    client, _ = make_client(read_data_file(FIXTURE))
    domain = published["request"]["body"]["domain_id"]
    data = gql(client, f'{{ jobs(domainId: "{domain}") {{ totalCount results {{ {ALL_FIELDS} }} }} }}')["data"]["jobs"]
    assert data["totalCount"] == 2
    first = data["results"][0]
    # Every selected field is there, nulls, zeros and empty lists included.
    assert first["jobId"] == "job-3b124006c2d2"
    assert first["remainedTasks"] == 0
    assert first["errors"] == []
    assert first["projectId"] is None
    assert first["filter"] == {}
    assert first["createdAt"] == "2022-06-17T08:00:01.225Z"
    assert first["finishedAt"] == "2022-06-17T08:00:15.197Z"
    collector = first["collectorInfo"]
    assert collector["pluginInfo"]["upgradeMode"] == "AUTO"
    assert collector["pluginInfo"]["options"] == {}
    assert collector["createdAt"] == "2022-06-16T05:12:40.117Z"
    assert collector["state"] == "ENABLED" and collector["isPublic"] is True and collector["priority"] == 10
    # Same jobs, same order as the REST answer.
    assert [r["jobId"] for r in data["results"]] == [r["job_id"] for r in published["response"]["results"]]


def test_typed_query_input_with_variables(client: Any) -> None:
    query = """
      query Failed($domain: String!, $q: JobQueryInput) {
        jobs(domainId: $domain, query: $q) { totalCount results { jobId status errors { errorCode } } }
      }"""
    variables = {
        "domain": D1,
        "q": {
            "filter": [{"key": "status", "operator": "in", "value": ["ERROR", "TIMEOUT"]}],
            "sort": {"keys": [{"key": "created_at", "desc": False}]},
            "page": {"start": 1, "limit": 1},
        },
    }
    jobs = gql(client, query, variables)["data"]["jobs"]
    assert jobs == {
        "totalCount": 2,
        "results": [{"jobId": "job-0000000old04", "status": "TIMEOUT", "errors": [{"errorCode": "ERROR_TIMEOUT"}]}],
    }


def test_shortcut_arguments(client: Any) -> None:
    data = gql(client, f'{{ jobs(domainId: "{D1}", status: [ERROR, TIMEOUT]) {{ totalCount }} }}')["data"]
    assert data["jobs"]["totalCount"] == 2
    data = gql(client, f'{{ jobs(domainId: "{D1}", status: JOB_STATE_NONE) {{ totalCount }} }}')["data"]
    assert data["jobs"]["totalCount"] == 7
    data = gql(client, f'{{ jobs(domainId: "{D1}", jobId: "job-000000000002") {{ results {{ status }} }} }}')["data"]
    assert data["jobs"]["results"] == [{"status": "ERROR"}]
    data = gql(
        client,
        f'{{ jobs(domainId: "{D1}", collectorId: ["collector-gcp000000002"], projectId: "project-a") {{ totalCount }} }}',
    )
    assert data["data"]["jobs"]["totalCount"] == 0  # J2's project_id is null


def test_only_and_minimal_are_checked_but_the_selection_is_the_projection(client: Any) -> None:
    for query in ('{only: ["job_id", "collector_info.name"]}', "{minimal: true}"):
        document = f'{{ jobs(domainId: "{D1}", jobId: "job-000000000001", query: {query}) {{ results {{ jobId status collectorInfo {{ name provider }} }} }} }}'
        assert gql(client, document)["data"]["jobs"]["results"] == [
            {"jobId": "job-000000000001", "status": "SUCCESS", "collectorInfo": {"name": "AWS prod", "provider": "aws"}}
        ]
    # Still validated as the published language does.
    document = f'{{ jobs(domainId: "{D1}", query: {{only: ["secret"]}}) {{ totalCount }} }}'
    assert gql(client, document)["errors"][0]["extensions"]["reason"] == "ERROR_INVALID_PARAMETER"


def test_only_and_minimal_are_deprecated_with_the_reason(client: Any) -> None:
    document = '{ __type(name: "JobQueryInput") { inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } } }'
    fields = {f["name"]: f for f in gql(client, document)["data"]["__type"]["inputFields"]}
    for name in ("only", "minimal"):
        assert fields[name]["isDeprecated"] is True
        assert "selection set is the projection" in fields[name]["deprecationReason"]
    assert fields["filter"]["isDeprecated"] is False


def test_collector_references(client: Any) -> None:
    query = f'{{ jobs(domainId: "{D1}", jobId: ["job-0000000old04", "job-00000000gone"]) {{ results {{ jobId collectorInfo {{ name }} }} }} }}'
    results = {r["jobId"]: r["collectorInfo"] for r in gql(client, query)["data"]["jobs"]["results"]}
    assert results == {"job-0000000old04": {"name": "Legacy OpenStack"}, "job-00000000gone": None}


def test_job_by_id(client: Any) -> None:
    query = "query($id: ID!, $d: String) { job(jobId: $id, domainId: $d) { jobId status totalTasks collectorInfo { name } } }"
    assert gql(client, query, {"id": "job-000000000002", "d": D1})["data"]["job"] == {
        "jobId": "job-000000000002",
        "status": "ERROR",
        "totalTasks": 5,
        "collectorInfo": {"name": "Google Cloud"},
    }
    assert gql(client, query, {"id": "job-0000000000d8", "d": D1})["data"]["job"] is None  # other domain
    assert gql(client, query, {"id": "job-unknown", "d": D1})["data"]["job"] is None


BAD = [
    ("jobs { totalCount }", "ERROR_REQUIRED_PARAMETER", "domain_id"),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "status", operator: "like", value: "x"}}]}}) {{ totalCount }}',
        "ERROR_UNSUPPORTED_OPERATOR",
        "like",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "status", operator: "eq", value: ["x"]}}]}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER_TYPE",
        "list",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "filter.c", operator: "exists", value: "no"}}]}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER_TYPE",
        "true or false",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "created_at", operator: "datetime_gt", value: "x"}}]}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER",
        "ISO 8601",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "created_at", operator: "timediff_gt", value: "now-"}}]}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER",
        "time expression",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "job_id", operator: "regex", value: "["}}]}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER",
        "regular expression",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{page: {{limit: -3}}}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER_TYPE",
        "query.page.limit must be an integer from 0",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{page: {{limit: 5000}}}}) {{ totalCount }}',
        "ERROR_LIMIT_EXCEEDED",
        "max_page_size",
    ),
    (
        f'jobs(domainId: "{D1}", query: {{filter: [{{key: "a..b", operator: "eq", value: 1}}]}}) {{ totalCount }}',
        "ERROR_INVALID_PARAMETER",
        "field path",
    ),
]


@pytest.mark.parametrize(("field", "reason", "mentions"), BAD)
def test_bad_input_is_bad_user_input(client: Any, field: str, reason: str, mentions: str) -> None:
    body = gql(client, "{ " + field + " }")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}
    assert mentions in error["message"]


def test_document_errors_are_named(client: Any) -> None:
    body = gql(client, "{ jobs(domainId: 1) { nope } }")
    expected = {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_GRAPHQL_DOCUMENT"}
    assert body["errors"] and all(e["extensions"] == expected for e in body["errors"])
    body = gql(client, "{ jobs(domainId: ")
    assert body["errors"][0]["extensions"] == expected
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 18}]
    body = gql(client, 'query($s: [JobStatusFilter!]) { jobs(domainId: "d", status: $s) { totalCount } }')
    assert body == {"data": {"jobs": {"totalCount": 0}}}  # no variable given: no status filter
    body = client.post(
        "/graphql",
        json={
            "query": 'query($s: [JobStatusFilter!]) { jobs(domainId: "d", status: $s) { totalCount } }',
            "variables": {"s": ["BOGUS"]},
        },
    ).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_PARAMETER_TYPE"}


def test_internal_errors_are_masked(make_client: Any) -> None:
    client, store = make_client()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2")

    store.inner.count = broken
    body = gql(client, f'{{ jobs(domainId: "{D1}") {{ totalCount }} }}')
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "reason": "ERROR_INTERNAL"}
    assert "hunter2" not in str(body)


class TestReadsOnlyWhatIsSelected:
    @pytest.fixture
    def counted(self, make_client: Any) -> Any:
        return make_client()

    def test_no_total_count_no_count_call(self, counted: Any) -> None:
        client, store = counted
        gql(client, f'{{ jobs(domainId: "{D1}") {{ results {{ jobId }} }} }}')
        assert store.calls == [("find", "job")]
        assert store.kwargs[0]["projection"] == {"job_id": 1, "_id": 0}

    def test_total_count_only_costs_a_count(self, counted: Any) -> None:
        client, store = counted
        assert gql(client, f'{{ jobs(domainId: "{D1}") {{ totalCount }} }}')["data"]["jobs"]["totalCount"] == 7
        assert store.calls == [("count", "job")]

    def test_projection_follows_selection_and_fragments(self, counted: Any) -> None:
        client, store = counted
        query = f"""
          fragment Times on Job {{ createdAt finishedAt }}
          {{ jobs(domainId: "{D1}") {{ results {{ status ...Times ... on Job {{ filter }} }} }} }}"""
        gql(client, query)
        # job_id besides: an error about a stored job names it.
        expected = {"job_id": 1, "status": 1, "created_at": 1, "finished_at": 1, "filters": 1, "_id": 0}
        assert store.kwargs[0]["projection"] == expected

    @pytest.mark.parametrize("limit", [1, 3, 7])
    def test_collectors_cost_one_call_whatever_the_page_size(self, counted: Any, limit: int) -> None:
        client, store = counted
        query = f'{{ jobs(domainId: "{D1}", query: {{page: {{limit: {limit}}}}}) {{ totalCount results {{ jobId collectorInfo {{ name }} }} }} }}'
        results = gql(client, query)["data"]["jobs"]["results"]
        assert len(results) == limit
        assert sorted(store.calls) == [("count", "job"), ("find", "collector"), ("find", "job")]

    def test_collector_sort_page_costs_three_calls(self, counted: Any) -> None:
        client, store = counted
        query = f'{{ jobs(domainId: "{D1}", query: {{sort: {{key: "collector_info.name", desc: true}}, page: {{limit: 2}}}}) {{ totalCount results {{ jobId collectorInfo {{ name }} }} }} }}'
        results = gql(client, query)["data"]["jobs"]["results"]
        assert [r["collectorInfo"]["name"] for r in results] == ["Legacy OpenStack", "Google Cloud"]
        assert sorted(store.calls) == [("aggregate", "job"), ("count", "job"), ("find", "collector")]

    def test_rest_page_costs_three_calls(self, counted: Any) -> None:
        client, store = counted
        assert len(client.post("/inventory/v1/jobs/search", json={"domain_id": D1}).json()["results"]) == 7
        assert sorted(store.calls) == [("count", "job"), ("find", "collector"), ("find", "job")]

    def test_collector_conditions_cost_one_collector_query_however_many(self, counted: Any) -> None:
        """Each `collector_info.*` condition is answered by the collectors of the domain:
        all of a request's filter in one query (a $facet), on every route."""
        client, store = counted
        providers = ["aws", "google_cloud", "openstack", "azure"]
        where = "{or: [" + ", ".join(f'{{collector: {{provider: {{eq: "{p}"}}}}}}' for p in providers) + "]}"
        body = gql(client, f'{{ jobs(domainId: "{D1}", where: {where}) {{ totalCount }} }}')
        assert body["data"]["jobs"]["totalCount"] == 6  # not the job whose collector is gone
        assert sorted(store.calls) == [("aggregate", "collector"), ("count", "job")]
        store.calls.clear()
        filter_or = [{"k": "collector_info.provider", "v": p, "o": "eq"} for p in providers]
        for route in ("search", "stat"):
            query: dict[str, Any] = {"filter_or": filter_or}
            if route == "stat":
                query["aggregate"] = [{"count": {"name": "n"}}]
            answer = client.post(f"/inventory/v1/jobs/{route}", json={"domain_id": D1, "query": query}).json()
            assert answer.get("total_count", answer["results"][0].get("n")) == 6
            page = [("find", "collector")] if route == "search" else []  # the page's collectors
            assert sorted(c for c in store.calls if c[1] == "collector") == [("aggregate", "collector"), *page]
            store.calls.clear()

    def test_aliases_are_merged(self, counted: Any) -> None:
        client, store = counted
        body = gql(
            client, f'{{ jobs(domainId: "{D1}") {{ a: results {{ jobId }} b: results {{ status }} n: totalCount }} }}'
        )
        assert body["data"]["jobs"]["n"] == 7
        assert body["data"]["jobs"]["a"][0].keys() == {"jobId"} and body["data"]["jobs"]["b"][0].keys() == {"status"}
        # One find for both aliases, fetching what either selects.
        assert sorted(store.calls) == [("count", "job"), ("find", "job")]
        assert store.kwargs[0]["projection"] == {"job_id": 1, "status": 1, "_id": 0}


def test_conditions_accept_the_short_names_too(client: Any) -> None:
    short = f'{{ jobs(domainId: "{D1}", query: {{filter: [{{k: "status", v: "ERROR", o: "eq"}}]}}) {{ results {{ jobId }} }} }}'
    assert gql(client, short)["data"]["jobs"]["results"] == [{"jobId": "job-000000000002"}]
    missing = gql(
        client,
        f'{{ jobs(domainId: "{D1}", query: {{filter: [{{value: "ERROR", operator: "eq"}}]}}) {{ totalCount }} }}',
    )
    assert missing["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_REQUIRED_PARAMETER"}
    assert "query.filter[0] has no key" in missing["errors"][0]["message"]
    both = gql(
        client,
        f'{{ jobs(domainId: "{D1}", query: {{filter: [{{key: "status", k: "status", operator: "eq"}}]}}) {{ totalCount }} }}',
    )
    assert both["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    null_value = gql(
        client,
        f'{{ jobs(domainId: "{D1}", query: {{filter: [{{key: "project_id", operator: "eq", value: null}}]}}) {{ totalCount }} }}',
    )
    assert null_value["data"]["jobs"]["totalCount"] == 6


@pytest.mark.anyio
async def test_errors_are_mapped_by_the_schema_not_only_the_http_view() -> None:
    """Executing the schema directly (as a WebSocket transport would) gives the same
    error shape as /graphql: the mapping lives in a schema extension."""
    from gateway.graphql.context import GraphQLContext
    from gateway.graphql.schema import build_schema
    from gateway.service import JobService
    from tests.conftest import memory_with
    from tests.dataset import dataset

    schema = build_schema()
    context = GraphQLContext(service=JobService(memory_with(dataset())))
    missing_domain = await schema.execute("{ jobs { totalCount } }", context_value=context)
    assert missing_domain.errors is not None
    assert missing_domain.errors[0].extensions == {"code": "BAD_USER_INPUT", "reason": "ERROR_REQUIRED_PARAMETER"}
    not_parsed = await schema.execute("{ jobs(", context_value=context)
    assert not_parsed.errors is not None
    assert not_parsed.errors[0].extensions == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_GRAPHQL_DOCUMENT"}
