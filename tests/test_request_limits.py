"""Every list a client controls is bounded by a named limit, and so is a statistics
answer: just under passes, just over is a 400 `ERROR_LIMIT_EXCEEDED` naming the limit,
through list and stat, REST and GraphQL. Every integer a client writes is range-checked
(a 400 naming the field, never a 500). A stat pipeline whose rows would be whole stored
jobs is refused."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset
from tests.routes import ROUTES, answer

LIMITS = {
    "max_list_values": 3,
    "max_keyword_words": 2,
    "max_sort_keys": 2,
    "max_group_keys": 2,
    "max_group_fields": 2,
    "max_project_fields": 2,
    "max_expression_depth": 2,
    "max_expression_size": 6,
    "max_conditions": 3,
    "max_patterns": 4,
    "max_only_fields": 2,
    "max_value_depth": 2,  # a project's operands nest as its operations do (max_expression_depth)
    "max_variable_values": 40,
}
STATS = ("rest-stat", "gql-stat")


@pytest.fixture(scope="module")
def limited() -> Any:
    with TestClient(create_app(Settings(**LIMITS), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


def _over(client: TestClient, routes: tuple[str, ...], under: dict[str, Any], over: dict[str, Any], limit: str) -> None:
    for route in routes:
        assert answer(client, route, under)[0] is None, (route, under)
        assert answer(client, route, over) == ("ERROR_LIMIT_EXCEEDED", None), (route, over)
        if route.startswith("rest"):
            path = "/inventory/v1/jobs/stat" if route.endswith("stat") else "/inventory/v1/jobs/search"
            query = dict(over) if route.endswith("list") or "aggregate" in over else {**over, "distinct": "job_id"}
            message = limited_message(client, path, query)
            assert limit in message, message


def limited_message(client: TestClient, path: str, query: dict[str, Any]) -> str:
    return str(client.post(path, json={"domain_id": D1, "query": query}).json()["error"]["message"])


def _values(n: int) -> list[str]:
    return [f"job-{i:012d}" for i in range(n)]


def test_values_of_list_operators(limited: TestClient) -> None:
    for operator in ("in", "not_in", "contain_in", "not_contain_in", "regex_in"):
        under = {"filter": [{"k": "job_id", "v": _values(3), "o": operator}]}
        over = {"filter_or": [{"k": "job_id", "v": _values(4), "o": operator}]}
        _over(limited, ROUTES, under, over, "max_list_values")


def test_values_of_shortcut_lists(limited: TestClient) -> None:
    for route in ("rest-list", "gql-list"):
        assert answer(limited, route, {}, job_id=_values(3))[0] is None
        assert answer(limited, route, {}, job_id=_values(4)) == ("ERROR_LIMIT_EXCEEDED", None)
        assert (
            answer(limited, route, {}, status=["SUCCESS", "ERROR", "TIMEOUT", "CREATED"])[0] == "ERROR_LIMIT_EXCEEDED"
        )


def test_only_paths(limited: TestClient) -> None:
    _over(
        limited, ("rest-list", "gql-list"), {"only": ["job_id", "status"]}, {"only": ["job_id"] * 3}, "max_only_fields"
    )


def test_lists_objects_and_nesting_inside_a_value(limited: TestClient) -> None:
    # Every list and object inside a value is bounded, not only the operator's own list.
    inner, wide = (
        {"k": "filter", "v": {"a": [1, 2, 3]}, "o": "eq"},
        {"k": "filter", "v": {"a": [1, 2, 3, 4]}, "o": "eq"},
    )
    _over(limited, ROUTES, {"filter": [inner]}, {"filter": [wide]}, "max_list_values")
    many = {"k": "filter", "v": dict.fromkeys("abcd", 1), "o": "eq"}
    _over(limited, ROUTES, {"filter": [{"k": "filter", "v": dict.fromkeys("abc", 1), "o": "eq"}]}, {"filter": [many]},
          "max_list_values")  # fmt: skip
    # Nesting: a scalar is 0 deep, {"a": [1]} 2 (MongoDB's BSON holds 100 levels).
    deep = {"k": "filter", "v": {"a": [[1]]}, "o": "not"}
    _over(limited, ROUTES, {"filter_or": [{"k": "filter", "v": {"a": [1]}, "o": "not"}]}, {"filter_or": [deep]},
          "max_value_depth")  # fmt: skip


def test_the_values_of_graphql_variables_together(limited: TestClient) -> None:
    # Each list within its own limit, but the variables hold more than 40 values.
    condition = {"k": "job_id", "v": "x", "o": "eq"}
    under = {"filter": [condition] * 3, "filterOr": [condition] * 3}
    assert answer(limited, "gql-list", under)[0] is None
    over = {**under, "aggregate": [{"group": {"keys": [{"key": "status", "name": f"k{i}"} for i in range(2)]}}] * 10}
    assert answer(limited, "gql-stat", over) == ("ERROR_LIMIT_EXCEEDED", None)


def test_keyword_words(limited: TestClient) -> None:
    _over(limited, ROUTES, {"keyword": " a  b "}, {"keyword": "a b c"}, "max_keyword_words")


def test_patterns_of_a_query(limited: TestClient) -> None:
    """contain*/regex* values and keyword words, counted over filter, filter_or and keyword."""
    under = {"keyword": "a b", "filter": [{"k": "job_id", "v": ["x", "y"], "o": "regex_in"}]}
    over = {**under, "filter_or": [{"k": "status", "v": "s", "o": "not_contain"}]}
    _over(limited, ROUTES, under, over, "max_patterns")
    contains = [{"k": "job_id", "v": "x", "o": "contain"}] * 3
    _over(limited, ROUTES, {"filter": contains[:2], "filter_or": contains[:2]},
          {"filter": contains, "filter_or": contains[:2]}, "max_patterns")  # fmt: skip


def test_sort_keys(limited: TestClient) -> None:
    keys = [{"key": k} for k in ("status", "job_id", "created_at")]
    _over(limited, ("rest-list", "gql-list"), {"sort": {"keys": keys[:2]}}, {"sort": {"keys": keys}}, "max_sort_keys")
    count = {"count": {"name": "n"}}
    under = {"aggregate": [{"sort": {"keys": keys[:2]}}, count]}
    _over(limited, STATS, under, {"aggregate": [{"sort": {"keys": keys}}, count]}, "max_sort_keys")


def test_group_keys_and_fields(limited: TestClient) -> None:
    keys = [{"key": k, "name": k} for k in ("status", "job_id", "project_id")]
    group = lambda **spec: {"aggregate": [{"group": spec}]}  # noqa: E731
    _over(limited, STATS, group(keys=keys[:2]), group(keys=keys), "max_group_keys")
    fields = [{"name": f"n{i}", "operator": "count"} for i in range(3)]
    _over(limited, STATS, group(fields=fields[:2]), group(fields=fields), "max_group_fields")
    pushed = [{"key": "job_id", "name": f"p{i}"} for i in range(3)]
    push = lambda n: group(fields=[{"name": "p", "operator": "push", "fields": pushed[:n]}])  # noqa: E731
    _over(limited, STATS, push(2), push(3), "max_group_fields")
    # A push counts each of its fields: two pushes of two fields accumulate four values a row.
    two_pushes = group(fields=[{"name": f"p{i}", "operator": "push", "fields": pushed[:2]} for i in range(2)])
    _over(limited, STATS, push(2), two_pushes, "max_group_fields")
    conditions = [{"k": "total_tasks", "v": i, "o": "gte"} for i in range(4)]
    with_conditions = lambda n: group(fields=[{"name": "n", "operator": "count", "conditions": conditions[:n]}])  # noqa: E731
    _over(limited, STATS, with_conditions(3), with_conditions(4), "max_conditions")


def test_project_fields_operands_and_nesting(limited: TestClient) -> None:
    project = lambda fields: {"aggregate": [{"project": {"fields": fields}}]}  # noqa: E731
    renames = [{"key": "job_id", "name": f"f{i}"} for i in range(3)]
    _over(limited, STATS, project(renames[:2]), project(renames), "max_project_fields")
    add = lambda *operands: {"name": "s", "operator": "add", "fields": list(operands)}  # noqa: E731
    _over(limited, STATS, project([add(1, 2)]), project([add(1, 2, 3)]), "max_project_fields")
    nested = {"operator": "add", "fields": [1, {"operator": "add", "fields": [1, 2]}]}
    _over(limited, STATS, project([add(1, {"operator": "add", "fields": [1, 2]})]), project([add(1, nested)]),
          "max_expression_depth")  # fmt: skip
    # Size: every operation and operand of the stage's fields together (each costs once per row).
    three, four = add(1, 2), add(1, {"operator": "add", "fields": [2]})
    _over(limited, STATS, project([three, {**three, "name": "t"}]), project([three, {**four, "name": "t"}]),
          "max_expression_size")  # fmt: skip


def test_stat_rows_without_a_page(make_client: Any) -> None:
    """An unpaged answer has at most max_stat_rows rows; a page at most page.limit."""
    limited, _ = make_client(max_stat_rows=4)
    by_job = {"aggregate": [{"group": {"keys": [{"key": "job_id", "name": "id"}]}}]}
    by_status = {"aggregate": [{"group": {"keys": [{"key": "status", "name": "s"}]}}, {"limit": 4}]}
    _over(limited, STATS, by_status, by_job, "max_stat_rows")
    _over(limited, STATS, {"distinct": "job_id", "page": {"limit": 4}}, {"distinct": "job_id"}, "max_stat_rows")
    for route in STATS:
        code, rows = answer(limited, route, {**by_job, "page": {"start": 2, "limit": 4}})
        assert code is None and len(rows) == 4


def test_stat_answer_size(make_client: Any) -> None:
    client, _ = make_client(max_stat_bytes=300)
    pushed = {"aggregate": [{"group": {"fields": [{"name": "ids", "operator": "push", "key": "job_id"}]}}]}
    assert answer(client, "rest-stat", pushed)[0] is None  # 7 ids: about 150 bytes
    doubled = {"aggregate": [{"group": {"fields": [{"name": "a", "operator": "push", "key": "job_id"},
                                                   {"name": "b", "operator": "push", "key": "job_id"},
                                                   {"name": "c", "operator": "push", "key": "job_id"}]}}]}  # fmt: skip
    for route in STATS:
        assert answer(client, route, doubled) == ("ERROR_LIMIT_EXCEEDED", None)
    message = limited_message(client, "/inventory/v1/jobs/stat", doubled)
    assert "max_stat_bytes=300" in message


@pytest.mark.parametrize("route", ROUTES)
def test_limits_have_defaults_that_pass_everyday_requests(client: Any, route: str) -> None:
    keys = [{"key": "status"}, {"key": "created_at", "desc": True}]
    query = {"keyword": "job", "filter": [{"k": "job_id", "v": _values(100), "o": "not_in"}]}
    if route.endswith("list"):
        query["sort"] = {"keys": keys}
    assert answer(client, route, query)[0] is None


INTEGERS = [
    ({"page": {"limit": "1" * 5000}}, "query.page.limit"),
    ({"page": {"start": 2**63}}, "query.page.start"),
    ({"page": {"limit": 2**32}}, "query.page.limit"),
    ({"filter": [{"k": "total_tasks", "v": 2**63, "o": "gt"}]}, "query.filter[0].value"),
    ({"filter": [{"k": "total_tasks", "v": [1, -(2**63) - 1], "o": "in"}]}, "query.filter[0].value"),
    ({"filter": [{"k": "filter", "v": {"a": {"b": [2**64]}}, "o": "eq"}]}, "query.filter[0].value"),
]


@pytest.mark.parametrize(("query", "field"), INTEGERS)
@pytest.mark.parametrize("route", ["rest-list", "rest-stat"])
def test_every_integer_is_range_checked(client: Any, route: str, query: dict[str, Any], field: str) -> None:
    assert answer(client, route, query)[0] == "ERROR_INVALID_PARAMETER_TYPE"
    path = "/inventory/v1/jobs/stat" if route.endswith("stat") else "/inventory/v1/jobs/search"
    body = {"domain_id": D1, "query": query if route.endswith("list") else {**query, "distinct": "job_id"}}
    assert field in client.post(path, json=body).json()["error"]["message"]


def test_integers_in_stages_and_graphql_values_are_range_checked(client: Any) -> None:
    grouped = {"group": {"keys": [{"key": "status", "name": "s"}]}}
    for stage in ({"limit": 2**31}, {"skip": -(2**31) - 1}, {"limit": "9" * 400}):
        assert answer(client, "rest-stat", {"aggregate": [grouped, stage]})[0] == "ERROR_INVALID_PARAMETER_TYPE"
    operands = {"project": {"fields": [{"name": "x", "operator": "add", "fields": [1, 2**64]}]}}
    for route in STATS:
        assert answer(client, route, {"aggregate": [operands]})[0] == "ERROR_INVALID_PARAMETER_TYPE"
    for route in ("gql-list", "gql-stat"):
        big = {"filter": [{"k": "total_tasks", "v": 2**64, "o": "lt"}]}
        assert answer(client, route, big)[0] == "ERROR_INVALID_PARAMETER_TYPE"


@pytest.mark.parametrize("route", STATS)
def test_stat_rows_are_never_whole_stored_jobs(client: Any, route: str) -> None:
    for stages in ([{"skip": 0}], [{"limit": 5}], [{"sort": {"key": "created_at"}}], [{"unwind": {"path": "errors"}}]):
        assert answer(client, route, {"aggregate": stages}) == ("ERROR_INVALID_PARAMETER", None)
    shaped = [{"unwind": {"path": "errors"}}, {"project": {"fields": [{"key": "errors.error_code", "name": "code"}]}}]
    code, rows = answer(client, route, {"aggregate": shaped})
    assert code is None and {"code": "ERROR_AUTH"} in rows and all(set(r) == {"code"} for r in rows)


def test_the_reported_requests_are_refused_at_the_defaults(client: Any) -> None:
    """The requests of the security review, at the default limits: each is a 400 naming
    its limit, answered before anything reaches the database."""
    words = " ".join(f"w{i}" for i in range(20_000))
    ids = [f"job-{i:012x}" for i in range(45_000)]
    push = [{"name": f"p{i}", "operator": "push", "key": "job_id"} for i in range(800)]
    wide: Any = "job_id"
    for _ in range(9):  # 3**9 operands a row, within the depth limit
        wide = {"operator": "add", "fields": [wide, wide, wide]}
    cases = [
        ("rest-list", {"keyword": words}, "max_keyword_words"),
        ("rest-stat", {"aggregate": [{"project": {"fields": [{"name": "x", **wide}]}}]}, "max_expression_size"),
        ("rest-list", {"filter": [{"k": "job_id", "v": ids, "o": "in"}]}, "max_list_values"),
        ("rest-stat", {"aggregate": [{"group": {"fields": push}}]}, "max_group_fields"),
        ("rest-stat", {"aggregate": [{"skip": 0}]}, "whole stored jobs"),
        ("rest-stat", {"aggregate": [{"group": {"fields": push[:1]}}, {"limit": 2**70}]}, "aggregate[1].limit"),
    ]
    for route, query, mentions in cases:
        path = "/inventory/v1/jobs/stat" if route.endswith("stat") else "/inventory/v1/jobs/search"
        response = client.post(path, json={"domain_id": D1, "query": query})
        assert response.status_code == 400, response.text[:200]
        assert mentions in response.json()["error"]["message"]
