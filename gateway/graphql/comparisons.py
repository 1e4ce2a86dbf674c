"""Typed comparison inputs of ``where`` (one per kind of stored value), and the
published condition each operator is (contract section 3.2): a typed filter is only
another way to write the published language, compiled by the same compiler.

Several operators in one input must all hold. A comparison that gives no operator
(``{}``, or a free-form ``path`` alone) and an operator given as null are refused
(``InvalidQuery`` naming the field), as Hasura refuses them: read as "no condition"
they would match every job silently. Test for null with ``isNull``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.errors import InvalidQuery
from gateway.graphql.arguments import camel, enum_value, given, present
from gateway.graphql.scalars import JSON, DateTime
from gateway.graphql.types import CollectorState, JobStatus, UpgradeMode

Condition = dict[str, Any]
# One operator field -> the published conditions it stands for, given the stored path and the value.
ToConditions = Callable[[str, Any], list[Condition]]


def published(operator: str, convert: Callable[[Any], Any] = lambda v: v) -> ToConditions:
    """The operator is the published ``operator`` on the value (converted)."""
    return lambda path, value: [{"key": path, "operator": operator, "value": convert(value)}]


def _is_null(path: str, value: bool) -> list[Condition]:
    # MongoDB's {field: null} matches null and missing alike, as the published `eq` null does.
    return [{"key": path, "operator": "eq" if value else "not", "value": None}]


def _enum_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_enum_value(v) for v in value]
    return enum_value(value)


def _instant(value: datetime) -> str:
    return value.isoformat()  # naive UTC, as the DateTime scalar parses; full precision


_EQ = "Equal to."
_NE = "Not equal to (missing fields included)."
_IN = "Equal to one of these (an empty list matches nothing)."
_NOT_IN = "Equal to none of these (missing fields included)."
_IS_NULL = "true: null or missing; false: present and not null."
_ARRAYS = " On an array field, a value matches when any element does (`ne`/`notIn`: when none does), as MongoDB."


@strawberry.input(description="Conditions on a string field." + _ARRAYS)
class StringComparison:
    eq: str | None = strawberry.field(default=strawberry.UNSET, description=_EQ)
    ne: str | None = strawberry.field(default=strawberry.UNSET, description=_NE)
    in_: list[str] | None = strawberry.field(default=strawberry.UNSET, name="in", description=_IN)
    not_in: list[str] | None = strawberry.field(default=strawberry.UNSET, description=_NOT_IN)
    contains: str | None = strawberry.field(default=strawberry.UNSET, description="Contains the text (any case).")
    not_contains: str | None = strawberry.field(
        default=strawberry.UNSET, description="Does not contain the text (any case; missing fields included)."
    )
    contains_any: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Contains one of the texts (any case)."
    )
    regex: str | None = strawberry.field(
        default=strawberry.UNSET, description="Matches the regular expression (PCRE, as MongoDB; any case)."
    )
    is_null: bool | None = strawberry.field(default=strawberry.UNSET, description=_IS_NULL)


@strawberry.input(description="Conditions on an integer field.")
class IntComparison:
    eq: int | None = strawberry.field(default=strawberry.UNSET, description=_EQ)
    ne: int | None = strawberry.field(default=strawberry.UNSET, description=_NE)
    in_: list[int] | None = strawberry.field(default=strawberry.UNSET, name="in", description=_IN)
    not_in: list[int] | None = strawberry.field(default=strawberry.UNSET, description=_NOT_IN)
    gt: int | None = strawberry.field(default=strawberry.UNSET, description="Greater than.")
    gte: int | None = strawberry.field(default=strawberry.UNSET, description="Greater than or equal to.")
    lt: int | None = strawberry.field(default=strawberry.UNSET, description="Less than.")
    lte: int | None = strawberry.field(default=strawberry.UNSET, description="Less than or equal to.")
    is_null: bool | None = strawberry.field(default=strawberry.UNSET, description=_IS_NULL)


@strawberry.input(description="Conditions on a true/false field.")
class BooleanComparison:
    eq: bool | None = strawberry.field(default=strawberry.UNSET, description=_EQ)
    ne: bool | None = strawberry.field(default=strawberry.UNSET, description=_NE)
    is_null: bool | None = strawberry.field(default=strawberry.UNSET, description=_IS_NULL)


@strawberry.input(
    description="Conditions on an instant: absolute (`gt`...) or relative to now (`since`, `before`: `now`, "
    "`now/d`, `now/w` or `now/m`, optionally `+N` or `-N` with a unit s, m, h, d or w, e.g. `now/d-7d`)."
)
class InstantComparison:
    gt: DateTime | None = strawberry.field(default=strawberry.UNSET, description="After.")
    gte: DateTime | None = strawberry.field(default=strawberry.UNSET, description="At or after.")
    lt: DateTime | None = strawberry.field(default=strawberry.UNSET, description="Before.")
    lte: DateTime | None = strawberry.field(default=strawberry.UNSET, description="At or before.")
    since: str | None = strawberry.field(
        default=strawberry.UNSET, description="At or after a time relative to now (the published `timediff_gte`)."
    )
    before: str | None = strawberry.field(
        default=strawberry.UNSET, description="Before a time relative to now (the published `timediff_lt`)."
    )
    is_null: bool | None = strawberry.field(default=strawberry.UNSET, description=_IS_NULL)


@strawberry.input(description="A condition on a path inside a free-form object (`filter`, `tags`, ...).")
class FreeFormComparison:
    path: str = strawberry.field(description="The path below the object, e.g. `region` or `team.name`.")
    eq: JSON | None = strawberry.field(default=strawberry.UNSET, description=_EQ)
    ne: JSON | None = strawberry.field(default=strawberry.UNSET, description=_NE)
    in_: list[JSON] | None = strawberry.field(default=strawberry.UNSET, name="in", description=_IN)
    not_in: list[JSON] | None = strawberry.field(default=strawberry.UNSET, description=_NOT_IN)
    contains: str | None = strawberry.field(default=strawberry.UNSET, description="Contains the text (any case).")
    exists: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether the path is present.")


def _enum_comparison(enum: type[Enum], name: str) -> type:
    cls = type(
        name,
        (),
        {
            "__module__": __name__,
            "__annotations__": {
                "eq": f"{enum.__name__} | None",
                "ne": f"{enum.__name__} | None",
                "in_": f"list[{enum.__name__}] | None",
                "not_in": f"list[{enum.__name__}] | None",
                "is_null": "bool | None",
            },
            "eq": strawberry.field(default=strawberry.UNSET, description=_EQ),
            "ne": strawberry.field(default=strawberry.UNSET, description=_NE),
            "in_": strawberry.field(default=strawberry.UNSET, name="in", description=_IN),
            "not_in": strawberry.field(default=strawberry.UNSET, description=_NOT_IN),
            "is_null": strawberry.field(default=strawberry.UNSET, description=_IS_NULL),
        },
    )
    return strawberry.input(cls, description=f"Conditions on a {enum.__name__} field.")


JobStatusComparison = _enum_comparison(JobStatus, "JobStatusComparison")
CollectorStateComparison = _enum_comparison(CollectorState, "CollectorStateComparison")
UpgradeModeComparison = _enum_comparison(UpgradeMode, "UpgradeModeComparison")

_EQUALITY: dict[str, ToConditions] = {
    "eq": published("eq"),
    "ne": published("not"),
    "in_": published("in"),
    "not_in": published("not_in"),
    "is_null": _is_null,
}
_ENUM: dict[str, ToConditions] = {
    "eq": published("eq", _enum_value),
    "ne": published("not", _enum_value),
    "in_": published("in", _enum_value),
    "not_in": published("not_in", _enum_value),
    "is_null": _is_null,
}
_ORDER = {"gt": published("gt"), "gte": published("gte"), "lt": published("lt"), "lte": published("lte")}

# Each comparison input -> its operators' published forms.
OPERATORS: Mapping[type, Mapping[str, ToConditions]] = {
    StringComparison: {
        **_EQUALITY,
        "contains": published("contain"),
        "not_contains": published("not_contain"),
        "contains_any": published("contain_in"),
        "regex": published("regex"),
    },
    IntComparison: {**_EQUALITY, **_ORDER},
    BooleanComparison: {k: _EQUALITY[k] for k in ("eq", "ne", "is_null")},
    InstantComparison: {
        **{op: published(f"datetime_{op}", _instant) for op in ("gt", "gte", "lt", "lte")},
        "since": published("timediff_gte"),
        "before": published("timediff_lt"),
        "is_null": _is_null,
    },
    JobStatusComparison: _ENUM,
    CollectorStateComparison: _ENUM,
    UpgradeModeComparison: _ENUM,
}


def _free_form(path: str, comparison: Any, at: str) -> list[Condition]:
    key = f"{path}.{given(comparison, 'path')}"
    return [c for op, to in _FREE_FORM.items() for c in _given(comparison, op, key, to, at)]


_FREE_FORM: dict[str, ToConditions] = {**_EQUALITY, "contains": published("contain"), "exists": published("exists")}
del _FREE_FORM["is_null"]


def _given(comparison: Any, attribute: str, path: str, to: ToConditions, at: str) -> list[Condition]:
    value = present(comparison, attribute, at)
    return [] if value is None else to(path, value)


def comparison_conditions(path: str, comparison: Any, kind: type, at: str = "where") -> list[Condition]:
    """The published conditions (all must hold) a comparison input of type ``kind`` on
    ``path`` (or, for free-form paths, a list of them) stands for; either form of the
    input (``gateway.graphql.arguments``). ``at`` names the input in errors: raises
    ``InvalidQuery`` for an operator given as null or a comparison with no operator."""
    if isinstance(comparison, list):  # free-form paths: each must hold
        return [c for i, item in enumerate(comparison) for c in comparison_conditions(path, item, kind, f"{at}[{i}]")]
    if kind is FreeFormComparison:
        table: Mapping[str, ToConditions] = _FREE_FORM
        conditions = _free_form(path, comparison, at)
    else:
        table = OPERATORS[kind]
        conditions = [c for op, to in table.items() for c in _given(comparison, op, path, to, at)]
    if not conditions:
        raise InvalidQuery(
            f"{at} gives no operator: give one of {', '.join(camel(op) for op in table)}, or leave it out."
        )
    return conditions
