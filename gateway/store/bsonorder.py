"""BSON values as MongoDB compares them: one sort key per value.

``sort_key(v)`` maps a stored value to a Python tuple whose ordering is MongoDB's
comparison/sort order (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/):
MinKey < null < numbers < strings < objects < arrays < binary data < ObjectId <
booleans < dates < timestamps < regular expressions < MaxKey. Numbers of every kind
compare by value (``1 == 1.0``); objects compare pair by pair (field type, then name,
then value), arrays element by element, a shorter one first when it is a prefix.
Equality is equality of keys: ``{a: 1, b: 2}`` differs from ``{b: 2, a: 1}``, as in
MongoDB and unlike Python's ``dict``.

``MISSING`` stands for a field that is not there (no value at all, not null).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from bson import Binary, Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp

from gateway.errors import UnsupportedByEngine


class _Missing:
    """The absence of a value (a field that does not exist)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

# Ranks of the canonical types, in MongoDB's order.
MIN_KEY, NULL, NUMBER, STRING, OBJECT, ARRAY, BINARY, OBJECT_ID, BOOLEAN, DATE, TIMESTAMP, REGEX, CODE, MAX_KEY = range(
    14
)
# Below null: how an empty array sorts ("a comparison of an empty array considers the
# empty array as less than a null value or a missing field value", same page).
EMPTY_ARRAY_SORT_KEY: Final = (MIN_KEY, 1)
NULL_KEY: Final = (NULL,)


def rank(value: Any) -> int:
    """The canonical type rank of a BSON value (``MISSING`` and None rank as null)."""
    if value is None or value is MISSING:
        return NULL
    kind = type(value)
    if kind is str:
        return STRING
    if kind is bool:
        return BOOLEAN
    if kind is int or kind is float:
        return NUMBER
    if kind is datetime:
        return DATE
    if isinstance(value, Mapping):
        return OBJECT
    if isinstance(value, list | tuple):
        return ARRAY
    if isinstance(value, int | float | Decimal128 | Decimal):
        return NUMBER
    if isinstance(value, ObjectId):
        return OBJECT_ID
    if isinstance(value, bytes | Binary | uuid.UUID):
        return BINARY
    if isinstance(value, Timestamp):
        return TIMESTAMP
    if isinstance(value, Regex | re.Pattern):
        return REGEX
    if isinstance(value, Code):
        return CODE
    if isinstance(value, MinKey):
        return MIN_KEY
    if isinstance(value, MaxKey):
        return MAX_KEY
    raise UnsupportedByEngine(f"the embedded engine cannot compare a value of type {type(value).__name__}.")


def sort_key(value: Any) -> tuple[Any, ...]:
    """A tuple that orders as MongoDB orders ``value`` among BSON values."""
    kind = type(value)
    if kind is str:
        return (STRING, value)
    if kind is int or (kind is float and not math.isnan(value)):
        return (NUMBER, 1, value)
    if kind is datetime:
        return (DATE, utc(value))
    if value is None or value is MISSING:
        return NULL_KEY
    if kind is bool:
        return (BOOLEAN, value)
    r = rank(value)
    if r == NUMBER:
        number = value.to_decimal() if isinstance(value, Decimal128) else value
        if isinstance(number, float | Decimal) and math.isnan(number):  # NaN sorts below every number
            return (NUMBER, 0, 0)
        return (NUMBER, 1, number)
    if r == OBJECT:
        return (OBJECT, tuple((rank(v), k, sort_key(v)) for k, v in value.items()))
    if r == ARRAY:
        return (ARRAY, tuple(sort_key(v) for v in value))
    if r == OBJECT_ID:
        return (OBJECT_ID, value.binary)
    if r == BINARY:
        data = value.bytes if isinstance(value, uuid.UUID) else bytes(value)
        subtype = value.subtype if isinstance(value, Binary) else (4 if isinstance(value, uuid.UUID) else 0)
        return (BINARY, len(data), subtype, data)
    if r == TIMESTAMP:
        return (TIMESTAMP, value.time, value.inc)
    if r == REGEX:
        return (REGEX, value.pattern, str(value.flags))
    if r == CODE:
        return (CODE, str(value))
    return (r,)


def utc(value: datetime) -> datetime:
    """A datetime as the naive UTC instant BSON stores."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def equal(a: Any, b: Any) -> bool:
    """MongoDB equality of two values (numbers by value, objects field order included)."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in _PLAIN:
        return bool(a == b)
    return sort_key(a) == sort_key(b)


_PLAIN = frozenset({str, datetime, ObjectId, bool})


def is_number(value: Any) -> bool:
    """Whether ``value`` is a BSON number (int, float, Decimal128), as MongoDB's
    ``$isNumber``: a bool is not one."""
    kind = type(value)
    if kind is int or kind is float:
        return True
    return kind is not bool and isinstance(value, int | float | Decimal128)


def truthy(value: Any) -> bool:
    """Aggregation truthiness: false, null, missing, undefined and every numeric zero
    are false; everything else (empty strings and arrays included) is true
    (https://www.mongodb.com/docs/manual/reference/operator/aggregation/cond/)."""
    if value is None or value is MISSING or value is False:
        return False
    if is_number(value):
        number = value.to_decimal() if isinstance(value, Decimal128) else value
        return bool(number != 0)
    return True
