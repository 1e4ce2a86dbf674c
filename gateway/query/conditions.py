"""Conditions -> a MongoDB filter, with `collector_info.*` keys left as lookups.

A condition on ``collector_info.x`` cannot be answered from the job document alone:
it becomes a ``CollectorLookup`` that the service resolves with one query on the
collector collection (scoped to the caller's domain), and ``CompiledFilter.build``
turns the collectors found into a job filter (``gateway.query.collectors``). List and
statistics filters both take this path, so both select the same jobs (contract
section 4.1: "as in list"). The compiler itself stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import InvalidParameterType, LimitExceeded, RequiredParameter, UnsupportedOperator
from gateway.query.collectors import CollectorIds, jobs_of_collectors
from gateway.query.fields import stored_key
from gateway.query.operators import NEGATED, OPERATORS, CompileContext, Fragment
from gateway.query.paths import collector_subpath

_ALIASES = (("key", "k"), ("value", "v"), ("operator", "o"))


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


Part = Fragment | CollectorLookup


@dataclass
class CompiledFilter:
    """A compiled ``filter`` (all must hold) and ``filter_or`` (one must hold)."""

    all_of: list[Part] = field(default_factory=list)
    any_of: list[Part] = field(default_factory=list)

    @property
    def lookups(self) -> list[CollectorLookup]:
        """The ``collector_info.*`` conditions, which need the collector collection."""
        return [p for p in (*self.all_of, *self.any_of) if isinstance(p, CollectorLookup)]

    def build(self, scope: Fragment, found: Mapping[CollectorLookup, CollectorIds]) -> Fragment:
        """The job filter: ``scope`` AND every `all_of` part AND (any `any_of` part), each
        lookup answered by the collectors ``found`` for it (KeyError if one is missing:
        a bug of the caller)."""

        def resolve(part: Part) -> Fragment:
            if isinstance(part, CollectorLookup):
                return jobs_of_collectors(found[part], negate=part.negate)
            return part

        clauses = [scope, *(resolve(p) for p in self.all_of)]
        if self.any_of:
            clauses.append({"$or": [resolve(p) for p in self.any_of]})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def normalize_condition(raw: object, where: str) -> Condition:
    """Accept `{key, value, operator}` or `{k, v, o}`; name the condition on error."""
    if not isinstance(raw, Mapping):
        raise InvalidParameterType(f"{where}: a condition must be an object, got {raw!r}.")
    picked: dict[str, Any] = {}
    for long, short in _ALIASES:
        if long in raw and short in raw:
            raise InvalidParameterType(f"{where}: give either {long!r} or {short!r}, not both, in {dict(raw)!r}.")
        if long in raw:
            picked[long] = raw[long]
        elif short in raw:
            picked[long] = raw[short]
    unknown = set(raw) - {name for pair in _ALIASES for name in pair}
    if unknown:
        raise InvalidParameterType(f"{where}: unknown field(s) {sorted(unknown)} in condition {dict(raw)!r}.")
    for required in ("key", "operator"):
        if picked.get(required) in (None, ""):
            raise RequiredParameter(f"{where}: condition {dict(raw)!r} has no {required!r}.")
    operator = picked["operator"]
    if not isinstance(operator, str) or operator not in OPERATORS:
        raise UnsupportedOperator(
            f"{where}: condition {dict(raw)!r} has unknown operator {operator!r}; supported: {', '.join(OPERATORS)}."
        )
    key = stored_key(picked["key"], f"{where}: key")
    return Condition(key=key, value=picked.get("value"), operator=operator)


def compile_condition(cond: Condition, ctx: CompileContext) -> Part:
    """A filter fragment, or a lookup for a ``collector_info.*`` key. A negative
    operator there becomes "not among the collectors matching the positive form"."""
    sub = collector_subpath(cond.key)
    if sub is None:
        return OPERATORS[cond.operator](cond.key, cond.value, ctx)
    positive = NEGATED.get(cond.operator)
    if positive is None:
        return CollectorLookup(OPERATORS[cond.operator](sub, cond.value, ctx), negate=False)
    return CollectorLookup(OPERATORS[positive](sub, cond.value, ctx), negate=True)


def compile_conditions(raw: object, name: str, ctx: CompileContext, max_conditions: int) -> list[Part]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidParameterType(f"{name} must be a list of conditions, got {raw!r}.")
    if len(raw) > max_conditions:
        raise LimitExceeded(f"{name} has {len(raw)} conditions; the limit max_conditions is {max_conditions}.")
    return [compile_condition(normalize_condition(c, f"{name}[{i}]"), ctx) for i, c in enumerate(raw)]


def compile_filter(
    filter_: object,
    filter_or: object,
    extra_any_of: Sequence[Part],
    ctx: CompileContext,
    *,
    max_conditions: int,
) -> CompiledFilter:
    all_of = compile_conditions(filter_, "filter", ctx, max_conditions)
    any_of = compile_conditions(filter_or, "filter_or", ctx, max_conditions)
    return CompiledFilter(all_of=all_of, any_of=[*any_of, *extra_any_of])
