"""Typed query inputs mirroring the Query language (section 3.1), and their
conversion to the wire form the service compiles. Data paths (`key`) stay snake_case."""

from __future__ import annotations

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
    key: str = strawberry.field(
        description="A stored field path (snake_case), e.g. `created_at` or `collector_info.name`."
    )
    desc: bool | None = strawberry.field(default=False, description="Descending when true.")


@strawberry.input(description="Either `key`/`desc` or `keys`; ties are broken by document id.")
class SortInput:
    key: str | None = strawberry.field(default=None, description="Sort by this stored field path.")
    desc: bool | None = strawberry.field(default=None, description="Descending when true (with `key`).")
    keys: list[SortKeyInput] | None = strawberry.field(
        default=None, description="Several sort keys, the first deciding first."
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


def conditions_to_wire(items: list[ConditionInput] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    names = ("key", "value", "operator", "k", "v", "o")
    # Only what the client gave: the compiler names a missing key or operator, and
    # refuses a field given in both its long and short form.
    return [{n: getattr(c, n) for n in names if getattr(c, n) is not strawberry.UNSET} for c in items]


def sort_to_wire(sort: SortInput | None) -> Any:
    if sort is None:
        return None
    if sort.keys is not None:
        return {"keys": [{"key": k.key, "desc": bool(k.desc)} for k in sort.keys]}
    if sort.key is None:
        return None
    return {"key": sort.key, "desc": bool(sort.desc)}


def query_to_wire(query: JobQueryInput | None) -> dict[str, Any]:
    """The wire form (`filter_or`, `count_only`, ...) of a typed query; unset fields absent."""
    if query is None:
        return {}
    wire = {
        "filter": conditions_to_wire(query.filter),
        "filter_or": conditions_to_wire(query.filter_or),
        "sort": sort_to_wire(query.sort),
        "page": None if query.page is None else {"start": query.page.start, "limit": query.page.limit},
        "only": query.only,
        "minimal": query.minimal,
        "count_only": query.count_only,
        "keyword": query.keyword,
    }
    return {k: v for k, v in wire.items() if v is not None}
