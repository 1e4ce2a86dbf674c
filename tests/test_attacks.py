"""The attack table of docs/security.md as one parametrised suite.

Each attack is tried through REST and through GraphQL (where it has a form there), on
every engine: the embedded one, and the wire engine when ``MONGODB_URI`` is set. The
gateway under attack runs with authentication on: RS256 keys for two domains, an HS256
secret for every other domain, an issuer to check, the default limits.

docs/security.md lists every attack here with what it tries and what the gateway
answers; ``test_the_security_page_lists_every_attack`` keeps the two the same
(``python -m tests.test_attacks`` prints the table).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.auth import FAILED
from gateway.settings import Settings
from gateway.store.factory import open_store
from tests import engines
from tests.conftest import BUDGET_MS, CountingStore, MongoSeed, fixed_clock, memory_with
from tests.dataset import D1, D1_JOB_IDS, D2, dataset
from tests.routes import graphql_names

ROOT = Path(__file__).resolve().parent.parent
SECURITY_PAGE = ROOT / "docs" / "security.md"
SECRET = "k" * 40
ISSUER = "spaceone.identity"
D3 = "domain-cccccccccccc"  # no key of its own: the shared secret serves it
D2_JOB = "job-0000000000d8"
BOTH = ("rest", "graphql")
REST: tuple[str, ...] = ("rest",)
GRAPHQL: tuple[str, ...] = ("graphql",)
KEY_D1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_D2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(claims: dict[str, Any] | None = None, *, key: Any = KEY_D1, alg: str = "RS256") -> str:
    payload = {"did": D1, "aud": "user-1", "iss": ISSUER, "exp": int(time.time()) + 3600, **(claims or {})}
    return jwt.encode({k: v for k, v in payload.items() if v is not DROP}, key, algorithm=alg)


DROP: Any = object()  # a claim left out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], secret: bytes = b"") -> str:
    """A token PyJWT would refuse to make: ``alg: none``, or HS256 keyed with bytes
    that are a public key (algorithm confusion)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if header["alg"] == "none":
        return signing_input + "."
    return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def _claims(**extra: Any) -> dict[str, Any]:
    return {"did": D1, "aud": "user-1", "iss": ISSUER, "exp": int(time.time()) + 3600, **extra}


PUBLIC_PEM_D1 = KEY_D1.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)

# --- the gateway under attack ------------------------------------------------------

JOBS_GQL = """query($q: JobQueryInput, $d: String, $jobId: [String!]) {
  jobs(domainId: $d, query: $q, jobId: $jobId) { totalCount results { jobId domainId } } }"""
STAT_GQL = "query($q: StatisticsQueryInput!, $d: String) { jobStat(domainId: $d, query: $q) }"
DEFAULT: Any = object()  # the default token: D1's, valid


@dataclass
class Answer:
    """One answer in one shape whatever the adapter: HTTP status, the error code
    (REST ``error.code``, GraphQL ``extensions.reason`` of the first error), the rows
    (job ids of a list, rows of a stat), and the raw body."""

    status: int
    code: str | None
    rows: list[Any]
    text: str
    message: str = ""


