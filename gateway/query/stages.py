"""The aggregate stages of a StatisticsQuery (section 4.2), one function each, from
the canonical message form (``gateway.query.messages``) to MongoDB pipeline stages.

Every value a client gives is wrapped in ``$literal`` before it enters an expression,
so a string such as ``"$domain_id"`` is compared as text, never read as a field.
Conditions are read by the one condition normaliser (``conditions.read_condition``),
sorts by the one sort reader (``sorts.read_sort``), keys by the field table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from gateway.display import got, json_text
from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded, RequiredParameter, UnsupportedOperator
from gateway.query.conditions import read_condition
from gateway.query.fields import shown_by_list, stored_key
from gateway.query.limits import Limits
from gateway.query.messages import bounded, check_value
from gateway.query.paths import check_path, collector_subpath
from gateway.query.sorts import read_sort

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

    limits: Limits = field(default_factory=Limits)
    grouped: bool = False  # after a group, count or project, rows are shaped: paths are output names
    group_keys: list[str] = field(default_factory=list)
    needs_collector: bool = False  # a `collector_info.*` path is read before any group
    expression_nodes: int = 0  # operations and operands of the current project stage's arithmetic
    # Stored paths the stages read that the list does not show as stored (fields.shown_by_list),
    # each as "<where> <key as written>": refused to a project-scoped caller.
    unshown: list[str] = field(default_factory=list)

    def node(self, where: str) -> None:
        """Count one operation or operand of the current project stage's arithmetic
        (each is evaluated once per row, so their number is its cost per row)."""
        self.expression_nodes += 1
        limit = self.limits.max_expression_size
        if self.expression_nodes > limit:
            raise LimitExceeded(
                f"{where}: the project stage's operations hold more than {limit} operations and operands; "
                f"the limit max_expression_size is {limit}."
            )

    def path(self, raw: object, where: str) -> str:
        """A path the stage reads: before any group a stored key of a job (checked
        against ``gateway.query.fields``), after one an output name."""
        if self.grouped:
            return check_path(raw, where)
        path = stored_key(raw, where)
        if collector_subpath(path) is not None:
            self.needs_collector = True
        if not shown_by_list(path):
            self.unshown.append(f"{where} {json_text(raw)}")
        return path


def check_name(raw: object, where: str) -> str:
    """An output name (of a group key or field, a pushed sub-field, a count, a project
    field): one field name, no dots, no ``$``, not ``_id``. The one check of every name
    a stage writes, so that none reaches MongoDB to be refused there (``$count`` refuses
    ``_id``) or misread (a ``$group`` field named ``_id`` is its group id, a
    ``$project`` of ``_id`` the document id).

    Raises ``RequiredParameter`` for none or ``""``, ``InvalidQuery`` otherwise."""
    if raw is None or raw == "":
        raise RequiredParameter(f"{where} is required.")
    if not isinstance(raw, str) or not _NAME_RE.fullmatch(raw):
        raise InvalidQuery(f"{where} must be a field name (no '.', no '$', no spaces), got {got(raw)}.")
    if raw == "_id":
        raise InvalidQuery(f'{where} "_id" is reserved (MongoDB\'s group and document id; rows carry none).')
    return raw


def _required(spec: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in spec:
        raise RequiredParameter(f"{where} has no {name}.")
    return spec[name]


def _operator(spec: Mapping[str, Any], where: str, table: Mapping[str, Any]) -> str:
    op = _required(spec, "operator", where)
    if not isinstance(op, str) or op not in table:
        raise UnsupportedOperator(f"{where}: operator {json_text(op)} is not supported; one of {', '.join(table)}.")
    return str(op)


def _date_format(fmt: object, where: str) -> str:
    if not isinstance(fmt, str) or not fmt:
        raise InvalidParameterType(f"{where}.date_format must be year, month, day or a format string, got {got(fmt)}.")
    for spec in re.findall(r"%(.?)", fmt, flags=re.DOTALL):
        if not spec:
            raise InvalidQuery(
                f"{where}.date_format {json_text(fmt)} ends with a lone '%'; write '%%' for a percent sign."
            )
        if spec not in _DATE_SPECIFIERS:
            raise InvalidQuery(
                f"{where}.date_format {json_text(fmt)}: MongoDB has no format specifier '%{spec}'; "
                f"specifiers: {' '.join('%' + c for c in sorted(_DATE_SPECIFIERS))}."
            )
    return fmt


def time_zone(raw: object, where: str) -> str:
    """An IANA time zone name (``Asia/Seoul``, ``UTC``), as MongoDB's date operators
    take one (their ``timezone``); ``InvalidQuery`` naming ``where`` otherwise. The
    names are the IANA database's own (the ``tzdata`` package's list), not what the
    host's tz directory also holds (``localtime``: the host's zone), and not
    ``Factory`` (a placeholder with no offset)."""
    if not isinstance(raw, str) or raw not in _time_zones():
        raise InvalidQuery(f'{where} {json_text(raw)} is not an IANA time zone name such as "Asia/Seoul" or "UTC".')
    return raw


@cache
def _time_zones() -> frozenset[str]:
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - {"Factory"}


def _group_key(spec: Mapping[str, Any], where: str, state: PipelineState) -> tuple[str, Any]:
    ref = "$" + state.path(_required(spec, "key", where), f"{where}.key")
    name = check_name(spec.get("name"), f"{where}.name")
    fmt = spec.get("date_format")
    zone = spec.get("time_zone")
    if fmt is None:
        if zone is not None:
            raise InvalidQuery(f"{where}.time_zone applies to a date key: give date_format too.")
        return name, ref
    # MongoDB's date operators read an instant in a time zone (UTC when none is given).
    date: dict[str, Any] = {"date": ref}
    if zone is not None:
        date["timezone"] = time_zone(zone, f"{where}.time_zone")
    if fmt in _DATE_PARTS:
        return name, {_DATE_PARTS[fmt]: date}
    return name, {"$dateToString": {"format": _date_format(fmt, where), **date}}


def _conditions(items: Sequence[Mapping[str, Any]], where: str, state: PipelineState) -> Any:
    clauses = []
    for i, item in enumerate(items):
        cond = read_condition(item, f"{where}.conditions[{i}]", _CONDITION_OPERATORS, state.path)
        clauses.append({_CONDITION_OPERATORS[cond.operator]: ["$" + cond.key, {"$literal": cond.value}]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _group_field(spec: Mapping[str, Any], where: str, state: PipelineState) -> tuple[str, Any]:
    name = check_name(spec.get("name"), f"{where}.name")
    op = _operator(spec, where, _GROUP_OPERATORS)
    condition = _conditions(spec.get("conditions", []), where, state)
    if condition is not None and op not in _CONDITIONAL:
        raise InvalidQuery(f"{where}: conditions apply to count, sum and average only, not {json_text(op)}.")
    if op == "count":
        return name, {"$sum": 1 if condition is None else {"$cond": [condition, 1, 0]}}
    if op == "push" and "fields" in spec:
        pushed = {}
        for i, sub in enumerate(spec["fields"]):
            at = f"{where}.fields[{i}]"
            pushed[check_name(sub.get("name"), f"{at}.name")] = "$" + state.path(_required(sub, "key", at), f"{at}.key")
        return name, {"$push": pushed}
    if "key" not in spec:
        raise RequiredParameter(f"{where}: operator {json_text(op)} needs a key.")
    ref: Any = "$" + state.path(spec["key"], f"{where}.key")
    if condition is not None:
        # Rows that fail the conditions add 0 to a sum and nothing to an average.
        ref = {"$cond": [condition, ref, 0 if op == "sum" else None]}
    return name, {str(_GROUP_OPERATORS[op]): ref}


def group(spec: Mapping[str, Any], where: str, state: PipelineState) -> list[Stage]:
    """A ``group`` stage (section 4.2), ``{keys: [{key, name, date_format?, time_zone?}],
    fields: [{key?, name, operator, fields?, conditions?}]}``, as MongoDB's ``$group``
    followed by an ``$addFields`` that lifts each key out of ``_id`` and a ``$project``
    dropping ``_id`` (the spec's rows have no ``_id`` wrapper). ``date_format`` year,
    month, day become ``$year``/``$month``/``$dayOfMonth``, any other format
    ``$dateToString``; ``conditions`` wrap the value in ``$cond`` (count, sum, average
    only). Raises ``RequiredParameter`` without keys and fields, ``InvalidQuery`` for a
    name used twice or a misplaced condition, ``LimitExceeded`` past
    max_group_keys/max_group_fields; afterwards ``state`` reads output names."""
    keys = [_group_key(k, f"{where}.keys[{i}]", state) for i, k in enumerate(spec.get("keys", []))]
    given = spec.get("fields", [])
    # What a row accumulates: one value per field, one per pushed sub-field of a push.
    width = sum(max(1, len(f.get("fields") or ())) for f in given)
    limit = state.limits.max_group_fields
    if width > limit:
        raise LimitExceeded(
            f"{where}.fields accumulate {width} values per row (a push counts each of its fields); "
            f"the limit max_group_fields is {limit}."
        )
    fields = [_group_field(f, f"{where}.fields[{i}]", state) for i, f in enumerate(given)]
    if not keys and not fields:
        raise RequiredParameter(f"{where} needs keys or fields.")
    names = [n for n, _ in keys] + [n for n, _ in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidQuery(f"{where}: the names {json_text(duplicates)} are used twice.")
    stages: list[Stage] = [{"$group": {"_id": {n: e for n, e in keys} if keys else None, **dict(fields)}}]
    # Flatten: keys become plain fields beside the computed ones, no `_id` wrapper.
    if keys:
        stages.append({"$addFields": {n: f"$_id.{n}" for n, _ in keys}})
    stages.append({"$project": {"_id": 0}})
    state.grouped, state.group_keys = True, [n for n, _ in keys]
    return stages


def unwind(spec: Mapping[str, Any], where: str, state: PipelineState) -> list[Stage]:
    """An ``unwind`` stage, ``{path}`` (section 4.2): MongoDB's ``$unwind`` of that
    path, one row per element (a missing, null or empty array gives no row, as
    ``$unwind`` without ``preserveNullAndEmptyArrays``). Raises ``RequiredParameter``
    without ``path``, ``InvalidQuery`` for a path the field table refuses."""
    return [{"$unwind": "$" + state.path(_required(spec, "path", where), f"{where}.path")}]


def count(spec: Mapping[str, Any], where: str, state: PipelineState) -> list[Stage]:
    """A ``count`` stage, ``{name}`` (section 4.2): MongoDB's ``$count``, one row
    ``{name: n}``, or no row when there are none (as MongoDB does). Raises
    ``RequiredParameter`` without a name, ``InvalidQuery`` for a name holding ``.``,
    ``$`` or white space, or longer than 128 characters."""
    name = check_name(spec.get("name"), f"{where}.name")
    state.grouped, state.group_keys = True, []
    return [{"$count": name}]


def sort(spec: Mapping[str, Any], where: str, state: PipelineState) -> list[Stage]:
    """A ``sort`` stage, ``{key, desc}`` or ``{keys: [...]}`` (section 4.2), as
    MongoDB's ``$sort`` (1 ascending, -1 descending, keys in the order given). Raises
    ``RequiredParameter`` without a key, ``LimitExceeded`` past max_sort_keys."""
    keys = read_sort(spec, where, state.path)
    if keys is None:
        raise RequiredParameter(f"{where} needs a key (or keys).")
    return [{"$sort": dict(keys)}]


def _arithmetic(op: str, operands: object, where: str, state: PipelineState, depth: int = 1) -> Any:
    if depth > state.limits.max_expression_depth:
        raise LimitExceeded(
            f"{where}: operations nest deeper than the limit max_expression_depth={state.limits.max_expression_depth}."
        )
    state.node(where)
    if operands is None or operands == []:
        raise RequiredParameter(f"{where}: {op} needs fields (names, numbers or nested operations).")
    if not isinstance(operands, list):
        raise InvalidParameterType(f"{where}.fields must be a list, got {got(operands)}.")
    items = bounded(operands, f"{where}.fields", "max_project_fields", state.limits, "operands")
    args = [_operand(item, f"{where}.fields[{i}]", state, depth) for i, item in enumerate(items)]
    if op in ("add", "multiply"):
        return {_ARITHMETIC[op]: args}
    result: Any = args[0]
    for arg in args[1:]:
        if op == "subtract":
            result = {"$subtract": [result, arg]}
        else:  # divide: null rather than a failed query when the divisor is 0
            result = {"$cond": [{"$eq": [arg, 0]}, None, {"$divide": [result, arg]}]}
    return result


def _operand(item: object, where: str, state: PipelineState, depth: int) -> Any:
    """One operand of an operation: a field name, a number or a nested operation
    (``{operator, fields}``, the contract's own form: no other field)."""
    if isinstance(item, bool) or item is None or isinstance(item, list):
        raise InvalidParameterType(f"{where} must be a field name, a number or an operation, got {got(item)}.")
    if isinstance(item, int | float):
        check_value(item, where, state.limits)
        state.node(where)
        return {"$literal": item}
    if isinstance(item, str):
        state.node(where)
        return "$" + state.path(item, where)
    if not isinstance(item, Mapping):
        raise InvalidParameterType(f"{where} must be a field name, a number or an operation, got {got(item)}.")
    unknown = sorted(set(item) - {"operator", "fields"})
    if unknown:
        raise InvalidParameterType(f"{where} has no field {json_text(unknown[0])}; an operation has operator, fields.")
    return _arithmetic(_operator(item, where, _ARITHMETIC), item.get("fields"), where, state, depth + 1)


def project(spec: Mapping[str, Any], where: str, state: PipelineState) -> list[Stage]:
    """A ``project`` stage, ``{fields: [{key, name, operator?}], exclude_keys?}``
    (section 4.2), as one MongoDB ``$project`` (``_id`` dropped; the group keys kept
    unless ``exclude_keys``). ``size`` of a missing array is 0 (``$ifNull``); the
    arithmetic ``add``/``subtract``/``multiply``/``divide`` nests over field names,
    numbers (``$literal``) and operations, and a division by 0 gives null rather than
    MongoDB's error. Raises ``RequiredParameter`` without fields,
    ``UnsupportedOperator`` for another operator, ``LimitExceeded`` past
    max_project_fields, max_expression_depth or max_expression_size."""
    fields = spec.get("fields", [])
    if not fields:
        raise RequiredParameter(f"{where} needs fields.")
    exclude = spec.get("exclude_keys", False)
    state.expression_nodes = 0
    out: dict[str, Any] = {"_id": 0}
    if not exclude:
        out.update(dict.fromkeys(state.group_keys, 1))
    for i, entry in enumerate(fields):
        at = f"{where}.fields[{i}]"
        name = check_name(entry.get("name"), f"{at}.name")
        op = entry.get("operator")
        if op in _ARITHMETIC:
            out[name] = _arithmetic(op, entry.get("fields"), at, state)
            continue
        if op is not None and op not in _PROJECT_UNARY:
            supported = ", ".join([*_PROJECT_UNARY, *_ARITHMETIC])
            raise UnsupportedOperator(f"{at}: operator {json_text(op)} is not supported; one of {supported}.")
        ref = "$" + state.path(_required(entry, "key", at), f"{at}.key")
        out[name] = ref if op is None else _PROJECT_UNARY[op](ref)
    state.group_keys = [] if exclude else state.group_keys
    state.grouped = True
    return [{"$project": out}]


def limit(n: int, where: str, state: PipelineState) -> list[Stage]:
    """A ``limit`` stage, ``N`` (section 4.2): MongoDB's ``$limit``. Raises
    ``InvalidParameterType`` unless ``n`` > 0 (MongoDB refuses ``$limit: 0`` too)."""
    if n <= 0:
        raise InvalidParameterType(f"{where} must be a positive integer, got {n}.")
    return [{"$limit": n}]


def skip(n: int, where: str, state: PipelineState) -> list[Stage]:
    """A ``skip`` stage, ``N`` (section 4.2): MongoDB's ``$skip``. Raises
    ``InvalidParameterType`` for a negative ``n``."""
    if n < 0:
        raise InvalidParameterType(f"{where} must not be negative, got {n}.")
    return [{"$skip": n}]


STAGES: dict[str, Callable[[Any, str, PipelineState], list[Stage]]] = {
    "unwind": unwind,
    "group": group,
    "count": count,
    "sort": sort,
    "project": project,
    "limit": limit,
    "skip": skip,
}
