"""Global object identification (Relay): ids, `node`, `nodes`, scoping; and what a
stored document that breaks a non-null promise gets."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, gql, memory_with
from tests.dataset import D1, D2, dataset

SECRET = "s" * 40
NODE = """query($id: ID!) { node(id: $id) { __typename id ... on Job { jobId status } ... on CollectorInfo { collectorId name } } }"""


def ids_of(client: TestClient, domain: str = D1) -> dict[str, str]:
    """job id -> global id, and collector id -> global id, of a domain's page."""
    rows = gql(
        client, f'{{ jobs(domainId: "{domain}") {{ results {{ id jobId collectorInfo {{ id collectorId }} }} }} }}'
    )
    found: dict[str, str] = {}
    for row in rows["data"]["jobs"]["results"]:
        found[row["jobId"]] = row["id"]
        if row["collectorInfo"]:
            found[row["collectorInfo"]["collectorId"]] = row["collectorInfo"]["id"]
    return found


def test_every_id_refetches_its_object(client: Any) -> None:
    ids = ids_of(client)
    assert len(set(ids.values())) == len(ids)  # ids are unique
    for key, node_id in ids.items():
        node = gql(client, NODE, {"id": node_id})["data"]["node"]
        assert node["id"] == node_id
        assert node.get("jobId", node.get("collectorId")) == key
        assert node["__typename"] == ("Job" if key.startswith("job-") else "CollectorInfo")


def test_ids_are_opaque_and_stable(client: Any) -> None:
    first, second = ids_of(client), ids_of(client)
    assert first == second
    assert all("job-" not in node_id and "collector-" not in node_id for node_id in first.values())


def test_nodes_keeps_order_and_reports_each_bad_id_at_its_index(client: Any) -> None:
    ids = ids_of(client)
    gone = base64.urlsafe_b64encode(json.dumps(["Job", D1, "job-000000000099"]).encode()).decode().rstrip("=")
    asked = [ids["job-000000000002"], "not-an-id", gone, ids["collector-aws000000001"]]
    body = gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": asked})
    assert body["data"]["nodes"] == [{"id": asked[0]}, None, None, {"id": asked[3]}]
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["nodes", 1], "BAD_USER_INPUT")]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "%%%",
        base64.urlsafe_b64encode(b'["Job","d"]').decode(),
        base64.urlsafe_b64encode(b'["Secret","d","k"]').decode(),
        base64.urlsafe_b64encode(b'{"a":1}').decode(),
        "x" * 5000,
    ],
)
def test_an_id_this_api_did_not_issue_is_a_bad_input(client: Any, raw: str) -> None:
    body = gql(client, NODE, {"id": raw})
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_PARAMETER_TYPE"}


def test_a_job_that_is_gone_is_null(client: Any) -> None:
    gone = base64.urlsafe_b64encode(json.dumps(["Job", D1, "job-000000000099"]).encode()).decode()
    assert gql(client, NODE, {"id": gone}) == {"data": {"node": None}}


@pytest.fixture(scope="module")
def secured() -> Any:
    with TestClient(create_app(Settings(jwt_secret=SECRET), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


def _as(client: TestClient, bearer: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {bearer}"}
    )
    return response.json()


def test_node_is_scoped_to_the_callers_domain(client: Any, secured: TestClient) -> None:
    from tests.tokens import token

    d2_ids = ids_of(client, D2)
    d1_ids = ids_of(client, D1)
    as_d1 = token(key=SECRET, alg="HS256")
    for node_id in d2_ids.values():
        body = _as(secured, as_d1, NODE, {"id": node_id})
        assert body["data"]["node"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _as(secured, as_d1, NODE, {"id": d1_ids["job-000000000001"]})["data"]["node"]["jobId"] == "job-000000000001"


def test_a_project_scoped_caller_reads_only_its_jobs_and_their_collectors(client: Any, secured: TestClient) -> None:
    from tests.tokens import token

    ids = ids_of(client)
    project_b = token(key=SECRET, alg="HS256", projects=["project-b"])
    read = {key: _as(secured, project_b, NODE, {"id": node_id})["data"]["node"] for key, node_id in ids.items()}
    visible = {key for key, node in read.items() if node is not None}
    # project-b: job 2 (Google Cloud collector) and the legacy job (Legacy OpenStack collector).
    assert visible == {"job-000000000002", "job-0000000old04", "collector-gcp000000002", "collector-old000000004"}


BROKEN_ROW = "{ jobs(domainId: $d) { totalCount results { jobId status createdAt errors { errorCode } } } }"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"status": "PAUSED"}, "status", 'status is a string "PAUSED", not one of CREATED'),
        ({"status": None}, "status", "status is null, not one of"),
        ({"created_at": "2024-05-14"}, "createdAt", 'created_at is a string "2024-05-14", not a date'),
        ({"errors": "none"}, "errors", 'errors is a string "none", not a list'),
        ({"errors": [{"error_code": 7}]}, "errorCode", "errors[0].error_code is a number 7, not a string"),
    ],
)
def test_a_broken_document_is_a_field_error_naming_the_job_and_the_page_stays(
    make_client: Any, change: dict[str, Any], field: str, message: str
) -> None:
    data = dataset()
    broken = next(j for j in data["job"] if j["job_id"] == "job-000000000002")
    broken.update(change)
    client, _ = make_client(data)
    body = gql(client, "query($d: String) " + BROKEN_ROW, {"d": D1})
    rows = body["data"]["jobs"]["results"]
    assert body["data"]["jobs"]["totalCount"] == 7 and len(rows) == 7
    index = next(i for i, r in enumerate(rows) if r is None or r["jobId"] == "job-000000000002")
    if field == "errorCode":  # a nullable leaf: only it is null
        assert rows[index]["errors"] == [{"errorCode": None}]
    else:  # a non-null field: its row is null, the other rows are whole
        assert rows[index] is None
    assert all(r is not None and r["status"] for i, r in enumerate(rows) if i != index)
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "STORED_DOCUMENT_INVALID", "reason": "ERROR_STORED_DOCUMENT"}
    assert error["message"].startswith("stored job job-000000000002: ") and message in error["message"]
    assert error["path"][:3] == ["jobs", "results", index] and error["path"][-1] == field


