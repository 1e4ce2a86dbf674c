"""Tokens checked as the issuer means them (issue 20, items 3-7): which key serves
which domain, the token type, audience and issuer, the projects claim's shapes, one
401 message for every failure, and introspection behind the token - on every route of
both adapters."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.auth import FAILED, Authenticator
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, D2, dataset
from tests.tokens import BAD_TOKENS, KEY_D1, KEY_D2, ROUTES, SECRET, call, token

INTROSPECTION = "{ __schema { queryType { name } } }"


def _client(**settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(**settings), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


@pytest.fixture(scope="module")
def d1_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keys file with D1's key only: D2 is served by the shared secret."""
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    path.write_text(json.dumps({D1: json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY_D1.public_key()))}))
    return path


@pytest.fixture(scope="module")
def both(d1_keys: Path) -> Iterator[TestClient]:
    yield from _client(jwt_public_keys=str(d1_keys), jwt_secret=SECRET)


@pytest.fixture(scope="module")
def checked(d1_keys: Path) -> Iterator[TestClient]:
    yield from _client(
        jwt_public_keys=str(d1_keys), jwt_audience="job-gateway, console", jwt_issuer="spaceone.identity"
    )


@pytest.fixture(scope="module")
def public_introspection(d1_keys: Path) -> Iterator[TestClient]:
    yield from _client(jwt_public_keys=str(d1_keys), public_introspection=True)


def ok(client: TestClient, route: str, bearer: str) -> bool:
    status, code, rows = call(client, route, bearer, None)
    return status == 200 and code is None and bool(rows)


def refused(client: TestClient, route: str, bearer: str | None) -> bool:
    status, code, rows = call(client, route, bearer, None)
    return (status, code, rows) in ((401, "ERROR_AUTHENTICATE_FAILURE", []), (401, "UNAUTHENTICATED", []))


@pytest.mark.parametrize("route", ROUTES)
def test_a_domain_with_its_own_key_accepts_only_tokens_signed_by_it(both: TestClient, route: str) -> None:
    """Item 3: with keys and a secret both configured, the secret no longer speaks for
    a domain that has a key; it serves the domains that have none."""
    assert ok(both, route, token())  # D1 by its own key
    assert refused(both, route, token(key=SECRET, alg="HS256"))  # D1 by the shared secret
    assert ok(both, route, token({"did": D2}, key=SECRET, alg="HS256"))  # D2 has no key: the secret serves it
    assert refused(both, route, token({"did": D2}, key=KEY_D2))  # RS256 for a domain without a key
    assert refused(both, route, token({"did": D2}, key=KEY_D1))  # signed by another domain's key


def test_start_up_says_which_tokens_are_accepted(d1_keys: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gateway"):
        next(_client(jwt_public_keys=str(d1_keys), jwt_secret=SECRET, jwt_audience="a", jwt_issuer="i"))
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("authentication:")]
    assert "RS256 tokens signed by their own domain's key for the 1 domain of" in line
    assert "HS256 tokens signed with JOB_GATEWAY_JWT_SECRET for every other domain" in line
    assert line.endswith("checked: exp, ttyp (no refresh tokens), aud, iss")
    only_secret = Authenticator(secret=SECRET).describe()
    assert "for every domain" in only_secret and "RS256" not in only_secret


@pytest.mark.parametrize("route", ROUTES)
def test_only_access_tokens(both: TestClient, route: str) -> None:
    """Item 4: SpaceONE's refresh tokens (ttyp REFRESH_TOKEN) are not access tokens."""
    assert refused(both, route, token({"ttyp": "REFRESH_TOKEN"}))
    assert refused(both, route, token({"ttyp": "SOMETHING_ELSE"}))
    assert ok(both, route, token({"ttyp": "ACCESS_TOKEN"}))
    assert ok(both, route, token())  # no ttyp: a token of a simple set-up


@pytest.mark.parametrize("route", ROUTES)
def test_audience_and_issuer_when_configured(checked: TestClient, both: TestClient, route: str) -> None:
    """Item 4: ``aud`` one of JOB_GATEWAY_JWT_AUDIENCE, ``iss`` JOB_GATEWAY_JWT_ISSUER."""
    good = {"aud": "console", "iss": "spaceone.identity"}
    assert ok(checked, route, token(good))
    assert refused(checked, route, token({**good, "aud": "another-api"}))
    assert refused(checked, route, token({**good, "iss": "someone.else"}))
    no_aud = jwt.encode({"did": D1, "iss": "spaceone.identity", "exp": int(time.time()) + 60}, KEY_D1, "RS256")
    assert refused(checked, route, no_aud)
    assert refused(checked, route, token({"aud": "console"}))  # no iss
    assert ok(both, route, token({"aud": "anyone", "iss": "anybody"}))  # not configured: not checked


