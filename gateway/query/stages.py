"""The aggregate stages of a StatisticsQuery (section 4.2), one function each, from
the wire form to MongoDB pipeline stages.

Every value a client gives is wrapped in ``$literal`` before it enters an expression,
so a string such as ``"$domain_id"`` is compared as text, never read as a field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import InvalidParameterType, InvalidQuery
from gateway.query.fields import stored_key
from gateway.query.paths import check_path, collector_subpath

Stage = dict[str, Any]

_NAME_RE = re.compile(r"[^\s.$\x00-\x1f\x7f]{1,128}")
# The specifiers MongoDB's $dateToString knows, no other
# (https://www.mongodb.com/docs/manual/reference/operator/aggregation/dateToString/#format-specifiers).
_DATE_SPECIFIERS = frozenset("bBdGHjLmMSuUVwYzZ%")
_DATE_PARTS = {"year": "$year", "month": "$month", "day": "$dayOfMonth"}
_GROUP_OPERATORS = {
    "count": None,
    "sum": "$sum",
    "average": "$avg",
    "max": "$max",
    "min": "$min",
    "first": "$first",
    "last": "$last",
    "add_to_set": "$addToSet",
    "merge_objects": "$mergeObjects",
    "push": "$push",
}
_CONDITIONAL = frozenset({"count", "sum", "average"})
_CONDITION_OPERATORS = {"eq": "$eq", "not": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
_ARITHMETIC = {"add": "$add", "subtract": "$subtract", "multiply": "$multiply", "divide": "$divide"}
_PROJECT_UNARY = {
    "size": lambda ref: {"$size": {"$ifNull": [ref, []]}},
    "sum": lambda ref: {"$sum": ref},
    "array_to_object": lambda ref: {"$arrayToObject": ref},
    "object_to_array": lambda ref: {"$objectToArray": ref},
}


@dataclass
class PipelineState:
    """What compiling the stages has learnt so far."""

    grouped: bool = False  # after a group, paths are output names, not stored paths
    group_keys: list[str] = field(default_factory=list)
    needs_collector: bool = False  # a `collector_info.*` path is read before any group

    def path(self, raw: object, where: str) -> str:
        """A path the stage reads: before any group a stored key of a job (checked
        against ``gateway.query.fields``), after one an output name."""
        if self.grouped:
            return check_path(raw, where)
        path = stored_key(raw, where)
        if collector_subpath(path) is not None:
            self.needs_collector = True
        return path


def _known(value: object, table: Mapping[str, Any]) -> bool:
    """`value in table`, for values a client sent (which may be unhashable)."""
    return isinstance(value, str) and value in table


def check_name(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not _NAME_RE.fullmatch(raw):
        raise InvalidQuery(f"{where} must be a field name (no '.', no '$', no spaces), got {raw!r}.")
    return raw


def _obj(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidParameterType(f"{where} must be an object, got {raw!r}.")
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidParameterType(f"{where} must be a list, got {raw!r}.")
    return raw


def as_count(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise InvalidParameterType(f"{where} must be a non-negative integer, got {raw!r}.")
    return raw


def _date_format(fmt: object, where: str) -> str:
    if not isinstance(fmt, str) or not fmt:
        raise InvalidParameterType(f"{where}.date_format must be year, month, day or a format string, got {fmt!r}.")
    for spec in re.findall(r"%(.?)", fmt, flags=re.DOTALL):
        if not spec:
            raise InvalidQuery(f"{where}.date_format {fmt!r} ends with a lone '%'; write '%%' for a percent sign.")
        if spec not in _DATE_SPECIFIERS:
            raise InvalidQuery(
                f"{where}.date_format {fmt!r}: MongoDB has no format specifier '%{spec}'; "
                f"specifiers: {' '.join('%' + c for c in sorted(_DATE_SPECIFIERS))}."
            )
    return fmt


def _group_key(raw: object, where: str, state: PipelineState) -> tuple[str, Any]:
    spec = _obj(raw, where)
    ref = "$" + state.path(spec.get("key"), f"{where}.key")
    name = check_name(spec.get("name"), f"{where}.name")
    fmt = spec.get("date_format")
    if fmt is None:
        return name, ref
    if _known(fmt, _DATE_PARTS):
        return name, {_DATE_PARTS[fmt]: ref}
    return name, {"$dateToString": {"format": _date_format(fmt, where), "date": ref}}


def _conditions(raw: object, where: str, state: PipelineState) -> Any:
    clauses = []
    for i, item in enumerate(_list(raw, f"{where}.conditions")):
        cond = _obj(item, f"{where}.conditions[{i}]")
        op = cond.get("operator", cond.get("o"))
        if not _known(op, _CONDITION_OPERATORS):
            raise InvalidQuery(
                f"{where}.conditions[{i}]: operator {op!r} is not supported; one of {', '.join(_CONDITION_OPERATORS)}."
            )
        key = state.path(cond.get("key", cond.get("k")), f"{where}.conditions[{i}].key")
        value = cond.get("value", cond.get("v"))
        clauses.append({_CONDITION_OPERATORS[op]: ["$" + key, {"$literal": value}]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _group_field(raw: object, where: str, state: PipelineState) -> tuple[str, Any]:
    spec = _obj(raw, where)
    name = check_name(spec.get("name"), f"{where}.name")
    op = spec.get("operator")
    if not _known(op, _GROUP_OPERATORS):
        raise InvalidQuery(f"{where}: operator {op!r} is not supported; one of {', '.join(_GROUP_OPERATORS)}.")
    condition = _conditions(spec.get("conditions"), where, state)
    if condition is not None and op not in _CONDITIONAL:
        raise InvalidQuery(f"{where}: conditions apply to count, sum and average only, not {op!r}.")
    if op == "count":
        return name, {"$sum": 1 if condition is None else {"$cond": [condition, 1, 0]}}
    if op == "push" and spec.get("fields") is not None:
        pushed = {}
        for i, sub in enumerate(_list(spec["fields"], f"{where}.fields")):
            item = _obj(sub, f"{where}.fields[{i}]")
            pushed[check_name(item.get("name"), f"{where}.fields[{i}].name")] = "$" + state.path(
                item.get("key"), f"{where}.fields[{i}].key"
            )
        if not pushed:
            raise InvalidQuery(f"{where}: push needs a key or at least one of fields.")
        return name, {"$push": pushed}
    if spec.get("key") is None:
        raise InvalidQuery(f"{where}: operator {op!r} needs a key.")
    ref: Any = "$" + state.path(spec["key"], f"{where}.key")
    if condition is not None:
        # Rows that fail the conditions add 0 to a sum and nothing to an average.
        ref = {"$cond": [condition, ref, 0 if op == "sum" else None]}
    return name, {str(_GROUP_OPERATORS[str(op)]): ref}


def group(raw: object, where: str, state: PipelineState) -> list[Stage]:
    spec = _obj(raw, where)
    keys = [_group_key(k, f"{where}.keys[{i}]", state) for i, k in enumerate(_list(spec.get("keys"), f"{where}.keys"))]
    fields = [
        _group_field(f, f"{where}.fields[{i}]", state)
        for i, f in enumerate(_list(spec.get("fields"), f"{where}.fields"))
    ]
    if not keys and not fields:
        raise InvalidQuery(f"{where} needs keys or fields.")
    names = [n for n, _ in keys] + [n for n, _ in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidQuery(f"{where}: the names {duplicates} are used twice.")
    stages: list[Stage] = [{"$group": {"_id": {n: e for n, e in keys} if keys else None, **dict(fields)}}]
    # Flatten: keys become plain fields beside the computed ones, no `_id` wrapper.
    if keys:
        stages.append({"$addFields": {n: f"$_id.{n}" for n, _ in keys}})
    stages.append({"$project": {"_id": 0}})
    state.grouped, state.group_keys = True, [n for n, _ in keys]
    return stages


def unwind(raw: object, where: str, state: PipelineState) -> list[Stage]:
    spec = _obj(raw, where)
    if spec.get("path") is None:
        raise InvalidQuery(f"{where} needs a path.")
    return [{"$unwind": "$" + state.path(spec["path"], f"{where}.path")}]


def count(raw: object, where: str, state: PipelineState) -> list[Stage]:
    spec = _obj(raw, where)
    if spec.get("name") is None:
        raise InvalidQuery(f"{where} needs a name.")
    name = check_name(spec["name"], f"{where}.name")
    state.grouped, state.group_keys = True, []
    return [{"$count": name}]


def sort(raw: object, where: str, state: PipelineState) -> list[Stage]:
    spec = _obj(raw, where)
    items = _list(spec["keys"], f"{where}.keys") if "keys" in spec else [spec]
    keys: dict[str, int] = {}
    for i, item in enumerate(items):
        entry = _obj(item, f"{where}.keys[{i}]")
        if entry.get("key") is None:
            raise InvalidQuery(f"{where} needs a key.")
        desc = entry.get("desc", False)
        if not isinstance(desc, bool):
            raise InvalidParameterType(f"{where}.desc must be true or false, got {desc!r}.")
        keys[state.path(entry["key"], f"{where}.key")] = -1 if desc else 1
    if not keys:
        raise InvalidQuery(f"{where} needs a key.")
    return [{"$sort": keys}]


def _arithmetic(op: str, operands: object, where: str, state: PipelineState) -> Any:
    items = _list(operands, f"{where}.fields")
    if not items:
        raise InvalidQuery(f"{where}: {op} needs fields (names, numbers or nested operations).")
    args: list[Any] = []
    for i, item in enumerate(items):
        if isinstance(item, bool) or item is None:
            raise InvalidParameterType(f"{where}.fields[{i}] must be a field name, a number or an operation.")
        if isinstance(item, int | float):
            args.append({"$literal": item})
        elif isinstance(item, str):
            args.append("$" + state.path(item, f"{where}.fields[{i}]"))
        else:
            nested = _obj(item, f"{where}.fields[{i}]")
            if not _known(nested.get("operator"), _ARITHMETIC):
                raise InvalidQuery(f"{where}.fields[{i}]: operator must be one of {', '.join(_ARITHMETIC)}.")
            args.append(_arithmetic(nested["operator"], nested.get("fields"), f"{where}.fields[{i}]", state))
    if op in ("add", "multiply"):
        return {_ARITHMETIC[op]: args}
    result: Any = args[0]
    for arg in args[1:]:
        if op == "subtract":
            result = {"$subtract": [result, arg]}
        else:  # divide: null rather than a failed query when the divisor is 0
            result = {"$cond": [{"$eq": [arg, 0]}, None, {"$divide": [result, arg]}]}
    return result


def project(raw: object, where: str, state: PipelineState) -> list[Stage]:
    spec = _obj(raw, where)
    fields = _list(spec.get("fields"), f"{where}.fields")
    if not fields:
        raise InvalidQuery(f"{where} needs fields.")
    exclude = spec.get("exclude_keys", False)
    if not isinstance(exclude, bool):
        raise InvalidParameterType(f"{where}.exclude_keys must be true or false, got {exclude!r}.")
    out: dict[str, Any] = {"_id": 0}
    if not exclude:
        out.update(dict.fromkeys(state.group_keys, 1))
    for i, item in enumerate(fields):
        entry = _obj(item, f"{where}.fields[{i}]")
        at = f"{where}.fields[{i}]"
        name = check_name(entry.get("name"), f"{at}.name")
        op = entry.get("operator")
        if _known(op, _ARITHMETIC):
            out[name] = _arithmetic(str(op), entry.get("fields"), at, state)
            continue
        if op is not None and not _known(op, _PROJECT_UNARY):
            supported = ", ".join([*_PROJECT_UNARY, *_ARITHMETIC])
            raise InvalidQuery(f"{at}: operator {op!r} is not supported; one of {supported}.")
        if entry.get("key") is None:
            raise InvalidQuery(f"{at} needs a key.")
        ref = "$" + state.path(entry["key"], f"{at}.key")
        out[name] = ref if op is None else _PROJECT_UNARY[op](ref)
    state.group_keys = [] if exclude else state.group_keys
    state.grouped = True
    return [{"$project": out}]


def limit(raw: object, where: str, state: PipelineState) -> list[Stage]:
    if as_count(raw, where) == 0:
        raise InvalidParameterType(f"{where} must be a positive integer, got 0.")
    return [{"$limit": raw}]


def skip(raw: object, where: str, state: PipelineState) -> list[Stage]:
    return [{"$skip": as_count(raw, where)}]


STAGES: dict[str, Callable[[object, str, PipelineState], list[Stage]]] = {
    "unwind": unwind,
    "group": group,
    "count": count,
    "sort": sort,
    "project": project,
    "limit": limit,
    "skip": skip,
}
