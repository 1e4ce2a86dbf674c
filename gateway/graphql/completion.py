"""Value completion along a plan (``gateway.graphql.plan``): a resolver's object to the
response's JSON-ready value, as graphql-core's executor completes it - each field read
(its reader, or the attribute), leaves serialized by their type, objects field by field
in plan order, lists item by item - and with its error handling: a field that raises is
a located error at its path; a null (or an error) in a non-null place makes the nearest
nullable parent null, the siblings after it in that object are not read, and only the
first error of that object is reported (graphql-core stops completing an object at the
first field that nulls it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError, located_error

from gateway.graphql.compiled import SLOW
from gateway.graphql.plan import FieldPlan

Path = tuple[Any, ...] | None  # linked: (parent path, key) - built only where it is needed


class _Null(Exception):
    """A null in a non-null place, already reported: its parent becomes null."""


def _path(path: Path) -> list[Any]:
    keys: list[Any] = []
    while path is not None:
        path, key = path
        keys.append(key)
    return keys[::-1]


def _fail(plan: FieldPlan, error: Exception, path: Path, errors: list[GraphQLError]) -> None:
    errors.append(located_error(error, list(plan.nodes), _path(path)))


def _null(plan: FieldPlan, path: Path, errors: list[GraphQLError]) -> None:
    message = f"Cannot return null for non-nullable field {plan.parent}.{plan.name}."
    _fail(plan, TypeError(message), path, errors)


def complete_object(  # noqa: PLR0912 - graphql-core's completion, one branch per case, inline for speed
    fields: Sequence[FieldPlan], source: Any, path: Path, errors: list[GraphQLError]
) -> dict[str, Any]:
    """The response map of ``source`` for ``fields``; raises ``_Null`` when a non-null
    field of it is null (the error is in ``errors``)."""
    out: dict[str, Any] = {}
    for plan in fields:
        fast = plan.fast
        if fast is not None:
            value = fast(source)
            if value is not SLOW and (value is not None or plan.nullable):
                out[plan.key] = value
                continue
        read = plan.read
        if read is None:  # __typename
            out[plan.key] = plan.parent
            continue
        try:
            value = read(source)
        except Exception as exc:
            _fail(plan, exc, (path, plan.key), errors)
            if not plan.nullable:
                raise _Null from None
            out[plan.key] = None
            continue
        serialize = plan.serialize
        if value is None:
            if not plan.nullable:
                _null(plan, (path, plan.key), errors)
                raise _Null
            out[plan.key] = None
        elif plan.is_list:
            out[plan.key] = _list(plan, value, (path, plan.key), errors)
        elif serialize is not None:
            try:  # the common case, inline: a leaf that serializes
                serialized = serialize(value)
            except Exception:
                serialized = None
            if serialized is None:
                serialized = _leaf(plan, value, (path, plan.key), errors, plan.nullable)
            out[plan.key] = serialized
        else:
            compiled = plan.compiled(value) if plan.compiled is not None else SLOW
            if compiled is not SLOW:
                out[plan.key] = compiled
                continue
            try:
                out[plan.key] = complete_object(plan.fields, value, (path, plan.key), errors)
            except _Null:
                if not plan.nullable:
                    raise
                out[plan.key] = None
    return out


def _leaf(plan: FieldPlan, value: Any, path: Path, errors: list[GraphQLError], nullable: bool) -> Any:
    try:
        serialized = plan.serialize(value)  # type: ignore[misc]
    except Exception as exc:
        _fail(plan, exc, path, errors)
        if not nullable:
            raise _Null from None
        return None
    if serialized is None:
        _fail(plan, TypeError(f"Expected a non-null serialization of {value!r}."), path, errors)
        if not nullable:
            raise _Null
    return serialized


def _list(plan: FieldPlan, values: Any, path: Path, errors: list[GraphQLError]) -> Any:
    items: list[Any] = []
    try:
        for index, value in enumerate(values):
            where = (path, index)
            if value is None:
                if not plan.item_nullable:
                    _null(plan, where, errors)
                    raise _Null
                items.append(None)
            elif plan.serialize is not None:
                items.append(_leaf(plan, value, where, errors, plan.item_nullable))
            else:
                compiled = plan.compiled(value) if plan.compiled is not None else SLOW
                if compiled is not SLOW:
                    items.append(compiled)
                    continue
                try:
                    items.append(complete_object(plan.fields, value, where, errors))
                except _Null:
                    if not plan.item_nullable:
                        raise
                    items.append(None)
    except _Null:
        if not plan.nullable:
            raise
        return None
    return items


def complete_root(plan: FieldPlan, value: Any, errors: list[GraphQLError]) -> tuple[bool, Any]:
    """A root field's value: (whether it holds - False when its null reaches the root
    and the field is non-null, which nulls the whole ``data``), the value."""
    path: Path = (None, plan.key)
    if value is None:
        if not plan.nullable:
            _null(plan, path, errors)
        return plan.nullable, None
    compiled = plan.compiled(value) if plan.compiled is not None and not plan.is_list else SLOW
    if compiled is not SLOW:
        return True, compiled
    try:
        if plan.is_list:
            completed = _list(plan, value, path, errors)
        elif plan.serialize is not None:
            completed = _leaf(plan, value, path, errors, plan.nullable)
        else:
            completed = complete_object(plan.fields, value, path, errors)
    except _Null:
        return plan.nullable, None
    return True, completed
