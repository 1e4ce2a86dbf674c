"""Dates in aggregation expressions: ``$dateToString`` and the date parts, in UTC or
in a given ``timezone``, as MongoDB renders them.

Format specifiers (https://www.mongodb.com/docs/manual/reference/operator/aggregation/dateToString/#format-specifiers):
``%b`` abbreviated month name, ``%B`` full month name, ``%d`` day of month 01-31,
``%G`` ISO year, ``%H`` hour 00-23, ``%j`` day of year 001-366, ``%L`` millisecond
000-999, ``%m`` month 01-12, ``%M`` minute, ``%S`` second, ``%u`` ISO day of week
1 (Monday)-7, ``%U`` week of year 00-53 (weeks start on Sunday), ``%V`` ISO week
01-53, ``%w`` day of week 1 (Sunday)-7, ``%Y`` year 0000-9999, ``%z`` UTC offset
``+hhmm``, ``%Z`` UTC offset in minutes, ``%%`` a percent sign. Any other character
after ``%`` is refused, as MongoDB refuses it (error 18536), and so is a trailing ``%``
(18535). With no ``timezone`` the offset is zero: ``%z`` is ``+0000`` and ``%Z`` is
``0``; with one (``time_zone``), every specifier reads that zone's wall clock and the
offsets are its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.display import json_text
from gateway.errors import QueryRejected

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_SPECIFIERS: dict[str, Callable[[datetime], str]] = {
    "b": lambda d: _MONTHS[d.month - 1][:3],
    "B": lambda d: _MONTHS[d.month - 1],
    "d": lambda d: f"{d.day:02d}",
    "G": lambda d: f"{d.isocalendar()[0]:04d}",
    "H": lambda d: f"{d.hour:02d}",
    "j": lambda d: f"{d.timetuple().tm_yday:03d}",
    "L": lambda d: f"{d.microsecond // 1000:03d}",
    "m": lambda d: f"{d.month:02d}",
    "M": lambda d: f"{d.minute:02d}",
    "S": lambda d: f"{d.second:02d}",
    "u": lambda d: str(d.isoweekday()),
    "U": lambda d: d.strftime("%U"),
    "V": lambda d: f"{d.isocalendar()[1]:02d}",
    "w": lambda d: str(d.isoweekday() % 7 + 1),
    "Y": lambda d: f"{d.year:04d}",
    "z": lambda d: _offset(d, "{sign}{hours:02d}{minutes:02d}"),
    "Z": lambda d: str(_offset_minutes(d)),
}


def _offset_minutes(d: datetime) -> int:
    offset = d.utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) // 60


def _offset(d: datetime, pattern: str) -> str:
    minutes = _offset_minutes(d)
    sign = "-" if minutes < 0 else "+"
    return pattern.format(sign=sign, hours=abs(minutes) // 60, minutes=abs(minutes) % 60)


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?")


def time_zone(name: object) -> tzinfo:
    """The zone a ``timezone`` argument names: an Olson (IANA) name such as
    ``Asia/Seoul``, or a UTC offset ``+hh``, ``+hh:mm`` or ``+hhmm``, as MongoDB reads it;
    raises ``QueryRejected`` (MongoDB's error 40485) for anything else."""
    if isinstance(name, str):
        match = _OFFSET.fullmatch(name)
        if match:
            delta = timedelta(hours=int(match[2]), minutes=int(match[3] or 0))
            return timezone(-delta if match[1] == "-" else delta)
        try:
            return ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            pass
    raise QueryRejected(f"the database rejected the query: unrecognized time zone identifier: {json_text(name)}.")


def local(value: datetime, zone: tzinfo | None) -> datetime:
    """A naive UTC ``value`` as the wall clock of ``zone`` shows it (aware); as it is
    when ``zone`` is None."""
    return value if zone is None else value.replace(tzinfo=UTC).astimezone(zone)


SPECIFIERS = frozenset(_SPECIFIERS) | {"%"}


# Specifiers read straight off the datetime, as str.format fields of argument 0.
_FIELDS = {
    "d": "{0.day:02d}",
    "H": "{0.hour:02d}",
    "m": "{0.month:02d}",
    "M": "{0.minute:02d}",
    "S": "{0.second:02d}",
    "Y": "{0.year:04d}",
}


def date_formatter(fmt: str) -> Callable[[datetime], str]:
    """A function rendering a (naive UTC) datetime with the ``$dateToString`` format
    ``fmt``; raises ``QueryRejected`` for a format MongoDB refuses. The format is
    compiled once into one ``str.format`` template."""
    template: list[str] = []
    computed: list[Callable[[datetime], str]] = []
    i = 0
    while i < len(fmt):
        j = fmt.find("%", i)
        if j < 0:
            template.append(_escape(fmt[i:]))
            break
        template.append(_escape(fmt[i:j]))
        if j + 1 >= len(fmt):
            raise QueryRejected("the database rejected the query: unmatched '%' at end of format string.")
        spec = fmt[j + 1]
        if spec == "%":
            template.append("%")
        elif spec in _FIELDS:
            template.append(_FIELDS[spec])
        elif spec in _SPECIFIERS:
            computed.append(_SPECIFIERS[spec])
            template.append(f"{{{len(computed)}}}")
        else:
            raise QueryRejected(
                f"the database rejected the query: invalid format character '%{spec}' in format string."
            )
        i = j + 2
    text = "".join(template).format
    if not computed:
        return text
    return lambda d: text(d, *[c(d) for c in computed])


def _escape(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")