class Gateway:
    def __init__(self, client: TestClient, store: CountingStore) -> None:
        self.client = client
        self.store = store

    @staticmethod
    def _headers(bearer: Any, extra: dict[str, str] | None = None) -> dict[str, str]:
        bearer = token() if bearer is DEFAULT else bearer
        headers = {} if bearer is None else {"Authorization": bearer if " " in bearer else f"Bearer {bearer}"}
        return {**headers, **(extra or {})}

    def rest(self, method: str, path: str, *, bearer: Any = DEFAULT, **kwargs: Any) -> Answer:
        headers = self._headers(bearer, kwargs.pop("headers", None))
        response = self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 500 or (response.status_code == 500 and "ERROR_INTERNAL" in response.text)
        body = response.json()
        if response.status_code != 200:
            return Answer(response.status_code, body["error"]["code"], [], response.text, body["error"]["message"])
        rows = [r.get("job_id", r) if isinstance(r, dict) else r for r in body.get("results", [])]
        return Answer(200, None, rows, response.text)

    def graphql(self, query: str, variables: dict[str, Any] | None = None, *, bearer: Any = DEFAULT) -> Answer:
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self._headers(bearer)
        )
        return self.graphql_answer(response)

    @staticmethod
    def graphql_answer(response: Any) -> Answer:
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        data = body.get("data") if isinstance(body, dict) else None
        rows: list[Any] = []
        for value in (data or {}).values():
            if isinstance(value, dict) and "results" in value:
                rows += [r.get("jobId", r) if isinstance(r, dict) else r for r in value["results"]]
            elif value is not None:
                rows.append(value)
        if errors:
            extensions = errors[0].get("extensions", {})
            code = extensions.get("reason") or extensions.get("code")
            return Answer(response.status_code, code, rows, response.text, errors[0]["message"])
        return Answer(response.status_code, None, rows, response.text)

    def list(self, adapter: str, query: Any = None, *, bearer: Any = DEFAULT, domain: str | None = None) -> Answer:
        if adapter == "rest":
            body = {"query": query or {}, **({"domain_id": domain} if domain else {})}
            return self.rest("POST", "/inventory/v1/jobs/search", json=body, bearer=bearer)
        return self.graphql(JOBS_GQL, {"q": graphql_names(query or {}), "d": domain}, bearer=bearer)

    def stat(self, adapter: str, query: Any, *, bearer: Any = DEFAULT, domain: str | None = None) -> Answer:
        if adapter == "rest":
            body = {"query": query, **({"domain_id": domain} if domain else {})}
            return self.rest("POST", "/inventory/v1/jobs/stat", json=body, bearer=bearer)
        return self.graphql(STAT_GQL, {"q": graphql_names(query), "d": domain}, bearer=bearer)

    def raw(self, adapter: str, content: bytes | str, content_type: str = "application/json") -> Answer:
        path = "/inventory/v1/jobs/search" if adapter == "rest" else "/graphql"
        headers = {"content-type": content_type}
        if adapter == "rest":
            return self.rest("POST", path, content=content, headers=headers)
        response = self.client.post(path, content=content, headers=self._headers(DEFAULT, headers))
        return self.graphql_answer(response)

    @contextmanager
    def broken(self, message: str) -> Iterator[None]:
        """Every read of the store fails with ``message`` (a bug or a database fault)."""

        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(message)

        inner = self.store.inner
        saved = {name: inner.__dict__.get(name) for name in ("find", "count", "aggregate", "distinct")}
        for name in saved:
            setattr(inner, name, fail)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    delattr(inner, name)
                else:
                    setattr(inner, name, value)


