"""Error messages speak the API's language: client values as JSON as sent (`null`,
`"yes"`, `[1]`), JSON type names ("a string", "null"), never Python's (`NoneType`,
`'yes'`, `True`, `{'a': 1}`); the same message on REST and GraphQL."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from graphql import build_schema as parse_sdl
from graphql import is_enum_type, is_input_object_type, is_list_type, is_non_null_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.graphql.schema import export_sdl
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset
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


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ([{"key": "a..b"}], 'query.sort[0].key "a..b" is not a field path'),
        ([{"key": "created_at"}, {}], "query.sort[1] has no key."),
        ([{"key": "created_at"}, {"key": "created_at"}], 'query.sort[1]: the key "created_at" is given twice.'),
        ([{"key": "created_at"}] * 40, "query.sort has 40 keys; the limit max_sort_keys is 32."),
        ({"keys": [{"key": "a..b"}]}, 'query.sort.keys[0].key "a..b" is not a field path'),
        ({"key": "a..b"}, 'query.sort.key "a..b" is not a field path'),
    ],
)
def test_sort_messages_name_the_keys_as_the_client_wrote_them(client: TestClient, sort: Any, expected: str) -> None:
    assert _rest(client, SEARCH, {"domain_id": D1, "query": {"sort": sort}}).startswith(expected)


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


# Ill-typed GraphQL variables: graphql-core describes them with Python's repr; the
# gateway answers the value as JSON, as sent (gateway/graphql/variable_errors.py).
VARIABLES = "query($d: %s) { %s(%s: $d) %s }"
VARIABLE_CASES: list[tuple[str, str, str, Any, str]] = [
    # (type, field, argument, value, message)
    ("String", "jobs", "domainId", {"a": None}, 'Variable "$d": expected String (a string), got an object {"a":null}.'),
    ("String", "jobs", "domainId", True, 'Variable "$d": expected String (a string), got true.'),
    ("ID!", "node", "id", None, 'Variable "$d": expected ID! (a string or an integer), got null.'),
    ("ID!", "node", "id", False, 'Variable "$d": expected ID! (a string or an integer), got false.'),
    ("[ID!]!", "nodes", "ids", ["x", None], 'Variable "$d" at [1]: expected ID! (a string or an integer), got null.'),
    ("JobWhere", "jobs", "where", {"bogus": ""}, 'Variable "$d": JobWhere has no field "bogus".'),
    (
        "JobWhere", "jobConnection", "where", {"createdAt": {"gt": True}},
        'Variable "$d" at .createdAt.gt: DateTime must be an ISO 8601 string, got true.',
    ),
    (
        "JobWhere", "jobs", "where", {"createdAt": {"gt": "abc\x00"}},
        'Variable "$d" at .createdAt.gt: "abc\\u0000" is not an ISO 8601 date-time.',
    ),
    (
        "JobWhere", "jobs", "where", {"status": {"eq": "done"}},
        'Variable "$d" at .status.eq: expected JobStatus (one of "CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", '
        '"ERROR", "TIMEOUT"), got a string "done".',
    ),
    ("[JobOrderBy!]", "jobs", "orderBy", [{}], 'Variable "$d" at [0]: JobOrderBy requires field "field".'),
    (
        "Int", "jobConnection", "first", 2**40,
        'Variable "$d": expected Int (an integer from -2147483648 to 2147483647), got a number 1099511627776.',
    ),
    (
        "StatisticsQueryInput!", "jobStat", "query", {"aggregate": [{"group": 1}]},
        'Variable "$d" at .aggregate[0].group: expected GroupInput (an object), got a number 1.',
    ),
    ("[ID!]!", "nodes", "ids", ..., 'Variable "$d" of type [ID!]! was not provided.'),
]  # fmt: skip
SELECTIONS = {"jobs": "{ totalCount }", "jobConnection": "{ totalCount }", "node": "{ id }", "nodes": "{ id }",
              "job": "{ jobId }", "jobCounts": "{ count }", "jobStat": ""}  # fmt: skip


@pytest.mark.parametrize(("type_", "field", "argument", "value", "expected"), VARIABLE_CASES)
def test_graphql_variable_messages_show_the_value_as_json(
    client: TestClient, type_: str, field: str, argument: str, value: Any, expected: str
) -> None:
    document = VARIABLES % (type_, field, argument, SELECTIONS[field])
    variables = {} if value is ... else {"d": value}
    body = client.post("/graphql", json={"query": document, "variables": variables}).json()
    (error,) = body["errors"]
    assert error["message"] == expected
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_PARAMETER_TYPE"}


# Every argument of every root field, given values drawn from its declared type (as a
# variable, and written in the document) and
# corrupted anywhere inside (a wrong JSON type, null, an unknown or missing field, a
# number out of range, control characters): whatever the fault, the message shows
# the JSON as sent. Drawn strings start with "~" (Python would show '~..., JSON
# "~...), have no uppercase letters (None, True, False cannot come from them) and no
# single quote.
# 20 examples an argument in CI (about 1,000 requests); JOB_GATEWAY_FUZZ_EXAMPLES for more.
FUZZ = settings(
    max_examples=int(os.environ.get("JOB_GATEWAY_FUZZ_EXAMPLES", "20")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
PYTHON_VOCABULARY = re.compile(PYTHON_WORDS.pattern + r"|\\x[0-9a-fA-F]{2}|'~")
SDL = parse_sdl(export_sdl())
TEXT = st.text(st.characters(exclude_characters="'", exclude_categories=["Lu", "Cs"]), max_size=12).map(
    lambda text: "~" + text
)
WRONG = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT | st.sampled_from(["", "\x00", "now", "2022-06-17T08:00:01.225Z", D1]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "bogus", "eq", "key"]), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
VALID_LEAVES = {
    "String": TEXT | st.just(D1),
    "ID": TEXT,
    "Int": st.integers(-3, 40),
    "Float": st.floats(-10, 10),
    "Boolean": st.booleans(),
    "DateTime": st.sampled_from(["2022-06-17T08:00:01.225Z", "2022-06-17"]),
    "JSON": WRONG,
}


def typed(type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``type_``, mostly well-typed, sometimes wrong at any depth."""
    if is_non_null_type(type_):
        return typed(type_.of_type, depth)
    if depth > 4:
        return WRONG
    if is_list_type(type_):
        item = typed(type_.of_type, depth + 1)
        shaped = st.lists(item, max_size=3) | item
    elif is_input_object_type(type_):
        fields = {name: typed(field.type, depth + 1) for name, field in type_.fields.items()}
        shaped = st.fixed_dictionaries({}, optional={**fields, "bogus": WRONG})  # type: ignore[dict-item]
    elif is_enum_type(type_):
        shaped = st.sampled_from(list(type_.values))
    else:
        shaped = VALID_LEAVES[type_.name]
    return st.one_of(shaped, shaped, shaped, WRONG)


