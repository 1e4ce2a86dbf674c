"""Aggregation expressions compiled to Python functions ``(document, variables) -> value``.

Field paths follow ``fieldpaths.expression_value`` (through arrays of sub-documents,
elements without the field left out); a missing value is ``MISSING``, which an object
expression leaves out and an array expression turns into null. Comparisons
(``$eq``...) compare any two values in BSON order, missing below null
(https://www.mongodb.com/docs/manual/reference/operator/aggregation/eq/ ,
.../bson-type-comparison-order/). Arithmetic gives null for a null or missing
operand and refuses non-numbers, as MongoDB does (error 16554 and kin); the date
operators likewise (``$dateToString``: ``gateway.store.dates``).

Operators the compiler never emits are refused with ``UnsupportedByEngine``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from bson import Decimal128

from gateway.display import json_text
from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.store.bsonorder import MISSING, is_number, sort_key, truthy
from gateway.store.dates import date_formatter, local, time_zone
from gateway.store.fieldpaths import expression_value

Vars = dict[str, Any]
Expr = Callable[[Any, Vars], Any]


def _rejected(message: str) -> QueryRejected:
    return QueryRejected(f"the database rejected the query: {message}")


def compile_expression(spec: Any) -> Expr:
    """An evaluator for the aggregation expression ``spec``."""
    if isinstance(spec, str) and spec.startswith("$"):
        return _path(spec)
    if isinstance(spec, list):
        items = [compile_expression(s) for s in spec]
        return lambda d, v: [_null_if_missing(e(d, v)) for e in items]
    if isinstance(spec, Mapping):
        if len(spec) == 1:
            ((op, arg),) = spec.items()
            if isinstance(op, str) and op.startswith("$"):
                if op not in _OPERATORS:
                    raise UnsupportedByEngine(f"the embedded engine does not implement the expression operator {op}.")
                return _OPERATORS[op](arg)
        if any(isinstance(k, str) and k.startswith("$") for k in spec):
            raise _rejected(f"an expression object may hold one operator only, got {json_text(dict(spec))}.")
        fields = [(k, compile_expression(s)) for k, s in spec.items()]

        def obj(d: Any, v: Vars) -> dict[str, Any]:
            out = {}
            for name, e in fields:
                value = e(d, v)
                if value is not MISSING:
                    out[name] = value
            return out

        return obj
    return lambda d, v: spec


def _null_if_missing(value: Any) -> Any:
    return None if value is MISSING else value


def _path(spec: str) -> Expr:
    if spec.startswith("$$"):
        name, _, rest = spec[2:].partition(".")
        parts = tuple(rest.split(".")) if rest else ()
        if name in ("ROOT", "CURRENT"):
            return lambda d, v: expression_value(d, parts) if parts else d
        return lambda d, v: expression_value(v[name], parts) if name in v else _undefined(name)
    parts = tuple(spec[1:].split("."))
    if len(parts) == 1:
        (field,) = parts
        return lambda d, v: d.get(field, MISSING) if isinstance(d, dict) else MISSING
    return lambda d, v: expression_value(d, parts)


def _undefined(name: str) -> Any:
    raise _rejected(f"use of undefined variable: {name}.")


def _args(arg: Any, count: int | None, op: str) -> list[Expr]:
    items = arg if isinstance(arg, list) else [arg]
    if count is not None and len(items) != count:
        raise _rejected(f"expression {op} takes exactly {count} arguments, {len(items)} were passed in.")
    return [compile_expression(a) for a in items]


def _literal(arg: Any) -> Expr:
    return lambda d, v: arg


def _cond(arg: Any) -> Expr:
    if isinstance(arg, Mapping):
        arg = [arg.get("if"), arg.get("then"), arg.get("else")]
    test, then, otherwise = _args(arg, 3, "$cond")
    return lambda d, v: then(d, v) if truthy(test(d, v)) else otherwise(d, v)


def _if_null(arg: Any) -> Expr:
    items = _args(arg, None, "$ifNull")
    if len(items) < 2:
        raise _rejected("$ifNull needs at least two arguments.")
    *inputs, replacement = items

    def if_null(d: Any, v: Vars) -> Any:
        for e in inputs:
            value = e(d, v)
            if value is not None and value is not MISSING:
                return value
        return replacement(d, v)

    return if_null


def _comparison(test: Callable[[tuple[Any, ...], tuple[Any, ...]], bool], op: str) -> Callable[[Any], Expr]:
    def build(arg: Any) -> Expr:
        left, right = _args(arg, 2, op)
        return lambda d, v: test(_agg_key(left(d, v)), _agg_key(right(d, v)))

    return build


def _agg_key(value: Any) -> tuple[Any, ...]:
    # In expressions a missing value sorts below null.
    return (-1,) if value is MISSING else sort_key(value)


def _logical(all_: bool) -> Callable[[Any], Expr]:
    def build(arg: Any) -> Expr:
        items = _args(arg, None, "$and" if all_ else "$or")
        if all_:
            return lambda d, v: all(truthy(e(d, v)) for e in items)
        return lambda d, v: any(truthy(e(d, v)) for e in items)

    return build


def _not(arg: Any) -> Expr:
    (item,) = _args(arg, 1, "$not")
    return lambda d, v: not truthy(item(d, v))


def _filter(arg: Any) -> Expr:
    if not isinstance(arg, Mapping) or "input" not in arg or "cond" not in arg:
        raise _rejected("$filter needs 'input' and 'cond'.")
    source, cond = compile_expression(arg["input"]), compile_expression(arg["cond"])
    name = arg.get("as", "this")

    def filter_(d: Any, v: Vars) -> Any:
        items = source(d, v)
        if items is None or items is MISSING:
            return None
        if not isinstance(items, list):
            raise _rejected(f"input to $filter must be an array not {_type_name(items)}.")
        return [item for item in items if truthy(cond(d, {**v, name: item}))]

    return filter_


def _array_elem_at(arg: Any) -> Expr:
    array, index = _args(arg, 2, "$arrayElemAt")

    def elem_at(d: Any, v: Vars) -> Any:
        items, i = array(d, v), index(d, v)
        if items is None or items is MISSING or i is None or i is MISSING:
            return None
        if not isinstance(items, list):
            raise _rejected(f"$arrayElemAt's first argument must be an array, but is {_type_name(items)}.")
        if not is_number(i) or int(i) != i:
            raise _rejected(f"$arrayElemAt's second argument must be an integral value, but is {_type_name(i)}.")
        position = int(i)
        if -len(items) <= position < len(items):
            return items[position]
        return MISSING

    return elem_at


def _size(arg: Any) -> Expr:
    (array,) = _args(arg, 1, "$size")

    def size(d: Any, v: Vars) -> Any:
        items = array(d, v)
        if not isinstance(items, list):
            raise _rejected(f"the argument to $size must be an array, but was of type: {_type_name(items)}.")
        return len(items)

    return size


def _sum(arg: Any) -> Expr:
    items = _args(arg, None, "$sum")

    def sum_(d: Any, v: Vars) -> Any:
        values = [e(d, v) for e in items]
        if len(values) == 1 and isinstance(values[0], list):
            values = values[0]
        return numeric_sum(values)

    return sum_


def numeric_sum(values: Any) -> Any:
    """The sum of the numbers among ``values`` (others ignored), 0 when none."""
    total: Any = 0
    for value in values:
        if is_number(value):
            total += value.to_decimal() if isinstance(value, Decimal128) else value
    return total


def _array_to_object(arg: Any) -> Expr:
    (array,) = _args(arg, 1, "$arrayToObject")

    def to_object(d: Any, v: Vars) -> Any:
        items = array(d, v)
        if items is None or items is MISSING:
            return None
        if not isinstance(items, list):
            raise _rejected(f"$arrayToObject requires an array input, found: {_type_name(items)}.")
        out: dict[str, Any] = {}
        for item in items:
            if isinstance(item, dict) and set(item) == {"k", "v"} and isinstance(item["k"], str):
                out[item["k"]] = item["v"]
            elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                out[item[0]] = item[1]
            else:
                raise _rejected(f"$arrayToObject requires an array of key-value pairs, found {json_text(item)}.")
        return out

    return to_object


def _object_to_array(arg: Any) -> Expr:
    (obj,) = _args(arg, 1, "$objectToArray")

    def to_array(d: Any, v: Vars) -> Any:
        value = obj(d, v)
        if value is None or value is MISSING:
            return None
        if not isinstance(value, dict):
            raise _rejected(f"$objectToArray requires a document input, found: {_type_name(value)}.")
        return [{"k": k, "v": item} for k, item in value.items()]

    return to_array


def _arithmetic(op: str) -> Callable[[Any], Expr]:
    def build(arg: Any) -> Expr:
        items = _args(arg, None if op in ("$add", "$multiply") else 2, op)

        def evaluate(d: Any, v: Vars) -> Any:
            values = [e(d, v) for e in items]
            if any(x is None or x is MISSING for x in values):
                return None
            return _ARITHMETIC[op](values)

        return evaluate

    return build


def _number(value: Any, op: str) -> Any:
    if not is_number(value):
        raise _rejected(f"{op} only supports numeric types, not {_type_name(value)}.")
    return value.to_decimal() if isinstance(value, Decimal128) else value


def _add(values: list[Any]) -> Any:
    dates = [x for x in values if isinstance(x, datetime)]
    if len(dates) > 1:
        raise _rejected("only one date allowed in an $add expression.")
    total = sum(_number(x, "$add") for x in values if not isinstance(x, datetime))
    if dates:
        return dates[0] + timedelta(milliseconds=round(total))
    return total


def _subtract(values: list[Any]) -> Any:
    a, b = values
    if isinstance(a, datetime) and isinstance(b, datetime):
        return int((a - b) / timedelta(milliseconds=1))
    if isinstance(a, datetime):
        return a - timedelta(milliseconds=round(_number(b, "$subtract")))
    return _number(a, "$subtract") - _number(b, "$subtract")


def _multiply(values: list[Any]) -> Any:
    product: Any = 1
    for x in values:
        product *= _number(x, "$multiply")
    return product


def _divide(values: list[Any]) -> Any:
    a, b = (_number(x, "$divide") for x in values)
    if b == 0:
        raise _rejected("can't $divide by zero.")
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(a) / Decimal(b)
    return float(a) / float(b)  # $divide of numbers is a double


_ARITHMETIC: dict[str, Callable[[list[Any]], Any]] = {
    "$add": _add,
    "$subtract": _subtract,
    "$multiply": _multiply,
    "$divide": _divide,
}


def _date_operand(value: Any, op: str) -> datetime | None:
    if value is None or value is MISSING:
        return None
    if not isinstance(value, datetime):
        raise _rejected(f"{op}: can't convert from BSON type {_type_name(value)} to Date.")
    return value


def _date_to_string(arg: Any) -> Expr:
    if not isinstance(arg, Mapping) or "date" not in arg:
        raise _rejected("missing 'date' parameter to $dateToString.")
    unknown = set(arg) - {"date", "format", "onNull", "timezone"}
    if unknown:
        raise UnsupportedByEngine(f"the embedded engine does not implement $dateToString's {sorted(unknown)}.")
    fmt = arg.get("format", "%Y-%m-%dT%H:%M:%S.%LZ")
    if not isinstance(fmt, str):
        raise _rejected(f"$dateToString requires that 'format' be a string, found: {_type_name(fmt)}.")
    render = date_formatter(fmt)
    date = compile_expression(arg["date"])
    zone = _zone(arg)
    on_null = compile_expression(arg["onNull"]) if "onNull" in arg else (lambda d, v: None)

    def to_string(d: Any, v: Vars) -> Any:
        value = _date_operand(date(d, v), "$dateToString")
        return on_null(d, v) if value is None else render(local(value, zone(d, v)))

    return to_string


def _zone(arg: Mapping[str, Any]) -> Callable[[Any, Vars], tzinfo | None]:
    """The ``timezone`` of a date operator's argument (an expression; absent: UTC)."""
    if "timezone" not in arg:
        return lambda d, v: None
    name = compile_expression(arg["timezone"])

    def zone(d: Any, v: Vars) -> tzinfo | None:
        value = name(d, v)
        return None if value is None or value is MISSING else time_zone(value)

    return zone


