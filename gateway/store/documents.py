"""Documents as a MongoDB server holds them once a driver has sent them: what a BSON
round trip would make of them, computed directly (several times faster than encoding
and decoding each document at start-up).

- datetimes: UTC, naive, to the millisecond (BSON dates are milliseconds since the
  epoch; pymongo decodes them naive with ``tz_aware=False``, as both engines read);
- tuples: arrays; dictionaries: documents with string keys;
- integers: within 64 bits (BSON has no wider integer);
- every other BSON type as it is; anything BSON cannot carry is refused.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import bson
from bson import Binary, Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp

from gateway.display import json_text

Document = dict[str, Any]
_AS_IS = frozenset({str, bool, float, type(None), ObjectId})
_OTHER = (bytes, Binary, uuid.UUID, Decimal128, Regex, re.Pattern, Timestamp, Code, MinKey, MaxKey)
_INT64 = 2**63


class NotStorable(ValueError):
    """A value BSON cannot carry (the message names it)."""


def stored(document: Mapping[str, Any]) -> Document:
    """A copy of ``document`` as MongoDB would store it."""
    return _document(document)


def _document(document: Mapping[str, Any]) -> Document:
    out = {}
    for key, value in document.items():
        if type(key) is not str or "\x00" in key:
            raise NotStorable(f"document keys must be strings without NUL characters, got {json_text(key)}")
        # Most values are stored as they are: no call for them.
        out[key] = value if type(value) in _AS_IS else _value(value)
    return out


def _value(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is int:
        if not -_INT64 <= value < _INT64:
            raise NotStorable(f"BSON can only handle up to 8-byte integers, got {value}")
        return value
    if kind is datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000) if value.microsecond % 1000 else value
    if kind is dict or isinstance(value, Mapping):
        return _document(value)
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_IS else _value(v) for v in value]
    if isinstance(value, _OTHER):
        # Rare types: the driver's own encoding decides what they become.
        return bson.decode(bson.encode({"v": value}))["v"]
    raise NotStorable(f"cannot store a value of type {kind.__name__}: {value!r:.80}")
