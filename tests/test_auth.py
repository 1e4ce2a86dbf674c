"""Authentication and tenant isolation: a matrix of tokens x every route, and no row
of another domain or project, ever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, D2, dataset
from tests.tokens import BAD_TOKENS, KEY_D1, KEY_D2, ROUTES, SECRET, call, token


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    jwks = {
        D1: json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY_D1.public_key())),
        D2: json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY_D2.public_key())),
    }
    path.write_text(json.dumps(jwks))
    return path


@pytest.fixture(scope="module")
def rs_client(keys_file: Path) -> Any:
    with TestClient(
        create_app(Settings(jwt_public_keys=str(keys_file)), memory_with(dataset()), clock=fixed_clock)
    ) as client:
        yield client


@pytest.fixture(scope="module")
def hs_client() -> Any:
    with TestClient(create_app(Settings(jwt_secret=SECRET), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


# GraphQL: the caller is authenticated before execution, a 401 with no data.
UNAUTHENTICATED = {"rest": (401, "ERROR_AUTHENTICATE_FAILURE"), "gql": (401, "UNAUTHENTICATED")}
FORBIDDEN = {"rest": (403, "ERROR_PERMISSION_DENIED"), "gql": (200, "FORBIDDEN")}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_bad_tokens_are_unauthenticated(rs_client: TestClient, route: str, case: str) -> None:
    status, code, rows = call(rs_client, route, BAD_TOKENS[case], D1)
    assert (status, code) == UNAUTHENTICATED[route.split("-", maxsplit=1)[0]]
    assert rows == []


@pytest.mark.parametrize("route", ROUTES)
def test_another_domain_is_forbidden(rs_client: TestClient, route: str) -> None:
    status, code, rows = call(rs_client, route, token(), D2)
    assert (status, code) == FORBIDDEN[route.split("-", maxsplit=1)[0]]
    assert rows == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("named", [True, False])
def test_domain_comes_from_the_token(rs_client: TestClient, route: str, named: bool) -> None:
    status, code, rows = call(rs_client, route, token(), D1 if named else None)
    assert (status, code) == (200, None)
    assert rows and {r["domain_id"] for r in rows} == {D1}
    status, code, rows = call(rs_client, route, token({"did": D2}, key=KEY_D2), None)
    assert (status, code) == (200, None)
    assert rows and {r["domain_id"] for r in rows} == {D2}


@pytest.mark.parametrize("route", ROUTES)
def test_project_scoped_token_sees_only_its_projects(rs_client: TestClient, route: str) -> None:
    status, code, rows = call(rs_client, route, token({"projects": ["project-b"]}), None)
    assert (status, code) == (200, None)
    expected = {"job-000000000002", "job-0000000old04"}
    if route == "gql-job":
        expected = {"job-000000000002"}  # of the three asked for, the only one in project-b
    assert {r["job_id"] for r in rows} == expected
    status, code, rows = call(rs_client, route, token({"projects": []}), None)
    assert (status, code, rows) == (200, None, [])


UNSHOWN_READS = {
    "group key projects": [{"group": {"keys": [{"key": "projects", "name": "p"}]}}],
    "group key collector_id": [{"group": {"keys": [{"key": "collector_id", "name": "c"}]}}],
    "push collector": [{"group": {"fields": [{"name": "c", "operator": "push", "key": "collector"}]}}],
    "push sub-field": [
        {"group": {"fields": [{"name": "c", "operator": "push", "fields": [{"key": "projects", "name": "p"}]}]}}
    ],
    "whole errors": [{"group": {"fields": [{"name": "e", "operator": "add_to_set", "key": "errors"}]}}],
    "whole plugin_info": [{"group": {"keys": [{"key": "collector_info.plugin_info", "name": "p"}]}}],
    "unwind projects": [{"unwind": {"path": "projects"}}, {"count": {"name": "n"}}],
    "project projects": [{"project": {"fields": [{"key": "projects", "name": "p"}]}}],
    "group condition": [
        {
            "group": {
                "fields": [{"name": "n", "operator": "count", "conditions": [{"k": "projects", "v": "x", "o": "eq"}]}]
            }
        }
    ],
    "sort then count": [{"sort": {"key": "collector_id"}}, {"count": {"name": "n"}}],
}


@pytest.mark.parametrize("reads", list(UNSHOWN_READS))
@pytest.mark.parametrize("api", ["rest", "gql"])
def test_project_scoped_stat_reads_only_what_the_list_shows(rs_client: TestClient, api: str, reads: str) -> None:
    """A project-scoped caller sees through stat what the list shows it (sections 3 and
    7: no collector_id, no projects): its stages may not read projects, the collector
    references or whole sub-documents; a domain-wide caller's may."""
    aggregate = UNSHOWN_READS[reads]
    for claims, expected in (({"projects": ["project-a"]}, FORBIDDEN[api]), ({}, (200, None))):
        headers = {"Authorization": f"Bearer {token(claims)}"}
        if api == "rest":
            body = {"query": {"aggregate": aggregate}}
            response = rs_client.post("/inventory/v1/jobs/stat", json=body, headers=headers)
            answer = response.json()
            errors = [answer["error"]] if "error" in answer else []
            codes = [e["code"] for e in errors]
        else:
            document = "query($q: StatisticsQueryInput!) { jobStat(query: $q) }"
            variables = {"q": {"aggregate": aggregate}}
            response = rs_client.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
            answer = response.json()
            errors = answer.get("errors", [])
            codes = [e["extensions"]["code"] for e in errors]
        assert (response.status_code, codes[0] if codes else None) == expected, (claims, answer)
        if codes:
            assert "project-scoped" in errors[0]["message"] and "query.aggregate[" in errors[0]["message"]


