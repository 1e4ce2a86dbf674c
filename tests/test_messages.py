"""Error messages speak the API's language: client values as JSON as sent (`null`,
`"yes"`, `[1]`), JSON type names ("a string", "null"), never Python's (`NoneType`,
`'yes'`, `True`, `{'a': 1}`); the same message on REST and GraphQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.dataset import D1
from tests.routes import JOBS_GQL, STAT_GQL, graphql_names

SEARCH = "/inventory/v1/jobs/search"
STAT = "/inventory/v1/jobs/stat"
PYTHON_WORDS = re.compile(r"NoneType|\b(True|False|None)\b|got (dict|str|int|float|bool|list|tuple)\b|\{'|\['|\('")

LIST_CASES: list[tuple[dict[str, Any], str]] = [
    ({"filter": [{"k": "job_id", "v": None, "o": "contain"}]}, 'operator "contain" takes a string, got null'),
    (
        {"filter": [{"k": "job_id", "v": "yes", "o": "exists"}]},
        'operator "exists" takes true or false, got a string "yes"',
    ),
    ({"filter": [{"k": "job_id", "v": "x", "o": "in"}]}, 'operator "in" takes a list, got a string "x"'),
    ({"filter": [{"k": "errors", "v": [1], "o": "match"}]}, 'operator "match" takes an object, got a list [1]'),
    ({"filter": [{"k": "job_id", "v": "(", "o": "regex"}]}, 'condition on "job_id": invalid regular expression "("'),
    ({"filter": [{"k": "status", "v": {"a": True}, "o": "gt"}]}, 'takes a scalar value, got an object {"a":true}'),
    ({"filter": [{"k": "job_id", "v": True, "o": "contain"}]}, 'operator "contain" takes a string, got true'),
]
STAT_CASES: list[tuple[dict[str, Any], str]] = [
    (
        {"aggregate": [{"group": {"keys": [{"key": "created_at", "name": "d", "date_format": "%Q"}]}}]},
        'date_format "%Q": MongoDB has no format specifier',
    ),
]


def _rest(client: TestClient, path: str, body: Any) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 400, response.text
    return str(response.json()["error"]["message"])


def _graphql(client: TestClient, document: str, query: dict[str, Any]) -> str:
    body = client.post("/graphql", json={"query": document % D1, "variables": {"q": graphql_names(query)}}).json()
    (error,) = body["errors"]
    return str(error["message"])


def _speaks_json(message: str, expected: str) -> None:
    assert expected in message, message
    assert not PYTHON_WORDS.search(message), message


@pytest.mark.parametrize(("query", "expected"), LIST_CASES)
def test_list_messages_show_client_values_as_json(client: TestClient, query: dict[str, Any], expected: str) -> None:
    rest = _rest(client, SEARCH, {"domain_id": D1, "query": query})
    _speaks_json(rest, expected)
    assert _graphql(client, JOBS_GQL, query) == rest


@pytest.mark.parametrize(("query", "expected"), STAT_CASES + LIST_CASES)
def test_stat_messages_show_client_values_as_json(client: TestClient, query: dict[str, Any], expected: str) -> None:
    if "aggregate" not in query:
        query = {**query, "distinct": "job_id"}
    rest = _rest(client, STAT, {"domain_id": D1, "query": query})
    _speaks_json(rest, expected)
    assert _graphql(client, STAT_GQL, query) == rest


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (SEARCH, [1, {"a": None}], 'request body must be a JSON object, got a list [1,{"a":null}]'),
        (SEARCH, {"domain_id": 5}, "domain_id must be a string, got a number 5"),
        (SEARCH, {"domain_id": D1, "query": {"page": {"start": "x"}}}, 'got a string "x"'),
        # (GraphQL's typed input refuses this one itself, in GraphQL's words.)
        (
            STAT,
            {"domain_id": D1, "query": {"aggregate": [{"group": {"keys": [{"key": "created_at", "date_format": 5}]}}]}},
            "date_format must be a string, got a number 5",
        ),
    ],
)
def test_request_messages_show_client_values_as_json(client: TestClient, path: str, body: Any, expected: str) -> None:
    _speaks_json(_rest(client, path, body), expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"domain_id": "d", "query": {"page": {"limit": 1e400}}}', "request body has a number beyond the range of a double: 1e400."),
        ('{"domain_id": "d", "x": ' + "9" * 5000 + "}", "request body has an integer of 5000 digits (more than 4300)."),
    ],
)  # fmt: skip
def test_numbers_no_value_can_hold_are_refused_in_json_words(client: TestClient, body: str, expected: str) -> None:
    for path in (SEARCH, "/graphql"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        errors = response.json().get("errors") or [response.json()["error"]]
        assert errors[0]["message"] == expected


@pytest.mark.parametrize("argument", ["after", "before"])
def test_cursor_messages_show_the_cursor_as_json(client: TestClient, argument: str) -> None:
    document = f'query($c: String) {{ jobConnection(domainId: "{D1}", {argument}: $c) {{ totalCount }} }}'
    body = client.post("/graphql", json={"query": document, "variables": {"c": "abc\x00'"}}).json()
    (error,) = body["errors"]
    assert error["message"].startswith(f'{argument}: "abc\\u0000\'" is not a cursor'), error


def test_graphql_scalar_messages_show_client_values_as_json(client: TestClient) -> None:
    document = "query($i: ID!) { node(id: $i) { id } }"
    body = client.post("/graphql", json={"query": document, "variables": {"i": "not-an-id"}}).json()
    (error,) = body["errors"]
    _speaks_json(error["message"], '"not-an-id" is not an id this API issued')
