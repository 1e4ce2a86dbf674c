"""The published REST routes: the published example exactly, the JSON form's
omission rules, GET with query-string shortcuts, and every bad input as a 4xx."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from gateway.store.datafile import read_data_file
from tests.conftest import FIXTURE
from tests.dataset import D1

SEARCH = "/inventory/v1/jobs/search"


def test_published_example_answers_exactly(make_client: Any, published: dict[str, Any]) -> None:
    client, _ = make_client(read_data_file(FIXTURE))
    request = published["request"]
    response = client.request(request["method"], request["path"], json=request["body"])
    assert response.status_code == 200
    assert response.json() == published["response"]
    # The GET route answers the same list.
    got = client.get("/inventory/v1/jobs", params={"domain_id": request["body"]["domain_id"]})
    assert got.json() == published["response"]


def test_json_form_leaves_out_defaults_and_keeps_empty_objects(client: Any) -> None:
    body = client.post(SEARCH, json={"domain_id": D1, "job_id": ["job-00000000abcd", "job-000000000002"]}).json()
    error, in_progress = body["results"]  # newest first
    assert body["total_count"] == 2
    # IN_PROGRESS: finished_at null, errors [], project_id null -> absent; filter {} -> written
    assert in_progress == {
        "job_id": "job-00000000abcd",
        "status": "IN_PROGRESS",
        "filter": {},
        "total_tasks": 3,
        "remained_tasks": 3,
        "collector_info": {
            "collector_id": "collector-aws000000001",
            "name": "AWS prod",
            "state": "ENABLED",
            "plugin_info": {"plugin_id": "plugin-aws", "version": "1.2.3"},
            "provider": "aws",
            "capability": {"supported_schema": ["aws_key"]},
            "is_public": True,
        },
        "domain_id": D1,
        "created_at": "2024-05-10T00:00:00.000Z",
        "updated_at": "2024-05-10T00:00:00.000Z",
    }
    # errors are messages: their empty `additional` Struct is still written
    assert error["errors"] == [
        {"error_code": "ERROR_AUTH", "message": "Auth failed", "additional": {"task": "t1"}},
        {"error_code": "ERROR_QUOTA", "message": "Quota exceeded", "additional": {}},
    ]
    assert "is_public" not in error["collector_info"]  # false is a default


def test_collectors_old_reference_and_gone(client: Any) -> None:
    body = client.post(SEARCH, json={"domain_id": D1, "job_id": ["job-0000000old04", "job-00000000gone"]}).json()
    by_id = {r["job_id"]: r for r in body["results"]}
    assert by_id["job-0000000old04"]["collector_info"]["name"] == "Legacy OpenStack"
    assert "collector_info" not in by_id["job-00000000gone"]


def test_empty_results_are_written(client: Any) -> None:
    body = client.post(SEARCH, json={"domain_id": "domain-nobody"}).json()
    assert body == {"results": [], "total_count": 0}
    body = client.post(SEARCH, json={"domain_id": D1, "query": {"count_only": True}}).json()
    assert body == {"results": [], "total_count": 7}


def test_only_and_minimal_shape_the_results(client: Any) -> None:
    query = {
        "only": ["job_id", "collector_info.name", "filter.region"],
        "filter": [{"k": "job_id", "v": "job-000000000001", "o": "eq"}],
    }
    body = client.post(SEARCH, json={"domain_id": D1, "query": query}).json()
    assert body["results"] == [
        {"job_id": "job-000000000001", "filter": {"region": "us-east-1"}, "collector_info": {"name": "AWS prod"}}
    ]
    body = client.post(SEARCH, json={"domain_id": D1, "query": {"minimal": True, "page": {"limit": 1}}}).json()
    assert body["results"] == [
        {"job_id": "job-0000000000c6", "status": "CREATED", "created_at": "2024-05-15T11:59:00.000Z"}
    ]


def test_get_route_with_shortcuts_and_query(client: Any) -> None:
    params = [("domain_id", D1), ("status", "ERROR"), ("status", "TIMEOUT")]
    body = client.get("/inventory/v1/jobs", params=params).json()
    assert {r["job_id"] for r in body["results"]} == {"job-000000000002", "job-0000000old04"}
    query = json.dumps({"sort": {"key": "created_at"}, "page": {"limit": 1}, "only": ["job_id"]})
    body = client.get("/inventory/v1/jobs", params={"domain_id": D1, "query": query}).json()
    assert body == {"results": [{"job_id": "job-0000000old04"}], "total_count": 7}


BAD = [
    ({"query": {"filter": [{"k": "status", "v": "x", "o": "like"}]}}, "ERROR_UNSUPPORTED_OPERATOR", "like"),
    ({"query": {"filter": [{"v": "x", "o": "eq"}]}}, "ERROR_REQUIRED_PARAMETER", "key"),
    ({"query": {"filter": [{"k": "status", "v": "x"}]}}, "ERROR_REQUIRED_PARAMETER", "operator"),
    ({"query": {"filter": [{"k": "status", "v": ["x"], "o": "eq"}]}}, "ERROR_INVALID_PARAMETER_TYPE", "list"),
    ({"query": {"filter": [{"k": "status", "v": "x", "o": "in"}]}}, "ERROR_INVALID_PARAMETER_TYPE", "list"),
    (
        {"query": {"filter": [{"k": "collector", "v": 1, "o": "exists"}]}},
        "ERROR_INVALID_PARAMETER_TYPE",
        "true or false",
    ),
    (
        {"query": {"filter": [{"k": "created_at", "v": "17/06/2022", "o": "datetime_gt"}]}},
        "ERROR_INVALID_PARAMETER",
        "ISO 8601",
    ),
    (
        {"query": {"filter": [{"k": "created_at", "v": "now-3x", "o": "timediff_gt"}]}},
        "ERROR_INVALID_PARAMETER",
        "time expression",
    ),
    (
        {"query": {"filter": [{"k": "job_id", "v": "(unclosed", "o": "regex"}]}},
        "ERROR_INVALID_PARAMETER",
        "regular expression",
    ),
    ({"query": {"filter": [{"k": "$where", "v": "1", "o": "eq"}]}}, "ERROR_INVALID_PARAMETER", "field path"),
    ({"query": {"page": {"limit": -1}}}, "ERROR_INVALID_PARAMETER_TYPE", "query.page.limit must be an integer from 0"),
    ({"query": {"page": {"limit": 1001}}}, "ERROR_LIMIT_EXCEEDED", "max_page_size=1000"),
    ({"query": {"sort": "created_at"}}, "ERROR_INVALID_PARAMETER_TYPE", "sort"),
    ({"query": []}, "ERROR_INVALID_PARAMETER_TYPE", "query"),
    ({"status": "RUNNING"}, "ERROR_INVALID_PARAMETER_TYPE", "RUNNING"),
    ({"job_id": 5}, "ERROR_INVALID_PARAMETER_TYPE", "job_id must be a string, got a number 5"),
]


@pytest.mark.parametrize(("body", "code", "mentions"), BAD)
def test_bad_input_is_a_400_naming_the_problem(client: Any, body: dict[str, Any], code: str, mentions: str) -> None:
    response = client.post(SEARCH, json={"domain_id": D1, **body})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert mentions in error["message"]
    assert "Traceback" not in response.text


def test_missing_domain_and_malformed_bodies(client: Any) -> None:
    cases = [
        (json.dumps({"query": {}}), 400, "ERROR_REQUIRED_PARAMETER"),
        ("{not json", 400, "ERROR_INVALID_REQUEST_BODY"),
        ("[1, 2]", 400, "ERROR_INVALID_REQUEST_BODY"),
        ('"text"', 400, "ERROR_INVALID_REQUEST_BODY"),
        (b"\xff\xfe", 400, "ERROR_INVALID_REQUEST_BODY"),
        ("", 400, "ERROR_REQUIRED_PARAMETER"),
    ]
    for content, status, code in cases:
        response = client.post(SEARCH, content=content, headers={"content-type": "application/json"})
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), content
    bad_query = client.get("/inventory/v1/jobs", params={"domain_id": D1, "query": "{oops"})
    assert bad_query.status_code == 400 and bad_query.json()["error"]["code"] == "ERROR_INVALID_REQUEST_BODY"


def test_body_size_limit(make_client: Any) -> None:
    client, _ = make_client(max_body_bytes=200)
    ok = {"domain_id": D1, "status": "NOPE", "query": {"keyword": "x" * 100}}
    assert client.post(SEARCH, content=json.dumps(ok)).status_code == 400  # read in full: a bad status
    ok.pop("status")
    assert client.post(SEARCH, content=json.dumps(ok)).status_code == 200
    big = {"domain_id": D1, "query": {"keyword": "x" * 200}}
    response = client.post(SEARCH, content=json.dumps(big))
    assert response.status_code == 413
    assert response.json()["error"].keys() == {"code", "message"}
    assert response.json()["error"]["code"] == "ERROR_LIMIT_EXCEEDED"
    assert "max_body_bytes" in response.json()["error"]["message"]


def test_unknown_routes_and_methods_answer_json(client: Any) -> None:
    missing = client.get("/inventory/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ERROR_NOT_FOUND"
    wrong = client.get(SEARCH)
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_unexpected_errors_are_masked(make_client: Any) -> None:
    client, store = make_client(raise_server_exceptions=False)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret connection string mongodb://admin:pw@db")

    store.inner.find = broken
    response = client.post(SEARCH, json={"domain_id": D1})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "ERROR_INTERNAL", "message": "Internal server error."}}
    assert "secret" not in response.text


# sha256 of ../shared/fixtures/seed_jobs.json, the published example, as it was copied
# into the package (tests never read outside the repository).
PUBLISHED_SHA256 = "1cd3510a699c971e735ee866d7805e3a167bebc09a404807fe0de3659ff0780a"


def test_shipped_example_is_the_published_one() -> None:
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == PUBLISHED_SHA256


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        ("{not json", "line 1 column 2: expected a key in double quotes"),
        ('{"domain_id" 1}', 'line 1 column 14: expected ":" after the key'),
        ('{"domain_id": "d"} x', "line 1 column 20: more text after the JSON value"),
        ('{"domain_id": "\x01"}', "line 1 column 16: a control character inside a string"),
        ('{"domain_id": "\\q"}', "line 1 column 16: an invalid escape in a string"),
        ("\ufeff{}", "line 1 column 1: a byte order mark before the JSON"),
    ],
)
def test_json_syntax_faults_are_told_in_json_words(client: Any, body: str, fault: str) -> None:
    """Where and why a body (REST, GraphQL) or the GET route's query parameter is not
    JSON, in RFC 8259's words: never Python's ("Expecting ...", "(char 1)", "utf-8-sig")."""
    answers = {
        "rest": client.post(SEARCH, content=body.encode(), headers={"content-type": "application/json"}).json()[
            "error"
        ],
        "graphql": client.post("/graphql", content=body.encode(), headers={"content-type": "application/json"}).json()[
            "errors"
        ][0],
        "get": client.get("/inventory/v1/jobs", params={"domain_id": D1, "query": body}).json()["error"],
    }
    source = {"rest": "request body", "graphql": "request body", "get": "query parameter"}
    for route, error in answers.items():
        assert error["message"].startswith(f"{source[route]} is not valid JSON: {fault}"), (route, error)
        assert "(char " not in error["message"] and "Expecting" not in error["message"]