@pytest.mark.parametrize("distinct", ["projects", "collector_id", "collector", "errors"])
def test_project_scoped_distinct_reads_only_what_the_list_shows(rs_client: TestClient, distinct: str) -> None:
    scoped = {"Authorization": f"Bearer {token({'projects': ['project-a']})}"}
    response = rs_client.post("/inventory/v1/jobs/stat", json={"query": {"distinct": distinct}}, headers=scoped)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "ERROR_PERMISSION_DENIED")
    assert f'query.distinct "{distinct}"' in response.json()["error"]["message"]
    # What the list shows stays readable, and the filter may name projects, as the list's may.
    shown = {"distinct": "errors.error_code", "filter": [{"k": "projects", "v": "project-a", "o": "eq"}]}
    assert rs_client.post("/inventory/v1/jobs/stat", json={"query": shown}, headers=scoped).json()["results"]


def test_project_scope_holds_for_collector_filters_and_joins(rs_client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {token({'projects': ['project-a']})}"}
    body = {"query": {"filter": [{"k": "collector_info.provider", "v": "aws", "o": "not"}]}}
    rows = rs_client.post("/inventory/v1/jobs/search", json=body, headers=headers).json()["results"]
    assert [r["job_id"] for r in rows] == ["job-000000000002"]
    stat = {"query": {"distinct": "collector_info.provider"}}
    assert rs_client.post("/inventory/v1/jobs/stat", json=stat, headers=headers).json() == {
        "results": ["aws", "google_cloud"]
    }


def test_hs256_secret(hs_client: TestClient) -> None:
    good = token(key=SECRET, alg="HS256")
    assert call(hs_client, "rest-search", good, None)[0] == 200
    assert call(hs_client, "rest-search", token(key="t" * 40, alg="HS256"), None)[:2] == (
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    )
    assert call(hs_client, "rest-search", token(), None)[:2] == (
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    )  # RS256 not configured
    assert call(hs_client, "gql-jobs", good, D2)[:2] == (200, "FORBIDDEN")


def test_errors_do_not_leak_why_beyond_the_token(rs_client: TestClient) -> None:
    response = rs_client.post("/inventory/v1/jobs/search", json={}, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401 and "bearer" in response.json()["error"]["message"].lower()


def test_bad_key_files_stop_start_up(tmp_path: Path) -> None:
    from gateway.settings import SettingsError

    for content, mentions in [
        ("{", "is not JSON"),
        ("[]", "must be an object of domain ids"),
        (json.dumps({D1: {"kty": "RSA"}}), "not an RSA public JWK"),
    ]:
        path = tmp_path / "k.json"
        path.write_text(content)
        with pytest.raises(SettingsError, match=mentions):
            create_app(Settings(jwt_public_keys=str(path)))
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY_D1))
    path.write_text(json.dumps({D1: private}))
    with pytest.raises(SettingsError, match="is a private key: give its public half"):
        create_app(Settings(jwt_public_keys=str(path)))
