"""Trusted documents (a manifest of id -> document), Apollo's automatic persisted
queries, and the bounded operation label of the metrics - through a real HTTP client
against a live gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from gateway.app import create_app
from gateway.http.documents import export_documents, sha256_id
from gateway.settings import Settings, SettingsError
from tests.conftest import ROOT, fixed_clock, memory_with
from tests.dataset import D1, dataset
from tests.live import live_server

MANIFEST = json.loads((ROOT / "gateway" / "http" / "persisted-documents.json").read_text())
EXAMPLES = json.loads((ROOT / "gateway" / "http" / "examples.json").read_text())
GRJ = "application/graphql-response+json"
VARIABLES = {"domainId": D1}
OWN = f'query Mine {{ jobs(domainId: "{D1}") {{ totalCount }} }}'


def _serve(**settings: Any) -> Iterator[httpx.Client]:
    app = create_app(Settings(**settings), memory_with(dataset()), clock=fixed_clock)
    with live_server(app) as url, httpx.Client(base_url=url, headers={"accept": GRJ}) as client:
        yield client


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    yield from _serve(persisted_query_cache_bytes=1000)


@pytest.fixture(scope="module")
def trusted_only() -> Iterator[httpx.Client]:
    yield from _serve(trusted_documents_only=True)


def _id(name: str) -> str:
    return next(e["documentId"] for e in EXAMPLES if e["name"] == name)


def reason(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["reason"]


def test_the_shipped_manifest_is_built_from_the_example_operations() -> None:
    built = export_documents(ROOT / "schema" / "operations")
    for name, text in built.items():
        assert (ROOT / "gateway" / "http" / name).read_text() == text, (
            f"{name} is stale: run `job-gateway export-documents`"
        )
    assert len(MANIFEST) == len(list((ROOT / "schema" / "operations").glob("*.graphql")))
    assert all(key == sha256_id(document) for key, document in MANIFEST.items())


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_document_id_runs_the_trusted_document(http: httpx.Client, method: str) -> None:
    params = {"documentId": _id("ListJobs"), "variables": VARIABLES}
    if method == "GET":
        response = http.get("/graphql", params={**params, "variables": json.dumps(VARIABLES)})
    else:
        response = http.post("/graphql", json=params)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["jobs"]["totalCount"] == 7
    prefixed = http.post("/graphql", json={**params, "documentId": "sha256:" + _id("ListJobs")})
    assert prefixed.json()["data"]["jobs"]["totalCount"] == 7


def test_an_unknown_document_id_is_refused_by_name(http: httpx.Client) -> None:
    response = http.get("/graphql", params={"documentId": "0" * 64})
    assert response.status_code == 400 and reason(response) == "ERROR_UNTRUSTED_DOCUMENT"


def test_trusted_documents_only_refuses_any_other_document(trusted_only: httpx.Client) -> None:
    own = trusted_only.post("/graphql", json={"query": OWN})
    assert own.status_code == 400 and reason(own) == "ERROR_UNTRUSTED_DOCUMENT"
    assert "trusted documents only" in own.json()["errors"][0]["message"]
    by_id = trusted_only.get("/graphql", params={"documentId": _id("ListJobs"), "variables": json.dumps(VARIABLES)})
    assert by_id.json()["data"]["jobs"]["totalCount"] == 7
    # The manifest's own text is trusted, whether sent as is or by its hash.
    listed = MANIFEST[_id("ListJobs")]
    assert trusted_only.post("/graphql", json={"query": listed, "variables": VARIABLES}).status_code == 200
    hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": _id("ListJobs")}}, "variables": VARIABLES}
    assert trusted_only.post("/graphql", json=hashed).json()["data"]["jobs"]["totalCount"] == 7
    # Automatic persisted queries are off: a new hash cannot be registered.
    apq = {"query": OWN, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_id(OWN)}}}
    assert reason(trusted_only.post("/graphql", json=apq)) == "ERROR_UNTRUSTED_DOCUMENT"
    again = trusted_only.post("/graphql", json={"extensions": apq["extensions"]})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    batch = trusted_only.post(
        "/graphql", json=[{"documentId": _id("ListJobs"), "variables": VARIABLES}, {"query": OWN}]
    )
    first, second = batch.json()
    assert first["data"]["jobs"]["totalCount"] == 7 and "data" not in second


def test_automatic_persisted_queries(http: httpx.Client) -> None:
    """Apollo's protocol: the hash alone; PersistedQueryNotFound; the hash with the
    query; then the hash alone again, over GET so that a CDN may cache it."""
    query = f'query Apq {{ jobs(domainId: "{D1}", status: [ERROR]) {{ totalCount }} }}'
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_id(query)}}
    get = {"extensions": json.dumps(extensions)}
    miss = http.get("/graphql", params=get)
    (error,) = miss.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"  # what Apollo Client and urql retry on
    assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND", "reason": "ERROR_PERSISTED_QUERY_NOT_FOUND"}
    registered = http.post("/graphql", json={"query": query, "extensions": extensions})
    assert registered.json() == {"data": {"jobs": {"totalCount": 1}}}
    assert http.get("/graphql", params=get).json() == {"data": {"jobs": {"totalCount": 1}}}
    wrong = http.post("/graphql", json={"query": OWN, "extensions": extensions})
    assert wrong.status_code == 400 and "does not match" in wrong.json()["errors"][0]["message"]


def test_the_persisted_query_cache_is_bounded(http: httpx.Client) -> None:
    """1,000 bytes of documents: registering more evicts the least recently used."""
    queries = [f'query Q{i} {{ jobs(domainId: "{D1}", jobId: ["{i:0200d}"]) {{ totalCount }} }}' for i in range(8)]
    for query in queries:
        hashed = {"persistedQuery": {"version": 1, "sha256Hash": sha256_id(query)}}
        assert http.post("/graphql", json={"query": query, "extensions": hashed}).status_code == 200
    found = []
    for query in queries:
        hashed = {"persistedQuery": {"version": 1, "sha256Hash": sha256_id(query)}}
        found.append("data" in http.post("/graphql", json={"extensions": hashed}).json())
    assert found[-1] and not found[0]
    assert sum(found) * len(queries[0]) <= 1000


def test_manifests_in_codegen_relay_and_apollo_formats(tmp_path: Path) -> None:
    relay_id, apollo_id = "a1b2c3", "op-1"
    flat = tmp_path / "persisted_queries.json"
    flat.write_text(json.dumps({relay_id: OWN}))
    apollo = tmp_path / "manifest.json"
    apollo.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": apollo_id, "name": "Mine", "type": "query", "body": OWN}],
            }
        )
    )
    for path, key in ((flat, relay_id), (apollo, apollo_id)):
        app = create_app(Settings(trusted_documents=str(path), trusted_documents_only=True), memory_with(dataset()))
        with live_server(app) as url:
            answer = httpx.post(f"{url}/graphql", json={"documentId": key}).json()
        assert answer == {"data": {"jobs": {"totalCount": 7}}}
    broken = tmp_path / "broken.json"
    for content, mentions in (
        ("{", "is not JSON"),
        ('{"x": 5}', "maps document ids"),
        ('{"x": "{"}', "does not parse"),
    ):
        broken.write_text(content)
        with pytest.raises(SettingsError, match=mentions):
            create_app(Settings(trusted_documents=str(broken)))


def test_metrics_label_only_the_manifests_operations(http: httpx.Client) -> None:
    """Operation names come from clients: 200 invented names are one series, `other`."""
    for i in range(200):
        http.post("/graphql", json={"query": f'query Invented{i} {{ jobs(domainId: "{D1}") {{ totalCount }} }}'})
    http.post("/graphql", json={"documentId": _id("ListJobs"), "variables": VARIABLES})
    http.post("/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    text = http.get("/metrics").text
    assert "Invented" not in text
    operations = {line.split('operation="')[1].split('"')[0] for line in text.splitlines() if "requests_total{" in line}
    assert {"ListJobs", "other", "batch"} <= operations <= {"", "other", "batch", *(e["name"] for e in EXAMPLES)}
    latency_series = [
        line for line in text.splitlines() if line.startswith("job_gateway_request_duration_seconds_count")
    ]
    assert len(latency_series) <= 2 + len(EXAMPLES) + 2  # /metrics, /graphql x (manifest + other + batch)


def test_a_document_larger_than_the_whole_cache_runs_and_is_not_kept(http: httpx.Client) -> None:
    """The cache is bounded in UTF-8 bytes (1,000 here): a larger document is answered
    (never a 500), and asking for it by hash alone is PersistedQueryNotFound."""
    query = '{ jobs(domainId: "' + D1 + '", jobId: ["' + "é" * 600 + '"]) { totalCount } }'
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": sha256_id(query)}}
    assert len(query) < 1000 < len(query.encode())
    assert http.post("/graphql", json={"query": query, "extensions": hashed}).json() == {
        "data": {"jobs": {"totalCount": 0}}
    }
    assert reason(http.post("/graphql", json={"extensions": hashed})) == "ERROR_PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"documentId": "x", "query": "{ __typename }"}, "not both"),
        ({"documentId": "x", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}, "not both"),
        ({"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 2, "sha256Hash": "ab"}}}, "version must be 1"),
        ({"extensions": {"persistedQuery": {"sha256Hash": "ab"}}}, "version must be 1"),
        ({"extensions": {"persistedQuery": {"version": "1", "sha256Hash": "ab"}}}, "version must be 1"),
    ],
)  # fmt: skip
def test_ambiguous_or_unknown_persisted_requests_are_named_errors(
    http: httpx.Client, body: dict[str, Any], needle: str
) -> None:
    response = http.post("/graphql", json=body)
    assert response.status_code == 400 and reason(response) == "ERROR_INVALID_REQUEST_BODY"
    assert needle in response.json()["errors"][0]["message"]
