"""Instants in conditions: ISO 8601 strings and `now`-relative time expressions.

Everything is returned as a naive UTC datetime, the form pymongo (tz_aware=False) and
the embedded engine both store, so comparisons never mix aware and naive values.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gateway.errors import InvalidQuery

_TIMEDIFF_RE = re.compile(r"now(?:/(?P<round>[dwm]))?(?:\s*(?P<sign>[+-])\s*(?P<n>\d{1,6})(?P<unit>[smhdw]))?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_iso(value: object, key: str) -> datetime:
    """Parse an ISO 8601 date or date-time; a value without offset is taken as UTC."""
    if not isinstance(value, str):
        raise InvalidQuery(f"condition on {key!r}: an ISO 8601 date string is required, got {value!r}.")
    try:
        return to_naive_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise InvalidQuery(
            f"condition on {key!r}: {value!r} is not an ISO 8601 date (e.g. '2022-06-17T08:00:01.225Z')."
        ) from None


def parse_timediff(value: object, key: str, now: datetime) -> datetime:
    """Resolve `now`, `now/d`, `now/w`, `now/m`, each optionally `+N`/`-N` unit."""
    match = _TIMEDIFF_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidQuery(
            f"condition on {key!r}: {value!r} is not a time expression "
            "(now, now/d, now/w or now/m, optionally followed by +N or -N with a unit "
            "s, m, h, d or w, e.g. 'now/d-7d')."
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
        delta = timedelta(seconds=int(match["n"]) * _UNIT_SECONDS[match["unit"]])
        instant = instant + delta if match["sign"] == "+" else instant - delta
    return instant
