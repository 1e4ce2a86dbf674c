"""``orderBy: [JobOrderBy!]``: an enum of the sortable fields, generated from the field
table (``gateway.query.fields``: the job's scalar fields and its collector's), and its
conversion to the published ``sort`` - the compiler adds the document-id tie-break as
for every sort."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Any

import strawberry

from gateway.graphql.arguments import enum_value, given
from gateway.query.fields import COLLECTOR_DOCUMENT, JOB_DOCUMENT, Field, Kind
from gateway.query.paths import COLLECTOR_INFO

_SORTABLE = frozenset({Kind.STRING, Kind.INTEGER, Kind.BOOLEAN, Kind.DATETIME})


def _sortable(fields: Sequence[Field], prefix: str, name_prefix: str, owner: str) -> Iterator[tuple[str, Any]]:
    for field in fields:
        if field.kind in _SORTABLE and not field.array:
            name = (name_prefix + field.published_name).upper()
            yield name, strawberry.enum_value(prefix + field.name, description=f"The {owner}'s `{field.name}`.")


_JobOrderField: Any = Enum(  # type: ignore[misc]  # members generated from the field table
    "JobOrderField",
    [
        *_sortable(JOB_DOCUMENT, "", "", "job"),
        *_sortable(COLLECTOR_DOCUMENT, f"{COLLECTOR_INFO}.", "collector_", "job's collector"),
    ],
)
JobOrderField: Any = strawberry.enum(
    _JobOrderField,
    description="A field jobs can be ordered by: the job's own, or its collector's (`COLLECTOR_...`).",
)


@strawberry.enum(description="Which way an order goes.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest first; null and missing before every value.")
    DESC = strawberry.enum_value("DESC", description="Largest first; null and missing after every value.")


@strawberry.input(description="One key of an order; ties are broken by the next key, then by document id.")
class JobOrderBy:
    field: JobOrderField = strawberry.field(description="The field to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


def order_to_sort(order_by: Sequence[Any] | None) -> dict[str, Any] | None:
    """The published ``sort`` (contract section 3.1) of an ``orderBy`` in either form
    (``gateway.graphql.arguments``); None when not given."""
    if order_by is None:
        return None
    keys = []
    for item in order_by:
        direction = enum_value(given(item, "direction"))
        keys.append({"key": enum_value(given(item, "field")), "desc": direction == OrderDirection.DESC.value})
    return {"keys": keys}
