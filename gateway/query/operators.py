"""The filter operators of the Query language, one small function each.

Each takes the stored field path, the condition's value and the compile context, and
returns a MongoDB filter fragment. Values are always embedded as literals: under
``$eq``/``$ne``/``$in``, as BSON regular expressions (``gateway.query.regex``), or as
``$elemMatch`` of literal equalities, so a value such as ``{"$ne": null}`` can never act as an operator.

An object value with ``$``-prefixed keys is matched as that literal object by every
operator that takes objects. ``$eq`` and ``$ne`` take it as it is, but MongoDB refuses
it inside ``$in``/``$nin`` ("cannot nest $ under $in"), so ``in`` and ``not_in`` match
such values with ``$eq`` clauses beside the ``$in`` of the others: the same answer,
since ``$in`` is documented as equality with any one of its values, array elements
included (https://www.mongodb.com/docs/manual/reference/operator/query/in/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.display import got, json_text
from gateway.errors import InvalidParameterType, InvalidQuery
from gateway.query.instants import parse_iso, parse_timediff
from gateway.query.paths import check_path
from gateway.query.regex import literal_regex, user_regex

Fragment = dict[str, Any]


@dataclass(frozen=True)
class CompileContext:
    """What compiling needs beyond the query itself: the clock and the limits."""

    now: datetime
    max_regex_length: int = 1024


Operator = Callable[[str, Any, CompileContext], Fragment]


def _at(key: str, op: str) -> str:
    """Where a message points: the condition's key and operator, as the client wrote them."""
    return f"condition on {json_text(key)}: operator {json_text(op)}"


def _single(key: str, op: str, value: Any) -> Any:
    if isinstance(value, list | tuple):
        raise InvalidParameterType(f"{_at(key, op)} takes a single value, not a list.")
    return value


def _scalar(key: str, op: str, value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        raise InvalidParameterType(f"{_at(key, op)} takes a scalar value, got {got(value)}.")
    return value


def _string(key: str, op: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        raise InvalidParameterType(f"{_at(key, op)} takes a single value, not a list.")
    if not isinstance(value, str):
        raise InvalidParameterType(f"{_at(key, op)} takes a string, got {got(value)}.")
    return value


def _list(key: str, op: str, value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InvalidParameterType(f"{_at(key, op)} takes a list, got {got(value)}.")
    return list(value)


def _string_list(key: str, op: str, value: Any) -> list[str]:
    items = _list(key, op, value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidParameterType(f"{_at(key, op)} takes a list of strings, got {got(item)} in it.")
    return items


def _eq(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$eq": _single(path, "eq", value)}}


def _not(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$ne": _single(path, "not", value)}}


def _compare(mongo_op: str, op: str) -> Operator:
    def compile_(path: str, value: Any, ctx: CompileContext) -> Fragment:
        return {path: {mongo_op: _scalar(path, op, value)}}

    return compile_


def _exists(path: str, value: Any, ctx: CompileContext) -> Fragment:
    if not isinstance(value, bool):
        raise InvalidParameterType(f"{_at(path, 'exists')} takes true or false, got {got(value)}.")
    return {path: {"$exists": value}}


def _contain(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$regex": literal_regex(_string(path, "contain", value))}}


def _not_contain(path: str, value: Any, ctx: CompileContext) -> Fragment:
    # `$not` with a regex object is what both MongoDB and the embedded engine accept.
    return {path: {"$not": literal_regex(_string(path, "not_contain", value))}}


def _operator_like(value: Any) -> bool:
    """An object with a `$`-prefixed key, which MongoDB does not take as a literal
    value inside `$in`/`$nin` (a list holding one, it does)."""
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value)


def _any_of(path: str, values: list[Any]) -> Fragment:
    """The field equals one of ``values`` (`$in`), operator-like objects included."""
    literal = [v for v in values if _operator_like(v)]
    if not literal:
        return {path: {"$in": values}}
    plain = [v for v in values if not _operator_like(v)]
    return {"$or": [*([{path: {"$in": plain}}] if plain else []), *({path: {"$eq": v}} for v in literal)]}


def _in(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return _any_of(path, _list(path, "in", value))


def _not_in(path: str, value: Any, ctx: CompileContext) -> Fragment:
    values = _list(path, "not_in", value)
    if not any(_operator_like(v) for v in values):
        return {path: {"$nin": values}}
    # `$nin` is the negation of `$in`, missing fields included.
    return {"$nor": [_any_of(path, values)]}


def _contain_in(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$in": [literal_regex(v) for v in _string_list(path, "contain_in", value)]}}


def _not_contain_in(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$nin": [literal_regex(v) for v in _string_list(path, "not_contain_in", value)]}}


def _match(path: str, value: Any, ctx: CompileContext) -> Fragment:
    if not isinstance(value, dict):
        raise InvalidParameterType(f"{_at(path, 'match')} takes an object, got {got(value)}.")
    if not value:
        raise InvalidQuery(f"{_at(path, 'match')} needs at least one field.")
    # Each field is a literal equality: the object selects, it never carries operators.
    return {
        path: {
            "$elemMatch": {
                check_path(k, f"condition on {json_text(path)}: match field"): {"$eq": v} for k, v in value.items()
            }
        }
    }


def _regex(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$regex": user_regex(path, _string(path, "regex", value), ctx.max_regex_length)}}


def _regex_in(path: str, value: Any, ctx: CompileContext) -> Fragment:
    return {path: {"$in": [user_regex(path, v, ctx.max_regex_length) for v in _string_list(path, "regex_in", value)]}}


def _datetime(mongo_op: str, op: str) -> Operator:
    def compile_(path: str, value: Any, ctx: CompileContext) -> Fragment:
        return {path: {mongo_op: parse_iso(_single(path, op, value), path)}}

    return compile_


def _timediff(mongo_op: str, op: str) -> Operator:
    def compile_(path: str, value: Any, ctx: CompileContext) -> Fragment:
        return {path: {mongo_op: parse_timediff(_single(path, op, value), path, ctx.now)}}

    return compile_


OPERATORS: dict[str, Operator] = {
    "eq": _eq,
    "not": _not,
    "lt": _compare("$lt", "lt"),
    "lte": _compare("$lte", "lte"),
    "gt": _compare("$gt", "gt"),
    "gte": _compare("$gte", "gte"),
    "exists": _exists,
    "contain": _contain,
    "not_contain": _not_contain,
    "in": _in,
    "not_in": _not_in,
    "contain_in": _contain_in,
    "not_contain_in": _not_contain_in,
    "match": _match,
    "regex": _regex,
    "regex_in": _regex_in,
    **{f"datetime_{s}": _datetime(f"${s}", f"datetime_{s}") for s in ("gt", "gte", "lt", "lte")},
    **{f"timediff_{s}": _timediff(f"${s}", f"timediff_{s}") for s in ("gt", "gte", "lt", "lte")},
}

# Negative operators on collector_info keys: "jobs whose collector is not among those
# matching the positive form", so jobs whose collector is gone are kept.
NEGATED: dict[str, str] = {
    "not": "eq",
    "not_in": "in",
    "not_contain": "contain",
    "not_contain_in": "contain_in",
}
