"""Keyset pagination (the Relay cursor connection's paging): the filter for "the rows
after (or before) this one in this order", and opaque, checked cursors. Pure.

A row's place in an order is the tuple of its values of the order's keys, which end
with ``_id`` (``listing.compile_sort`` adds it), so no two rows share a place. "After"
follows MongoDB's sort order exactly, not only within one type: null and missing sort
together, first; then numbers, strings, objects, binary data, object ids, booleans,
dates (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/).
Query operators compare within one type only (``$gt: 5`` never matches a string), so
"after v" is "greater than v, or of a later type" (a type's whole range, from its least
value), and "after null" is "not null". Pages never overlap or skip a row, however many rows are inserted between
requests, and page 500 costs what page 1 costs with an index on the order's keys: there
is no ``skip``.

A key holding an array is out of this module's reach (MongoDB sorts an array by its
least or greatest element), as is a NaN (below every number, but outside the number
range): the field table's sortable fields are scalars, and a stored array there cannot
be paged after (``InvalidQuery``).

A cursor is URL-safe base64 of a checksum and the JSON (MongoDB Extended JSON, so
values keep their BSON types) of ``[digest of the order, digest of the domain,
values]``. It is opaque and checked, not secret, and not signed: the checksum (a
truncated SHA-256, whose salt is public) catches a cursor edited, truncated or
corrupted by accident, and a cursor of another order or another domain is refused. A
cursor made up on purpose, checksum included, is only a place in an order - what a
client could ask for with a filter - and cannot widen a read: the domain's scope
filter applies to every page regardless. So every value a cursor holds is untrusted
input, checked as a request's values are (types a sort key can hold, integers within
64 bits, dates within BSON's range, bounded nesting); anything else is
``InvalidParameterType`` naming the argument, never an error of the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId, json_util
from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.errors import BSONError
from bson.int64 import Int64
from bson.json_util import RELAXED_JSON_OPTIONS

from gateway.display import got, json_kind, json_text
from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded

Fragment = dict[str, Any]
SortKeys = Sequence[tuple[str, int]]

# MongoDB's order of the BSON types a stored sort key can hold, as `$type` aliases.
BRACKETS = ("number", "string", "object", "binData", "objectId", "bool", "date")
_TAG_CHARS = 12
_DIGEST_SALT = b"job-gateway cursor v1\x00"  # a checksum's, not a secret
MAX_CURSOR_LENGTH = 4096
MAX_VALUE_DEPTH = 16  # nesting of an object or array sort key value a cursor may hold
_INT64 = (-(2**63), 2**63 - 1)


# Python types of stored values -> their `$type` alias. Order matters: a bool is an int to Python.
_BRACKET_OF: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    ((int, float, Int64, Decimal128), "number"),
    (str, "string"),
    (Mapping, "object"),
    ((Binary, bytes), "binData"),
    (ObjectId, "objectId"),
    (datetime, "date"),
)


def bracket(value: object, path: str) -> str:
    """The ``$type`` alias of a (non-null) sort key value; ``InvalidQuery`` for a value
    this module cannot page after (see ``unpageable``)."""
    problem = unpageable(value)
    if problem is not None:
        raise InvalidQuery(f"cannot page after a row whose {json_text(path)} holds {problem}.")
    return next(alias for kinds, alias in _BRACKET_OF if isinstance(value, kinds))


def unpageable(value: object) -> str | None:
    """Why a page cannot continue after a (non-null) sort key value, in words; None
    when it can. An array: MongoDB orders it by its least element (ascending) or its
    greatest (descending), a place no query operator finds again; a NaN: below every
    number but outside their range; any other type the order does not hold."""
    if isinstance(value, list | tuple):
        return "an array (MongoDB orders it by its least or greatest element, which no cursor can continue from)"
    if (isinstance(value, Decimal128) and value.to_decimal().is_nan()) or (
        isinstance(value, float) and value != value  # noqa: PLR0124 - NaN is not equal to itself
    ):
        return "NaN (outside the order of numbers)"
    if not any(isinstance(value, kinds) for kinds, _ in _BRACKET_OF):
        return f"{json_kind(value)} (not a sortable scalar)"
    return None


_SCALARS = (type(None), bool, float, str, datetime, ObjectId, Binary, bytes, Int64, Decimal128)


def _storable(value: object, depth: int = 0) -> bool:
    """Whether a value decoded from a cursor is one MongoDB can hold and compare: the
    BSON types of ``_BRACKET_OF`` (integers within 64 bits) and null, in objects and
    arrays nested at most ``MAX_VALUE_DEPTH`` deep."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    if isinstance(value, Mapping | list) and depth < MAX_VALUE_DEPTH:
        items = value.items() if isinstance(value, Mapping) else ((".", v) for v in value)
        return all(isinstance(k, str) and _storable(v, depth + 1) for k, v in items)
    return False


