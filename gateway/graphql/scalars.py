"""The two custom scalars of the schema: `DateTime` in the wire format of section 2,
and `JSON` for free-form objects (with dates and ids made JSON-safe)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from gateway.display import got, json_text
from gateway.encoding import format_datetime, jsonable
from gateway.errors import InvalidQuery
from gateway.query.instants import to_naive_utc


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidQuery(f"DateTime must be an ISO 8601 string, got {got(value)}.")
    try:
        return to_naive_utc(datetime.fromisoformat(value))
    except ValueError:
        raise InvalidQuery(f"{json_text(value)} is not an ISO 8601 date-time.") from None


DateTime = NewType("DateTime", datetime)
JSON = NewType("JSON", object)

# Registered on the schema through StrawberryConfig.scalar_map.
SCALARS: dict[object, ScalarDefinition] = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="A UTC instant in ISO 8601 with milliseconds and `Z`, e.g. `2022-06-17T08:00:01.225Z`.",
        serialize=format_datetime,
        parse_value=_parse_datetime,
    ),
    JSON: strawberry.scalar(
        name="JSON",
        description="A free-form JSON value (objects such as `filter`, `tags`, stat rows; condition values).",
        serialize=jsonable,
        parse_value=lambda value: value,
    ),
}
