"""Conditions -> a MongoDB filter, with `collector_info.*` keys left as lookups.

A condition on ``collector_info.x`` cannot be answered from the job document alone:
it becomes a ``CollectorLookup`` that the service resolves with one query on the
collector collection (scoped to the caller's domain), and ``CompiledFilter.build``
turns the ids found into a job filter. The compiler itself stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded, RequiredParameter, UnsupportedOperator
from gateway.query.operators import NEGATED, OPERATORS, CompileContext, Fragment
from gateway.query.paths import COLLECTOR_INFO, check_path, collector_subpath, stored_path

_ALIASES = (("key", "k"), ("value", "v"), ("operator", "o"))


@dataclass(frozen=True)
class Condition:
    key: str
    value: Any
    operator: str


@dataclass(frozen=True, eq=False)
class CollectorLookup:
    """Jobs whose collector matches ``collector_filter`` (or, if ``negate``, does not).

    ``joined`` is the same condition on a job whose collector was joined in as
    `collector_info` (the statistics pipeline's way of answering it)."""

    collector_filter: Fragment
    negate: bool
    joined: Fragment


@dataclass(frozen=True)
class CollectorIds:
    """The collectors a lookup found: their `collector_id`s and document `_id`s."""

    collector_ids: tuple[str, ...] = ()
    object_ids: tuple[Any, ...] = ()


Part = Fragment | CollectorLookup


@dataclass
class CompiledFilter:
    all_of: list[Part] = field(default_factory=list)
    any_of: list[Part] = field(default_factory=list)

    @property
    def lookups(self) -> list[CollectorLookup]:
        return [p for p in (*self.all_of, *self.any_of) if isinstance(p, CollectorLookup)]

    def build(self, scope: Fragment, found: Mapping[CollectorLookup, CollectorIds] | None = None) -> Fragment:
        """The job filter: ``scope`` AND every `all_of` part AND (any `any_of` part).
        Lookups are answered by ``found`` or, when it is None, on the joined
        `collector_info` field."""

        def resolve(part: Part) -> Fragment:
            if not isinstance(part, CollectorLookup):
                return part
            if found is None:
                return part.joined
            return jobs_of_collectors(found.get(part, CollectorIds()), negate=part.negate)

        clauses = [scope, *(resolve(p) for p in self.all_of)]
        if self.any_of:
            clauses.append({"$or": [resolve(p) for p in self.any_of]})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def jobs_of_collectors(ids: CollectorIds, *, negate: bool) -> Fragment:
    """Jobs referencing one of ``ids``: by `collector_id`, or by the old `collector` ref."""
    among: Fragment = {
        "$or": [
            {"collector_id": {"$in": list(ids.collector_ids)}},
            {"collector_id": None, "collector": {"$in": list(ids.object_ids)}},
        ]
    }
    return {"$nor": [among]} if negate else among


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
    key = check_path(picked["key"], f"{where}: key")
    if key == COLLECTOR_INFO:
        raise InvalidQuery(
            f"{where}: key 'collector_info' must name a collector field, e.g. 'collector_info.provider'."
        )
    return Condition(key=key, value=picked.get("value"), operator=operator)


def compile_condition(cond: Condition, ctx: CompileContext) -> Part:
    sub = collector_subpath(cond.key)
    if sub is None:
        return OPERATORS[cond.operator](stored_path(cond.key), cond.value, ctx)
    # A negative operator on a joined collector (`$ne`, `$nin`, `$not`) also keeps the
    # jobs whose collector is gone, which is what the positive form + negate does.
    joined = OPERATORS[cond.operator](cond.key, cond.value, ctx)
    positive = NEGATED.get(cond.operator)
    if positive is None:
        return CollectorLookup(OPERATORS[cond.operator](sub, cond.value, ctx), negate=False, joined=joined)
    return CollectorLookup(OPERATORS[positive](sub, cond.value, ctx), negate=True, joined=joined)


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
