"""Typed StatisticsQuery inputs (section 4.1): each stage is a `@oneOf` input, so
GraphiQL and code generators know every stage's shape. Converted losslessly to the
published request (``inputs.to_wire``); as there, every field is optional so that the
compiler reports what is missing, and the short names the published messages declare
(`k`, `n`, `o`) are accepted beside `key`, `name`, `operator`."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.graphql.inputs import ConditionInput, PageInput, SortInput, to_wire
from gateway.graphql.scalars import JSON

KEY = "Stored path (snake_case) before a group; an output name after one."


def _short(long: str) -> Any:
    return strawberry.field(default=None, description=f"Short for `{long}`.")


@strawberry.input(description="Unwind an array: one row per element.")
class UnwindInput:
    path: str | None = strawberry.field(default=None, description="The array's field path.")


@strawberry.input(description="Group by `key`, output as `name`; `dateFormat`: year, month, day or e.g. `%Y-%m-%d`.")
class GroupKeyInput:
    key: str | None = strawberry.field(default=None, description="The field path to group by. " + KEY)
    name: str | None = strawberry.field(default=None, description="The output name of the key.")
    date_format: str | None = strawberry.field(
        default=None,
        description="Group a date by `year`, `month`, `day`, or a `$dateToString` format such as `%Y-%m-%d`.",
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description="With `dateFormat`: the IANA time zone whose calendar the date is read in (e.g. `Asia/Seoul`); "
        "UTC when absent.",
    )
    k: str | None = _short("key")
    n: str | None = _short("name")


@strawberry.input(description="A field pushed into a `push` group field.")
class PushFieldInput:
    key: str | None = strawberry.field(default=None, description="The field path to push. " + KEY)
    name: str | None = strawberry.field(default=None, description="Its output name.")
    k: str | None = _short("key")
    n: str | None = _short("name")


@strawberry.input(
    description="`operator`: count, sum, average, max, min, first, last, add_to_set, merge_objects, push."
)
class GroupFieldInput:
    name: str | None = strawberry.field(default=None, description="The output name.")
    operator: str | None = strawberry.field(default=None, description="The accumulator (see the type).")
    key: str | None = strawberry.field(
        default=None, description="The field path the accumulator reads (all but `count`). " + KEY
    )
    fields: list[PushFieldInput] | None = strawberry.field(
        default=None, description="For `push`: the fields of each pushed object."
    )
    conditions: list[ConditionInput] | None = strawberry.field(
        default=None, description="eq, not, gt, gte, lt, lte: count, sum and average only the rows that satisfy all."
    )
    k: str | None = _short("key")
    n: str | None = _short("name")
    o: str | None = _short("operator")


@strawberry.input(description="Group rows by `keys`, computing `fields` per group.")
class GroupInput:
    keys: list[GroupKeyInput] | None = strawberry.field(
        default=None, description="The group keys; none: one group of every row."
    )
    fields: list[GroupFieldInput] | None = strawberry.field(default=None, description="The computed fields.")


@strawberry.input(description="Count the rows into one row `{name: n}`.")
class CountInput:
    name: str | None = strawberry.field(default=None, description="The output name.")


@strawberry.input(
    description="Rename (`key` -> `name`), or compute with `operator`: size, sum, array_to_object, object_to_array "
    "(of `key`), add, subtract, multiply, divide (of `fields`: names, numbers or nested {operator, fields})."
)
class ProjectFieldInput:
    name: str | None = strawberry.field(default=None, description="The output name.")
    key: str | None = strawberry.field(
        default=None, description="The field path read (rename or unary operator). " + KEY
    )
    operator: str | None = strawberry.field(default=None, description="The operator (see the type); none: a rename.")
    fields: list[JSON] | None = strawberry.field(default=None, description="Operands of an arithmetic operator.")
    k: str | None = _short("key")
    n: str | None = _short("name")
    o: str | None = _short("operator")


@strawberry.input(description="Reshape each row.")
class ProjectInput:
    fields: list[ProjectFieldInput] | None = strawberry.field(default=None, description="The output fields.")
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


def stat_request(query: StatisticsQueryInput, domain_id: str | None) -> dict[str, Any]:
    """The published stat request (``JobStatQuery``) of the GraphQL arguments."""
    return {"query": to_wire(query), "domain_id": domain_id}
