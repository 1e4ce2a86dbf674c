"""One rule in one place: the page parser, the condition normaliser, the sort reader
and the reading of lists are shared by list and stat, REST and GraphQL (the GraphQL
inputs convert losslessly to the published request), so every route answers the same
input alike - the same rows, or the same error code."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dataset import J1, J2, J7, JABCD, JC6, JGONE, JOLD
from tests.routes import ROUTES, answer

NEWEST_FIRST = [JC6, J1, J7, J2, JABCD, JGONE, JOLD]
BY_ID = sorted(NEWEST_FIRST)


def _expected(route: str, ids: list[str]) -> list[str]:
    """What a route answers for the jobs ``ids`` (newest first): the stat route's
    ``distinct`` sorts them."""
    return sorted(ids) if route.endswith("stat") else ids


@pytest.mark.parametrize("route", ROUTES)
def test_pages_read_alike(client: Any, route: str) -> None:
    rest = route.startswith("rest")
    page = {"start": "2", "limit": "2"} if rest else {"start": 2, "limit": 2}  # proto3 JSON: numbers as strings
    by_route = BY_ID if route.endswith("stat") else NEWEST_FIRST
    assert answer(client, route, {"page": page}) == (None, by_route[1:3])
    assert answer(client, route, {"page": {"start": 0, "limit": 1}}) == (None, by_route[:1])
    assert answer(client, route, {"page": {"start": -4, "limit": 1}}) == (None, by_route[:1])
    for bad, code in [
        ({"limit": -1}, "ERROR_INVALID_PARAMETER_TYPE"),
        ({"limit": 1001}, "ERROR_LIMIT_EXCEEDED"),
    ]:
        assert answer(client, route, {"page": bad}) == (code, None), bad
    if rest:
        assert answer(client, route, {"page": {"limit": 2.0}}) == (None, by_route[:2])
        assert answer(client, route, {"page": {"limit": "1" * 5000}})[0] == "ERROR_INVALID_PARAMETER_TYPE"
        assert answer(client, route, {"page": {"limit": 2**70}})[0] == "ERROR_INVALID_PARAMETER_TYPE"
        assert answer(client, route, {"page": {"limit": 1.5}})[0] == "ERROR_INVALID_PARAMETER_TYPE"
        assert answer(client, route, {"page": {"limit": True}})[0] == "ERROR_INVALID_PARAMETER_TYPE"
        assert answer(client, route, {"page": [1, 2]})[0] == "ERROR_INVALID_PARAMETER_TYPE"
        # A field the published Page does not have is ignored alike (GraphQL's types refuse it).
        assert answer(client, route, {"page": {"limit": 1, "size": 9}}) == (None, by_route[:1])


@pytest.mark.parametrize("route", ["rest-list", "rest-stat"])
def test_strict_mode_refuses_unknown_fields_alike(make_client: Any, route: str) -> None:
    client, _ = make_client(strict_request_fields=True)
    for query in ({"page": {"limit": 1, "size": 9}}, {"filter": [{"k": "status", "v": "x", "o": "eq", "x": 1}]}):
        assert answer(client, route, query) == ("ERROR_INVALID_PARAMETER_TYPE", None)


def _group_with(condition: dict[str, Any]) -> dict[str, Any]:
    fields = [{"name": "n", "operator": "count", "conditions": [condition]}]
    return {"aggregate": [{"group": {"fields": fields}}]}


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ({"key": "status", "o": "eq", "operator": "eq", "v": "SUCCESS"}, "ERROR_INVALID_PARAMETER_TYPE"),
        ({"key": "status", "k": "status", "o": "eq", "v": "SUCCESS"}, "ERROR_INVALID_PARAMETER_TYPE"),
        ({"v": "SUCCESS", "o": "eq"}, "ERROR_REQUIRED_PARAMETER"),
        ({"k": "status", "v": "SUCCESS"}, "ERROR_REQUIRED_PARAMETER"),
        ({"k": "status", "v": "SUCCESS", "o": "like"}, "ERROR_UNSUPPORTED_OPERATOR"),
        ({"k": "createdAt", "v": "SUCCESS", "o": "eq"}, "ERROR_INVALID_PARAMETER"),
    ],
)
@pytest.mark.parametrize("route", ROUTES)
def test_conditions_are_normalised_alike(client: Any, route: str, condition: dict[str, Any], code: str) -> None:
    """List filters, stat filters and group-field conditions share one normaliser."""
    assert answer(client, route, {"filter": [condition]}) == (code, None)
    assert answer(client, route, {"filter_or": [condition]}) == (code, None)
    if route.endswith("stat"):
        assert answer(client, route, _group_with(condition)) == (code, None)


@pytest.mark.parametrize("route", ["rest-stat", "gql-stat"])
def test_group_field_conditions_take_comparisons_only(client: Any, route: str) -> None:
    ok = answer(client, route, _group_with({"k": "status", "v": "SUCCESS", "o": "eq"}))
    assert ok == (None, [{"n": 2}])
    refused = answer(client, route, _group_with({"k": "status", "v": ["SUCCESS"], "o": "in"}))
    assert refused == ("ERROR_UNSUPPORTED_OPERATOR", None)


@pytest.mark.parametrize("route", ["rest-list", "gql-list"])
def test_sort_without_a_key_is_the_default_order(client: Any, route: str) -> None:
    """`sort: {desc: true}` (an older console helper's) names no key: the default order,
    through REST and GraphQL alike; `key` wins over `keys`, and an empty `keys` is absent."""
    for sort in ({"desc": True}, {"key": "", "desc": False}, {"keys": []}, {"desc": True, "keys": []}, {}):
        assert answer(client, route, {"sort": sort}) == (None, NEWEST_FIRST), sort
    oldest_first = [*NEWEST_FIRST[::-1][:4], J1, J7, JC6]  # J1/J7 tie: id ascending
    key_wins = {"key": "created_at", "desc": False, "keys": [{"key": "job_id", "desc": True}]}
    assert answer(client, route, {"sort": key_wins}) == (None, oldest_first)
    assert answer(client, route, {"sort": {"key": "created_at", "desc": False, "keys": []}}) == (None, oldest_first)
    by_keys = {"keys": [{"key": "job_id", "desc": True}]}
    assert answer(client, route, {"sort": by_keys}) == (None, sorted(NEWEST_FIRST, reverse=True))
    assert answer(client, route, {"sort": {"keys": [{"desc": True}]}}) == ("ERROR_REQUIRED_PARAMETER", None)


@pytest.mark.parametrize("route", ["rest-stat", "gql-stat"])
def test_stat_sort_stage_reads_the_same_sort(client: Any, route: str) -> None:
    grouped = {"group": {"keys": [{"key": "job_id", "name": "id"}]}}
    for sort in ({"desc": True}, {"keys": []}, {}):
        assert answer(client, route, {"aggregate": [grouped, {"sort": sort}]})[0] == "ERROR_REQUIRED_PARAMETER"
    key_wins = {"key": "id", "desc": True, "keys": [{"key": "id"}]}
    code, rows = answer(client, route, {"aggregate": [grouped, {"sort": key_wins}]})
    assert code is None and [r["id"] for r in rows] == sorted(NEWEST_FIRST, reverse=True)


EMPTY_LISTS = [
    {"filter": [{"k": "job_id", "v": [], "o": "in"}]},
    {"filter": [{"k": "job_id", "v": [], "o": "contain_in"}]},
    {"filter": [{"k": "job_id", "v": [], "o": "regex_in"}]},
    {"filter": [{"k": "collector_info.name", "v": [], "o": "in"}]},
    {"filter_or": [{"k": "job_id", "v": [], "o": "in"}]},
]
EVERY_JOB = [
    {"filter": [{"k": "job_id", "v": [], "o": "not_in"}]},
    {"filter": [{"k": "job_id", "v": [], "o": "not_contain_in"}]},
    {"filter": [{"k": "collector_info.name", "v": [], "o": "not_in"}]},
    {"filter": [], "filter_or": [], "keyword": "   "},  # proto3 defaults: no condition at all
]


@pytest.mark.parametrize("route", ROUTES)
def test_a_given_empty_list_means_none_of_these(client: Any, route: str) -> None:
    for query in EMPTY_LISTS:
        assert answer(client, route, query) == (None, []), query
    for query in EVERY_JOB:
        assert answer(client, route, query) == (None, _expected(route, NEWEST_FIRST)), query
    if not route.endswith("stat"):
        for shortcut in ("job_id", "status", "collector_id", "project_id"):
            assert answer(client, route, {}, **{shortcut: []}) == (None, []), shortcut
        assert answer(client, route, {}, status=["JOB_STATE_NONE"]) == (None, NEWEST_FIRST)
        assert answer(client, route, {}, job_id=[J2, JOLD]) == (None, [J2, JOLD])
