"""The published request messages, and the one reader of their proto3 JSON form.

The REST routes are a gRPC service's JSON mapping (``spaceone.api.inventory.v1.Job``:
``JobsQuery``, ``JobStatQuery``; the query messages of ``spaceone.api.core.v1``:
``Query``, ``StatisticsQuery`` and their parts, as cloudforet-io/api's
``core/v1/query.proto`` declares them). Clients write them as the proto3 JSON mapping
allows (https://protobuf.dev/programming-guides/json/), and ``read_message`` reads
every such spelling into one canonical form the compiler works on:

- names: the proto field name or its lowerCamelCase JSON name (``filter_or`` or
  ``filterOr``); the short alias of a ``oneof`` (``k``/``v``/``o``/``n``) becomes the
  long name (``key``/``value``/``operator``/``name``). Two spellings of one field, or
  two members of one ``oneof``, are refused;
- defaults mean unset: a field holding its default (``""``, ``0``, ``false``, ``[]``,
  ``null``, enum 0) is left out, as if absent. ``oneof`` members keep presence (a given
  ``"k": ""`` is set), and a ``google.protobuf.Value`` holding ``null`` is set (a
  condition's ``"v": null``);
- numbers: integers as JSON numbers, integral floats (``2.0``) or strings (``"2"``,
  ``"1e2"``), range-checked to the declared type (``uint32``, ``int32``); integers
  inside a ``Value`` are range-checked to 64 bits (BSON's ``long``);
- enums by name or by number (``status: 4`` is ``SUCCESS``);
- booleans as ``true``/``false`` only (proto3 JSON refuses quoted ones);
- unknown fields: dropped and reported (``Read.unknown``), as the published gateway
  drops them, or refused when ``strict``.

Beyond the messages, the contract's own forms (section 3.1, 4.2): a list of sort keys
for ``Query.sort``, a list for a ``JobsQuery`` shortcut, and ``fields`` (the
arithmetic operands) in a project field.

Every list a client controls is bounded before any of its items is read: a repeated
field by the named limit of ``FieldSpec.limit`` (``query.aggregate``: ``max_stages``),
a ``Value`` by ``max_list_values`` for each list or object in it and by
``max_value_depth`` for its nesting (``check_value``), so that the work of reading a
request never grows with more than a limit allows.

Pure: raises ``InvalidParameterType`` naming the field (``query.page.limit``) for a
value of the wrong type or out of range, ``LimitExceeded`` naming the limit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from gateway.display import got, json_text
from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded
from gateway.query.fields import JOB_STATUSES
from gateway.query.limits import Limits

INT64_RANGE = (-(2**63), 2**63 - 1)
# Unknown fields' paths one request keeps (``Read.unknown``); the rest are counted.
MAX_UNKNOWN_KEPT = 20


@dataclass(frozen=True)
class Scalar:
    """A proto scalar type: ``string``, ``bool``, ``int32``, ``uint32``, ``value``
    (``google.protobuf.Value``: any JSON) or ``json`` (the contract's free-form
    operands, read as ``value``)."""

    name: str


@dataclass(frozen=True)
class EnumType:
    """A proto enum: its value names in number order (index 0 is the default)."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message. ``canonical`` is the name the compiler reads (the long
    name of a ``oneof`` alias); ``oneof`` names the group whose members have presence;
    ``list_form`` accepts, beside the singular form, a list (the contract's shortcuts
    and sort lists); ``limit`` names the ``Limits`` field bounding the length of a
    repeated field or of a list form, whose items are called ``items`` in messages."""

    name: str
    type: Scalar | EnumType | Message
    repeated: bool = False
    oneof: str | None = None
    canonical: str | None = None
    list_form: bool = False
    limit: str | None = None
    items: str = "entries"

    @property
    def json_name(self) -> str:
        """The lowerCamelCase name proto3 JSON also accepts (``filterOr``)."""
        head, *rest = self.name.split("_")
        return head + "".join(part.capitalize() for part in rest)

    @property
    def target(self) -> str:
        """The name the compiler reads the field under: ``canonical`` if set (a
        ``oneof`` alias's long name), else ``name``."""
        return self.canonical or self.name


@dataclass(frozen=True)
class Message:
    """A proto message: its full name and fields."""

    name: str
    fields: tuple[FieldSpec, ...] = field(default=())

    @cached_property
    def spellings(self) -> dict[str, FieldSpec]:
        """Every accepted spelling of every field."""
        out: dict[str, FieldSpec] = {}
        for spec in self.fields:
            out[spec.name] = spec
            out.setdefault(spec.json_name, spec)
        return out


STRING, BOOL, INT32, UINT32, INT64, VALUE, JSON = (
    Scalar(n) for n in ("string", "bool", "int32", "uint32", "int64", "value", "json")
)
JOB_STATUS = EnumType("JobStatus", ("JOB_STATE_NONE", *JOB_STATUSES))


def _alias(long: str, short: str, kind: Scalar, group: str) -> tuple[FieldSpec, FieldSpec]:
    return FieldSpec(long, kind, oneof=group), FieldSpec(short, kind, oneof=group, canonical=long)


_KEY = _alias("key", "k", STRING, "key_alias")
_NAME = _alias("name", "n", STRING, "name_alias")
_OPERATOR = _alias("operator", "o", STRING, "operator_alias")
_VALUE = _alias("value", "v", VALUE, "value_alias")

FILTER = Message("spaceone.api.core.v1.Filter", (*_KEY, *_VALUE, *_OPERATOR))
SORT_KEY = Message("spaceone.api.core.v1.SortKey", (FieldSpec("key", STRING), FieldSpec("desc", BOOL)))
_SORT_KEYS: dict[str, Any] = {"limit": "max_sort_keys", "items": "keys"}
SORT = Message(
    "spaceone.api.core.v1.Sort",
    (FieldSpec("key", STRING), FieldSpec("desc", BOOL), FieldSpec("keys", SORT_KEY, repeated=True, **_SORT_KEYS)),
)
# `start` is a uint32 in the proto; read as int64 because the contract (3.1) and the
# reference server take a start below 1 as 1.
PAGE = Message("spaceone.api.core.v1.Page", (FieldSpec("start", INT64), FieldSpec("limit", UINT32)))
# The filter both query messages open with.
_CONDITIONS: dict[str, Any] = {"repeated": True, "limit": "max_conditions", "items": "conditions"}
_FILTERS = (FieldSpec("filter", FILTER, **_CONDITIONS), FieldSpec("filter_or", FILTER, **_CONDITIONS))
QUERY = Message(
    "spaceone.api.core.v1.Query",
    (
        *_FILTERS,
        FieldSpec("sort", SORT, list_form=True, **_SORT_KEYS),
        FieldSpec("page", PAGE),
        FieldSpec("minimal", BOOL),
        FieldSpec("count_only", BOOL),
        FieldSpec("only", STRING, repeated=True, limit="max_only_fields", items="paths"),
        FieldSpec("keyword", STRING),
    ),
)
# `time_zone`: the contract's addition (section 4.2 date keys), an IANA name for MongoDB's date operators.
GROUP_KEY = Message(
    "spaceone.api.core.v1.AggregateGroupKey",
    (*_KEY, *_NAME, FieldSpec("date_format", STRING), FieldSpec("time_zone", STRING)),
)
GROUP_SUB_FIELD = Message("spaceone.api.core.v1.AggregateGroupSubField", (*_KEY, *_NAME))
SUB_CONDITION = Message("spaceone.api.core.v1.AggregateSubCondition", (*_KEY, *_VALUE, *_OPERATOR))
GROUP_FIELD = Message(
    "spaceone.api.core.v1.AggregateGroupField",
    (
        *_KEY,
        *_NAME,
        *_OPERATOR,
        FieldSpec("fields", GROUP_SUB_FIELD, repeated=True, limit="max_group_fields", items="fields"),
        FieldSpec("conditions", SUB_CONDITION, **_CONDITIONS),
    ),
)
GROUP = Message(
    "spaceone.api.core.v1.AggregateGroup",
    (
        FieldSpec("keys", GROUP_KEY, repeated=True, limit="max_group_keys", items="keys"),
        FieldSpec("fields", GROUP_FIELD, repeated=True, limit="max_group_fields", items="fields"),
    ),
)
PROJECT_FIELD = Message(
    "spaceone.api.core.v1.AggregateProjectField",
    # `fields`: the contract's arithmetic operands (names, numbers, nested operations).
    (
        *_KEY,
        *_NAME,
        *_OPERATOR,
        FieldSpec("fields", JSON, repeated=True, limit="max_project_fields", items="operands"),
    ),
)
PROJECT = Message(
    "spaceone.api.core.v1.AggregateProject",
    (
        FieldSpec("fields", PROJECT_FIELD, repeated=True, limit="max_project_fields", items="fields"),
        FieldSpec("exclude_keys", BOOL),
    ),
)
UNWIND = Message("spaceone.api.core.v1.AggregateUnwind", (FieldSpec("path", STRING),))
COUNT = Message("spaceone.api.core.v1.AggregateCount", (FieldSpec("name", STRING),))
STAGE = Message(
    "spaceone.api.core.v1.StatisticsAggregate",
    tuple(
        FieldSpec(name, kind, oneof="aggregate_alias")
        for name, kind in (
            ("unwind", UNWIND),
            ("group", GROUP),
            ("count", COUNT),
            ("sort", SORT),
            ("project", PROJECT),
            ("limit", INT32),
            ("skip", INT32),
        )
    ),
)
STATISTICS_QUERY = Message(
    "spaceone.api.core.v1.StatisticsQuery",
    (
        *_FILTERS,
        FieldSpec("aggregate", STAGE, repeated=True, limit="max_stages", items="stages"),
        FieldSpec("page", PAGE),
        FieldSpec("distinct", STRING),
        FieldSpec("keyword", STRING),
    ),
)
JOBS_QUERY = Message(
    "spaceone.api.inventory.v1.JobsQuery",
    (
        FieldSpec("query", QUERY),
        *(
            FieldSpec(name, kind, list_form=True, limit="max_list_values", items="values")
            for name, kind in (
                ("job_id", STRING),
                ("status", JOB_STATUS),
                ("collector_id", STRING),
                ("project_id", STRING),
            )
        ),
        FieldSpec("domain_id", STRING),
    ),
)
JOB_STAT_QUERY = Message(
    "spaceone.api.inventory.v1.JobStatQuery",
    (FieldSpec("query", STATISTICS_QUERY), FieldSpec("domain_id", STRING)),
)


@dataclass
class Read:
    """What reading found besides the message: the paths of unknown fields dropped,
    and the paths the client spelled otherwise than the canonical form does (the
    contract's list of sort keys, ``sort[0]``, is the canonical ``sort.keys[0]``)."""

    strict: bool = False
    unknown: list[str] = field(default_factory=list)  # the first MAX_UNKNOWN_KEPT of them
    spelled: dict[str, str] = field(default_factory=dict)

    def note_unknown(self, path: str) -> None:
        """Note an unknown field's path; only the first ``MAX_UNKNOWN_KEPT`` are kept,
        so that a request of a million unknown keys costs no memory per key."""
        if len(self.unknown) < MAX_UNKNOWN_KEPT:
            self.unknown.append(path)

    def as_sent(self, path: str) -> str:
        """``path`` of the canonical form, as the client spelled it."""
        return self.spelled.get(path, path)


def read_message(raw: object, message: Message, where: str, read: Read, limits: Limits) -> dict[str, Any]:
    """``raw`` (a JSON object) as ``message``: the canonical form described in the
    module docstring. ``where`` names ``raw`` in errors (``query``); ``limits`` bound
    its lists (``FieldSpec.limit``, ``check_value``)."""
    if not isinstance(raw, Mapping):
        raise InvalidParameterType(f"{where or 'the request'} must be an object, got {got(raw)}.")
    spellings = message.spellings
    out: dict[str, Any] = {}
    given: dict[str, str] = {}  # canonical field or oneof group -> the spelling given
    for name, value in raw.items():
        spec = spellings.get(name) if isinstance(name, str) else None
        if spec is None:
            if read.strict:
                known = ", ".join(s.name for s in message.fields)
                raise InvalidParameterType(
                    f"{where or 'the request'} has no field {json_text(name)}; its fields: {known}."
                )
            read.note_unknown(_path(where, str(name)))
            continue
        converted = _field(value, spec, _path(where, spec.target), read, limits)
        if converted is _UNSET:
            continue
        for slot in (spec.target, spec.oneof):
            if slot is not None and slot in given:
                raise InvalidParameterType(
                    f"{where or 'the request'}: give one of {json_text(given[slot])} and {json_text(name)}, not both."
                )
        given[spec.target] = name
        if spec.oneof is not None:
            given[spec.oneof] = name
        out[spec.target] = converted
    return out


def _path(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


class _Unset:
    pass


_UNSET: Any = _Unset()


def bounded(items: list[Any], where: str, limit: str, limits: Limits, noun: str = "entries") -> list[Any]:
    """``items`` if there are at most as many as the limit named ``limit`` allows; else
    ``LimitExceeded`` naming ``where`` and the limit. Call it before reading any item."""
    most = getattr(limits, limit)
    if len(items) > most:
        raise LimitExceeded(f"{where} has {len(items)} {noun}; the limit {limit} is {most}.")
    return items


def _field(value: object, spec: FieldSpec, where: str, read: Read, limits: Limits) -> Any:
    # null is unset, but for a single google.protobuf.Value, where it is the null value.
    if value is None and (spec.repeated or (spec.type is not VALUE and spec.type is not JSON)):
        return _UNSET
    if spec.repeated or (spec.list_form and isinstance(value, list)):
        if not isinstance(value, list):
            raise InvalidParameterType(f"{where} must be a list, got {got(value)}.")
        if spec.limit is not None:
            bounded(value, where, spec.limit, limits, spec.items)
        if spec.list_form and spec.type is SORT:  # the contract's list of sort keys
            read.spelled[f"{where}.keys"] = where
            return {
                "keys": [read_message(item, SORT_KEY, f"{where}[{i}]", read, limits) for i, item in enumerate(value)]
            }
        if not value and not spec.list_form:
            return _UNSET
        # A given empty list in a list form (a shortcut) is kept: "none of these".
        return [_single(item, spec.type, f"{where}[{i}]", read, limits) for i, item in enumerate(value)]
    converted = _single(value, spec.type, where, read, limits)
    if spec.oneof is None and _is_default(converted, spec.type):
        return _UNSET
    return converted


def _is_default(value: Any, kind: Scalar | EnumType | Message) -> bool:
    if isinstance(kind, Message):
        return False  # a given message is set, even empty
    if isinstance(kind, EnumType):
        return bool(value == kind.values[0])
    return kind is not VALUE and kind is not JSON and value in ("", 0, False)


# A JSON number, as proto3 JSON also accepts it inside a string.
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def integer(value: object, where: str, bounds: tuple[int, int] = INT64_RANGE, type_name: str = "int64") -> int:
    """An integer as proto3 JSON writes it (a number, an integral float, a string
    holding either), within ``bounds``; else ``InvalidParameterType`` naming ``where``."""
    if isinstance(value, bool):
        raise InvalidParameterType(f"{where} must be an integer, got {got(value)}.")
    number: Decimal | int
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value):
        number = Decimal(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value):
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise InvalidParameterType(f"{where} must be an integer, got {got(value)}.") from None
    else:
        raise InvalidParameterType(f"{where} must be an integer, got {got(value)}.")
    if isinstance(number, Decimal) and number != number.to_integral_value():
        raise InvalidParameterType(f"{where} must be an integer, got {got(value)}.")
    low, high = bounds
    if not low <= number <= high:
        raise InvalidParameterType(
            f"{where} must be an integer from {low} to {high} ({type_name}), got {json_text(value, 40)}."
        )
    return int(number)


def check_value(value: object, where: str, limits: Limits, *, nesting: bool = True) -> object:
    """A ``google.protobuf.Value`` the client wrote (a condition's value, an operand):
    any JSON that BSON can carry and the limits allow, else an error naming the place in
    it (``where``, then ``[i]`` and ``.key`` steps):

    - ``LimitExceeded`` for a list or an object of more than ``max_list_values`` items
      (checked before any item is read), or nesting deeper than ``max_value_depth`` (a
      scalar is 0 deep, ``[1]`` 1; MongoDB refuses documents nested over 100 levels,
      https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-Nested-Depth-for-BSON-Documents,
      and the gateway's own wrapping must fit beside the value);
    - ``InvalidQuery`` for an object key holding the NUL character (a BSON key is a
      C string: "Key names must not contain the NULL byte");
    - ``InvalidParameterType`` for an integer beyond 64 bits (BSON's ``long``).

    ``nesting`` False: the depth is another limit's (a project's operands nest as its
    operations do, ``max_expression_depth``). Iterative, so nesting cannot exhaust the
    stack (the body reader bounds it too). Returns ``value``."""
    most = limits.max_list_values
    deepest = limits.max_value_depth if nesting else math.inf
    low, high = INT64_RANGE
    stack: list[tuple[object, str, int]] = [(value, where, 0)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, list | dict):
            if depth >= deepest:
                raise LimitExceeded(f"{at} nests deeper than the limit max_value_depth ({deepest}).")
            if len(item) > most:
                raise LimitExceeded(f"{at} has {len(item)} values; the limit max_list_values is {most}.")
            pairs = enumerate(item) if isinstance(item, list) else item.items()
            for key, inner in pairs:
                if isinstance(key, str) and "\x00" in key:
                    raise InvalidQuery(
                        f"{at} has the key {json_text(key, 40)}: a key holding the NUL character cannot "
                        "travel in BSON (its keys are C strings)."
                    )
                if isinstance(inner, list | dict):
                    stack.append((inner, _step(at, key), depth + 1))
                elif isinstance(inner, int) and not isinstance(inner, bool) and not low <= inner <= high:
                    raise _out_of_range(inner, _step(at, key))
        elif isinstance(item, int) and not isinstance(item, bool) and not low <= item <= high:
            raise _out_of_range(item, at)
    return value


def _step(where: str, key: object) -> str:
    return f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}"


