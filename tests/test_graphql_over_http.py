"""/graphql as the GraphQL-over-HTTP specification describes it: media types, status
codes, one error shape for transport problems, GET/HEAD/POST, and batching."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import CountingStore, fixed_clock, memory_with
from tests.dataset import D1, dataset

GRJ = "application/graphql-response+json"
JOBS = f'{{ jobs(domainId: "{D1}") {{ totalCount }} }}'


@pytest.fixture(scope="module")
def api() -> Any:
    with TestClient(create_app(Settings(), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


def post(client: TestClient, body: Any, accept: str | None = None, **headers: str) -> Any:
    if accept is not None:
        headers["accept"] = accept
    return client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json", **headers})


# --- media types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        (None, "application/json"),  # no Accept: the legacy type (spec, "Legacy watershed")
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRJ, GRJ),
        (f"{GRJ}, application/json", GRJ),  # both accepted: the spec's type
        (f"application/json, {GRJ}", GRJ),
        (f"application/json, {GRJ};q=0.5", "application/json"),
        (f"{GRJ}, application/json;q=0.9", GRJ),  # what Apollo Client sends
        ("application/*", "application/json"),
    ],
)
def test_response_media_type_follows_accept(api: TestClient, accept: str | None, answered: str) -> None:
    response = post(api, {"query": JOBS}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{answered}; charset=utf-8"
    assert response.json() == {"data": {"jobs": {"totalCount": 7}}}


def test_no_acceptable_media_type_is_406(api: TestClient) -> None:
    response = post(api, {"query": JOBS}, "text/csv")
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "reason": "ERROR_NOT_ACCEPTABLE"}


STAGE = f'query Q($s: StageInput!) {{ jobStat(domainId: "{D1}", query: {{aggregate: [$s]}}) }}'
REQUEST_ERRORS = {
    "parse": ("{", {}, "ERROR_INVALID_GRAPHQL_DOCUMENT"),
    "validation": ("{ nope }", {}, "ERROR_INVALID_GRAPHQL_DOCUMENT"),
    "empty selection set": ('{ jobs(domainId: "x") { results {} } }', {}, "ERROR_INVALID_GRAPHQL_DOCUMENT"),
    "@oneOf violated in the document": (
        f'{{ jobStat(domainId: "{D1}", query: {{aggregate: [{{limit: 1, skip: 1}}]}}) }}',
        {},
        "ERROR_INVALID_GRAPHQL_DOCUMENT",
    ),
    "variable coercion": ("query Q($id: ID!) { job(jobId: $id) { jobId } }", {"id": None}, "ERROR_INVALID_PARAMETER_TYPE"),
    # README: variables that do not fit their types are ERROR_INVALID_PARAMETER_TYPE, @oneOf included.
    "@oneOf violated in variables": (STAGE, {"s": {"limit": 1, "skip": 1}}, "ERROR_INVALID_PARAMETER_TYPE"),
    "@oneOf with no member in variables": (STAGE, {"s": {}}, "ERROR_INVALID_PARAMETER_TYPE"),
    "@oneOf member null in variables": (STAGE, {"s": {"limit": None}}, "ERROR_INVALID_PARAMETER_TYPE"),
    "depth limit": ("{ jobs { results { collectorInfo { pluginInfo { version } } } } }", {}, "ERROR_LIMIT_EXCEEDED"),
    "unknown operation name": ("query A { __typename }", {}, "ERROR_INVALID_GRAPHQL_DOCUMENT"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REQUEST_ERRORS))
def test_request_errors_have_no_data_and_are_400_in_the_spec_type(case: str) -> None:
    query, variables, reason = REQUEST_ERRORS[case]
    body = {"query": query, "variables": variables, "operationName": "B" if "operation" in case else None}
    with TestClient(create_app(Settings(max_query_depth=3), memory_with(dataset()))) as client:
        spec = post(client, body, GRJ)
        legacy = post(client, body, "application/json")
    assert spec.status_code == 400 and legacy.status_code == 200  # legacy: 200 for every well-formed request
    for response in (spec, legacy):
        answer = response.json()
        assert "data" not in answer, answer  # GraphQL spec: no data when execution never began
        assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}, answer


def test_field_errors_keep_data_and_200(api: TestClient) -> None:
    response = post(api, {"query": '{ jobs { totalCount } job(jobId: "x", domainId: "d") { jobId } }'}, GRJ)
    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] is None  # a non-null root field failed: execution did begin
    assert answer["errors"][0]["path"] == ["jobs"]


# --- one error shape for transport problems -----------------------------------------


def _transport_cases() -> dict[str, tuple[dict[str, Any], int, str, dict[str, str]]]:
    """name -> (request, status, reason, headers the answer must carry)."""
    ok = json.dumps({"query": JOBS})
    return {
        "unsupported content type": (
            {"method": "POST", "content": ok, "headers": {"content-type": "text/plain"}},
            415,
            "ERROR_UNSUPPORTED_MEDIA_TYPE",
            {},
        ),
        "no content type": ({"method": "POST", "content": ok}, 415, "ERROR_UNSUPPORTED_MEDIA_TYPE", {}),
        "form post": (
            {"method": "POST", "content": "query=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            415,
            "ERROR_UNSUPPORTED_MEDIA_TYPE",
            {},
        ),
        "other charset": (
            {"method": "POST", "content": ok, "headers": {"content-type": "application/json; charset=latin-1"}},
            415,
            "ERROR_UNSUPPORTED_MEDIA_TYPE",
            {},
        ),
        "bad JSON": (
            {"method": "POST", "content": '{"query": ', "headers": {"content-type": "application/json"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "empty body": (
            {"method": "POST", "content": "", "headers": {"content-type": "application/json"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "no query": (
            {"method": "POST", "content": '{"qeury": "{ __typename }"}', "headers": {"content-type": "application/json"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "too large": (
            {"method": "POST", "content": json.dumps({"query": JOBS, "x": "y" * 300}), "headers": {"content-type": "application/json"}},
            413,
            "ERROR_LIMIT_EXCEEDED",
            {},
        ),
        "batch too large": (
            {"method": "POST", "content": json.dumps([{"query": "{ __typename }"}] * 3), "headers": {"content-type": "application/json"}},
            400,
            "ERROR_LIMIT_EXCEEDED",
            {},
        ),
        "empty batch": (
            {"method": "POST", "content": "[]", "headers": {"content-type": "application/json"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "wrong method": ({"method": "PUT", "content": ok}, 405, "ERROR_METHOD_NOT_ALLOWED", {"allow": "GET, HEAD, POST, OPTIONS"}),
        "DELETE": ({"method": "DELETE"}, 405, "ERROR_METHOD_NOT_ALLOWED", {"allow": "GET, HEAD, POST, OPTIONS"}),
        "mutation over GET": (
            {"method": "GET", "params": {"query": "mutation { __typename }"}},
            405,
            "ERROR_METHOD_NOT_ALLOWED",
            {"allow": "POST"},
        ),
        "GET without a query": ({"method": "GET"}, 400, "ERROR_INVALID_REQUEST_BODY", {}),
        "GET with bad variables": (
            {"method": "GET", "params": {"query": "{ __typename }", "variables": "{oops"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "query of the wrong type": (
            {"method": "POST", "content": '{"query": 5}', "headers": {"content-type": "application/json"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "variables of the wrong type": (
            {"method": "POST", "content": '{"query": "{ __typename }", "variables": "x"}', "headers": {"content-type": "application/json"}},
            400,
            "ERROR_INVALID_REQUEST_BODY",
            {},
        ),
        "no token": ({"method": "POST", "content": ok, "headers": {"content-type": "application/json"}}, 401, "ERROR_AUTHENTICATE_FAILURE", {"www-authenticate": "Bearer"}),
        "bad token": (
            {"method": "POST", "content": ok, "headers": {"content-type": "application/json", "authorization": "Bearer x.y.z"}},
            401,
            "ERROR_AUTHENTICATE_FAILURE",
            {"www-authenticate": "Bearer"},
        ),
    }  # fmt: skip


TRANSPORT = _transport_cases()


@pytest.mark.parametrize("accept", [GRJ, "application/json"])
@pytest.mark.parametrize("case", list(TRANSPORT))
def test_transport_problems_answer_one_graphql_error_shape(case: str, accept: str) -> None:
    request, status, reason, headers = TRANSPORT[case]
    settings = Settings(max_body_bytes=300, max_batch_operations=2, jwt_secret="s" * 40 if "token" in case else None)
    with TestClient(create_app(settings, memory_with(dataset()))) as client:
        request = {**request, "headers": {"accept": accept, **request.get("headers", {})}}
        response = client.request(url="/graphql", **request)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    (error,) = response.json()["errors"]
    assert set(error) == {"message", "extensions"} and error["message"]
    assert error["extensions"]["reason"] == reason
    assert error["extensions"]["code"] in {"BAD_USER_INPUT", "BAD_REQUEST", "UNAUTHENTICATED"}
    assert "data" not in response.json()
    for name, value in headers.items():
        assert response.headers[name] == value


@pytest.mark.parametrize("body", ["true", "5", '"x"', "null", "[1]", "[null]"])
def test_json_that_is_not_an_object_is_a_client_error(api: TestClient, body: str) -> None:
    response = api.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["reason"] == "ERROR_INVALID_REQUEST_BODY"


def test_rest_keeps_its_envelope(api: TestClient) -> None:
    wrong = api.put("/inventory/v1/jobs/search")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "ERROR_METHOD_NOT_ALLOWED"
    assert "POST" in wrong.headers["allow"]
    bad = api.post("/inventory/v1/jobs/search", content="{")
    assert bad.status_code == 400 and set(bad.json()) == {"error"}


def test_head_and_options(api: TestClient) -> None:
    head = api.head("/graphql", params={"query": JOBS})
    get = api.get("/graphql", params={"query": JOBS})
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    options = api.options("/graphql")
    assert options.status_code == 204 and options.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_get_runs_queries(api: TestClient) -> None:
    response = api.get(
        "/graphql",
        params={
            "query": "query Q($d: String) { jobs(domainId: $d) { totalCount } }",
            "variables": json.dumps({"d": D1}),
        },
        headers={"accept": GRJ},
    )
    assert response.status_code == 200 and response.json() == {"data": {"jobs": {"totalCount": 7}}}


# --- batching ----------------------------------------------------------------------


def test_a_batch_is_answered_in_order_each_on_its_own(api: TestClient) -> None:
    batch = [
        {"query": JOBS},
        {"query": "{"},
        {"query": "query Q($s: [JobStatusFilter!]) { jobs(domainId: \"" + D1 + '", status: $s) { totalCount } }', "variables": {"s": ["ERROR"]}},
        {"query": "{ jobs { totalCount } }"},
    ]  # fmt: skip
    response = post(api, batch, GRJ)
    assert response.status_code == 200
    first, second, third, fourth = response.json()
    assert first == {"data": {"jobs": {"totalCount": 7}}}
    assert "data" not in second and second["errors"][0]["extensions"]["reason"] == "ERROR_INVALID_GRAPHQL_DOCUMENT"
    assert third["data"]["jobs"]["totalCount"] >= 1
    assert fourth["data"] is None and fourth["errors"][0]["extensions"]["reason"] == "ERROR_REQUIRED_PARAMETER"


def test_each_operation_of_a_batch_counts_against_every_limit() -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(4))
    with TestClient(create_app(Settings(max_aliases=5), memory_with(dataset()))) as client:
        # 8 aliases in all, 4 per operation: each is within the limit of 5.
        ok = post(client, [{"query": f"{{ {aliases} }}"}, {"query": f"{{ {aliases} }}"}]).json()
        assert all("errors" not in answer for answer in ok)
        over = post(client, [{"query": f"{{ {aliases} {aliases.replace('a', 'b')} }}"}, {"query": "{ __typename }"}])
        first, second = over.json()
        assert first["errors"][0]["extensions"]["reason"] == "ERROR_LIMIT_EXCEEDED"
        assert second == {"data": {"__typename": "Query"}}


class UnevenStore(CountingStore):
    """A counting store whose job reads take different times (as a real database's
    would): the n-th job read waits 0, 20 or 40 ms, so the operations of a request
    finish their pages at different moments."""

    def __getattr__(self, name: str) -> Any:
        method = super().__getattr__(name)
        if name not in ("find", "count", "aggregate"):
            return method

        async def uneven(collection: str, *args: Any, **kwargs: Any) -> Any:
            if collection == "job":
                await asyncio.sleep(0.02 * (len(self.calls) % 3))
            return await method(collection, *args, **kwargs)

        return uneven


# Each reads other collectors: AWS prod, Google Cloud, Legacy OpenStack, and every one of D1.
COLLECTOR_READS = [
    f'{{ jobs(domainId: "{D1}", jobId: ["job-000000000001"]) {{ results {{ collectorInfo {{ name }} }} }} }}',
    f'{{ jobs(domainId: "{D1}", query: {{page: {{start: 2, limit: 1}}, sort: {{key: "job_id"}}}}) '
    "{ results { collectorInfo { name } } } }",
    f'{{ jobConnection(domainId: "{D1}", where: {{jobId: {{eq: "job-0000000old04"}}}}) '
    "{ edges { node { collectorInfo { name } } } } }",
    f'{{ jobCounts(domainId: "{D1}", groupBy: [COLLECTOR]) {{ collector {{ name }} count }} }}',
]


def test_a_request_loads_collectors_in_one_query_whatever_its_operations_read() -> None:
    """Operations of a batch and root fields of one document, each reading other
    collectors on other pages (a list, a connection, the dashboard, `node`), their
    pages arriving at different times: one collector query in all."""
    store = UnevenStore(memory_with(dataset()))
    legacy = base64.urlsafe_b64encode(b'["CollectorInfo","' + D1.encode() + b'","collector-gcp000000002"]').decode()
    node = f'{{ node(id: "{legacy}") {{ ... on CollectorInfo {{ name }} }} }}'
    with TestClient(create_app(Settings(), store, clock=fixed_clock)) as client:  # type: ignore[arg-type]
        answers = post(client, [{"query": q} for q in [*COLLECTOR_READS, node]]).json()
        assert all(a["data"] and "errors" not in a for a in answers)
        names = json.dumps(answers)
        assert all(n in names for n in ("AWS prod", "Google Cloud", "Legacy OpenStack"))
        assert store.calls.count(("find", "collector")) == 1
        store.calls.clear()
        aliased = " ".join(f"a{i}: {q.strip()[1:-1]}" for i, q in enumerate([*COLLECTOR_READS, node]))
        answer = post(client, {"query": "{" + aliased + "}"}).json()
        assert "errors" not in answer and json.dumps(answer).count("Google Cloud") >= 2
        assert store.calls.count(("find", "collector")) == 1


def test_batching_can_be_turned_off() -> None:
    with TestClient(create_app(Settings(max_batch_operations=0), memory_with(dataset()))) as client:
        response = post(client, [{"query": "{ __typename }"}])
    assert response.status_code == 400
    assert "max_batch_operations (0)" in response.json()["errors"][0]["message"]


def test_event_streams_are_handed_to_the_subscription_transport() -> None:
    """A request preferring text/event-stream goes, whole, to the transport given as
    ``stream`` (GraphQL over SSE); every other request stays with the endpoint."""
    from starlette.responses import PlainTextResponse

    from gateway.http.endpoint import GraphQLEndpoint

    app = create_app(Settings(), memory_with(dataset()))
    route = next(r for r in app.routes if getattr(r, "path", "") == "/graphql")
    endpoint = route.app  # type: ignore[attr-defined]
    assert isinstance(endpoint, GraphQLEndpoint) and endpoint.stream is None
    endpoint.stream = PlainTextResponse("stream", media_type="text/event-stream")
    with TestClient(app) as client:
        streamed = post(client, {"query": "subscription { x }"}, "text/event-stream")
        assert streamed.text == "stream"
        assert post(client, {"query": "{ __typename }"}, "application/json, text/event-stream;q=0.5").json() == {
            "data": {"__typename": "Query"}
        }


# --- choosing the operation (GraphQL spec, GetOperation) ---------------------------

SEVERAL = f'query Count {{ jobs(domainId: "{D1}") {{ totalCount }} }} query Name {{ __typename }}'


@pytest.mark.parametrize("transport", ["POST", "GET", "batch"])
def test_several_operations_without_operation_name_are_a_request_error(api: TestClient, transport: str) -> None:
    """GetOperation: with several operations and no operationName, a request error
    naming the problem - never the first operation run."""
    if transport == "GET":
        response = api.get("/graphql", params={"query": SEVERAL}, headers={"accept": GRJ})
        status, answer = response.status_code, response.json()
    elif transport == "POST":
        response = post(api, {"query": SEVERAL}, GRJ)
        status, answer = response.status_code, response.json()
    else:
        response = post(api, [{"query": JOBS}, {"query": SEVERAL}], GRJ)
        status, (first, answer) = response.status_code, response.json()
        assert first == {"data": {"jobs": {"totalCount": 7}}}
        status = 400  # a batch answers 200; the item is the request error
    assert status == 400 and "data" not in answer
    (error,) = answer["errors"]
    assert error["extensions"]["reason"] == "ERROR_INVALID_GRAPHQL_DOCUMENT"
    assert "operationName" in error["message"] and "Count" in error["message"]


def test_several_operations_with_operation_name_run_the_one_named(api: TestClient) -> None:
    assert post(api, {"query": SEVERAL, "operationName": "Name"}).json() == {"data": {"__typename": "Query"}}
    got = api.get("/graphql", params={"query": SEVERAL, "operationName": "Count"}).json()
    assert got == {"data": {"jobs": {"totalCount": 7}}}


def test_a_subscription_beside_a_query_without_operation_name_is_the_same_request_error(api: TestClient) -> None:
    """Checked before the operation's type is read: not a 405 for the first one's type."""
    document = "subscription S { jobChanged { kind } } query Q { __typename }"
    response = post(api, {"query": document}, GRJ)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["reason"] == "ERROR_INVALID_GRAPHQL_DOCUMENT"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("accept", "status"), [(GRJ, 400), ("application/json", 200)])
def test_a_subscription_over_plain_http_names_the_transports_that_run_it(
    api: TestClient, method: str, accept: str, status: int
) -> None:
    """Neither method runs a subscription with a JSON answer: the same request error
    for GET and POST (not a 405: no other method would do), naming /graphql/stream and
    the WebSocket."""
    document = "subscription { jobChanged { kind } }"
    if method == "GET":
        response = api.get("/graphql", params={"query": document}, headers={"accept": accept})
    else:
        response = post(api, {"query": document}, accept)
    assert response.status_code == status and "allow" not in response.headers
    (error,) = response.json()["errors"]
    assert "data" not in response.json()
    assert "/graphql/stream" in error["message"] and "WebSocket" in error["message"]
    assert error["extensions"]["reason"] == "ERROR_INVALID_GRAPHQL_DOCUMENT"


@pytest.mark.parametrize("public_introspection", [False, True])
def test_one_message_for_a_missing_or_invalid_token_everywhere(public_introspection: bool) -> None:
    """Whatever JOB_GATEWAY_PUBLIC_INTROSPECTION says, on every route: the same 401."""
    settings = Settings(jwt_secret="s" * 40, public_introspection=public_introspection)
    messages = set()
    with TestClient(create_app(settings, memory_with(dataset()))) as client:
        for authorization in ({}, {"authorization": "Bearer x.y.z"}, {"authorization": "Basic abc"}):
            answers = [
                post(client, {"query": JOBS}, **authorization),
                client.get("/graphql", params={"query": JOBS}, headers=authorization),
                client.post(
                    "/graphql/stream",
                    json={"query": JOBS},
                    headers={"accept": "text/event-stream", **authorization},
                ),
            ]
            for response in answers:
                assert response.status_code == 401, response.text
                messages.add(response.json()["errors"][0]["message"])
            rest = client.post("/inventory/v1/jobs/search", json={"domain_id": D1}, headers=authorization)
            assert rest.status_code == 401
            messages.add(rest.json()["error"]["message"])
    assert len(messages) == 1, messages


def test_answers_tell_http_caches_what_they_vary_with() -> None:
    """RFC 9111: an answer varies with Accept and Authorization; one to a request with
    credentials (or a 401) is private and not stored - a shared cache must never hand
    one caller's jobs to another."""
    import time

    import jwt

    settings = Settings(jwt_secret="s" * 40)
    bearer = {"authorization": "Bearer " + jwt.encode({"did": D1, "exp": int(time.time()) + 600}, "s" * 40, "HS256")}
    with TestClient(create_app(settings, memory_with(dataset()), clock=fixed_clock)) as client:
        answers = [
            client.get("/graphql", params={"query": JOBS}, headers=bearer),
            client.head("/graphql", params={"query": JOBS}, headers=bearer),
            post(client, {"query": JOBS}, **bearer),
            client.get("/graphql", params={"query": JOBS}),  # no token: 401
            client.get("/graphql", params={"query": JOBS}, headers={"authorization": "Bearer x.y.z"}),
        ]
        for response in answers:
            vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
            assert {"accept", "authorization"} <= vary
            assert response.headers["cache-control"] == "private, no-store"
        assert [r.status_code for r in answers] == [200, 200, 200, 401, 401]
    with TestClient(create_app(Settings(), memory_with(dataset()), clock=fixed_clock)) as client:
        anonymous = client.get("/graphql", params={"query": JOBS})
        assert "authorization" in anonymous.headers["vary"].lower() and "cache-control" not in anonymous.headers
