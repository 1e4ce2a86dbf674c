"""Condition trees: the published language's conditions combined freely with and, or,
not, and "some element of an array of sub-documents" - the form GraphQL's typed
``where`` converts to (``gateway.graphql.where``). Pure.

A tree is built of nodes, each one of:

- a published condition ``{"key", "value", "operator"}`` (contract section 3.2),
  checked and compiled by ``gateway.query.conditions`` exactly as in ``filter``;
- ``{"and": [node, ...]}``, ``{"or": [node, ...]}`` (an empty ``or`` matches nothing,
  an empty ``and`` everything), ``{"not": node}``;
- ``{"elem_match": {"key": "errors", "and": [condition, ...]}}``: some element of the
  array at ``key`` satisfies every condition, whose keys are full paths below ``key``
  (``errors.error_code``); MongoDB's ``$elemMatch``. With one ``eq`` condition it is the
  filter the published ``match`` operator builds.

``not`` is MongoDB's ``$nor`` of one clause: a document matches when the clause does
not, missing fields included (as ``not`` / ``$ne`` treat them). A tree compiles to
one ``Part`` of a ``CompiledFilter``; its ``collector_info.*`` conditions stay lookups
that the service answers, as in ``filter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.display import got, json_text
from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded
from gateway.query.conditions import Condition, Junction, Part, compile_condition, read_condition
from gateway.query.fields import Kind, field_at, stored_key
from gateway.query.limits import Limits
from gateway.query.messages import FILTER, Read, bounded, read_message
from gateway.query.operators import OPERATORS, CompileContext, Fragment
from gateway.query.paths import collector_subpath

MAX_DEPTH = 16
_JUNCTIONS = {"and": "$and", "or": "$or"}


@dataclass
class _Budget:
    """Conditions left to compile (the ``max_conditions`` limit over the whole tree)."""

    left: int
    limits: Limits

    @property
    def limit(self) -> int:
        return self.limits.max_conditions

    def spend(self, where: str) -> None:
        self.left -= 1
        if self.left < 0:
            raise LimitExceeded(f"{where}: the tree has more conditions than the limit max_conditions={self.limit}.")


def compile_tree(tree: object, ctx: CompileContext, limits: Limits, where: str = "where") -> Part:
    """One ``Part`` for a condition tree (see the module docstring).

    Raises ``InvalidQuery`` (or a subclass) naming the node: a malformed node, a
    condition the published language refuses (read and checked as a ``filter``
    condition is), more than ``max_conditions`` conditions in all, nesting deeper than
    ``MAX_DEPTH``."""
    return _node(tree, ctx, _Budget(limits.max_conditions, limits), where, 0)


def _condition(raw: object, where: str, limits: Limits) -> Condition:
    """A leaf: one published condition, read as ``filter`` reads its conditions."""
    canonical = read_message(raw, FILTER, where, Read(strict=True), limits)
    return read_condition(canonical, where, OPERATORS, stored_key)


def _node(node: object, ctx: CompileContext, budget: _Budget, where: str, depth: int) -> Part:
    if depth > MAX_DEPTH:
        raise LimitExceeded(f"{where}: conditions nest deeper than {MAX_DEPTH} levels.")
    if not isinstance(node, Mapping):
        raise InvalidParameterType(f"{where} must be an object, got {got(node)}.")
    if len(node) == 1:
        ((name, value),) = node.items()
        if name in _JUNCTIONS:
            if not isinstance(value, list):
                raise InvalidParameterType(f"{where}.{name} must be a list, got {got(value)}.")
            bounded(value, f"{where}.{name}", "max_conditions", budget.limits, "entries")
            parts = [_node(v, ctx, budget, f"{where}.{name}[{i}]", depth + 1) for i, v in enumerate(value)]
            return Junction(_JUNCTIONS[name], parts)
        if name == "not":
            return Junction("$nor", [_node(value, ctx, budget, f"{where}.not", depth + 1)])
        if name == "elem_match":
            budget.spend(where)
            return _elem_match(value, ctx, budget, f"{where}.elem_match")
    budget.spend(where)
    return compile_condition(_condition(node, where, budget.limits), ctx)


def _elem_match(spec: object, ctx: CompileContext, budget: _Budget, where: str) -> Fragment:
    if not isinstance(spec, Mapping) or set(spec) != {"key", "and"} or not isinstance(spec["and"], list):
        raise InvalidParameterType(f"{where} must be {{key, and: [condition, ...]}}, got {got(spec)}.")
    bounded(spec["and"], f"{where}.and", "max_conditions", budget.limits, "conditions")
    array = field_at(str(spec["key"]))
    if array is None or not (array.array and array.kind is Kind.DOCUMENT) or collector_subpath(spec["key"]):
        raise InvalidQuery(f"{where}: {json_text(spec['key'])} is not an array of sub-documents of a job.")
    prefix = f"{array.name}."
    clauses: list[Fragment] = []
    for i, raw in enumerate(spec["and"]):
        budget.spend(where)
        cond = _condition(raw, f"{where}.and[{i}]", budget.limits)
        if not cond.key.startswith(prefix) or cond.key == prefix:
            raise InvalidQuery(f"{where}.and[{i}]: key {json_text(cond.key)} is not below {json_text(array.name)}.")
        clauses.append(OPERATORS[cond.operator](cond.key[len(prefix) :], cond.value, ctx))
    if not clauses:
        raise InvalidQuery(f"{where} needs at least one condition.")
    return {array.name: {"$elemMatch": _merged(clauses)}}


def _merged(clauses: list[Fragment]) -> Fragment:
    """One query object holding every clause's field conditions (``{a: {$eq: 1}, b:
    {$gt: 2}}``), the form every MongoDB-compatible server reads inside ``$elemMatch``;
    an ``$and`` only when two clauses put the same operator on the same field."""
    merged: Fragment = {}
    for clause in clauses:
        for path, condition in clause.items():
            held = merged.setdefault(path, {})
            if set(held) & set(condition):
                return {"$and": clauses}
            held.update(condition)
    return merged
