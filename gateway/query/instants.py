"""Instants in conditions: ISO 8601 strings and `now`-relative time expressions.

Everything is returned as a naive UTC datetime, the form pymongo (tz_aware=False) and
the embedded engine both store, so comparisons never mix aware and naive values. An
instant outside the calendar (before 0001-01-01 or after 9999-12-31 in UTC, what BSON
dates and Python's datetime hold) is a client error naming the condition; any offset
that lands inside it is valid, however many digits it is written with.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gateway.display import json_text
from gateway.errors import InvalidQuery

_TIMEDIFF_RE = re.compile(r"now(?:/(?P<round>[dwm]))?(?:\s*(?P<sign>[+-])\s*(?P<n>\d+)(?P<unit>[smhdw]))?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# No offset of more digits than this fits the calendar in any unit (it spans ~3.2e11 s).
_MAX_OFFSET_DIGITS = 13


def to_naive_utc(value: datetime) -> datetime:
    """``value`` in UTC without a zone. Raises ``ValueError`` when UTC puts it
    outside the calendar (``0001-01-01T00:00:00+01:00``)."""
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is outside the calendar in UTC") from None
    return value


def _outside(key: str, value: object) -> InvalidQuery:
    return InvalidQuery(
        f"condition on {json_text(key)}: {json_text(value)} is outside the calendar (0001-01-01 to 9999-12-31, UTC)."
    )


def parse_iso(value: object, key: str) -> datetime:
    """Parse an ISO 8601 date or date-time; a value without offset is taken as UTC."""
    if not isinstance(value, str):
        raise InvalidQuery(
            f"condition on {json_text(key)}: an ISO 8601 date string is required, got {json_text(value)}."
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidQuery(
            f"condition on {json_text(key)}: {json_text(value)} is not an ISO 8601 date "
            '(e.g. "2022-06-17T08:00:01.225Z").'
        ) from None
    try:
        return to_naive_utc(parsed)
    except ValueError:
        raise _outside(key, value) from None


def parse_timediff(value: object, key: str, now: datetime) -> datetime:
    """Resolve `now`, `now/d`, `now/w`, `now/m`, each optionally `+N`/`-N` unit."""
    match = _TIMEDIFF_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidQuery(
            f"condition on {json_text(key)}: {json_text(value)} is not a time expression "
            "(now, now/d, now/w or now/m, optionally followed by +N or -N with a unit "
            's, m, h, d or w, e.g. "now/d-7d").'
        )
    instant = to_naive_utc(now)
    rounding = match["round"]
    if rounding is not None:
        instant = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        if rounding == "w":
            instant -= timedelta(days=instant.weekday())
        elif rounding == "m":
            instant = instant.replace(day=1)
    if match["sign"]:
        digits = match["n"].lstrip("0") or "0"
        if len(digits) > _MAX_OFFSET_DIGITS:
            raise _outside(key, value)
        try:
            delta = timedelta(seconds=int(digits) * _UNIT_SECONDS[match["unit"]])
            instant = instant + delta if match["sign"] == "+" else instant - delta
        except OverflowError:
            raise _outside(key, value) from None
    return instant