def test_a_missing_errors_list_reads_as_empty(make_client: Any) -> None:
    data = dataset()
    for job in data["job"]:
        job.pop("errors", None)
    client, _ = make_client(data)
    rows = gql(client, f'{{ jobs(domainId: "{D1}") {{ results {{ errors {{ errorCode }} }} }} }}')["data"]["jobs"]
    assert rows["results"] == [{"errors": []}] * 7


NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Job { jobId collectorInfo { name } } ... on CollectorInfo { collectorId } } }"


def test_nodes_reads_every_id_in_one_job_query_and_one_collector_query(make_client: Any) -> None:
    client, store = make_client()
    ids = {**ids_of(client, D1), **ids_of(client, D2)}
    asked = list(ids.values()) * 3  # two domains, jobs and collectors, each id three times
    store.calls.clear()
    body = gql(client, NODES, {"ids": asked})
    assert "errors" not in body
    got = body["data"]["nodes"]
    assert [n["id"] for n in got] == asked
    assert {n.get("jobId", n.get("collectorId")) for n in got} == set(ids)
    assert sorted(store.calls) == [("find", "collector"), ("find", "job")]


def test_nodes_is_bounded_by_max_list_values(make_client: Any) -> None:
    client, store = make_client(max_list_values=3)
    ids = list(ids_of(client).values())[:4]
    store.calls.clear()
    assert "errors" not in gql(client, NODES, {"ids": ids[:3]})
    store.calls.clear()
    # As a variable: refused before graphql-core coerces it (a request error, no data).
    body = gql(client, NODES, {"ids": ids})
    assert "data" not in body and store.calls == []
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_LIMIT_EXCEEDED"}
    assert error["message"] == 'Variable "$ids" has 4 items; the limit max_list_values is 3.'
    # Written inline: the field refuses it.
    body = gql(client, NODES.replace("query($ids: [ID!]!)", "query").replace("$ids", json.dumps(ids)))
    assert body["data"] is None and store.calls == []
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_LIMIT_EXCEEDED"}
    assert error["message"] == "nodes(ids:) has 4 ids; the limit max_list_values is 3."


def test_nodes_of_other_domains_are_forbidden_each_at_its_index(client: Any, secured: TestClient) -> None:
    from tests.tokens import token

    d1, d2 = ids_of(client, D1), ids_of(client, D2)
    asked = [d1["job-000000000001"], d2["job-0000000000d8"], d1["collector-gcp000000002"], d2["collector-aws000000003"]]
    body = _as(secured, token(key=SECRET, alg="HS256"), NODES, {"ids": asked})
    assert [n and n["id"] for n in body["data"]["nodes"]] == [asked[0], None, asked[2], None]
    assert sorted((e["path"][1], e["extensions"]["code"]) for e in body["errors"]) == [
        (1, "FORBIDDEN"),
        (3, "FORBIDDEN"),
    ]


def test_a_project_scoped_caller_reads_nodes_as_node(client: Any, secured: TestClient) -> None:
    from tests.tokens import token

    ids = ids_of(client)
    project_b = token(key=SECRET, alg="HS256", projects=["project-b"])
    got = _as(secured, project_b, NODES, {"ids": list(ids.values())})["data"]["nodes"]
    visible = {key for key, node in zip(ids, got, strict=True) if node is not None}
    assert visible == {"job-000000000002", "job-0000000old04", "collector-gcp000000002", "collector-old000000004"}
