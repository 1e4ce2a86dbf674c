"""What BSON cannot carry never reaches the store: a NUL character in a key (a
condition's, or one inside a value) and values nested deeper than `max_value_depth`
are a 400 on every route, the same on both engines; a NUL inside a string value is
data, matched as MongoDB matches it (a `contain` pattern writes it as the escape
`\\x00`, since BSON patterns are C strings). Output names a stat stage writes are
checked once: `_id`, names with `$` or `.`, and empty ones are refused before MongoDB
would refuse or misread them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.routes import ROUTES, answer

NUL = "\x00"
STATS = ("rest-stat", "gql-stat")


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


KEYS_WITH_NUL = [
    {"filter": [{"k": "filter.a" + NUL, "v": 1, "o": "eq"}]},
    {"filter_or": [{"k": "job_id" + NUL, "v": "x", "o": "eq"}]},
    {"filter": [{"k": "filter", "v": {"a" + NUL: 1}, "o": "eq"}]},
    {"filter": [{"k": "filter", "v": [{"b": {"a" + NUL: 1}}], "o": "in"}]},
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("query", KEYS_WITH_NUL)
def test_a_nul_in_a_key_is_refused(client: Any, route: str, query: dict[str, Any]) -> None:
    assert answer(client, route, query) == ("ERROR_INVALID_PARAMETER", None)


@pytest.mark.parametrize("route", STATS)
@pytest.mark.parametrize(
    "stage",
    [
        {"group": {"keys": [{"key": "filter.a" + NUL, "name": "a"}]}},
        {"group": {"keys": [{"key": "status", "name": "a" + NUL}]}},
        {"group": {"fields": [{"name": "n", "operator": "push", "fields": [{"key": "job_id", "name": NUL}]}]}},
    ],
)
def test_a_nul_in_a_stage_key_or_name_is_refused(client: Any, route: str, stage: dict[str, Any]) -> None:
    assert answer(client, route, {"aggregate": [stage]}) == ("ERROR_INVALID_PARAMETER", None)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "query",
    [
        {"filter": [{"k": "job_id", "v": "job-" + NUL, "o": "eq"}]},
        {"filter": [{"k": "job_id", "v": "job-" + NUL, "o": "contain"}]},
        {"filter": [{"k": "job_id", "v": ["x", NUL], "o": "contain_in"}]},
        {"filter": [{"k": "job_id", "v": NUL, "o": "not_contain"}]},
        {"keyword": "job-" + NUL},
    ],
)
def test_a_nul_in_a_string_value_is_data(client: Any, route: str, query: dict[str, Any]) -> None:
    """No stored job id holds a NUL: each condition selects none (or, negated, all)."""
    code, ids = answer(client, route, query)
    assert code is None
    negated = query.get("filter", [{}])[0].get("o") == "not_contain"
    assert (len(ids) > 0) if negated else ids == []


@pytest.mark.parametrize("route", ROUTES)
def test_values_nest_at_most_max_value_depth(client: Any, route: str) -> None:
    """32 levels by default: with the gateway's own wrapping, far inside BSON's 100."""
    fits = {"filter": [{"k": "filter.a", "v": _nested(32), "o": "eq"}]}
    assert answer(client, route, fits) == (None, [])
    deeper = {"filter": [{"k": "filter.a", "v": _nested(33), "o": "eq"}]}
    assert answer(client, route, deeper) == ("ERROR_LIMIT_EXCEEDED", None)


_GROUP = {"keys": [{"key": "status", "name": "s"}]}


def _names(name: str) -> list[list[dict[str, Any]]]:
    """Pipelines writing ``name`` as each kind of output name."""
    return [
        [{"group": {"keys": [{"key": "status", "name": name}]}}],
        [{"group": {**_GROUP, "fields": [{"name": name, "operator": "count"}]}}],
        [
            {
                "group": {
                    **_GROUP,
                    "fields": [{"name": "p", "operator": "push", "fields": [{"key": "job_id", "name": name}]}],
                }
            }
        ],
        [{"group": _GROUP}, {"count": {"name": name}}],
        [{"group": _GROUP}, {"project": {"fields": [{"key": "s", "name": name}]}}],
    ]


@pytest.mark.parametrize("route", STATS)
@pytest.mark.parametrize("name", ["_id", "$s", "a.b", "a$"])
def test_output_names_mongodb_would_refuse_or_misread_are_refused(client: Any, route: str, name: str) -> None:
    for aggregate in _names(name):
        assert answer(client, route, {"aggregate": aggregate}) == ("ERROR_INVALID_PARAMETER", None), aggregate


@pytest.mark.parametrize("route", STATS)
def test_an_empty_output_name_is_required(client: Any, route: str) -> None:
    for aggregate in _names(""):
        assert answer(client, route, {"aggregate": aggregate}) == ("ERROR_REQUIRED_PARAMETER", None), aggregate


@pytest.mark.parametrize("route", STATS)
def test_names_beside_the_refused_ones_are_written(client: Any, route: str) -> None:
    for aggregate in _names("id_"):
        code, rows = answer(client, route, {"aggregate": aggregate})
        assert code is None and rows, aggregate