@pytest.mark.parametrize("route", ROUTES)
def test_projects_claim_shapes(both: TestClient, route: str) -> None:
    """Item 5: only an absent claim means the whole domain; null fails closed."""
    whole = call(both, route, token(), None)[2]
    assert refused(both, route, token({"projects": None}))
    assert refused(both, route, token({"projects": "project-a"}))
    assert refused(both, route, token({"projects": [1]}))
    assert call(both, route, token({"projects": []}), None) == (200, None, [])
    scoped = call(both, route, token({"projects": ["project-b"]}), None)[2]
    assert whole and scoped and len(scoped) < len(whole)


def _message(client: TestClient, route: str, bearer: str | None) -> str:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    if route.startswith("rest"):
        response = client.post("/inventory/v1/jobs/search", json={}, headers=headers)
        assert response.status_code == 401
        return str(response.json()["error"]["message"])
    response = client.post("/graphql", json={"query": "{ jobs { totalCount } }"}, headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    return str(response.json()["errors"][0]["message"])


def test_one_message_for_every_authentication_failure(both: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Item 6: no answer tells whether a domain exists or what was wrong; the log does."""
    failures = {
        **BAD_TOKENS,
        "HS256 for a domain with a key": token(key=SECRET, alg="HS256"),
        "domain unknown": token({"did": "domain-nobody"}, key=SECRET + "x", alg="HS256"),
        "refresh token": token({"ttyp": "REFRESH_TOKEN"}),
        "projects null": token({"projects": None}),
        "not bearer": None,
    }
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        messages = {_message(both, route, bearer) for route in ("rest", "gql") for bearer in failures.values()}
    assert messages == {FAILED}
    reasons = {str(getattr(r, "reason", "")) for r in caplog.records if r.name == "gateway.auth"}
    assert any("has its own key" in r for r in reasons) and any("REFRESH_TOKEN" in r for r in reasons)
    assert all(str(KEY_D1) not in r for r in reasons)


def test_introspection_needs_a_token_unless_opened(both: TestClient, public_introspection: TestClient) -> None:
    """Item 7: with authentication on, introspection answers 401 without a token, unless
    JOB_GATEWAY_PUBLIC_INTROSPECTION opens documents that only introspect."""

    def ask(client: TestClient, query: str, bearer: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return client.post("/graphql", json={"query": query}, headers=headers).status_code

    assert ask(both, INTROSPECTION) == 401
    assert ask(both, "{ __typename }") == 401
    assert ask(both, INTROSPECTION, token()) == 200
    assert ask(public_introspection, INTROSPECTION) == 200
    assert ask(public_introspection, 'query { __type(name: "Job") { name } __typename }') == 200
    # Anything beyond introspection still needs the token, however it is spelled.
    assert ask(public_introspection, "{ __schema { queryType { name } } jobs { totalCount } }") == 401
    assert ask(public_introspection, "{ ...F } fragment F on Query { jobs { totalCount } }") == 401
    assert ask(public_introspection, "{ ... on Query { jobs { totalCount } } }") == 401
    assert ask(public_introspection, "query A { __typename } query B { jobs { totalCount } }") == 401
    batch = public_introspection.post("/graphql", json=[{"query": INTROSPECTION}, {"query": "{ jobs { totalCount } }"}])
    assert batch.status_code == 401


@pytest.mark.parametrize("route", ROUTES)
def test_time_claims_are_numbers(both: TestClient, route: str) -> None:
    """NumericDate is a JSON number (RFC 7519, section 2): "exp": "9999999999" is refused
    (PyJWT alone reads a numeric string as a number)."""
    far = int(time.time()) + 3600
    assert refused(both, route, token({"exp": str(far)}))
    assert refused(both, route, token({"exp": True}))
    assert refused(both, route, token({"iat": str(far - 3600)}))
    assert refused(both, route, token({"nbf": "0"}))
    assert ok(both, route, token({"exp": far, "iat": far - 3600, "nbf": 0}))
    assert ok(both, route, token({"exp": far + 0.5}))
