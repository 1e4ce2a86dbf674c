"""Query filters (``find``, ``count``, ``$match``) compiled to Python predicates, with
MongoDB's semantics on every field shape.

- A dotted path gives candidates as ``fieldpaths.query_values`` says (arrays of
  sub-documents traversed; missing, null parents, empty arrays and arrays of scalars
  give "no value"), and a leaf array is tested as a whole and element by element
  (https://www.mongodb.com/docs/manual/tutorial/query-arrays/).
- ``$eq: null`` (and ``$in`` holding null, ``$lte``/``$gte: null``) matches null and
  no value (https://www.mongodb.com/docs/manual/tutorial/query-for-null-fields/);
  ``$lt``/``$gt: null`` match nothing; ``$ne``/``$nin`` are the negations.
- ``$gt``/``$gte``/``$lt``/``$lte`` compare only within the operand's type bracket
  (https://www.mongodb.com/docs/manual/reference/method/db.collection.find/#type-bracketing).
- ``$in: [[]]`` matches an empty array (an array operand element equals a whole array,
  https://www.mongodb.com/docs/manual/reference/operator/query/in/).
- ``$regex`` is MongoDB's PCRE dialect, run by RE2 (``gateway.store.regexes``).

Anything else the compiler never emits is refused with ``UnsupportedByEngine``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from bson import Regex

from gateway.display import json_text
from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.store.bsonorder import MISSING, NUMBER, STRING, is_number, rank, sort_key, utc
from gateway.store.fieldpaths import exists, query_values
from gateway.store.regexes import regex_matcher

Predicate = Callable[[Any], bool]
Test = Callable[[list[Any]], bool]
_LOGICAL = ("$and", "$or", "$nor")


def compile_filter(spec: Any) -> Predicate:
    """A predicate over documents for the MongoDB query ``spec``."""
    if not isinstance(spec, Mapping):
        raise QueryRejected("the database rejected the query: the match filter must be an expression in an object.")
    parts: list[Predicate] = []
    for key, value in spec.items():
        if key in _LOGICAL:
            if not isinstance(value, list) or not value:
                raise QueryRejected(f"the database rejected the query: {key} must be a nonempty array.")
            parts.append(_logical(key, [compile_filter(s) for s in value]))
        elif key == "$comment":
            continue
        elif key in _KNOWN:
            raise UnsupportedByEngine(f"the embedded engine does not implement the query operator {key}.")
        elif key.startswith("$"):
            raise QueryRejected(f"the database rejected the query: unknown top level operator: {key}.")
        else:
            parts.append(_field(key, value))
    if len(parts) == 1:
        return parts[0]
    return lambda d: all(p(d) for p in parts)


def _logical(op: str, subs: list[Predicate]) -> Predicate:
    if op == "$and":
        return lambda d: all(s(d) for s in subs)
    if op == "$or":
        return lambda d: any(s(d) for s in subs)
    return lambda d: not any(s(d) for s in subs)


def _field(path: str, condition: Any) -> Predicate:
    values = query_values(path)
    tests = _tests(condition)
    if len(tests) == 1:
        (test,) = tests
        return lambda d: test(values(d))

    def predicate(doc: Any) -> bool:
        found = values(doc)
        return all(t(found) for t in tests)

    return predicate


def _tests(condition: Any) -> list[Test]:
    if isinstance(condition, Regex | re.Pattern):
        return [_regex(regex_matcher(condition))]
    if isinstance(condition, Mapping) and condition and all(k.startswith("$") for k in condition):
        ops = dict(condition)
        if "$options" in ops:
            if "$regex" not in ops:
                raise QueryRejected("the database rejected the query: $options needs a $regex.")
            options = ops.pop("$options")
            ops["$regex"] = regex_matcher(ops["$regex"], str(options))
        return [_operator(op, operand) for op, operand in ops.items()]
    if isinstance(condition, Mapping) and any(str(k).startswith("$") for k in condition):
        raise QueryRejected(f"the database rejected the query: unknown operator in {json_text(dict(condition))}.")
    return [_eq(condition)]


def _operator(op: str, operand: Any) -> Test:
    if op == "$eq":
        return _eq(operand)
    if op == "$ne":
        eq = _eq(operand)
        return lambda vs: not eq(vs)
    if op in _COMPARE:
        return _compare(op, operand)
    if op == "$in":
        return _in(operand)
    if op == "$nin":
        within = _in(operand)
        return lambda vs: not within(vs)
    if op == "$exists":
        wanted = bool(operand)
        return lambda vs: exists(vs) == wanted
    if op == "$regex":
        return _regex(operand if callable(operand) else regex_matcher(operand))
    if op == "$not":
        return _not(operand)
    if op == "$elemMatch":
        return _elem_match(operand)
    if op in _KNOWN:
        raise UnsupportedByEngine(f"the embedded engine does not implement the query operator {op}.")
    raise QueryRejected(f"the database rejected the query: unknown operator: {op}.")


# MongoDB's query operators the compiler never emits (refused by name, not as unknown).
_KNOWN = frozenset(
    (
        "$type",
        "$size",
        "$all",
        "$mod",
        "$expr",
        "$jsonSchema",
        "$text",
        "$where",
        "$geoIntersects",
        "$geoWithin",
        "$near",
        "$nearSphere",
        "$box",
        "$center",
        "$centerSphere",
        "$polygon",
        "$geometry",
        "$maxDistance",
        "$minDistance",
        "$bitsAllClear",
        "$bitsAllSet",
        "$bitsAnyClear",
        "$bitsAnySet",
        "$sampleRate",
    )
)


def expand(values: list[Any]) -> Iterator[Any]:
    """Each candidate, and each element of a candidate that is an array."""
    for v in values:
        yield v
        if type(v) is list:
            yield from v


def _is_null(values: list[Any]) -> bool:
    for v in values:
        if v is None or v is MISSING:
            return True
        if type(v) is list and None in v:
            return True
    return False


def _eq(target: Any) -> Test:
    if target is None:
        return _is_null
    kind = type(target)
    if kind is str or kind is datetime:
        t = utc(target) if kind is datetime else target
        return lambda vs: any(type(x) is kind and x == t for x in expand(vs))
    key = sort_key(target)
    return lambda vs: any(sort_key(x) == key for x in expand(vs) if x is not MISSING)


_COMPARE = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def _compare(op: str, target: Any) -> Test:
    if target is None:
        # Null is the only value of its bracket: $gte/$lte null are $eq null.
        return _is_null if op in ("$gte", "$lte") else (lambda vs: False)
    cmp = _COMPARE[op]
    if type(target) is datetime:
        t = utc(target)
        return lambda vs: any(type(x) is datetime and cmp(x, t) for x in expand(vs))
    bracket = rank(target)
    key = sort_key(target)
    if bracket == NUMBER:
        return lambda vs: any(is_number(x) and cmp(sort_key(x), key) for x in expand(vs))
    if bracket == STRING:
        return lambda vs: any(type(x) is str and cmp(x, target) for x in expand(vs))
    return lambda vs: any(x is not MISSING and rank(x) == bracket and cmp(sort_key(x), key) for x in expand(vs))


def _in(operand: Any) -> Test:
    if not isinstance(operand, list | tuple):
        raise QueryRejected("the database rejected the query: $in needs an array.")
    matchers = [regex_matcher(v) for v in operand if isinstance(v, Regex | re.Pattern)]
    plain = [v for v in operand if not isinstance(v, Regex | re.Pattern)]
    with_null = any(v is None for v in plain)
    strings = {v for v in plain if type(v) is str}
    keys = {sort_key(v) for v in plain if v is not None and type(v) is not str}

    def test(values: list[Any]) -> bool:
        if with_null and _is_null(values):
            return True
        for x in expand(values):
            if type(x) is str:
                if x in strings or any(m(x) for m in matchers):
                    return True
            elif keys and x is not MISSING and x is not None and sort_key(x) in keys:
                return True
        return False

    return test


def _regex(matches: Callable[[str], bool]) -> Test:
    return lambda vs: any(type(x) is str and matches(x) for x in expand(vs))


def _not(operand: Any) -> Test:
    if isinstance(operand, Regex | re.Pattern):
        inner = [_regex(regex_matcher(operand))]
    elif isinstance(operand, Mapping) and operand and all(str(k).startswith("$") for k in operand):
        inner = _tests(operand)
    else:
        raise QueryRejected("the database rejected the query: $not needs a regex or a document.")
    return lambda vs: not all(t(vs) for t in inner)


def _elem_match(operand: Any) -> Test:
    if not isinstance(operand, Mapping):
        raise QueryRejected("the database rejected the query: $elemMatch needs an object.")
    if operand and all(str(k).startswith("$") and k not in _LOGICAL for k in operand):
        tests = _tests(operand)
        return lambda vs: any(type(v) is list and any(all(t([e]) for t in tests) for e in v) for v in vs)
    sub = compile_filter(operand)
    return lambda vs: any(type(v) is list and any(type(e) is dict and sub(e) for e in v) for v in vs)