def _out_of_range(number: int, where: str) -> InvalidParameterType:
    low, high = INT64_RANGE
    return InvalidParameterType(
        f"{where}: the integer {json_text(number, 40)} is out of the 64-bit range ({low} to {high})."
    )


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidParameterType(f"{where} must be a string, got {got(value)}.")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterType(f"{where} must be true or false, got {got(value)}.")
    return value


_SCALARS: dict[str, Any] = {
    "string": _string,
    "bool": _bool,
    "int32": lambda value, where: integer(value, where, (-(2**31), 2**31 - 1), "int32"),
    "uint32": lambda value, where: integer(value, where, (0, 2**32 - 1), "uint32"),
    "int64": integer,
}


def _single(value: object, kind: Scalar | EnumType | Message, where: str, read: Read, limits: Limits) -> Any:
    if isinstance(kind, Message):
        return read_message(value, kind, where, read, limits)
    if isinstance(kind, EnumType):
        return _enum(value, kind, where)
    if kind is VALUE or kind is JSON:  # JSON: a project's operands
        return check_value(value, where, limits, nesting=kind is VALUE)
    return _SCALARS[kind.name](value, where)


def _enum(value: object, kind: EnumType, where: str) -> str:
    if isinstance(value, str) and value in kind.values:
        return value
    if value == "":  # what clients write for "not set" (the enum's default)
        return kind.values[0]
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = integer(value, where, (0, len(kind.values) - 1), kind.name)
        except InvalidParameterType:
            pass
        else:
            return kind.values[number]
    choices = ", ".join(f"{name} ({n})" for n, name in enumerate(kind.values))
    raise InvalidParameterType(f"{where} must be one of {choices}, got {got(value)}.")
