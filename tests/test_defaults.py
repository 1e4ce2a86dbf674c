"""Defaults mean unset (proto3 JSON): every field of the Query and StatisticsQuery
messages (and of their parts), written at its default value, gives the answer the
request without it gives - rows or error alike - on every route that can carry it.

Table-driven: the fields and their types come from the message table
(gateway.query.messages); each anchor below is a request holding one message, and
every field of that message the anchor leaves out is tried at each of its defaults.
A coverage test checks that every field of every message is tried somewhere."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.query import messages as m
from tests.routes import answer

LIST = ("rest-list", "gql-list")
STAT = ("rest-stat", "gql-stat")
GROUP_KEYS = [{"key": "status", "name": "status"}]
COUNT = [{"name": "n", "operator": "count"}]

# (routes, the request's query, the path to one message in it, that message)
ANCHORS: list[tuple[tuple[str, ...], dict[str, Any], tuple[Any, ...], m.Message]] = [
    (LIST, {}, (), m.QUERY),
    (LIST, {"sort": {"key": "created_at"}}, ("sort",), m.SORT),
    (LIST, {"sort": {"keys": [{"key": "job_id", "desc": True}]}}, ("sort",), m.SORT),
    (LIST, {"sort": {"keys": [{"key": "job_id"}]}}, ("sort", "keys", 0), m.SORT_KEY),
    (LIST, {"sort": {"keys": [{"desc": True}]}}, ("sort", "keys", 0), m.SORT_KEY),
    (LIST, {"page": {"limit": 2}}, ("page",), m.PAGE),
    (LIST, {"page": {"start": 2}}, ("page",), m.PAGE),
    (STAT, {"distinct": "status"}, (), m.STATISTICS_QUERY),
    (STAT, {"aggregate": [{"count": {"name": "n"}}]}, (), m.STATISTICS_QUERY),
    (STAT, {"distinct": "job_id", "page": {"limit": 2}}, ("page",), m.PAGE),
    (STAT, {"aggregate": [{"group": {"keys": GROUP_KEYS}}]}, ("aggregate", 0, "group"), m.GROUP),
    (STAT, {"aggregate": [{"group": {"fields": COUNT}}]}, ("aggregate", 0, "group"), m.GROUP),
    (
        STAT,
        {"aggregate": [{"group": {"keys": [{"key": "created_at", "name": "d"}]}}]},
        ("aggregate", 0, "group", "keys", 0),
        m.GROUP_KEY,
    ),
    (
        STAT,
        {"aggregate": [{"group": {"keys": GROUP_KEYS, "fields": [{"name": "ids", "operator": "push", "key": "job_id"}]}}]},
        ("aggregate", 0, "group", "fields", 0),
        m.GROUP_FIELD,
    ),
    (
        STAT,
        {"aggregate": [{"group": {"keys": GROUP_KEYS, "fields": COUNT}}, {"project": {"fields": [{"key": "n", "name": "m"}]}}]},
        ("aggregate", 1, "project"),
        m.PROJECT,
    ),
    (
        STAT,
        {"aggregate": [{"project": {"fields": [{"key": "job_id", "name": "id"}]}}]},
        ("aggregate", 0, "project", "fields", 0),
        m.PROJECT_FIELD,
    ),
    (
        STAT,
        {"aggregate": [{"group": {"keys": GROUP_KEYS, "fields": COUNT}}, {"sort": {"key": "n"}}]},
        ("aggregate", 1, "sort"),
        m.SORT,
    ),
    (
        STAT,
        {"aggregate": [{"group": {"keys": GROUP_KEYS, "fields": COUNT}}, {"sort": {"keys": [{"key": "n", "desc": True}]}}]},
        ("aggregate", 1, "sort"),
        m.SORT,
    ),
    (STAT, {"aggregate": [{"project": {}}]}, ("aggregate", 0, "project"), m.PROJECT),
    (STAT, {"aggregate": [{"unwind": {}}, {"count": {"name": "n"}}]}, ("aggregate", 0, "unwind"), m.UNWIND),
    (STAT, {"aggregate": [{"count": {}}]}, ("aggregate", 0, "count"), m.COUNT),
]  # fmt: skip


def defaults(spec: m.FieldSpec, graphql: bool) -> list[Any]:
    """The values proto3 JSON reads as "not set" for a field of this type (GraphQL:
    those its typed inputs can carry)."""
    if spec.repeated:
        return [None, []]
    if isinstance(spec.type, m.Message):
        return [None]
    if isinstance(spec.type, m.EnumType):
        return [None] if graphql else [None, spec.type.values[0], 0, ""]
    by_kind = {"string": [""], "bool": [False], "int32": [0], "uint32": [0], "int64": [0]}[spec.type.name]
    numbers_as_text = [] if graphql or spec.type.name not in {"int32", "uint32", "int64"} else ["0", 0.0, "0.0"]
    return [None, *by_kind, *numbers_as_text]


def _at(query: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = query
    for step in path:
        node = node[step]
    return node


def _cases() -> list[Any]:
    cases = []
    for routes, query, path, message in ANCHORS:
        for spec in message.fields:
            if spec.oneof is not None or spec.name in _at(query, path):
                continue  # members of a oneof keep presence; fields given by the anchor are its point
            for route in routes:
                for value in defaults(spec, graphql=route.startswith("gql")):
                    cases.append(
                        pytest.param(
                            route,
                            query,
                            path,
                            spec.name,
                            value,
                            id=f"{route}-{message.name.rpartition('.')[2]}.{spec.name}={value!r}",
                        )
                    )
    return cases  # fmt: skip


@pytest.mark.parametrize(("route", "query", "path", "name", "value"), _cases())
def test_a_field_at_its_default_is_the_field_left_out(
    client: Any, route: str, query: dict[str, Any], path: tuple[Any, ...], name: str, value: Any
) -> None:
    with_default = copy.deepcopy(query)
    _at(with_default, path)[name] = value
    assert answer(client, route, with_default) == answer(client, route, query)


@pytest.mark.parametrize("shortcut", ["job_id", "status", "collector_id", "project_id"])
@pytest.mark.parametrize("value", [None, "", 0, "JOB_STATE_NONE"])
def test_shortcuts_at_their_default_are_left_out(client: Any, shortcut: str, value: Any) -> None:
    if value in (0, "JOB_STATE_NONE") and shortcut != "status":
        expected = "ERROR_INVALID_PARAMETER_TYPE" if value == 0 else None  # a string field given a number
        if expected:
            assert answer(client, "rest-list", {}, **{shortcut: value})[0] == expected
        return
    assert answer(client, "rest-list", {}, **{shortcut: value}) == answer(client, "rest-list", {})


def test_every_field_of_every_message_is_tried() -> None:
    tried = {(message.name, spec.name) for _, query, path, message in ANCHORS for spec in message.fields
             if spec.oneof is None and spec.name not in _at(query, path)}  # fmt: skip
    messages = [m.QUERY, m.SORT, m.SORT_KEY, m.PAGE, m.STATISTICS_QUERY, m.GROUP, m.GROUP_KEY, m.GROUP_FIELD,
                m.PROJECT, m.PROJECT_FIELD, m.UNWIND, m.COUNT]  # fmt: skip
    every = {(message.name, spec.name) for message in messages for spec in message.fields if spec.oneof is None}
    assert every - tried == set()
