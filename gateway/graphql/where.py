"""``where: JobWhere``: typed filters generated from the field table the compiler
checks keys against (``gateway.query.fields``), and their conversion to the published
language (a condition tree, ``gateway.query.trees``) - one compiler, one semantics.

Each stored field gets the comparison input of its kind (``gateway.graphql.comparisons``);
the collector's fields are under ``collector`` (its ``collector_info.*`` conditions,
answered as the published language answers them); an array of sub-documents
(``errors``) gets ``some``, ``none`` and ``isEmpty``; ``and``, ``or`` and ``not`` nest
freely. Fields of one ``JobWhere`` must all hold.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import strawberry

from gateway.errors import InvalidQuery
from gateway.graphql import comparisons
from gateway.graphql.arguments import camel, present
from gateway.query.fields import COLLECTOR_STATES, JOB_DOCUMENT, JOB_STATUSES, UPGRADE_MODES, Field, Kind
from gateway.query.paths import COLLECTOR_INFO

Node = dict[str, Any]

_BY_KIND: dict[Kind, type] = {
    Kind.STRING: comparisons.StringComparison,
    Kind.INTEGER: comparisons.IntComparison,
    Kind.BOOLEAN: comparisons.BooleanComparison,
    Kind.DATETIME: comparisons.InstantComparison,
    Kind.FREE_FORM: comparisons.FreeFormComparison,
}
_BY_VALUES: dict[tuple[str, ...], type] = {
    JOB_STATUSES: comparisons.JobStatusComparison,
    COLLECTOR_STATES: comparisons.CollectorStateComparison,
    UPGRADE_MODES: comparisons.UpgradeModeComparison,
}


@dataclass(frozen=True)
class Entry:
    """One field of a generated where input: how it reads (``compare``: a comparison;
    ``nested``: a where of a sub-document; ``elements``: an array of sub-documents)."""

    attribute: str
    path: str
    how: str
    input_type: type


# Generated input -> its entries, for the conversion.
ENTRIES: dict[type, list[Entry]] = {}
# A list comparison input (`some`/`none`/`isEmpty`) -> its element's where input.
ELEMENTS: dict[type, type] = {}


# The GraphQL name of each sub-document's where input, as its output type is named.
_TYPE_NAMES = {COLLECTOR_INFO: "Collector", "errors": "ErrorInfo", f"{COLLECTOR_INFO}.plugin_info": "PluginInfo"}


def _type_name(path: str) -> str:
    return _TYPE_NAMES.get(path) or "".join(part.title() for part in path.replace(".", "_").split("_"))


def _describe(field: Field, path: str) -> str:
    return field.description or f"Conditions on `{path}`."


def _generate(name: str, description: str, entries: list[tuple[Entry, str]], junctions: bool = False) -> type:
    annotations: dict[str, object] = {}
    namespace: dict[str, object] = {"__module__": __name__}
    for entry, text in entries:
        free_form = entry.input_type is comparisons.FreeFormComparison
        annotations[entry.attribute] = (list[entry.input_type] if free_form else entry.input_type) | None  # type: ignore[name-defined]
        namespace[entry.attribute] = strawberry.field(default=strawberry.UNSET, description=text)
    if junctions:
        annotations.update(and_=f"list[{name}] | None", or_=f"list[{name}] | None", not_=f"{name} | None")
        namespace["and_"] = strawberry.field(default=strawberry.UNSET, name="and", description="Each must hold.")
        namespace["or_"] = strawberry.field(
            default=strawberry.UNSET, name="or", description="One must hold (an empty list: none does)."
        )
        namespace["not_"] = strawberry.field(default=strawberry.UNSET, name="not", description="Must not hold.")
    namespace["__annotations__"] = annotations
    cls = strawberry.input(type(name, (), namespace), description=description)
    setattr(sys.modules[__name__], name, cls)  # where forward references to it resolve
    ENTRIES[cls] = [entry for entry, _ in entries]
    return cls


def _entries(fields: Iterable[Field], prefix: str) -> list[tuple[Entry, str]]:
    out: list[tuple[Entry, str]] = []
    for field in fields:
        path = prefix + field.published_name  # the published spelling: errors name what clients wrote
        if field.joined:
            nested = _generate(
                f"{_type_name(path)}Where",
                "Conditions on a job's collector (the one its collector reference names in its domain).",
                _entries(field.fields, path + "."),
            )
            out.append((Entry("collector", path, "nested", nested), "Conditions on the job's collector."))
        elif field.kind is Kind.DOCUMENT and field.array:
            element = _generate(
                f"{_type_name(path)}Where",
                f"Conditions on one element of `{path}`; all must hold for that element.",
                _entries(field.fields, path + "."),
            )
            entry = Entry(field.published_name, path, "elements", _elements(path, element))
            out.append((entry, _describe(field, path)))
        elif field.kind is Kind.DOCUMENT:
            nested = _generate(
                f"{_type_name(path)}Where", f"Conditions on `{path}`.", _entries(field.fields, path + ".")
            )
            out.append((Entry(field.published_name, path, "nested", nested), _describe(field, path)))
        elif field.values in _BY_VALUES:
            out.append((Entry(field.published_name, path, "compare", _BY_VALUES[field.values]), _describe(field, path)))
        elif field.kind in _BY_KIND:
            out.append((Entry(field.published_name, path, "compare", _BY_KIND[field.kind]), _describe(field, path)))
    return out


def _elements(path: str, element: type) -> type:
    name = f"{_type_name(path)}ListComparison"
    cls = strawberry.input(
        type(
            name,
            (),
            {
                "__module__": __name__,
                "__annotations__": {
                    "some": f"{element.__name__} | None",
                    "none": f"{element.__name__} | None",
                    "is_empty": "bool | None",
                },
                "some": strawberry.field(default=strawberry.UNSET, description="Some element satisfies it."),
                "none": strawberry.field(
                    default=strawberry.UNSET, description="No element satisfies it (an empty or missing list included)."
                ),
                "is_empty": strawberry.field(
                    default=strawberry.UNSET, description="true: empty, null or missing; false: has an element."
                ),
            },
        ),
        description=f"Conditions on the array `{path}`.",
    )
    setattr(sys.modules[__name__], name, cls)
    ELEMENTS[cls] = element
    return cls


def _job_where() -> type:
    entries = _entries((f for f in JOB_DOCUMENT if f.kind is not Kind.OBJECT_ID), "")
    return _generate(
        "JobWhere",
        "Typed conditions on a job, generated from the stored fields: each given field must hold; `and`, `or` "
        "and `not` nest freely. The same compiler as the published `filter` answers them.",
        entries,
        junctions=True,
    )


JobWhere: Any = _job_where()


def _element_conditions(where: Any, element: type, at: str) -> list[Node]:
    conditions: list[Node] = []
    for entry in ENTRIES[element]:
        value = present(where, entry.attribute, at)
        if value is not None:
            conditions += comparisons.comparison_conditions(
                entry.path, value, entry.input_type, f"{at}.{camel(entry.attribute)}"
            )
    return conditions


def _array(entry: Entry, value: Any, at: str) -> list[Node]:
    element = ELEMENTS[entry.input_type]
    nodes: list[Node] = []
    some, none, is_empty = (present(value, name, at) for name in ("some", "none", "is_empty"))
    if some is not None:
        nodes.append({"elem_match": {"key": entry.path, "and": _element_conditions(some, element, f"{at}.some")}})
    if none is not None:
        negated = _element_conditions(none, element, f"{at}.none")
        nodes.append({"not": {"elem_match": {"key": entry.path, "and": negated}}})
    if is_empty is not None:
        # The first element's absence: empty, null and missing alike.
        nodes.append({"key": f"{entry.path}.0", "operator": "exists", "value": not is_empty})
    if not nodes:
        raise InvalidQuery(f"{at} gives no operator: give one of some, none, isEmpty, or leave it out.")
    return nodes


def where_tree(where: Any, kind: type | None = None, at: str = "where") -> Node:
    """The condition tree (``gateway.query.trees``) a ``JobWhere`` (or a nested where
    input of type ``kind``) stands for, in either form (``gateway.graphql.arguments``):
    an ``and`` of each given field's published conditions. ``at`` names the input in
    errors. An empty ``JobWhere`` (at the top, or in ``and``/``or``/``not``) holds for
    every job, as MongoDB's ``{}``; raises ``InvalidQuery`` naming the field for a
    field or operator given as null, a comparison with no operator, and a sub-document's
    where with no condition (``collector: {}``: docs/graphql-api.md)."""
    kind = kind or JobWhere
    nodes: list[Node] = []
    for entry in ENTRIES[kind]:
        value = present(where, entry.attribute, at)
        if value is None:
            continue
        field_at = f"{at}.{camel(entry.attribute)}"
        if entry.how == "compare":
            nodes += comparisons.comparison_conditions(entry.path, value, entry.input_type, field_at)
        elif entry.how == "nested":
            nested = where_tree(value, entry.input_type, field_at)
            if not nested["and"]:
                raise InvalidQuery(f"{field_at} gives no condition: give one, or leave it out.")
            nodes.append(nested)
        else:
            nodes += _array(entry, value, field_at)
    for attribute, junction in (("and_", "and"), ("or_", "or")):
        items = present(where, attribute, at)
        if items is not None:
            nodes.append({junction: [where_tree(w, kind, f"{at}.{junction}[{i}]") for i, w in enumerate(items)]})
    negated = present(where, "not_", at)
    if negated is not None:
        nodes.append({"not": where_tree(negated, kind, f"{at}.not")})
    return {"and": nodes}
