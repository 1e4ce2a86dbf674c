"""Documents as a MongoDB server holds them once a driver has sent them: what a BSON
round trip would make of them, computed directly (several times faster than encoding
and decoding each document at start-up).

- datetimes: UTC, naive, to the millisecond (BSON dates are milliseconds since the
  epoch; pymongo decodes them naive with ``tz_aware=False``, as both engines read);
- tuples: arrays; dictionaries: documents with string keys;
- integers: within 64 bits (BSON has no wider integer);
- nesting: at most 100 levels (MongoDB manual, "Limits": Nested Depth for BSON
  Documents);
- every other BSON type as it is; anything BSON cannot carry is refused, naming where
  in the document it is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import bson
from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

from gateway.display import json_text

Document = dict[str, Any]
_AS_IS = frozenset({str, bool, float, type(None), ObjectId})
_OTHER = (bytes, Binary, uuid.UUID, Decimal128, Regex, re.Pattern, Timestamp, Code, MinKey, MaxKey)
_INT64 = 2**63


MAX_DEPTH = 100
SHOWN_STEPS = 8


class NotStorable(ValueError):
    """A value BSON cannot carry: ``problem`` says what is wrong, ``path`` where it is
    in the document (keys and array indexes), ``index`` which document of an insert."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []
        self.index: int | None = None

    @property
    def where(self) -> str:
        """The path as a JSON path reads (``errors[0].message``; the first steps and an
        ellipsis when it is long), or "" at the top."""
        return json_path(list(reversed(self.path)))

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}" if self.path else self.problem


def json_path(steps: list[str | int]) -> str:
    """``steps`` (keys, and array indexes as integers) as a JSON path reads:
    ``collections.job[17].created_at``; the first ``SHOWN_STEPS`` and an ellipsis when
    longer; "" for none."""
    shown = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps[:SHOWN_STEPS])
    return shown.removeprefix(".") + ("…" if len(steps) > SHOWN_STEPS else "")


def stored(document: Mapping[str, Any]) -> Document:
    """A copy of ``document`` as MongoDB would store it; ``NotStorable`` otherwise."""
    return _document(document, 1)


def sent(value: Any) -> Any:
    """A query value (a filter, a pipeline) as the server receives it once a driver has
    encoded it: datetimes to the millisecond in UTC, as stored ones are, so that
    ``$gte 10:05:00.123456`` compares as ``$gte 10:05:00.123`` (BSON dates are
    milliseconds, https://www.mongodb.com/docs/manual/reference/bson-types/#date).
    Raises ``NotStorable`` for what BSON cannot carry."""
    return value if type(value) in _AS_IS else _value(value, 0)


def _document(document: Mapping[str, Any], depth: int) -> Document:
    if depth > MAX_DEPTH:
        raise NotStorable(f"documents and arrays nest deeper than MongoDB's {MAX_DEPTH} levels")
    out = {}
    for key, value in document.items():
        if type(key) is not str or "\x00" in key:
            raise NotStorable(f"document keys must be strings without NUL characters, got {json_text(key)}")
        # Most values are stored as they are: no call for them.
        try:
            out[key] = value if type(value) in _AS_IS else _value(value, depth)
        except NotStorable as exc:
            exc.path.append(key)
            raise
    return out


def _value(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is int or kind is Int64:  # Int64: Extended JSON's {"$numberLong": ...}; pymongo reads back an int
        if not -_INT64 <= value < _INT64:
            raise NotStorable(f"{value} is outside the range of a 64-bit integer (BSON's widest)")
        return int(value)
    if kind is datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000) if value.microsecond % 1000 else value
    if kind is dict or isinstance(value, Mapping):
        return _document(value, depth + 1)
    if kind is list or kind is tuple:
        return _array(value, depth + 1)
    if isinstance(value, _OTHER):
        # Rare types: the driver's own encoding decides what they become.
        return bson.decode(bson.encode({"v": value}))["v"]
    raise NotStorable(f"BSON has no type for a {kind.__name__} value")


def _array(values: list[Any] | tuple[Any, ...], depth: int) -> list[Any]:
    if depth > MAX_DEPTH:
        raise NotStorable(f"documents and arrays nest deeper than MongoDB's {MAX_DEPTH} levels")
    out = []
    for i, v in enumerate(values):
        try:
            out.append(v if type(v) in _AS_IS else _value(v, depth))
        except NotStorable as exc:
            exc.path.append(i)
            raise
    return out
