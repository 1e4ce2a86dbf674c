"""Each limit: just under passes, just over gets a client error naming the limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, gql, memory_with
from tests.dataset import D1, dataset

LIMITS = {
    "max_query_depth": 3,
    "max_aliases": 2,
    "max_tokens": 60,
    "max_page_size": 5,
    "max_regex_length": 10,
    "max_conditions": 3,
    "max_stages": 2,
}


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(create_app(Settings(**LIMITS), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


def limited(body: dict[str, Any], limit: str) -> None:
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_LIMIT_EXCEEDED"}
    assert limit in error["message"]


def test_query_depth(client: TestClient) -> None:
    # Depth counts from the root field's children: results 1, collectorInfo 2, name 3.
    under = f'{{ jobs(domainId: "{D1}") {{ results {{ collectorInfo {{ name }} }} }} }}'
    assert "errors" not in gql(client, under)
    over = f'{{ jobs(domainId: "{D1}") {{ results {{ collectorInfo {{ pluginInfo {{ version }} }} }} }} }}'
    limited(gql(client, over), "max_query_depth")


def test_aliases(client: TestClient) -> None:
    under = f'{{ a: jobs(domainId: "{D1}") {{ totalCount }} b: jobs(domainId: "{D1}") {{ totalCount }} }}'
    assert "errors" not in gql(client, under)
    over = under[:-1] + f' c: jobs(domainId: "{D1}") {{ totalCount }} }}'
    limited(gql(client, over), "max_aliases")


def test_tokens(client: TestClient) -> None:
    fields = " ".join(["totalCount"] * 50)
    under = f'{{ jobs(domainId: "{D1}") {{ {fields} }} }}'  # 60 tokens
    assert "errors" not in gql(client, under)
    limited(gql(client, under.replace("{ totalCount", "{ totalCount totalCount")), "max_tokens")


def test_page_size(client: TestClient) -> None:
    ok = client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": {"page": {"limit": 5}}})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 5
    # no limit: the cap applies, and the count still counts every match
    capped = client.post("/inventory/v1/jobs/search", json={"domain_id": D1}).json()
    assert len(capped["results"]) == 5 and capped["total_count"] == 7
    over = client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": {"page": {"limit": 6}}})
    assert over.status_code == 400 and "max_page_size=5" in over.json()["error"]["message"]
    stat = client.post(
        "/inventory/v1/jobs/stat", json={"domain_id": D1, "query": {"distinct": "status", "page": {"limit": 6}}}
    )
    assert stat.status_code == 400 and "max_page_size" in stat.json()["error"]["message"]


def test_body_size_on_every_route() -> None:
    with TestClient(create_app(Settings(max_body_bytes=600), memory_with(dataset()))) as client:
        check_body_size(client)


def check_body_size(client: TestClient) -> None:
    def body_of(size: int) -> bytes:
        base = json.dumps({"domain_id": D1, "query": {"keyword": ""}})
        return json.dumps({"domain_id": D1, "query": {"keyword": "x" * (size - len(base))}}).encode()

    assert len(body_of(600)) == 600
    assert client.post("/inventory/v1/jobs/search", content=body_of(600)).status_code == 200
    over = client.post("/inventory/v1/jobs/search", content=body_of(601))
    assert over.status_code == 413 and "max_body_bytes" in over.json()["error"]["message"]
    big_graphql = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 600}})
    response = client.post("/graphql", content=big_graphql, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_LIMIT_EXCEEDED"}

    def chunks() -> Any:
        yield b'{"domain_id": "' + D1.encode() + b'", "query": {"keyword": "'
        for _ in range(20):
            yield b"x" * 50
        yield b'"}}'

    streamed = client.post("/inventory/v1/jobs/search", content=chunks())
    assert streamed.status_code == 413


def test_regex_length(client: TestClient) -> None:
    def search(pattern: str) -> Any:
        return client.post(
            "/inventory/v1/jobs/search",
            json={"domain_id": D1, "query": {"filter": [{"k": "job_id", "v": pattern, "o": "regex"}]}},
        )

    assert search("a" * 10).status_code == 200
    over = search("a" * 11)
    assert over.status_code == 400 and "max_regex_length" in over.json()["error"]["message"]


def test_conditions(client: TestClient) -> None:
    cond = {"k": "status", "v": "x", "o": "not"}

    def search(n: int) -> Any:
        return client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": {"filter": [cond] * n}})

    assert search(3).status_code == 200
    assert "max_conditions" in search(4).json()["error"]["message"]


def test_stages(client: TestClient) -> None:
    def stat(n: int) -> Any:
        return client.post(
            "/inventory/v1/jobs/stat",
            json={"domain_id": D1, "query": {"aggregate": [{"skip": 0}] * (n - 1) + [{"count": {"name": "n"}}]}},
        )

    assert stat(2).json() == {"results": [{"n": 7}]}
    assert "max_stages" in stat(3).json()["error"]["message"]


def test_introspection_can_be_switched_off() -> None:
    with TestClient(create_app(Settings(introspection=False), memory_with(dataset()))) as client:
        body = gql(client, "{ __schema { queryType { name } } }")
        assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()
        assert "errors" not in gql(client, f'{{ jobs(domainId: "{D1}") {{ totalCount }} }}')


@pytest.mark.parametrize(
    "document",
    [
        "{ ...Nope }",
        '{ jobs(domainId: "x") { ...F } }',
        "query { __typename ...on Query { ...X } }",
        "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }",
        "fragment A on Query { ...A } { ...A }",
    ],
)
def test_limit_rules_are_safe_on_invalid_documents(client: Any, document: str) -> None:
    """Undefined fragments and fragment cycles are validation errors the client can
    read, not a crash of a limit rule."""
    body = client.post("/graphql", json={"query": document}).json()
    assert "data" not in body  # a request error: execution never began
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_GRAPHQL_DOCUMENT"}
    assert "fragment" in body["errors"][0]["message"].lower()
