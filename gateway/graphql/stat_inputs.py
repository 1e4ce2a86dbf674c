"""Typed StatisticsQuery inputs (section 4.1): each stage is a `@oneOf` input, so
GraphiQL and code generators know every stage's shape. Converted to the wire form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from gateway.graphql.inputs import ConditionInput, PageInput, SortInput, conditions_to_wire, sort_to_wire
from gateway.graphql.scalars import JSON


@strawberry.input
class UnwindInput:
    path: str


@strawberry.input(description="Group by `key`, output as `name`; `dateFormat`: year, month, day or e.g. `%Y-%m-%d`.")
class GroupKeyInput:
    key: str
    name: str
    date_format: str | None = None


@strawberry.input
class PushFieldInput:
    key: str
    name: str


@strawberry.input(
    description="`operator`: count, sum, average, max, min, first, last, add_to_set, merge_objects, push."
)
class GroupFieldInput:
    name: str
    operator: str
    key: str | None = None
    fields: list[PushFieldInput] | None = None
    conditions: list[ConditionInput] | None = strawberry.field(
        default=None, description="eq, not, gt, gte, lt, lte: count, sum and average only the rows that satisfy all."
    )


@strawberry.input
class GroupInput:
    keys: list[GroupKeyInput] | None = None
    fields: list[GroupFieldInput] | None = None


@strawberry.input
class CountInput:
    name: str


@strawberry.input(
    description="Rename (`key` -> `name`), or compute with `operator`: size, sum, array_to_object, object_to_array "
    "(of `key`), add, subtract, multiply, divide (of `fields`: names, numbers or nested {operator, fields})."
)
class ProjectFieldInput:
    name: str
    key: str | None = None
    operator: str | None = None
    fields: list[JSON] | None = None


@strawberry.input
class ProjectInput:
    fields: list[ProjectFieldInput]
    exclude_keys: bool | None = None


@strawberry.input(one_of=True, description="One aggregation stage: exactly one field is set.")
class StageInput:
    unwind: UnwindInput | None = strawberry.UNSET
    group: GroupInput | None = strawberry.UNSET
    count: CountInput | None = strawberry.UNSET
    sort: SortInput | None = strawberry.UNSET
    project: ProjectInput | None = strawberry.UNSET
    limit: int | None = strawberry.UNSET
    skip: int | None = strawberry.UNSET


@strawberry.input(description="The StatisticsQuery language: `aggregate` stages or a `distinct` field path.")
class StatisticsQueryInput:
    filter: list[ConditionInput] | None = None
    filter_or: list[ConditionInput] | None = None
    keyword: str | None = None
    aggregate: list[StageInput] | None = None
    distinct: str | None = None
    page: PageInput | None = None


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _group(group: GroupInput) -> dict[str, Any]:
    keys = None
    if group.keys is not None:
        keys = [_drop_none({"key": k.key, "name": k.name, "date_format": k.date_format}) for k in group.keys]
    fields = None
    if group.fields is not None:
        fields = [
            _drop_none(
                {
                    "name": f.name,
                    "operator": f.operator,
                    "key": f.key,
                    "fields": None if f.fields is None else [{"key": p.key, "name": p.name} for p in f.fields],
                    "conditions": conditions_to_wire(f.conditions),
                }
            )
            for f in group.fields
        ]
    return _drop_none({"keys": keys, "fields": fields})


def _project(project: ProjectInput) -> dict[str, Any]:
    fields = [
        _drop_none({"name": f.name, "key": f.key, "operator": f.operator, "fields": f.fields}) for f in project.fields
    ]
    return _drop_none({"fields": fields, "exclude_keys": project.exclude_keys})


_STAGE_TO_WIRE: dict[str, Callable[[Any], Any]] = {
    "unwind": lambda unwind: {"path": unwind.path},
    "group": _group,
    "count": lambda count: {"name": count.name},
    "sort": lambda sort: sort_to_wire(sort) or {},
    "project": _project,
    "limit": lambda n: n,
    "skip": lambda n: n,
}


def _stage(stage: StageInput) -> dict[str, Any]:
    # @oneOf: GraphQL has already checked that exactly one field is set.
    for name, to_wire in _STAGE_TO_WIRE.items():
        value = getattr(stage, name)
        if value is not None and value is not strawberry.UNSET:
            return {name: to_wire(value)}
    return {}


def stat_query_to_wire(query: StatisticsQueryInput) -> dict[str, Any]:
    return _drop_none(
        {
            "filter": conditions_to_wire(query.filter),
            "filter_or": conditions_to_wire(query.filter_or),
            "keyword": query.keyword,
            "aggregate": None if query.aggregate is None else [_stage(s) for s in query.aggregate],
            "distinct": query.distinct,
            "page": None if query.page is None else _drop_none({"start": query.page.start, "limit": query.page.limit}),
        }
    )
