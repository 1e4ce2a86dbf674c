"""Typed StatisticsQuery inputs (section 4.1): each stage is a `@oneOf` input, so
GraphiQL and code generators know every stage's shape. Converted to the wire form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from gateway.graphql.inputs import ConditionInput, PageInput, SortInput, conditions_to_wire, sort_to_wire
from gateway.graphql.scalars import JSON


@strawberry.input(description="Unwind an array: one row per element.")
class UnwindInput:
    path: str = strawberry.field(description="The array's field path.")


@strawberry.input(description="Group by `key`, output as `name`; `dateFormat`: year, month, day or e.g. `%Y-%m-%d`.")
class GroupKeyInput:
    key: str = strawberry.field(description="The field path to group by.")
    name: str = strawberry.field(description="The output name of the key.")
    date_format: str | None = strawberry.field(
        default=None,
        description="Group a date by `year`, `month`, `day`, or a `$dateToString` format such as `%Y-%m-%d`.",
    )


@strawberry.input(description="A field pushed into a `push` group field.")
class PushFieldInput:
    key: str = strawberry.field(description="The field path to push.")
    name: str = strawberry.field(description="Its output name.")


@strawberry.input(
    description="`operator`: count, sum, average, max, min, first, last, add_to_set, merge_objects, push."
)
class GroupFieldInput:
    name: str = strawberry.field(description="The output name.")
    operator: str = strawberry.field(description="The accumulator (see the type).")
    key: str | None = strawberry.field(
        default=None, description="The field path the accumulator reads (all but `count`)."
    )
    fields: list[PushFieldInput] | None = strawberry.field(
        default=None, description="For `push`: the fields of each pushed object."
    )
    conditions: list[ConditionInput] | None = strawberry.field(
        default=None, description="eq, not, gt, gte, lt, lte: count, sum and average only the rows that satisfy all."
    )


@strawberry.input(description="Group rows by `keys`, computing `fields` per group.")
class GroupInput:
    keys: list[GroupKeyInput] | None = strawberry.field(
        default=None, description="The group keys; none: one group of every row."
    )
    fields: list[GroupFieldInput] | None = strawberry.field(default=None, description="The computed fields.")


@strawberry.input(description="Count the rows into one row `{name: n}`.")
class CountInput:
    name: str = strawberry.field(description="The output name.")


@strawberry.input(
    description="Rename (`key` -> `name`), or compute with `operator`: size, sum, array_to_object, object_to_array "
    "(of `key`), add, subtract, multiply, divide (of `fields`: names, numbers or nested {operator, fields})."
)
class ProjectFieldInput:
    name: str = strawberry.field(description="The output name.")
    key: str | None = strawberry.field(default=None, description="The field path read (rename or unary operator).")
    operator: str | None = strawberry.field(default=None, description="The operator (see the type); none: a rename.")
    fields: list[JSON] | None = strawberry.field(default=None, description="Operands of an arithmetic operator.")


@strawberry.input(description="Reshape each row.")
class ProjectInput:
    fields: list[ProjectFieldInput] = strawberry.field(description="The output fields.")
    exclude_keys: bool | None = strawberry.field(default=None, description="Drop the group keys (kept by default).")


@strawberry.input(one_of=True, description="One aggregation stage: exactly one field is set.")
class StageInput:
    unwind: UnwindInput | None = strawberry.field(default=strawberry.UNSET, description="An unwind stage.")
    group: GroupInput | None = strawberry.field(default=strawberry.UNSET, description="A group stage.")
    count: CountInput | None = strawberry.field(default=strawberry.UNSET, description="A count stage.")
    sort: SortInput | None = strawberry.field(default=strawberry.UNSET, description="A sort stage.")
    project: ProjectInput | None = strawberry.field(default=strawberry.UNSET, description="A project stage.")
    limit: int | None = strawberry.field(default=strawberry.UNSET, description="Keep the first rows.")
    skip: int | None = strawberry.field(default=strawberry.UNSET, description="Skip rows.")


@strawberry.input(description="The StatisticsQuery language: `aggregate` stages or a `distinct` field path.")
class StatisticsQueryInput:
    filter: list[ConditionInput] | None = strawberry.field(default=None, description="Conditions that must all hold.")
    filter_or: list[ConditionInput] | None = strawberry.field(
        default=None, description="Conditions of which one must hold."
    )
    keyword: str | None = strawberry.field(
        default=None, description="Space-separated words, each matched within `job_id`."
    )
    aggregate: list[StageInput] | None = strawberry.field(default=None, description="The stages, in order.")
    distinct: str | None = strawberry.field(default=None, description="A field path: its distinct values.")
    page: PageInput | None = strawberry.field(
        default=None, description="Page the rows (then `total_count` is answered)."
    )


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
