"""Numeric parts of paths, on every route that reads the language and both engines.

- In a filter or sort key, a numeric part after an array field indexes it
  (https://www.mongodb.com/docs/manual/core/document/#dot-notation): ``projects.0``.
- Written with a leading zero (``projects.00``) MongoDB reads it as a field name
  (jstests/core/query/match_numeric_components.js; SERVER-31977), which no job has:
  the path grammar refuses it with a 400 naming the rule, on every route, rather than
  answer nothing (or, on a server that indexes with it, something else).
- In a statistics expression (a group key, a group field, distinct) an aggregation
  field path never indexes an array: ``$errors.0.error_code`` reads a field named "0"
  of each error, so every job gives ``[]`` (SERVER-24748; the aggregation manual's
  ``$sortArray``: '"values.1" names a sub-field "1", not the element at index 1').
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.dataset import D1
from tests.engines import NUMERIC_EXPRESSION_PATH
from tests.routes import ROUTES, answer

COUNT = {"name": "n", "operator": "count"}


def _uses(route: str, key: str) -> list[tuple[str, dict[str, Any]]]:
    """Each place of ``route``'s request that takes a key, holding ``key``."""
    condition = {"filter": [{"k": key, "v": "project-a", "o": "eq"}]}
    if route.endswith("list"):
        return [("filter", condition), ("sort", {"sort": {"key": key}})]
    return [
        ("filter", condition),
        ("group key", {"aggregate": [{"group": {"keys": [{"key": key, "name": "k"}], "fields": [COUNT]}}]}),
        ("group field", {"aggregate": [{"group": {"fields": [{"name": "v", "key": key, "operator": "push"}]}}]}),
        ("distinct", {"distinct": key}),
    ]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("key", ["projects.00", "errors.01.error_code", "projects.007"])
def test_a_leading_zero_index_is_refused_on_every_route(client: TestClient, route: str, key: str) -> None:
    for where, query in _uses(route, key):
        assert answer(client, route, query) == ("ERROR_INVALID_PARAMETER", None), (where, key)
    response = client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": {"sort": {"key": key}}})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert f'"{key}"' in message and "leading zeros" in message, message


@pytest.mark.parametrize("route", ["rest-list", "gql-list"])
def test_an_index_in_a_filter_reads_the_element(client: TestClient, route: str) -> None:
    query = {"filter": [{"k": "projects.0", "v": "project-a", "o": "eq"}]}
    assert answer(client, route, query) == (None, ["job-000000000001", "job-000000000002"])
    query = {"filter": [{"k": "errors.1.error_code", "v": "ERROR_QUOTA", "o": "eq"}]}
    assert answer(client, route, query) == (None, ["job-000000000002"])


@pytest.mark.parametrize("route", ["rest-stat", "gql-stat"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"aggregate": [{"group": {"keys": [{"key": "errors.0.error_code", "name": "k"}], "fields": [COUNT]}}]},
            [{"k": [], "n": 7}],
        ),
        (
            {"aggregate": [{"group": {"keys": [{"key": "projects.0", "name": "k"}], "fields": [COUNT]}}]},
            [{"k": [], "n": 7}],
        ),
        (
            {"aggregate": [{"group": {"fields": [{"name": "v", "key": "projects.1", "operator": "add_to_set"}]}}]},
            [{"v": [[]]}],
        ),
        ({"distinct": "errors.0.error_code"}, []),
    ],
    ids=["group key", "group key of strings", "group field", "distinct"],
)
@pytest.mark.deviates(NUMERIC_EXPRESSION_PATH)
def test_a_number_in_a_statistics_path_names_a_field(
    client: TestClient, route: str, query: dict[str, Any], expected: Any
) -> None:
    assert answer(client, route, query) == (None, expected)
