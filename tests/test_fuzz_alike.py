"""The same random page, sort and condition objects, fed to list and stat through REST
and GraphQL, are accepted or refused alike, with the same error code: one page parser,
one sort reader, one condition normaliser, and a lossless GraphQL conversion.

Objects GraphQL's input types can carry go to all four routes; the proto3 JSON
spellings only REST can carry (numbers as strings, huge integers, unknown fields) go
to both REST routes. The one difference the contract makes is a sort that names no
key: a list then takes its default order, a stat `sort` stage needs a key."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import dataset
from tests.fuzzing import FUZZ
from tests.routes import ROUTES, answer

INT32 = st.integers(-(2**31), 2**31 - 1)
SMALL = st.integers(-3, 1200) | st.sampled_from([0, 1, 999, 1000, 1001, 2**31 - 1, -(2**31)])
KEY_NAMES = ["status", "job_id", "created_at", "createdAt", "collector_info.name", "collector_info", "collector.provider",
             "filter.region", "errors.error_code", "errors.0.message", "tags", "_id", "", "a..b", "$where", "status.x"]  # fmt: skip
KEYS = st.sampled_from(KEY_NAMES)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["SUCCESS", "now-1d", "now+99999999w", "2024-05-15", "0001-01-01T00:00:00+01:00", "(a+)+"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "$ne", "error_code"]), inner, max_size=2),
    max_leaves=6,
)  # fmt: skip
OPERATOR_NAMES = ["eq", "not", "in", "not_in", "contain", "contain_in", "not_contain_in", "exists", "gt", "lte", "match",
                  "regex", "regex_in", "datetime_gt", "timediff_lt", "like", "", "$eq", "EQ"]  # fmt: skip

PAGES = st.fixed_dictionaries({}, optional={"start": st.none() | SMALL | INT32, "limit": st.none() | SMALL | INT32})
SORT_KEYS = st.fixed_dictionaries({}, optional={"key": st.none() | KEYS, "desc": st.none() | st.booleans()})
SORTS = st.fixed_dictionaries(
    {},
    optional={"key": st.none() | KEYS, "desc": st.none() | st.booleans(), "keys": st.none() | st.lists(SORT_KEYS, max_size=3)},
)  # fmt: skip


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    """A condition with each of key, value, operator absent, long, short or both."""
    condition: dict[str, Any] = {}
    for long, short, values in (
        ("key", "k", st.sampled_from([*KEY_NAMES, None])),
        ("value", "v", JSON_VALUES),
        ("operator", "o", st.sampled_from([*OPERATOR_NAMES, None])),
    ):
        # Mostly one spelling: both or none are refused before the rest is read.
        for name in draw(st.sampled_from([(long,), (short,)] * 4 + [(), (long, short)])):
            condition[name] = draw(values)
    return condition  # fmt: skip


# Only REST can carry these: proto3 JSON spellings and shapes GraphQL's types refuse.
REST_NUMBERS = st.sampled_from(
    ["2", "2.0", "1e1", " 2", "x", "1" * 5000, 2.0, 2.5, True, [2], {"n": 2}, 2**70, -(2**40)]
)
REST_PAGES = st.fixed_dictionaries(
    {}, optional={"start": REST_NUMBERS | SMALL, "limit": REST_NUMBERS | SMALL, "size": st.integers(0, 3)}
)
REST_SORTS = st.fixed_dictionaries(
    {}, optional={"key": KEYS | st.integers(0, 3), "desc": st.booleans() | st.sampled_from(["true", 1, None]),
                  "keys": st.lists(SORT_KEYS, max_size=2) | st.sampled_from(["x", 3]), "extra": st.just(1)}
)  # fmt: skip


@pytest.fixture(scope="module")
def app() -> Any:
    with TestClient(create_app(Settings(), memory_with(dataset()), clock=fixed_clock)) as client:
        yield client


def _codes(
    app: TestClient, routes: tuple[str, ...], list_query: dict[str, Any], stat_query: dict[str, Any]
) -> dict[str, str | None]:
    return {route: answer(app, route, stat_query if route.endswith("stat") else list_query)[0] for route in routes}  # fmt: skip


def _alike(codes: dict[str, str | None]) -> None:
    event(f"{len(codes)} routes: {set(codes.values())}")
    assert len(set(codes.values())) == 1, codes


@FUZZ
@given(page=PAGES | REST_PAGES)
def test_pages_alike(app: TestClient, page: dict[str, Any]) -> None:
    graphql = all(v is None or (isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31)
                  for v in page.values()) and "size" not in page  # fmt: skip
    routes = ROUTES if graphql else ("rest-list", "rest-stat")
    _alike(_codes(app, routes, {"page": page}, {"page": page, "distinct": "job_id"}))


@FUZZ
@given(sort=SORTS | REST_SORTS)
def test_sorts_alike(app: TestClient, sort: dict[str, Any]) -> None:
    graphql = _typed(sort)
    routes = ROUTES if graphql else ("rest-list", "rest-stat")
    stat = {"aggregate": [{"sort": sort}, {"count": {"name": "n"}}]}
    codes = _codes(app, routes, {"sort": sort}, stat)
    names_a_key = bool(sort.get("key")) or (not sort.get("key") and bool(sort.get("keys")))
    if codes["rest-list"] is None and not names_a_key:
        # No key: a list's default order; a stat sort stage needs one.
        assert {c for r, c in codes.items() if r.endswith("stat")} == {"ERROR_REQUIRED_PARAMETER"}, codes
        assert {c for r, c in codes.items() if r.endswith("list")} == {None}, codes
    else:
        _alike(codes)


def _typed(sort: dict[str, Any]) -> bool:
    """Whether GraphQL's SortInput can carry ``sort``."""

    def key_ok(entry: dict[str, Any]) -> bool:
        return (entry.get("key") is None or isinstance(entry["key"], str)) and entry.get("desc") in (None, True, False) and not (set(entry) - {"key", "desc"})  # fmt: skip

    keys = sort.get("keys")
    return key_ok({k: v for k, v in sort.items() if k != "keys"}) and (
        keys is None or (isinstance(keys, list) and all(isinstance(e, dict) and key_ok(e) for e in keys))
    )


@FUZZ
@given(condition=conditions(), where=st.sampled_from(["filter", "filter_or"]))
def test_conditions_alike(app: TestClient, condition: dict[str, Any], where: str) -> None:
    graphql = all(isinstance(condition[n], str) for n in ("key", "k", "operator", "o") if condition.get(n) is not None)
    routes = ROUTES if graphql else ("rest-list", "rest-stat")
    _alike(_codes(app, routes, {where: [condition]}, {where: [condition], "distinct": "job_id"}))
