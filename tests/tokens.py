"""Tokens as SpaceONE's identity service signs them, the keys that sign them, a set of
bad tokens, and one call of each route with a bearer token: the shared material of the
authentication tests (test_auth, test_tokens, test_graphql_nodes)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from tests.dataset import D1

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
                                        {"key": "project_id", "name": "project_id"},
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