def _date_part(part: Callable[[datetime], int], op: str) -> Callable[[Any], Expr]:
    def build(arg: Any) -> Expr:
        zone: Callable[[Any, Vars], tzinfo | None] = lambda d, v: None  # noqa: E731
        if isinstance(arg, Mapping) and "date" in arg:
            if set(arg) - {"date", "timezone"}:
                raise UnsupportedByEngine(f"the embedded engine does not implement {op}'s {sorted(set(arg))}.")
            zone = _zone(arg)
            arg = arg["date"]
        (date,) = _args(arg, 1, op)

        def evaluate(d: Any, v: Vars) -> Any:
            value = _date_operand(date(d, v), op)
            return None if value is None else part(local(value, zone(d, v)))

        return evaluate

    return build


def _type_name(value: Any) -> str:
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, datetime):
        return "date"
    if is_number(value):
        return "double" if isinstance(value, float) else "int"
    return type(value).__name__


_OPERATORS: dict[str, Callable[[Any], Expr]] = {
    "$literal": _literal,
    "$cond": _cond,
    "$ifNull": _if_null,
    "$eq": _comparison(lambda a, b: a == b, "$eq"),
    "$ne": _comparison(lambda a, b: a != b, "$ne"),
    "$gt": _comparison(lambda a, b: a > b, "$gt"),
    "$gte": _comparison(lambda a, b: a >= b, "$gte"),
    "$lt": _comparison(lambda a, b: a < b, "$lt"),
    "$lte": _comparison(lambda a, b: a <= b, "$lte"),
    "$and": _logical(True),
    "$or": _logical(False),
    "$not": _not,
    "$filter": _filter,
    "$arrayElemAt": _array_elem_at,
    "$size": _size,
    "$sum": _sum,
    "$arrayToObject": _array_to_object,
    "$objectToArray": _object_to_array,
    "$add": _arithmetic("$add"),
    "$subtract": _arithmetic("$subtract"),
    "$multiply": _arithmetic("$multiply"),
    "$divide": _arithmetic("$divide"),
    "$dateToString": _date_to_string,
    "$year": _date_part(lambda d: d.year, "$year"),
    "$month": _date_part(lambda d: d.month, "$month"),
    "$dayOfMonth": _date_part(lambda d: d.day, "$dayOfMonth"),
    "$hour": _date_part(lambda d: d.hour, "$hour"),
    "$minute": _date_part(lambda d: d.minute, "$minute"),
    "$second": _date_part(lambda d: d.second, "$second"),
    "$millisecond": _date_part(lambda d: d.microsecond // 1000, "$millisecond"),
    "$dayOfWeek": _date_part(lambda d: d.isoweekday() % 7 + 1, "$dayOfWeek"),
    "$dayOfYear": _date_part(lambda d: d.timetuple().tm_yday, "$dayOfYear"),
}
