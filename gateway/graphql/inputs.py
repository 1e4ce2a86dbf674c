"""Typed query inputs mirroring the Query language (section 3.1), and their lossless
conversion to the published request the service compiles (``to_wire``): the compiler
is the only validator, so GraphQL and REST answer the same input alike. Data paths
(`key`) stay snake_case.

Every field is optional here, even those the language requires, so that a missing one
is reported by the compiler (``ERROR_REQUIRED_PARAMETER``) as it is over REST.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry

from gateway.graphql.scalars import JSON

OPERATOR_HELP = (
    "One of eq, not, lt, lte, gt, gte, exists, contain, not_contain, in, not_in, contain_in, "
    "not_contain_in, match, regex, regex_in, datetime_gt, datetime_gte, datetime_lt, datetime_lte, "
    "timediff_gt, timediff_gte, timediff_lt, timediff_lte."
)


@strawberry.input(
    description="A condition on a stored field path, e.g. `errors.error_code`. As in the published API, "
    "`k`, `v` and `o` are accepted for `key`, `value` and `operator`; one of each pair is required (but `value`)."
)
class ConditionInput:
    key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Dotted path into the stored job (snake_case); `collector_info.*` selects by collector.",
    )
    value: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="A literal: never interpreted as an operator."
    )
    operator: str | None = strawberry.field(default=strawberry.UNSET, description=OPERATOR_HELP)
    k: str | None = strawberry.field(default=strawberry.UNSET, description="Short for `key`.")
    v: JSON | None = strawberry.field(default=strawberry.UNSET, description="Short for `value`.")
    o: str | None = strawberry.field(default=strawberry.UNSET, description="Short for `operator`.")


@strawberry.input(description="One sort key.")
class SortKeyInput:
    key: str | None = strawberry.field(
        default=None, description="A stored field path (snake_case), e.g. `created_at` or `collector_info.name`."
    )
    desc: bool | None = strawberry.field(default=None, description="Descending when true; else ascending.")


@strawberry.input(
    description="`key`/`desc`, or `keys` when `key` is unset (as the published server reads it); "
    "no key at all: the default order. Ties are broken by document id."
)
class SortInput:
    key: str | None = strawberry.field(default=None, description="Sort by this stored field path.")
    desc: bool | None = strawberry.field(default=None, description="Descending when true (with `key`).")
    keys: list[SortKeyInput] | None = strawberry.field(
        default=None, description="Several sort keys, the first deciding first; read when `key` is unset."
    )


@strawberry.input(description="`start` is 1-based; `limit` 0 or absent means up to the page cap.")
class PageInput:
    start: int | None = strawberry.field(default=None, description="The first row, 1-based.")
    limit: int | None = strawberry.field(default=None, description="How many rows; 0 or absent: up to the page cap.")


@strawberry.input(description="The Query language of the published API.")
class JobQueryInput:
    filter: list[ConditionInput] | None = strawberry.field(default=None, description="Conditions that must all hold.")
    filter_or: list[ConditionInput] | None = strawberry.field(
        default=None, description="Conditions of which one must hold."
    )
    sort: SortInput | None = strawberry.field(
        default=None, description="The order; default newest first (`created_at` descending), ties by document id."
    )
    page: PageInput | None = strawberry.field(default=None, description="Which rows.")
    only: list[str] | None = strawberry.field(
        default=None,
        description="Wire fields to return (REST's projection); checked, but not applied here.",
        deprecation_reason="In GraphQL the selection set is the projection: select the fields you need. "
        "`only` no longer narrows the answer, so it can never null out a non-null field.",
    )
    minimal: bool | None = strawberry.field(
        default=None,
        description="REST's short form (job_id, status, created_at, finished_at); checked, but not applied here.",
        deprecation_reason="In GraphQL the selection set is the projection: select the fields you need. "
        "`minimal` no longer narrows the answer, so it can never null out a non-null field.",
    )
    count_only: bool | None = strawberry.field(default=None, description="Count, return no rows.")
    keyword: str | None = strawberry.field(
        default=None, description="Space-separated words, each matched within `job_id` (any word matches)."
    )


def to_wire(value: Any) -> Any:
    """A GraphQL input value as the published request, losslessly: each input object
    as the fields the client gave (unset ones left out, nulls kept) under their
    snake_case names, which are the published messages' field names; lists item by
    item; enums by value; JSON values as they are."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        given = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {name: to_wire(item) for name, item in given if item is not strawberry.UNSET}
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def query_to_wire(query: JobQueryInput | None) -> dict[str, Any]:
    """The published Query of a typed query (``{}`` when none is given)."""
    return {} if query is None else to_wire(query)
