"""Fuzzing of what arrives on every route before any query language is read: JSON
bodies of any shape, type, nesting and size, bytes that are not JSON, media types, and
query-string parameters. Whatever arrives, the answer is never a 5xx: a 200, or a 4xx
in the route's own error shape (REST's envelope, GraphQL's errors), within budget.

CI runs a derandomized 150 examples per test; ``JOB_GATEWAY_FUZZ_EXAMPLES=10000``
runs more on a developer's machine (a new set each run)."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset

BUDGET_SECONDS = 10.0  # a stall guard, not a performance measure (the machine may be loaded)
MAX_BODY_BYTES = 4096
POST_ROUTES = ("/inventory/v1/jobs/search", "/inventory/v1/jobs/stat", "/graphql")
GET_ROUTES = ("/inventory/v1/jobs", "/graphql")

FUZZ = settings(
    max_examples=int(os.environ.get("JOB_GATEWAY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NAMES = st.sampled_from(
    ["query", "variables", "operationName", "extensions", "documentId", "persistedQuery", "sha256Hash", "version",
     "domain_id", "job_id", "status", "filter", "filter_or", "page", "limit", "start", "aggregate", "distinct", "k",
     "v", "o", "key", "value", "operator", "sort", "keys", "only", "group", "fields", "$where", "__proto__"]
) | st.text(max_size=8)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["{ __typename }", "{", "query Q($a: Int) { __typename }", "now", "ERROR", D1, "\U0001f600", ""]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(NAMES, inner, max_size=5),
    max_leaves=30,
)
DOCUMENTS = st.sampled_from(
    [
        "{ __typename }",
        f'{{ jobs(domainId: "{D1}") {{ totalCount results {{ jobId collectorInfo {{ name }} }} }} }}',
        "query Q($q: JobQueryInput, $d: String) { jobs(domainId: $d, query: $q) { totalCount } }",
        "query S($q: StatisticsQueryInput!, $d: String) { jobStat(domainId: $d, query: $q) }",
        "query J($id: ID!) { job(jobId: $id) { jobId } }",
        "mutation { __typename }",
        "subscription { __typename }",
        "{ ...F }",
        "{ results {} }",
        "{}",
    ]
) | st.text(max_size=60)
GRAPHQL_REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "query": DOCUMENTS | VALUES,
        "variables": st.fixed_dictionaries({}, optional={"q": VALUES, "d": VALUES, "id": VALUES}) | VALUES,
        "operationName": st.sampled_from(["Q", "S", "J", "Nope"]) | VALUES,
        "extensions": st.fixed_dictionaries(
            {},
            optional={"persistedQuery": st.fixed_dictionaries({}, optional={"version": VALUES, "sha256Hash": VALUES})},
        )
        | VALUES,
        "documentId": st.text(max_size=70) | VALUES,
    },
)
REST_REQUESTS = st.fixed_dictionaries({}, optional={"domain_id": st.just(D1) | VALUES, "query": VALUES})


@st.composite
def nested(draw: Any, most: int = 3000) -> str:
    """A request whose JSON nests arrays or objects ``depth`` deep, somewhere inside."""
    depth = draw(st.integers(0, most))
    if draw(st.booleans()):
        inner = "[" * depth + draw(st.sampled_from(["", "1", '"x"', "{}"])) + "]" * depth
    else:
        inner = '{"a":' * depth + "1" + "}" * depth
    return draw(
        st.sampled_from(
            [
                inner,
                f'{{"query": {inner}}}',
                f'{{"domain_id": "{D1}", "query": {{"filter": [{{"k": "job_id", "o": "in", "v": {inner}}}]}}}}',
                f'{{"query": "{{ __typename }}", "variables": {{"q": {inner}}}}}',
                f"[{inner}]",
            ]
        )
    )


BODIES = st.one_of(
    VALUES.map(json.dumps),
    GRAPHQL_REQUESTS.map(json.dumps),
    st.lists(GRAPHQL_REQUESTS, max_size=12).map(json.dumps),  # batches, over the limit too
    REST_REQUESTS.map(json.dumps),
    nested(),
    st.binary(max_size=200),  # not JSON, maybe not UTF-8
    st.builds(lambda s, cut: s[:cut], GRAPHQL_REQUESTS.map(json.dumps), st.integers(0, 200)),  # truncated
    st.builds(lambda n: json.dumps({"query": "{ __typename }", "pad": "x" * n}), st.integers(3900, 4200)),  # sizes
    st.sampled_from(['"\\ud800"', '{"query": "{ __typename }", "operationName": "\\udfff"}', "NaN", "1e999"]),
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "application/json; charset=latin-1", "text/plain",
     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/graphql", ""]
)  # fmt: skip
ACCEPTS = st.sampled_from(
    ["", "*/*", "application/json", "application/graphql-response+json", "text/html", "text/csv", "application/*;q=0"]
)


@pytest.fixture(scope="module")
def client() -> Any:
    app = create_app(
        Settings(max_body_bytes=MAX_BODY_BYTES, max_batch_operations=5), memory_with(dataset()), clock=fixed_clock
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def check(route: str, call: Any) -> None:
    started = time.perf_counter()
    response = call()
    assert time.perf_counter() - started < BUDGET_SECONDS
    assert response.status_code < 500, response.text
    if not response.content or response.headers.get("content-type", "").startswith("text/html"):
        return  # HEAD, OPTIONS, GraphiQL
    body = response.json()
    if route == "/graphql":
        answers = body if isinstance(body, list) else [body]
        for answer in answers:
            assert "data" in answer or answer["errors"], answer
            for error in answer.get("errors", []):
                assert error["message"] and error["extensions"]["code"], error
    elif response.status_code != 200:
        assert body["error"]["code"].startswith("ERROR_"), body


@FUZZ
@given(route=st.sampled_from(POST_ROUTES), body=BODIES, content_type=CONTENT_TYPES, accept=ACCEPTS)
def test_any_body_on_any_route(client: TestClient, route: str, body: Any, content_type: str, accept: str) -> None:
    headers = {"content-type": content_type, "accept": accept}
    content = body if isinstance(body, bytes) else body.encode()
    check(route, lambda: client.post(route, content=content, headers=headers))


@FUZZ
@given(
    route=st.sampled_from(GET_ROUTES),
    # (httpx refuses URLs over 64 KiB: 1,500 deep stays under that, well over the limit)
    params=st.dictionaries(NAMES, st.text(max_size=40) | VALUES.map(json.dumps) | nested(1500), max_size=5),
    accept=ACCEPTS,
    method=st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]),
)
def test_any_parameters_and_method_on_any_route(
    client: TestClient, route: str, params: dict[str, str], accept: str, method: str
) -> None:
    check(route, lambda: client.request(method, route, params=params, headers={"accept": accept}))


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("depth", [900, 1000, 1800])
def test_deep_json_is_one_client_error_and_one_log_line(
    client: TestClient, route: str, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11: a body nested about 1,000 deep (4 KB) answered 500 and logged two
    tracebacks; 900 deep was a 400. Every depth over the limit is the same 400."""
    body = '{"domain_id": "' + D1 + '", "query": {"filter": ' + "[" * depth + "]" * depth + "}}"
    with caplog.at_level(logging.INFO):
        response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    reason = (
        response.json()["errors"][0]["extensions"]["reason"]
        if route == "/graphql"
        else response.json()["error"]["code"]
    )
    assert reason == "ERROR_INVALID_REQUEST_BODY"
    assert "max_json_depth" in response.text
    assert [r.name for r in caplog.records if r.name.startswith("gateway")] == ["gateway.access"]  # no traceback