@pytest.fixture(scope="module", params=[pytest.param("memory", id="memory"), engines.mongodb_param()])
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    keys = tmp_path_factory.mktemp("attack-keys") / "keys.json"
    jwks = {D: json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())) for D, k in ((D1, KEY_D1), (D2, KEY_D2))}
    keys.write_text(json.dumps(jwks))
    auth = {"jwt_public_keys": str(keys), "jwt_secret": SECRET, "jwt_issuer": ISSUER}
    if request.param == "memory":
        settings = Settings(**auth)
        store = CountingStore(memory_with(dataset()))
    else:
        seed: MongoSeed = request.getfixturevalue("dataset_on_server")
        settings = Settings(mongodb_uri=seed.uri, database=seed.name, max_time_ms=BUDGET_MS, **auth)
        store = CountingStore(open_store(settings))
    with TestClient(create_app(settings, store, clock=fixed_clock), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield Gateway(client, store)
        client.portal.call(store.close)


# --- the attacks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str
    tried: str
    answered: str
    check: Callable[[Gateway, str], None]
    adapters: tuple[str, ...]


ATTACKS: dict[str, Attack] = {}
KINDS = ("tokens", "scoping", "injection", "limits", "leaks", "transport")


def attack(
    name: str, kind: str, tried: str, answered: str, adapters: tuple[str, ...] = BOTH
) -> Callable[[Callable[[Gateway, str], None]], Callable[[Gateway, str], None]]:
    assert kind in KINDS and name not in ATTACKS

    def register(check: Callable[[Gateway, str], None]) -> Callable[[Gateway, str], None]:
        ATTACKS[name] = Attack(name, kind, tried, answered, check, adapters)
        return check

    return register


def refused(answer: Answer, *codes: str, status: int | None = None) -> None:
    assert answer.code in codes, (answer.code, answer.text[:300])
    assert not answer.rows, answer.rows
    if status is not None:
        assert answer.status == status, answer.status


def unauthenticated(gw: Gateway, adapter: str, bearer: Any) -> None:
    """401 with the one message, on a list and on a stat."""
    for answer in (gw.list(adapter, bearer=bearer), gw.stat(adapter, {"distinct": "job_id"}, bearer=bearer)):
        refused(answer, "ERROR_AUTHENTICATE_FAILURE", status=401)
        assert answer.message == FAILED


def _token_attack(name: str, tried: str, bearer: Callable[[], Any]) -> None:
    attack(name, "tokens", tried, "401, the one authentication message")(lambda gw, a: unauthenticated(gw, a, bearer()))


_token_attack("token-missing", "no Authorization header", lambda: None)
_token_attack("token-not-bearer", "`Authorization: Basic ...`", lambda: "Basic dXNlcjpwYXNz")
_token_attack("token-garbage", "a bearer that is not a JWT", lambda: "not.a.jwt")
_token_attack("token-wrong-signature", "domain D1's claims signed with domain D2's key", lambda: token(key=KEY_D2))
_token_attack("token-expired", "`exp` in the past", lambda: token({"exp": int(time.time()) - 10}))
_token_attack("token-no-exp", "no `exp` claim", lambda: token({"exp": DROP}))
_token_attack("token-alg-none", "`alg: none`, no signature", lambda: forged({"alg": "none", "typ": "JWT"}, _claims()))
_token_attack(
    "token-algorithm-confusion",
    "HS256 keyed with D1's RSA public key (PEM)",
    lambda: forged({"alg": "HS256", "typ": "JWT"}, _claims(), PUBLIC_PEM_D1),
)
_token_attack(
    "token-secret-for-keyed-domain",
    "HS256 with the shared secret for D1, a domain with its own key",
    lambda: token(key=SECRET, alg="HS256"),
)
_token_attack("token-other-domains-key", "D2's claims signed with D1's key", lambda: token({"did": D2}))
_token_attack(
    "token-rs256-for-unkeyed-domain", "RS256 for a domain without a key (D1's key)", lambda: token({"did": D3})
)
_token_attack("token-no-domain", "no `did` claim", lambda: token({"did": DROP}))
_token_attack(
    "token-refresh", "SpaceONE's refresh token (`ttyp: REFRESH_TOKEN`)", lambda: token({"ttyp": "REFRESH_TOKEN"})
)
_token_attack("token-other-issuer", "`iss` of another issuer", lambda: token({"iss": "someone.else"}))
_token_attack("token-no-issuer", "no `iss` (an issuer is configured)", lambda: token({"iss": DROP}))
_token_attack("token-projects-null", "`projects: null`", lambda: token({"projects": None}))
_token_attack("token-projects-not-a-list", '`projects: "project-a"`', lambda: token({"projects": "project-a"}))


@attack("token-introspection", "tokens", "introspection without a token", "401", GRAPHQL)
def _(gw: Gateway, adapter: str) -> None:
    for query in ("{ __schema { types { name } } }", "{ __typename }"):
        refused(gw.graphql(query, bearer=None), "ERROR_AUTHENTICATE_FAILURE", status=401)


@attack(
    "token-valid-secret-domain",
    "tokens",
    "a valid HS256 token of D3 (no key: the secret serves it)",
    "200, no rows of another domain",
)
def _(gw: Gateway, adapter: str) -> None:
    answer = gw.list(adapter, bearer=token({"did": D3}, key=SECRET, alg="HS256"))
    assert answer.status == 200 and answer.code is None and answer.rows == []


@attack(
    "scope-other-domain-named",
    "scoping",
    "a D1 token naming D2's `domain_id`",
    "403 `ERROR_PERMISSION_DENIED` (GraphQL `FORBIDDEN`)",
)
def _(gw: Gateway, adapter: str) -> None:
    refused(gw.list(adapter, domain=D2), "ERROR_PERMISSION_DENIED")
    refused(gw.stat(adapter, {"distinct": "job_id"}, domain=D2), "ERROR_PERMISSION_DENIED")


@attack("scope-domain-from-token", "scoping", "no `domain_id`: D1's and D2's tokens", "each its own domain's rows only")
def _(gw: Gateway, adapter: str) -> None:
    assert set(gw.list(adapter).rows) == D1_JOB_IDS
    assert gw.list(adapter, bearer=token({"did": D2}, key=KEY_D2)).rows == [D2_JOB]
    assert set(gw.stat(adapter, {"distinct": "job_id"}).rows) == D1_JOB_IDS


@attack(
    "scope-filter-on-domain", "scoping", "a D1 token filtering `domain_id eq D2`, alone and in `filter_or`", "no rows"
)
def _(gw: Gateway, adapter: str) -> None:
    other = {"k": "domain_id", "v": D2, "o": "eq"}
    for query in ({"filter": [other]}, {"filter_or": [other, {"k": "job_id", "v": D2_JOB, "o": "eq"}]}):
        answer = gw.list(adapter, query)
        assert answer.code is None and answer.rows == []
        assert gw.stat(adapter, {**query, "distinct": "job_id"}).rows == []


@attack(
    "scope-job-of-another-domain",
    "scoping",
    "D2's job asked for by id with a D1 token",
    "nothing (REST no rows, GraphQL `job: null`)",
)
def _(gw: Gateway, adapter: str) -> None:
    if adapter == "rest":
        answer = gw.rest("POST", "/inventory/v1/jobs/search", json={"job_id": [D2_JOB]})
        assert answer.status == 200 and answer.rows == []
    else:
        answer = gw.graphql(f'{{ job(jobId: "{D2_JOB}") {{ jobId }} }}')
        assert answer.code is None and json.loads(answer.text)["data"] == {"job": None}


@attack(
    "scope-node-of-another-domain", "scoping", "a node id made for D2's job, with a D1 token", "no data of D2", GRAPHQL
)
def _(gw: Gateway, adapter: str) -> None:
    node_id = _b64(json.dumps(["Job", D2, D2_JOB]).encode())
    answer = gw.graphql("query($id: ID!) { node(id: $id) { id ... on Job { jobId } } }", {"id": node_id})
    assert json.loads(answer.text).get("data", {}).get("node") is None and D2_JOB not in answer.text


@attack("scope-projects", "scoping", "a token scoped to project-b", "only jobs of project-b, in lists and statistics")
def _(gw: Gateway, adapter: str) -> None:
    scoped = token({"projects": ["project-b"]})
    assert set(gw.list(adapter, bearer=scoped).rows) == {"job-000000000002", "job-0000000old04"}
    assert set(gw.stat(adapter, {"distinct": "job_id"}, bearer=scoped).rows) == {"job-000000000002", "job-0000000old04"}
    assert gw.list(adapter, bearer=token({"projects": []})).rows == []


@attack(
    "scope-collector-of-another-domain",
    "scoping",
    "`collector_info.*` filters and the stat join on D2's collector",
    "no rows, and D2's collector never joined",
)
def _(gw: Gateway, adapter: str) -> None:
    other = {"filter": [{"k": "collector_info.name", "v": "AWS other tenant", "o": "eq"}]}
    assert gw.list(adapter, other).rows == []
    names = gw.stat(adapter, {"distinct": "collector_info.name"}).rows
    assert names and "AWS other tenant" not in names


@attack(
    "inject-operator-value", "injection", '`{"$ne": null}` and `"$domain_id"` as condition values', "literals: no rows"
)
def _(gw: Gateway, adapter: str) -> None:
    for value in ({"$ne": None}, "$domain_id", {"$gt": ""}):
        answer = gw.list(adapter, {"filter": [{"k": "job_id", "v": value, "o": "eq"}]})
        assert answer.code is None and answer.rows == [], value


@attack("inject-operator-key", "injection", "keys `$where`, `status.$ne`, `a..b`, `_id`", "400 naming the key")
def _(gw: Gateway, adapter: str) -> None:
    for key in ("$where", "status.$ne", "a..b", "_id"):
        refused(gw.list(adapter, {"filter": [{"k": key, "v": 1, "o": "eq"}]}), "ERROR_INVALID_PARAMETER")


@attack("inject-match-where", "injection", '`match` with `{"$where": "sleep(100)"}`', "400")
def _(gw: Gateway, adapter: str) -> None:
    answer = gw.list(adapter, {"filter": [{"k": "errors", "v": {"$where": "sleep(100)"}, "o": "match"}]})
    refused(answer, "ERROR_INVALID_PARAMETER", "ERROR_INVALID_PARAMETER_TYPE")


@attack(
    "inject-regex",
    "injection",
    "regex `(a+)+$` (catastrophic backtracking in PCRE) on every job; an invalid regex `[`",
    "`(a+)+$` answered in time (RE2 on the embedded engine, `maxTimeMS` on MongoDB); `[` 400",
)
def _(gw: Gateway, adapter: str) -> None:
    started = time.monotonic()
    answer = gw.list(adapter, {"filter": [{"k": "job_id", "v": "(a+)+$", "o": "regex"}]})
    assert answer.code in (None, "ERROR_DB_UNAVAILABLE") and time.monotonic() - started < 10  # a timeout: 503
    refused(gw.list(adapter, {"filter": [{"k": "job_id", "v": "[", "o": "regex"}]}), "ERROR_INVALID_PARAMETER")


@attack("leak-stat-raw-documents", "leaks", '`aggregate: [{"skip": 0}]` (rows that are whole stored jobs)', "400")
def _(gw: Gateway, adapter: str) -> None:
    refused(gw.stat(adapter, {"aggregate": [{"skip": 0}]}), "ERROR_INVALID_PARAMETER")


@attack("leak-hidden-fields", "leaks", '`only: ["_id"]`, `only: ["projects"]`', "400")
def _(gw: Gateway, adapter: str) -> None:
    for field in ("_id", "projects"):
        refused(gw.list(adapter, {"only": [field]}), "ERROR_INVALID_PARAMETER")


@attack(
    "leak-internal-error",
    "leaks",
    "a store failing with a connection string in its error",
    "500 / `INTERNAL_SERVER_ERROR`, message masked",
)
def _(gw: Gateway, adapter: str) -> None:
    with gw.broken("mongodb://admin:hunter2@db"):
        answer = gw.list(adapter)
    assert answer.code in ("ERROR_INTERNAL",) and "hunter2" not in answer.text
    assert answer.message == "Internal server error."


@attack(
    "leak-domain-existence",
    "leaks",
    "a token of an unknown domain vs a bad signature of a known one",
    "the same 401 message",
)
def _(gw: Gateway, adapter: str) -> None:
    unknown = gw.list(adapter, bearer=token({"did": "domain-nobody"}, key=SECRET + "x", alg="HS256"))
    known = gw.list(adapter, bearer=token(key=KEY_D2))
    assert unknown.message == known.message == FAILED


@attack("leak-token-echo", "leaks", "a garbage token carrying a marker", "no answer repeats it")
def _(gw: Gateway, adapter: str) -> None:
    answer = gw.list(adapter, bearer="eyJhbGciOiJIUzI1NiJ9.marker-4c1d.sig")
    assert answer.status == 401 and "marker-4c1d" not in answer.text


@attack(
    "leak-metrics-labels",
    "leaks",
    "50 invented operation names",
    "one `other` series: no name of theirs in /metrics",
    GRAPHQL,
)
def _(gw: Gateway, adapter: str) -> None:
    for i in range(50):
        gw.graphql(f"query Invented{i} {{ __typename }}")
    assert "Invented" not in gw.client.get("/metrics").text


def _limit(
    name: str,
    tried: str,
    query: Callable[[], dict[str, Any]],
    stat: bool = False,
    codes: tuple[str, ...] = ("ERROR_LIMIT_EXCEEDED",),
) -> None:
    def check(gw: Gateway, adapter: str) -> None:
        refused((gw.stat if stat else gw.list)(adapter, query()), *codes)

    attack(name, "limits", tried, "400 naming the limit or field", BOTH)(check)


_limit(
    "limit-keyword-words", "a `keyword` of 20,000 words", lambda: {"keyword": " ".join(f"w{i}" for i in range(20_000))}
)
_limit(
    "limit-list-values",
    "an `in` list of 45,000 ids",
    lambda: {"filter": [{"k": "job_id", "v": [f"job-{i:012x}" for i in range(45_000)], "o": "in"}]},
)
_limit(
    "limit-group-fields",
    "a stat `group` of 800 `push` fields",
    lambda: {
        "aggregate": [
            {"group": {"fields": [{"name": f"p{i}", "operator": "push", "key": "job_id"} for i in range(800)]}}
        ]
    },
    stat=True,
)
_limit("limit-conditions", "51 conditions", lambda: {"filter": [{"k": "status", "v": "x", "o": "not"}] * 51})
_limit(
    "limit-page-size",
    "`page.limit` over the cap (1001)",
    lambda: {"page": {"limit": 1001}},
    codes=("ERROR_LIMIT_EXCEEDED", "ERROR_INVALID_PARAMETER"),
)
_limit(
    "limit-regex-length",
    "a 2,000-character regex",
    lambda: {"filter": [{"k": "job_id", "v": "a" * 2000, "o": "regex"}]},
    codes=("ERROR_LIMIT_EXCEEDED", "ERROR_INVALID_PARAMETER"),
)


@attack(
    "limit-integers",
    "limits",
    "`limit: 2**70` in a stage, `page.limit` as a 5,000-digit string",
    "400 naming the field",
)
def _(gw: Gateway, adapter: str) -> None:
    grouped = {"group": {"keys": [{"key": "status", "name": "s"}]}}
    refused(gw.stat(adapter, {"aggregate": [grouped, {"limit": 2**70}]}), "ERROR_INVALID_PARAMETER_TYPE")
    refused(gw.list(adapter, {"page": {"limit": "1" * 5000}}), "ERROR_INVALID_PARAMETER_TYPE")


@attack("limit-body-size", "limits", "a body over `max_body_bytes` (declared, and streamed)", "413")
def _(gw: Gateway, adapter: str) -> None:
    big = json.dumps({"query": {"keyword": "x" * 1_100_000}})
    refused(gw.raw(adapter, big), "ERROR_LIMIT_EXCEEDED", status=413)


@attack("limit-json-depth", "limits", "a JSON body nested 1,000 deep (4 KB)", "400 `ERROR_INVALID_REQUEST_BODY`")
def _(gw: Gateway, adapter: str) -> None:
    refused(gw.raw(adapter, '{"query": ' + "[" * 1000 + "]" * 1000 + "}"), "ERROR_INVALID_REQUEST_BODY", status=400)


@attack(
    "limit-graphql-document",
    "limits",
    "a document 14 deep (through introspection), 31 aliases, 5,001 tokens",
    "400 `ERROR_LIMIT_EXCEEDED` (too deep an introspection: `ERROR_INVALID_GRAPHQL_DOCUMENT`)",
    GRAPHQL,
)
def _(gw: Gateway, adapter: str) -> None:
    deep = "{ __schema { types { " + "fields { type { " * 6 + "name" + " } }" * 6 + " } } }"
    refused(gw.graphql(deep), "ERROR_LIMIT_EXCEEDED", "ERROR_INVALID_GRAPHQL_DOCUMENT")
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    tokens = "{ " + "__typename " * 5001 + "}"
    for query in (aliases, tokens):
        refused(gw.graphql(query), "ERROR_LIMIT_EXCEEDED")


@attack(
    "limit-node-ids",
    "limits",
    "`nodes(ids:)` with 13,000 ids",
    "`ERROR_LIMIT_EXCEEDED` naming `max_list_values`, no query run",
    GRAPHQL,
)
def _(gw: Gateway, adapter: str) -> None:
    ids = [base64.urlsafe_b64encode(f'["Job","{D1}","job-{i:012x}"]'.encode()).decode() for i in range(13_000)]
    gw.store.calls.clear()
    answer = gw.graphql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    refused(answer, "ERROR_LIMIT_EXCEEDED")
    assert "max_list_values" in answer.message and gw.store.calls == []


@attack("limit-batch", "limits", "a batch of 11 operations", "400 `ERROR_LIMIT_EXCEEDED`", GRAPHQL)
def _(gw: Gateway, adapter: str) -> None:
    response = gw.client.post("/graphql", json=[{"query": "{ __typename }"}] * 11, headers=gw._headers(DEFAULT))
    refused(gw.graphql_answer(response), "ERROR_LIMIT_EXCEEDED", status=400)


@attack(
    "transport-form-post",
    "transport",
    "a form-encoded POST (what a cross-site form sends)",
    "415, nothing runs",
    GRAPHQL,
)
def _(gw: Gateway, adapter: str) -> None:
    answer = gw.raw(adapter, "query=%7B__typename%7D", "application/x-www-form-urlencoded")
    refused(answer, "ERROR_UNSUPPORTED_MEDIA_TYPE", status=415)


@attack("transport-mutation-over-get", "transport", "a mutation sent with GET", "405 with `Allow: POST`", GRAPHQL)
def _(gw: Gateway, adapter: str) -> None:
    response = gw.client.get("/graphql", params={"query": "mutation { __typename }"}, headers=gw._headers(DEFAULT))
    assert response.status_code == 405 and response.headers["allow"] == "POST"


@attack(
    "transport-not-an-object",
    "transport",
    "JSON bodies that are not objects (`true`, `[1]`, `null`)",
    "400 `ERROR_INVALID_REQUEST_BODY`",
)
def _(gw: Gateway, adapter: str) -> None:
    for body in ("true", "[1]", "null"):
        refused(gw.raw(adapter, body), "ERROR_INVALID_REQUEST_BODY", status=400)


@attack(
    "transport-lone-surrogate",
    "transport",
    'a key with an escaped lone surrogate (`"\\udc00"`)',
    "400 `ERROR_INVALID_REQUEST_BODY`",
)
def _(gw: Gateway, adapter: str) -> None:
    body = '{"query": {"filter": [{"k": "job_\\udc00", "v": 1, "o": "eq"}]}, "variables": {"x": "\\ud800"}}'
    refused(gw.raw(adapter, body), "ERROR_INVALID_REQUEST_BODY", status=400)


CASES = [pytest.param(a.name, adapter, id=f"{a.name}-{adapter}") for a in ATTACKS.values() for adapter in a.adapters]


@pytest.mark.parametrize(("name", "adapter"), CASES)
def test_attack(gateway: Gateway, name: str, adapter: str) -> None:
    ATTACKS[name].check(gateway, adapter)


def table() -> str:
    """The attack table of docs/security.md."""
    lines = ["| attack | kind | tried | answered | through |", "|---|---|---|---|---|"]
    for a in ATTACKS.values():
        through = " and ".join({"rest": "REST", "graphql": "GraphQL"}[x] for x in a.adapters)
        lines.append(f"| `{a.name}` | {a.kind} | {a.tried} | {a.answered} | {through} |")
    return "\n".join(lines)


def test_the_security_page_lists_every_attack() -> None:
    assert table() in SECURITY_PAGE.read_text(), (
        "docs/security.md's attack table differs from tests/test_attacks.py: paste `python -m tests.test_attacks`"
    )


if __name__ == "__main__":
    print(table())
