"""Input values in either of their two forms: the objects Strawberry builds for a
resolver, or the dicts graphql-core coerces them to (keyed by GraphQL names, enum
values as their values) - the form planned execution (``gateway.graphql.planning``)
hands the same resolvers. One reader of both, so that each input converts to the
published request in one place."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry

from gateway.errors import InvalidQuery


def camel(name: str) -> str:
    """A Python field name's GraphQL name, as Strawberry derives it (``not_in`` ->
    ``notIn``, ``in_`` -> ``in``)."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


def _raw(value: Any, attribute: str) -> Any:
    """The field ``attribute`` (its Python name) of an input value as given: ``UNSET``
    when it is not (a coerced dict, or Strawberry's input object)."""
    if isinstance(value, Mapping):
        return value.get(camel(attribute), strawberry.UNSET)
    return getattr(value, attribute, strawberry.UNSET)


def given(value: Any, attribute: str) -> Any:
    """The field ``attribute`` (its Python name) of an input value, or None when it is
    not given or given as null."""
    found = _raw(value, attribute)
    return None if found is strawberry.UNSET else found


def present(value: Any, attribute: str, at: str) -> Any:
    """``given``, but a field given as null is refused: ``InvalidQuery`` naming it
    (``at`` is where ``value`` stands, e.g. ``where.status``). For inputs where null
    would read as "no condition" and so match every row silently (``where``)."""
    found = _raw(value, attribute)
    if found is None:
        raise InvalidQuery(
            f"{at}.{camel(attribute)} is null: leave it out for no condition; test for null with isNull: true."
        )
    return None if found is strawberry.UNSET else found


def enum_value(value: Any) -> Any:
    """An enum member's value (a coerced dict already holds the value)."""
    return value.value if isinstance(value, Enum) else value