@pytest.mark.parametrize(
    "text",
    [
        '{"domain_id": "' + D1 + '", "query": {"filter": [{"k": "job_\\udc00", "v": 1, "o": "eq"}]}}',
        '{"domain_id": "\\ud800"}',
        '{"query": "{ __typename }", "operationName": "\\ud800"}',
    ],
)
@pytest.mark.parametrize("route", POST_ROUTES)
def test_unpaired_surrogates_are_refused(client: TestClient, route: str, text: str) -> None:
    """A lone surrogate escaped in JSON is not a character: echoing it in an error
    message used to fail the UTF-8 encoder (500)."""
    response = client.post(route, content=text, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "surrogate" in response.text
    paired = client.post(
        "/inventory/v1/jobs/search",
        content='{"domain_id": "' + D1 + '", "query": {"keyword": "\\ud83d\\ude00"}}',
        headers={"content-type": "application/json"},
    )
    assert paired.status_code == 200  # a pair is one character (U+1F600)


@pytest.mark.parametrize("body", ["true", "5", '"x"', "null", "[]", "[1, 2]"])
def test_json_that_is_not_an_object_is_a_client_error_on_every_route(client: TestClient, body: str) -> None:
    for route in POST_ROUTES:
        response = client.post(route, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, (route, body)
        assert "ERROR_INVALID_REQUEST_BODY" in response.text, (route, body)