def value_at(doc: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a fetched row (None when missing, as MongoDB
    sorts a missing field)."""
    value: Any = doc
    for segment in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


# Each type's whole range, as a comparison with its least value: query operators
# compare within one type, so `{$gte: ""}` is every string and nothing else. (Ranges,
# unlike `$type`, also read as index bounds.)
_WHOLE: dict[str, Fragment] = {
    "number": {"$gte": float("-inf")},
    "string": {"$gte": ""},
    "object": {"$gte": {}},
    "binData": {"$gte": Binary(b"")},
    "objectId": {"$gte": ObjectId("0" * 24)},
    "bool": {"$in": [False, True]},
    "date": {"$gte": datetime.min},
}


def _after(path: str, value: Any) -> Fragment | None:
    """Rows whose ``path`` sorts strictly after ``value`` (ascending)."""
    if value is None:
        return {path: {"$ne": None}}
    later = BRACKETS[BRACKETS.index(bracket(value, path)) + 1 :]
    return {"$or": [{path: {"$gt": value}}, *({path: _WHOLE[t]} for t in later)]}


def _before(path: str, value: Any) -> Fragment | None:
    """Rows whose ``path`` sorts strictly before ``value`` (ascending); None: no row can."""
    if value is None:
        return None
    earlier = BRACKETS[: BRACKETS.index(bracket(value, path))]
    return {"$or": [{path: {"$lt": value}}, {path: {"$eq": None}}, *({path: _WHOLE[t]} for t in earlier)]}


def beyond(sort: SortKeys, values: Sequence[Any], *, forward: bool) -> Fragment:
    """The rows strictly after the place ``values`` in the order ``sort`` (``forward``)
    or strictly before it: for each key, the rows equal on the keys before it and beyond
    on it. A filter no row satisfies when there is nothing beyond."""
    clauses: list[Fragment] = []
    for i, (path, direction) in enumerate(sort):
        step = (_after if (direction == 1) == forward else _before)(path, values[i])
        if step is None:
            continue
        equal = [{p: {"$eq": v}} for (p, _), v in zip(sort[:i], values[:i], strict=True)]
        clauses.append({"$and": [*equal, step]} if equal else step)
    if not clauses:
        return {"_id": {"$in": []}}
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def reversed_sort(sort: SortKeys) -> tuple[tuple[str, int], ...]:
    """The same order, backwards (to read the rows before a place, nearest first)."""
    return tuple((path, -direction) for path, direction in sort)


@dataclass(frozen=True)
class Cursor:
    """A row's place: the order it is a place in, the domain it was read in, and the
    row's values of the order's keys."""

    sort: tuple[tuple[str, int], ...]
    domain_id: str
    values: tuple[Any, ...]

    @classmethod
    def of(cls, doc: Mapping[str, Any], sort: SortKeys, domain_id: str) -> Cursor:
        """The place of a fetched row (which must hold the order's keys)."""
        values = tuple(value_at(doc, path) for path, _ in sort)
        for (path, _), value in zip(sort, values, strict=True):
            if value is not None:
                bracket(value, path)
        return cls(tuple(sort), domain_id, values)

    def encode(self) -> str:
        """The opaque form clients see."""
        payload = json_util.dumps(
            [_tag(repr(self.sort)), _tag(self.domain_id), list(self.values)],
            json_options=RELAXED_JSON_OPTIONS,
            separators=(",", ":"),
        ).encode()
        return base64.urlsafe_b64encode(_tag(payload).encode() + payload).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: SortKeys, domain_id: str, argument: str) -> Cursor:
        """The place ``token`` names, checked: issued by this gateway, unedited, for the
        order ``sort`` and the domain ``domain_id``. Raises ``InvalidParameterType``
        naming ``argument`` otherwise."""
        problem = f"{argument}: {json_text(token, 60)} is not a cursor of this connection"
        if not isinstance(token, str) or len(token) > MAX_CURSOR_LENGTH:
            raise InvalidParameterType(f"{problem}.")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            digest, payload = raw[:_TAG_CHARS], raw[_TAG_CHARS:]
            if digest.decode() != _tag(payload):
                raise ValueError("digest")
            # Extended JSON decodes to BSON types, and refuses what they cannot hold
            # (a date beyond BSON's range, a malformed object id...): all a made-up cursor.
            order, domain, values = json_util.loads(payload.decode(), json_options=RELAXED_JSON_OPTIONS)
            values = tuple(values)
        except (binascii.Error, ValueError, TypeError, OverflowError, RecursionError, BSONError):
            raise InvalidParameterType(f"{problem} (edited, truncated or made up).") from None
        sort = tuple(sort)
        if order != _tag(repr(sort)):
            raise InvalidParameterType(f"{problem}: it is a cursor of another order; start again without it.")
        if domain != _tag(domain_id):
            raise InvalidParameterType(f"{problem}: it is a cursor of another domain.")
        if len(values) != len(sort):
            raise InvalidParameterType(f"{problem}.")
        for (path, _), value in zip(sort, values, strict=True):
            if not _storable(value):
                raise InvalidParameterType(f"{problem}: its value of {json_text(path)} is not one a job can hold.")
            if value is not None:
                try:
                    bracket(value, path)
                except InvalidQuery:
                    raise InvalidParameterType(
                        f"{problem}: its value of {json_text(path)} is not one a page can follow."
                    ) from None
        return cls(sort, domain_id, values)


def _tag(value: str | bytes) -> str:
    """A short digest: what a cursor keeps of its order and domain, and of itself."""
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(_DIGEST_SALT + data).hexdigest()[:_TAG_CHARS]


@dataclass(frozen=True)
class Window:
    """The rows of an order a Relay connection asks for (``first``/``after``,
    ``last``/``before``), compiled: read ``size`` rows (plus one, to know whether there
    are more) in ``sort`` - the order itself when ``forward``, else reversed, nearest
    to ``before`` first - among the rows ``range_filter`` keeps (after ``after`` and
    before ``before``; None: all)."""

    forward: bool
    size: int
    sort: tuple[tuple[str, int], ...]
    range_filter: Fragment | None
    after: Cursor | None
    before: Cursor | None

    def outside(self, *, forward: bool) -> Fragment | None:
        """The rows outside the window's bound on one side - at or past its ``before``
        (``forward``), or at or before its ``after`` - whose existence makes a next or a
        previous page. None when that side is open."""
        cursor = self.before if forward else self.after
        if cursor is None:
            return None
        return {"$nor": [beyond(cursor.sort, cursor.values, forward=not forward)]}


def _count(value: object, argument: str, cap: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterType(f"{argument} must be a non-negative integer, got {got(value)}.")
    if value > cap:
        raise LimitExceeded(f"{argument} {value} is over the page size cap max_page_size={cap}.")
    return value


def compile_window(
    sort: SortKeys,
    domain_id: str,
    *,
    first: object = None,
    after: str | None = None,
    last: object = None,
    before: str | None = None,
    max_page_size: int,
) -> Window:
    """Compile a connection's arguments over the order ``sort`` (Relay cursor
    connections: after and before bound the rows, then first takes from the start or
    last from the end). Neither first nor last: the first ``max_page_size`` rows, as a
    published page without a limit. Raises ``InvalidQuery`` (and subclasses): first and
    last together, a negative count, a count over the cap, a cursor that is not this
    connection's."""
    size_first = _count(first, "first", max_page_size)
    size_last = _count(last, "last", max_page_size)
    if size_first is not None and size_last is not None:
        raise InvalidQuery("give first or last, not both.")
    after_cursor = None if after is None else Cursor.decode(after, sort, domain_id, "after")
    before_cursor = None if before is None else Cursor.decode(before, sort, domain_id, "before")
    bounds = [
        *([beyond(sort, after_cursor.values, forward=True)] if after_cursor else []),
        *([beyond(sort, before_cursor.values, forward=False)] if before_cursor else []),
    ]
    forward = size_last is None
    size = size_first if size_first is not None else size_last if size_last is not None else max_page_size
    return Window(
        forward=forward,
        size=size,
        sort=tuple(sort) if forward else reversed_sort(sort),
        range_filter=None if not bounds else bounds[0] if len(bounds) == 1 else {"$and": bounds},
        after=after_cursor,
        before=before_cursor,
    )
