"""JSON encoding shared by both adapters: wire timestamps (contract section 2),
JSON-safe stored values, and fast JSON bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from bson import ObjectId


def format_datetime(value: datetime) -> str:
    """UTC, milliseconds, `Z`: ``2022-06-17T08:00:01.225Z``. Naive values are UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat is several times faster than strftime, and this runs per timestamp.
    return value.isoformat(timespec="milliseconds") + "Z"


def encode_json(content: Any) -> bytes:
    """JSON bytes, fast; numbers beyond 64 bits (which orjson refuses) via the stdlib."""
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return json.dumps(content, separators=(",", ":")).encode()


def jsonable(value: Any) -> Any:
    """A stored value as JSON: dates as wire timestamps, object ids as strings,
    tuples as lists; everything else as it is."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, ObjectId):
        return str(value)
    return value