ARGUMENTS = [
    (name, argument, arg.type)
    for name, field in SDL.query_type.fields.items()  # type: ignore[union-attr]
    for argument, arg in field.args.items()
]


def literal(value: Any) -> str:
    """``value`` written as a GraphQL literal (strings as JSON writes them)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return json.dumps(value)


@pytest.fixture(scope="module")
def memory_client() -> Any:
    with TestClient(create_app(Settings(), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


@pytest.mark.parametrize(("field", "argument", "type_"), ARGUMENTS, ids=[f"{f}.{a}" for f, a, _ in ARGUMENTS])
@FUZZ
@given(data=st.data())
def test_graphql_variables_of_any_shape_answer_in_json_words(
    memory_client: TestClient, field: str, argument: str, type_: Any, data: st.DataObject
) -> None:
    value = data.draw(typed(type_), label="value")
    domain = "" if argument == "domainId" or field in ("node", "nodes") else f'domainId: "{D1}", '
    as_variable = f"query($d: {type_}) {{ {field}({domain}{argument}: $d) {SELECTIONS[field]} }}"
    as_literal = f"{{ {field}({domain}{argument}: {literal(value)}) {SELECTIONS[field]} }}"
    for body in ({"query": as_variable, "variables": {"d": value}}, {"query": as_literal}):
        response = memory_client.post("/graphql", json=body)
        assert response.status_code == 200, response.text
        for error in response.json().get("errors", []):
            assert not PYTHON_VOCABULARY.search(error["message"]), error["message"]
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
