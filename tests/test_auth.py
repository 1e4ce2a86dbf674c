"""Authentication and tenant isolation: a matrix of tokens x every route, and no row
of another domain or project, ever."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, D2, dataset

SECRET = "s" * 40


def _rsa() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY_D1, KEY_D2 = _rsa(), _rsa()


def token(claims: dict[str, Any] | None = None, *, key: Any = KEY_D1, alg: str = "RS256", **overrides: Any) -> str:
    payload = {
        "did": D1,
        "aud": "user-1",
        "user_type": "USER",
        "exp": int(time.time()) + 3600,
        **(claims or {}),
        **overrides,
    }
    return jwt.encode(payload, key, algorithm=alg)


def unsigned(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


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


def call(client: TestClient, route: str, bearer: str | None, domain: str | None) -> tuple[int, str | None, list[dict]]:
    """(HTTP status, error code or None, result rows) of one route."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    d = {"domain_id": domain} if domain else {}
    if route.startswith("rest"):
        if route == "rest-search":
            response = client.post("/inventory/v1/jobs/search", json=d, headers=headers)
        elif route == "rest-get":
            response = client.get("/inventory/v1/jobs", params=d, headers=headers)
        else:
            response = client.post(
                "/inventory/v1/jobs/stat",
                json={
                    **d,
                    "query": {
                        "aggregate": [
                            {
                                "group": {
                                    "keys": [
                                        {"key": "job_id", "name": "job_id"},
                                        {"key": "domain_id", "name": "domain_id"},
                                        {"key": "projects", "name": "projects"},
                                    ]
                                }
                            }
                        ]
                    },
                },
                headers=headers,
            )
        body = response.json()
        return response.status_code, body.get("error", {}).get("code"), body.get("results", [])
    arg = f', domainId: "{domain}"' if domain else ""
    query = {
        "gql-jobs": f"{{ jobs({arg.lstrip(', ')}) {{ results {{ jobId domainId }} }} }}".replace("jobs()", "jobs"),
        "gql-job": f'{{ a: job(jobId: "job-000000000001"{arg}) {{ jobId domainId }} b: job(jobId: "job-000000000002"{arg}) {{ jobId domainId }} c: job(jobId: "job-0000000000d8"{arg}) {{ jobId domainId }} }}',
        "gql-stat": f'{{ jobStat(query: {{aggregate: [{{group: {{keys: [{{key: "job_id", name: "job_id"}}, {{key: "domain_id", name: "domain_id"}}]}}}}]}}{arg}) }}',
    }[route]
    response = client.post("/graphql", json={"query": query}, headers=headers)
    body = response.json()
    if body.get("errors"):
        return response.status_code, body["errors"][0]["extensions"]["code"], []
    data = body["data"]
    if route == "gql-jobs":
        rows = data["jobs"]["results"]
    elif route == "gql-job":
        rows = [v for v in data.values() if v is not None]
    else:
        rows = data["jobStat"]["results"]
    return (
        200,
        None,
        [
            {"job_id": r.get("job_id") or r.get("jobId"), "domain_id": r.get("domain_id") or r.get("domainId")}
            for r in rows
        ],
    )


ROUTES = ["rest-search", "rest-get", "rest-stat", "gql-jobs", "gql-job", "gql-stat"]
# GraphQL: the caller is authenticated before execution, a 401 with no data.
UNAUTHENTICATED = {"rest": (401, "ERROR_AUTHENTICATE_FAILURE"), "gql": (401, "UNAUTHENTICATED")}
FORBIDDEN = {"rest": (403, "ERROR_PERMISSION_DENIED"), "gql": (200, "FORBIDDEN")}

BAD_TOKENS = {
    "no token": None,
    "garbage": "not.a.jwt",
    "bad signature": token(key=KEY_D2),  # did D1, signed with D2's key
    "expired": token(exp=int(time.time()) - 10),
    "alg none": unsigned({"did": D1, "exp": int(time.time()) + 3600}),
    "HS256 where only RS256 is configured": token(key=SECRET, alg="HS256"),
    "domain with no key": token(did="domain-without-key"),
    "no exp": jwt.encode({"did": D1}, KEY_D1, algorithm="RS256"),
}


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
