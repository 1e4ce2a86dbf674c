"""Conditions -> a MongoDB filter, with `collector_info.*` keys left as lookups.

A condition on ``collector_info.x`` cannot be answered from the job document alone:
it becomes a ``CollectorLookup`` that the service resolves with one query on the
collector collection (scoped to the caller's domain), and ``CompiledFilter.build``
turns the collectors found into a job filter (``gateway.query.collectors``). List and
statistics filters both take this path, so both select the same jobs (contract
section 4.1: "as in list"). The compiler itself stays pure.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.display import json_text
from gateway.errors import LimitExceeded, RequiredParameter, UnsupportedOperator
from gateway.query.collectors import CollectorIds, jobs_of_collectors
from gateway.query.fields import KeyReader, stored_key
from gateway.query.limits import Limits
from gateway.query.operators import NEGATED, OPERATORS, CompileContext, Fragment
from gateway.query.paths import collector_subpath


@dataclass(frozen=True)
class Condition:
    """One condition of the published language: a key (the stored path), a value, an operator."""

    key: str
    value: Any
    operator: str


@dataclass(frozen=True, eq=False)
class CollectorLookup:
    """Jobs whose collector matches ``collector_filter`` (or, if ``negate``, does not:
    jobs whose collector is gone included, contract section 3.2)."""

    collector_filter: Fragment
    negate: bool


@dataclass(frozen=True, eq=False)
class Junction:
    """Parts combined by ``operator``: ``$and``, ``$or`` or ``$nor`` (a condition tree,
    ``gateway.query.trees``)."""

    operator: str
    parts: list[Part]


Part = Fragment | CollectorLookup | Junction


# A filter no document satisfies: what an `or` of nothing matches.
_NOTHING: Fragment = {"_id": {"$in": []}}


def _lookups(part: Part) -> list[CollectorLookup]:
    if isinstance(part, CollectorLookup):
        return [part]
    if isinstance(part, Junction):
        return [lookup for p in part.parts for lookup in _lookups(p)]
    return []


@dataclass
class CompiledFilter:
    """A compiled ``filter`` (all must hold) and ``filter_or`` (one must hold)."""

    all_of: list[Part] = field(default_factory=list)
    any_of: list[Part] = field(default_factory=list)

    @property
    def lookups(self) -> list[CollectorLookup]:
        """The ``collector_info.*`` conditions, which need the collector collection."""
        return [lookup for p in (*self.all_of, *self.any_of) for lookup in _lookups(p)]

    def build(self, scope: Fragment, found: Mapping[CollectorLookup, CollectorIds]) -> Fragment:
        """The job filter: ``scope`` AND every `all_of` part AND (any `any_of` part), each
        lookup answered by the collectors ``found`` for it (KeyError if one is missing:
        a bug of the caller)."""

        def resolve(part: Part) -> Fragment:
            if isinstance(part, CollectorLookup):
                return jobs_of_collectors(found[part], negate=part.negate)
            if isinstance(part, Junction):
                if not part.parts:  # MongoDB refuses an empty $and/$or/$nor
                    return _NOTHING if part.operator == "$or" else {}
                return {part.operator: [resolve(p) for p in part.parts]}
            return part

        clauses = [scope, *(resolve(p) for p in self.all_of)]
        if self.any_of:
            clauses.append({"$or": [resolve(p) for p in self.any_of]})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def read_condition(raw: Mapping[str, Any], where: str, operators: Collection[str], path: KeyReader) -> Condition:
    """The one condition normaliser: a canonical ``Filter`` or ``AggregateSubCondition``
    (``gateway.query.messages``: ``k``/``v``/``o`` already read as ``key``/``value``/
    ``operator``) whose operator is among ``operators`` (what the place allows: every
    filter operator in ``filter``/``filter_or``, comparisons in a group field's
    ``conditions``) and whose key ``path`` accepts (it raises for one it does not).

    Raises ``RequiredParameter`` for a missing key or operator, ``UnsupportedOperator``
    for one the place does not allow, each naming ``where``."""
    key, operator = raw.get("key"), raw.get("operator")
    if key is None or key == "":
        raise RequiredParameter(f"{where} has no key: {json_text(raw)}.")
    if operator is None or operator == "":
        raise RequiredParameter(f"{where} has no operator: {json_text(raw)}.")
    if operator not in operators:
        raise UnsupportedOperator(
            f"{where}: operator {json_text(operator)} is not supported here; one of {', '.join(operators)}."
        )
    return Condition(key=path(key, f"{where}.key"), value=raw.get("value"), operator=operator)


def compile_condition(cond: Condition, ctx: CompileContext) -> Part:
    """A filter fragment, or a lookup for a ``collector_info.*`` key. A negative
    operator there becomes "not among the collectors matching the positive form".

    Raises what the operator raises for a value it does not take (``InvalidParameterType``,
    ``InvalidQuery``), naming the key as the client wrote it (``collector_info.provider``)."""
    if collector_subpath(cond.key) is None:
        return OPERATORS[cond.operator](cond.key, cond.value, ctx)
    positive = NEGATED.get(cond.operator)
    operator = cond.operator if positive is None else positive
    # Compiled on the job's key, so that errors name it; then read on the collector.
    return CollectorLookup(_on_collector(OPERATORS[operator](cond.key, cond.value, ctx)), negate=positive is not None)


def _on_collector(fragment: Fragment) -> Fragment:
    """A filter on a job's ``collector_info.x`` paths as a filter on the collector
    document itself (``x``): each field path made relative, inside ``$and``, ``$or``
    and ``$nor`` too (what the operators emit)."""
    relative: Fragment = {}
    for key, value in fragment.items():
        if key in ("$and", "$or", "$nor"):
            relative[key] = [_on_collector(part) for part in value]
        else:
            relative[collector_subpath(key) or key] = value
    return relative


def read_conditions(raw: Sequence[Mapping[str, Any]] | None, name: str) -> list[Condition]:
    """The conditions of a canonical ``filter`` or ``filter_or`` (None: unset; read by
    ``gateway.query.messages``, which bounds their number and their values)."""
    if raw is None:
        return []
    conditions = []
    for i, item in enumerate(raw):
        where = f"{name}[{i}]"
        cond = read_condition(item, where, OPERATORS, stored_key)
        if cond.operator == "match" and isinstance(cond.value, Mapping):
            # The fields an element must have are keys too: paths below the array's.
            for field_name in cond.value:
                stored_key(f"{cond.key}.{field_name}", f"{where}.value field")
        conditions.append(cond)
    return conditions


# Operators whose values are patterns matched against each document's text: each
# pattern costs a match per document, so a request's patterns are counted.
PATTERN_OPERATORS = frozenset({"contain", "not_contain", "contain_in", "not_contain_in", "regex", "regex_in"})


def count_patterns(conditions: Sequence[Condition]) -> int:
    """The patterns (literal or regular) ``conditions`` match documents against."""
    total = 0
    for cond in conditions:
        if cond.operator in PATTERN_OPERATORS:
            total += len(cond.value) if isinstance(cond.value, list) else 1
    return total


def compile_filter(
    filter_: Sequence[Mapping[str, Any]] | None,
    filter_or: Sequence[Mapping[str, Any]] | None,
    extra_any_of: Sequence[Condition],
    ctx: CompileContext,
    limits: Limits,
) -> CompiledFilter:
    """``filter`` (all must hold) and ``filter_or`` plus ``extra_any_of`` (one must hold).

    Raises ``LimitExceeded`` when their patterns (``contain*``, ``regex*`` values, the
    keyword's words) number more than ``max_patterns``."""
    all_of = read_conditions(filter_, "query.filter")
    any_of = [*read_conditions(filter_or, "query.filter_or"), *extra_any_of]
    patterns = count_patterns([*all_of, *any_of])
    if patterns > limits.max_patterns:
        raise LimitExceeded(
            f"the query matches {patterns} patterns (contain, regex values and keyword words); "
            f"the limit max_patterns is {limits.max_patterns}."
        )
    return CompiledFilter(
        all_of=[compile_condition(c, ctx) for c in all_of], any_of=[compile_condition(c, ctx) for c in any_of]
    )
